"""The app factory: ``create_app(settings, config)`` builds the service; nothing happens at import.

Startup opens (and migrates) the store, starts the monitor (a thread or a child process) and
the upstream client; shutdown drains the monitor and closes both.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from urllib.parse import unquote_to_bytes

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from alignlab.monitor import (
    AlertSink,
    AlertState,
    ChatProxy,
    GroupCommitter,
    Monitor,
    MonitorProcess,
    ServiceMetrics,
    record_feedback_many,
)
from alignlab.settings import Settings
from alignlab.store import open_store
from alignlab.web.api import router as api_router
from alignlab.web.config import ServiceConfig
from alignlab.web.deps import ServiceState, service_state
from alignlab.web.errors import error_body, install_error_handlers
from alignlab.web.keycache import KeyCache
from alignlab.web.lineage import router as lineage_router
from alignlab.web.pages import router as pages_router

__all__ = ["create_app", "service_state"]

log = logging.getLogger("alignlab.web")


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, whether or not Content-Length is sent."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                # FastAPI re-raises HTTPExceptions from body parsing, so this reaches the 413 handler.
                raise StarletteHTTPException(413, f"request body exceeds {self.limit} bytes")
            return message

        await self.app(scope, limited, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(error_body(f"request body exceeds {self.limit} bytes", "request_too_large"), 413)
        await response(scope, receive, send)


_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    # same-origin, not no-referrer: with no-referrer browsers send "Origin: null" on form POSTs.
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    """Add conservative security headers to every response (pure ASGI: no per-request task overhead)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in _HEADERS if h[0] not in names)]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class UnstorableUrl:
    """Refuse a path or query string with a NUL character (400) before any route sees it.

    Percent-decoding turns ``%00`` into a NUL, which PostgreSQL refuses in every query
    parameter; an invalid UTF-8 sequence is already decoded as U+FFFD, so NUL is the one
    character to stop here (JSON bodies are checked by their models).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            "\x00" in scope["path"] or b"\x00" in unquote_to_bytes(scope.get("query_string", b""))
        ):
            body = error_body("invalid request: the URL contains a NUL character", "invalid_request")
            await JSONResponse(body, 400)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class UpstreamAlerts:
    """The ``upstream`` alert: firing when the upstream is down or slow, resolved when it answers again.

    Called on the request path, so it only compares with the state in memory; a state change
    is written (and the webhook called) on a thread of its own.
    """

    def __init__(self, sink: AlertSink) -> None:
        self.sink = sink
        self._firing: bool | None = None
        self._lock = threading.Lock()

    def failed(self, message: str) -> None:
        """The upstream was unreachable or too slow."""
        self._set(True, message)

    def answered(self) -> None:
        """The upstream answered a request."""
        if self._firing is False:  # the common case: no lock, no thread
            return
        self._set(False, "upstream answers again")

    def _set(self, firing: bool, message: str) -> None:
        with self._lock:
            if self._firing == firing:
                return
            self._firing = firing
        state: AlertState = "firing" if firing else "resolved"
        threading.Thread(target=self.sink.update, args=("upstream", "upstream", state, message), daemon=True).start()


def create_app(settings: Settings, config: ServiceConfig | None = None) -> FastAPI:
    """Build the service app.

    Args:
        settings: alignlab settings (the store URL comes from here unless the config overrides it).
        config: Proxy, monitor and limits; defaults to :class:`ServiceConfig`'s.

    Returns:
        The FastAPI app; run it with uvicorn.
    """
    config = config or ServiceConfig()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database_url = config.database_url or settings.database_url
        store = open_store(database_url)
        metrics = ServiceMetrics()
        sink = AlertSink(store, webhook_url=config.webhook_url, metrics=metrics)
        monitor, child = None, None
        if config.monitor_enabled and config.monitor_mode == "thread":
            monitor = Monitor(store, config.monitor, sink, metrics)
            monitor.start()
        elif config.monitor_enabled:
            child = MonitorProcess(database_url, config.monitor, webhook_url=config.webhook_url)
            child.start()
        upstream_alerts = UpstreamAlerts(sink)
        proxy = ChatProxy(
            store,
            config.proxy,
            metrics,
            on_recorded=monitor.submit if monitor else lambda _: None,
            on_upstream_failure=upstream_alerts.failed,
            on_upstream_ok=upstream_alerts.answered,
        )
        service = ServiceState(
            store=store,
            config=config,
            metrics=metrics,
            proxy=proxy,
            keys=KeyCache(store),
            feedback=GroupCommitter(partial(record_feedback_many, store)),
            alerts=sink,
            monitor=monitor,
            monitor_process=child,
        )
        app.state.service = service
        service.feedback.start()
        proxy.start()
        await proxy.warm()
        try:
            yield
        finally:
            await service.feedback.stop()
            await proxy.aclose()
            if monitor is not None:
                monitor.stop()
            if child is not None:
                await asyncio.to_thread(child.stop)
            store.close()

    app = FastAPI(
        title="alignlab service",
        version="0.1.0",
        lifespan=lifespan,
        description="OpenAI-compatible proxy with online monitoring and a feedback API.",
    )
    install_error_handlers(app)
    app.include_router(api_router)
    app.include_router(pages_router)
    app.include_router(lineage_router)
    app.add_middleware(UnstorableUrl)
    app.add_middleware(BodyLimit, limit=config.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    return app
