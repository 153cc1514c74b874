"""The loop's lineage: feedback → export → dataset → checkpoint → evaluation runs → gate verdicts.

Each step writes its own row (``feedback``, ``feedback_exports``, ``checkpoints`` with
``checkpoint_feedback``, ``runs``, ``gate_verdicts`` with ``gate_verdict_runs``); this module
records the two link kinds the other modules do not own (exports and verdicts) and walks the
chain in both directions:

* :func:`checkpoint_lineage_report`: everything upstream and downstream of one checkpoint;
* :func:`feedback_lineage_report`: which checkpoints learned from one feedback event (or one
  export).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import uuid4

from pydantic import BaseModel, ConfigDict
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from alignlab.errors import InputError
from alignlab.store.checkpoint_tables import CheckpointRow
from alignlab.store.checkpoints import CheckpointRecord, checkpoint_lineage
from alignlab.store.db import Store
from alignlab.store.lineage_tables import (
    CheckpointFeedbackRow,
    FeedbackExportRow,
    GateVerdictRow,
    GateVerdictRunRow,
)
from alignlab.store.runs import RunRecord
from alignlab.store.service_tables import FeedbackRow
from alignlab.store.tables import RunRow

__all__ = [
    "CheckpointLineage",
    "FeedbackEvent",
    "FeedbackExportRecord",
    "FeedbackLineage",
    "GateSideRun",
    "GateVerdictRecord",
    "LearnedFrom",
    "checkpoint_lineage_report",
    "config_hash",
    "feedback_lineage_report",
    "find_export_by_hash",
    "get_feedback_export",
    "record_feedback_export",
    "record_gate_verdict",
]

CKPT = "ckpt"
GateSide = Literal["baseline", "candidate"]


class FeedbackExportRecord(BaseModel):
    """One export of feedback as preference pairs; train on it as ``export:<id>``."""

    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: str
    created_at: datetime
    path: str
    sha256: str
    n_pairs: int
    by_source: dict[str, int]
    options: dict[str, Any]


class GateSideRun(BaseModel):
    """The log one side of a gate read for one suite."""

    model_config = ConfigDict(from_attributes=True, frozen=True)

    side: GateSide
    suite: str
    run_id: str | None
    log_path: str | None


class GateVerdictRecord(BaseModel):
    """One gate decision and the runs it read."""

    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: str
    created_at: datetime
    baseline: str
    candidate: str
    verdict: str
    outcome: str
    policy_sha256: str
    rules: dict[str, str]
    runs: list[GateSideRun] = []


class FeedbackEvent(BaseModel):
    """A feedback event as the lineage shows it."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: str
    created_at: datetime
    interaction_id: str
    detail: str
    """``up``/``down``, the score, ``a``/``b``, the flag's reason and resolution, or the event."""
    dataset: str
    split: str
    export_id: str | None
    n_rows: int


class CheckpointLineage(BaseModel):
    """Everything known upstream and downstream of one checkpoint."""

    checkpoint: CheckpointRecord
    config_hash: str
    ancestors: list[CheckpointRecord]
    exports: list[FeedbackExportRecord]
    feedback: list[FeedbackEvent]
    runs: list[RunRecord]
    verdicts: list[GateVerdictRecord]


class LearnedFrom(BaseModel):
    """A checkpoint that saw a feedback event (or an export's events), and how.

    Attributes:
        n_events: Feedback events of the subject behind the checkpoint's rows (1 for one event).
        n_rows: For one event, how many rows it is behind; for an export, 0 (rows share events).
    """

    checkpoint: CheckpointRecord
    dataset: str
    split: str
    export_id: str | None
    n_events: int
    n_rows: int


class FeedbackLineage(BaseModel):
    """Which checkpoints learned from one feedback event or one export."""

    subject: str
    event: FeedbackEvent | None
    export: FeedbackExportRecord | None
    checkpoints: list[LearnedFrom]


