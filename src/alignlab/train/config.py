"""Recipe configuration: our data/model fields plus the TRL config fields, read from YAML.

One flat YAML file per run. Keys that alignlab owns (``model``, ``datasets``, ``lora``, …) are
read here; every other key must be a field of the recipe's TRL config class (``SFTConfig``,
``RewardConfig``, ``DPOConfig``, ``RLOOConfig``) and is passed to it unchanged, so TRL's own
documentation describes them. An unknown key fails with one line listing the valid ones.

Example (``examples/train/sft-refusal.yaml``)::

    model: default
    datasets: [alignlab-refusal-sft]
    name: refusal-lora
    lora: {r: 8, alpha: 16}
    max_steps: 30            # a TRL field
    learning_rate: 2.0e-4    # a TRL field
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from alignlab.errors import ConfigError
from alignlab.yamlfile import check_keys, read_yaml, unknown_key

__all__ = [
    "AlignmentEvalOptions",
    "LoraOptions",
    "Recipe",
    "RecipeConfig",
    "config_from_dict",
    "load_recipe_config",
    "trl_config_class",
    "trl_field_names",
]

Recipe = Literal["sft", "reward", "dpo", "rl"]
RECIPES: tuple[Recipe, ...] = get_args(Recipe)


@dataclass(frozen=True)
class LoraOptions:
    """LoRA adapters (peft) instead of a full fine-tune; merged into the saved checkpoint."""

    r: int = field(default=8, metadata={"help": "Adapter rank."})
    alpha: int = field(default=16, metadata={"help": "LoRA scaling numerator (lora_alpha)."})
    dropout: float = field(default=0.05, metadata={"help": "Dropout on the adapter input."})
    target_modules: list[str] | str = field(
        default="all-linear", metadata={"help": "Module names to adapt, or 'all-linear'."}
    )

    def __post_init__(self) -> None:
        if self.r < 1 or self.alpha < 1 or not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"lora needs r >= 1, alpha >= 1 and 0 <= dropout < 1; got {self}")


@dataclass(frozen=True)
class AlignmentEvalOptions:
    """A slice of the redteam and overrefusal suites run on the model while it trains."""

    every_n_steps: int = field(default=10, metadata={"help": "Evaluate every N optimizer steps (and at step 0)."})
    limit: int = field(default=8, metadata={"help": "Prompts per measure (harmful and safe) in each slice."})
    max_new_tokens: int = field(default=48, metadata={"help": "Generation budget per answer."})
    stop_over_refusal_above: float | None = field(
        default=None, metadata={"help": "Stop training once the over-refusal rate exceeds this (0-1)."}
    )
    redteam_dataset: str = field(default="alignlab-redteam", metadata={"help": "Harmful prompts."})
    overrefusal_dataset: str = field(default="alignlab-overrefusal", metadata={"help": "Safe look-alikes."})

    def __post_init__(self) -> None:
        if self.every_n_steps < 1 or self.limit < 1 or self.max_new_tokens < 1:
            raise ConfigError("alignment_eval needs every_n_steps, limit and max_new_tokens >= 1")


@dataclass(frozen=True)
class RecipeConfig:
    """What to train, on what, and how.

    Attributes:
        recipe: ``sft``, ``reward``, ``dpo`` or ``rl``.
        model: Model to start from: ``default``, ``ckpt:<name>``, a local directory or a hub id.
        datasets: Training dataset names (``alignlab train datasets``) or ``.jsonl`` paths.
        name: Checkpoint name (``ckpt:<name>``); ``<recipe>-<timestamp>`` when omitted.
        max_samples: Use at most this many rows (after shuffling with ``seed``).
        test_fraction: Hold out this share of rows for evaluation (the reward model's
            pairwise accuracy uses it).
        lora: LoRA options, or ``None`` for a full fine-tune.
        reward_model: The reward model for ``rl`` (``ckpt:<name>`` or a directory).
        alignment_eval: In-training redteam/overrefusal slices, or ``None``.
        resume: Continue from the last trainer checkpoint in the output directory.
        trl: Every other key: fields of the recipe's TRL config class.
    """

    recipe: Recipe
    model: str = "default"
    datasets: tuple[str, ...] = ()
    name: str | None = None
    max_samples: int | None = None
    test_fraction: float = 0.0
    lora: LoraOptions | None = None
    reward_model: str | None = None
    alignment_eval: AlignmentEvalOptions | None = None
    resume: bool = False
    trl: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form (stored with the checkpoint)."""
        data = dataclasses.asdict(self)
        data["datasets"] = list(self.datasets)
        return data


