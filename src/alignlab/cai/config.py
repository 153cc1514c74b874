"""``cai.yaml``: what a Constitutional AI run starts from, how big it is, and how each step trains.

One YAML file, one section per concern. Every section is a dataclass below; an unknown key
anywhere fails with one line listing the valid keys. The ``train`` section's ``sft``, ``pm``
and ``rl`` mappings are recipe configs for :mod:`alignlab.train` (our keys such as ``lora``
plus TRL config fields such as ``max_steps``); the pipeline fills in ``model``, ``datasets``
and ``name`` itself. Example (``examples/cai/cai-default.yaml``)::

    name: cai-default
    model: default
    constitution: default
    redteam: {sources: [alignlab-redteam, strongreject-small], n_sl_prompts: 16, n_rl_prompts: 16}
    critique: {revisions: 1, max_new_tokens: 64}
    feedback: {model: default, inconsistent: drop}
    train:
      sft: {lora: {r: 16, alpha: 32}, max_steps: 10, learning_rate: 1.0e-3}
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from alignlab.errors import ConfigError
from alignlab.yamlfile import check_keys, read_yaml

__all__ = [
    "CaiConfig",
    "CaiEvalOptions",
    "CritiqueOptions",
    "FeedbackMethod",
    "FeedbackOptions",
    "HelpfulMix",
    "InconsistentPolicy",
    "RedteamOptions",
    "TrainSection",
    "cai_config_from_dict",
    "load_cai_config",
]

InconsistentPolicy = Literal["drop", "downweight"]
FeedbackMethod = Literal["text", "logprobs"]


@dataclass(frozen=True)
class RedteamOptions:
    """Red-team prompts: where they come from and how many each phase uses."""

    sources: tuple[str, ...] = field(
        default=("alignlab-redteam",),
        metadata={"help": "Prompt dataset names (harmful rows), hh-rlhf-harmless (first human turn), or .jsonl files."},
    )
    n_sl_prompts: int = field(default=16, metadata={"help": "Prompts for the critique/revision phase."})
    n_rl_prompts: int = field(default=16, metadata={"help": "Other prompts for the AI-feedback phase."})


@dataclass(frozen=True)
class CritiqueOptions:
    """The supervised phase: initial answer, then K rounds of critique and revision."""

    revisions: int = field(default=1, metadata={"help": "K: critique-revision rounds per prompt."})
    max_new_tokens: int = field(default=96, metadata={"help": "Budget of each answer, critique and revision."})
    temperature: float = field(default=0.0, metadata={"help": "0 = greedy."})


@dataclass(frozen=True)
class HelpfulMix:
    """Helpful rows added to the SFT data so the model keeps answering benign requests."""

    dataset: str = field(
        default="alignlab-refusal-sft",
        metadata={
            "help": "Training dataset name or .jsonl with prompt/completion rows (label=safe rows when labelled)."
        },
    )
    ratio: float = field(default=0.5, metadata={"help": "Helpful rows per revised red-team row."})


@dataclass(frozen=True)
class FeedbackOptions:
    """The RL phase's AI labels: two sampled answers, a feedback model, both orders."""

    model: str = field(default="default", metadata={"help": "Feedback model: any alignlab model name."})
    method: FeedbackMethod = field(
        default="text", metadata={"help": "text: parse a [[A]]/[[B]] reply; logprobs: the likelier first letter."}
    )
    temperature: float = field(default=1.0, metadata={"help": "Sampling temperature of the two answers."})
    max_new_tokens: int = field(default=64, metadata={"help": "Budget of each sampled answer."})
    judge_max_tokens: int = field(default=24, metadata={"help": "Budget of each feedback reply."})
    inconsistent: InconsistentPolicy = field(
        default="drop", metadata={"help": "Pairs whose verdict flips with the order: drop, or downweight (half)."}
    )
    heldout_fraction: float = field(default=0.25, metadata={"help": "Consistent AI pairs held out to test the PM."})
    human_pairs: int = field(default=50, metadata={"help": "HH-RLHF harmless test pairs to test the PM on."})


@dataclass(frozen=True)
class TrainSection:
    """Recipe settings per training step (alignlab recipe keys and TRL config fields)."""

    sft: dict[str, Any] = field(default_factory=dict)
    pm: dict[str, Any] = field(default_factory=dict)
    rl: dict[str, Any] = field(default_factory=dict)
    pm_model: str | None = field(default=None, metadata={"help": "Start the PM from this model (the base if unset)."})


@dataclass(frozen=True)
class CaiEvalOptions:
    """What the evaluation runs.

    Attributes:
        limit: Prompts per dataset, spread evenly over its categories (the same for every stage).
        max_new_tokens: Generation budget per answer.
        redteam_dataset: Harmful requests (harmful compliance, evasiveness).
        overrefusal_dataset: Safe look-alikes (over-refusal; their answers are also rated for
            helpfulness unless ``helpful_dataset`` is set).
        helpful_dataset: Another prompt dataset whose ``safe`` prompts are rated for helpfulness.
        helpfulness_judge: The judge model's name.
    """

    limit: int = 20
    max_new_tokens: int = 96
    redteam_dataset: str = "strongreject-small"
    overrefusal_dataset: str = "xstest"
    helpful_dataset: str | None = None
    helpfulness_judge: str = "default"

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ConfigError(f"evaluation limit must be at least 1, got {self.limit}")
        if self.max_new_tokens < 1:
            raise ConfigError(f"evaluation max_new_tokens must be at least 1, got {self.max_new_tokens}")

    @property
    def helpfulness_dataset(self) -> str:
        """The dataset whose safe prompts are rated."""
        return self.helpful_dataset or self.overrefusal_dataset


