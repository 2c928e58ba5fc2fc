"""Synthetic run folders for the tests of `10_results`, `10a_summary`, `10b_plots` and `figures.ipynb`.

Not part of the package (tests only). Real runs are written by the runner (`09_runner`); the figures must be
testable without them. `write_run` writes one folder exactly as RESULTS_FORMAT.md describes (`config.json`,
`results.jsonl`, optionally `summary.json` and `tree.json`); `make_example_runs` fills an outputs folder with a
small grid: every method in `methods` × `budgets` × `seeds` for both stages, plus one failed prompt, one incomplete
run (no summary, a truncated last line, as left by a killed run), a `maxent_ts` ablation over `num_rollouts`,
`expansion_k` and `lam`, a search tree and the benchmark files. Values follow simple formulas, so tests can compute
the expected means by hand.

Use from a notebook in nbs/ (nbdev-test and papermill `--cwd nbs` run there):

    import sys; sys.path.insert(0, '.')
    from fixtures_runs import *
"""
from __future__ import annotations
import hashlib, json, math
from pathlib import Path
import numpy as np
from dts_nb.core import atomic_write
from dts_nb.metrics import macro_f1
from dts_nb.stats import aggregate, reward_bounds

__all__ = ["HAR_LABELS", "TREE_METHODS", "write_run", "example_tree", "example_config", "make_example_runs",
           "_example_line", "_summary"]

HAR_LABELS = ("badminton", "running", "standing", "walking")
TREE_METHODS = ("mcts", "dts", "dts_star", "maxent_ts")

def _summary(config:dict, lines:list) -> dict:
    "A summary.json for `lines` (what the runner writes when a run completes), with `aggregate`'s intervals."
    ok = [l for l in lines if l["error"] is None]
    rows = [{**l["metrics"], **{k: l[k] for k in ("nfe", "wall_s", "prefill_tokens")},
             **{k: l["stats"].get(k) for k in ("nodes", "unique_sequences")}} for l in ok]
    nan_none = lambda x: None if isinstance(x, float) and not math.isfinite(x) else x
    metrics = {k: dict(mean=v["mean"], std=nan_none(v["std"]), ci95=[nan_none(v["lo"]), nan_none(v["hi"])], n=v["n"])
               for k, v in aggregate(rows, bounds={"reward": reward_bounds(config["reward"])}).items()}
    har = None
    if config["stage"] == "har":
        har = dict(accuracy=float(np.mean([l["metrics"]["correct"] for l in ok])),
                   macro_f1=macro_f1([l["label"] for l in ok], [l["metrics"]["predicted"] for l in ok],
                                     config.get("labels")),
                   valid_rate=float(np.mean([l["metrics"]["valid"] for l in ok])), n=len(ok))
    keep = ("name", "hash", "stage", "dataset", "method", "budget", "seed", "model")
    return {**{k: config[k] for k in keep}, "n": len(lines), "n_failed": len(lines) - len(ok), "metrics": metrics,
            "har": har, "reward_info": config["reward_info"], "complete": True}

def write_run(root, config:dict, lines:list, complete:bool=True, tree:dict|None=None,
              truncated_tail:bool=False) -> Path:
    "Write one run folder under `root/runs/` following RESULTS_FORMAT.md; returns the folder."
    defining = {k: v for k, v in config.items() if k not in ("name", "hash", "out_dir", "wandb", "progress", "created")}
    h = hashlib.sha256(json.dumps(defining, sort_keys=True).encode()).hexdigest()[:8]
    config = {**config, "hash": h}
    folder = Path(root)/"runs"/f"{config['name']}-{h}"
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(folder/"config.json", json.dumps(config, indent=1))
    body = "".join(json.dumps(l) + "\n" for l in lines)
    if truncated_tail: body += json.dumps(lines[-1])[:40]                 # a killed run's half-written line
    atomic_write(folder/"results.jsonl", body)
    if complete: atomic_write(folder/"summary.json", json.dumps(_summary(config, lines), indent=1))
    if tree is not None: atomic_write(folder/"tree.json", json.dumps(tree))
    return folder

