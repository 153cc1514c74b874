"""Interactions (one proxied chat completion each): record, look up, list with filters."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, func, insert, select

from alignlab.errors import InputError
from alignlab.monitor.text import StorableStr, unstorable
from alignlab.store import Store
from alignlab.store.service_tables import FeedbackRow, InteractionRow

__all__ = [
    "InteractionFilter",
    "InteractionPage",
    "InteractionRecord",
    "InteractionStatus",
    "NewInteraction",
    "UnknownInteractionError",
    "escape_like",
    "get_interaction",
    "list_interactions",
    "prompt_fingerprint",
    "record_interaction",
    "record_interactions",
]

InteractionStatus = Literal["ok", "upstream_error", "timeout", "error"]


class UnknownInteractionError(InputError):
    """An interaction id that is not in the store."""


class NewInteraction(BaseModel):
    """What the proxy knows once a completion is over."""

    model: str
    backend: Literal["upstream", "local"]
    stream: bool
    status: InteractionStatus
    http_status: int
    request: dict[str, Any]
    response: dict[str, Any] | None = None
    response_text: str | None = None
    error: str | None = None
    latency_ms: float
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    api_key_id: str | None = None
    id: str | None = None
    created_at: datetime | None = None


class InteractionRecord(BaseModel):
    """One stored interaction."""

    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: str
    created_at: datetime
    model: str
    backend: str
    stream: bool
    status: InteractionStatus
    http_status: int
    prompt_hash: str
    prompt_text: str
    response_text: str | None
    request: dict[str, Any]
    response: dict[str, Any] | None
    error: str | None
    latency_ms: float
    prompt_tokens: int | None
    completion_tokens: int | None
    api_key_id: str | None
    scores: dict[str, Any] | None
    scored_at: datetime | None


MAX_OFFSET = 10_000_000


class InteractionFilter(BaseModel):
    """Filters for :func:`list_interactions`; ``None`` means any.

    ``text`` matches a substring of the prompt or the response literally (``%`` and ``_`` are
    not wildcards). ``offset`` is bounded: the databases take a signed 64-bit integer.
    """

    model: StorableStr | None = Field(default=None, max_length=200)
    status: InteractionStatus | None = None
    refusal: Literal["compliance", "refusal", "partial_refusal"] | None = None
    toxic: bool | None = None
    flagged: bool | None = None
    text: StorableStr | None = Field(default=None, max_length=200)
    limit: int = Field(default=50, ge=1, le=10_000)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


class InteractionPage(NamedTuple):
    """One page of interactions and how many match in all."""

    items: list[InteractionRecord]
    total: int


def prompt_text(messages: list[dict[str, Any]]) -> str:
    """The conversation as plain text, one ``role: content`` line per message."""
    lines = []
    for m in messages:
        content = m.get("content")
        if isinstance(content, list):  # OpenAI content parts
            content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
        lines.append(f"{m.get('role', '?')}: {content if content is not None else ''}")
    return "\n".join(lines)


def prompt_fingerprint(messages: list[dict[str, Any]]) -> str:
    """SHA-256 of the messages' roles and contents: equal prompts get equal fingerprints."""
    canonical = [{"role": m.get("role"), "content": m.get("content")} for m in messages]
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def _values(new: NewInteraction) -> dict[str, Any]:
    messages = new.request.get("messages")
    messages = messages if isinstance(messages, list) else []
    # Attribute reads, not model_dump: dumping deep-copies the request and response on every call.
    values = {name: getattr(new, name) for name in NewInteraction.model_fields}
    values |= {
        "id": new.id or uuid4().hex,
        "created_at": new.created_at or datetime.now(UTC),
        "prompt_hash": prompt_fingerprint(messages),
        "prompt_text": prompt_text(messages),
        "scores": None,
        "scored_at": None,
    }
    return values


def record_interaction(store: Store, new: NewInteraction) -> InteractionRecord:
    """Write one interaction and return it; the commit is done when this returns."""
    values = _values(new)
    # A Core insert: the ORM's unit of work costs more than the write.
    with store.engine.begin() as conn:
        conn.execute(insert(InteractionRow), values)
    return InteractionRecord.model_validate(values)


def record_interactions(store: Store, items: Sequence[NewInteraction]) -> list[str]:
    """Write many interactions in one transaction (the proxy's group commit); their ids, in order."""
    rows = [_values(new) for new in items]
    with store.engine.begin() as conn:
        conn.execute(insert(InteractionRow), rows)  # one executemany
    return [row["id"] for row in rows]


def get_interaction(store: Store, interaction_id: str) -> InteractionRecord:
    """Look an interaction up by id.

    Raises:
        UnknownInteractionError: No interaction has that id.
    """
    if len(interaction_id) > 32 or unstorable(interaction_id):  # no such id can exist; don't ask the database
        raise UnknownInteractionError(f"no interaction with id {interaction_id[:40]!r}")
    with store.session() as session:
        row = session.get(InteractionRow, interaction_id)
    if row is None:
        raise UnknownInteractionError(f"no interaction with id {interaction_id!r}")
    return InteractionRecord.model_validate(row)


def escape_like(text: str) -> str:
    """``text`` with LIKE's wildcards (``%``, ``_``) and the escape character (``\\``) escaped."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filtered(query: Select[Any], f: InteractionFilter) -> Select[Any]:
    if f.model:
        query = query.where(InteractionRow.model == f.model)
    if f.status:
        query = query.where(InteractionRow.status == f.status)
    if f.text:
        pattern = f"%{escape_like(f.text)}%"
        query = query.where(
            InteractionRow.prompt_text.like(pattern, escape="\\")
            | InteractionRow.response_text.like(pattern, escape="\\")
        )
    if f.flagged is not None:
        flagged = select(FeedbackRow.interaction_id).where(FeedbackRow.kind == "flag")
        query = query.where(InteractionRow.id.in_(flagged) if f.flagged else InteractionRow.id.not_in(flagged))
    return query


def list_interactions(store: Store, f: InteractionFilter | None = None) -> InteractionPage:
    """Interactions matching ``f``, newest first, and how many match in all.

    The detector filters (``refusal``, ``toxic``) read the JSON scores in Python, so they
    apply within the most recent 5,000 matches.
    """
    f = f or InteractionFilter()
    with store.session() as session:
        if f.refusal is None and f.toxic is None:
            total = session.scalar(_filtered(select(func.count()).select_from(InteractionRow), f)) or 0
            rows = session.scalars(
                _filtered(select(InteractionRow), f)
                .order_by(InteractionRow.created_at.desc())
                .offset(f.offset)
                .limit(f.limit)
            ).all()
            return InteractionPage([InteractionRecord.model_validate(r) for r in rows], total)
        rows = session.scalars(
            _filtered(select(InteractionRow), f).order_by(InteractionRow.created_at.desc()).limit(5000)
        ).all()
    kept = [r for r in rows if _score_match(r.scores or {}, f)]
    return InteractionPage(
        [InteractionRecord.model_validate(r) for r in kept[f.offset : f.offset + f.limit]], len(kept)
    )


def _score_match(scores: dict[str, Any], f: InteractionFilter) -> bool:
    if f.refusal is not None and scores.get("refusal", {}).get("label") != f.refusal:
        return False
    return f.toxic is None or bool(scores.get("toxicity", {}).get("flagged")) == f.toxic
