"""Interrupted training resumes from the last trainer checkpoint; the CLI adapters."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest
from transformers import TrainerCallback
from typer.testing import CliRunner

from alignlab.cli.main import app
from alignlab.settings import Settings
from alignlab.store import Store, checkpoint_exists
from alignlab.train import config_from_dict, sft
from alignlab.train.recipes import run_recipe


class _Crash(TrainerCallback):  # type: ignore[misc]
    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.global_step == 5:
            raise RuntimeError("power cut")


class _Count(TrainerCallback):  # type: ignore[misc]
    steps: ClassVar[list[int]] = []

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        _Count.steps.append(state.global_step)


def test_interrupted_run_resumes(
    tiny_model_dir: Path, sft_file: Path, settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = {
        "model": str(tiny_model_dir),
        "datasets": [str(sft_file)],
        "name": "resumable",
        "max_steps": 8,
        "per_device_train_batch_size": 4,
        "max_length": 64,
        "save_steps": 2,
    }
    original = sft.SFTTrainer

    def crashing(*args: Any, **kwargs: Any) -> Any:
        return original(*args, **{**kwargs, "callbacks": [*(kwargs["callbacks"] or []), _Crash()]})

    monkeypatch.setattr(sft, "SFTTrainer", crashing)
    with pytest.raises(RuntimeError, match="power cut"):
        run_recipe(config_from_dict("sft", values), settings=settings, store=store)
    assert not checkpoint_exists(store, "resumable")

    def counting(*args: Any, **kwargs: Any) -> Any:
        return original(*args, **{**kwargs, "callbacks": [*(kwargs["callbacks"] or []), _Count()]})

    monkeypatch.setattr(sft, "SFTTrainer", counting)
    result = run_recipe(config_from_dict("sft", {**values, "resume": True}), settings=settings, store=store)
    assert _Count.steps == [5, 6, 7, 8]  # continued after checkpoint-4, did not start over
    assert result.metrics["steps"] == 8 and checkpoint_exists(store, "resumable")


def test_cli_train_and_checkpoints(
    tiny_model_dir: Path, sft_file: Path, tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alignlab.cli import train as cli_train

    monkeypatch.setattr(cli_train.console, "width", 300)
    config = tmp_path / "sft.yaml"
    config.write_text(
        f"model: {tiny_model_dir}\ndatasets: [{sft_file}]\nname: from-cli\nmax_steps: 2\n"
        "per_device_train_batch_size: 4\nmax_length: 64\nsave_strategy: 'no'\n"
    )
    runner = CliRunner()
    out = runner.invoke(app, ["train", "sft", "--config", str(config)])
    assert out.exit_code == 0, out.output
    assert "ckpt:from-cli" in out.output
    listing = runner.invoke(app, ["checkpoints"])
    assert listing.exit_code == 0 and "ckpt:from-cli" in listing.output and "sft" in listing.output
    shown = runner.invoke(app, ["checkpoints", "from-cli"])
    assert f"ckpt:from-cli <- {tiny_model_dir}" in shown.output.replace("\n", "")
    config.write_text("datasets: [alignlab-palms]\nwarmup: 3\n")
    bad = runner.invoke(app, ["train", "sft", "--config", str(config)])
    assert bad.exit_code != 0 and "unknown sft config key 'warmup'" in str(bad.exception)
