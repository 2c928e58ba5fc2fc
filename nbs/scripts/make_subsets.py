"""Derive the real data subsets that dts_nb ships (`dts_nb/datasets/`) from the original files.

    .venv/bin/python nbs/scripts/make_subsets.py [SHARED_DATA] [OUT]

SHARED_DATA holds `m4/Hourly-{train,test}.csv` (M4 competition, Mcompetitions/M4-methods) and
`uci_hapt/RawData/` (UCI HAPT, UCI ML Repository id 341); default: $DTS_NB_SHARED_DATA, else
`../shared/data` beside the clone. OUT defaults to `dts_nb/datasets` of the clone.
Deterministic: the same inputs give the same series, rows, windows and values.

- m4_hourly/Hourly-{train,test}.csv: the rows of 48 Hourly series, `default_rng(0).choice(414, 48,
  replace=False)` (kept in file order), copied unchanged under the original header.
- uci_hapt_subset.npz: per split, the first 50 (train) / 25 (test) windows of each label in
  `balanced_order(row_labels, HAPT_LABELS, seed=0)` of `load_uci_hapt`, kept in the loader's order;
  values float64 in m/s^2 exactly as the loader gives them, plus id, label, split, user, experiment,
  activity, start.
"""
import os, sys
from pathlib import Path
import numpy as np
from dts_nb.data import HAPT_LABELS, balanced_order
from dts_nb.data_hapt import load_uci_hapt

M4_N, M4_SEED = 48, 0
HAPT_PER_LABEL, HAPT_SEED = {"train": 50, "test": 25}, 0
CLONE = Path(__file__).resolve().parents[2]

def m4_subset(src:Path, out:Path):
    "Copy the rows of `M4_N` seeded Hourly series (both files) into `out`."
    files = {part: (src/f"Hourly-{part}.csv").read_text().splitlines() for part in ("train", "test")}
    sid = lambda line: line.split(",", 1)[0].strip().strip('"')
    ids = [sid(l) for l in files["train"][1:] if l.strip()]
    keep = {ids[i] for i in np.random.default_rng(M4_SEED).choice(len(ids), M4_N, replace=False)}
    out.mkdir(parents=True, exist_ok=True)
    for part, lines in files.items():
        rows = [l for l in lines[1:] if l.strip() and sid(l) in keep]
        assert len(rows) == M4_N, (part, len(rows))
        (out/f"Hourly-{part}.csv").write_text("\n".join([lines[0], *rows]) + "\n")
    print(f"m4_hourly: {M4_N} series -> {out}")

def hapt_subset(src:Path, path:Path):
    "Balanced windows of both splits of `load_uci_hapt` into one .npz."
    cols = {k: [] for k in ("values", "id", "label", "split", "user", "experiment", "activity", "start")}
    for split, k in HAPT_PER_LABEL.items():
        full = load_uci_hapt(split, root=src)
        counts = {l: int((full.row_labels == l).sum()) for l in HAPT_LABELS}
        assert min(counts.values()) >= k, counts
        rows = np.sort(balanced_order(full.row_labels, HAPT_LABELS, HAPT_SEED)[:k*len(HAPT_LABELS)])
        for s in full.select(rows):
            cols["values"].append(np.stack(s.series)); cols["id"].append(s.id); cols["label"].append(s.label)
            cols["split"].append(split)
            for m in ("user", "experiment", "activity", "start"): cols[m].append(s.meta[m])
    ints = ("user", "experiment", "activity", "start")
    dtype = lambda k: np.float64 if k == "values" else np.int64 if k in ints else str
    arrays = {k: np.array(v, dtype=dtype(k)) for k, v in cols.items()}
    np.savez_compressed(path, **arrays)
    print(f"uci_hapt_subset: {len(arrays['id'])} windows -> {path} ({path.stat().st_size/1e6:.2f} MB)")

if __name__ == "__main__":
    default = os.environ.get("DTS_NB_SHARED_DATA") or CLONE.parent/"shared"/"data"
    src = Path(sys.argv[1] if len(sys.argv) > 1 else default)
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else CLONE/"dts_nb"/"datasets"
    m4_subset(src/"m4", out/"m4_hourly")
    hapt_subset(src/"uci_hapt", out/"uci_hapt_subset.npz")
