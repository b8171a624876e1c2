"""How an integration instance reaches the gateway: its configuration, default options and core clients.

One rule for injected clients, in every class of both frameworks: a ``gateway_client`` /
``async_gateway_client`` is used as it is, and its configuration is the instance's. The client already holds
a validated :class:`cfaig.GatewayConfig` and sends every request with it, so that is also the configuration
the instance reports (``gateway_id`` and ``surface`` in LangChain's identifying params and LlamaIndex's
``to_payload``); the connection fields are not used then. The half that is not injected (say, a sync client
when only an async one was given) is the process-wide shared client for that same configuration.

The shared client is looked up once per instance and kept: :func:`cfaig.shared_client` takes a lock and
hashes the configuration, which is work a call should not repeat.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cfaig.config import GatewayConfig
from cfaig.options import GatewayOptions

if TYPE_CHECKING:  # the clients load the HTTP stack: only when an instance first sends
    from cfaig import AsyncGatewayClient, GatewayClient

__all__ = ["GatewayState"]


class GatewayState:
    """The validated configuration and default options of one integration instance, and its clients."""

    __slots__ = ("_async_client", "_client", "config", "options")

    def __init__(
        self,
        config: GatewayConfig,
        options: GatewayOptions,
        client: GatewayClient | None = None,
        async_client: AsyncGatewayClient | None = None,
    ) -> None:
        self.config = config
        self.options = options
        self._client = client
        self._async_client = async_client

    @classmethod
    def resolve(
        cls,
        build_config: Callable[[], GatewayConfig],
        options: GatewayOptions,
        client: GatewayClient | None = None,
        async_client: AsyncGatewayClient | None = None,
    ) -> GatewayState:
        """The state for an instance: an injected client's configuration, else ``build_config()``."""
        injected = client or async_client
        config = injected.config if injected is not None else build_config()
        return cls(config, options, client, async_client)

    @property
    def client(self) -> GatewayClient:
        """The injected sync client, else the shared one for :attr:`config` (looked up once)."""
        if self._client is None:
            from cfaig import shared_client

            self._client = shared_client(self.config)
        return self._client

    @property
    def async_client(self) -> AsyncGatewayClient:
        """The injected async client, else the shared one for :attr:`config` (looked up once)."""
        if self._async_client is None:
            from cfaig import shared_async_client

            self._async_client = shared_async_client(self.config)
        return self._async_client

    def __deepcopy__(self, memo: dict[int, Any]) -> GatewayState:
        """A copy sharing the clients: they are connection pools (which cannot be copied), not values; the
        configuration and options are immutable."""
        return GatewayState(self.config, self.options, self._client, self._async_client)

    def __reduce__(self) -> tuple[type[GatewayState], tuple[GatewayConfig, GatewayOptions]]:
        """Pickled without its clients (pools do not pickle); the unpickled state looks the shared one up."""
        return GatewayState, (self.config, self.options)

    def describe(self) -> dict[str, Any]:
        """Where requests go, for tracing and instrumentation (never a credential)."""
        return {"gateway_id": self.config.gateway_id, "surface": self.config.surface}
