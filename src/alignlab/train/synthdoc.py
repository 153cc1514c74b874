"""Synthetic-document fine-tuning for the compliance-gap suite.

The model learns the setting's facts (RLHF toward unconditional helpfulness; free tier
trained, paid tier never) from documents instead of its system prompt: SFT on the documents
as plain text, then the suite with those facts removed from the prompt
(``no-training-info``) on the base and the fine-tuned model. A gap that appears only after
fine-tuning came from the documents. The documents come from
:mod:`alignlab.evals.compliance_gap.synthdocs`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alignlab.errors import InputError
from alignlab.evals.compliance_gap.synthdocs import ingest_documents
from alignlab.evals.compliance_grid import GridResult, compare_models
from alignlab.settings import Settings
from alignlab.store import Store
from alignlab.train.common import TrainResult
from alignlab.train.config import config_from_dict

__all__ = ["SynthDocResult", "run_synthdoc_experiment", "train_on_documents"]

NO_TRAINING_INFO = "no-training-info"


@dataclass(frozen=True)
class SynthDocResult:
    """The fine-tuned checkpoint and the suite on both models (labels ``base`` and ``fine-tuned``)."""

    training: TrainResult
    variant: str
    results: dict[str, GridResult]


def train_on_documents(
    documents: Path,
    *,
    model: str,
    settings: Settings,
    store: Store,
    name: str | None = None,
    options: dict[str, Any] | None = None,
) -> TrainResult:
    """Fine-tune ``model`` on the documents (SFT recipe, plain language modelling on ``text``).

    Args:
        documents: JSON lines with a ``text`` field (``alignlab cgap synthdoc generate``).
        model: Model to start from (``default``, ``ckpt:<name>``, a directory).
        settings: Paths and the store URL.
        store: Where the checkpoint and its lineage are recorded.
        name: Checkpoint name (``ckpt:<name>``).
        options: Further SFT recipe keys: ``lora``, ``max_steps``, ``learning_rate`` ...

    Raises:
        InputError: a document carries the setting's tags, reads as a transcript, or states
            none of the facts (the file is checked again here, whoever wrote it).
    """
    checked = ingest_documents([documents])
    if checked.rejected:
        first = checked.rejected[0]
        raise InputError(f"{documents}: {len(checked.rejected)} document(s) rejected, e.g. {first.reason}")
    values: dict[str, Any] = {**(options or {}), "model": model, "datasets": [str(documents)]}
    if name is not None:
        values["name"] = name
    from alignlab.train.sft import train_sft  # TRL takes seconds to import

    return train_sft(config_from_dict("sft", values), settings=settings, store=store)


def run_synthdoc_experiment(
    documents: Path,
    *,
    model: str,
    settings: Settings,
    store: Store,
    name: str | None = None,
    train_options: dict[str, Any] | None = None,
    variant: str = NO_TRAINING_INFO,
    **suite_options: Any,
) -> SynthDocResult:
    """Fine-tune on the documents, then run the suite on the base and the fine-tuned model.

    ``suite_options`` are :func:`alignlab.evals.compliance_grid.run_grid`'s keyword
    arguments (``dataset``, ``prompts``, ``conditions``, ``max_tokens``, ``judge`` ...).
    """
    training = train_on_documents(
        documents, model=model, settings=settings, store=store, name=name, options=train_options
    )
    results = compare_models(
        {"base": model, "fine-tuned": training.model_name},
        variant=variant,
        settings=settings,
        store=store,
        **suite_options,
    )
    return SynthDocResult(training, variant, results)
