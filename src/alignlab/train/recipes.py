"""Run a recipe by name: the one dispatch point the CLI and the demo use."""

from __future__ import annotations

from collections.abc import Callable

from alignlab.settings import Settings
from alignlab.store import Store
from alignlab.train.common import TrainResult
from alignlab.train.config import RecipeConfig

__all__ = ["run_recipe"]


def run_recipe(config: RecipeConfig, *, settings: Settings, store: Store) -> TrainResult:
    """Train with the recipe named in ``config.recipe`` (importing only that recipe's trainer)."""
    if config.recipe == "sft":
        from alignlab.train.sft import train_sft as train
    elif config.recipe == "reward":
        from alignlab.train.reward import train_reward as train
    elif config.recipe == "dpo":
        from alignlab.train.dpo import train_dpo as train
    else:
        from alignlab.train.rl import train_rl as train
    recipe: Callable[..., TrainResult] = train
    return recipe(config, settings=settings, store=store)
