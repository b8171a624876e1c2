"""Model strings: ``{provider}/{model}``, bare ``@cf/...`` and ``dynamic/<route>``, parsed once.

The unified endpoint routes on the first ``/``-separated segment; everything after it is the
provider's own model id and may itself contain ``/`` or ``@``. The REST API names a few providers
differently, so :meth:`ModelRef.for_surface` translates (``google-ai-studio/`` -> ``google/``,
``grok/`` -> ``xai/``, ``workers-ai/@cf/`` -> ``@cf/``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Final, Literal

from cfaig.errors import ConfigurationError

__all__ = [
    "DYNAMIC",
    "EMBEDDING_PROVIDERS",
    "PROVIDERS",
    "PROVIDER_SLUGS",
    "EmbeddingSupport",
    "ModelRef",
    "embedding_support",
    "parse_model",
]

PROVIDERS: Final = (
    "openai",
    "anthropic",
    "google-ai-studio",
    "google-vertex-ai",
    "workers-ai",
    "groq",
    "mistral",
    "cohere",
    "perplexity",
    "grok",
    "deepseek",
    "cerebras",
    "baseten",
    "parallel",
)
"""Providers the unified (compat) endpoint supports, as model-string prefixes."""

DYNAMIC: Final = "dynamic"

PROVIDER_SLUGS: Final[dict[str, str]] = {"perplexity": "perplexity-ai"}
"""Where the provider-specific URL slug differs from the model-string prefix."""

OPENAI_COMPATIBLE_PATHS: Final[dict[str, str]] = {
    "openai": "openai/chat/completions",
    "workers-ai": "workers-ai/v1/chat/completions",
    "groq": "groq/chat/completions",
    "mistral": "mistral/v1/chat/completions",
    "deepseek": "deepseek/chat/completions",
    "perplexity": "perplexity-ai/chat/completions",
    "grok": "grok/v1/chat/completions",
    "cerebras": "cerebras/chat/completions",
}
"""Provider-specific endpoints that speak OpenAI Chat Completions, relative to the gateway root."""


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
    """Accepts ``encoding_format="base64"`` (about 3x faster to decode than float JSON)."""


EMBEDDING_PROVIDERS: Final[dict[str, EmbeddingSupport]] = {
    "openai": EmbeddingSupport("openai/embeddings", max_batch=2048, dimensions=True, base64=True),
    "workers-ai": EmbeddingSupport("workers-ai/v1/embeddings", max_batch=100, dimensions=False, base64=False),
}
"""Providers with an OpenAI-compatible embeddings endpoint behind the gateway (no compat route exists)."""


def embedding_support(model: str | ModelRef) -> EmbeddingSupport:
    """The embeddings endpoint for ``model``'s provider, or a :class:`ConfigurationError` if it has none."""
    ref = parse_model(model) if isinstance(model, str) else model
    support = EMBEDDING_PROVIDERS.get(ref.provider)
    if support is None:
        raise ConfigurationError(
            f"provider '{ref.provider}' has no OpenAI-compatible embeddings endpoint behind the gateway "
            f"(the unified API serves chat only); use one of: {', '.join(EMBEDDING_PROVIDERS)}"
        )
    return support


_REST_PREFIXES: Final[dict[str, str]] = {"google-ai-studio": "google", "grok": "xai"}
_FROM_REST: Final[dict[str, str]] = {"google": "google-ai-studio", "xai": "grok"}

_EXAMPLE = "openai/gpt-5-mini, anthropic/claude-sonnet-4-5 or workers-ai/@cf/meta/llama-3.3-70b-instruct-fp8-fast"


@dataclass(frozen=True, slots=True)
class ModelRef:
    """A parsed model string. ``provider`` is the compat prefix (or ``"dynamic"``)."""

    provider: str
    model: str

    @property
    def qualified(self) -> str:
        """The unified-endpoint spelling, e.g. ``workers-ai/@cf/meta/llama-3.1-8b-instruct``."""
        return f"{self.provider}/{self.model}"

    @property
    def is_dynamic(self) -> bool:
        return self.provider == DYNAMIC

    @property
    def slug(self) -> str:
        """The provider's URL slug on the gateway host (``perplexity`` -> ``perplexity-ai``)."""
        return PROVIDER_SLUGS.get(self.provider, self.provider)

    def for_surface(self, surface: Literal["gateway", "rest"]) -> str:
        """The model string as the chosen surface expects it."""
        if surface == "gateway":
            return self.qualified
        if self.provider == "workers-ai":
            return self.model
        return f"{_REST_PREFIXES.get(self.provider, self.provider)}/{self.model}"

    def __str__(self) -> str:
        return self.qualified


def parse_model(value: str) -> ModelRef:
    """Parse a model string, raising :class:`ConfigurationError` (with the provider list) if it is not one.

    Accepts ``provider/model``, ``dynamic/route``, a bare ``@cf/...`` (Workers AI), ``custom-<slug>/model``,
    ``aws-bedrock/...``, and the REST spellings ``google/...`` and ``xai/...``.
    """
    if not isinstance(value, str):
        raise ConfigurationError(f"model must be a string like {_EXAMPLE}, not {type(value).__name__}")
    return _parse_model(value)


@functools.lru_cache(maxsize=1024)
def _parse_model(value: str) -> ModelRef:
    text = value.strip()
    if text.startswith(("@cf/", "@hf/")):
        return _checked(ModelRef("workers-ai", text), value)
    provider, sep, model = text.partition("/")
    if not sep or not provider or not model:
        raise ConfigurationError(_unknown(value, "it has no '{provider}/' prefix"))
    provider = _FROM_REST.get(provider, provider)
    if provider in PROVIDERS or provider == DYNAMIC or provider == "aws-bedrock" or provider.startswith("custom-"):
        return _checked(ModelRef(provider, model), value)
    raise ConfigurationError(_unknown(value, f"'{provider}' is not a provider the unified endpoint serves"))


def _checked(ref: ModelRef, original: str) -> ModelRef:
    if any(ch.isspace() for ch in ref.model) or any(ord(ch) < 0x20 for ch in ref.model):
        raise ConfigurationError(f"model {original!r} contains whitespace or control characters")
    if ref.provider == "workers-ai" and not ref.model.startswith(("@cf/", "@hf/")):
        raise ConfigurationError(
            f"model {original!r}: Workers AI model ids start with '@cf/', "
            "e.g. workers-ai/@cf/meta/llama-3.1-8b-instruct"
        )
    if ref.provider.startswith("custom-") and len(ref.provider) == len("custom-"):
        raise ConfigurationError(f"model {original!r}: a custom provider is named custom-<slug>/<model>")
    return ref


def _unknown(value: str, why: str) -> str:
    return (
        f"model {value!r} cannot be routed: {why}. Use '{{provider}}/{{model}}' with a provider among "
        f"{', '.join(PROVIDERS)} (or dynamic/<route>, custom-<slug>/<model>, a bare @cf/... Workers AI id), "
        f"for example {_EXAMPLE}"
    )
