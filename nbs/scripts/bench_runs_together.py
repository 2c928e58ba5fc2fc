"""A method comparison run one run after another (`run_eval`) against the same runs together (`run_evals_together`).

The captioning half of configs/quick.yaml at its larger budget: every method (greedy, best_of_n, beam, mcts, dts,
dts_star, maxent_ts) over the same prompts of the default model (48 new tokens, 600-token prompts, 2 outputs), into two
fresh output folders. Prints the wall-clock of each way, the NFE per second, and how many of the searches returned
the same tokens and NFE (on a real model the batch composition moves floats at the level of rounding). Writes
outputs/bench/runs_together.json. Wall-clock: run it on a quiet machine (~10 min on 2 cores with the defaults).

    python nbs/scripts/bench_runs_together.py --prompts 6 --budget 448
"""
import argparse, json, tempfile, time
import pandas as pd

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--prompts", type=int, default=6)
    ap.add_argument("--budget", type=int, default=448)
    ap.add_argument("--methods", default="greedy,best_of_n,beam,mcts,dts,dts_star,maxent_ts")
    ap.add_argument("--at-once", type=int, default=6, help="searches in progress at once (run_evals_together)")
    a = ap.parse_args()
    from dts_nb.core import outputs_dir, atomic_write
    from dts_nb.backends import load_backend
    from dts_nb.runner import RunConfig, run_eval, read_lines
    from dts_nb.runs_together import run_evals_together
    be = load_backend("smollm2-135m-instruct")
    kw = dict(stage="captioning", num_samples=a.prompts, budget=a.budget, max_new_tokens=48, max_prompt_tokens=600,
              num_outputs=2)
    configs = lambda out: [RunConfig(method=m, out_dir=out, **kw) for m in a.methods.split(",")]
    run_eval(RunConfig(method="best_of_n", **{**kw, "num_samples": 1, "budget": 64}, out_dir=tempfile.mkdtemp()),
             backend=be, progress=False, log=lambda m: None)                                      # warm-up
    quiet = lambda m: None
    t0 = time.perf_counter()
    alone = [run_eval(c, backend=be, progress=False, log=quiet) for c in configs(tempfile.mkdtemp())]
    t_alone = time.perf_counter() - t0
    t0 = time.perf_counter()
    together = run_evals_together(configs(tempfile.mkdtemp()), backend=be, at_once=a.at_once, progress=False, log=quiet)
    t_together = time.perf_counter() - t0
    rows = []
    for fa, ft in zip(alone, together):
        la = {l["key"]: l for l in read_lines(fa/"results.jsonl")}
        lt = {l["key"]: l for l in read_lines(ft/"results.jsonl")}
        same = sum(la[k]["token_ids"] == lt[k]["token_ids"] and la[k]["nfe"] == lt[k]["nfe"] for k in la)
        rows.append(dict(run=fa.name.rsplit("-", 1)[0], nfe_alone=sum(l["nfe"] for l in la.values()),
                         nfe_together=sum(l["nfe"] for l in lt.values()), identical=f"{same}/{len(la)}",
                         reward_alone=round(sum(l["reward"] for l in la.values())/len(la), 4),
                         reward_together=round(sum(l["reward"] for l in lt.values())/len(lt), 4)))
    R = pd.DataFrame(rows)
    nfe_a, nfe_t = int(R.nfe_alone.sum()), int(R.nfe_together.sum())
    out = dict(args=vars(a), wall_alone_s=round(t_alone, 1), wall_together_s=round(t_together, 1),
               nfe_per_s_alone=round(nfe_a/t_alone, 1), nfe_per_s_together=round(nfe_t/t_together, 1),
               speedup=round(t_alone/t_together, 2), runs=R.to_dict("records"))
    print(R.to_string(index=False))
    print(f"\none after another: {t_alone:.1f} s ({out['nfe_per_s_alone']} NFE/s); together: {t_together:.1f} s "
          f"({out['nfe_per_s_together']} NFE/s); speed-up {out['speedup']}x")
    d = outputs_dir()/"bench"; d.mkdir(parents=True, exist_ok=True)
    atomic_write(d/"runs_together.json", json.dumps(out, indent=1))

if __name__ == "__main__": main()
