"""The ``checkpoints`` table: one row per trained model, with its lineage.

Kept apart from :mod:`alignlab.store.tables` so the training layer's schema lives next to its
own migration (``0102_checkpoints``); it shares the same declarative ``Base``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from alignlab.store.tables import Base

__all__ = ["CheckpointRow"]


class CheckpointRow(Base):
    """A trained checkpoint: what it was trained from, on what, how, and where it is."""

    __tablename__ = "checkpoints"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    recipe: Mapped[str] = mapped_column(String(32), index=True)
    base_model: Mapped[str] = mapped_column(String(500))
    parent: Mapped[str | None] = mapped_column(String(200), index=True)
    datasets: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    config: Mapped[dict[str, Any]]
    metrics: Mapped[dict[str, Any]]
    wall_time_s: Mapped[float] = mapped_column(Float)
    path: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
