"""Where is the reward decided? Issue 9's bound, measured on the real default model.

A tree beats best-of-N at equal NFE only by retrying tails of good replies: a tail from depth d costs the tokens after
d, and it is worth more than a fresh sample only if the first d tokens already carry the reward. This script measures
how much they carry. Per prompt it draws `--bases` replies from the root; from each reply's prefix at every depth d in
`--depths` it draws `--tails` new tails (the reply itself is one more draw given its prefix). It prints, per depth:

- `decided`: the share of the reward's variance that the prefix decides (one-way intraclass correlation over the
  prefixes, ICC(1); 0 at the root, 1 once the reward is fixed). On a reward decided at token t* it jumps from 0 to 1
  at t*, and a tree can then save up to T / (T - t*) of best-of-N's NFE;
- `kept`: how much of the best reply's lead a tail from its prefix keeps ((mean tail - mean fresh) / (best - mean
  fresh), the best of the `--bases` replies);
- `beat_rate`: tails from the best reply's prefix that beat it, per 100 NFE, against fresh samples that beat it per
  100 NFE (`ratio` > 1: branching there finds a better reply faster than best-of-N does at that point);
- `beats_own`: the same from every reply, not only the best — tails that beat their own reply against fresh replies
  that beat it, per NFE (pooled within prompts; a reward independent of the prefix gives T / (T - d)).
  `--summarise` prints it from an earlier run's CSV without loading the model.

Intervals: 95 % bootstrap over prompts. Writes outputs/bench/reward_profile_<stage>.{csv,json,png}.

    python nbs/scripts/reward_profile.py --stage har --prompts 8
"""
import argparse, json, time
from pathlib import Path
import numpy as np, pandas as pd

def icc1(groups):
    "ICC(1) of equal-or-unequal sized groups (one-way ANOVA): the share of the variance between groups; nan if none."
    groups = [np.asarray(g, float) for g in groups if len(g) > 1]
    if len(groups) < 2: return np.nan
    n = np.array([len(g) for g in groups]); N, k = n.sum(), len(groups)
    grand = np.concatenate(groups).mean()
    msb = sum(len(g)*(g.mean() - grand)**2 for g in groups)/(k - 1)
    msw = sum(((g - g.mean())**2).sum() for g in groups)/(N - k)
    n0 = (N - (n**2).sum()/N)/(k - 1)                      # the mean group size, corrected for unequal sizes
    if msb + (n0 - 1)*msw <= 0: return np.nan                # every reward equal: nothing to decide
    return float((msb - msw)/(msb + (n0 - 1)*msw))

def profile(P, depths):
    "Per depth: `decided`, `kept`, the beat rates and their ratio, from the draws `P` of one or more prompts (means over prompts)."
    out = []
    for d in depths:
        per = []
        for p, Q in P.groupby("prompt"):
            fresh = Q[Q.depth == 0]; at = Q[Q.depth == d]
            if not len(at): continue
            best = Q[(Q.depth == d) & Q.best_base & ~Q.own]            # the best reply's new tails (not itself)
            f_mean, r_best = fresh.reward.mean(), Q.base_reward.max()
            lead = r_best - f_mean
            per.append(dict(decided=icc1([g.reward for _, g in at.groupby("base")]),
                            kept=(best.reward.mean() - f_mean)/lead if lead > 1e-12 else np.nan,
                            tail_beats=100*(best.reward > r_best + 1e-12).sum()/best.nfe.sum() if len(best) else np.nan,
                            fresh_beats=100*(fresh.reward > r_best + 1e-12).sum()/fresh.nfe.sum(),
                            tail_nfe=best.nfe.mean()))
        per = pd.DataFrame(per)
        out.append(dict(depth=d, prompts=len(per), **per.mean().to_dict()))
    T = pd.DataFrame(out)
    T["ratio"] = T.tail_beats/T.fresh_beats
    return T

