"""CloudflareAIGatewayEmbedding: a LlamaIndex embedding model over Cloudflare AI Gateway."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from llama_index.core.base.embeddings.base import BaseEmbedding, Embedding
from pydantic import Field, model_validator

from cfaig.errors import ConfigurationError
from cfaig.integration.fields import GatewayFields
from cfaig.integration.requests import embedding_support_for
from cfaig.providers import DEFAULT_EMBEDDING_CONCURRENCY, DEFAULT_EMBEDDING_MODEL, embedding_batch_limits

__all__ = ["CloudflareAIGatewayEmbedding"]

logger = logging.getLogger("llamaindex_cfaig")


class CloudflareAIGatewayEmbedding(GatewayFields, BaseEmbedding):
    """Embeddings from OpenAI or Workers AI models through Cloudflare AI Gateway.

    ``model_name`` (or ``model=``) is a gateway model string; the default is
    ``workers-ai/@cf/baai/bge-base-en-v1.5``. ``embed_batch_size`` defaults to what the provider handles
    well (Workers AI 100, OpenAI 512) and is clamped to the provider's limit (Workers AI 100, OpenAI 2048).
    Async batches run concurrently, at most ``max_concurrency`` requests at a time, in input order.
    ``model=`` is accepted for ``model_name``; ``metadata=`` for ``gateway_metadata``; ``gateway_client`` /
    ``async_gateway_client`` inject ready core clients (tests, custom transports).

    >>> embed = CloudflareAIGatewayEmbedding(account_id="...")  # doctest: +SKIP
    >>> len(embed.get_text_embedding("hello"))  # doctest: +SKIP
    768
    """

    model_name: str = Field(default=DEFAULT_EMBEDDING_MODEL, description="Gateway embedding model string.")
    dimensions: int | None = Field(
        default=None, gt=0, description="Output dimensions (OpenAI text-embedding-3 models only)."
    )
    max_concurrency: int = Field(
        default=DEFAULT_EMBEDDING_CONCURRENCY,
        ge=1,
        description="Batches in flight at once: the core's bound within one call, and BaseEmbedding's "
        "num_workers (the bound on the batches aget_text_embedding_batch gathers) unless that is set.",
    )

    additional_kwargs: dict[str, Any] = Field(
        default_factory=dict,
        description="Provider extras merged into every embeddings request body. A constructor keyword that "
        "is no field lands here, with a warning.",
    )

    _derived_from: ClassVar[frozenset[str]] = GatewayFields._derived_from | {"model_name", "dimensions"}
    _extras_field: ClassVar[str | None] = "additional_kwargs"

    def __init__(self, **data: Any) -> None:
        if "model" in data:
            data.setdefault("model_name", data.pop("model"))
        super().__init__(**data)

    def _derive(self) -> None:
        super()._derive()
        embedding_support_for(self.model_name, dimensions=self.dimensions)

    @model_validator(mode="before")
    @classmethod
    def _batching_for_provider(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if data.get("num_workers") is None:
            data["num_workers"] = data.get("max_concurrency") or DEFAULT_EMBEDDING_CONCURRENCY
        model = data.get("model_name") or DEFAULT_EMBEDDING_MODEL
        try:
            default, limit = embedding_batch_limits(str(model))
        except ConfigurationError:
            return data  # the model string is reported by _derive
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
        return {**super().to_payload(), **self._gateway.describe()}

    # --- requests -----------------------------------------------------------------------------

    def _batching(self) -> dict[str, Any]:
        return {
            "batch_size": self.embed_batch_size,
            "max_concurrency": self.max_concurrency,
            "dimensions": self.dimensions,
            "extra_body": self.additional_kwargs or None,
            "options": self._gateway.options,
        }

    def _embed(self, texts: list[str]) -> list[Embedding]:
        return self.client.embed_many(self.model_name, texts, **self._batching())

    async def _aembed(self, texts: list[str]) -> list[Embedding]:
        return await self.async_client.embed_many(self.model_name, texts, **self._batching())

    # --- BaseEmbedding hooks ------------------------------------------------------------------

    async def aget_text_embedding_batch(
        self, texts: list[str], show_progress: bool = False, **kwargs: Any
    ) -> list[Embedding]:
        """BaseEmbedding's batched call: its batches are gathered at most ``num_workers`` at a time.

        BaseEmbedding bounds that gather only when ``num_workers`` is above 1 (otherwise it gathers every
        batch at once), so with one worker the batches are handed to it one after another here.
        """
        if (self.num_workers or 0) > 1:
            return await super().aget_text_embedding_batch(texts, show_progress, **kwargs)
        size = self.embed_batch_size
        vectors: list[Embedding] = []
        for start in range(0, len(texts), size):
            vectors += await super().aget_text_embedding_batch(texts[start : start + size], show_progress, **kwargs)
        return vectors

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
