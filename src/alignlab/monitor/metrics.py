"""Prometheus metrics of one service instance (its own registry, so tests can build many apps).

Every label's set of values is bounded, because ``/metrics`` is open to anyone and each new
value is a new time series: the ``model`` label shows only models the service knows (its
local models and the upstream's ``/models`` list), anything else a client sends is counted
as ``other``; and no label takes more than :data:`MAX_LABEL_VALUES` distinct values (later
ones are ``other`` too), whatever the configuration says.
"""

from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["MAX_LABEL_VALUES", "OTHER", "BoundedLabel", "ServiceMetrics"]

OTHER = "other"
MAX_LABEL_VALUES = 64


class BoundedLabel:
    """The values one label may take: the first ``max_values`` distinct known ones, then ``other``."""

    def __init__(self, max_values: int = MAX_LABEL_VALUES) -> None:
        self.max_values = max_values
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, value: str, *, known: bool = True) -> str:
        """The label value to use for ``value`` (``other`` when unknown or over the bound)."""
        if not known:
            return OTHER
        if value in self._seen:
            return value
        with self._lock:
            if len(self._seen) < self.max_values:
                self._seen.add(value)
                return value
        return OTHER


class ServiceMetrics:
    """Counters, gauges and histograms exported at ``/metrics``.

    Free-text label values go through a :class:`BoundedLabel`: ``model`` for model names,
    ``names`` for detector, metric and alert names; the other labels take fixed sets of values.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.model = BoundedLabel()
        self.names = BoundedLabel()  # detector, metric and alert names (from the configuration)
        self.requests = Counter(
            "alignlab_proxy_requests", "Chat completions through the proxy.", ["model", "status"], registry=r
        )
        self.latency = Histogram(
            "alignlab_proxy_latency_seconds",
            "End-to-end proxy latency.",
            ["backend"],
            registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )
        self.tokens = Counter("alignlab_proxy_tokens", "Tokens reported by the backend.", ["kind"], registry=r)
        self.feedback = Counter("alignlab_feedback", "Feedback events stored.", ["kind"], registry=r)
        self.scored = Counter("alignlab_monitor_scored", "Interactions scored by the detectors.", registry=r)
        self.flags = Counter("alignlab_monitor_flags", "Responses a detector flagged.", ["detector"], registry=r)
        self.rate = Gauge("alignlab_monitor_rolling_rate", "Flag rate over the rolling window.", ["metric"], registry=r)
        self.alerts = Counter("alignlab_alerts", "Alerts raised.", ["kind", "metric", "state"], registry=r)
        self.firing = Gauge("alignlab_alerts_firing", "1 while an alert is firing.", ["kind", "metric"], registry=r)
        self.drift_p = Gauge("alignlab_monitor_drift_p_value", "p-value of the last prompt drift test.", registry=r)
        self.queue = Gauge("alignlab_monitor_queue_depth", "Interactions waiting to be scored.", registry=r)
