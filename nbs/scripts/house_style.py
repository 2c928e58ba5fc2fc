"""Measure the house style of nbs/ and dts_nb/ (issue 13): subtitles, export-cell sizes, examples under exports,
library line lengths and docments. Prints one row per library notebook and the totals; `--strict` exits 1 on a breach.

    python nbs/scripts/house_style.py [--strict] [notebook ...]
"""
import dataclasses, importlib, inspect, json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_SUBTITLE, MAX_CELL, MAX_LINE = 80, 40, 120

def cells(nb): return [(c["cell_type"], "".join(c["source"])) for c in json.loads(nb.read_text())["cells"]]
def is_export(src): return bool(re.match(r"\s*#\|\s*export", src))

def subtitle(cs):
    for kind, src in cs:
        if kind == "markdown":
            m = re.search(r"^>\s?(.*)$", src, re.M)
            return m.group(1) if m else ""
    return ""

def export_cells_without_example(cs) -> list[str]:
    "Export cells whose next code cell is another export cell (or none): nothing right under them shows them in use."
    code = [src for kind, src in cs if kind == "code"]
    return [_first_def(src) for i, src in enumerate(code)
            if is_export(src) and (i + 1 == len(code) or is_export(code[i + 1]))]

def _first_def(src):
    m = re.search(r"^(?:def|class|async def)\s+(\w+)|^(\w+)\s*=", src, re.M)
    return (m.group(1) or m.group(2)) if m else src.splitlines()[1][:40]

def undocumented(module):
    "Public functions and methods of `module` (its __all__) with a parameter that has no docment."
    from fastcore.docments import docments
    bad = []
    mod = importlib.import_module(f"dts_nb.{module}")
    for name in getattr(mod, "__all__", []):
        obj = getattr(mod, name, None)
        fs = [(name, obj)] if inspect.isfunction(obj) else []
        if inspect.isclass(obj) and obj.__module__ == mod.__name__:
            if dataclasses.is_dataclass(obj): fs.append((name, obj))                 # fields documented in the class
            fs += [(f"{name}.{k}", v) for k, v in vars(obj).items()
                   if inspect.isfunction(v) and (not k.startswith("_") or k == "__init__")
                   and v.__qualname__.startswith(obj.__qualname__ + ".")               # written here, not generated
                   and not (k == "__init__" and dataclasses.is_dataclass(obj))]
        for qual, f in fs:
            try: sig = inspect.signature(f)
            except (TypeError, ValueError): continue
            params = [n for n, p in sig.parameters.items() if n not in ("self", "cls")
                      and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]           # *args/**kwargs: say in the docstring
            if not params: continue
            try: docs = docments(f)
            except Exception: docs = {}
            if any(not docs.get(p) for p in params): bad.append(qual)
    return bad

def main(argv):
    strict = "--strict" in argv
    names = [a for a in argv if not a.startswith("-")]
    nbs = [ROOT/"nbs"/n for n in names] if names else sorted((ROOT/"nbs").glob("[0-9]*.ipynb"))
    rows, breaches = [], 0
    for nb in nbs:
        cs = cells(nb)
        m = re.search(r"#\|\s*default_exp\s+(\S+)", cs[0][1]) if cs else None
        if not m: continue
        module = m.group(1)
        ex = [src for kind, src in cs if kind == "code" and is_export(src)]
        sizes = [src.count("\n") + 1 for src in ex]
        lib = (ROOT/"dts_nb"/f"{module}.py").read_text().splitlines()
        lib = [l for l in lib if not l.startswith("__all__")]     # nbdev writes __all__
        long_lines = sum(len(l) > MAX_LINE for l in lib)
        try: undoc = undocumented(module)
        except ImportError as e: undoc = [f"(not importable: {e})"]
        row = dict(nb=nb.name, subtitle=len(subtitle(cs)), cells=len(ex), big_cells=sum(s > MAX_CELL for s in sizes),
                   max_cell=max(sizes, default=0), no_example=len(noex := export_cells_without_example(cs)),
                   lines=len(lib), long_lines=long_lines, undocumented=len(undoc))
        rows.append((row, undoc, noex, [l[:60] for l in lib if len(l) > MAX_LINE]))
        breaches += (row["subtitle"] > MAX_SUBTITLE or row["subtitle"] == 0) + row["big_cells"] + row["no_example"] \
                    + row["long_lines"] + row["undocumented"]
    keys = list(rows[0][0]) if rows else []
    print(" ".join(f"{k:>12}" if k != "nb" else f"{k:<24}" for k in keys))
    for row, undoc, noex, longs in rows:
        print(" ".join(f"{row[k]:>12}" if k != "nb" else f"{row[k]:<24}" for k in keys))
        if "-v" in argv:
            if undoc: print("    undocumented:", ", ".join(undoc))
            if noex: print("    no example under:", ", ".join(noex))
            for l in longs: print("    long line:", l)
    tot = {k: sum(r[0][k] for r in rows) for k in keys if k not in ("nb", "subtitle", "max_cell")}
    print("totals:", tot, "| subtitles over", MAX_SUBTITLE, ":", sum(r[0]["subtitle"] > MAX_SUBTITLE for r in rows))
    return 1 if strict and breaches else 0

if __name__ == "__main__": sys.exit(main(sys.argv[1:]))
