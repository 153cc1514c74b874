"""Checkpoints in the store: record one, look it up by name, list them, walk its lineage."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal
from uuid import uuid4

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from alignlab.errors import InputError
from alignlab.store.checkpoint_tables import CheckpointRow
from alignlab.store.db import Store
from alignlab.store.lineage_tables import CheckpointFeedbackRow

__all__ = [
    "CheckpointRecord",
    "DatasetRef",
    "FeedbackLink",
    "checkpoint_exists",
    "checkpoint_lineage",
    "get_checkpoint",
    "list_checkpoints",
    "record_checkpoint",
]


class DatasetRef(BaseModel):
    """A dataset a checkpoint was trained on, pinned by the hash of the rows actually used."""

    model_config = ConfigDict(frozen=True)

    name: str
    sha256: str
    n_rows: int
    export_id: str | None = None
    """The feedback export this file came from (``export:<id>``), when it is one."""


class FeedbackLink(BaseModel):
    """Feedback events behind a checkpoint's rows of one dataset and split.

    Attributes:
        feedback_id: The feedback event (a thumbs, score, pairwise vote, flag or implicit event).
        dataset: The dataset name as the config gave it.
        split: ``train`` (the model learned from it) or ``test`` (held out, only measured).
        export_id: The feedback export the rows came from, if known.
        n_rows: How many of the rows this event is behind.
    """

    model_config = ConfigDict(frozen=True)

    feedback_id: str
    dataset: str
    split: Literal["train", "test"]
    export_id: str | None = None
    n_rows: int = 1


class CheckpointRecord(BaseModel):
    """One trained checkpoint as stored.

    Attributes:
        id: 32 hex characters.
        name: Unique; ``ckpt:<name>`` addresses it as a model.
        recipe: ``sft``, ``reward``, ``dpo`` or ``rl``.
        base_model: The model at the root of the lineage (e.g. ``default``).
        parent: The checkpoint this one was trained from, or ``None`` for a base model.
        datasets: Training datasets with content hashes.
        config: The full recipe configuration (our fields and the TRL fields).
        metrics: Final training metrics (loss, accuracy, in-training alignment rates).
        wall_time_s: Training wall time.
        path: The saved Hugging Face model directory.
        created_at: When it was recorded (UTC).
    """

    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: str
    name: str
    recipe: str
    base_model: str
    parent: str | None
    datasets: list[DatasetRef]
    config: dict[str, Any]
    metrics: dict[str, Any]
    wall_time_s: float
    path: str
    created_at: datetime


def record_checkpoint(
    store: Store,
    *,
    name: str,
    recipe: str,
    base_model: str,
    parent: str | None,
    datasets: list[DatasetRef],
    config: dict[str, Any],
    metrics: dict[str, Any],
    wall_time_s: float,
    path: str,
    feedback: list[FeedbackLink] | None = None,
) -> CheckpointRecord:
    """Store a finished checkpoint and the feedback events its training rows came from.

    Raises:
        InputError: A checkpoint with this name already exists.
    """
    row = CheckpointRow(
        id=uuid4().hex,
        name=name,
        recipe=recipe,
        base_model=base_model,
        parent=parent,
        datasets=[d.model_dump() for d in datasets],
        config=dict(config),
        metrics=dict(metrics),
        wall_time_s=wall_time_s,
        path=path,
        created_at=datetime.now(UTC),
    )
    try:
        with store.session() as session, session.begin():
            session.add(row)
            session.flush()
            session.add_all(CheckpointFeedbackRow(checkpoint_id=row.id, **link.model_dump()) for link in feedback or [])
            session.flush()
            return CheckpointRecord.model_validate(row)
    except IntegrityError:
        raise InputError(f"a checkpoint named {name!r} already exists; choose another name") from None


def checkpoint_exists(store: Store, name: str) -> bool:
    """Whether a checkpoint called ``name`` is recorded."""
    with store.session() as session:
        return session.scalar(select(CheckpointRow.id).where(CheckpointRow.name == name)) is not None


def get_checkpoint(store: Store, name: str) -> CheckpointRecord:
    """Return the checkpoint called ``name``.

    Raises:
        InputError: No checkpoint has this name.
    """
    with store.session() as session:
        row = session.scalar(select(CheckpointRow).where(CheckpointRow.name == name))
        if row is None:
            raise InputError(f"no checkpoint named {name!r}; `alignlab checkpoints` lists them")
        return CheckpointRecord.model_validate(row)


def list_checkpoints(store: Store, *, recipe: str | None = None, limit: int = 50) -> list[CheckpointRecord]:
    """Up to ``limit`` checkpoints, newest first, optionally of one recipe."""
    query = select(CheckpointRow).order_by(CheckpointRow.created_at.desc(), CheckpointRow.id.desc()).limit(limit)
    if recipe is not None:
        query = query.where(CheckpointRow.recipe == recipe)
    with store.session() as session:
        return [CheckpointRecord.model_validate(row) for row in session.scalars(query)]


def checkpoint_lineage(store: Store, name: str) -> list[CheckpointRecord]:
    """The checkpoint and its ancestors, newest first (stops at the base model)."""
    chain: list[CheckpointRecord] = []
    current: str | None = name
    while current is not None and all(c.name != current for c in chain):
        record = get_checkpoint(store, current)
        chain.append(record)
        current = record.parent
    return chain
