"""Other models of where the reward changes, for the trees' branching rule, paired against the library's rule.

The trees branch where a new tail is worth most per NFE (`tail_gains` in nbs/04_tree_stream): the chance that a tail
from depth d changes the reward comes from a posterior over a *decision point* — tails from before it change the
reward at one shared rate (Beta(4, 1) prior), tails from after it at eps = 0.01. `reward_profile.py` found that
neither real stage has such a point, and the searches' own posteriors (`decided_at`, `decided_p` in their stats)
settle on one after two tails of one node tie. This script swaps in variants of that model, alone or combined
(`+`), and pairs them against the library's rule (`base`) over the same prompts and seeds:

- `uniform`: a Beta(1, 1) prior on the change rate before the decision point (two ties are weaker evidence);
- `per_depth`: every depth before the decision point changes the reward at its own rate (the root's many fresh
  tails no longer lend their rate to the deeper depths);
- `pairs`: a node's k tails count k * P(two of them differ) as changed, not every residual around their mean that
  is not zero (with many tails nearly every residual is, even when most tails tie);
- `learned_after`: the rate after the decision point is learnt (Beta(0.05, 4.95) prior, mean eps) instead of fixed;
- `worth`: what a change is worth, not only whether it happens: a tail's spread in the expected improvement is that
  of the tails from its own depth (their nonzero residuals, shrunk towards all depths' with 4 pseudo-residuals), not
  one spread for every depth — a depth whose tails move the reward a little is worth little even if they move it
  often.

    python nbs/scripts/change_models.py --stage captioning --prompts 16 --seeds 3 --variants base,uniform+per_depth+pairs
    python nbs/scripts/change_models.py --toy --variants base,uniform+per_depth+pairs     # issue 9's toy, t* = 8/24/40

Writes outputs/bench/change_models_<stage|toy>[_<tag>].{csv,json}; real stages are also paired against best_of_n's committed
rows at the same budget (outputs/bench/decision_real_<stage>.csv).
"""
import argparse, contextvars, json, time
from collections import defaultdict
from functools import partial
from pathlib import Path
import numpy as np, pandas as pd
from scipy.special import betaln

FLAGS = ("uniform", "per_depth", "pairs", "learned_after", "worth")
VARIANT = contextvars.ContextVar("variant", default="base")

def outcomes_of(by_depth:dict, tol:float, pairs:bool) -> tuple[list, list]:
    "Per depth (changed, unchanged) counts, and per depth the nonzero residuals of tails around their node's mean."
    outcomes, moved = [], []
    for d in sorted(by_depth):
        ch = un = 0.0; res = []
        for n in by_depth[d]:
            rs = np.array(n.tails); k = len(rs)
            if k < 2: continue
            e = rs - rs.mean(); res.append(e[np.abs(e) > tol])
            if pairs:
                differ = 1 - ((np.abs(rs[:, None] - rs[None, :]) <= tol).sum() - k)/(k*(k - 1))
                ch += k*differ; un += k*(1 - differ)
            else: ch += (np.abs(e) > tol).sum(); un += (np.abs(e) <= tol).sum()
        outcomes.append((ch, un)); moved.append(np.concatenate(res) if res else np.zeros(0))
    return outcomes, moved

def posterior(depths, outcomes, cands, prior, per_depth:bool, learned_after:bool, eps=0.01, after_prior=(0.05, 4.95)):
    "P(decided at each candidate), and the change rate after it (eps, or its posterior mean when learnt)."
    (a0, b0), (a1, b1) = prior, after_prior
    d = np.asarray(depths)
    ch, un = (np.array([o[j] for o in outcomes], float).reshape(-1) for j in (0, 1))
    logpost, after_rate = np.zeros(len(cands)), np.full(len(cands), eps)
    for j, k in enumerate(cands):
        b = d < k
        before = (betaln(a0 + ch[b], b0 + un[b]) - betaln(a0, b0)).sum() if per_depth else \
                 betaln(a0 + ch[b].sum(), b0 + un[b].sum()) - betaln(a0, b0)
        A, B = ch[~b].sum(), un[~b].sum()
        if learned_after: after = betaln(a1 + A, b1 + B) - betaln(a1, b1); after_rate[j] = (a1 + A)/(a1 + b1 + A + B)
        else: after = A*np.log(eps) + B*np.log1p(-eps)
        logpost[j] = before + after
    p = np.exp(logpost - logpost.max())
    return p/p.sum(), after_rate

