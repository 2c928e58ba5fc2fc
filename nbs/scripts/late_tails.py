"""A naive tree against best-of-N: retry the last `--tail` tokens of the best reply seen (ties drawn at random).

`reward_profile.py` found the HAR reward barely decided by a reply's first 40 of 48 tokens, while a tail of 8 tokens
costs a third of a fresh sample, and the captioning reward's best reply improved 7x faster per NFE by such tails
than by fresh samples. This rule needs no model of where the reward is decided: a first round of `--first` replies
from the root, then rounds of `--width` rows: a share `--fresh` of them fresh replies from the root, the others tails
from the prefix of the best reply seen (`--pick uniform`: of a reply drawn uniformly from all seen), `--tail` tokens
before its end. Best reward seen once `--budget` NFE are spent (the last round that fits), paired
against best-of-N's committed rows at the same budget (`--against`, by default `outputs/bench/decision_real_<stage>.csv`,
the same prompts and seed indices): wins, losses, ties, mean difference, Wilcoxon p. The rule's curve (best seen after
the last round that fits in each of the `--against` run's budgets up to `--budget`; a round's rollouts all end before
the next starts, so no rollout is in flight at any point of it) gives the NFE at which it reaches best_of_n@`--reference`'s
mean best, as a ratio of best-of-N's own (`decision_real.reach_table`: 95 % bootstrap over prompts, inf where a
resample never reaches it within `--budget`). Writes outputs/bench/late_tails_<stage>[_<tag>].{csv,json} and the
curve as late_tails_<stage>[_<tag>]_curve.csv.

    python nbs/scripts/late_tails.py --stage har --prompts 16 --seeds 3 --budget 1024
"""
import argparse, json, sys, time
from pathlib import Path
import numpy as np, pandas as pd

