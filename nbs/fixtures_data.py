"""Test fixtures of the data notebooks (not part of the dts_nb library): small files laid out exactly like the
original datasets (M4 captions, HAR-CoT, M4 competition CSVs, UCI HAPT RawData), filled with seeded random walks.

Notebooks import it in a hidden cell (nbdev-test runs them with `nbs/` as the working directory):

    import sys; sys.path.insert(0, '.')
    from fixtures_data import *
"""
from __future__ import annotations
import json
from pathlib import Path
import numpy as np
import pandas as pd
from dts_nb.data import HAR_COT_LABELS
from dts_nb.data_files import M4_FREQUENCIES, HAR_COT_SPLIT_FILES

__all__ = ["write_example_m4_captions", "write_example_har_cot", "write_example_m4", "write_example_uci_hapt"]

_LETTER = {"Daily": "D", "Hourly": "H", "Monthly": "M", "Quarterly": "Q", "Weekly": "W", "Yearly": "Y"}

def write_example_m4_captions(
    folder, # folder to write the twelve CSVs into (created)
    counts:dict|None=None, # frequency -> number of series; default 3 of each
    length=(12, 40), # (shortest, longest) series length
    seed:int=0, # seed of the random walks
) -> Path: # `folder`
    "Write `m4_series_{Freq}.csv` / `m4_captions_{Freq}.csv` (OpenTSLM format), `counts[Freq]` random walks each."
    folder = Path(folder); folder.mkdir(parents=True, exist_ok=True)
    counts = counts or {f: 3 for f in M4_FREQUENCIES}
    rng = np.random.default_rng(seed)
    for f in M4_FREQUENCIES:
        k = counts.get(f, 0)
        ids = [f"series-{_LETTER[f]}{i + 1}" for i in range(k)]
        lens = rng.integers(length[0], length[1] + 1, size=k)
        values = [np.round(1000 + np.cumsum(rng.normal(size=L)), 2) for L in lens]
        series = [json.dumps(v.tolist()) for v in values]
        caps = [f'The {f.lower()} series {i} drifts, then "settles".\nIts level is about {v.mean():.0f}, with noise.'
                for i, v in zip(ids, values)]
        pd.DataFrame({"id": ids, "series": series}).to_csv(folder/f"m4_series_{f}.csv", index=False)
        pd.DataFrame({"id": ids[::-1], "caption": caps[::-1]}).to_csv(folder/f"m4_captions_{f}.csv", index=False)
    return folder

def write_example_har_cot(
    folder, # folder to write the three split files into (created)
    n:int=6, # windows per split
    length:int=20, # values per axis
    seed:int=0, # seed of the values
    header_every:int=4, # repeat the header row every this many rows, as the original files do
) -> Path: # `folder`
    "Write `har_cot_{train,val,test}_cot.csv` (OpenTSLM format, the header repeated every `header_every` rows)."
    folder = Path(folder); folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for split, fname in HAR_COT_SPLIT_FILES.items():
        rows = []
        for i in range(n):
            label = HAR_COT_LABELS[i % len(HAR_COT_LABELS)]
            xyz = [str([round(float(v), 4) for v in rng.normal(size=length)]) for _ in range(3)]   # Python list strings
            rows.append(dict(x_axis=xyz[0], y_axis=xyz[1], z_axis=xyz[2], label=label,
                             rationale=f'The signal of window {i} shows "moderate", steady motion.\nAnswer: {label}'))
        df = pd.DataFrame(rows, columns=["x_axis", "y_axis", "z_axis", "label", "rationale"])
        with open(folder/fname, "w", newline="") as fh:      # chunks appended with their header, as in the originals
            for start in range(0, n, header_every):
                df.iloc[start:start + header_every].to_csv(fh, index=False, header=True)
    return folder

def _write_m4_csv(path, rows, width):
    'An M4 competition CSV: `"V1","V2",...` header, quoted cells, empty trailing cells up to `width` values.'
    lines = [",".join(f'"V{j + 1}"' for j in range(width + 1))]
    lines += [",".join([f'"{sid}"'] + [f'"{v:g}"' for v in vals] + ['""']*(width - len(vals))) for sid, vals in rows]
    Path(path).write_text("\n".join(lines) + "\n")

def write_example_m4(
    folder, # folder to write the two CSVs into (created)
    frequency:str="Monthly", # M4 frequency: names the files and the ids' letter
    n:int=5, # number of series
    length=(8, 20), # (shortest, longest) history length
    horizon:int=18, # values of each series in the test file
    seed:int=0, # seed of the random walks
) -> Path: # `folder`
    "Write `{Freq}-train.csv` / `{Freq}-test.csv` in the M4 competition format (quoted cells, empty trailing cells)."
    folder = Path(folder); folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed); letter = frequency[0]
    lens = rng.integers(length[0], length[1] + 1, size=n)
    hist = [(f"{letter}{i + 1}", np.round(500 + np.cumsum(rng.normal(size=L)), 1)) for i, L in enumerate(lens)]
    _write_m4_csv(folder/f"{frequency}-train.csv", hist, int(lens.max()))
    test = [(sid, np.round(v[-1] + np.cumsum(rng.normal(size=horizon)), 1)) for sid, v in hist]
    _write_m4_csv(folder/f"{frequency}-test.csv", test, horizon)
    return folder

def write_example_uci_hapt(
    folder, # folder to hold `RawData/` (created)
    experiments=((1, 1), (2, 2)), # (experiment, user) pairs that get a recording
    n:int=700, # samples per recording
    seed:int=0, # seed of the values
    listed=((3, 3),), # (experiment, user) pairs listed in labels.txt without a recording
) -> Path: # `folder`
    "Write `RawData/acc_expEE_userUU.txt` (x y z in g) for `experiments` [(exp, user)] and `RawData/labels.txt`."
    raw = Path(folder)/"RawData"; raw.mkdir(parents=True, exist_ok=True)
    rng, lines = np.random.default_rng(seed), []
    for e, u in [*experiments, *listed]:                 # `listed`: in labels.txt, without a recording
        # segments: walking 1-300, a transition, sitting 321-520, lying 521-n (activities 1, 7, 4, 6)
        lines += [f"{e} {u} 1 1 300", f"{e} {u} 7 301 320", f"{e} {u} 4 321 520", f"{e} {u} 6 521 {n}"]
    for e, u in experiments:
        xyz = rng.normal(0, 0.05, size=(n, 3)) + [0.0, 0.0, 1.0]
        text = "\n".join(" ".join(repr(float(v)) for v in r) for r in xyz) + "\n"
        (raw/f"acc_exp{e:02d}_user{u:02d}.txt").write_text(text)
    (raw/"labels.txt").write_text("\n".join(lines) + "\n")
    return Path(folder)
