"""Issue 9's decision benchmark on the real default model: best reward seen against NFE, per method and rollout temperature.

Each (prompt, seed, method, rollout_temperature) is searched once at the largest budget; the best reward seen is
recorded after every scored rollout together with the NFE spent so far, so one run gives the whole curve. Best-of-N's
curve is exactly what a smaller budget would have produced. A tree method's is not: with `widen="gain"` (the default)
where to branch depends on the budget left (`tail_gains` values a probe by what its answer is worth to the rest of the
budget), so a run given a smaller budget branches differently; its curve below the largest budget is that of a run
planning for the largest budget (run the script again with that --budget to measure a budget itself). A reward counts
at the NFE spent when it was scored, so the curve leaves out the rollouts in flight at each budget: a tree method runs
up to `batch_size` rollouts at once (their rewards arrive together as they end), best_of_n here one at a time. Each
search's own result when it ended (`end_best`, at `end_nfe`: the largest budget plus what finishing the rollouts in
flight cost) is recorded too, and paired against best_of_n's as a second table.

A second curve leaves the rollouts in flight out of the NFE as well (`best_done`): each rollout is charged its own
tail (the tokens it sampled, end depth − start depth) plus an equal share of the rest of the search's NFE (answer
steps, overhead, less the forwards a tail's last token does not need; `extra_per_rollout`), and the best at b is the
best of the first rollouts *launched* whose charges add up to at most b. Those are the rollouts a search stopped at
that point would have run and finished: each was started from what had been scored before it started, all of it
from earlier launches. So the curve does not charge a method for rollouts still running side by side; for best_of_n,
one sample at a time, it is the first curve but for the equal sharing (its samples' costs beyond their tails differ a
little: the same in 431 of 432 rows of the HAR run, 426 of 432 on captioning). Its reach ratios are printed too.

Prints the mean best reward at each budget and the NFE at which each method reaches best_of_n's mean best reward at
the reference budget (95 % bootstrap interval over prompts, each with its seeds), and each method paired against
best_of_n (over prompt x seed, and over prompts by their seed means); writes outputs/bench/decision_real_<stage>.json
and .png.

    python nbs/scripts/decision_real.py --stage har --prompts 8 --seeds 2 --budget 1536
"""
import argparse, contextvars, json, time
from functools import partial
from pathlib import Path
import numpy as np, pandas as pd

def paired_table(R, methods, temps, budget, value="best"):
    "Each method against best_of_n at the same temperature: wins, losses, ties, mean difference, Wilcoxon p (ties dropped)."
    from scipy.stats import wilcoxon
    top = R[R.budget == budget].pivot_table(index=["prompt", "seed"], columns=["method", "temperature"], values=value)
    out = []
    for m in (m for m in methods if m != "best_of_n" and "best_of_n" in methods):
        for t in temps:
            if (m, t) not in top or ("best_of_n", t) not in top: continue
            diff = (top[(m, t)] - top[("best_of_n", t)]).dropna()          # units both have (end_best: runs that recorded it)
            d = diff.to_numpy(); nz = d[np.abs(d) > 1e-9]
            per_prompt = diff.groupby(level="prompt").mean().to_numpy()       # seeds of a prompt are not independent
            pz = per_prompt[np.abs(per_prompt) > 1e-9]
            out.append(dict(method=m, temperature=t, wins=int((nz > 0).sum()), losses=int((nz < 0).sum()), ties=len(d) - len(nz),
                            mean_difference=round(float(d.mean()), 4), wilcoxon_p=round(float(wilcoxon(nz).pvalue), 4) if len(nz) else 1.0,
                            prompts=len(per_prompt), prompt_wins=int((pz > 0).sum()), prompt_losses=int((pz < 0).sum()),
                            wilcoxon_p_prompts=round(float(wilcoxon(pz).pvalue), 4) if len(pz) else 1.0))
    return pd.DataFrame(out)

