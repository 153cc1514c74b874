"""The chat proxy: forward a completion to an upstream server or a local model, log it, hand it to the monitor.

Every request ends as exactly one interaction row, whatever happens: success, an upstream
that is down (502), slow (504) or answers with an error (its status). The row is committed
before the client gets the response (for a stream: before the final ``data: [DONE]``), so an
acknowledged interaction is never lost. Rows are written by a group commit: concurrent
requests share one transaction, and each waits for it; a row that cannot be written fails
only its own request (a 500, or an error event instead of ``[DONE]`` on a stream), and the
failure is logged without the request's content.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Literal, NamedTuple
from uuid import uuid4

import anyio
from starlette.concurrency import run_in_threadpool

from alignlab.monitor.batching import GroupCommitter
from alignlab.monitor.interactions import InteractionStatus, NewInteraction, record_interactions
from alignlab.monitor.metrics import ServiceMetrics
from alignlab.monitor.upstream import UpstreamClient, UpstreamStream, UpstreamUnavailable
from alignlab.store import Store

if TYPE_CHECKING:
    from alignlab.models.streaming import TokenStream

__all__ = ["ChatProxy", "ProxyConfig", "ProxyReply"]

log = logging.getLogger("alignlab.monitor.proxy")
# How long the upstream's model list is trusted, and how often an unknown name may refresh it.
MODELS_TTL_S = 300.0
MODELS_RETRY_S = 30.0


@dataclass(frozen=True)
class ProxyConfig:
    """Where completions go.

    Attributes:
        upstream_base_url: Base URL of an OpenAI-compatible server (``http://host:port/v1``).
        upstream_api_key: Sent upstream as a Bearer token (clients' keys are never forwarded).
        upstream_timeout_s: Seconds to wait for the upstream before answering 504.
        local_models: Model names served in-process through Inspect (``default``, a checkpoint
            name, a model directory); any other model name goes upstream.
    """

    upstream_base_url: str | None = None
    upstream_api_key: str | None = None
    upstream_timeout_s: float = 60.0
    local_models: tuple[str, ...] = ()


@dataclass
class ProxyReply:
    """What the web layer sends back: JSON (``raw``: the upstream's bytes, unchanged), or an SSE byte stream."""

    interaction_id: str
    status_code: int
    body: dict[str, Any] | None = None
    stream: AsyncIterator[bytes] | None = None
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


class _Answer(NamedTuple):
    body: dict[str, Any]
    raw: bytes


def _error(message: str, kind: str, code: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "code": code, "param": None}}


class _Failure(Exception):
    def __init__(self, status: InteractionStatus, http_status: int, body: dict[str, Any], message: str) -> None:
        super().__init__(message)
        self.status, self.http_status, self.body = status, http_status, body


class ChatProxy:
    """Routes chat completions and records each one.

    Args:
        store: Where interactions are written.
        config: Upstream and local model settings.
        metrics: Prometheus metrics of the service.
        on_recorded: Called with each committed ``ok`` interaction id (the monitor's queue).
        on_upstream_failure: Called with a short message when the upstream is down or slow.
        on_upstream_ok: Called when the upstream answered (whatever the status).
    """

    def __init__(
        self,
        store: Store,
        config: ProxyConfig,
        metrics: ServiceMetrics,
        *,
        on_recorded: Callable[[str], None] = lambda _: None,
        on_upstream_failure: Callable[[str], None] = lambda _: None,
        on_upstream_ok: Callable[[], None] = lambda: None,
    ) -> None:
        self.store, self.config, self.metrics = store, config, metrics
        self.on_recorded, self.on_upstream_failure = on_recorded, on_upstream_failure
        self.on_upstream_ok = on_upstream_ok
        self._known: frozenset[str] = frozenset(config.local_models)
        self._models_at = float("-inf")  # when the upstream's list was last asked for
        self._models_ok_at = float("-inf")  # when it last answered
        self._tasks: set[asyncio.Task[None]] = set()
        self.client = UpstreamClient()
        self._local: dict[str, Any] = {}
        self._writer: GroupCommitter[NewInteraction, str] = GroupCommitter(partial(record_interactions, store))

    def start(self) -> None:
        """Start the interaction writer (inside the running event loop)."""
        self._writer.start()

    async def warm(self) -> None:
        """Load the local models and the upstream's model list now, so the first request does not pay for it."""
        for name in self.config.local_models:
            await run_in_threadpool(self._local_model, name)
        if self.config.upstream_base_url:
            await self.list_models()

    def known_model(self, model: str) -> bool:
        """Whether ``model`` is a local model or on the upstream's ``/models`` list (as last fetched)."""
        return model in self._known

    def _models_due(self, model: str) -> bool:
        """Whether to fetch the upstream's list again: it is stale, or ``model`` is new to it (rate-limited)."""
        if not self.config.upstream_base_url:
            return False
        now = time.monotonic()
        stale = now - self._models_ok_at > MODELS_TTL_S
        if (stale or model not in self._known) and now - self._models_at > MODELS_RETRY_S:
            self._models_at = now  # at once: concurrent requests start one refresh, not one each
            return True
        return False

    async def _refresh_models(self) -> None:
        await self.list_models()

    async def aclose(self) -> None:
        """Write the queued interactions, close the upstream connection pool."""
        await self._writer.stop()
        await self.client.aclose()

    def backend_for(self, model: str) -> Literal["local", "upstream"]:
        """``local`` for a configured local model name, else ``upstream``."""
        return "local" if model in self.config.local_models else "upstream"

    async def list_models(self) -> dict[str, Any]:
        """The local models plus the upstream's ``/models`` (skipped when unreachable)."""
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "alignlab"} for m in self.config.local_models]
        if self.config.upstream_base_url:
            self._models_at = time.monotonic()
            try:
                response = await self.client.request(
                    "GET", f"{self._base}/models", headers=self._headers, timeout_s=self.config.upstream_timeout_s
                )
                self.on_upstream_ok()
                listed = _json_or_none(response.content) if response.status == 200 else None
                data += [m for m in (listed or {}).get("data", []) if isinstance(m, dict)]
                if listed is not None:
                    self._models_ok_at = self._models_at
                    upstream = {str(m.get("id")) for m in data if isinstance(m.get("id"), str)}
                    self._known = frozenset(self.config.local_models) | upstream
            except UpstreamUnavailable:
                self.on_upstream_failure("upstream /models unreachable")
        return {"object": "list", "data": data}

    @property
    def _base(self) -> str:
        return str(self.config.upstream_base_url).rstrip("/")

    @property
    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.config.upstream_api_key:
            headers["Authorization"] = f"Bearer {self.config.upstream_api_key}"
        return headers

    async def complete(self, body: dict[str, Any], *, api_key_id: str | None) -> ProxyReply:
        """Answer one chat completion request (``body`` is the client's JSON, already validated)."""
        model, stream = str(body["model"]), bool(body.get("stream"))
        backend = self.backend_for(model)
        interaction_id, start = uuid4().hex, time.perf_counter()
        base = {
            "id": interaction_id,
            "model": model,
            "backend": backend,
            "stream": stream,
            "request": body,
            "api_key_id": api_key_id,
        }
        headers = {"x-alignlab-interaction-id": interaction_id}
        if backend == "upstream" and self._models_due(model):  # off the request path
            self._background(self._refresh_models())
        if backend == "upstream" and not self.config.upstream_base_url:
            failure = _Failure(
                "error",
                404,
                _error(f"model {model!r} is not served here", "invalid_request_error", "model_not_found"),
                "no upstream configured",
            )
            if not await self._record(base, start, failure=failure):
                return _store_failed(interaction_id, headers)
            return ProxyReply(interaction_id, 404, failure.body, headers=headers)
        try:
            if stream and backend == "upstream":
                return ProxyReply(
                    interaction_id, 200, stream=await self._open_stream(body, base, start), headers=headers
                )
            if stream and (tokens := await self._open_local_stream(body, base, start)) is not None:
                return ProxyReply(interaction_id, 200, stream=tokens, headers=headers)
            if backend == "upstream":
                result, raw = await self._upstream(body)
            else:
                result, raw = await self._generate_local(body), None
        except _Failure as failure:
            if not await self._record(base, start, failure=failure):
                return _store_failed(interaction_id, headers)
            return ProxyReply(interaction_id, failure.http_status, failure.body, headers=headers)
        if not await self._record(base, start, result=result):
            return _store_failed(interaction_id, headers)
        if backend == "upstream":  # the upstream's bytes go back unchanged (no second serialisation)
            return ProxyReply(interaction_id, 200, result, headers=headers, raw=raw)
        if stream:  # a local model that cannot stream tokens answers in one piece
            return ProxyReply(interaction_id, 200, stream=_as_sse(result), headers=headers)
        return ProxyReply(interaction_id, 200, result, headers=headers)

    async def _upstream(self, body: dict[str, Any]) -> _Answer:
        try:
            response = await self.client.request(
                "POST",
                f"{self._base}/chat/completions",
                headers=self._headers,
                timeout_s=self.config.upstream_timeout_s,
                body=json.dumps(body).encode(),
            )
        except UpstreamUnavailable as exc:
            raise self._transport_failure(exc) from exc
        self.on_upstream_ok()
        return _Answer(_upstream_json(response.status, response.content), response.content)

    def _transport_failure(self, exc: UpstreamUnavailable) -> _Failure:
        if exc.kind == "timeout":
            message = f"upstream did not answer within {self.config.upstream_timeout_s:g} s"
            self.on_upstream_failure(message)
            return _Failure("timeout", 504, _error(message, "upstream_error", "upstream_timeout"), message)
        message = f"upstream unreachable ({exc})"
        self.on_upstream_failure(message)
        return _Failure("upstream_error", 502, _error(message, "upstream_error", "upstream_unreachable"), message)

    async def _open_stream(self, body: dict[str, Any], base: dict[str, Any], start: float) -> AsyncIterator[bytes]:
        try:
            response = await self.client.open_stream(
                f"{self._base}/chat/completions",
                headers=self._headers,
                timeout_s=self.config.upstream_timeout_s,
                body=json.dumps(body).encode(),
            )
            self.on_upstream_ok()
            if response.status != 200:
                content = await response.read()
                response.close()
                _upstream_json(response.status, content)  # raises the failure with the upstream's status
        except UpstreamUnavailable as exc:
            raise self._transport_failure(exc) from exc
        return self._relay(response, base, start)

    async def _relay(self, response: UpstreamStream, base: dict[str, Any], start: float) -> AsyncIterator[bytes]:
        parts: list[str] = []
        usage: dict[str, Any] = {}
        failure: _Failure | None = None
        finish: str | None = None
        completed = False
        try:
            async for line in response.lines():
                if line.strip() == "data: [DONE]":
                    continue  # sent after the row is committed
                if line.startswith("data:"):
                    chunk = _json_or_none(line[5:])
                    if chunk:
                        usage = chunk.get("usage") or usage
                        for choice in chunk.get("choices") or []:
                            if choice.get("index", 0) == 0:
                                parts.append((choice.get("delta") or {}).get("content") or "")
                                finish = choice.get("finish_reason") or finish
                yield (line + "\n").encode()
            completed = True
        except UpstreamUnavailable as exc:
            failure = self._transport_failure(exc)
        finally:
            # A client that hangs up cancels this generator; the row must still be written.
            with anyio.CancelScope(shield=True):
                response.close()
                failure = await self._end_stream(base, start, "".join(parts), usage, finish, failure, completed)
        yield _stream_end(failure)

    async def _end_stream(
        self,
        base: dict[str, Any],
        start: float,
        text: str,
        usage: dict[str, Any],
        finish: str | None,
        failure: _Failure | None,
        completed: bool,
    ) -> _Failure | None:
        """Record a finished, failed or abandoned stream (call shielded from cancellation)."""
        if failure is None and not completed:
            failure = _Failure(
                "error",
                499,
                _error("client closed the stream", "client_error", "closed"),
                "client disconnected mid-stream",
            )
        result = {"choices": [{"message": {"content": text}, "finish_reason": finish}], "usage": usage}
        if not await self._record(base, start, result=result if failure is None else None, failure=failure, text=text):
            return _Failure("error", 500, _STORE_FAILED, "the interaction could not be stored")
        return failure

    async def _open_local_stream(
        self, body: dict[str, Any], base: dict[str, Any], start: float
    ) -> AsyncIterator[bytes] | None:
        """Start streaming tokens from a local model (``None``: this model cannot stream)."""
        from alignlab.models.streaming import can_stream, stream_chat

        api = (await run_in_threadpool(self._local_model, str(body["model"]))).api
        api = getattr(api, "backend", None) or api  # alignlab's local provider dispatches to an engine
        if not can_stream(api):
            return None
        try:
            tokens = await run_in_threadpool(
                stream_chat, api, _inspect_messages(body["messages"]), max_new_tokens=_max_tokens(body)
            )
        except Exception as exc:  # as for a non-streamed local failure: a 502 and a row
            raise _local_failure(exc) from exc
        return self._relay_local(tokens, body, base, start)

    async def _relay_local(
        self, tokens: TokenStream, body: dict[str, Any], base: dict[str, Any], start: float
    ) -> AsyncIterator[bytes]:
        common = _chunk_header(f"chatcmpl-{uuid4().hex}", str(body["model"]))
        parts: list[str] = []
        usage: dict[str, Any] = {}
        failure: _Failure | None = None
        completed = False
        try:
            yield _sse(common, {"role": "assistant", "content": ""})
            while (piece := await anyio.to_thread.run_sync(next, tokens.pieces, None)) is not None:
                if piece:
                    parts.append(piece)
                    yield _sse(common, {"content": piece})
            await anyio.to_thread.run_sync(tokens.join)
            if tokens.error is not None:
                failure = _local_failure(tokens.error)
            else:
                usage = _usage(tokens.prompt_tokens, tokens.completion_tokens)
                yield _sse(common, {}, finish=tokens.finish_reason, usage=usage)
            completed = True
        finally:
            with anyio.CancelScope(shield=True):
                tokens.cancel()
                failure = await self._end_stream(
                    base, start, "".join(parts), usage, tokens.finish_reason, failure, completed
                )
        yield _stream_end(failure)

    async def _generate_local(self, body: dict[str, Any]) -> dict[str, Any]:
        from inspect_ai.model import GenerateConfig

        model = await run_in_threadpool(self._local_model, str(body["model"]))
        config = GenerateConfig(
            max_tokens=_max_tokens(body),
            temperature=body.get("temperature"),
            seed=body.get("seed"),
        )
        try:
            output = await model.generate(_inspect_messages(body["messages"]), config=config)
        except Exception as exc:  # the model failed; the client gets a 500-class error, the row is kept
            raise _local_failure(exc) from exc
        usage = output.usage
        finish = _finish_reason(output.stop_reason, usage.output_tokens if usage else None, _max_tokens(body))
        return {
            "id": f"chatcmpl-{uuid4().hex}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": output.completion},
                    "finish_reason": finish,
                }
            ],
            "usage": _usage(usage.input_tokens if usage else 0, usage.output_tokens if usage else 0),
        }

    def _local_model(self, name: str) -> Any:
        if name not in self._local:
            from alignlab.models import get_model

            # The engine every local name gets (OpenVINO, else transformers): concurrent requests,
            # streamed or not, join one continuous batch (models/streaming.py streams either engine).
            self._local[name] = get_model(name)
        return self._local[name]

    async def _record(
        self,
        base: dict[str, Any],
        start: float,
        *,
        result: dict[str, Any] | None = None,
        failure: _Failure | None = None,
        text: str | None = None,
    ) -> bool:
        """Write the interaction's row; ``False`` if it could not be written (logged, without content)."""
        latency_ms = (time.perf_counter() - start) * 1000
        usage = (result or {}).get("usage") or {}
        if text is None and result is not None:
            choices = result.get("choices") or [{}]
            text = ((choices[0] or {}).get("message") or {}).get("content")
        # model_construct: every field comes from this module, already typed; validation is pure cost here.
        new = NewInteraction.model_construct(
            **base,
            status=failure.status if failure else "ok",
            http_status=failure.http_status if failure else 200,
            response=failure.body if failure else result,
            response_text=text,
            error=str(failure) if failure else None,
            latency_ms=latency_ms,
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
        )
        try:
            await self._writer.submit(new)
        except Exception as exc:  # never log the exception's text: it may quote the request
            log.error("could not store interaction %s: %s", new.id, type(exc).__name__)
            self.metrics.requests.labels(self._model_label(new.model), "store_error").inc()
            return False
        self.metrics.requests.labels(self._model_label(new.model), new.status).inc()
        self.metrics.latency.labels(new.backend).observe(latency_ms / 1000)
        for kind in ("prompt_tokens", "completion_tokens"):
            if isinstance(usage.get(kind), int):
                self.metrics.tokens.labels(kind).inc(usage[kind])
        if failure is None:
            self.on_recorded(new.id or "")
        return True

    def _model_label(self, model: str) -> str:
        return self.metrics.model(model, known=self.known_model(model))

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)  # keep a reference until it is done
        task.add_done_callback(self._tasks.discard)


