"""Alerts: written to the store, logged, and POSTed to a webhook when one is configured."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import uuid4

import httpx
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from alignlab.monitor.metrics import ServiceMetrics
from alignlab.store import Store
from alignlab.store.service_tables import AlertRow

__all__ = ["AlertKind", "AlertRecord", "AlertSink", "list_alerts"]

AlertKind = Literal["threshold", "sequential", "drift", "upstream"]
log = logging.getLogger("alignlab.monitor.alerts")
WEBHOOK_TIMEOUT_S = 5.0


class AlertRecord(BaseModel):
    """One stored alert."""

    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: str
    created_at: datetime
    kind: AlertKind
    metric: str
    message: str
    value: float | None
    threshold: float | None
    details: dict[str, Any]
    webhook_status: str | None


class AlertSink:
    """Where alerts go. Call :meth:`emit` from a background thread: the webhook call blocks."""

    def __init__(self, store: Store, *, webhook_url: str | None = None, metrics: ServiceMetrics | None = None) -> None:
        self.store = store
        self.webhook_url = webhook_url
        self.metrics = metrics

    def emit(
        self,
        kind: AlertKind,
        metric: str,
        message: str,
        *,
        value: float | None = None,
        threshold: float | None = None,
        details: dict[str, Any] | None = None,
    ) -> AlertRecord:
        """Record, log and deliver one alert; a failing webhook is noted on the row, never raised."""
        row = AlertRow(
            id=uuid4().hex,
            created_at=datetime.now(UTC),
            kind=kind,
            metric=metric,
            message=message,
            value=value,
            threshold=threshold,
            details=details or {},
            webhook_status=None,
        )
        log.warning("alert %s/%s: %s", kind, metric, message)
        if self.metrics is not None:
            self.metrics.alerts.labels(kind, metric).inc()
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
