"""Write nbs/index.ipynb from README.md (issue 13: the index notebook mirrors README).

README stays the one place the text is edited; this script splits it at its `## ` headings into markdown cells, turns
each ```python block into a code cell (run by nbdev-test; `#| slow` when it loads the real model), and ends with a
hidden cell that asserts the notebook still equals README (so the two cannot drift apart unnoticed).

    python nbs/scripts/make_index.py        # then: nbdev-clean
"""
import hashlib, json, re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```python\n(.*?)^```\n", re.S | re.M)

def readme_cells(text:str) -> list[tuple[str, str]]:
    "(kind, source) cells whose concatenation (code wrapped in ```python fences) is `text`."
    cells, at = [], 0
    for m in FENCE.finditer(text):
        cells += _markdown(text[at:m.start()]) + [("code", m.group(1))]
        at = m.end()
    return cells + _markdown(text[at:])

def _markdown(text:str) -> list[tuple[str, str]]:
    parts = re.split(r"(?m)^(?=## )", text)
    return [("markdown", p) for p in parts if p]

def rebuild(cells) -> str:
    "README's text from the cells of `readme_cells` (the inverse)."
    return "".join(f"```python\n{src}```\n" if kind == "code" else src for kind, src in cells)

CHECK = '''#| hide
# index.ipynb mirrors README.md: rebuilt by nbs/scripts/make_index.py, checked here
import json, sys
from pathlib import Path
sys.path.insert(0, str(Path("scripts").resolve()))
from make_index import readme_cells, rebuild
nb = json.loads(Path("index.ipynb").read_text())
cells = [(c["cell_type"], "".join(c["source"])) for c in nb["cells"][:-1]]
cells = [(k, s.removeprefix("#| slow\\n") + "\\n" if k == "code" else s) for k, s in cells]
readme = Path("../README.md").read_text()
assert rebuild(readme_cells(readme)) == readme, "make_index cannot round-trip README.md"
assert [(k, s.rstrip("\\n")) for k, s in cells] == [(k, s.rstrip("\\n")) for k, s in readme_cells(readme)], \\
    "nbs/index.ipynb differs from README.md: run `python nbs/scripts/make_index.py && nbdev-clean`"'''

def main():
    readme = (ROOT/"README.md").read_text()
    cells = readme_cells(readme)
    assert rebuild(cells) == readme, "README.md does not split into cells and back"
    out = []
    for i, (kind, src) in enumerate(cells + [("code", CHECK)]):
        if kind == "code" and i < len(cells): src = ("#| slow\n" if "load_backend(" in src else "") + src.rstrip("\n")
        # a stable id from the cell's place and first line: regenerating after a README edit changes only what changed
        cid = hashlib.sha1(f"{i} {kind} {src.partition(chr(10))[0]}".encode()).hexdigest()[:8]
        c = {"cell_type": kind, "id": cid, "metadata": {}, "source": src.splitlines(keepends=True)}
        if kind == "code": c.update(execution_count=None, outputs=[])
        out.append(c)
    nb = {"cells": out, "metadata": {"kernelspec": {"display_name": "python3", "language": "python", "name": "python3"}},
          "nbformat": 4, "nbformat_minor": 5}
    (ROOT/"nbs"/"index.ipynb").write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    print(f"nbs/index.ipynb: {len(out)} cells from README.md")

if __name__ == "__main__": main()
