"""JSON routes: the OpenAI-compatible proxy, the feedback API, read access for moderators, metrics."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator
from starlette.concurrency import run_in_threadpool

from alignlab.errors import ConfigError
from alignlab.monitor import (
    MAX_OFFSET,
    AlertRecord,
    ApiKey,
    FeedbackIn,
    FeedbackRecord,
    InteractionFilter,
    InteractionRecord,
    InteractionStatus,
    StorableStr,
    UnknownInteractionError,
    get_interaction,
    list_alerts,
    list_interactions,
    read_monitor_state,
    record_feedback_many,
    revoke_key,
    role_allows,
    unstorable,
)
from alignlab.web.auth import ApiKeyDep, optional_api_key, require_role
from alignlab.web.deps import ConfigDep, FeedbackWriterDep, KeysDep, MetricsDep, ProxyDep, StoreDep
from alignlab.web.errors import ERROR_RESPONSES, ErrorResponse

__all__ = ["router"]

router = APIRouter(responses=ERROR_RESPONSES)
Moderator = Annotated[ApiKey, require_role("moderator")]
Admin = Annotated[ApiKey, require_role("admin")]


class ChatMessage(BaseModel):
    """One message of the conversation (extra OpenAI fields pass through)."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None


_INT64 = 2**63 - 1


class ChatCompletionRequest(BaseModel):
    """The OpenAI chat completion request; fields not listed are forwarded unchanged.

    Types are strict, as OpenAI's are (``"stream": "yes"`` is a 400, not ``True``), and no
    string anywhere in the body may hold a NUL or a lone surrogate (see ``monitor.text``).
    """

    model_config = ConfigDict(extra="allow", strict=True)

    model: StorableStr = Field(min_length=1, max_length=200)
    messages: list[ChatMessage] = Field(min_length=1, max_length=1000)
    stream: StrictBool = False
    max_tokens: StrictInt | None = Field(default=None, ge=1, le=100_000)
    max_completion_tokens: StrictInt | None = Field(default=None, ge=1, le=100_000)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, ge=0.0, le=1.0)
    seed: StrictInt | None = Field(default=None, ge=-(2**63), le=_INT64)

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        problem = unstorable(data)
        if problem:
            raise ValueError(problem)
        return data


async def proxy_key(request: Request, keys: KeysDep, config: ConfigDep) -> ApiKey | None:
    """Any valid key, checked before the body so a stranger learns nothing from validation errors.

    An open proxy (``require_key_for_proxy=False``) lets everyone through: applications may
    send whatever key their client was configured with.
    """
    if not config.require_key_for_proxy:
        try:
            return await optional_api_key(request, keys)
        except HTTPException:
            return None
    key = await optional_api_key(request, keys)
    if key is None:
        raise HTTPException(401, "missing API key: send 'Authorization: Bearer <key>'")
    return key


_CHAT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The completion: JSON, or server-sent events with ``stream: true``.",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "text/event-stream": {
                # One server-sent event: ``data`` is a JSON chunk, then ``[DONE]`` (or an error object).
                "schema": {"type": "object", "properties": {"event": {"type": "string"}, "data": {"type": "string"}}}
            },
        },
    },
    500: {"model": ErrorResponse, "description": "The interaction could not be stored (nothing was answered)."},
    502: {"model": ErrorResponse, "description": "The upstream or the local model failed."},
    504: {"model": ErrorResponse, "description": "The upstream did not answer in time."},
}


@router.post("/v1/chat/completions", tags=["proxy"], response_model=None, responses=_CHAT_RESPONSES)
async def chat_completions(
    body: ChatCompletionRequest, proxy: ProxyDep, key: Annotated[ApiKey | None, Depends(proxy_key)]
) -> Response:
    """Create a chat completion (OpenAI-compatible); the response carries ``x-alignlab-interaction-id``."""
    reply = await proxy.complete(body.model_dump(exclude_unset=True, mode="json"), api_key_id=key.id if key else None)
    if reply.stream is not None:
        return StreamingResponse(
            reply.stream, media_type="text/event-stream", headers={**reply.headers, "Cache-Control": "no-cache"}
        )
    if reply.raw is not None:
        return Response(reply.raw, reply.status_code, headers=reply.headers, media_type="application/json")
    return JSONResponse(reply.body, reply.status_code, headers=reply.headers)


@router.get("/v1/models", tags=["proxy"])
async def models(proxy: ProxyDep) -> dict[str, Any]:
    """Models served: the local ones and the upstream's."""
    return await proxy.list_models()


