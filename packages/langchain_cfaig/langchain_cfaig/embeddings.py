"""CloudflareAIGatewayEmbeddings: LangChain embeddings through Cloudflare AI Gateway."""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.embeddings import Embeddings
from pydantic import ConfigDict, Field, PrivateAttr

from cfaig import (
    AsyncGatewayClient,
    GatewayClient,
    GatewayConfig,
    GatewayOptions,
    shared_async_client,
    shared_client,
)
from cfaig.errors import ConfigurationError
from cfaig.integration import GatewayFields, pop_metadata_kwarg
from cfaig.providers import (
    DEFAULT_EMBEDDING_BATCH,
    DEFAULT_EMBEDDING_CONCURRENCY,
    DEFAULT_EMBEDDING_MODEL,
    EmbeddingSupport,
    embedding_support,
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
    # Connection fields and gateway options: cfaig.integration.GatewayFields (``metadata=`` is accepted
    # for the gateway log metadata and stored as ``gateway_metadata``).

    dimensions: int | None = None
    """Output size, for models that can shorten their vectors (OpenAI ``text-embedding-3-*``)."""
    encoding_format: Literal["float", "base64"] | None = None
    """Wire encoding; ``None`` picks base64 for OpenAI (faster to decode) and floats elsewhere."""
    chunk_size: int = Field(default=DEFAULT_EMBEDDING_BATCH, gt=0)
    """Texts per request, clamped to the provider's limit (OpenAI 2048, Workers AI 100)."""
    max_concurrency: int = Field(default=DEFAULT_EMBEDDING_CONCURRENCY, gt=0)
    """Batches in flight at once (threads in the sync methods, tasks in the async ones)."""
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Provider extras merged into the request body."""

    gateway_client: GatewayClient | None = Field(default=None, exclude=True)
    async_gateway_client: AsyncGatewayClient | None = Field(default=None, exclude=True)

    _config: GatewayConfig = PrivateAttr()
    _options: GatewayOptions = PrivateAttr()
    _support: EmbeddingSupport = PrivateAttr()

    def __init__(self, **data: Any) -> None:
        pop_metadata_kwarg(data)
        super().__init__(**data)
        # Built here rather than in a validator so the core's ConfigurationError reaches the caller as is
        # (pydantic would wrap it in a ValidationError).
        self._build_core_settings()

    def _build_core_settings(self) -> None:
        self._support = embedding_support(self.model)  # a model without an embeddings endpoint fails here
        if self.dimensions is not None and not self._support.dimensions:
            raise ConfigurationError(f"{self.model}: this provider does not accept dimensions")
        injected = self.gateway_client or self.async_gateway_client
        if injected is not None and self.account_id is None:
            self._config = injected.config  # an injected client brings its own configuration
        else:
            self._config = self.gateway_config()
        self._options = self.gateway_options()

    @property
    def batch_size(self) -> int:
        """``chunk_size`` clamped to the provider's input limit."""
        return min(self.chunk_size, self._support.max_batch)

    @property
    def _client(self) -> GatewayClient:
        return self.gateway_client or shared_client(self._config)

    @property
    def _async_client(self) -> AsyncGatewayClient:
        return self.async_gateway_client or shared_async_client(self._config)

    def _batching(self) -> dict[str, Any]:
        return {
            "batch_size": self.batch_size,
            "max_concurrency": self.max_concurrency,
            "dimensions": self.dimensions,
            "encoding_format": self.encoding_format,
            "extra_body": self.model_kwargs or None,
            "options": self._options,
        }

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed texts in batches, up to ``max_concurrency`` at once; an empty list sends nothing."""
        return self._client.embed_many(self.model, texts, **self._batching())

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed texts, up to ``max_concurrency`` batches at once; results keep the input order."""
        return await self._async_client.embed_many(self.model, texts, **self._batching())

    async def aembed_query(self, text: str) -> list[float]:
        return (await self.aembed_documents([text]))[0]
