"""The httpx pools: the sync client's (yours, or ours sent on directly), the async one's, and their settings.

Our own sync pool sends straight to its transport: ``Client.send``'s cookie, auth, redirect and hook
layers have nothing to do for these requests. A client of yours goes through ``Client.send`` so that
its auth, proxies, hooks and cookies apply.
"""

from __future__ import annotations

import functools
import ssl
import threading
from collections.abc import Mapping
from typing import Any, cast

import httpx

from cfaig._constants import DEFAULT_CONNECT_TIMEOUT, MAX_CONNECTIONS, MAX_KEEPALIVE_CONNECTIONS
from cfaig._headers import HeaderValue, wire_headers
from cfaig.config import GatewayConfig

__all__ = ["AsyncHttpxPool", "SyncPool", "default_ssl_context", "gateway_headers"]


@functools.cache
def default_ssl_context() -> ssl.SSLContext:
    """One verified TLS context per process: building one costs tens of milliseconds."""
    return httpx.create_ssl_context()


def _timeout(config: GatewayConfig) -> httpx.Timeout:
    return httpx.Timeout(config.timeout, connect=min(config.timeout, DEFAULT_CONNECT_TIMEOUT))


def _limits() -> httpx.Limits:
    return httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_KEEPALIVE_CONNECTIONS)


@functools.lru_cache(maxsize=256)
def _url(url: str) -> httpx.URL:
    """Parsed once per distinct URL (a client uses a handful)."""
    return httpx.URL(url)


_READ_HEADERS = (b"content-type", b"retry-after", b"retry-after-ms")


def gateway_headers(headers: Any) -> Mapping[str, str]:
    """The response headers the client reads (``cf-aig-*``, content type, Retry-After), as a plain dict.

    Read from httpx's raw header list in one pass: ``Headers.get`` scans and decodes every header on
    each lookup, and reading the gateway's metadata takes about ten. aiohttp's case-insensitive
    multidict is already cheap to query and is returned as it is.
    """
    raw = getattr(headers, "raw", None)
    if raw is None:
        return cast(Mapping[str, str], headers)
    return {
        name.decode("latin-1").lower(): value.decode("latin-1")
        for name, value in raw
        if name[:7].lower() == b"cf-aig-" or name.lower() in _READ_HEADERS
    }


class SyncPool:
    """The sync client's connections: your ``httpx.Client`` as given, or ours, created on first use."""

    __slots__ = ("_client", "_extensions", "_lock", "_owned", "_timeout", "_transport")

    def __init__(
        self, config: GatewayConfig, client: httpx.Client | None, transport: httpx.BaseTransport | None
    ) -> None:
        self._client = client
        self._owned = client is None
        self._transport = transport
        self._timeout = _timeout(config)
        self._extensions = {"timeout": self._timeout.as_dict()}
        self._lock = threading.Lock()

    @property
    def client(self) -> httpx.Client:
        """The ``httpx.Client`` requests go through (ours is created here, once)."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    if self._transport is None:
                        self._transport = httpx.HTTPTransport(verify=default_ssl_context(), limits=_limits())
                    self._client = httpx.Client(
                        timeout=self._timeout, transport=self._transport, follow_redirects=False
                    )
        return self._client

    def send(
        self, method: str, url: str, headers: Mapping[str, HeaderValue], body: bytes, *, stream: bool
    ) -> httpx.Response:
        """Send one request; without ``stream`` the body is read before returning."""
        client = self.client
        if not self._owned:
            request = client.build_request(method, url, headers=wire_headers(headers), content=body)
            return client.send(request, stream=stream)
        transport = self._transport
        assert transport is not None  # created with our client
        request = httpx.Request(
            method, _url(url), headers=wire_headers(headers), content=body, extensions=self._extensions
        )
        response = transport.handle_request(request)
        response.request = request
        if not stream:
            response.read()
        return response

    def close(self) -> None:
        """Close our pool (a client of yours is yours to close)."""
        if self._client is not None and self._owned:
            self._client.close()
            self._client = None


class AsyncHttpxPool:
    """An ``httpx.AsyncClient`` to send on: yours (never closed here), or ours for one event loop."""

    __slots__ = ("_owned", "client")

    def __init__(self, client: httpx.AsyncClient, *, owned: bool) -> None:
        self.client = client
        self._owned = owned

    @classmethod
    def for_loop(cls, config: GatewayConfig, transport: httpx.AsyncBaseTransport | None) -> AsyncHttpxPool:
        """Ours, over your transport (or httpx's default one), with the client's timeouts and limits."""
        client = httpx.AsyncClient(
            timeout=_timeout(config),
            limits=_limits(),
            transport=transport,
            verify=default_ssl_context(),
            follow_redirects=False,
        )
        return cls(client, owned=True)

    async def send(
        self, method: str, url: str, headers: Mapping[str, HeaderValue], body: bytes, *, stream: bool
    ) -> httpx.Response:
        """Send one request; without ``stream`` the body is read before returning."""
        request = self.client.build_request(method, url, headers=wire_headers(headers), content=body)
        return await self.client.send(request, stream=stream)

    async def aclose(self) -> None:
        if self._owned:
            await self.client.aclose()
