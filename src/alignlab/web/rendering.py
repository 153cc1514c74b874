"""What every server-rendered page shares: the role check and the rendering with its security headers.

Templates autoescape everything (model output is text, never markup); every page gets a fresh
nonce for its one inline script and a strict Content-Security-Policy, and is never cached.
Used by :mod:`alignlab.web.pages` and :mod:`alignlab.web.lineage`.
"""

from __future__ import annotations

import secrets
from functools import cache
from typing import Any

from fastapi import HTTPException
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from alignlab.monitor import Role, UiSession, role_allows

__all__ = ["LoginRedirect", "render_page", "require_role"]


@cache
def _templates() -> Environment:
    return Environment(loader=PackageLoader("alignlab.web", "templates"), autoescape=select_autoescape(default=True))


class LoginRedirect(HTTPException):
    """A 303 to ``to`` (the login page when there is no session)."""

    def __init__(self, to: str) -> None:
        super().__init__(303, headers={"Location": to})


def require_role(session: UiSession | None, role: Role) -> UiSession:
    """The session, if its key may see a ``role`` page.

    Raises:
        LoginRedirect: No session: to the login page.
        HTTPException: 403, the key's role is below ``role``.
    """
    if session is None:
        raise LoginRedirect("/ui/login")
    if not role_allows(session.key.role, role):
        raise HTTPException(403, f"this page needs a {role} key; yours is {session.key.role}")
    return session


def render_page(template: str, session: UiSession | None, **context: Any) -> HTMLResponse:
    """Render ``template`` with the session's CSRF token and key, under a nonce-based CSP."""
    nonce = secrets.token_urlsafe(16)
    csrf, key = (session.csrf, session.key) if session else ("", None)
    html = _templates().get_template(template).render(nonce=nonce, csrf=csrf, key=key, **context)
    response = HTMLResponse(html)
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["Cache-Control"] = "no-store"
    return response
