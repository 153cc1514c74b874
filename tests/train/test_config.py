"""Recipe configuration: YAML in, one-line errors out."""

from __future__ import annotations

from pathlib import Path

import pytest

from alignlab.errors import ConfigError, InputError
from alignlab.settings import Settings
from alignlab.store import Store
from alignlab.train import config_from_dict, load_recipe_config
from alignlab.train.common import SFT_FORMATS, cpu_safe_defaults, prepare_run, trl_arguments
from alignlab.train.config import LoraOptions


def test_yaml_splits_our_fields_from_trl_fields(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("model: default\ndatasets: [alignlab-palms]\nlora: {r: 4}\nmax_steps: 3\nlearning_rate: 1.0e-4\n")
    cfg = load_recipe_config("sft", path)
    assert cfg.lora == LoraOptions(r=4)
    assert cfg.trl == {"max_steps": 3, "learning_rate": 1e-4}
    assert cfg.datasets == ("alignlab-palms",)


def test_unknown_key_names_it_and_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as err:
        config_from_dict("dpo", {"datasets": ["hh-rlhf-harmless"], "max_prompt_length": 64})
    message = str(err.value)
    assert "'max_prompt_length'" in message and "\n" not in message
    assert "datasets" in message and "beta" in message and "max_length" in message


def test_unknown_nested_key() -> None:
    with pytest.raises(ConfigError, match=r"unknown lora key 'rank'; valid keys: r, alpha"):
        config_from_dict("sft", {"datasets": ["alignlab-palms"], "lora": {"rank": 8}})


def test_rl_needs_a_reward_model_and_datasets_are_required() -> None:
    with pytest.raises(ConfigError, match="reward_model"):
        config_from_dict("rl", {"datasets": ["hh-rlhf-harmless"]})
    with pytest.raises(ConfigError, match="datasets"):
        config_from_dict("sft", {"model": "default"})


def test_cpu_safe_defaults_build_a_trl_config(tiny_model_dir: Path, settings: Settings, store: Store) -> None:
    import torch
    from trl import SFTConfig

    cfg = config_from_dict("sft", {"model": str(tiny_model_dir), "datasets": ["alignlab-palms"], "max_steps": 1})
    run = prepare_run(cfg, settings=settings, store=store, formats=SFT_FORMATS)
    args = trl_arguments(run, SFTConfig)
    assert args.activation_checkpointing is False and args.max_steps == 1
    if not torch.cuda.is_available():
        assert cpu_safe_defaults()["use_cpu"] is True and args.bf16 is False
    bad = config_from_dict("sft", {"model": str(tiny_model_dir), "datasets": ["alignlab-palms"], "optim": "nope"})
    with pytest.raises(ConfigError, match="SFTConfig"):
        trl_arguments(prepare_run(bad, settings=settings, store=store, formats=SFT_FORMATS), SFTConfig)


def test_missing_columns_are_named(tmp_path: Path, tiny_model_dir: Path, settings: Settings, store: Store) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text('{"prompt": "hi", "answer": "hello"}\n')
    cfg = config_from_dict("dpo", {"model": str(tiny_model_dir), "datasets": [str(data)]})
    from alignlab.train.common import PREFERENCE_COLUMNS

    with pytest.raises(InputError, match=r"needs column\(s\) prompt\+chosen\+rejected; found answer, prompt"):
        prepare_run(cfg, settings=settings, store=store, formats=PREFERENCE_COLUMNS)


def test_resume_without_a_checkpoint_fails(tiny_model_dir: Path, settings: Settings, store: Store) -> None:
    cfg = config_from_dict("sft", {"model": str(tiny_model_dir), "datasets": ["alignlab-palms"], "resume": True})
    with pytest.raises(InputError, match="no trainer checkpoint"):
        prepare_run(cfg, settings=settings, store=store, formats=SFT_FORMATS)


def test_model_too_big_for_memory_is_refused_before_loading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from alignlab.errors import ModelError
    from alignlab.train import common

    (tmp_path / "model.safetensors").write_bytes(b"\0" * 1000)
    monkeypatch.setattr(common, "_available_bytes", lambda: 3000)
    with pytest.raises(ModelError, match="try lora"):
        common.check_memory(str(tmp_path), lora=False)
    common.check_memory(str(tmp_path), lora=True)  # 1.3 kB fits


@pytest.mark.parametrize("path", sorted(Path(__file__).resolve().parents[2].glob("examples/train/*.yaml")))
def test_example_configs_are_valid(path: Path) -> None:
    cfg = load_recipe_config(path.name.split("-")[0], path)
    assert cfg.name and cfg.datasets