def tail_gains_variant(root, cost, remaining, flags:set):
    "`tail_gains` with the change model `flags` picks; the same gains, probes and return value otherwise."
    import dts_nb.tree_stream as TS
    by_depth, stack = defaultdict(list), [root]
    while stack:
        n = stack.pop(); by_depth[n.depth].append(n)
        stack.extend(c for c in n.children.values() if not c.terminal)
    if root.N < 2: return None
    all_r = np.array([r for _, r in root.rollouts])
    m, total, best = float(all_r.mean()), float(all_r.var()), root.rmax
    depths = sorted(by_depth)
    outcomes, by_moved = outcomes_of(by_depth, 1e-12*max(1.0, float(np.abs(all_r).max())), "pairs" in flags)
    moved = np.concatenate(by_moved)
    sd = float(np.sqrt(np.mean(moved**2))) if len(moved) else float(np.sqrt(total))
    between = max(0.0, total - sd**2)
    sd_at = {d: float(np.sqrt((np.sum(e**2) + 4*sd**2)/(len(e) + 4))) if "worth" in flags else sd
             for d, e in zip(depths, by_moved)}                       # worth: each depth's own spread, shrunk
    ei = {id(n): TS._node_ei(n, m, sd_at[d], between, best) for d in depths for n in by_depth[d]}
    top = np.array([max(ei[id(n)] for n in by_depth[d]) for d in depths])
    c = np.array([cost(d) for d in depths], float)
    cands = np.array(sorted(set(depths) | {depths[-1] + cost(depths[-1])}), float)
    prior = (1.0, 1.0) if "uniform" in flags else (4.0, 1.0)
    p, after_rate = posterior(depths, outcomes, cands, prior, "per_depth" in flags, "learned_after" in flags)
    after = np.array([p[cands > d].sum() for d in depths])
    late = np.array([(p*after_rate)[cands <= d].sum() for d in depths])   # decided before d, times the rate after it
    rho = np.array([(a + prior[0])/(a + b + sum(prior)) for a, b in outcomes])
    q = rho*after + late
    R = 10*float(cands[-1]) if remaining is None else float(remaining)
    voi = TS._information_values(p, rho*top, c, R, after)
    for i, d in enumerate(depths):
        for n in by_depth[d]:
            n.gain, n.probe, n.unsure = q[i]*ei[id(n)]/c[i], voi[i]/c[i], bool(0.05 < after[i] < 0.95)
    return cands, p

def install():
    "Route `block_search`'s calls to `tail_gains` by the variant its search was started under (`VARIANT`)."
    import dts_nb.tree_stream as TS, dts_nb.context as C
    library, init = TS.tail_gains, C.SearchContext.__init__
    def routed(root, cost, remaining=None, *args, **kw):
        v = getattr(getattr(cost, "__self__", None), "variant", "base")   # cost is the search's ctx.tail_cost
        return library(root, cost, remaining, *args, **kw) if v == "base" else tail_gains_variant(root, cost, remaining, set(v.split("+")))
    def tagged(self, *args, **kw): init(self, *args, **kw); self.variant = VARIANT.get()
    TS.tail_gains, C.SearchContext.__init__ = routed, tagged

def paired(R, a, b, by=("prompt", "seed")):
    "Wins, losses, ties, mean difference and Wilcoxon p (ties dropped) of column a over column b, paired by `by`."
    from scipy.stats import wilcoxon
    d = (R[a] - R[b]).to_numpy(); nz = d[np.abs(d) > 1e-9]
    return dict(units=len(d), wins=int((nz > 0).sum()), losses=int((nz < 0).sum()), ties=len(d) - len(nz),
                mean_difference=round(float(d.mean()), 4), wilcoxon_p=round(float(wilcoxon(nz).pvalue), 3) if len(nz) else 1.0)

def run_toy(a, variants):
    from dts_nb.search import run_search
    import dts_nb.maxent_ts, dts_nb.dts                                   # noqa: F401 (registers the methods)
    nb = json.loads((Path(__file__).parents[1]/"91_decision_bench.ipynb").read_text())
    cells, env = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"], {}
    exec(next(c for c in cells if "import hashlib" in c), env)
    exec(next(c for c in cells if "def decided_toy" in c).split("\nrw = ")[0], env)
    rows = []
    for tstar in (8, 24, 40):
        for m in ["best_of_n"] + a.methods.split(","):
            for v in (variants if m != "best_of_n" else ["base"]):
                VARIANT.set(v)
                for s in range(a.seeds):
                    rw = env["Tracker"](tstar, s)
                    res = run_search(m, env["decided_toy"](s), [0], rw, budget=a.budget, max_new_tokens=48, seed=s)
                    rows.append(dict(tstar=tstar, method=m, variant=v, seed=s, nfe=res.nfe, best=rw.best, expected_best=rw.expected_best,
                                     branch_depth=res.stats.get("mean_branch_depth"), root_share=res.stats.get("root_start_share"),
                                     decided_at=res.stats.get("decided_at"), decided_p=res.stats.get("decided_p")))
        print(f"t* = {tstar} done", flush=True)
    return pd.DataFrame(rows)

