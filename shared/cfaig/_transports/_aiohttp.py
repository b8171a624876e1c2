"""The default async pool: one aiohttp session (per event loop), behind httpx-shaped responses.

httpx's own async pool scans its connections on every request and does not keep up under concurrency
(``benchmarks/`` measures it), so the async client sends on aiohttp unless you give it an httpx client
or transport. Only sending lives here: the response object offers the part of ``httpx.Response`` the
client and streams use.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING

from cfaig._constants import DEFAULT_CONNECT_TIMEOUT, MAX_CONNECTIONS
from cfaig._headers import HeaderValue, wire_headers
from cfaig.config import GatewayConfig

if TYPE_CHECKING:
    import aiohttp
    from multidict import CIMultiDictProxy

__all__ = ["AiohttpPool", "AiohttpResponse", "available"]


def available() -> bool:
    """Whether aiohttp can be imported (it is a dependency; a broken install falls back to httpx)."""
    try:
        import aiohttp  # noqa: F401
    except ImportError:  # pragma: no cover - aiohttp is a declared dependency
        return False
    return True


class AiohttpResponse:
    """The part of ``httpx.Response`` the client and streams use, over an aiohttp response."""

    __slots__ = ("_response", "headers", "status_code")

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status_code = response.status
        self.headers: CIMultiDictProxy[str] = response.headers

    async def aread(self) -> bytes:
        try:
            return await self._response.read()
        finally:
            self._response.release()

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        async for data in self._response.content.iter_any():
            yield data

    async def aclose(self) -> None:
        if self._response.content.at_eof():
            self._response.release()  # back to the pool
        else:
            self._response.close()  # abandoned mid-body: the connection cannot be reused


class AiohttpPool:
    """A pooled session for the running loop: verified TLS, no cookies, the client's timeouts."""

    __slots__ = ("session",)

    def __init__(self, config: GatewayConfig, ssl_context: ssl.SSLContext) -> None:
        import aiohttp

        connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS, limit_per_host=0, ssl=ssl_context, ttl_dns_cache=300)
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=min(config.timeout, DEFAULT_CONNECT_TIMEOUT), sock_read=config.timeout
        )
        self.session = aiohttp.ClientSession(
            connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=True
        )

    async def send(
        self, method: str, url: str, headers: Mapping[str, HeaderValue], body: bytes, *, stream: bool
    ) -> AiohttpResponse:
        """Send and return once the status line and headers are in; the body is read on demand, so
        ``stream`` changes nothing here."""
        response = await self.session.request(
            method, url, data=body, headers=wire_headers(headers), allow_redirects=False
        )
        return AiohttpResponse(response)

    async def aclose(self) -> None:
        if not self.session.closed:
            await self.session.close()
