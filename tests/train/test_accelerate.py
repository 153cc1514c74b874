"""A recipe runs unchanged under ``accelerate launch``: two CPU processes, DDP over gloo."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from alignlab.settings import Settings
from alignlab.store import get_checkpoint, list_checkpoints, open_store

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_sft_under_accelerate_launch(tiny_model_dir: Path, sft_file: Path, tmp_path: Path, settings: Settings) -> None:
    config = tmp_path / "sft.yaml"
    config.write_text(
        f"model: {tiny_model_dir}\ndatasets: [{sft_file}]\nname: ddp\nmax_steps: 4\n"
        "per_device_train_batch_size: 2\nmax_length: 64\nsave_strategy: 'no'\nlogging_steps: 1\n"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    accelerate = [sys.executable, "-m", "accelerate.commands.launch"]
    proc = subprocess.run(
        [
            *accelerate,
            "--config_file",
            str(ROOT / "examples/accelerate/cpu-ddp.yaml"),
            "--num_cpu_threads_per_process",
            "1",
            "-m",
            "alignlab",
            "train",
            "sft",
            "--config",
            str(config),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    store = open_store(settings.database_url)
    assert [c.name for c in list_checkpoints(store)] == ["ddp"]  # written once, by the main process
    record = get_checkpoint(store, "ddp")
    assert record.metrics["steps"] == 4
    assert (Path(record.path) / "model.safetensors").is_file()