def run_real(a, variants):
    from dts_nb.backends import load_backend
    from dts_nb.data import load_dataset, dataset_labels
    from dts_nb.runner import RunConfig, prompt_inputs
    from dts_nb.search import run_search
    from dts_nb.together import run_together
    import dts_nb.maxent_ts, dts_nb.dts                                   # noqa: F401 (registers the methods)
    cfg = RunConfig(stage=a.stage).resolved(); be = load_backend(cfg.model)
    labels = tuple(dataset_labels(cfg.dataset)) if a.stage == "har" else None
    def job(m, v, seed, ids, reward, answer):
        VARIANT.set(v)                                                    # read when the search's context is made
        return run_search(m, be, ids, reward, budget=a.budget, max_new_tokens=48, seed=seed, answer=answer)
    rows, t0 = [], time.time()
    for i, sample in enumerate(load_dataset(cfg.dataset, split="test", n=a.prompts, seed=0)):
        _, ids, reward, answer = prompt_inputs(cfg, be, sample, labels)
        units = [(m, v, seed) for seed in range(a.seeds) for m in a.methods.split(",") for v in variants]
        done = run_together([partial(job, m, v, 1000*i + seed, ids, reward, answer) for m, v, seed in units], at_once=6, progress=False)
        for (m, v, seed), res in zip(units, done):
            rows.append(dict(prompt=str(sample.id), seed=seed, method=m, variant=v, best=res.reward, nfe=res.nfe,
                             branch_depth=res.stats.get("mean_branch_depth"), root_share=res.stats.get("root_start_share"),
                             nfe_per_rollout=res.stats.get("nfe_per_rollout"),
                             decided_at=res.stats.get("decided_at"), decided_p=res.stats.get("decided_p")))
        print(f"[{time.time() - t0:5.0f} s] prompt {i + 1}/{a.prompts}", flush=True)
    return pd.DataFrame(rows)

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stage", default="captioning", choices=["har", "captioning"])
    ap.add_argument("--toy", action="store_true", help="issue 9's toy (t* = 8, 24, 40 of 48) instead of a real stage")
    ap.add_argument("--prompts", type=int, default=16)
    ap.add_argument("--seeds", type=int, default=3, help="seeds per prompt (toy: seeds per t*)")
    ap.add_argument("--budget", type=int, default=1024)
    ap.add_argument("--methods", default="maxent_ts")
    ap.add_argument("--variants", default="base,uniform+per_depth+pairs", help="'base' or flags joined by '+': " + ", ".join(FLAGS))
    ap.add_argument("--tag", default="", help="appended to the output files' names (change_models_<stage>_<tag>)")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    from dts_nb.core import outputs_dir, atomic_write
    variants = a.variants.split(",")
    for v in variants:
        bad = set(v.split("+")) - set(FLAGS) if v != "base" else set()
        if bad: raise SystemExit(f"--variants: unknown flag(s) {sorted(bad)} in {v!r}; use 'base' or flags among {FLAGS} joined by '+'")
    install()
    R = run_toy(a, variants) if a.toy else run_real(a, variants)
    name = ("toy" if a.toy else a.stage) + (f"_{a.tag}" if a.tag else "")
    out_dir = Path(a.out) if a.out else outputs_dir()/"bench"; out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(out_dir/f"change_models_{name}.csv", R.to_csv(index=False))
    pd.set_option("display.width", 200)
    keys = ["tstar", "method", "variant"] if a.toy else ["method", "variant"]
    cols = [c for c in ("best", "expected_best", "nfe", "branch_depth", "root_share", "decided_at", "decided_p") if c in R]
    print(R.groupby(keys)[cols].mean().round(3).to_string())
    unit = ["tstar", "seed"] if a.toy else ["prompt", "seed"]
    W = R[R.method != "best_of_n"].pivot_table(index=unit + ["method"], columns="variant", values="best").reset_index()
    tables = {f"{m}: {v} - base": paired(W[W.method == m], v, "base") for m in a.methods.split(",") for v in variants if v != "base"}
    if not a.toy:
        B = pd.read_csv(outputs_dir()/"bench"/f"decision_real_{a.stage}.csv", dtype={"prompt": str}, float_precision="round_trip")
        B = B[(B.method == "best_of_n") & (B.temperature == 1.0) & (B.budget == a.budget)][["prompt", "seed", "best"]]
        W = W.merge(B.rename(columns={"best": "best_of_n"}), on=["prompt", "seed"])
        tables.update({f"{m}: {v} - best_of_n": paired(W[W.method == m], v, "best_of_n") for m in a.methods.split(",") for v in variants})
    print("\npaired (Wilcoxon, ties dropped):\n", pd.DataFrame(tables).T.to_string())
    atomic_write(out_dir/f"change_models_{name}.json", json.dumps(dict(args=vars(a), paired=tables), indent=1))

if __name__ == "__main__": main()
