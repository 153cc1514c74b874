"""Evaluation runs in the store: start, finish, look up, list."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal
from uuid import uuid4

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from alignlab.errors import InputError
from alignlab.store.db import Store
from alignlab.store.tables import RunRow

__all__ = [
    "FinishStatus",
    "RunRecord",
    "RunStatus",
    "finish_run",
    "get_run",
    "list_runs",
    "start_run",
]

RunStatus = Literal["started", "success", "cancelled", "error"]
FinishStatus = Literal["success", "cancelled", "error"]


class RunRecord(BaseModel):
    """One evaluation run as stored.

    Attributes:
        id: 32 hex characters (a UUID4); any unique prefix finds it.
        suite: The suite that ran.
        model: The model evaluated.
        dataset: The dataset the samples came from.
        status: ``started`` until :func:`finish_run`.
        started_at: When the run started (UTC).
        finished_at: When it finished (UTC), or ``None`` while running.
        n_samples: Samples scored.
        seed: Random seed, if any.
        sample_limit: Cap on the number of samples, if any.
        log_path: Where the Inspect eval log is.
        metrics: Metric name to value (JSON).
        config: The run's configuration (JSON).
        error: The error message of a failed run.
    """

    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: str
    suite: str
    model: str
    dataset: str
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None
    n_samples: int
    seed: int | None
    sample_limit: int | None
    log_path: str | None
    metrics: dict[str, Any]
    config: dict[str, Any]
    error: str | None


def start_run(
    store: Store,
    *,
    suite: str,
    model: str,
    dataset: str,
    seed: int | None = None,
    sample_limit: int | None = None,
    config: dict[str, Any] | None = None,
    log_path: str | None = None,
) -> RunRecord:
    """Record that a run started and return it (status ``started``)."""
    row = RunRow(
        id=uuid4().hex,
        suite=suite,
        model=model,
        dataset=dataset,
        status="started",
        started_at=datetime.now(UTC),
        finished_at=None,
        n_samples=0,
        seed=seed,
        sample_limit=sample_limit,
        log_path=log_path,
        metrics={},
        config=dict(config or {}),
        error=None,
    )
    with store.session() as session, session.begin():
        session.add(row)
        session.flush()
        return RunRecord.model_validate(row)


def finish_run(
    store: Store,
    run_id: str,
    *,
    status: FinishStatus,
    n_samples: int,
    metrics: dict[str, Any],
    log_path: str | None = None,
    error: str | None = None,
) -> RunRecord:
    """Record how a run ended.

    Args:
        store: The store.
        run_id: The run's full id.
        status: How it ended.
        n_samples: Samples scored.
        metrics: Metric name to value; replaces what was stored.
        log_path: The eval log, if not known at start (``None`` keeps the stored one).
        error: The error message of a failed run.

    Raises:
        InputError: No run has this id.
    """
    with store.session() as session, session.begin():
        row = session.get(RunRow, run_id)
        if row is None:
            raise InputError(f"no run with id {run_id!r}")
        row.status = status
        row.finished_at = datetime.now(UTC)
        row.n_samples = n_samples
        row.metrics = dict(metrics)
        if log_path is not None:
            row.log_path = log_path
        row.error = error
        session.flush()
        return RunRecord.model_validate(row)


def get_run(store: Store, run_id_or_prefix: str) -> RunRecord:
    """Return the run whose id is, or starts with, ``run_id_or_prefix``.

    Raises:
        InputError: The prefix is empty, matches no run, or matches more than one.
    """
    prefix = run_id_or_prefix.strip().lower()
    if not prefix:
        raise InputError("a run id (or a prefix of one) is required")
    with store.session() as session:
        rows = _rows_with_prefix(session, prefix)
    if not rows:
        raise InputError(f"no run with id starting {prefix!r}")
    if len(rows) > 1:
        raise InputError(f"ambiguous run id prefix {prefix!r} matches several runs; give more characters")
    return RunRecord.model_validate(rows[0])


def list_runs(
    store: Store,
    *,
    suite: str | None = None,
    model: str | None = None,
    limit: int = 50,
) -> list[RunRecord]:
    """Return up to ``limit`` runs, newest first, optionally only one suite or model."""
    query = select(RunRow).order_by(RunRow.started_at.desc(), RunRow.id.desc()).limit(limit)
    if suite is not None:
        query = query.where(RunRow.suite == suite)
    if model is not None:
        query = query.where(RunRow.model == model)
    with store.session() as session:
        return [RunRecord.model_validate(row) for row in session.scalars(query)]


def _rows_with_prefix(session: Session, prefix: str) -> list[RunRow]:
    query = select(RunRow).where(RunRow.id.startswith(prefix, autoescape=True)).limit(2)
    return list(session.scalars(query))
