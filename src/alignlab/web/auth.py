"""Who is calling: API keys from the ``Authorization: Bearer`` header (API) or a server-side session (pages).

The page session cookie holds a random session id, never the key: the store keeps its hash,
its expiry and whether it was ended (logout) or its key revoked.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from alignlab.monitor import ApiKey, Role, UiSession, find_session, role_allows
from alignlab.web.deps import KeysDep, StoreDep

__all__ = ["COOKIE", "ApiKeyDep", "OptionalApiKeyDep", "PageSessionDep", "api_key", "optional_api_key", "require_role"]

COOKIE = "alignlab_session"


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("x-api-key") or None


async def optional_api_key(request: Request, keys: KeysDep) -> ApiKey | None:
    """The caller's key from the headers; 401 when one is given but wrong."""
    token = _bearer(request)
    if token is None:
        return None
    key = await keys.verify(token)
    if key is None:
        raise HTTPException(401, "invalid or revoked API key")
    return key


OptionalApiKeyDep = Annotated[ApiKey | None, Depends(optional_api_key)]


async def api_key(key: OptionalApiKeyDep) -> ApiKey:
    """The caller's key from the headers; 401 when missing or wrong."""
    if key is None:
        raise HTTPException(401, "missing API key: send 'Authorization: Bearer <key>'")
    return key


ApiKeyDep = Annotated[ApiKey, Depends(api_key)]


def require_role(role: Role) -> object:
    """A dependency that demands a key of at least ``role`` (403 otherwise)."""

    async def check(key: ApiKeyDep) -> ApiKey:
        if not role_allows(key.role, role):
            raise HTTPException(403, f"this needs a {role} key; yours is {key.role}")
        return key

    return Depends(check)


async def page_session(request: Request, store: StoreDep) -> UiSession | None:
    """The live session of the browser's cookie, or ``None`` (the page then redirects to login)."""
    token = request.cookies.get(COOKIE)
    if not token or len(token) > 200:
        return None
    return await run_in_threadpool(find_session, store, token)


PageSessionDep = Annotated[UiSession | None, Depends(page_session)]