def crossing(C, target):
    "NFE at which the running maximum of curve `C` (indexed by budget) first reaches `target`, log-interpolated; inf if never."
    x, y = np.log(np.array(C.index, float)), np.maximum.accumulate(C.to_numpy())
    if y[0] >= target: return float(np.exp(x[0]))
    j = np.flatnonzero(y >= target)
    if not len(j): return np.inf
    j = j[0]; f = (target - y[j - 1])/(y[j] - y[j - 1]); return float(np.exp(x[j - 1] + f*(x[j] - x[j - 1])))

def reach_table(R, value, methods, temps, reference):
    "Mean `value` by budget per method and temperature, and the NFE each needs to reach best_of_n@reference's mean (ratio to best_of_n's, 95 % bootstrap over prompts)."
    curve = R.groupby(["method", "temperature", "budget"])[value].mean().unstack("budget")
    piv = R.pivot_table(index=["prompt", "seed"], columns=["method", "temperature", "budget"], values=value)
    # the bootstrap resamples prompts, each with all its seeds (with one seed: the units themselves)
    rng, of_prompt = np.random.default_rng(0), piv.index.get_level_values("prompt"); ups = of_prompt.unique()
    rows_of = [np.flatnonzero(of_prompt == p) for p in ups]
    boots = [np.arange(len(piv))] + [np.concatenate([rows_of[k] for k in rng.integers(0, len(ups), len(ups))])
                                     for _ in range(1000)]
    ratios, out = [], []
    for sel in boots:
        mean = piv.iloc[sel].mean()
        target = mean[("best_of_n", temps[0], reference)]
        ref = crossing(mean[("best_of_n", temps[0])], target)
        ratios.append({(m, t): crossing(mean[(m, t)], target)/ref for m in methods for t in temps})
    for (m, t) in ratios[0]:
        v = np.array([r[(m, t)] for r in ratios[1:]])
        lo, hi = np.percentile(v, [2.5, 97.5], method="nearest")
        out.append(dict(method=m, temperature=t, ratio_vs_best_of_n=round(ratios[0][(m, t)], 2), lo=round(lo, 2), hi=round(hi, 2)))
    return curve, pd.DataFrame(out), ups, piv

