"""Rates of flagged responses: a rolling window for alerting and time buckets for charts."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from alignlab.store import Store
from alignlab.store.service_tables import FeedbackRow, InteractionRow

__all__ = ["RATE_METRICS", "RateBucket", "RollingRate", "harmful_is_stand_in", "is_flagged", "rate_series"]

RATE_METRICS = ("harmful", "refusal", "toxicity", "profanity", "flagged")


def is_flagged(scores: dict[str, Any], metric: str) -> bool | None:
    """Whether ``scores`` count towards ``metric``; ``None`` when its detector did not run.

    ``harmful`` is the ``harmful`` detector's verdict where it ran; otherwise a stand-in,
    the union of the toxicity and profanity detectors (see :func:`harmful_is_stand_in`).
    """
    if metric == "harmful" and "harmful" not in scores:
        parts = [scores[d]["flagged"] for d in ("toxicity", "profanity") if d in scores]
        return any(parts) if parts else None
    if metric in scores:
        return bool(scores[metric]["flagged"])
    return None


def harmful_is_stand_in(detectors: Sequence[str]) -> bool:
    """Whether a service running ``detectors`` measures harm by the offensive-language stand-in."""
    return "harmful" not in detectors


@dataclass
class RollingRate:
    """Share of flagged outcomes among the last ``window`` ones."""

    window: int
    _events: deque[bool] = field(init=False)
    _flagged: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._events = deque(maxlen=self.window)

    def add(self, flagged: bool) -> None:
        """Push one outcome (the oldest falls out once the window is full)."""
        if len(self._events) == self.window:
            self._flagged -= self._events[0]
        self._events.append(flagged)
        self._flagged += flagged

    @property
    def n(self) -> int:
        """Outcomes in the window."""
        return len(self._events)

    @property
    def rate(self) -> float:
        """Flagged share (0 when empty)."""
        return self._flagged / len(self._events) if self._events else 0.0


@dataclass(frozen=True)
class RateBucket:
    """One time bucket of a rate chart."""

    start: datetime
    n: int
    k: int

    @property
    def rate(self) -> float:
        """k / n (0 when empty)."""
        return self.k / self.n if self.n else 0.0


def rate_series(store: Store, *, since: datetime, bucket: timedelta, limit: int = 20000) -> dict[str, list[RateBucket]]:
    """Per metric, flagged counts of scored interactions in buckets from ``since`` to now.

    ``flagged`` counts interactions a moderator flagged (whether or not they were scored).
    """
    with store.session() as session:
        rows = (
            session.execute(
                select(InteractionRow.id, InteractionRow.created_at, InteractionRow.scores)
                .where(InteractionRow.created_at >= since, InteractionRow.status == "ok")
                .order_by(InteractionRow.created_at)
                .limit(limit)
            )
            .tuples()
            .all()
        )
        flagged_ids = set(
            session.scalars(
                select(FeedbackRow.interaction_id).where(FeedbackRow.kind == "flag", FeedbackRow.created_at >= since)
            ).all()
        )
    if not rows:
        return {m: [] for m in RATE_METRICS}
    end = max(r[1] for r in rows)
    count = int((end - since) / bucket) + 1
    tallies = {m: [[0, 0] for _ in range(count)] for m in RATE_METRICS}
    for interaction_id, created_at, scores in rows:
        i = int((created_at - since) / bucket)
        for m in RATE_METRICS:
            hit = interaction_id in flagged_ids if m == "flagged" else is_flagged(scores or {}, m)
            if hit is not None:
                tallies[m][i][0] += 1
                tallies[m][i][1] += hit
    return {m: [RateBucket(since + i * bucket, n, k) for i, (n, k) in enumerate(t)] for m, t in tallies.items()}