_STORE_FAILED = _error("the interaction could not be stored; nothing was logged", "server_error", "store_failed")


def _store_failed(interaction_id: str, headers: dict[str, str]) -> ProxyReply:
    return ProxyReply(interaction_id, 500, _STORE_FAILED, headers=headers)


def _stream_end(failure: _Failure | None) -> bytes:
    """``[DONE]`` after a stream whose row is stored, else an error event (the openai SDK raises on it)."""
    if failure is None:
        return b"data: [DONE]\n\n"
    return f"data: {json.dumps(failure.body)}\n\n".encode()


def _json_or_none(text: str | bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _upstream_json(status: int, content: bytes) -> dict[str, Any]:
    body = _json_or_none(content)
    if status == 200 and body is not None:
        return body
    if body is None or "error" not in body:
        body = _error(f"upstream answered {status} with a non-JSON body", "upstream_error", "upstream_bad_response")
    raise _Failure("upstream_error", status if 400 <= status < 500 else 502, body, f"upstream answered {status}")


def _max_tokens(body: dict[str, Any]) -> int:
    return int(body.get("max_tokens") or body.get("max_completion_tokens") or 256)


def _finish_reason(stop_reason: str, completion_tokens: int | None, max_tokens: int) -> str:
    """OpenAI's ``finish_reason`` from Inspect's ``stop_reason`` and the token count.

    Inspect's Hugging Face provider reports ``unknown`` whether the model emitted its end
    token or ran out of budget; a reply shorter than ``max_tokens`` stopped on its own.
    """
    if stop_reason in ("max_tokens", "model_length"):
        return "length"
    if stop_reason in ("content_filter", "tool_calls"):
        return stop_reason
    if stop_reason == "unknown" and completion_tokens is not None and completion_tokens >= max_tokens:
        return "length"
    return "stop"


def _usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _local_failure(exc: BaseException) -> _Failure:
    from alignlab.models.engines.openvino import ContextLengthError

    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, ContextLengthError):
        cause = cause.__cause__ or cause.__context__
    if cause is not None:  # the client's prompt is too long: its mistake (400, OpenAI's code), not the model's
        message = "the prompt does not fit the model's context"
        return _Failure("error", 400, _error(message, "invalid_request_error", "context_length_exceeded"), str(exc))
    message = f"local model failed: {type(exc).__name__}"
    return _Failure("error", 502, _error(message, "server_error", "local_model_error"), str(exc))


