"""What the integration knows about models: context windows, output sizes and embedding batch limits.

The table is deliberately small and matched by *prefix* of the qualified model string
(``provider/model``), longest prefix first, so ``openai/gpt-4o-mini-2024-07-18`` finds
``openai/gpt-4o``. Unknown models get :data:`DEFAULT_CONTEXT_WINDOW` / :data:`DEFAULT_NUM_OUTPUT`:
a conservative window, so LlamaIndex never packs a prompt larger than a small model accepts.
Pass ``context_window=`` / ``num_output=`` to the LLM to override either value.
"""

from __future__ import annotations

from typing import Final, NamedTuple

from cfaig import parse_model
from cfaig.errors import ConfigurationError
from cfaig.model_ref import embedding_support

__all__ = [
    "DEFAULT_CONTEXT_WINDOW",
    "DEFAULT_EMBEDDING_MODEL",
    "DEFAULT_MAX_CONCURRENCY",
    "DEFAULT_NUM_OUTPUT",
    "ModelSize",
    "embedding_batch_limits",
    "model_size",
]

DEFAULT_CONTEXT_WINDOW: Final = 8192
"""Tokens assumed for a model missing from the table."""
DEFAULT_NUM_OUTPUT: Final = 1024
"""Output tokens reserved for a model missing from the table (when ``max_tokens`` is not set)."""

DEFAULT_EMBEDDING_MODEL: Final = "workers-ai/@cf/baai/bge-base-en-v1.5"
DEFAULT_MAX_CONCURRENCY: Final = 4
"""Embedding requests in flight at once per event loop, for one embedding object."""


class ModelSize(NamedTuple):
    context_window: int
    num_output: int


_SIZES: Final[dict[str, ModelSize]] = {
    # OpenAI
    "openai/gpt-5": ModelSize(400_000, 128_000),
    "openai/gpt-4.1": ModelSize(1_047_576, 32_768),
    "openai/gpt-4o": ModelSize(128_000, 16_384),
    "openai/gpt-4-turbo": ModelSize(128_000, 4_096),
    "openai/gpt-3.5-turbo": ModelSize(16_385, 4_096),
    "openai/o1": ModelSize(200_000, 100_000),
    "openai/o3": ModelSize(200_000, 100_000),
    "openai/o4-mini": ModelSize(200_000, 100_000),
    # Anthropic
    "anthropic/claude-opus-4": ModelSize(200_000, 32_000),
    "anthropic/claude-sonnet-4": ModelSize(200_000, 64_000),
    "anthropic/claude-haiku-4": ModelSize(200_000, 64_000),
    "anthropic/claude-3-7-sonnet": ModelSize(200_000, 64_000),
    "anthropic/claude-3-5": ModelSize(200_000, 8_192),
    "anthropic/claude-": ModelSize(200_000, 4_096),
    # Google
    "google-ai-studio/gemini-2.5": ModelSize(1_048_576, 65_536),
    "google-ai-studio/gemini-2.0": ModelSize(1_048_576, 8_192),
    "google-ai-studio/gemini-": ModelSize(1_048_576, 8_192),
    "google-vertex-ai/gemini-2.5": ModelSize(1_048_576, 65_536),
    "google-vertex-ai/gemini-": ModelSize(1_048_576, 8_192),
    # Workers AI
    "workers-ai/@cf/meta/llama-3.3-70b-instruct": ModelSize(24_000, 2_048),
    "workers-ai/@cf/meta/llama-3.1-8b-instruct": ModelSize(7_968, 2_048),
    "workers-ai/@cf/meta/llama-4-scout-17b-16e-instruct": ModelSize(131_000, 4_096),
    "workers-ai/@cf/openai/gpt-oss": ModelSize(128_000, 8_192),
    "workers-ai/@cf/qwen/": ModelSize(32_768, 4_096),
    "workers-ai/@cf/mistralai/mistral-small-3.1": ModelSize(128_000, 4_096),
    # Others
    "groq/llama-3.3-70b-versatile": ModelSize(131_072, 32_768),
    "groq/": ModelSize(131_072, 8_192),
    "mistral/mistral-large": ModelSize(131_072, 8_192),
    "mistral/": ModelSize(32_768, 4_096),
    "deepseek/": ModelSize(128_000, 8_192),
    "grok/grok-4": ModelSize(256_000, 16_384),
    "grok/": ModelSize(131_072, 8_192),
    "cerebras/": ModelSize(65_536, 8_192),
}
_PREFIXES: Final = sorted(_SIZES, key=len, reverse=True)

DEFAULT_EMBED_BATCH: Final = 512
"""Texts per embeddings request unless the provider takes fewer (512 keeps OpenAI well under its token cap)."""


def _qualified(model: str) -> str:
    try:
        return parse_model(model).qualified
    except ConfigurationError:
        return model


def model_size(model: str) -> ModelSize:
    """Context window and output size for ``model`` (the documented defaults when unknown)."""
    qualified = _qualified(model)
    for prefix in _PREFIXES:
        if qualified.startswith(prefix):
            return _SIZES[prefix]
    return ModelSize(DEFAULT_CONTEXT_WINDOW, DEFAULT_NUM_OUTPUT)


def embedding_batch_limits(model: str) -> tuple[int, int]:
    """``(default, maximum)`` texts per embeddings request for ``model``'s provider.

    The maximum is the core's (``cfaig.model_ref.EMBEDDING_PROVIDERS``: OpenAI 2048, Workers AI 100);
    the default is 512, or the maximum when that is smaller. Raises ConfigurationError for a model whose
    provider has no embeddings endpoint.
    """
    limit = embedding_support(model).max_batch
    return min(DEFAULT_EMBED_BATCH, limit), limit
