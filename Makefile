# Targets match the README. `make demo` and `make test` work on a fresh clone.
export OMP_NUM_THREADS ?= 1
export TOKENIZERS_PARALLELISM = false
export HF_HUB_OFFLINE = 1
export TRANSFORMERS_OFFLINE = 1
export HF_DATASETS_OFFLINE = 1
VENV := .venv/bin

.PHONY: setup demo align-demo cai-demo loop-demo test lint typecheck fast bench bench-train
setup:
	bash scripts/setup.sh

demo: setup
	$(VENV)/alignlab demo

lint:
	$(VENV)/ruff check src tests benchmarks
	$(VENV)/ruff format --check src tests benchmarks
	$(VENV)/lint-imports

typecheck:
	$(VENV)/mypy

fast:
	ALIGNLAB_DATA_DIR=$${ALIGNLAB_DATA_DIR:-$(CURDIR)/../shared/data} $(VENV)/pytest -m "not slow" -q

test: setup lint typecheck
	ALIGNLAB_DATA_DIR=$${ALIGNLAB_DATA_DIR:-$(CURDIR)/../shared/data} $(VENV)/pytest -q

bench: setup
	$(VENV)/python benchmarks/generation.py

align-demo: setup
	ALIGNLAB_DATA_DIR=$${ALIGNLAB_DATA_DIR:-$(CURDIR)/../shared/data} $(VENV)/alignlab align-demo

cai-demo: setup
	ALIGNLAB_DATA_DIR=$${ALIGNLAB_DATA_DIR:-$(CURDIR)/../shared/data} $(VENV)/alignlab cai run --config examples/cai/cai-default.yaml

# serve → feedback through the API → export → DPO → evaluate → gate → lineage, on `default`.
loop-demo: setup
	ALIGNLAB_DATA_DIR=$${ALIGNLAB_DATA_DIR:-$(CURDIR)/../shared/data} $(VENV)/alignlab loop-demo --out-dir loop-demo

bench-train: setup
	ALIGNLAB_DATA_DIR=$${ALIGNLAB_DATA_DIR:-$(CURDIR)/../shared/data} $(VENV)/python benchmarks/training.py
