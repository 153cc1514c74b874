"""Alerts: state changes of a condition, written to the store, logged, and POSTed to a webhook.

An alert is identified by its ``(kind, metric)``, e.g. ``("sequential", "harmful")``, and is
either *firing* or *resolved*, like Alertmanager's. :meth:`AlertSink.update` is told the
condition's current state as often as the monitor likes; only a change is recorded and
notified, so a condition that stays true raises one alert, not one every few responses. The
state survives a restart: the sink starts from the latest stored alert of each key.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import uuid4

import httpx
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from alignlab.monitor.metrics import ServiceMetrics
from alignlab.store import Store
from alignlab.store.service_tables import AlertRow

__all__ = ["AlertKind", "AlertRecord", "AlertSink", "AlertState", "list_alerts"]

AlertKind = Literal["threshold", "sequential", "drift", "upstream"]
AlertState = Literal["firing", "resolved"]
log = logging.getLogger("alignlab.monitor.alerts")
WEBHOOK_TIMEOUT_S = 5.0
_RECENT = 1000  # alerts read at start to restore the states


class AlertRecord(BaseModel):
    """One stored alert: a change of state of ``(kind, metric)``."""

    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: str
    created_at: datetime
    kind: AlertKind
    metric: str
    state: AlertState
    message: str
    value: float | None
    threshold: float | None
    details: dict[str, Any]
    webhook_status: str | None


class AlertSink:
    """Where alerts go. Call :meth:`update` from a background thread: the webhook call blocks."""

    def __init__(self, store: Store, *, webhook_url: str | None = None, metrics: ServiceMetrics | None = None) -> None:
        self.store = store
        self.webhook_url = webhook_url
        self.metrics = metrics
        self._states: dict[tuple[str, str], AlertState] | None = None
        self._lock = threading.Lock()

    def state(self, kind: AlertKind, metric: str) -> AlertState:
        """The current state of ``(kind, metric)`` (``resolved`` if it never fired)."""
        with self._lock:
            return self._load().get((kind, metric), "resolved")

    def update(
        self,
        kind: AlertKind,
        metric: str,
        state: AlertState,
        message: str,
        *,
        value: float | None = None,
        threshold: float | None = None,
        details: dict[str, Any] | None = None,
    ) -> AlertRecord | None:
        """Set the state of ``(kind, metric)``; record, log and notify only if it changed.

        Returns:
            The stored alert, or ``None`` when the state was already ``state``.
        """
        with self._lock:
            states = self._load()
            if states.get((kind, metric), "resolved") == state:
                return None
            states[(kind, metric)] = state
        return self._emit(kind, metric, state, message, value=value, threshold=threshold, details=details)

    def _load(self) -> dict[tuple[str, str], AlertState]:
        if self._states is None:
            with self.store.session() as session:
                rows = session.execute(
                    select(AlertRow.kind, AlertRow.metric, AlertRow.state)
                    .order_by(AlertRow.created_at.desc())
                    .limit(_RECENT)
                ).all()
            states: dict[tuple[str, str], AlertState] = {}
            for kind, metric, state in rows:
                states.setdefault((kind, metric), "firing" if state == "firing" else "resolved")
            self._states = states
        return self._states

    def _emit(
        self,
        kind: AlertKind,
        metric: str,
        state: AlertState,
        message: str,
        *,
        value: float | None,
        threshold: float | None,
        details: dict[str, Any] | None,
    ) -> AlertRecord:
        row = AlertRow(
            id=uuid4().hex,
            created_at=datetime.now(UTC),
            kind=kind,
            metric=metric,
            state=state,
            message=message,
            value=value,
            threshold=threshold,
            details=details or {},
            webhook_status=None,
        )
        log.warning("alert %s/%s %s: %s", kind, metric, state, message)
        if self.metrics is not None:
            labels = (kind, self.metrics.names(metric))
            self.metrics.alerts.labels(*labels, state).inc()
            self.metrics.firing.labels(*labels).set(1 if state == "firing" else 0)
        if self.webhook_url:
            row.webhook_status = self._deliver(row)
        with self.store.session() as session:
            session.add(row)
            session.commit()
        return AlertRecord.model_validate(row)

    def _deliver(self, row: AlertRow) -> str:
        payload = {
            "id": row.id,
            "created_at": row.created_at.isoformat(),
            "kind": row.kind,
            "metric": row.metric,
            "status": row.state,
            "message": row.message,
            "value": row.value,
            "threshold": row.threshold,
            "details": row.details,
        }
        try:
            response = httpx.post(str(self.webhook_url), json=payload, timeout=WEBHOOK_TIMEOUT_S)
        except httpx.HTTPError as exc:
            log.warning("alert webhook failed: %s", type(exc).__name__)
            return f"error: {type(exc).__name__}"
        return str(response.status_code)


def list_alerts(store: Store, *, limit: int = 50) -> list[AlertRecord]:
    """Most recent alerts first."""
    with store.session() as session:
        rows = session.scalars(select(AlertRow).order_by(AlertRow.created_at.desc()).limit(limit)).all()
    return [AlertRecord.model_validate(r) for r in rows]
