"""Model strings: ``{provider}/{model}``, bare ``@cf/...`` and ``dynamic/<route>``, parsed once.

The unified endpoint routes on the first ``/``-separated segment; everything after it is the
provider's own model id and may itself contain ``/`` or ``@``. The REST API names a few providers
differently, so :meth:`ModelRef.for_surface` translates (``google-ai-studio/`` -> ``google/``,
``grok/`` -> ``xai/``, ``workers-ai/@cf/`` -> ``@cf/``); the spellings are ``cfaig.providers``' table.

On the REST surface model names follow Cloudflare's catalog, so any ``{namespace}/{model}`` is accepted there
(``z-ai/glm-4.7-flash``, ``alibaba/...``, ``moonshotai/...``: https://developers.cloudflare.com/ai-gateway/usage/rest-api/);
the gateway host's unified endpoint serves only the providers it lists.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Final, Literal

from cfaig.errors import ConfigurationError
from cfaig.providers import PROVIDER_TABLE, PROVIDERS, provider_info

__all__ = ["DYNAMIC", "ModelRef", "parse_model"]

DYNAMIC: Final = "dynamic"

_FROM_REST: Final[dict[str, str]] = {
    row.rest_prefix: row.name
    for row in PROVIDER_TABLE.values()
    if row.rest_prefix is not None and row.rest_prefix != row.name
}
"""The REST API's spellings that differ from the unified endpoint's (``google`` -> ``google-ai-studio``)."""

_CATALOG_NAMESPACE: Final = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
"""A catalog author on the REST surface (lower case, as Cloudflare's catalog spells them)."""

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
        return provider_info(self.provider).slug

    def for_surface(self, surface: Literal["gateway", "rest"]) -> str:
        """The model string as the chosen surface expects it."""
        if surface == "gateway":
            return self.qualified
        prefix = provider_info(self.provider).rest_prefix
        return self.model if prefix is None else f"{prefix}/{self.model}"

    def __str__(self) -> str:
        return self.qualified


def parse_model(value: str, *, surface: Literal["gateway", "rest"] = "gateway") -> ModelRef:
    """Parse a model string, raising :class:`ConfigurationError` (with the provider list) if it is not one.

    Accepts ``provider/model``, ``dynamic/route``, a bare ``@cf/...`` (Workers AI), ``custom-<slug>/model``,
    ``aws-bedrock/...``, and the REST spellings ``google/...`` and ``xai/...``. With ``surface="rest"`` any
    catalog ``{namespace}/{model}`` is accepted too.
    """
    if not isinstance(value, str):
        raise ConfigurationError(f"model must be a string like {_EXAMPLE}, not {type(value).__name__}")
    if surface == "rest":
        return _parse_catalog_model(value)
    return _parse_model(value)


@functools.lru_cache(maxsize=1024)
def _parse_catalog_model(value: str) -> ModelRef:
    try:
        return _parse_model(value)
    except ConfigurationError:
        namespace, sep, model = value.strip().partition("/")
        if not sep or not model or not _CATALOG_NAMESPACE.match(namespace):
            raise
        return _checked(ModelRef(namespace, model), value)


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
        f"for example {_EXAMPLE}. On the REST surface (surface='rest', env CF_AIG_SURFACE=rest) any catalog "
        "name {namespace}/{model} is accepted"
    )
