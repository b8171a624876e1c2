"""Route tables: which gateway-host and Cloudflare REST paths exist, and what each one serves."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from .fake.types import ErrorStyle

# The emulator keeps its own list rather than importing cfaig.model_ref.PROVIDERS: it is an independent
# reading of the protocol, so a client bug in that table cannot hide behind the same table here.
COMPAT_PROVIDERS: Final = frozenset(
    {
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
        "aws-bedrock",
    }
)
"""Model prefixes the compat endpoint accepts (plus ``custom-*`` and ``dynamic``)."""

REST_CATALOG_AUTHORS: Final = frozenset(
    {
        "openai",
        "anthropic",
        "google",
        "google-vertex-ai",
        "xai",
        "groq",
        "mistral",
        "cohere",
        "perplexity",
        "deepseek",
        "cerebras",
        "baseten",
        "parallel",
        "aws-bedrock",
        "azure-openai",
        "openrouter",
        "z-ai",
        "alibaba",
        "moonshotai",
        "meta",
        "qwen",
        "minimax",
        "dynamic",
    }
)
"""Model authors of the REST API's catalog (``{author}/{model}``; ``@cf/...`` is Workers AI's own namespace):
https://developers.cloudflare.com/ai-gateway/usage/rest-api/ and the model catalog (``z-ai/glm-4.7-flash``,
``alibaba/...``, ``moonshotai/...``). An author outside it is answered 404 / 7003 "Model not found", as
Cloudflare's catalog answers an unknown model (observed on ``/ai/run``; the docs do not say it for
``/ai/v1/...``). ``custom-*`` and ``dynamic`` are accepted: the docs are silent on them over REST."""

DYNAMIC_ROUTE_TARGET: Final = ("openai", "gpt-4o-mini")
"""Where every ``dynamic/<route>`` model is routed (provider, model)."""

MODEL_KINDS: Final = frozenset({"chat", "embeddings", "responses", "messages", "native"})
"""Route kinds answered by a model (cached, logged with a cache status)."""

_OPENAI_COMPATIBLE: Final = frozenset(
    {
        "openai",
        "groq",
        "mistral",
        "deepseek",
        "perplexity-ai",
        "grok",
        "cerebras",
        "openrouter",
        "baseten",
        "workers-ai",
    }
)
_EMBEDDING_SLUGS: Final = frozenset({"openai", "mistral", "openrouter", "workers-ai"})

RouteKind = Literal["chat", "embeddings", "responses", "messages", "native", "universal", "feedback", "unknown"]


@dataclass(frozen=True, slots=True)
class Route:
    """What a path serves: its kind, how the model is named there, and the error body family it answers in."""

    label: str
    kind: RouteKind
    naming: Literal["compat", "provider", "rest", "native", "none"] = "none"
    provider: str | None = None
    native_model: str | None = None
    style: ErrorStyle = "openai"
    methods: tuple[str, ...] = ("POST",)


UNKNOWN_ROUTE: Final = Route("unknown", "unknown", methods=())
UNIVERSAL_ROUTE: Final = Route("universal", "universal")


def is_custom(slug: str) -> bool:
    """Whether ``slug`` names a custom provider (``custom-<name>``)."""
    return slug.startswith("custom-") and len(slug) > len("custom-")


@functools.lru_cache(maxsize=1024)
def gateway_route(sub: str) -> Route | None:
    """Route for the path below ``/v1/{account}/{gateway}``."""
    if sub == "":
        return UNIVERSAL_ROUTE
    if sub == "compat/chat/completions":
        return Route("compat.chat", "chat", "compat")
    if sub == "compat/embeddings":
        return Route("compat.embeddings", "embeddings", "compat")
    slug, _, rest = sub.partition("/")
    if slug == "anthropic" and rest == "v1/messages":
        return Route("provider.anthropic.messages", "messages", "provider", "anthropic", style="anthropic")
    if slug == "workers-ai" and rest.startswith(("@cf/", "@hf/")):
        return Route("provider.workers-ai.run", "native", "native", "workers-ai", rest, style="cloudflare")
    if slug in _OPENAI_COMPATIBLE or is_custom(slug):
        return _openai_compatible_route(slug, rest)
    return None


def _openai_compatible_route(slug: str, rest: str) -> Route | None:
    tail = rest.removeprefix("openai/v1/") if slug == "groq" else rest
    tail = tail.removeprefix("v1/")
    if tail == "chat/completions":
        return Route(f"provider.{slug}.chat", "chat", "provider", slug)
    if tail == "embeddings" and (slug in _EMBEDDING_SLUGS or is_custom(slug)):
        return Route(f"provider.{slug}.embeddings", "embeddings", "provider", slug)
    if tail == "responses" and slug == "openai":
        return Route("provider.openai.responses", "responses", "provider", slug)
    return None


_REST_ROUTES: Final[Mapping[str, Route]] = {
    "ai/v1/chat/completions": Route("rest.chat", "chat", "rest"),
    "ai/v1/embeddings": Route("rest.embeddings", "embeddings", "rest"),
    "ai/v1/responses": Route("rest.responses", "responses", "rest"),
    "ai/v1/messages": Route("rest.messages", "messages", "rest", style="anthropic"),
}


def rest_route(tail: str) -> tuple[Route, tuple[str, ...]]:
    """Route for the path below ``/client/v4/accounts/{account}``, and its path parameters."""
    tail = tail.strip("/")
    if tail in _REST_ROUTES:
        return _REST_ROUTES[tail], ()
    if tail.startswith("ai/run/"):
        model = tail.removeprefix("ai/run/")
        return Route("rest.run", "native", "native", "workers-ai", model, style="cloudflare"), ()
    parts = tail.split("/")
    if len(parts) == 5 and parts[:2] == ["ai-gateway", "gateways"] and parts[3] == "logs":
        return Route("feedback", "feedback", style="cloudflare", methods=("PATCH", "GET")), (parts[2], parts[4])
    return UNKNOWN_ROUTE, ()
