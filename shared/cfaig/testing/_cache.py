"""The gateway cache: which requests may be cached (``cf-aig-cache-*`` headers, gateway TTL), and the store."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Final

from ._pipeline import Attempt, Context, Reply, header_flag, is_streaming
from ._routes import MODEL_KINDS

_MAX_CACHE_ENTRIES: Final = 4096
_DEFAULT_KEY_TTL: Final = 300
_AUTH_HEADERS: Final = ("authorization", "x-api-key", "x-goog-api-key", "api-key")


class ResponseCache:
    """Successful non-streamed model replies by cache key, expiring by ``clock`` (oldest dropped past 4096)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, Reply]] = {}
        """Key -> (expiry time, a private copy of the reply as the model gave it)."""

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def plan(self, ctx: Context, attempt: Attempt) -> tuple[str | None, float]:
        """The cache key and TTL for an attempt; ``(None, 0)`` when it must not be cached."""
        route, headers, settings = attempt.route, attempt.headers, ctx.settings
        if not ctx.proxied or settings is None or route.kind not in MODEL_KINDS or is_streaming(attempt.body):
            return None, 0.0
        if header_flag(headers, "cf-aig-skip-cache", "cf-skip-cache"):
            return None, 0.0
        custom_key = headers.get("cf-aig-cache-key")
        ttl: float = settings.cache_ttl
        raw_ttl = headers.get("cf-aig-cache-ttl", headers.get("cf-cache-ttl"))
        if raw_ttl is not None:
            try:
                ttl = float(raw_ttl)
            except ValueError:
                ttl = settings.cache_ttl
        elif ttl <= 0 and custom_key:
            ttl = _DEFAULT_KEY_TTL
        if ttl <= 0:
            return None, 0.0
        if custom_key:
            return f"{ctx.gateway_id}\x00key\x00{custom_key}", ttl
        auth = next((headers[h] for h in _AUTH_HEADERS if h in headers), "")
        digest = hashlib.sha256()
        for part in (str(ctx.gateway_id), ctx.surface, route.label, route.native_model or "", attempt.cache_path, auth):
            digest.update(part.encode())
            digest.update(b"\x00")
        digest.update(attempt.body_bytes)
        return f"{ctx.gateway_id}\x00{digest.hexdigest()}", ttl

    def get(self, key: str) -> Reply | None:
        """A fresh copy of the cached reply (``cf-aig-cache-status: HIT``), or None when absent or expired."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, reply = entry
            if expires <= self._clock():
                del self._entries[key]
                return None
        return replace(reply, headers=list(reply.headers), cache_status="HIT")

    def put(self, key: str, ttl: float, reply: Reply) -> None:
        """Store a copy of a successful, non-streamed reply for ``ttl`` seconds."""
        stored = replace(reply, headers=list(reply.headers), cache_status=None)
        with self._lock:
            self._entries[key] = (self._clock() + ttl, stored)
            while len(self._entries) > _MAX_CACHE_ENTRIES:
                del self._entries[next(iter(self._entries))]
