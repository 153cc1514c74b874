"""The connection pool to the upstream OpenAI-compatible server.

aiohttp, not httpx: on the proxy's hot path httpx's pool cost 1.3-2.6 ms of CPU per request
(its connection pool rescans every connection on each request), aiohttp about 0.3 ms
(``benchmarks/proxy.py``; docs/service.md has the figures). Transport failures surface as one
exception, :class:`UpstreamUnavailable`, with ``kind`` ``timeout`` or ``unreachable``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Literal, NamedTuple

import aiohttp

__all__ = ["UpstreamClient", "UpstreamResponse", "UpstreamStream", "UpstreamUnavailable"]

_CONNECT_TIMEOUT_S = 5.0


class UpstreamUnavailable(Exception):
    """The upstream did not answer in time (``timeout``) or could not be reached (``unreachable``)."""

    def __init__(self, kind: Literal["timeout", "unreachable"], detail: str) -> None:
        super().__init__(detail)
        self.kind = kind


class UpstreamResponse(NamedTuple):
    """A whole upstream response."""

    status: int
    content: bytes


def _unavailable(exc: BaseException) -> UpstreamUnavailable:
    # ServerTimeoutError is both a ClientError and a TimeoutError: test for the timeout first.
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return UpstreamUnavailable("timeout", type(exc).__name__)
    return UpstreamUnavailable("unreachable", type(exc).__name__)


_TRANSPORT_ERRORS = (aiohttp.ClientError, OSError, asyncio.TimeoutError)


class UpstreamStream:
    """An open streaming response: iterate :meth:`lines`, then :meth:`close`."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.status = response.status
        self._response = response
        self._complete = False

    async def lines(self) -> AsyncIterator[str]:
        """Decoded lines without their line ending.

        Raises:
            UpstreamUnavailable: The connection broke or went quiet for longer than the timeout.
        """
        try:
            async for line in self._response.content:
                yield line.decode("utf-8", errors="replace").rstrip("\r\n")
        except _TRANSPORT_ERRORS as exc:
            raise _unavailable(exc) from exc
        self._complete = True

    async def read(self) -> bytes:
        """The rest of the body (for an error response)."""
        try:
            content = await self._response.read()
        except _TRANSPORT_ERRORS as exc:
            raise _unavailable(exc) from exc
        self._complete = True
        return content

    def close(self) -> None:
        """Give the connection back (read to the end) or drop it (abandoned mid-stream)."""
        if self._complete:
            self._response.release()
        else:
            self._response.close()


class UpstreamClient:
    """A keep-alive pool of up to ``limit`` connections, opened on first use (inside the event loop)."""

    def __init__(self, *, limit: int = 256) -> None:
        self._limit = limit
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                # trust_env: HTTP(S)_PROXY / NO_PROXY apply, as they did with httpx.
                connector=aiohttp.TCPConnector(limit=self._limit),
                trust_env=True,
            )
        return self._session

    @staticmethod
    def _timeout(timeout_s: float) -> aiohttp.ClientTimeout:
        # Per read, like httpx's read timeout: a stream may run long as long as it keeps talking.
        return aiohttp.ClientTimeout(total=None, connect=_CONNECT_TIMEOUT_S, sock_read=timeout_s)

    async def request(
        self, method: str, url: str, *, headers: dict[str, str], timeout_s: float, body: bytes | None = None
    ) -> UpstreamResponse:
        """Send a request and read the whole response.

        Raises:
            UpstreamUnavailable: Timeout or transport failure.
        """
        try:
            async with self._open().request(
                method, url, data=body, headers=headers, timeout=self._timeout(timeout_s)
            ) as response:
                return UpstreamResponse(response.status, await response.read())
        except _TRANSPORT_ERRORS as exc:
            raise _unavailable(exc) from exc

    async def open_stream(self, url: str, *, headers: dict[str, str], timeout_s: float, body: bytes) -> UpstreamStream:
        """POST ``body`` and return as soon as the response headers arrive.

        Raises:
            UpstreamUnavailable: Timeout or transport failure before the headers.
        """
        try:
            response = await self._open().post(url, data=body, headers=headers, timeout=self._timeout(timeout_s))
        except _TRANSPORT_ERRORS as exc:
            raise _unavailable(exc) from exc
        return UpstreamStream(response)

    async def aclose(self) -> None:
        """Close every pooled connection."""
        if self._session is not None:
            await self._session.close()