@router.post("/v1/feedback", tags=["feedback"], status_code=201, response_model=FeedbackRecord)
async def post_feedback(item: FeedbackIn, key: ApiKeyDep, writer: FeedbackWriterDep, metrics: MetricsDep) -> Response:
    """Attach feedback to a logged interaction (flags need a moderator key); 404 for an unknown interaction."""
    if item.kind == "flag" and not role_allows(key.role, "moderator"):
        raise HTTPException(403, f"flags need a moderator key; yours is {key.role}")
    record = await writer.submit((item, key.id))
    metrics.feedback.labels(record.kind).inc()
    # Serialised once, here: returning the model would make FastAPI validate it a second time.
    return Response(record.model_dump_json(), 201, media_type="application/json")


class FeedbackBatch(BaseModel):
    """Up to 1,000 feedback items written in one transaction."""

    model_config = ConfigDict(extra="forbid")

    items: list[FeedbackIn] = Field(min_length=1, max_length=1000)


class BatchResult(BaseModel):
    """One item's outcome: ``status`` 201 with the record, or a 4xx status with the error."""

    status: int
    record: FeedbackRecord | None = None
    error: str | None = None


@router.post("/v1/feedback/batch", tags=["feedback"])
async def post_feedback_batch(
    batch: FeedbackBatch, key: ApiKeyDep, store: StoreDep, metrics: MetricsDep
) -> list[BatchResult]:
    """Attach many pieces of feedback at once (e.g. buffered implicit events); each item succeeds or fails alone."""
    if any(i.kind == "flag" for i in batch.items) and not role_allows(key.role, "moderator"):
        raise HTTPException(403, f"flags need a moderator key; yours is {key.role}")
    results = await run_in_threadpool(record_feedback_many, store, [(item, key.id) for item in batch.items])
    out = []
    for result in results:
        if isinstance(result, FeedbackRecord):
            metrics.feedback.labels(result.kind).inc()
            out.append(BatchResult(status=201, record=result))
        else:
            out.append(
                BatchResult(status=404 if isinstance(result, UnknownInteractionError) else 400, error=str(result))
            )
    return out


@router.get("/v1/interactions", tags=["traffic"])
async def interactions(
    store: StoreDep,
    key: Moderator,
    model: Annotated[StorableStr | None, Query(max_length=200)] = None,
    status: InteractionStatus | None = None,
    refusal: Literal["compliance", "refusal", "partial_refusal"] | None = None,
    toxic: bool | None = None,
    flagged: bool | None = None,
    text: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    """Logged interactions, newest first (moderator or admin)."""
    f = InteractionFilter(
        model=model, status=status, refusal=refusal, toxic=toxic, flagged=flagged, text=text, limit=limit, offset=offset
    )
    page = await run_in_threadpool(list_interactions, store, f)
    return {"total": page.total, "items": [i.model_dump(mode="json") for i in page.items]}


@router.get("/v1/interactions/{interaction_id}", tags=["traffic"])
async def interaction(
    interaction_id: Annotated[str, Path(max_length=32)], store: StoreDep, key: Moderator
) -> InteractionRecord:
    """One interaction in full (moderator or admin)."""
    return await run_in_threadpool(get_interaction, store, interaction_id)


@router.get("/v1/alerts", tags=["monitor"])
async def alerts(store: StoreDep, key: Moderator, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[AlertRecord]:
    """Recent alerts (state changes: firing, resolved), newest first (moderator or admin)."""
    return await run_in_threadpool(list_alerts, store, limit=limit)


@router.get("/v1/monitor", tags=["monitor"])
async def monitor_state(store: StoreDep, config: ConfigDep, key: Moderator) -> dict[str, Any]:
    """Rolling rates and the last drift test, as the monitor last published them to the store."""
    if not config.monitor_enabled:
        return {"enabled": False}
    state = await run_in_threadpool(read_monitor_state, store)
    if state is None:
        return {"enabled": True, "rates": {}, "drift": None, "drift_windows": None, "updated_at": None}
    return {"enabled": True, **state.model_dump(mode="json")}


@router.post("/v1/keys/{key_id}/revoke", tags=["auth"])
async def revoke(key_id: Annotated[str, Path(max_length=32)], store: StoreDep, keys: KeysDep, key: Admin) -> ApiKey:
    """Revoke a key (admin) and end its page sessions; it stops working in this process at once, in others
    within a second."""
    try:
        revoked = await run_in_threadpool(revoke_key, store, key_id)
    except ConfigError as exc:
        raise HTTPException(404, str(exc)) from exc
    keys.forget(key_id)
    return revoked


@router.get("/metrics", tags=["monitor"], include_in_schema=False)
async def metrics(service_metrics: MetricsDep) -> Response:
    """Prometheus exposition (aggregates only, no traffic content; every label set is bounded)."""
    return Response(generate_latest(service_metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/healthz", tags=["monitor"])
async def healthz() -> dict[str, str]:
    """Liveness."""
    return {"status": "ok"}
