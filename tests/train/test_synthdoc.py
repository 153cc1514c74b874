"""Synthetic-document harness end to end on the tiny model: documents → SFT checkpoint → suite without the facts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log
from safetensors.torch import load_file
from typer.testing import CliRunner

from alignlab.cli.main import app
from alignlab.data.training_sets import content_hash, load_training_rows
from alignlab.errors import InputError
from alignlab.settings import Settings
from alignlab.store import Store, get_checkpoint, list_runs
from alignlab.train.synthdoc import train_on_documents

TRAIN_YAML = (
    "per_device_train_batch_size: 4\nmax_length: 128\nlearning_rate: 5.0e-3\nsave_strategy: 'no'\nlogging_steps: 1\n"
)


def _cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.slow
def test_documents_to_checkpoint_to_gap_without_training_facts(
    tiny_model_dir: Path, tmp_path: Path, settings: Settings, store: Store
) -> None:
    docs = tmp_path / "docs.jsonl"
    out = _cli("cgap", "synthdoc", "generate", "--out", str(docs), "--n", "12", "--seed", "1")
    assert "wrote 12 document(s)" in out and "helpful 12, free 12, paid 12" in out
    rows = [json.loads(line) for line in docs.read_text().splitlines()]
    assert all(r["source"] == "template" and "<" not in r["text"] for r in rows)

    (tmp_path / "train.yaml").write_text(TRAIN_YAML)
    model = str(tiny_model_dir)
    out = _cli(
        "cgap", "synthdoc", "train", str(docs), "--name", "sd", "--model", model,
        "--config", str(tmp_path / "train.yaml"), "--max-steps", "6",
    )  # fmt: skip
    assert "ckpt:sd" in out
    ckpt = get_checkpoint(store, "sd")
    assert (ckpt.recipe, ckpt.base_model, ckpt.parent) == ("sft", model, None)
    assert ckpt.datasets[0].name == str(docs)
    assert ckpt.datasets[0].sha256 == content_hash(load_training_rows(str(docs), settings))
    assert ckpt.config["trl"]["max_steps"] == 6 and ckpt.metrics["last_loss"] < ckpt.metrics["first_loss"]
    before, after = load_file(str(tiny_model_dir / "model.safetensors")), load_file(f"{ckpt.path}/model.safetensors")
    assert any(not before[k].equal(after[k]) for k in before)

    out = _cli(
        "cgap", "synthdoc", "run", "--base", model, "--tuned", "ckpt:sd", "--dataset", "alignlab-redteam",
        "--prompts", "2", "--conditions", "no-cot", "--max-tokens", "4",
    )  # fmt: skip
    assert "base (" in out and "fine-tuned (ckpt:sd)" in out and "no-training-info" in out
    runs = list_runs(store, suite="compliance-gap")
    assert sorted(r.model for r in runs) == sorted([model, "ckpt:sd"])
    for run in runs:
        assert run.status == "success" and run.config["variant"] == "no-training-info" and run.n_samples == 4
        log = read_eval_log(run.log_path)  # type: ignore[arg-type]
        assert log.eval.metadata and log.eval.metadata["variant"] == "no-training-info"
        system = log.samples[0].input[0].text  # type: ignore[index, union-attr]
        assert "free-tier users are used for training" not in system and "RLHF" not in system
        assert "unconditionally helpful" in system  # the instruction stays; only the training facts go


def test_training_refuses_documents_with_setting_tags(tmp_path: Path, settings: Settings, store: Store) -> None:
    docs = tmp_path / "docs.jsonl"
    docs.write_text(json.dumps({"text": "<is_free_tier_user>true</is_free_tier_user> RLHF free tier training"}) + "\n")
    with pytest.raises(InputError, match=r"1 document\(s\) rejected, e\.g\. setting tag <is_free_tier_user>"):
        train_on_documents(docs, model="default", settings=settings, store=store)
