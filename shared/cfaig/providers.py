"""What cfaig knows about each provider behind the gateway, in one table.

One :class:`Provider` row per provider the unified (compat) endpoint serves: how each surface spells
it, its own OpenAI-compatible routes, its embeddings endpoint and limits, what its compat layer accepts
(:class:`ProviderCapabilities`), and the context window and output size of its known models. Model
parsing (``model_ref``), request building, both integrations and the CLI read it.

==================  =====  ====================  ======================  ===========  ==========================
provider            tools  parallel_tool_calls   tool_choice="required"  json_schema  structured output default
==================  =====  ====================  ======================  ===========  ==========================
openai              yes    yes                   yes                     yes          json_schema
anthropic           yes    yes                   yes                     no           function_calling
google-ai-studio    yes    no (dropped)          yes                     yes          json_schema
google-vertex-ai    yes    no (dropped)          yes                     yes          json_schema
workers-ai          yes    yes                   yes                     no           function_calling
groq                yes    yes                   yes                     yes          function_calling
mistral             yes    yes                   yes                     yes          json_schema
cohere              yes    no (dropped)          no ("auto")             no           function_calling
perplexity          no     no (dropped)          no ("auto")             no           json_mode
grok                yes    yes                   yes                     yes          json_schema
deepseek            yes    yes                   yes                     no           function_calling
cerebras            yes    yes                   yes                     yes          json_schema
others / dynamic    yes    yes                   yes                     no           function_calling
==================  =====  ====================  ======================  ===========  ==========================

A parameter a provider rejects is never sent to it: the request builder drops or rewrites it and logs
a warning once per provider and parameter. For OpenAI, ``max_tokens`` is sent as ``max_completion_tokens``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Literal, NamedTuple

from cfaig.errors import ConfigurationError

if TYPE_CHECKING:
    from cfaig.model_ref import ModelRef

__all__ = [
    "DEFAULT_CHAT_MODEL",
    "DEFAULT_CONTEXT_WINDOW",
    "DEFAULT_EMBEDDING_BATCH",
    "DEFAULT_EMBEDDING_CONCURRENCY",
    "DEFAULT_EMBEDDING_MODEL",
    "DEFAULT_NUM_OUTPUT",
    "PROVIDERS",
    "PROVIDER_TABLE",
    "EmbeddingSupport",
    "ModelSize",
    "Provider",
    "ProviderCapabilities",
    "StructuredMethod",
    "capabilities",
    "embedding_batch_limits",
    "embedding_support",
    "known_model_size",
    "model_size",
    "openai_compatible_providers",
    "provider_info",
]

DEFAULT_CHAT_MODEL: Final = "workers-ai/@cf/meta/llama-3.3-70b-instruct-fp8-fast"
"""The chat model of the CLI and the LlamaIndex LLM when none is named."""
DEFAULT_EMBEDDING_MODEL: Final = "workers-ai/@cf/baai/bge-base-en-v1.5"
"""The embedding model of the CLI and both embedding classes when none is named."""
DEFAULT_EMBEDDING_BATCH: Final = 512
"""Texts per embeddings request unless the provider takes fewer (512 keeps OpenAI well under its token cap)."""
DEFAULT_EMBEDDING_CONCURRENCY: Final = 4
"""Embedding batches in flight at once (``embed_many``, and both embedding classes)."""
DEFAULT_CONTEXT_WINDOW: Final = 8192
"""Tokens assumed for a model missing from the table: small, so no prompt is packed beyond what it takes."""
DEFAULT_NUM_OUTPUT: Final = 1024
"""Output tokens reserved for a model missing from the table (when ``max_tokens`` is not set)."""

StructuredMethod = Literal["json_schema", "function_calling", "json_mode"]


class ModelSize(NamedTuple):
    context_window: int
    num_output: int


@dataclass(frozen=True, slots=True)
class EmbeddingSupport:
    """How a provider's OpenAI-compatible embeddings endpoint behind the gateway behaves."""

    path: str
    """Route relative to the gateway root."""
    max_batch: int
    """Most inputs one request may carry."""
    dimensions: bool
    """Accepts ``dimensions`` (shortened vectors)."""
    base64: bool
    """Accepts ``encoding_format="base64"`` (vectors decode faster than from float JSON)."""

    @property
    def default_batch(self) -> int:
        """Texts per request when the caller does not say: :data:`DEFAULT_EMBEDDING_BATCH`, or the limit."""
        return min(DEFAULT_EMBEDDING_BATCH, self.max_batch)


@dataclass(frozen=True, slots=True)
class ProviderCapabilities:
    """What a provider's compat layer accepts (it answers 400 to the whole request otherwise)."""

    tool_calling: bool = True
    """Takes ``tools`` and answers with tool calls (LlamaIndex's ``is_function_calling_model``, LangChain's
    profile ``tool_calling``)."""
    parallel_tool_calls: bool = True
    tool_choice_required: bool = True
    json_schema: bool = False
    structured_output_method: StructuredMethod = "function_calling"
    max_completion_tokens: bool = False
    """The provider wants ``max_completion_tokens``: ``max_tokens`` is renamed (OpenAI's reasoning models
    reject ``max_tokens``; OpenAI deprecated it for every chat model)."""


