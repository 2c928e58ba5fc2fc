"""What the tree methods' batch-filling settings (`first_round`, `while_probing`, `batch_size`) buy and cost.

Three parts, each printing a table and writing outputs/bench/knobs_<part>.json:

- `--part real`: NFE/s, forwards and rows per forward of best_of_n and of maxent_ts / dts_star under each setting on the
  default model (the 599-token M4 prompt, 48 new tokens, 1,024 NFE, the reply-length reward of 90_bench). Wall-clock:
  run it on a quiet machine (~4 min on 2 cores).
- `--part toy`: the NFE maxent_ts needs under each setting to reach best_of_n@1024's mean expected-best reward on the
  toy family of 91_decision_bench (reward decided at token t* of 48, 30 seeds, budgets 128-2048). Its toy, reward and
  reach table are executed from that notebook's cells, so both measure the same thing (~17 min on one core).
- `--part together`: NFE/s (total NFE / total wall-clock, prefill included) of 1, 2, 4 and 8 searches of one method
  over the same prompt (seeds 0..k-1) run together (`dts_nb.together.run_together`, one shared batch), for best_of_n,
  maxent_ts and dts_star at their defaults (the setting of `--part real`), with ratios to the same method alone, to
  best_of_n alone and to best_of_n at the same k. Wall-clock: a quiet machine (~15 min).

    python nbs/scripts/bench_knobs.py --part real
"""
import argparse, json, time
from pathlib import Path
import pandas as pd
from tqdm.auto import tqdm

SETTINGS = {"defaults": {}, "first_round=8": dict(first_round=8), "while_probing=8": dict(while_probing=8),
            "first_round=8, while_probing=8": dict(first_round=8, while_probing=8),
            "first_round=16, while_probing=16, 32 rows": dict(first_round=16, while_probing=16, batch_size=32)}
TOY_SETTINGS = ["defaults", "first_round=8, while_probing=8", "first_round=16, while_probing=16, 32 rows"]

def real_setup():
    "The default model, the 599-token M4 prompt's ids and the reply-length reward of 90_bench, after a warm-up."
    from dts_nb.backends import load_backend
    from dts_nb.data import load_dataset
    from dts_nb.prompts import build_prompt, token_counter
    from dts_nb.search import run_search
    import dts_nb.mcts, dts_nb.dts, dts_nb.maxent_ts
    be = load_backend("smollm2-135m-instruct")
    sample = load_dataset("m4_subset", n=1, seed=0)[0]
    ids = be.encode_prompt(build_prompt(sample, max_prompt_tokens=600, count_tokens=token_counter(be)).messages)
    length_reward = lambda text, tok: -abs(len(text) - 150)/150
    run_search("best_of_n", be, ids, length_reward, budget=64, max_new_tokens=48, seed=0)          # warm-up
    return be, ids, length_reward

def real_part() -> pd.DataFrame:
    from dts_nb.search import run_search
    be, ids, length_reward = real_setup()
    runs = [("best_of_n", "defaults")] + [(m, k) for m in ("maxent_ts", "dts_star") for k in SETTINGS
                                          if m == "maxent_ts" or k in TOY_SETTINGS]
    rows = []
    for m, k in tqdm(runs, desc="settings"):
        r = run_search(m, be, ids, length_reward, budget=1024, max_new_tokens=48, seed=0, **SETTINGS[k])
        e = r.stats["engine"]
        rows.append(dict(method=m, setting=k, nfe=r.nfe, wall_s=round(r.wall_s, 2), nfe_per_s=round(r.nfe/r.wall_s, 1),
                         forwards=e["forward_calls"], rows_per_forward=round(r.nfe/e["forward_calls"], 1),
                         nfe_per_rollout=round(r.stats["nfe_per_rollout"], 1)))
    R = pd.DataFrame(rows)
    R["vs_best_of_n"] = (R.nfe_per_s/R.nfe_per_s[R.method == "best_of_n"].iloc[0]).round(2)
    return R

def together_part() -> pd.DataFrame:
    from functools import partial
    from dts_nb.search import run_search
    from dts_nb.together import Together
    be, ids, length_reward = real_setup()
    rows = []
    for m in tqdm(["best_of_n", "maxent_ts", "dts_star"], desc="methods"):
        for k in (1, 2, 4, 8):
            jobs = [partial(run_search, m, be, ids, length_reward, budget=1024, max_new_tokens=48, seed=s)
                    for s in range(k)]
            hub, t0 = Together(at_once=k), time.perf_counter()
            res = hub.run(jobs, desc=f"{m} x{k}")
            wall, nfe = time.perf_counter() - t0, sum(r.nfe for r in res)
            rows.append(dict(method=m, searches=k, nfe=nfe, wall_s=round(wall, 2), nfe_per_s=round(nfe/wall, 1),
                             forwards=hub.forwards, rows_per_forward=round(nfe/max(hub.forwards, 1), 1)))
    R = pd.DataFrame(rows)
    solo = R[R.searches == 1].set_index("method").nfe_per_s
    R["vs_same_alone"] = (R.nfe_per_s/R.method.map(solo)).round(2)
    R["vs_best_of_n_alone"] = (R.nfe_per_s/solo["best_of_n"]).round(2)
    R["vs_best_of_n_same_k"] = (R.nfe_per_s/R.searches.map(R[R.method == "best_of_n"].set_index("searches").nfe_per_s)).round(2)
    return R

def toy_part() -> pd.DataFrame:
    nb = json.loads((Path(__file__).parents[1]/"91_decision_bench.ipynb").read_text())
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    env = {}
    exec(next(c for c in cells if "import hashlib" in c), env)                     # imports, T
    exec(next(c for c in cells if "def decided_toy" in c).split("\nrw = ")[0], env)  # the toy and its reward
    exec(next(c for c in cells if "def reach_table" in c).split("\nreach = ")[0], env)
    run_search, Tracker, decided_toy, T = env["run_search"], env["Tracker"], env["decided_toy"], env["T"]
    budgets, tstars, seeds = [128, 192, 256, 384, 512, 768, 1024, 1536, 2048], [8, 24, 40], range(30)
    grid = [(t, k, b, s) for t in tstars for k in ["best_of_n"] + TOY_SETTINGS for b in budgets for s in seeds]
    rows = []
    for tstar, k, b, s in tqdm(grid, desc="toy runs", mininterval=10):
        rw = Tracker(tstar, s)
        m, p = ("best_of_n", {}) if k == "best_of_n" else ("maxent_ts", SETTINGS[k])
        res = run_search(m, decided_toy(s), [0], rw, budget=b, max_new_tokens=T, seed=s, **p)
        rows.append(dict(tstar=tstar, method=k if k == "best_of_n" else f"maxent_ts, {k}", budget=b, seed=s,
                         nfe=res.nfe, best=rw.best, expected_best=rw.expected_best))
    return env["reach_table"](pd.DataFrame(rows), "expected_best")

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--part", required=True, choices=["real", "toy", "together"])
    ap.add_argument("--out", default=None, help="folder for knobs_<part>.json (default: outputs/bench)")
    a = ap.parse_args()
    from dts_nb.core import outputs_dir, atomic_write
    t0 = time.time()
    R = {"real": real_part, "toy": toy_part, "together": together_part}[a.part]()
    print(R.to_string(index=False), f"\n({time.time() - t0:.0f} s)")
    out = Path(a.out) if a.out else outputs_dir()/"bench"; out.mkdir(parents=True, exist_ok=True)
    atomic_write(out/f"knobs_{a.part}.json", json.dumps(R.to_dict("records"), indent=1, default=str))

if __name__ == "__main__": main()
