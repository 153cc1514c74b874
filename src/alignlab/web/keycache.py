"""A cache of verified API keys, so a busy proxy does not hash and query on every request."""

from __future__ import annotations

import hashlib
import time

from starlette.concurrency import run_in_threadpool

from alignlab.monitor import ApiKey, revocation_count, verify_key
from alignlab.store import Store

__all__ = ["REVOCATION_POLL_S", "KeyCache"]

_TTL_S = 60.0
REVOCATION_POLL_S = 1.0


class KeyCache:
    """Verified keys, so a busy proxy does not hash and query on every request.

    Keyed by a SHA-256 of the token, so the plaintext is not kept in memory longer than a
    request. Revocation is immediate in this process (:meth:`forget`) and takes at most
    ``REVOCATION_POLL_S`` (plus one request's time) from another one, such as
    ``alignlab keys revoke``: at most once a second a lookup counts the revoked keys in the
    store, and a changed count empties the cache. A positive entry lives ``_TTL_S`` at most.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._cache: dict[str, tuple[float, ApiKey | None]] = {}
        self._revoked: int | None = None
        self._polled_at = float("-inf")

    async def verify(self, token: str) -> ApiKey | None:
        """The key behind ``token``, or ``None``."""
        now = time.monotonic()
        if now - self._polled_at >= REVOCATION_POLL_S:
            self._polled_at = now  # before the await: concurrent requests poll once
            revoked = await run_in_threadpool(revocation_count, self.store)
            if revoked != self._revoked:
                self._cache.clear()
                self._revoked = revoked
        digest = hashlib.sha256(token.encode()).hexdigest()
        hit = self._cache.get(digest)
        if hit is not None and hit[0] > now:
            return hit[1]
        key = await run_in_threadpool(verify_key, self.store, token)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (time.monotonic() + _TTL_S, key)
        return key

    def forget(self, key_id: str) -> None:
        """Drop every cached verification of ``key_id`` (call right after revoking it)."""
        for digest in [d for d, (_, key) in self._cache.items() if key is not None and key.id == key_id]:
            self._cache.pop(digest, None)
