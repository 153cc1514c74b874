"""The app factory: ``create_app(settings, config)`` builds the service; nothing happens at import.

Startup opens (and migrates) the store, starts the monitor (a thread or a child process) and
the upstream client; shutdown drains the monitor and closes both.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from alignlab.errors import AlignlabError
from alignlab.monitor.alerts import AlertSink
from alignlab.monitor.batching import GroupCommitter
from alignlab.monitor.feedback import UnknownInteractionError, record_feedback_many
from alignlab.monitor.metrics import ServiceMetrics
from alignlab.monitor.process import MonitorProcess
from alignlab.monitor.proxy import ChatProxy
from alignlab.monitor.worker import Monitor
from alignlab.settings import Settings
from alignlab.store import open_store
from alignlab.web.api import router as api_router
from alignlab.web.auth import KeyCache
from alignlab.web.config import ServiceConfig
from alignlab.web.lineage import router as lineage_router
from alignlab.web.pages import router as pages_router

__all__ = ["create_app"]

log = logging.getLogger("alignlab.web")
_UPSTREAM_ALERT_EVERY_S = 60.0


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
        response = JSONResponse(_err(f"request body exceeds {self.limit} bytes", "request_too_large"), 413)
        await response(scope, receive, send)


def _err(message: str, code: str) -> dict[str, Any]:
    # The OpenAI error shape, so the openai SDK shows the message.
    return {
        "error": {"message": message, "type": "invalid_request_error", "code": code, "param": None},
        "detail": message,
    }


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code in (302, 303):
            return Response(status_code=exc.status_code, headers=exc.headers)
        return JSONResponse(_err(str(exc.detail), f"http_{exc.status_code}"), exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body') or 'body'}: {e.get('msg')}"
            for e in exc.errors()[:5]
        )
        return JSONResponse(_err(f"invalid request: {problems}", "invalid_request"), 422)

    @app.exception_handler(UnknownInteractionError)
    async def unknown(request: Request, exc: UnknownInteractionError) -> Response:
        return JSONResponse(_err(str(exc), "unknown_interaction"), 404)

    @app.exception_handler(AlignlabError)
    async def user_error(request: Request, exc: AlignlabError) -> Response:
        return JSONResponse(_err(str(exc), "bad_request"), 400)


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


def _upstream_alerter(sink: AlertSink) -> Callable[[str], None]:
    last = [0.0]
    lock = threading.Lock()

    def alert(message: str) -> None:
        with lock:
            if time.monotonic() - last[0] < _UPSTREAM_ALERT_EVERY_S:
                return
            last[0] = time.monotonic()
        # The webhook may be slow; never on the request path.
        threading.Thread(target=sink.emit, args=("upstream", "upstream", message), daemon=True).start()

    return alert


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
        proxy = ChatProxy(
            store,
            config.proxy,
            metrics,
            on_recorded=monitor.submit if monitor else lambda _: None,
            on_upstream_failure=_upstream_alerter(sink),
        )
        app.state.store, app.state.metrics, app.state.monitor, app.state.proxy = store, metrics, monitor, proxy
        app.state.monitor_process = child
        app.state.keys, app.state.config, app.state.alerts = KeyCache(store), config, sink
        app.state.feedback = GroupCommitter(partial(record_feedback_many, store))
        app.state.feedback.start()
        proxy.start()
        await proxy.warm()
        try:
            yield
        finally:
            await app.state.feedback.stop()
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
    _install_handlers(app)
    app.include_router(api_router)
    app.include_router(pages_router)
    app.include_router(lineage_router)
    app.add_middleware(BodyLimit, limit=config.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    return app