def config_hash(config: dict[str, Any]) -> str:
    """First 12 hex digits of the SHA-256 of the config as canonical JSON."""
    text = json.dumps(config, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def record_feedback_export(
    store: Store, *, path: str, sha256: str, n_pairs: int, by_source: dict[str, int], options: dict[str, Any]
) -> FeedbackExportRecord:
    """Store one export (the file itself stays where it was written)."""
    row = FeedbackExportRow(
        id=uuid4().hex,
        created_at=datetime.now(UTC),
        path=path,
        sha256=sha256,
        n_pairs=n_pairs,
        by_source=dict(by_source),
        options=dict(options),
    )
    with store.session() as session, session.begin():
        session.add(row)
        session.flush()
        return FeedbackExportRecord.model_validate(row)


def get_feedback_export(store: Store, key: str) -> FeedbackExportRecord:
    """The export with this id (any unique prefix), or the newest for ``latest``.

    Raises:
        InputError: No export, or the prefix is ambiguous.
    """
    with store.session() as session:
        if key == "latest":
            rows = list(
                session.scalars(select(FeedbackExportRow).order_by(FeedbackExportRow.created_at.desc()).limit(1))
            )
        else:
            rows = list(session.scalars(select(FeedbackExportRow).where(FeedbackExportRow.id.startswith(key)).limit(2)))
        if not rows:
            raise InputError(f"no feedback export {key!r}; `alignlab export preferences` makes one")
        if len(rows) > 1:
            raise InputError(f"feedback export prefix {key!r} is ambiguous; give more characters")
        return FeedbackExportRecord.model_validate(rows[0])


def find_export_by_hash(store: Store, sha256: str) -> FeedbackExportRecord | None:
    """The newest export whose rows hash to ``sha256`` (a copied or renamed export file)."""
    with store.session() as session:
        row = session.scalars(
            select(FeedbackExportRow)
            .where(FeedbackExportRow.sha256 == sha256)
            .order_by(FeedbackExportRow.created_at.desc())
            .limit(1)
        ).first()
        return FeedbackExportRecord.model_validate(row) if row is not None else None


def record_gate_verdict(
    store: Store,
    *,
    baseline: str,
    candidate: str,
    verdict: str,
    outcome: str,
    policy_sha256: str,
    rules: dict[str, str],
    runs: Sequence[GateSideRun],
) -> GateVerdictRecord:
    """Store one gate decision with the run (or log) each side read per suite."""
    row = GateVerdictRow(
        id=uuid4().hex,
        created_at=datetime.now(UTC),
        baseline=baseline,
        candidate=candidate,
        verdict=verdict,
        outcome=outcome,
        policy_sha256=policy_sha256,
        rules=dict(rules),
    )
    with store.session() as session, session.begin():
        session.add(row)
        session.flush()
        session.add_all(GateVerdictRunRow(verdict_id=row.id, **r.model_dump()) for r in runs)
        session.flush()
        return _verdict(session, row)


def _verdict(session: Session, row: GateVerdictRow) -> GateVerdictRecord:
    runs = session.scalars(select(GateVerdictRunRow).where(GateVerdictRunRow.verdict_id == row.id))
    record = GateVerdictRecord.model_validate(row)
    return record.model_copy(update={"runs": [GateSideRun.model_validate(r) for r in runs]})


def _detail(row: FeedbackRow) -> str:
    if row.kind == "thumbs":
        return row.thumbs or ""
    if row.kind == "score":
        return str(row.score)
    if row.kind == "pairwise":
        return f"{row.choice} (vs {(row.other_interaction_id or '')[:8]})"
    if row.kind == "flag":
        return f"{row.reason}, {row.resolution or 'open'}"
    return row.event or ""


def _events(session: Session, links: Sequence[CheckpointFeedbackRow]) -> list[FeedbackEvent]:
    ids = {link.feedback_id for link in links}
    rows = {r.id: r for r in session.scalars(select(FeedbackRow).where(FeedbackRow.id.in_(ids)))}
    events = [
        FeedbackEvent(
            id=link.feedback_id,
            kind=rows[link.feedback_id].kind,
            created_at=rows[link.feedback_id].created_at,
            interaction_id=rows[link.feedback_id].interaction_id,
            detail=_detail(rows[link.feedback_id]),
            dataset=link.dataset,
            split=link.split,
            export_id=link.export_id,
            n_rows=link.n_rows,
        )
        for link in links
        if link.feedback_id in rows  # a feedback row deleted since training leaves only its id
    ]
    return sorted(events, key=lambda e: (e.created_at, e.id, e.split))


def checkpoint_lineage_report(store: Store, name: str) -> CheckpointLineage:
    """The whole chain around checkpoint ``name``.

    Upstream: its ancestors (parent, grandparent …), the exports and feedback events behind its
    training rows. Downstream: evaluation runs of ``ckpt:<name>`` and the gate verdicts that
    read those runs (or named ``ckpt:<name>`` as a side).

    Raises:
        InputError: No checkpoint has this name.
    """
    chain = checkpoint_lineage(store, name)
    record = chain[0]
    model = f"{CKPT}:{name}"
    with store.session() as session:
        links = list(
            session.scalars(select(CheckpointFeedbackRow).where(CheckpointFeedbackRow.checkpoint_id == record.id))
        )
        export_ids = {link.export_id for link in links if link.export_id} | {
            d.export_id for d in record.datasets if d.export_id
        }
        exports = session.scalars(
            select(FeedbackExportRow).where(FeedbackExportRow.id.in_(export_ids)).order_by(FeedbackExportRow.created_at)
        )
        runs = list(session.scalars(select(RunRow).where(RunRow.model == model).order_by(RunRow.started_at)))
        run_ids = [r.id for r in runs]
        used = select(GateVerdictRunRow.verdict_id).where(GateVerdictRunRow.run_id.in_(run_ids))
        verdicts = session.scalars(
            select(GateVerdictRow)
            .where(
                or_(GateVerdictRow.id.in_(used), GateVerdictRow.candidate == model, GateVerdictRow.baseline == model)
            )
            .order_by(GateVerdictRow.created_at)
        )
        return CheckpointLineage(
            checkpoint=record,
            config_hash=config_hash(record.config),
            ancestors=chain[1:],
            exports=[FeedbackExportRecord.model_validate(e) for e in exports],
            feedback=_events(session, links),
            runs=[RunRecord.model_validate(r) for r in runs],
            verdicts=[_verdict(session, v) for v in verdicts],
        )


def feedback_lineage_report(store: Store, subject: str) -> FeedbackLineage:
    """Which checkpoints learned from ``feedback:<id>`` or ``export:<id>`` (ids or unique prefixes).

    Raises:
        InputError: The subject is neither, or names nothing in the store.
    """
    kind, _, key = subject.partition(":")
    if kind not in ("feedback", "export") or not key:
        raise InputError(f"lineage of {subject!r}: give ckpt:<name>, feedback:<id> or export:<id>")
    with store.session() as session:
        event: FeedbackEvent | None = None
        export: FeedbackExportRecord | None = None
        if kind == "export":
            export = get_feedback_export(store, key)
            where = CheckpointFeedbackRow.export_id == export.id
        else:
            rows = list(session.scalars(select(FeedbackRow).where(FeedbackRow.id.startswith(key)).limit(2)))
            if len(rows) != 1:
                what = "no feedback event" if not rows else "more than one feedback event"
                raise InputError(f"{what} matches {key!r}")
            row = rows[0]
            event = FeedbackEvent(
                id=row.id,
                kind=row.kind,
                created_at=row.created_at,
                interaction_id=row.interaction_id,
                detail=_detail(row),
                dataset="",
                split="",
                export_id=None,
                n_rows=0,
            )
            where = CheckpointFeedbackRow.feedback_id == row.id
        query = (
            select(CheckpointFeedbackRow, CheckpointRow)
            .join(CheckpointRow, CheckpointRow.id == CheckpointFeedbackRow.checkpoint_id)
            .where(where)
            .order_by(CheckpointRow.created_at, CheckpointRow.name, CheckpointFeedbackRow.split)
        )
        learned = _learned(session.execute(query).tuples().all())
    return FeedbackLineage(subject=subject, event=event, export=export, checkpoints=learned)


def _learned(pairs: Sequence[tuple[CheckpointFeedbackRow, CheckpointRow]]) -> list[LearnedFrom]:
    # An export's many events collapse to one line per checkpoint, dataset and split.
    merged: dict[tuple[str, str, str], LearnedFrom] = {}
    for link, ckpt in pairs:
        key = (ckpt.id, link.dataset, link.split)
        if key in merged:
            old = merged[key]
            merged[key] = old.model_copy(update={"n_events": old.n_events + 1, "n_rows": 0})
        else:
            merged[key] = LearnedFrom(
                checkpoint=CheckpointRecord.model_validate(ckpt),
                dataset=link.dataset,
                split=link.split,
                export_id=link.export_id,
                n_events=1,
                n_rows=link.n_rows,
            )
    return list(merged.values())
