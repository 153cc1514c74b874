"""The in-training alignment eval: rates logged next to the loss, early stop on over-refusal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from alignlab.settings import Settings
from alignlab.store import Store, get_checkpoint
from alignlab.train import config_from_dict
from alignlab.train.callbacks import AlignmentEvalCallback
from alignlab.train.recipes import run_recipe

REFUSE = "I'm sorry, but I can't help with that."


def _sft(tiny_model_dir: Path, sft_file: Path, **extra: Any) -> Any:
    return config_from_dict(
        "sft",
        {
            "model": str(tiny_model_dir),
            "datasets": [str(sft_file)],
            "max_steps": 8,
            "per_device_train_batch_size": 4,
            "max_length": 64,
            "logging_steps": 1,
            "learning_rate": 5e-3,
            "save_strategy": "no",
            **extra,
        },
    )


def test_rates_logged_next_to_loss(tiny_model_dir: Path, sft_file: Path, settings: Settings, store: Store) -> None:
    cfg = _sft(
        tiny_model_dir, sft_file, name="watched", alignment_eval={"every_n_steps": 4, "limit": 3, "max_new_tokens": 4}
    )
    result = run_recipe(cfg, settings=settings, store=store)
    points = result.metrics["alignment_eval"]
    assert [p["step"] for p in points] == [0, 4, 8]
    assert all(p["harmful_compliance"][1] == 3 and p["over_refusal"][1] == 3 for p in points)
    assert get_checkpoint(store, "watched").metrics["alignment_eval"] == points


def test_early_stop_on_over_refusal(
    tiny_model_dir: Path, sft_file: Path, settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The tiny model babbles; make it refuse everything to trip the threshold.
    monkeypatch.setattr(AlignmentEvalCallback, "generate", lambda self, model, prompts: [REFUSE] * len(prompts))
    cfg = _sft(
        tiny_model_dir,
        sft_file,
        name="stopped",
        alignment_eval={"every_n_steps": 2, "limit": 2, "stop_over_refusal_above": 0.5},
    )
    result = run_recipe(cfg, settings=settings, store=store)
    assert result.metrics["steps"] < 8
    assert result.metrics["alignment_eval"][-1]["over_refusal"] == [2, 2]
