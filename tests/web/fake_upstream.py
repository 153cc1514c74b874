"""A local OpenAI-compatible server for tests and benchmarks, plus a helper to run any ASGI app in a thread.

Model names choose the behaviour: ``echo`` repeats the last user message, ``slow`` sleeps
``SLOW_S`` seconds first, ``broken`` answers 500 with a non-JSON body, ``script`` answers a
``<script>`` payload, ``drip`` streams one word every 0.3 s, ``numbered`` prefixes a call
counter (distinct answers to one prompt); anything else answers like ``echo``.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse

SLOW_S = 3.0
XSS = (
    '<script>document.title="PWNED";document.body.setAttribute("data-pwned","1")</script>'
    "<img src=x onerror=\"document.body.setAttribute('data-pwned','2')\">"
)


def _answer(body: dict[str, Any], calls: int) -> str:
    if body["model"] == "script":
        return f"Here you go: {XSS}"
    last = next((m for m in reversed(body["messages"]) if m["role"] == "user"), {"content": ""})
    content = last.get("content") or ""  # content may be absent or null (e.g. schemathesis' requests)
    if body["model"] == "numbered":
        return f"answer {calls}: {content}"
    return f"echo: {content}"


def fake_upstream_app() -> FastAPI:
    """The fake upstream (records how many chat requests it saw in ``app.state.calls``)."""
    app = FastAPI()
    app.state.calls = 0
    app.state.webhooks = []

    @app.post("/webhook")
    async def webhook(request: Request) -> dict[str, bool]:
        app.state.webhooks.append(await request.json())
        return {"ok": True}

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {
            "object": "list",
            "data": [
                {"id": m, "object": "model", "created": 0, "owned_by": "fake"}
                for m in ("echo", "slow", "broken", "script")
            ],
        }

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        app.state.calls += 1
        body = await request.json()
        if body["model"] == "slow":
            await asyncio.sleep(SLOW_S)
        if body["model"] == "broken":
            return PlainTextResponse("internal kaboom", 500)
        text = _answer(body, app.state.calls)
        usage = {"prompt_tokens": 7, "completion_tokens": len(text.split()), "total_tokens": 7 + len(text.split())}
        common = {"id": "chatcmpl-fake", "created": int(time.time()), "model": body["model"]}
        if not body.get("stream"):
            return JSONResponse(
                {
                    **common,
                    "object": "chat.completion",
                    "usage": usage,
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                    ],
                }
            )

        async def events() -> AsyncIterator[bytes]:
            words = text.split(" ")
            for i, word in enumerate(words):
                if body["model"] == "drip":
                    await asyncio.sleep(0.3)
                delta = {"content": word + (" " if i < len(words) - 1 else "")}
                if i == 0:
                    delta["role"] = "assistant"
                chunk = {
                    **common,
                    "object": "chat.completion.chunk",
                    "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
                }
                yield f"data: {json.dumps(chunk)}\n\n".encode()
            last = {
                **common,
                "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            }
            if (body.get("stream_options") or {}).get("include_usage"):
                last["usage"] = usage
            yield f"data: {json.dumps(last)}\n\n".encode()
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve_in_thread(app: Any, port: int | None = None) -> Iterator[str]:
    """Run ``app`` with uvicorn on 127.0.0.1 in a daemon thread; yields its base URL."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
