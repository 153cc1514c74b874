"""Feedback on interactions: record it, queue moderator flags, pick pairs to label.

Five kinds, each attached to a logged interaction:

* ``thumbs``: up or down;
* ``score``: an integer from 1 to 10;
* ``pairwise``: a choice between two responses to the same prompt (``a``, ``b`` or ``tie``);
* ``flag``: a moderator's flag with a reason category;
* ``implicit``: an event the application saw (``copied``, ``regenerated``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, NamedTuple
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, insert, select
from sqlalchemy.orm import aliased

from alignlab.errors import InputError
from alignlab.monitor.interactions import UnknownInteractionError
from alignlab.monitor.text import StorableStr
from alignlab.store import Store
from alignlab.store.service_tables import FeedbackRow, InteractionRow

__all__ = [
    "FLAG_REASONS",
    "FeedbackIn",
    "FeedbackKind",
    "FeedbackRecord",
    "FlagFeedback",
    "ImplicitFeedback",
    "PairTask",
    "PairwiseFeedback",
    "ScoreFeedback",
    "ThumbsFeedback",
    "UnknownInteractionError",
    "list_feedback",
    "list_open_flags",
    "next_pair_task",
    "record_feedback",
    "record_feedback_many",
    "resolve_flag",
]

FeedbackKind = Literal["thumbs", "score", "pairwise", "flag", "implicit"]
FlagReason = Literal["harmful", "toxic", "privacy", "jailbreak", "misinformation", "spam", "other"]
FLAG_REASONS: tuple[str, ...] = FlagReason.__args__  # type: ignore[attr-defined]
# Ids are what the proxy makes (uuid4 hex); the pattern keeps NUL, surrogates and LIKE/SQL
# oddities out of every query they reach.
_ID = Field(
    min_length=1,
    max_length=32,
    pattern=r"^[A-Za-z0-9_-]+$",
    description="Id of a logged interaction (``x-alignlab-interaction-id``).",
)
_COMMENT = Field(default=None, max_length=4000, description="Free text (no NUL, no lone surrogate).")


class _Base(BaseModel):
    # strict: ``"score": true`` or ``"score": "7"`` is a client bug to report, not to coerce.
    model_config = ConfigDict(extra="forbid", strict=True)

    interaction_id: str = _ID
    comment: StorableStr | None = _COMMENT


class ThumbsFeedback(_Base):
    """Thumbs up or down on one response."""

    kind: Literal["thumbs"]
    value: Literal["up", "down"]


class ScoreFeedback(_Base):
    """A 1–10 rating of one response."""

    kind: Literal["score"]
    score: int = Field(ge=1, le=10)


class PairwiseFeedback(_Base):
    """Which of two responses to the same prompt is better (``a`` is ``interaction_id``)."""

    kind: Literal["pairwise"]
    other_interaction_id: str = _ID
    choice: Literal["a", "b", "tie"]


class FlagFeedback(_Base):
    """A moderator's flag on a response (needs a moderator or admin key)."""

    kind: Literal["flag"]
    reason: FlagReason


class ImplicitFeedback(_Base):
    """Something the application observed: the user copied the answer or asked for another."""

    kind: Literal["implicit"]
    event: Literal["copied", "regenerated"]


FeedbackIn = Annotated[
    ThumbsFeedback | ScoreFeedback | PairwiseFeedback | FlagFeedback | ImplicitFeedback,
    Field(discriminator="kind"),
]


class FeedbackRecord(BaseModel):
    """One stored piece of feedback."""

    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: str
    created_at: datetime
    interaction_id: str
    kind: FeedbackKind
    thumbs: str | None
    score: int | None
    other_interaction_id: str | None
    choice: str | None
    reason: str | None
    event: str | None
    comment: str | None
    api_key_id: str | None
    resolved_at: datetime | None
    resolution: str | None


def record_feedback(store: Store, item: FeedbackIn, *, api_key_id: str | None = None) -> FeedbackRecord:
    """Store one piece of feedback; the commit is done when this returns.

    Raises:
        UnknownInteractionError: An interaction id is not in the store.
        InputError: A pairwise choice compares responses to different prompts, or an
            interaction with itself.
    """
    (result,) = record_feedback_many(store, [(item, api_key_id)])
    if isinstance(result, InputError):
        raise result
    return result


def record_feedback_many(
    store: Store, items: Sequence[tuple[FeedbackIn, str | None]]
) -> list[FeedbackRecord | InputError]:
    """Store many pieces of feedback in one transaction (a group commit).

    Each ``(item, api_key_id)`` gets its record, or the error that kept it out (an
    unknown interaction, a bad pair); the others are stored regardless.
    """
    rows = [_row(item, key_id) for item, key_id in items]
    ids = {r["interaction_id"] for r in rows} | {r["other_interaction_id"] for r in rows if r["other_interaction_id"]}
    # Core statements, not the ORM: this is the feedback ingest hot path.
    with store.engine.begin() as conn:
        found = dict(
            conn.execute(select(InteractionRow.id, InteractionRow.prompt_hash).where(InteractionRow.id.in_(ids)))
            .tuples()
            .all()
        )
        problems = [_check(row, found) for row in rows]
        good = [row for row, problem in zip(rows, problems, strict=True) if problem is None]
        if good:
            conn.execute(insert(FeedbackRow), good)
    return [problem or FeedbackRecord.model_validate(row) for row, problem in zip(rows, problems, strict=True)]


