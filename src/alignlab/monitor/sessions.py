"""Server-side sessions of the pages: a random id in the cookie, its hash and lifetime in the store.

The cookie used to hold the raw API key, so a stolen cookie was the key itself and logging
out ended nothing. Now login creates a session (32 random bytes); the store keeps only
the id's SHA-256, the key it belongs to, when it expires and when it was ended. A session
stops working at its expiry, at logout (:func:`end_session`) and as soon as its key is
revoked (:func:`find_session` checks the key on every page; ``revoke_key`` also ends its
sessions). The CSRF token of a session's forms is derived from the stored hash, so it
changes with every login and dies with the session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, update

from alignlab.monitor.keys import ApiKey
from alignlab.store import Store
from alignlab.store.service_tables import ApiKeyRow, UiSessionRow

__all__ = ["SESSION_TTL", "NewSession", "UiSession", "create_session", "end_session", "end_sessions", "find_session"]

SESSION_TTL = timedelta(hours=12)
_MAX_TOKEN = 200


class UiSession(BaseModel):
    """A live session: whose it is, when it ends, the CSRF token of its forms."""

    model_config = ConfigDict(frozen=True)

    key: ApiKey
    expires_at: datetime
    csrf: str


class NewSession(BaseModel):
    """A session just created: ``token`` goes into the cookie and is not stored anywhere."""

    token: str
    session: UiSession


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _csrf(id_hash: str) -> str:
    return hmac.new(id_hash.encode(), b"csrf", hashlib.sha256).hexdigest()


def create_session(store: Store, key: ApiKey, *, ttl: timedelta = SESSION_TTL) -> NewSession:
    """Start a session for ``key`` (already verified) that lasts ``ttl``."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    row = UiSessionRow(id_hash=_digest(token), key_id=key.id, created_at=now, expires_at=now + ttl, ended_at=None)
    with store.session() as session:
        session.add(row)
        session.commit()
    return NewSession(token=token, session=UiSession(key=key, expires_at=row.expires_at, csrf=_csrf(row.id_hash)))


def find_session(store: Store, token: str) -> UiSession | None:
    """The live session behind a cookie's ``token``: ``None`` if unknown, expired, ended or its key revoked."""
    if not token or len(token) > _MAX_TOKEN:
        return None
    id_hash = _digest(token)
    now = datetime.now(UTC)
    with store.session() as session:
        found = session.execute(
            select(UiSessionRow, ApiKeyRow)
            .join(ApiKeyRow, ApiKeyRow.id == UiSessionRow.key_id)
            .where(UiSessionRow.id_hash == id_hash)
        ).first()
    if found is None:
        return None
    row, key = found.tuple()
    if row.ended_at is not None or row.expires_at <= now or key.revoked_at is not None:
        return None
    return UiSession(key=ApiKey.model_validate(key), expires_at=row.expires_at, csrf=_csrf(id_hash))


def end_session(store: Store, token: str) -> bool:
    """End the session behind ``token`` (logout); whether a live one was ended."""
    if not token or len(token) > _MAX_TOKEN:
        return False
    with store.engine.begin() as conn:
        result = conn.execute(
            update(UiSessionRow)
            .where(UiSessionRow.id_hash == _digest(token), UiSessionRow.ended_at.is_(None))
            .values(ended_at=datetime.now(UTC))
        )
    return bool(result.rowcount)


def end_sessions(store: Store, key_id: str) -> int:
    """End every live session of a key (on revocation); how many."""
    with store.engine.begin() as conn:
        result = conn.execute(
            update(UiSessionRow)
            .where(UiSessionRow.key_id == key_id, UiSessionRow.ended_at.is_(None))
            .values(ended_at=datetime.now(UTC))
        )
    return int(result.rowcount)
