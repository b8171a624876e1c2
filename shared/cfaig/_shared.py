"""Process-wide client sharing for the framework integrations.

LangChain and LlamaIndex build model objects freely (``configurable_fields`` builds one per call), so
each object owning a connection pool would leak pools and re-do TLS handshakes. Instead, objects with
equal configuration share one lazily created client, as ``ChatOpenAI`` does with its httpx clients.
"""

from __future__ import annotations

import atexit
import threading
from collections import OrderedDict

from cfaig._client import AsyncGatewayClient, GatewayClient
from cfaig.config import GatewayConfig

__all__ = ["shared_async_client", "shared_client"]

_MAX_SHARED = 64
_lock = threading.Lock()
_sync: OrderedDict[GatewayConfig, GatewayClient] = OrderedDict()
_async: OrderedDict[GatewayConfig, AsyncGatewayClient] = OrderedDict()


def shared_client(config: GatewayConfig) -> GatewayClient:
    """The process's :class:`GatewayClient` for ``config``, created on first use."""
    with _lock:
        client = _sync.get(config)
        if client is None:
            client = _sync[config] = GatewayClient(config)
            if len(_sync) > _MAX_SHARED:
                _sync.popitem(last=False)  # the evicted client stays usable by whoever holds it
        else:
            _sync.move_to_end(config)
        return client


def shared_async_client(config: GatewayConfig) -> AsyncGatewayClient:
    """The process's :class:`AsyncGatewayClient` for ``config``, created on first use."""
    with _lock:
        client = _async.get(config)
        if client is None:
            client = _async[config] = AsyncGatewayClient(config)
            if len(_async) > _MAX_SHARED:
                _async.popitem(last=False)
        else:
            _async.move_to_end(config)
        return client


@atexit.register
def _close_shared_clients() -> None:
    """Close the shared sync pools at interpreter exit (async pools close with their event loops)."""
    with _lock:
        for client in _sync.values():
            client.close()
        _sync.clear()
