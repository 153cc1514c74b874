"""Errors as OpenAI sends them: status codes, one error object, and the same in the OpenAPI schema.

OpenAI answers a malformed request with 400 and ``{"error": {"message", "type", "param",
"code"}}``; the openai SDK maps the status to its exception class (400 → ``BadRequestError``),
so a 422 would surface as the wrong exception. Every error of the service has that shape
(plus ``detail``, FastAPI's usual field, for clients that read it), and the schema documents
400/401/403/404/413 instead of FastAPI's 422.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from alignlab.errors import AlignlabError
from alignlab.monitor import UnknownInteractionError

__all__ = ["ERROR_RESPONSES", "ErrorBody", "ErrorResponse", "error_body", "install_error_handlers"]


class ErrorBody(BaseModel):
    """OpenAI's error object."""

    message: str
    type: str
    code: str | None = None
    param: str | None = None


class ErrorResponse(BaseModel):
    """What every error response carries (``detail``: the service's own errors; not the upstream's, relayed)."""

    error: ErrorBody
    detail: str | None = None


_DOCUMENTED = {
    400: "Malformed request: bad JSON, a wrong type, a value out of range, unstorable text (NUL, lone surrogate).",
    401: "Missing, invalid or revoked API key.",
    403: "The key's role is not enough.",
    404: "Unknown interaction, key or model.",
    413: "Request body too large.",
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": text} for status, text in _DOCUMENTED.items()
}


def error_body(message: str, code: str, kind: str = "invalid_request_error") -> dict[str, Any]:
    """The OpenAI error shape (``detail`` repeats the message for FastAPI-style clients)."""
    return {"error": {"message": message, "type": kind, "code": code, "param": None}, "detail": message}


def _problems(exc: RequestValidationError) -> str:
    # Paths may hold client-chosen keys: each is cut short so the message stays a line.
    return "; ".join(
        f"{'.'.join(str(p)[:40] for p in e.get('loc', ()) if p != 'body')[:200] or 'body'}: {str(e.get('msg'))[:300]}"
        for e in exc.errors()[:5]
    )


def install_error_handlers(app: FastAPI) -> None:
    """Map HTTP errors, validation errors and user errors to OpenAI-shaped responses."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code in (302, 303):
            return Response(status_code=exc.status_code, headers=exc.headers)
        return JSONResponse(
            error_body(str(exc.detail), f"http_{exc.status_code}"), exc.status_code, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        # The message names fields, never echoes their values (they may be anything).
        return JSONResponse(error_body(f"invalid request: {_problems(exc)}", "invalid_request"), 400)

    @app.exception_handler(UnknownInteractionError)
    async def unknown(request: Request, exc: UnknownInteractionError) -> Response:
        return JSONResponse(error_body(str(exc), "unknown_interaction"), 404)

    @app.exception_handler(AlignlabError)
    async def user_error(request: Request, exc: AlignlabError) -> Response:
        return JSONResponse(error_body(str(exc), "bad_request"), 400)

    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema with its 422 responses (never sent) removed: errors are documented as 400."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                responses = operation.get("responses", {})
                if responses.pop("422", None) is not None and "400" not in responses:
                    responses["400"] = {
                        "description": _DOCUMENTED[400],
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
                    }
        for name in ("HTTPValidationError", "ValidationError"):
            schema.get("components", {}).get("schemas", {}).pop(name, None)
        app.openapi_schema = schema
    return app.openapi_schema