def example_tree(depth:int=4, fanout:int=2) -> dict:
    "A small search tree in `dts_nb.tree.tree_to_dict` format (breadth first, the first path highlighted)."
    nodes, frontier = [dict(parent=-1, depth=0, N=2**depth, v=0.5, text="", on_path=True, terminal=False)], [0]
    for d in range(1, depth + 1):
        nxt = []
        for p in frontier:
            for a in range(fanout):
                nodes.append(dict(parent=p, depth=d, N=max(1, nodes[p]["N"]//(a + 2)), v=round(0.5 + 0.1*a - 0.05*d, 3),
                                  text=f"t{a}", on_path=nodes[p]["on_path"] and a == 0, terminal=d == depth))
                nxt.append(len(nodes) - 1)
        frontier = nxt
    return dict(nodes=nodes, truncated=False)

def _example_line(stage, method, rank, bi, seed, i, budget, error=None) -> dict:
    "One results.jsonl line of the synthetic grid (reward = base + 0.1·budget step + 0.1·prompt + 0.01·seed)."
    key, sid = f"S{i}#0", f"S{i}"
    if error: return dict(key=key, sample_id=sid, epoch=0, seed=seed*1000 + i, label=None, prompt_tokens=300, n_values=64,
                          downsampled=False, text=None, token_ids=None, reward=None, components=None, samples=[],
                          metrics=None, nfe=None, prefill_tokens=300, wall_s=0.5, stats={}, error=error)
    r = round(0.1*rank + 0.1*bi + 0.1*i + 0.01*seed - (1.0 if stage == "har" else 0.0), 6)
    nfe = budget - 2*i if budget else 40 + i
    div = 0.0 if method == "greedy" else round(0.1 + 0.05*rank + 0.02*i, 6)
    m = dict(reward=r, perplexity=5.0 + i, length_tokens=40 + i, distinct_2=0.8, pairwise_dissimilarity=div)
    label = None
    if stage == "har":
        label = HAR_LABELS[i % len(HAR_LABELS)]
        correct = i <= rank + bi - 1                                        # more prompts right with rank and budget
        m.update(predicted=label if correct else HAR_LABELS[(i + 1) % len(HAR_LABELS)], correct=int(correct), valid=1,
                 oracle=int(correct))
    else:
        m.update(faithfulness=round(0.5 + 0.05*bi + 0.02*i, 6), **{"faithfulness.numbers": 0.5},
                 rouge_l=round(0.2 + 0.01*i, 6), embedding_similarity=0.6)
    tree = method in TREE_METHODS
    st = dict(nodes=int(nfe*(0.8 if tree else 1.0)), unique_sequences=max(1, nfe//40), max_depth=40,
              mean_branching=1.5 if tree else 1.0, rollouts=nfe//40, root_value=r)
    text = f"Answer: {m['predicted']}" if stage == "har" else f"A caption of series {sid}."
    return dict(key=key, sample_id=sid, epoch=0, seed=seed*1000 + i, label=label, prompt_tokens=300, n_values=64,
                downsampled=False, text=text, token_ids=[1, 2, 3], reward=r, components={"reward": r},
                samples=[dict(text=text, token_ids=[1, 2, 3], reward=r, logprob=-3.0, components={"reward": r})],
                metrics=m, nfe=nfe, prefill_tokens=300, wall_s=round(0.01*nfe*(1.5 if tree else 1.0), 6), stats=st,
                error=None)

def example_config(stage:str, method:str, budget:int|None, seed:int=0, n_prompts:int=4, **kw) -> dict:
    "A config.json of the synthetic grid (`kw` overrides fields, e.g. `lam=4.0`)."
    dataset, reward = ("basic_motions", "har_verifier") if stage == "har" else ("m3", "caption_faithfulness")
    info = {"verifier_test_accuracy": 0.9, "verifier_dataset": dataset} if stage == "har" else {}
    c = dict(name="", stage=stage, dataset=dataset, split="test", method=method, method_params={},
             model="smollm2-135m-instruct", backend="torch", device="cpu", dtype="float32", num_samples=n_prompts,
             num_outputs=1 if method == "greedy" else 4, budget=budget, num_rollouts=None, expansion_k=None, lam=1.0,
             rollout_temperature=1.0, max_new_tokens=64, seed=seed, epochs=1, reward=reward, max_prompt_tokens=600,
             reward_info=info, uses_ground_truth=False, labels=list(HAR_LABELS) if stage == "har" else None,
             versions={"dts_nb": "0.0.1"}, git_commit="0"*40, host="example", torch_threads=2, concurrent_workers=1,
             created="2026-11-21T12:00:00")
    c.update(kw)
    if method == "maxent_ts":
        c["method_params"] = {k: c[k] for k in ("num_rollouts", "expansion_k", "lam", "rollout_temperature")}
    extra = "".join(f"-{k}{v}" for k, v in sorted(kw.items()) if k in ("num_rollouts", "expansion_k", "lam"))
    c["name"] = f"{stage}-{dataset}-{method}" + (f"-b{budget}" if budget else "") + f"-s{seed}{extra}"
    return c

def _write_extras(root:Path, stage:str, methods, budgets, n_prompts:int):
    "One stage's extras: a run killed after 2 prompts and a maxent_ts ablation (like the main run at the last budget)."
    b, rank = budgets[-1], len(methods)
    mrank = list(methods).index("maxent_ts") if "maxent_ts" in methods else 0
    write_run(root, example_config(stage, "beam", b, 0, n_prompts),                   # killed after 2 prompts
              [_example_line(stage, "beam", rank, 0, 0, i, b) for i in range(2)], complete=False, truncated_tail=True)
    for kw in [dict(lam=0.5), dict(lam=4.0), dict(expansion_k=2), dict(expansion_k=4), dict(num_rollouts=4),
               dict(num_rollouts=8)]:
        v = math.log2(next(iter(kw.values())))/10                        # the ablated value moves the reward by log2/10
        lines = [_example_line(stage, "maxent_ts", mrank, len(budgets) - 1, 0, i, b) for i in range(n_prompts)]
        for l in lines: l["reward"] = l["metrics"]["reward"] = round(l["reward"] + v, 6)
        write_run(root, example_config(stage, "maxent_ts", b, 0, n_prompts, **kw), lines)

def _write_bench(root:Path):
    "The benchmark files of `90_bench` (`bench/tree.json`, `bench/engine.json`)."
    bench = {m: dict(nfe_per_s=100.0 + 10*i, nocache_nfe_per_s=5.0, speedup_vs_nocache=(100.0 + 10*i)/5.0) for i, m in
             enumerate(["best_of_n", "mcts", "dts", "dts_star", "maxent_ts"])}
    atomic_write(root/"bench"/"tree.json", json.dumps(bench, indent=1))
    atomic_write(root/"bench"/"engine.json", json.dumps(dict(ratios={"engine 1 row / no-cache baseline": 12.0,
                                                                       "engine 8 rows / no-cache baseline": 60.0}),
                                                        indent=1))

def make_example_runs(root, methods=("greedy", "best_of_n", "maxent_ts"), budgets=(64, 256), seeds=(0, 1),
                      n_prompts:int=4, stages=("captioning", "har"), extras:bool=True) -> Path:
    "Fill `root` (an outputs folder) with synthetic runs; `extras`: a failed prompt, a killed run, an ablation, a tree, benchmarks."
    root = Path(root)
    for stage in stages:
        for rank, method in enumerate(methods):
            for bi, budget in enumerate([None] if method == "greedy" else budgets):
                for seed in ([0] if method == "greedy" else seeds):
                    lines = [_example_line(stage, method, rank, bi, seed, i, budget) for i in range(n_prompts)]
                    if extras and method == "best_of_n" and bi == 0 and seed == 0:
                        lines[-1] = _example_line(stage, method, rank, bi, seed, n_prompts - 1, budget,
                                                  error="RuntimeError: out of memory")
                    tree = example_tree() if extras and method in TREE_METHODS and seed == 0 else None
                    write_run(root, example_config(stage, method, budget, seed, n_prompts), lines, tree=tree)
        if extras: _write_extras(root, stage, methods, budgets, n_prompts)
    if extras: _write_bench(root)
    return root
