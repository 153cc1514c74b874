"""Training: SFT, reward model, DPO and online RL (RLOO) recipes over TRL, with lineage.

Each recipe is one file (:mod:`.sft`, :mod:`.reward`, :mod:`.dpo`, :mod:`.rl`) with one
function ``train_<recipe>(config, *, settings, store) -> TrainResult``. Recipes import TRL
(seconds), so they load on first use; the config reader stays light. ``ckpt:<name>`` model
names are resolved by :mod:`alignlab.models`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from alignlab.train.config import AlignmentEvalOptions, LoraOptions, RecipeConfig, config_from_dict, load_recipe_config

if TYPE_CHECKING:
    from alignlab.train.callbacks import AlignmentEvalCallback
    from alignlab.train.common import TrainResult
    from alignlab.train.demo import run_align_demo
    from alignlab.train.dpo import train_dpo
    from alignlab.train.recipes import run_recipe
    from alignlab.train.reward import pairwise_accuracy, train_reward
    from alignlab.train.rl import train_rl
    from alignlab.train.sft import train_sft
    from alignlab.train.synthdoc import train_on_documents

__all__ = [
    "AlignmentEvalCallback",
    "AlignmentEvalOptions",
    "LoraOptions",
    "RecipeConfig",
    "TrainResult",
    "config_from_dict",
    "load_recipe_config",
    "pairwise_accuracy",
    "run_align_demo",
    "run_recipe",
    "train_dpo",
    "train_on_documents",
    "train_reward",
    "train_rl",
    "train_sft",
]

_LAZY = {
    "AlignmentEvalCallback": "alignlab.train.callbacks",
    "TrainResult": "alignlab.train.common",
    "train_dpo": "alignlab.train.dpo",
    "run_recipe": "alignlab.train.recipes",
    "pairwise_accuracy": "alignlab.train.reward",
    "train_reward": "alignlab.train.reward",
    "train_rl": "alignlab.train.rl",
    "train_sft": "alignlab.train.sft",
    "run_align_demo": "alignlab.train.demo",
    "train_on_documents": "alignlab.train.synthdoc",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'alignlab.train' has no attribute {name!r}")
