"""ORM tables that link the loop's steps (migration ``0106``).

* ``feedback_exports``: one ``alignlab export preferences`` run: the file, its content hash
  and how many pairs each source gave. The file is the training dataset ``export:<id>``.
* ``checkpoint_feedback``: which feedback events a checkpoint's training rows came from,
  per dataset and split (``train`` rows taught it; ``test`` rows only measured it).
* ``gate_verdicts`` and ``gate_verdict_runs``: every gate decision and the evaluation runs
  (or bare logs) each side read, so a checkpoint's runs lead to the verdicts that used them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from alignlab.store.tables import Base

__all__ = ["CheckpointFeedbackRow", "FeedbackExportRow", "GateVerdictRow", "GateVerdictRunRow"]


class FeedbackExportRow(Base):
    """One export of feedback as preference pairs."""

    __tablename__ = "feedback_exports"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    n_pairs: Mapped[int] = mapped_column(Integer)
    by_source: Mapped[dict[str, Any]]
    options: Mapped[dict[str, Any]]


class CheckpointFeedbackRow(Base):
    """A feedback event behind some of a checkpoint's training rows."""

    __tablename__ = "checkpoint_feedback"

    checkpoint_id: Mapped[str] = mapped_column(ForeignKey("checkpoints.id", ondelete="CASCADE"), primary_key=True)
    feedback_id: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
    dataset: Mapped[str] = mapped_column(String(500), primary_key=True)
    split: Mapped[str] = mapped_column(String(8), primary_key=True)
    export_id: Mapped[str | None] = mapped_column(String(32), index=True)
    n_rows: Mapped[int] = mapped_column(Integer)


class GateVerdictRow(Base):
    """One gate decision."""

    __tablename__ = "gate_verdicts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    baseline: Mapped[str] = mapped_column(Text)
    candidate: Mapped[str] = mapped_column(Text)
    verdict: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))
    policy_sha256: Mapped[str] = mapped_column(String(64))
    rules: Mapped[dict[str, Any]]


class GateVerdictRunRow(Base):
    """One suite's log on one side of a gate decision (``run_id`` is ``None`` for a log made elsewhere)."""

    __tablename__ = "gate_verdict_runs"

    verdict_id: Mapped[str] = mapped_column(ForeignKey("gate_verdicts.id", ondelete="CASCADE"), primary_key=True)
    side: Mapped[str] = mapped_column(String(16), primary_key=True)
    suite: Mapped[str] = mapped_column(String(200), primary_key=True)
    run_id: Mapped[str | None] = mapped_column(String(32), index=True)
    log_path: Mapped[str | None] = mapped_column(Text)
