"""CloudflareAIGatewayEmbedding: a LlamaIndex embedding model over Cloudflare AI Gateway."""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding, Embedding
from pydantic import Field, PrivateAttr, model_validator

from cfaig import (
    AsyncGatewayClient,
    GatewayClient,
    GatewayConfig,
    GatewayOptions,
    parse_model,
    shared_async_client,
    shared_client,
)
from cfaig.errors import ConfigurationError
from cfaig.integration import GatewayFields, pop_metadata_kwarg
from cfaig.providers import DEFAULT_EMBEDDING_CONCURRENCY, DEFAULT_EMBEDDING_MODEL, embedding_batch_limits

__all__ = ["CloudflareAIGatewayEmbedding"]

logger = logging.getLogger("llamaindex_cfaig")


class CloudflareAIGatewayEmbedding(GatewayFields, BaseEmbedding):
    """Embeddings from OpenAI or Workers AI models through Cloudflare AI Gateway.

    ``model_name`` (or ``model=``) is a gateway model string; the default is
    ``workers-ai/@cf/baai/bge-base-en-v1.5``. ``embed_batch_size`` defaults to what the provider handles
    well (Workers AI 100, OpenAI 512) and is clamped to the provider's limit (Workers AI 100, OpenAI 2048).
    Async batches run concurrently, at most ``max_concurrency`` requests at a time, in input order.

    >>> embed = CloudflareAIGatewayEmbedding(account_id="...")  # doctest: +SKIP
    >>> len(embed.get_text_embedding("hello"))  # doctest: +SKIP
    768
    """

    model_name: str = Field(default=DEFAULT_EMBEDDING_MODEL, description="Gateway embedding model string.")
    dimensions: int | None = Field(
        default=None, gt=0, description="Output dimensions (OpenAI text-embedding-3 models only)."
    )
    max_concurrency: int = Field(
        default=DEFAULT_EMBEDDING_CONCURRENCY, ge=1, description="Async embedding requests in flight at once."
    )

    _config: GatewayConfig = PrivateAttr()
    _options: GatewayOptions = PrivateAttr()
    _client: GatewayClient | None = PrivateAttr(default=None)
    _aclient: AsyncGatewayClient | None = PrivateAttr(default=None)
    _provider: str = PrivateAttr()
    _semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = PrivateAttr(
        default_factory=weakref.WeakKeyDictionary
    )

    def __init__(
        self,
        *,
        gateway_client: GatewayClient | None = None,
        async_gateway_client: AsyncGatewayClient | None = None,
        **data: Any,
    ) -> None:
        """Validate the settings and build the core configuration once.

        ``model=`` is accepted for ``model_name``; ``metadata=`` for ``gateway_metadata``.
        ``gateway_client`` / ``async_gateway_client`` inject ready core clients (tests, custom transports).
        """
        if "model" in data:
            data.setdefault("model_name", data.pop("model"))
        pop_metadata_kwarg(data)
        super().__init__(**data)
        ref = parse_model(self.model_name)
        self._provider = ref.provider
        if self.dimensions is not None and ref.provider != "openai":
            raise ConfigurationError(f"dimensions is only supported by openai/ models, not {self.model_name}")
        injected = gateway_client or async_gateway_client
        self._config = injected.config if injected is not None else self.gateway_config()
        self._options = self.gateway_options()
        self._client = gateway_client
        self._aclient = async_gateway_client

    @model_validator(mode="before")
    @classmethod
    def _batch_size_for_provider(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        model = data.get("model_name") or DEFAULT_EMBEDDING_MODEL
        try:
            default, limit = embedding_batch_limits(str(model))
        except ConfigurationError:
            return data  # the model string is reported by __init__
        size = data.get("embed_batch_size")
        if size is None:
            data["embed_batch_size"] = default
        elif isinstance(size, int) and size > limit:
            logger.warning("embed_batch_size=%d is above %s's limit; using %d", size, model, limit)
            data["embed_batch_size"] = limit
        return data

    @classmethod
    def class_name(cls) -> str:
        return "CloudflareAIGatewayEmbedding"

    def to_payload(self) -> dict[str, Any]:
        """What instrumentation sees: model, batch size and where requests go; never credentials."""
        return {**super().to_payload(), "gateway_id": self._config.gateway_id, "surface": self._config.surface}

    @property
    def client(self) -> GatewayClient:
        """The sync core client: the injected one, else the shared one for this configuration."""
        if self._client is None:
            self._client = shared_client(self._config)
        return self._client

    @property
    def async_client(self) -> AsyncGatewayClient:
        """The async core client: the injected one, else the shared one for this configuration."""
        if self._aclient is None:
            self._aclient = shared_async_client(self._config)
        return self._aclient

    # --- requests -----------------------------------------------------------------------------

    def _semaphore(self) -> asyncio.Semaphore:
        # BaseEmbedding gathers every batch of a call at once; this bounds them per event loop
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores[loop] = asyncio.Semaphore(self.max_concurrency)
        return semaphore

    def _batching(self) -> dict[str, Any]:
        return {
            "batch_size": self.embed_batch_size,
            "max_concurrency": self.max_concurrency,
            "dimensions": self.dimensions,
            "options": self._options,
        }

    def _embed(self, texts: list[str]) -> list[Embedding]:
        return self.client.embed_many(self.model_name, texts, **self._batching())

    async def _aembed(self, texts: list[str]) -> list[Embedding]:
        async with self._semaphore():
            return await self.async_client.embed_many(self.model_name, texts, **self._batching())

    # --- BaseEmbedding hooks ------------------------------------------------------------------

    def _get_query_embedding(self, query: str) -> Embedding:
        return self._embed([query])[0]

    def _get_text_embedding(self, text: str) -> Embedding:
        return self._embed([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return self._embed(texts)

    async def _aget_query_embedding(self, query: str) -> Embedding:
        return (await self._aembed([query]))[0]

    async def _aget_text_embedding(self, text: str) -> Embedding:
        return (await self._aembed([text]))[0]

    async def _aget_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return await self._aembed(texts)