def late_tails(engine, ctx, budget:int, tail:int, width:int, first:int, temperature:float, fresh:float=0.25,
               pick:str="best", fill:bool=False) -> list[tuple[int, float, int]]:
    "(NFE spent, best reward seen, rollouts run) after every round, until `budget` NFE are spent (`fill`: a last round sized to fit)."
    ends = engine.rollout([engine.root]*first, ctx.rng, temperature=temperature)
    seen = [(ctx.reward(e), e) for e in ends]
    trace, per_row = [(engine.nfe, max(r for r, _ in seen), len(seen))], engine.nfe/first
    while engine.nfe < budget:
        nfe0, starts = engine.nfe, []
        rs = np.array([r for r, _ in seen])
        pool = np.flatnonzero(rs == rs.max()) if pick == "best" else np.arange(len(seen))
        rows = min(width, max(1, int((budget - engine.nfe)/per_row))) if fill else width
        for k in range(rows):
            if ctx.rng.random() < fresh: starts.append(engine.root); continue
            e = seen[int(ctx.rng.choice(pool))][1]; d = e.depth - tail
            starts.append(e.path()[d - 1] if d > 0 else engine.root)
        ends = engine.rollout(starts, ctx.rng, temperature=temperature)
        seen += [(ctx.reward(e), e) for e in ends]
        per_row = (engine.nfe - nfe0)/rows                 # the last round's NFE per row (tails and answer steps)
        trace.append((engine.nfe, max(r for r, _ in seen), len(seen)))
        if engine.nfe == nfe0: break                       # every tail was already in the tree: no progress
    return trace

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stage", default="har", choices=["har", "captioning"])
    ap.add_argument("--prompts", type=int, default=16)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--budget", type=int, default=1024)
    ap.add_argument("--tail", type=int, default=8, help="tokens retried at the end of a reply")
    ap.add_argument("--width", type=int, default=8, help="tails per round")
    ap.add_argument("--first", type=int, default=4, help="replies from the root before any tail")
    ap.add_argument("--fresh", type=float, default=0.25, help="share of each round's rows started at the root")
    ap.add_argument("--pick", default="best", choices=["best", "uniform"], help="whose tail: the best reply's, or any reply's")
    ap.add_argument("--fill", action="store_true", help="size the last rounds to what the budget has left (by the last round's NFE per row)")
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--max-new-tokens", type=int, default=48)
    ap.add_argument("--reference", type=int, default=None, help="reach best_of_n's mean best at this budget (default --budget)")
    ap.add_argument("--against", default=None, help="decision_real CSV whose best_of_n rows to pair with and reach")
    ap.add_argument("--tag", default="", help="suffix of the output files")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    from scipy.stats import wilcoxon
    from dts_nb.core import outputs_dir, atomic_write, make_rng
    from dts_nb.backends import load_backend
    from dts_nb.data import load_dataset, dataset_labels
    from dts_nb.runner import RunConfig, prompt_inputs
    from dts_nb.search import open_engine, SearchContext
    cfg = RunConfig(stage=a.stage).resolved()
    be = load_backend(cfg.model)
    labels = tuple(dataset_labels(cfg.dataset)) if a.stage == "har" else None
    against = Path(a.against) if a.against else outputs_dir()/"bench"/f"decision_real_{a.stage}.csv"
    B = pd.read_csv(against, dtype={"prompt": str}, float_precision="round_trip")
    B = B[(B.method == "best_of_n") & (B.temperature == a.temperature)]
    grid = sorted(int(b) for b in B.budget.unique() if b <= a.budget)
    reference = a.reference or a.budget
    if a.budget not in grid or reference not in grid:
        raise SystemExit(f"{against} has no best_of_n rows at T = {a.temperature} and budget {a.budget} / reference {reference} "
                         f"(its budgets: {sorted(B.budget.unique())}): pick --budget and --reference among them, or another --against")
    rows, curve, t0 = [], [], time.time()
    for i, sample in enumerate(load_dataset(cfg.dataset, split="test", n=a.prompts, seed=0)):
        _, ids, reward, answer = prompt_inputs(cfg, be, sample, labels)
        for seed in range(a.seeds):
            engine = open_engine(be, ids, max_new_tokens=a.max_new_tokens)
            ctx = SearchContext(engine, reward, make_rng(1000*i + seed), a.budget, 1, answer)
            trace = late_tails(engine, ctx, a.budget, a.tail, a.width, a.first, a.temperature, a.fresh, a.pick, a.fill)
            engine.release()
            k = max((j for j, (n, *_) in enumerate(trace) if n <= a.budget), default=0)   # the last round that fits
            nfe, best, rollouts = trace[k]
            rows.append(dict(prompt=str(sample.id), seed=seed, best=best, nfe=nfe, rollouts=rollouts))
            for b in grid:                                   # best after the last round that fits in b; none before the first ends
                kb = max((j for j, (n, *_) in enumerate(trace) if n <= b), default=None)
                curve.append(dict(prompt=str(sample.id), seed=seed, method="late_tails", temperature=a.temperature, budget=b,
                                  best=np.nan if kb is None else trace[kb][1], nfe=np.nan if kb is None else trace[kb][0]))
            print(f"[{time.time() - t0:6.0f} s] prompt {i + 1}/{a.prompts} seed {seed}: best {best:.4g}, NFE {nfe}", flush=True)
    R = pd.DataFrame(rows)
    out_dir = Path(a.out) if a.out else outputs_dir()/"bench"; out_dir.mkdir(parents=True, exist_ok=True)
    name = f"late_tails_{a.stage}" + (f"_{a.tag}" if a.tag else "")
    C = pd.DataFrame(curve)
    C = C[C.groupby("budget").best.transform(lambda x: x.notna().all())]   # budgets where every search's first round had ended
    atomic_write(out_dir/f"{name}.csv", R.to_csv(index=False))
    atomic_write(out_dir/f"{name}_curve.csv", C.to_csv(index=False))
    P = R.merge(B[B.budget == a.budget][["prompt", "seed", "best"]], on=["prompt", "seed"], suffixes=("", "_best_of_n"))
    d = (P.best - P.best_best_of_n).to_numpy(); nz = d[np.abs(d) > 1e-9]
    per_prompt = (P.best - P.best_best_of_n).groupby(P.prompt).mean().to_numpy(); pz = per_prompt[np.abs(per_prompt) > 1e-9]
    res = dict(units=len(P), wins=int((nz > 0).sum()), losses=int((nz < 0).sum()), ties=len(d) - len(nz),
               mean_difference=round(float(d.mean()), 4), wilcoxon_p=round(float(wilcoxon(nz).pvalue), 4) if len(nz) else 1.0,
               prompt_wins=int((pz > 0).sum()), prompt_losses=int((pz < 0).sum()),
               wilcoxon_p_prompts=round(float(wilcoxon(pz).pvalue), 4) if len(pz) else 1.0,
               mean_best=round(float(P.best.mean()), 4), mean_best_of_n=round(float(P.best_best_of_n.mean()), 4),
               mean_nfe=round(float(P.nfe.mean()), 1), mean_rollouts=round(float(R.rollouts.mean()), 1))
    sys.path.insert(0, str(Path(__file__).parent)); from decision_real import reach_table
    both = pd.concat([C, B[B.budget.isin(grid)].merge(C[["prompt", "seed"]].drop_duplicates())[C.columns]])
    mean_curve, reach, _, _ = reach_table(both, "best", ["best_of_n", "late_tails"], [a.temperature], reference)
    print(f"\nmean best by budget:\n{mean_curve.round(3).to_string()}\n\nNFE to reach best_of_n@{reference}'s mean best, "
          f"ratio to best_of_n's (95 % bootstrap over prompts):\n{reach.to_string(index=False)}")
    print(f"\nlate tails ({a.tail} tokens of the {a.pick} reply, rounds of {a.width} with {a.fresh:.0%} fresh after {a.first}) against best_of_n at {a.budget} NFE, T = {a.temperature}, "
          f"paired over prompt x seed (and prompts by their seed means):\n", pd.Series(res).to_string())
    atomic_write(out_dir/f"{name}.json", json.dumps(dict(args=vars(a), paired=res, against=str(against),
        mean_best=mean_curve.round(4).reset_index().to_dict("records"), reach=reach.to_dict("records")), indent=1, default=str))

if __name__ == "__main__": main()
