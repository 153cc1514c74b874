"""API keys: created once, shown once, stored as a salted SHA-256 hash.

A key reads ``al_<id>_<secret>``. The id (16 hex characters) finds the row; the secret
(32 bytes, URL-safe base64) is hashed with a per-key random salt and compared in constant
time. The plaintext never reaches the database or the log.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select, update

from alignlab.errors import ConfigError
from alignlab.store import Store
from alignlab.store.service_tables import ApiKeyRow, UiSessionRow

__all__ = [
    "ROLES",
    "ApiKey",
    "CreatedKey",
    "Role",
    "create_key",
    "list_keys",
    "revocation_count",
    "revoke_key",
    "role_allows",
    "verify_key",
]

Role = Literal["annotator", "moderator", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
_RANK = {role: i for i, role in enumerate(ROLES)}
_PREFIX = "al_"
_HEX = frozenset("0123456789abcdef")


class ApiKey(BaseModel):
    """A stored key, without its secret."""

    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: str
    name: str
    role: Role
    created_at: datetime
    revoked_at: datetime | None


class CreatedKey(BaseModel):
    """A new key: ``token`` is the only time the secret is available."""

    key: ApiKey
    token: str


def role_allows(role: Role, needed: Role) -> bool:
    """Roles are ordered annotator < moderator < admin; a higher role can do what a lower one can."""
    return _RANK[role] >= _RANK[needed]


def _hash(salt: str, secret: str) -> str:
    return hmac.new(bytes.fromhex(salt), secret.encode(), hashlib.sha256).hexdigest()


def create_key(store: Store, *, role: str, name: str = "") -> CreatedKey:
    """Create a key with ``role`` and return it with its one-time token.

    Raises:
        ConfigError: ``role`` is not annotator, moderator or admin.
    """
    if role not in _RANK:
        raise ConfigError(f"unknown role {role!r}; valid roles: {', '.join(ROLES)}")
    key_id, secret, salt = secrets.token_hex(8), secrets.token_urlsafe(32), secrets.token_hex(16)
    row = ApiKeyRow(
        id=key_id,
        name=name or role,
        role=role,
        salt=salt,
        secret_hash=_hash(salt, secret),
        created_at=datetime.now(UTC),
        revoked_at=None,
    )
    with store.session() as session:
        session.add(row)
        session.commit()
    return CreatedKey(key=ApiKey.model_validate(row), token=f"{_PREFIX}{key_id}_{secret}")


def verify_key(store: Store, token: str) -> ApiKey | None:
    """Return the key ``token`` belongs to, or ``None`` if it is malformed, unknown, wrong or revoked."""
    if not token.startswith(_PREFIX):
        return None
    key_id, sep, secret = token[len(_PREFIX) :].partition("_")
    # The id goes into a query: only what create_key makes (16 hex digits) gets that far, so a
    # NUL or a lone surrogate in a token is a failed login, not a database error.
    if not sep or len(key_id) != 16 or not set(key_id) <= _HEX or not secret or not secret.isascii():
        return None
    with store.session() as session:
        row = session.get(ApiKeyRow, key_id)
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.secret_hash, _hash(row.salt, secret)):
        return None
    return ApiKey.model_validate(row)


def list_keys(store: Store) -> list[ApiKey]:
    """Every key, oldest first."""
    with store.session() as session:
        rows = session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at)).all()
    return [ApiKey.model_validate(r) for r in rows]


def revoke_key(store: Store, key_id: str) -> ApiKey:
    """Revoke a key so it no longer authenticates, and end its page sessions.

    Raises:
        ConfigError: No key has that id.
    """
    with store.session() as session:
        row = session.get(ApiKeyRow, key_id)
        if row is None:
            raise ConfigError(f"no API key with id {key_id!r}")
        row.revoked_at = row.revoked_at or datetime.now(UTC)
        session.execute(
            update(UiSessionRow)
            .where(UiSessionRow.key_id == key_id, UiSessionRow.ended_at.is_(None))
            .values(ended_at=row.revoked_at)
        )
        session.commit()
    return ApiKey.model_validate(row)


def revocation_count(store: Store) -> int:
    """How many keys are revoked: a cheap marker that changes whenever any process revokes one.

    Revocation only ever adds (``revoked_at`` is set once and never cleared), so a cache
    that sees this number unchanged knows none of its keys was revoked meanwhile.
    """
    with store.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).where(ApiKeyRow.revoked_at.is_not(None))) or 0)