def _chunk_header(completion_id: str, model: str, created: int | None = None) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()) if created is None else created,
        "model": model,
    }


def _sse(
    header: dict[str, Any], delta: dict[str, Any], *, finish: str | None = None, usage: dict[str, Any] | None = None
) -> bytes:
    chunk = {**header, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    if usage is not None:
        chunk["usage"] = usage
    return f"data: {json.dumps(chunk)}\n\n".encode()


async def _as_sse(result: dict[str, Any]) -> AsyncIterator[bytes]:
    """A whole completion as a two-chunk stream (for local models that cannot stream tokens)."""
    choice = result["choices"][0]
    header = _chunk_header(result["id"], result["model"], result["created"])
    yield _sse(header, {"role": "assistant", "content": choice["message"]["content"]})
    yield _sse(header, {}, finish=choice["finish_reason"], usage=result["usage"])
    yield b"data: [DONE]\n\n"


def _inspect_messages(messages: list[dict[str, Any]]) -> list[Any]:
    from inspect_ai.model import ChatMessageAssistant, ChatMessageSystem, ChatMessageUser

    kinds = {
        "system": ChatMessageSystem,
        "developer": ChatMessageSystem,
        "user": ChatMessageUser,
        "assistant": ChatMessageAssistant,
    }
    out = []
    for m in messages:
        content = m.get("content")
        if isinstance(content, list):
            content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
        out.append(kinds.get(str(m.get("role")), ChatMessageUser)(content=str(content or "")))
    return out