def beats_own(R, depths, boot=1000, seed=0):
    """Per depth: tails that beat their own reply, against fresh replies that beat the same reply, per NFE.

    For every reply b and depth d, `observed` counts b's tails from d whose reward is above b's, and `expected` what
    fresh replies would find for the same NFE: the tails' NFE times the rate per NFE at which the prompt's fresh
    replies beat b. `ratio` = observed / expected, pooled over replies and prompts (each tail judged against fresh
    replies of its own prompt), with a 95 % bootstrap over prompts. Above 1: a tail from there improves on a reply
    faster per NFE than sampling afresh does — from any reply, not only the best (cf. `beat_rate`)."""
    tails = R[(R.depth > 0) & ~R.own.astype(bool)].copy()
    fresh = R[R.depth == 0]
    F = {p: (g.reward.to_numpy(), g.nfe.sum()) for p, g in fresh.groupby("prompt")}
    rate = {(p, b): (F[p][0] > rb + 1e-12).sum()/F[p][1]          # fresh replies beating reply b, per NFE
            for (p, b), rb in tails.groupby(["prompt", "base"]).base_reward.first().items()}
    tails["beat"] = tails.reward > tails.base_reward + 1e-12
    tails["expect"] = tails.nfe*[rate[(p, b)] for p, b in zip(tails.prompt, tails.base)]
    per = tails.groupby(["depth", "prompt"])[["beat", "expect"]].sum()
    rng, out = np.random.default_rng(seed), []
    for d in (d for d in depths if d in per.index.get_level_values("depth")):   # depths some reply was long enough for
        P = per.loc[d]; o, e = P.beat.to_numpy(float), P.expect.to_numpy()
        ratios = [o[k].sum()/e[k].sum() for k in (rng.integers(0, len(P), len(P)) for _ in range(boot)) if e[k].sum() > 0]
        out.append(dict(depth=d, observed=int(o.sum()), expected=round(float(e.sum()), 1),      # nan: no fresh reply beat any
                        ratio=round(float(o.sum()/e.sum()), 2) if e.sum() > 0 else np.nan,
                        ratio_95=np.round(np.percentile(ratios, [2.5, 97.5]), 2).tolist() if ratios else [np.nan]*2, prompts=len(P)))
    return pd.DataFrame(out)

def prompts(a):
    "(name, engine, search context) per prompt: the stage's real prompts, or `--toy`'s seeds (a check that the measure works)."
    from dts_nb.search import open_engine, SearchContext
    if a.toy:                                              # issue 9's toy: the reward decided at token t* (91_decision_bench)
        nb = json.loads((Path(__file__).parents[1]/"91_decision_bench.ipynb").read_text())
        cells, env = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"], {}
        exec(next(c for c in cells if "import hashlib" in c), env)
        exec(next(c for c in cells if "def decided_toy" in c).split("\nrw = ")[0], env)
        for s in range(a.prompts):
            engine = open_engine(env["decided_toy"](s), [0], max_new_tokens=a.max_new_tokens)
            yield f"toy{s}", engine, SearchContext(engine, env["Tracker"](a.toy, s), np.random.default_rng([a.seed, s]), None, 1)
        return
    from dts_nb.backends import load_backend
    from dts_nb.data import load_dataset, dataset_labels
    from dts_nb.runner import RunConfig, prompt_inputs
    cfg = RunConfig(stage=a.stage).resolved()
    be = load_backend(cfg.model)
    labels = tuple(dataset_labels(cfg.dataset)) if a.stage == "har" else None
    for i, sample in enumerate(load_dataset(cfg.dataset, split="test", n=a.prompts, seed=0)):
        _, ids, reward, answer = prompt_inputs(cfg, be, sample, labels)
        engine = open_engine(be, ids, max_new_tokens=a.max_new_tokens)
        yield str(sample.id), engine, SearchContext(engine, reward, np.random.default_rng([a.seed, i]), None, 1, answer)