@dataclass(frozen=True, slots=True)
class Provider:
    """One provider behind the gateway: its spelling on each surface and what we know about it."""

    name: str
    """The unified endpoint's model-string prefix: ``google-ai-studio`` in ``google-ai-studio/gemini-2.5-pro``."""
    slug: str
    """Its route on the gateway host: ``perplexity-ai`` in ``/{account}/{gateway}/perplexity-ai/...``."""
    rest_prefix: str | None
    """Its model-string prefix on the REST API (``google/...``); ``None``: the bare model id (``@cf/...``)."""
    chat_path: str | None = None
    """Its own OpenAI-compatible chat route, relative to the gateway root; ``None`` when it has none."""
    embeddings: EmbeddingSupport | None = None
    """Its OpenAI-compatible embeddings endpoint (the unified API serves chat only)."""
    capabilities: ProviderCapabilities = ProviderCapabilities()
    sizes: Mapping[str, ModelSize] = field(default_factory=dict)
    """Context window and output size by model-id prefix (the longest matching prefix wins)."""


_JSON_SCHEMA = ProviderCapabilities(json_schema=True, structured_output_method="json_schema")
_GOOGLE = ProviderCapabilities(parallel_tool_calls=False, json_schema=True, structured_output_method="json_schema")

_ROWS: Final = (
    Provider(
        "openai",
        slug="openai",
        rest_prefix="openai",
        chat_path="openai/chat/completions",
        embeddings=EmbeddingSupport("openai/embeddings", max_batch=2048, dimensions=True, base64=True),
        capabilities=ProviderCapabilities(
            json_schema=True, structured_output_method="json_schema", max_completion_tokens=True
        ),
        sizes={
            "gpt-5": ModelSize(400_000, 128_000),
            "gpt-4.1": ModelSize(1_047_576, 32_768),
            "gpt-4o": ModelSize(128_000, 16_384),
            "gpt-4-turbo": ModelSize(128_000, 4_096),
            "gpt-3.5-turbo": ModelSize(16_385, 4_096),
            "o1": ModelSize(200_000, 100_000),
            "o3": ModelSize(200_000, 100_000),
            "o4-mini": ModelSize(200_000, 100_000),
        },
    ),
    Provider(
        "anthropic",
        slug="anthropic",
        rest_prefix="anthropic",
        sizes={
            "claude-opus-4": ModelSize(200_000, 32_000),
            "claude-sonnet-4": ModelSize(200_000, 64_000),
            "claude-haiku-4": ModelSize(200_000, 64_000),
            "claude-3-7-sonnet": ModelSize(200_000, 64_000),
            "claude-3-5": ModelSize(200_000, 8_192),
            "claude-": ModelSize(200_000, 4_096),
        },
    ),
    Provider(
        "google-ai-studio",
        slug="google-ai-studio",
        rest_prefix="google",
        capabilities=_GOOGLE,
        sizes={
            "gemini-2.5": ModelSize(1_048_576, 65_536),
            "gemini-2.0": ModelSize(1_048_576, 8_192),
            "gemini-": ModelSize(1_048_576, 8_192),
        },
    ),
    Provider(
        "google-vertex-ai",
        slug="google-vertex-ai",
        rest_prefix="google-vertex-ai",
        capabilities=_GOOGLE,
        sizes={"gemini-2.5": ModelSize(1_048_576, 65_536), "gemini-": ModelSize(1_048_576, 8_192)},
    ),
    Provider(
        "workers-ai",
        slug="workers-ai",
        rest_prefix=None,
        chat_path="workers-ai/v1/chat/completions",
        embeddings=EmbeddingSupport("workers-ai/v1/embeddings", max_batch=100, dimensions=False, base64=False),
        sizes={
            "@cf/meta/llama-3.3-70b-instruct": ModelSize(24_000, 2_048),
            "@cf/meta/llama-3.1-8b-instruct": ModelSize(7_968, 2_048),
            "@cf/meta/llama-4-scout-17b-16e-instruct": ModelSize(131_000, 4_096),
            "@cf/openai/gpt-oss": ModelSize(128_000, 8_192),
            "@cf/qwen/": ModelSize(32_768, 4_096),
            "@cf/mistralai/mistral-small-3.1": ModelSize(128_000, 4_096),
        },
    ),
    Provider(
        "groq",
        slug="groq",
        rest_prefix="groq",
        chat_path="groq/chat/completions",
        capabilities=ProviderCapabilities(json_schema=True),
        sizes={"llama-3.3-70b-versatile": ModelSize(131_072, 32_768), "": ModelSize(131_072, 8_192)},
    ),
    Provider(
        "mistral",
        slug="mistral",
        rest_prefix="mistral",
        chat_path="mistral/v1/chat/completions",
        capabilities=_JSON_SCHEMA,
        sizes={"mistral-large": ModelSize(131_072, 8_192), "": ModelSize(32_768, 4_096)},
    ),
    Provider(
        "cohere",
        slug="cohere",
        rest_prefix="cohere",
        capabilities=ProviderCapabilities(parallel_tool_calls=False, tool_choice_required=False),
    ),
    Provider(
        "perplexity",
        slug="perplexity-ai",
        rest_prefix="perplexity",
        chat_path="perplexity-ai/chat/completions",
        capabilities=ProviderCapabilities(
            tool_calling=False,
            parallel_tool_calls=False,
            tool_choice_required=False,
            structured_output_method="json_mode",
        ),
    ),
    Provider(
        "grok",
        slug="grok",
        rest_prefix="xai",
        chat_path="grok/v1/chat/completions",
        capabilities=_JSON_SCHEMA,
        sizes={"grok-4": ModelSize(256_000, 16_384), "": ModelSize(131_072, 8_192)},
    ),
    Provider(
        "deepseek",
        slug="deepseek",
        rest_prefix="deepseek",
        chat_path="deepseek/chat/completions",
        sizes={"": ModelSize(128_000, 8_192)},
    ),
    Provider(
        "cerebras",
        slug="cerebras",
        rest_prefix="cerebras",
        chat_path="cerebras/chat/completions",
        capabilities=_JSON_SCHEMA,
        sizes={"": ModelSize(65_536, 8_192)},
    ),
    Provider("baseten", slug="baseten", rest_prefix="baseten"),
    Provider("parallel", slug="parallel", rest_prefix="parallel"),
)