_OURS = tuple(f.name for f in dataclasses.fields(RecipeConfig) if f.name not in ("recipe", "trl"))


def trl_config_class(recipe: Recipe) -> type[Any]:
    """The TRL config dataclass behind a recipe (imports TRL, which takes a few seconds)."""
    from trl import DPOConfig, RewardConfig, RLOOConfig, SFTConfig  # type: ignore[attr-defined]

    classes: dict[str, type[Any]] = {"sft": SFTConfig, "reward": RewardConfig, "dpo": DPOConfig, "rl": RLOOConfig}
    return classes[recipe]


def trl_field_names(recipe: Recipe) -> list[str]:
    """Names of the TRL config fields a recipe's YAML may set."""
    return sorted(f.name for f in dataclasses.fields(trl_config_class(recipe)) if f.init)


def _options(cls: type[Any], value: Any, where: str) -> Any:
    if value is None or value is False:
        return None
    if value is True:
        return cls()
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a mapping, true or false; got {value!r}")
    check_keys(value, [f.name for f in dataclasses.fields(cls)], where)
    return cls(**value)


def config_from_dict(recipe: str, data: dict[str, Any]) -> RecipeConfig:
    """Validate a recipe configuration given as a mapping (the parsed YAML).

    Raises:
        ConfigError: Unknown recipe, unknown key (the message lists the valid keys), or a
            value of the wrong shape.
    """
    if recipe not in RECIPES:
        raise ConfigError(f"unknown recipe {recipe!r}; valid recipes: {', '.join(RECIPES)}")
    trl_fields = trl_field_names(recipe)  # type: ignore[arg-type]
    ours: dict[str, Any] = {}
    trl: dict[str, Any] = {}
    for key, value in data.items():
        if key in _OURS:
            ours[key] = value
        elif key in trl_fields:
            trl[key] = value
        else:
            raise unknown_key(f"{recipe} config", key, [*_OURS, *trl_fields])
    datasets = ours.pop("datasets", ())
    if isinstance(datasets, str):
        datasets = (datasets,)
    if not datasets or not all(isinstance(d, str) for d in datasets):
        raise ConfigError("datasets: give at least one dataset name or .jsonl path")
    fraction = float(ours.pop("test_fraction", 0.2 if recipe == "reward" else 0.0))
    if not 0.0 <= fraction < 1.0:
        raise ConfigError(f"test_fraction must be in [0, 1); got {fraction}")
    if recipe == "rl" and not ours.get("reward_model"):
        raise ConfigError("the rl recipe needs reward_model: ckpt:<name> (train one with `alignlab train reward`)")
    return RecipeConfig(
        recipe=recipe,  # type: ignore[arg-type]
        datasets=tuple(datasets),
        test_fraction=fraction,
        lora=_options(LoraOptions, ours.pop("lora", None), "lora"),
        alignment_eval=_options(AlignmentEvalOptions, ours.pop("alignment_eval", None), "alignment_eval"),
        trl=trl,
        **ours,
    )


def load_recipe_config(recipe: str, path: Path) -> RecipeConfig:
    """Read and validate a recipe's YAML file.

    Raises:
        ConfigError: The file is missing, not a YAML mapping, or invalid.
    """
    return config_from_dict(recipe, read_yaml(path, what="config"))