def _row(item: FeedbackIn, api_key_id: str | None) -> dict[str, Any]:
    return {
        "id": uuid4().hex,
        "created_at": datetime.now(UTC),
        "interaction_id": item.interaction_id,
        "kind": item.kind,
        "comment": item.comment,
        "api_key_id": api_key_id,
        "resolved_at": None,
        "resolution": None,
        "thumbs": getattr(item, "value", None),
        "score": getattr(item, "score", None),
        "other_interaction_id": getattr(item, "other_interaction_id", None),
        "choice": getattr(item, "choice", None),
        "reason": getattr(item, "reason", None),
        "event": getattr(item, "event", None),
    }


def _check(row: dict[str, Any], found: dict[str, str]) -> InputError | None:
    first, other = row["interaction_id"], row["other_interaction_id"]
    for interaction_id in (first, other):
        if interaction_id is not None and interaction_id not in found:
            return UnknownInteractionError(f"no interaction with id {interaction_id!r}")
    if other is not None:
        if other == first:
            return InputError("a pairwise choice needs two different interactions")
        if found[first] != found[other]:
            return InputError("a pairwise choice must compare two responses to the same prompt")
    return None


def list_feedback(store: Store, *, kind: FeedbackKind | None = None) -> list[FeedbackRecord]:
    """All feedback (of one kind), oldest first."""
    query = select(FeedbackRow).order_by(FeedbackRow.created_at, FeedbackRow.id)
    if kind is not None:
        query = query.where(FeedbackRow.kind == kind)
    with store.session() as session:
        return [FeedbackRecord.model_validate(r) for r in session.scalars(query).all()]


def list_open_flags(store: Store, *, limit: int = 100) -> list[FeedbackRecord]:
    """Unresolved moderator flags, oldest first (the moderation queue)."""
    query = (
        select(FeedbackRow)
        .where(FeedbackRow.kind == "flag", FeedbackRow.resolved_at.is_(None))
        .order_by(FeedbackRow.created_at)
        .limit(limit)
    )
    with store.session() as session:
        return [FeedbackRecord.model_validate(r) for r in session.scalars(query).all()]


def resolve_flag(store: Store, feedback_id: str, resolution: Literal["confirmed", "dismissed"]) -> FeedbackRecord:
    """Close a flag as confirmed (the output was bad) or dismissed.

    Raises:
        InputError: No open flag has that id.
    """
    with store.session() as session:
        row = session.get(FeedbackRow, feedback_id)
        if row is None or row.kind != "flag":
            raise InputError(f"no flag with id {feedback_id!r}")
        row.resolved_at = row.resolved_at or datetime.now(UTC)
        row.resolution = resolution
        session.commit()
    return FeedbackRecord.model_validate(row)


class PairTask(NamedTuple):
    """Two responses to one prompt still waiting for a pairwise label, and the queue's size."""

    a: str
    b: str
    remaining: int
    labelled: int


def next_pair_task(store: Store) -> PairTask | None:
    """The oldest unlabelled pair of successful responses to the same prompt.

    Pairs are consecutive responses within a prompt group (by creation time), so a
    prompt answered ``k`` times gives ``k - 1`` tasks.
    """
    other = aliased(InteractionRow)
    with store.session() as session:
        rows = (
            session.execute(
                select(InteractionRow.id, InteractionRow.prompt_hash)
                .where(
                    InteractionRow.status == "ok",
                    InteractionRow.prompt_hash.in_(
                        select(other.prompt_hash)
                        .where(other.status == "ok")
                        .group_by(other.prompt_hash)
                        .having(func.count() > 1)
                    ),
                )
                .order_by(InteractionRow.created_at, InteractionRow.id)
            )
            .tuples()
            .all()
        )
        done = {
            frozenset(p)
            for p in session.execute(
                select(FeedbackRow.interaction_id, FeedbackRow.other_interaction_id).where(
                    FeedbackRow.kind == "pairwise"
                )
            )
            .tuples()
            .all()
        }
    last: dict[str, str] = {}
    todo: list[tuple[str, str]] = []
    for interaction_id, prompt_hash in rows:
        if prompt_hash in last and frozenset((last[prompt_hash], interaction_id)) not in done:
            todo.append((last[prompt_hash], interaction_id))
        last[prompt_hash] = interaction_id
    if not todo:
        return None
    return PairTask(todo[0][0], todo[0][1], remaining=len(todo), labelled=len(done))
