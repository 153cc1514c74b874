"""ORM tables of the feedback & monitoring service (migration ``0103``).

* ``interactions``: one proxied chat completion: request, response, model, latency, tokens,
  and the detector scores the monitor adds later (``scores``/``scored_at``).
* ``feedback``: thumbs, 1–10 scores, pairwise choices, moderator flags and implicit events,
  each attached to an interaction.
* ``api_keys``: hashed API keys with a role; the secret itself is never stored.
* ``alerts``: every alert the monitor raised, with the webhook's outcome.
* ``monitor_state`` (migration ``0104``): a monitor worker's rolling rates and last drift test,
  so the pages can show them when the detectors run in another process.
* ``ui_sessions`` (migration ``0105``): server-side sessions of the pages (the cookie holds a
  random id; the table its hash, expiry and end); ``alerts.state`` (``firing``/``resolved``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from alignlab.store.tables import Base

__all__ = ["AlertRow", "ApiKeyRow", "FeedbackRow", "InteractionRow", "MonitorStateRow", "UiSessionRow"]


class InteractionRow(Base):
    """One request through the proxy and what came back."""

    __tablename__ = "interactions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    model: Mapped[str] = mapped_column(String(200), index=True)
    backend: Mapped[str] = mapped_column(String(16))
    stream: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16), index=True)
    http_status: Mapped[int] = mapped_column(Integer)
    prompt_hash: Mapped[str] = mapped_column(String(64), index=True)
    prompt_text: Mapped[str] = mapped_column(Text)
    response_text: Mapped[str | None] = mapped_column(Text)
    request: Mapped[dict[str, Any]]
    response: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)
    latency_ms: Mapped[float] = mapped_column(Float)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    api_key_id: Mapped[str | None] = mapped_column(String(32))
    scores: Mapped[dict[str, Any] | None]
    scored_at: Mapped[datetime | None] = mapped_column(index=True)


class FeedbackRow(Base):
    """One piece of feedback on an interaction (``kind`` says which fields are set)."""

    __tablename__ = "feedback"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    interaction_id: Mapped[str] = mapped_column(ForeignKey("interactions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    thumbs: Mapped[str | None] = mapped_column(String(8))
    score: Mapped[int | None] = mapped_column(Integer)
    other_interaction_id: Mapped[str | None] = mapped_column(ForeignKey("interactions.id"))
    choice: Mapped[str | None] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(String(32))
    event: Mapped[str | None] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    api_key_id: Mapped[str | None] = mapped_column(String(32))
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(String(16))


class ApiKeyRow(Base):
    """An API key: a public id, a salt and the salted SHA-256 of the secret."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    salt: Mapped[str] = mapped_column(String(64))
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class AlertRow(Base):
    """An alert raised by the monitor (a threshold, a sequential test, drift, an upstream failure)."""

    __tablename__ = "alerts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    metric: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    details: Mapped[dict[str, Any]]
    webhook_status: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="firing", server_default="firing")


class MonitorStateRow(Base):
    """What one monitor worker last reported; it rewrites its row after every batch."""

    __tablename__ = "monitor_state"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    updated_at: Mapped[datetime]
    pid: Mapped[int] = mapped_column(Integer)
    state: Mapped[dict[str, Any]]


class UiSessionRow(Base):
    """A browser session of the pages: the SHA-256 of its random id, its key, expiry and end."""

    __tablename__ = "ui_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
