"""Each recipe on the tiny random Llama: the loss falls, the weights change, the row is stored."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

from alignlab.data.training_sets import content_hash, load_training_rows
from alignlab.errors import ModelError
from alignlab.models import local_model_dir, resolve_model
from alignlab.settings import Settings
from alignlab.store import Store, checkpoint_lineage, get_checkpoint, list_checkpoints
from alignlab.train import config_from_dict
from alignlab.train.recipes import run_recipe

FAST = {"per_device_train_batch_size": 4, "logging_steps": 1, "learning_rate": 5e-3, "save_strategy": "no"}


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return load_file(str(path / "model.safetensors"))


def _changed(before: dict[str, torch.Tensor], after: dict[str, torch.Tensor]) -> list[str]:
    return [k for k in before if k in after and not torch.equal(before[k], after[k])]


def _train(recipe: str, model: str, data: Path, settings: Settings, store: Store, **extra: Any) -> Any:
    values: dict[str, Any] = {"model": model, "datasets": [str(data)], "max_steps": 8, **FAST}
    if recipe != "rl":
        values["max_length"] = 64
    config = config_from_dict(recipe, {**values, **extra})
    return run_recipe(config, settings=settings, store=store)


def test_sft_full_finetune(tiny_model_dir: Path, sft_file: Path, settings: Settings, store: Store) -> None:
    result = _train("sft", str(tiny_model_dir), sft_file, settings, store, name="sft-full")
    assert result.metrics["last_loss"] < result.metrics["first_loss"] - 0.3
    saved = Path(result.checkpoint.path)
    changed = _changed(_weights(tiny_model_dir), _weights(saved))
    assert any("layers.0.self_attn.q_proj" in k for k in changed)
    # lineage: the row says where the model came from and pins the data by hash
    row = get_checkpoint(store, "sft-full")
    assert (row.recipe, row.base_model, row.parent) == ("sft", str(tiny_model_dir), None)
    assert row.datasets[0].sha256 == content_hash(load_training_rows(str(sft_file), settings))
    assert row.config["trl"]["max_steps"] == 8 and row.wall_time_s > 0
    # and the checkpoint is a model name everywhere
    assert resolve_model("ckpt:sft-full").inspect_name == "alignlab/ckpt:sft-full"
    assert local_model_dir("ckpt:sft-full") == saved


def test_sft_lora_is_merged_and_chains_lineage(
    tiny_model_dir: Path, sft_file: Path, settings: Settings, store: Store
) -> None:
    _train("sft", str(tiny_model_dir), sft_file, settings, store, name="parent", max_steps=1)
    result = _train(
        "sft", "ckpt:parent", sft_file, settings, store, name="child", lora={"r": 8, "alpha": 32}, learning_rate=1e-2
    )
    assert result.metrics["last_loss"] < result.metrics["first_loss"] - 0.1
    after = _weights(Path(result.checkpoint.path))
    assert not any("lora" in k for k in after), "adapters must be merged into a plain model"
    assert _changed(_weights(Path(get_checkpoint(store, "parent").path)), after)
    assert [c.name for c in checkpoint_lineage(store, "child")] == ["child", "parent"]
    assert get_checkpoint(store, "child").base_model == str(tiny_model_dir)
    assert {c.name for c in list_checkpoints(store)} == {"parent", "child"}


def test_a_checkpoint_whose_directory_is_gone_is_one_clear_error(
    tiny_model_dir: Path, sft_file: Path, settings: Settings, store: Store
) -> None:
    """Training from ``ckpt:NAME`` resolves the name through the models layer, which checks the directory."""
    _train("sft", str(tiny_model_dir), sft_file, settings, store, name="gone", max_steps=1)
    shutil.rmtree(get_checkpoint(store, "gone").path)
    with pytest.raises(ModelError, match=r"checkpoint 'gone' is recorded but its model directory .* is missing"):
        _train("sft", "ckpt:gone", sft_file, settings, store, name="orphan", max_steps=1)


def test_reward_model_beats_chance_on_separable_pairs(
    tiny_model_dir: Path, preference_file: Path, settings: Settings, store: Store
) -> None:
    result = _train(
        "reward", str(tiny_model_dir), preference_file, settings, store, name="rm", max_steps=16, test_fraction=0.25
    )
    acc = result.metrics["pairwise_accuracy"]
    assert acc["n"] == 8  # 25% of 32 pairs held out
    assert acc["ci_low"] > 0.5, acc  # Wilson lower bound above chance
    assert result.metrics["last_loss"] < result.metrics["first_loss"]
    from transformers import AutoModelForSequenceClassification

    reloaded = AutoModelForSequenceClassification.from_pretrained(result.checkpoint.path)
    assert reloaded.config.num_labels == 1


def test_dpo_lora(tiny_model_dir: Path, preference_file: Path, settings: Settings, store: Store) -> None:
    result = _train("dpo", str(tiny_model_dir), preference_file, settings, store, name="dpo", lora={"r": 8})
    assert result.metrics["first_loss"] == pytest.approx(0.6931, abs=1e-3)  # log 2: policy == reference
    assert result.metrics["last_loss"] < 0.65
    assert _changed(_weights(tiny_model_dir), _weights(Path(result.checkpoint.path)))


def test_rl_against_trained_reward_model(
    tiny_model_dir: Path, preference_file: Path, settings: Settings, store: Store
) -> None:
    _train("reward", str(tiny_model_dir), preference_file, settings, store, name="rm-for-rl", test_fraction=0)
    result = _train(
        "rl",
        str(tiny_model_dir),
        preference_file,
        settings,
        store,
        name="rloo",
        reward_model="ckpt:rm-for-rl",
        max_completion_length=12,
    )
    assert "first_reward" in result.metrics and "last_reward" in result.metrics
    assert _changed(_weights(tiny_model_dir), _weights(Path(result.checkpoint.path)))
    assert get_checkpoint(store, "rloo").config["reward_model"] == "ckpt:rm-for-rl"


def test_checkpoints_table_migration(store: Store) -> None:
    from sqlalchemy import inspect

    columns = {c["name"] for c in inspect(store.engine).get_columns("checkpoints")}
    assert {"name", "recipe", "base_model", "parent", "datasets", "config", "metrics", "wall_time_s", "path"} <= columns


def test_scoring_keeps_the_end_of_long_dialogues(tiny_model_dir: Path) -> None:
    # Pairs differ only in the final answer; cutting from the right would score both the same.
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from alignlab.train.reward import score_texts

    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir, num_labels=1)
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    model.config.pad_token_id = tok.pad_token_id
    prefix = "The user asked how to bake a cake safely. " * 20
    a, b = score_texts(model, tok, [prefix + "The model asked.", prefix + "The cat bomb."], max_length=32)
    assert a != b
    assert tok.truncation_side == "right"  # restored
