"""Typed FastAPI dependencies: what a route needs from the running service, by type.

The app factory builds one :class:`ServiceState` at startup and keeps it on the app; routes
never read ``request.app.state`` themselves, they ask for ``StoreDep``, ``ProxyDep`` … and
get a typed object (the full-stack FastAPI template's ``SessionDep`` pattern).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request

from alignlab.monitor import (
    AlertSink,
    ChatProxy,
    FeedbackIn,
    FeedbackRecord,
    GroupCommitter,
    Monitor,
    MonitorProcess,
    ServiceMetrics,
)
from alignlab.store import Store
from alignlab.web.config import ServiceConfig
from alignlab.web.keycache import KeyCache

__all__ = [
    "ConfigDep",
    "FeedbackWriter",
    "FeedbackWriterDep",
    "KeysDep",
    "MetricsDep",
    "ProxyDep",
    "ServiceDep",
    "ServiceState",
    "StoreDep",
    "service_state",
]

FeedbackWriter = GroupCommitter[tuple[FeedbackIn, str | None], FeedbackRecord]


@dataclass
class ServiceState:
    """Everything the routes share, built once by the app's lifespan.

    Attributes:
        store: The opened store.
        config: This instance's configuration.
        metrics: Its Prometheus metrics.
        proxy: The chat proxy (upstream client, local models, interaction writer).
        keys: The cache of verified API keys.
        feedback: The group committer that writes feedback.
        alerts: Where alerts go.
        monitor: The monitor thread (``None`` with ``monitor_mode="process"`` or no monitor).
        monitor_process: The monitor child process (``None`` unless ``monitor_mode="process"``).
    """

    store: Store
    config: ServiceConfig
    metrics: ServiceMetrics
    proxy: ChatProxy
    keys: KeyCache
    feedback: FeedbackWriter
    alerts: AlertSink
    monitor: Monitor | None = None
    monitor_process: MonitorProcess | None = None


def service_state(app: FastAPI) -> ServiceState:
    """The state of a started app (tests and the app factory use this; routes use the dependencies)."""
    state: ServiceState = app.state.service
    return state


def _service(request: Request) -> ServiceState:
    return service_state(request.app)


ServiceDep = Annotated[ServiceState, Depends(_service)]


def _store(service: ServiceDep) -> Store:
    return service.store


def _config(service: ServiceDep) -> ServiceConfig:
    return service.config


def _metrics(service: ServiceDep) -> ServiceMetrics:
    return service.metrics


def _proxy(service: ServiceDep) -> ChatProxy:
    return service.proxy


def _feedback(service: ServiceDep) -> FeedbackWriter:
    return service.feedback


def _keys(service: ServiceDep) -> KeyCache:
    return service.keys


StoreDep = Annotated[Store, Depends(_store)]
ConfigDep = Annotated[ServiceConfig, Depends(_config)]
MetricsDep = Annotated[ServiceMetrics, Depends(_metrics)]
ProxyDep = Annotated[ChatProxy, Depends(_proxy)]
FeedbackWriterDep = Annotated[FeedbackWriter, Depends(_feedback)]
KeysDep = Annotated[KeyCache, Depends(_keys)]