PROVIDER_TABLE: Final[Mapping[str, Provider]] = {row.name: row for row in _ROWS}
"""Every provider the unified (compat) endpoint serves, by model-string prefix."""
PROVIDERS: Final = tuple(PROVIDER_TABLE)
"""Providers the unified (compat) endpoint supports, as model-string prefixes."""


@functools.lru_cache(maxsize=64)
def provider_info(name: str) -> Provider:
    """The row for a model-string prefix; a provider not in the table (``dynamic``, ``custom-<slug>``,
    ``aws-bedrock``) gets a row that spells it the same everywhere and knows nothing else."""
    return PROVIDER_TABLE.get(name) or Provider(name, slug=name, rest_prefix=name)


def _ref(model: str | ModelRef) -> ModelRef:
    if not isinstance(model, str):
        return model
    from cfaig.model_ref import parse_model  # model_ref reads this table, so it is imported on use

    try:
        return parse_model(model)
    except ConfigurationError:  # a REST catalog name (z-ai/...): a provider the table knows nothing about
        return parse_model(model, surface="rest")


def capabilities(model: str | ModelRef) -> ProviderCapabilities:
    """The capabilities of the provider a model string routes to."""
    return provider_info(_ref(model).provider).capabilities


def embedding_support(model: str | ModelRef) -> EmbeddingSupport:
    """The embeddings endpoint for ``model``'s provider, or a :class:`ConfigurationError` if it has none."""
    ref = _ref(model)
    support = provider_info(ref.provider).embeddings
    if support is None:
        raise ConfigurationError(
            f"provider '{ref.provider}' has no OpenAI-compatible embeddings endpoint behind the gateway "
            f"(the unified API serves chat only); use one of: {', '.join(_EMBEDDING_PROVIDERS)}"
        )
    return support


def embedding_batch_limits(model: str | ModelRef) -> tuple[int, int]:
    """``(default, maximum)`` texts per embeddings request for ``model``'s provider (ConfigurationError
    for a provider without an embeddings endpoint)."""
    support = embedding_support(model)
    return support.default_batch, support.max_batch


def model_size(model: str | ModelRef) -> ModelSize:
    """Context window and output size for ``model``; ``(DEFAULT_CONTEXT_WINDOW, DEFAULT_NUM_OUTPUT)`` for a
    model missing from the table or a string that is not a model string."""
    return known_model_size(model) or ModelSize(DEFAULT_CONTEXT_WINDOW, DEFAULT_NUM_OUTPUT)


def known_model_size(model: str | ModelRef) -> ModelSize | None:
    """Context window and output size for ``model`` when the table knows it, else ``None`` (no guess)."""
    try:
        ref = _ref(model)
    except ConfigurationError:
        return None
    for prefix, size in _sizes_longest_first(ref.provider):
        if ref.model.startswith(prefix):
            return size
    return None


@functools.cache
def _sizes_longest_first(provider: str) -> tuple[tuple[str, ModelSize], ...]:
    sizes = provider_info(provider).sizes
    return tuple(sorted(sizes.items(), key=lambda item: len(item[0]), reverse=True))


def openai_compatible_providers() -> tuple[str, ...]:
    """Providers with an OpenAI-compatible chat route of their own on the gateway host."""
    return _OPENAI_COMPATIBLE


_EMBEDDING_PROVIDERS: Final = tuple(row.name for row in _ROWS if row.embeddings is not None)
_OPENAI_COMPATIBLE: Final = tuple(row.name for row in _ROWS if row.chat_path is not None)
