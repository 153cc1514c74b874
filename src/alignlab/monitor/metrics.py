"""Prometheus metrics of one service instance (its own registry, so tests can build many apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["ServiceMetrics"]


class ServiceMetrics:
    """Counters, gauges and histograms exported at ``/metrics``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
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
        self.alerts = Counter("alignlab_alerts", "Alerts raised.", ["kind", "metric"], registry=r)
        self.drift_p = Gauge("alignlab_monitor_drift_p_value", "p-value of the last prompt drift test.", registry=r)
        self.queue = Gauge("alignlab_monitor_queue_depth", "Interactions waiting to be scored.", registry=r)