def resumed(csv, grid, a):
    "Rows of an earlier run in `csv` and the (prompt, seed, method, temperature) searches they hold; a clear error if they do not fit."
    if not csv.exists(): return [], set(), time.time()
    R = pd.read_csv(csv, dtype={"prompt": str}, float_precision="round_trip")   # exact floats: ties decide scipy's Wilcoxon method
    budgets = sorted(R.budget.unique())
    if budgets != sorted(int(b) for b in grid):
        raise SystemExit(f"--resume: {csv} was run on budgets {budgets}, this run's grid is {sorted(grid)}: use the same "
                         f"--budget and --reference, or another --out")
    js = csv.with_suffix(".json")
    if js.exists():
        old = json.loads(js.read_text())["args"]
        for k in ("stage", "max_new_tokens"):
            if old[k] != getattr(a, k): raise SystemExit(f"--resume: {js} was run with {k}={old[k]!r}, not {getattr(a, k)!r}")
    counts = R.groupby(["prompt", "seed", "method", "temperature"]).size()
    if (counts != len(grid)).any():
        raise SystemExit(f"--resume: {csv} holds searches with a partial curve; remove them or use another --out")
    print(f"resuming: {len(counts)} searches already in {csv}", flush=True)
    return R.to_dict("records"), set((str(p), int(s), m, float(t)) for p, s, m, t in counts.index), time.time()

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stage", default="har", choices=["har", "captioning"])
    ap.add_argument("--prompts", type=int, default=16)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--budget", type=int, default=2048, help="largest budget (NFE); the curve covers every budget below it")
    ap.add_argument("--reference", type=int, default=1024, help="best_of_n's budget whose mean best reward is the target")
    ap.add_argument("--methods", default="best_of_n,mcts,dts,dts_star,maxent_ts")
    ap.add_argument("--temperatures", default="1.0,0.7", help="rollout_temperature values")
    ap.add_argument("--max-new-tokens", type=int, default=48)
    ap.add_argument("--together", type=int, default=6, help="searches of one prompt in progress at once, sharing the "
                    "engine's batch (dts_nb.together; 1: one after another). Results are the same either way up to float rounding, which can send a search down another path (dts_nb.together)")
    ap.add_argument("--out", default=None)
    ap.add_argument("--resume", action="store_true", help="keep the searches already in --out's CSV (written after "
                    "every prompt) and run only the missing ones; the grid and settings must match")
    a = ap.parse_args()
    from dts_nb.core import outputs_dir, atomic_write
    from dts_nb.backends import load_backend
    from dts_nb.data import load_dataset, dataset_labels
    from dts_nb.runner import RunConfig, prompt_inputs
    import dts_nb.search as S, dts_nb.rollouts as RO, itertools
    from dts_nb.together import run_together
    import dts_nb.mcts, dts_nb.dts, dts_nb.maxent_ts

    cfg = RunConfig(stage=a.stage).resolved()
    be = load_backend(cfg.model)
    samples = load_dataset(cfg.dataset, split="test", n=a.prompts, seed=0)
    labels = tuple(dataset_labels(cfg.dataset)) if a.stage == "har" else None
    TRACE = contextvars.ContextVar("trace")                  # each search's own lists (searches may run together)
    orig_init, orig, orig_done = S.SearchContext.__init__, S.SearchContext.reward, S.SearchContext.rollout_done
    def init(self, *args, **kw): orig_init(self, *args, **kw); self.trace, self.finished = TRACE.get()
    def traced(self, node):                                  # best reward seen vs NFE spent, after every new score
        fresh = tuple(node.tokens) not in self._rewards
        r = orig(self, node)
        if fresh: self.trace.append((self.engine.nfe, r))
        return r
    # when each rollout was launched: a stream's rows are tagged as they start, and its `finished(start, end)` call
    # (which calls rollout_done) passes the tag on; a rollout outside a stream, if any, is tagged when it ends
    # (`launch_tagged` says how many were not: none in the runs so far, best_of_n streams one row). One counter
    # for every search: greenlets take turns, so it only grows.
    launches, current = itertools.count(), dict(launch=None)
    orig_sinit, orig_fill = RO.RolloutStream.__init__, RO.RolloutStream.fill
    def sinit(self, engine, next_start, finished, *args, **kw):
        self.launched = []                                   # [row, launch] for the rows in flight
        def tagged(s, e):
            j = next(i for i, (r, _) in enumerate(self.launched) if r[0] is s and r[1] is e)
            current["launch"] = self.launched.pop(j)[1]
            try: finished(s, e)
            finally: current["launch"] = None
        orig_sinit(self, engine, next_start, tagged, *args, **kw)
    def fill(self):
        n = len(self.rows); orig_fill(self)
        self.launched += [(r, next(launches)) for r in self.rows[n:]]
    def done(self, start, end):                              # every finished rollout: launch, tail and reward
        orig_done(self, start, end)
        tagged = current["launch"] is not None
        self.finished.append((current["launch"] if tagged else next(launches), end.depth - start.depth,
                              self._rewards[tuple(end.tokens)], tagged))
    S.SearchContext.__init__, S.SearchContext.reward, S.SearchContext.rollout_done = init, traced, done
    RO.RolloutStream.__init__, RO.RolloutStream.fill = sinit, fill
    methods, temps = a.methods.split(","), [float(t) for t in a.temperatures.split(",")]
    grid = np.unique(np.r_[np.geomspace(128, a.budget, 9).round(), a.reference]).astype(int)
    def search(m, temp, seed, ids, reward, answer):
        trace, finished = [], []; TRACE.set((trace, finished))
        # best_of_n one sample at a time: its curve is read from one run, and a wide batch's rewards all
        # arrive at its end (the best seen at b < budget would then be that of the shortest replies)
        wide = dict(batch_size=1) if m == "best_of_n" else {}
        res = S.run_search(m, be, ids, reward, budget=a.budget, max_new_tokens=a.max_new_tokens, seed=seed,
                           answer=answer, rollout_temperature=temp, **wide)
        return res, (trace, finished)
    out_dir = Path(a.out) if a.out else outputs_dir()/"bench"; out_dir.mkdir(parents=True, exist_ok=True)
    csv = out_dir/f"decision_real_{a.stage}.csv"
    rows, done_units, t0 = resumed(csv, grid, a) if a.resume else ([], set(), time.time())
    for i, sample in enumerate(samples):
        _, ids, reward, answer = prompt_inputs(cfg, be, sample, labels)
        units = [(seed, m, temp) for seed in range(a.seeds) for m in methods for temp in temps
                 if (str(sample.id), seed, m, temp) not in done_units]
        if not units: continue
        jobs = [partial(search, m, temp, 1000*i + seed, ids, reward, answer) for seed, m, temp in units]
        # one prompt's searches share the engine's batch (dts_nb.together): each returns what it returns alone, to float rounding
        done = run_together(jobs, at_once=a.together, desc=f"prompt {i + 1}") if a.together > 1 else [j() for j in jobs]
        for (seed, m, temp), (res, (trace, finished)) in zip(units, done):
            nfe, rs = np.array([n for n, _ in trace]), np.maximum.accumulate([r for _, r in trace])
            finished = sorted(finished)                            # in launch order
            tails = np.array([t for _, t, _, _ in finished], float)
            extra = (res.nfe - tails.sum())/len(tails)             # answer steps, overhead, less tails' last forwards: shared equally
            charged, rs_done = np.cumsum(tails + extra), np.maximum.accumulate([r for _, _, r, _ in finished])
            for b in grid:
                k = np.searchsorted(nfe, b, side="right") - 1      # the best seen once b NFE were spent
                kd = np.searchsorted(charged, b + 1e-9, side="right") - 1   # the best of the first launched, charged ≤ b
                rows.append(dict(prompt=str(sample.id), seed=seed, method=m, temperature=temp, budget=int(b),
                                 best=float(rs[max(k, 0)]), nfe=float(min(b, res.nfe)),
                                 best_done=float(rs_done[max(kd, 0)]), extra_per_rollout=float(extra),
                                 launch_tagged=float(np.mean([t for *_, t in finished])),   # share tagged at launch
                                 end_best=float(rs[-1]), end_nfe=float(res.nfe),
                                 branch_depth=res.stats.get("mean_branch_depth"), root_share=res.stats.get("root_start_share"),
                                 nfe_per_rollout=res.stats.get("nfe_per_rollout"),
                                 decided_at=res.stats.get("decided_at"), decided_p=res.stats.get("decided_p")))
            print(f"[{time.time() - t0:6.0f} s] prompt {i + 1}/{len(samples)} seed {seed} {m} T={temp}: best {rs[-1]:.4g}, "
                  f"NFE {res.nfe}, branch depth {res.stats.get('mean_branch_depth', 0):.1f}", flush=True)
        atomic_write(csv, pd.DataFrame(rows).to_csv(index=False))   # a checkpoint: whole prompts only (--resume)
    R = pd.DataFrame(rows)
    want = {(str(s.id), seed, m, t) for s in samples for seed in range(a.seeds) for m in methods for t in temps}
    R = R[[(str(p), sd, m, t) in want for p, sd, m, t in zip(R.prompt, R.seed, R.method, R.temperature)]]
    curve, reach, ups, piv = reach_table(R, "best", methods, temps, a.reference)
    print("\nmean best reward seen, by NFE budget:\n", curve.round(4).to_string())
    shape = R[R.budget == grid.max()].groupby(["method", "temperature"])[[c for c in ("nfe_per_rollout", "branch_depth", "root_share", "decided_at", "decided_p") if c in R]].mean().round(2)
    print(f"\nNFE to reach best_of_n@{a.reference} (T={temps[0]}) mean best reward, as a ratio of best_of_n's own (95 % bootstrap "
          f"over {len(ups)} prompts, each with its seeds ({len(piv)} prompt x seed units); inf = not reached by {a.budget}):\n", reach.to_string(index=False))
    print("\nsearch shape at the largest budget:\n", shape.to_string())
    paired = paired_table(R, methods, temps, int(grid.max()))
    print(f"\nbest reward at {grid.max()} NFE against best_of_n at the same temperature, paired over prompt x seed "
          f"(and over prompts, each the mean over its seeds):\n",
          paired.to_string(index=False))
    # The curve credits a reward at the NFE spent when it was scored, so at the largest budget it leaves out the rollouts
    # in flight there, which a search given that budget finishes (best_of_n runs one sample at a time: at most one).
    # What each search returned when it ended, at its own NFE, is the budget's result as a user gets it.
    done_curve, done_reach, paired_done = pd.DataFrame(), pd.DataFrame(), pd.DataFrame()
    if "best_done" in R and R.best_done.notna().all():                                    # CSVs from before it: none
        done_curve, done_reach, _, _ = reach_table(R, "best_done", methods, temps, a.reference)
        print("\nthe same, the rollouts in flight left out of the NFE too (the first rollouts launched, each charged its "
              "tail plus an equal share of the rest; extra NFE per rollout:", R.groupby("method").extra_per_rollout.mean().round(2).to_dict(),
              "):\n", done_curve.round(4).to_string(), "\nits reach ratios:\n", done_reach.to_string(index=False))
        paired_done = pd.concat([paired_table(R, methods, temps, int(b), value="best_done").assign(budget=int(b))
                                 for b in sorted({a.reference, int(grid.max())})], ignore_index=True)
        print("\npaired against best_of_n on this curve, at the reference and the largest budget:\n", paired_done.to_string(index=False))
    ended = R[R.budget == grid.max()].dropna(subset=["end_best"]) if "end_best" in R else None   # CSVs from before it: none
    paired_end, end_nfe = pd.DataFrame(), pd.DataFrame()
    if ended is not None and len(ended):
        paired_end = paired_table(ended, methods, temps, int(grid.max()), value="end_best")
        end_nfe = ended.groupby(["method", "temperature"])[["end_best", "end_nfe"]].mean().round(4)
        print(f"\nbest reward when each search ended (given {grid.max()} NFE; it finishes the rollouts in flight), "
              f"{len(ended[['prompt', 'seed']].drop_duplicates())} prompt x seed units that recorded it:\n", end_nfe.to_string(),
              "\npaired against best_of_n at the same temperature:\n", paired_end.to_string(index=False))
    atomic_write(out_dir/f"decision_real_{a.stage}.json", json.dumps(dict(args=vars(a), model=cfg.model, dataset=cfg.dataset,
                 reward=cfg.reward, curve={f"{m}@T{t}": c.to_dict() for (m, t), c in curve.iterrows()},
                 reach=reach.to_dict("records"), shape=shape.reset_index().to_dict("records"), paired=paired.to_dict("records"),
                 paired_end=paired_end.to_dict("records"), end=end_nfe.reset_index().to_dict("records"),
                 curve_done={f"{m}@T{t}": c.to_dict() for (m, t), c in done_curve.iterrows()},
                 reach_done=done_reach.to_dict("records"), paired_done=paired_done.to_dict("records"),
                 runs=len(R)//len(grid)), indent=1, default=str))
    atomic_write(csv, pd.DataFrame(rows).to_csv(index=False))   # every run's curve (those of other prompts too: a
    #                                                             smaller --prompts never drops what --resume kept)
    import matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot as plt
    panels = [(curve, "NFE spent")] + ([(done_curve, "NFE of the first rollouts launched, finished")] if len(done_curve) else [])
    fig, axs = plt.subplots(1, len(panels), figsize=(7*len(panels), 4), sharey=True, squeeze=False)
    for ax, (C, xlabel) in zip(axs[0], panels):
        for (m, t), c in C.iterrows(): ax.plot(c.index, c.values, marker="o", ms=3, ls="-" if t == temps[0] else "--", label=f"{m} T={t}")
        ax.set(xscale="log", xlabel=xlabel, ylabel="mean best reward seen", title=f"{a.stage}: {len(samples)} prompts x {a.seeds} seeds")
        ax.legend(fontsize=7, ncol=2)
    fig.tight_layout(); fig.savefig(out_dir/f"decision_real_{a.stage}.png", dpi=120)

if __name__ == "__main__": main()
