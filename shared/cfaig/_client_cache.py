"""A cache of clients per configuration, for the framework integrations (``cfaig.shared_client``).

LangChain and LlamaIndex build model objects freely (``configurable_fields`` builds one per call), so
each object owning a connection pool would leak pools and re-do TLS handshakes. Instead, objects with
equal configuration share one lazily created client, as ``ChatOpenAI`` does with its httpx clients.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

from cfaig._client import AsyncGatewayClient, GatewayClient
from cfaig.config import GatewayConfig

__all__ = ["shared_async_client", "shared_client"]

_MAX_SHARED = 64
_lock = threading.Lock()
_sync: OrderedDict[GatewayConfig, GatewayClient] = OrderedDict()
_async: OrderedDict[GatewayConfig, AsyncGatewayClient] = OrderedDict()
_C = TypeVar("_C", GatewayClient, AsyncGatewayClient)


def _cached(cache: OrderedDict[GatewayConfig, _C], config: GatewayConfig, create: Callable[[GatewayConfig], _C]) -> _C:
    """The cached client for ``config``, created on first use; the least recently used one beyond
    ``_MAX_SHARED`` is forgotten (and stays usable by whoever holds it)."""
    with _lock:
        client = cache.get(config)
        if client is None:
            client = cache[config] = create(config)
            if len(cache) > _MAX_SHARED:
                cache.popitem(last=False)
        else:
            cache.move_to_end(config)
        return client


def shared_client(config: GatewayConfig) -> GatewayClient:
    """The process's :class:`GatewayClient` for ``config``, created on first use."""
    return _cached(_sync, config, GatewayClient)


def shared_async_client(config: GatewayConfig) -> AsyncGatewayClient:
    """The process's :class:`AsyncGatewayClient` for ``config``, created on first use."""
    return _cached(_async, config, AsyncGatewayClient)


def _after_fork_in_child() -> None:
    """A lock another thread held at the fork would stay held in the child; the cached clients stay (their
    pools are forgotten by the child on their own, see ``cfaig._transports._fork``)."""
    global _lock  # replaced in the child, never shared with the parent
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


@atexit.register
def _close_shared_clients() -> None:
    """Close the shared sync pools at interpreter exit (async pools close with their event loops)."""
    with _lock:
        for client in _sync.values():
            client.close()
        _sync.clear()
