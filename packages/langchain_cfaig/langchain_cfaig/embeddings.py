"""CloudflareAIGatewayEmbeddings: LangChain embeddings through Cloudflare AI Gateway."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from langchain_core.embeddings import Embeddings
from pydantic import ConfigDict, Field, PrivateAttr

from cfaig.integration.fields import GatewayFields
from cfaig.integration.requests import embedding_support_for
from cfaig.providers import (
    DEFAULT_EMBEDDING_BATCH,
    DEFAULT_EMBEDDING_CONCURRENCY,
    DEFAULT_EMBEDDING_MODEL,
    EmbeddingSupport,
)

__all__ = ["CloudflareAIGatewayEmbeddings"]


class CloudflareAIGatewayEmbeddings(GatewayFields, Embeddings):
    """Embeddings through Cloudflare AI Gateway (``openai/...`` and ``workers-ai/@cf/...`` models).

    Texts are sent in batches of ``chunk_size`` (clamped to the provider's limit: 2048 inputs for OpenAI,
    100 for Workers AI), up to ``max_concurrency`` batches at once; results keep input order. The batching
    is the core's ``embed_many``.

    Example:
        ```python
        from langchain_cfaig import CloudflareAIGatewayEmbeddings

        embeddings = CloudflareAIGatewayEmbeddings(
            model="workers-ai/@cf/baai/bge-base-en-v1.5", account_id="my-account"
        )
        vectors = embeddings.embed_documents(["first text", "second text"])
        query = embeddings.embed_query("which text?")
        ```
    """

    model_config = ConfigDict(
        populate_by_name=True, arbitrary_types_allowed=True, protected_namespaces=(), extra="forbid"
    )

    model: str = Field(default=DEFAULT_EMBEDDING_MODEL, alias="model_name")
    """Model string: ``openai/text-embedding-3-small``, ``workers-ai/@cf/baai/bge-base-en-v1.5``, ..."""
    # Connection fields, gateway options and injected clients: cfaig.integration.fields.GatewayFields
    # (``metadata=`` is accepted for the gateway log metadata and stored as ``gateway_metadata``).

    dimensions: int | None = None
    """Output size, for models that can shorten their vectors (OpenAI ``text-embedding-3-*``)."""
    encoding_format: Literal["float", "base64"] | None = None
    """Wire encoding; ``None`` picks base64 for OpenAI (faster to decode) and floats elsewhere."""
    chunk_size: int = Field(default=DEFAULT_EMBEDDING_BATCH, gt=0)
    """Texts per request, clamped to the provider's limit (OpenAI 2048, Workers AI 100)."""
    max_concurrency: int = Field(default=DEFAULT_EMBEDDING_CONCURRENCY, gt=0)
    """Batches in flight at once (threads in the sync methods, tasks in the async ones)."""
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Provider extras merged into the request body. A constructor keyword that is no field lands here with
    a warning, as with OpenAIEmbeddings."""

    _support: EmbeddingSupport = PrivateAttr()
    _extras_field: ClassVar[str | None] = "model_kwargs"
    _derived_from: ClassVar[frozenset[str]] = GatewayFields._derived_from | {"model", "dimensions"}

    def _derive(self) -> None:
        super()._derive()
        self._support = embedding_support_for(self.model, dimensions=self.dimensions)

    @property
    def batch_size(self) -> int:
        """``chunk_size`` clamped to the provider's input limit."""
        return min(self.chunk_size, self._support.max_batch)

    def _batching(self) -> dict[str, Any]:
        return {
            "batch_size": self.batch_size,
            "max_concurrency": self.max_concurrency,
            "dimensions": self.dimensions,
            "encoding_format": self.encoding_format,
            "extra_body": self.model_kwargs or None,
            "options": self._gateway.options,
        }

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed texts in batches, up to ``max_concurrency`` at once; an empty list sends nothing."""
        return self.client.embed_many(self.model, texts, **self._batching())

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed texts, up to ``max_concurrency`` batches at once; results keep the input order."""
        return await self.async_client.embed_many(self.model, texts, **self._batching())

    async def aembed_query(self, text: str) -> list[float]:
        return (await self.aembed_documents([text]))[0]
