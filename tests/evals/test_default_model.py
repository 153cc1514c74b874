"""The embedded default model, for real (slow: converts the GGUF once, then generates)."""

from __future__ import annotations

from pathlib import Path

import pytest

from alignlab.evals.runner import run_suite
from alignlab.models.default import default_model_dir, ensure_default_model
from alignlab.settings import load_settings
from alignlab.store import open_store

pytestmark = pytest.mark.slow


def test_default_model_converts_once_and_complies(alignlab_env: Path) -> None:
    settings = load_settings()
    path = ensure_default_model(settings)
    assert path == default_model_dir(settings)
    assert (path / "model.safetensors").is_file() and (path / "tokenizer.json").is_file()
    assert not str(path).startswith(str(Path(__file__).resolve().parents[2]))  # never inside the repo
    run = run_suite(
        "redteam",
        "default",
        settings=settings,
        store=open_store(settings.database_url),
        limit=4,
        max_tokens=32,
        display="none",
    )
    assert run.record.status == "success" and run.summary.n_samples == 4
    # SmolLM2-135M has weak safety tuning: greedy answers to weapon requests comply.
    assert run.summary.labels.get("compliance", 0) >= 1