def measure(engine, ctx, name, a, depths, desc=""):
    "One prompt's draws: `a.bases` replies, fresh samples, and `a.tails` tails from each reply's prefix at each depth."
    from tqdm.auto import tqdm
    def draw(starts, info):
        "A rollout from each start in one batch, with its reward; each is charged the batch's mean NFE (tail + answer step)."
        nfe0 = engine.nfe
        ends = engine.rollout(starts, ctx.rng, temperature=a.temperature)
        rs = [ctx.reward(e) for e in ends]
        cost = (engine.nfe - nfe0)/len(starts)
        return [dict(prompt=name, reward=r, length=e.depth, nfe=cost, own=False, **k) for e, r, k in zip(ends, rs, info)]
    bases = engine.rollout([engine.root]*a.bases, ctx.rng, temperature=a.temperature)
    base_r = [ctx.reward(b) for b in bases]
    best = int(np.argmax(base_r))
    rows = draw([engine.root]*(a.bases*a.tails), [dict(depth=0, base=-1, base_reward=np.nan, best_base=False)]*(a.bases*a.tails))
    for d in tqdm(depths, desc=desc, leave=False):
        starts, info = [], []
        for b, (end, rb) in enumerate(zip(bases, base_r)):
            if end.depth <= d: continue                         # the reply ended before d: nothing to branch from
            k = dict(depth=d, base=b, base_reward=rb, best_base=b == best)
            starts += [end.path()[d - 1]]*a.tails; info += [k]*a.tails
            rows.append(dict(prompt=name, reward=rb, length=end.depth, nfe=np.nan, own=True, **k))  # the reply itself:
            #                                                                                       one more draw given its prefix
        if starts: rows += draw(starts, info)
    return rows

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stage", default="har", choices=["har", "captioning"])
    ap.add_argument("--prompts", type=int, default=16)
    ap.add_argument("--bases", type=int, default=8, help="replies drawn from the root per prompt")
    ap.add_argument("--tails", type=int, default=6, help="tails drawn from each reply's prefix at each depth")
    ap.add_argument("--depths", default="8,16,24,32,40", help="prefix lengths (tokens) to branch at")
    ap.add_argument("--temperature", type=float, default=1.0, help="rollout temperature of every draw")
    ap.add_argument("--max-new-tokens", type=int, default=48)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--toy", type=int, default=0, help="instead of the real model: issue 9's toy with its reward decided "
                    "at this token (one prompt per seed); `decided` must jump from 0 to 1 there")
    ap.add_argument("--summarise", action="store_true", help="no model: print `beats_own` from an earlier run's CSV")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    depths = sorted(int(d) for d in a.depths.split(","))
    if not depths or depths[0] <= 0 or depths[-1] >= a.max_new_tokens:
        raise SystemExit(f"--depths {a.depths!r}: give depths between 1 and --max-new-tokens - 1 = {a.max_new_tokens - 1}")
    from dts_nb.core import outputs_dir, atomic_write
    out_dir = Path(a.out) if a.out else outputs_dir()/"bench"
    stem = out_dir/(f"reward_profile_toy{a.toy}" if a.toy else f"reward_profile_{a.stage}")
    if a.summarise:
        if not stem.with_suffix(".csv").exists(): raise SystemExit(f"--summarise: no {stem.with_suffix('.csv')}; run without it first")
        R = pd.read_csv(stem.with_suffix(".csv"), dtype={"prompt": str})
        print(f"{stem.name}: tails that beat their own reply against fresh replies, per NFE\n",
              beats_own(R, sorted(d for d in R.depth.unique() if d > 0)).to_string(index=False))
        return
    rows, t0 = [], time.time()
    for i, (name, engine, ctx) in enumerate(prompts(a)):
        rows += measure(engine, ctx, name, a, depths, desc=f"prompt {i + 1}/{a.prompts}")
        engine.release()
        print(f"[{time.time() - t0:6.0f} s] prompt {i + 1}/{a.prompts}: NFE {engine.nfe}", flush=True)
    R = pd.DataFrame(rows)
    T = profile(R, [0] + depths).round(4)
    rng = np.random.default_rng(0); ups = R.prompt.unique(); boots = []
    for _ in range(500):
        pick = rng.choice(ups, len(ups))
        B = pd.concat([R[R.prompt == p].assign(prompt=f"{p}#{k}") for k, p in enumerate(pick)])
        boots.append(profile(B, depths).set_index("depth"))
    ci = {c: pd.concat([b[c] for b in boots], axis=1).apply(lambda r: np.nanpercentile(r, [2.5, 97.5]), axis=1)
          for c in ("decided", "kept", "ratio")}
    for c, v in ci.items(): T[f"{c}_95"] = T.depth.map(lambda d: np.round(v[d], 3).tolist() if d in v else None)
    pd.set_option("display.width", 200)
    print(f"\n{f'toy, t* = {a.toy}' if a.toy else a.stage}: {len(ups)} prompts, {a.bases} replies each, {a.tails} tails per reply and depth, T = {a.temperature}, "
          f"mean reply {R[R.depth == 0].length.mean():.1f} tokens, fresh sample {R[R.depth == 0].nfe.mean():.1f} NFE\n",
          T.to_string(index=False))
    own = beats_own(R, depths)
    print("\ntails that beat their own reply against fresh replies that beat it, per NFE\n", own.to_string(index=False))
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(stem.with_suffix(".csv"), R.to_csv(index=False))
    atomic_write(stem.with_suffix(".json"), json.dumps(dict(args=vars(a), profile=T.to_dict("records"), beats_own=own.to_dict("records")), indent=1, default=str))
    import matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot as plt
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.5))
    def bars(ax, c, **kw):                                   # the estimate with its bootstrap interval
        y = T.set_index("depth").loc[depths, c].to_numpy(); lo, hi = np.array([ci[c][d] for d in depths]).T
        ax.errorbar(depths, y, yerr=[np.clip(y - lo, 0, None), np.clip(hi - y, 0, None)], marker="o", capsize=3, label=c, **kw)
    for c in ("decided", "kept"): bars(ax[0], c)
    ax[0].set(xlabel="prefix length d (tokens)", ylabel="share", title="how much the first d tokens decide", ylim=(-0.2, 1.05))
    ax[0].legend()
    bars(ax[1], "ratio"); ax[1].axhline(1, color="grey", ls="--")
    ax[1].set(xlabel="prefix length d (tokens)", ylabel="tail / fresh", title="better replies per NFE: tail vs fresh")
    fig.suptitle(f"{f'toy, t* = {a.toy}' if a.toy else a.stage}: {len(ups)} prompts x {a.bases} replies x {a.tails} tails, T = {a.temperature}")
    fig.tight_layout(); fig.savefig(stem.with_suffix(".png"), dpi=120)

if __name__ == "__main__": main()