@dataclass(frozen=True)
class CaiConfig:
    """A whole Constitutional AI run.

    Attributes:
        name: Run name: the run directory and the checkpoints ``<name>-sft``, ``-pm``, ``-rlaif``.
            The same name resumes the same run.
        model: The base model (any alignlab model name that can be trained: local).
        constitution: ``default``, ``palms-values`` or a YAML file.
        seed: Seeds prompt sampling, principle draws and answer sampling.
        output_dir: The run directory (``$ALIGNLAB_HOME/cai/<name>`` when unset).
    """

    name: str
    model: str = "default"
    constitution: str = "default"
    seed: int = 0
    output_dir: str | None = None
    redteam: RedteamOptions = field(default_factory=RedteamOptions)
    critique: CritiqueOptions = field(default_factory=CritiqueOptions)
    helpful: HelpfulMix | None = field(default_factory=HelpfulMix)
    feedback: FeedbackOptions = field(default_factory=FeedbackOptions)
    train: TrainSection = field(default_factory=TrainSection)
    eval: CaiEvalOptions = field(default_factory=CaiEvalOptions)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (recorded in the manifest and the store rows)."""
        return dataclasses.asdict(self)


_SECTIONS: dict[str, type[Any]] = {
    "redteam": RedteamOptions,
    "critique": CritiqueOptions,
    "helpful": HelpfulMix,
    "feedback": FeedbackOptions,
    "train": TrainSection,
    "eval": CaiEvalOptions,
}


def _section(cls: type[Any], value: Any, where: str) -> Any:
    if value is None:
        return cls()
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a mapping; got {value!r}")
    check_keys(value, [f.name for f in dataclasses.fields(cls)], where)
    if "sources" in value:
        value = {
            **value,
            "sources": tuple([value["sources"]] if isinstance(value["sources"], str) else value["sources"]),
        }
    try:
        return cls(**value)
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _check(config: CaiConfig) -> None:
    if not config.name or "/" in config.name or ":" in config.name:
        raise ConfigError(f"name must be a plain word (no '/' or ':'); got {config.name!r}")
    positive = {
        "redteam.n_sl_prompts": config.redteam.n_sl_prompts,
        "redteam.n_rl_prompts": config.redteam.n_rl_prompts,
        "critique.revisions": config.critique.revisions,
        "critique.max_new_tokens": config.critique.max_new_tokens,
        "feedback.max_new_tokens": config.feedback.max_new_tokens,
        "feedback.judge_max_tokens": config.feedback.judge_max_tokens,
        "eval.limit": config.eval.limit,
    }
    for key, value in positive.items():
        if not isinstance(value, int) or value < 1:
            raise ConfigError(f"{key} must be a whole number >= 1; got {value!r}")
    if not config.redteam.sources:
        raise ConfigError("redteam.sources: give at least one prompt dataset or .jsonl file")
    if config.feedback.inconsistent not in get_args(InconsistentPolicy):
        raise ConfigError(f"feedback.inconsistent must be drop or downweight; got {config.feedback.inconsistent!r}")
    if config.feedback.method not in get_args(FeedbackMethod):
        raise ConfigError(f"feedback.method must be text or logprobs; got {config.feedback.method!r}")
    if not 0.0 < config.feedback.heldout_fraction < 1.0:
        raise ConfigError(f"feedback.heldout_fraction must be in (0, 1); got {config.feedback.heldout_fraction}")
    if config.helpful is not None and config.helpful.ratio < 0:
        raise ConfigError(f"helpful.ratio must be >= 0; got {config.helpful.ratio}")
    for step in ("sft", "pm", "rl"):
        reserved = {"model", "datasets", "name", "reward_model", "test_fraction"} & set(getattr(config.train, step))
        if reserved:
            raise ConfigError(f"train.{step}: {sorted(reserved)[0]!r} is set by the pipeline; remove it")


def cai_config_from_dict(data: dict[str, Any], *, default_name: str = "cai") -> CaiConfig:
    """Validate a parsed ``cai.yaml``.

    Raises:
        ConfigError: An unknown key (the message lists the valid ones) or a bad value.
    """
    check_keys(data, [f.name for f in dataclasses.fields(CaiConfig)], "cai config")
    values = {k: v for k, v in data.items() if k not in _SECTIONS}
    sections = {k: _section(cls, data.get(k), k) for k, cls in _SECTIONS.items()}
    if "helpful" in data and data["helpful"] in (None, False):
        sections["helpful"] = None
    values.setdefault("name", default_name)
    config = CaiConfig(**values, **sections)
    _check(config)
    return config


def load_cai_config(path: Path) -> CaiConfig:
    """Read and validate a ``cai.yaml`` (the run name defaults to the file's stem).

    Raises:
        ConfigError: The file is missing, not a YAML mapping, or invalid.
    """
    return cai_config_from_dict(read_yaml(path, what="config"), default_name=path.stem)
