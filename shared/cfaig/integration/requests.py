"""A framework call as a core request: which keywords are body fields, provider extras or gateway options.

Both integrations hand their call's parameters here: :func:`chat_request` builds the
:class:`cfaig.ChatRequest`, :func:`split_call_kwargs` takes the gateway options, fallbacks and endpoint
out of a call's keyword arguments, and :func:`embedding_support_for` checks an embedding model once, at
construction.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, cast

from cfaig._request import Endpoint
from cfaig.config import check_stream_timeout
from cfaig.errors import ConfigurationError
from cfaig.options import OPTION_FIELDS, GatewayOptions
from cfaig.provider_keys import ProviderKeys
from cfaig.providers import EmbeddingSupport, embedding_support
from cfaig.types import ChatMessageParam, ChatRequest

__all__ = [
    "CHAT_BODY_KEYS",
    "chat_request",
    "embedding_support_for",
    "masks_call_keys",
    "pop_call_credentials",
    "pop_stream_timeout",
    "split_call_kwargs",
]

_F = TypeVar("_F", bound=Callable[..., Any])


CHAT_BODY_KEYS: frozenset[str] = frozenset(ChatRequest.__annotations__) - {"model", "messages", "extra_body"}
"""Keyword arguments that are Chat Completions body fields; any other one is a provider extra."""


def chat_request(
    model: str,
    messages: Sequence[ChatMessageParam],
    params: Mapping[str, Any],
    *,
    extra_body: Mapping[str, Any] | None = None,
) -> ChatRequest:
    """A ChatRequest from a framework call's parameters.

    Chat Completions fields (:data:`CHAT_BODY_KEYS`) go into the body, anything else (and
    ``extra_body``) into ``extra_body`` for the provider; ``None`` values are not sent.
    """
    request: dict[str, Any] = {"model": model, "messages": messages}
    extra = dict(extra_body or {})
    extra.update(params.get("extra_body") or {})
    for key, value in params.items():
        if value is None or key == "extra_body":
            continue
        if key in CHAT_BODY_KEYS:
            request[key] = value
        else:
            extra[key] = value
    if extra:
        request["extra_body"] = extra
    return cast(ChatRequest, request)


def split_call_kwargs(
    kwargs: Mapping[str, Any],
    *,
    defaults: GatewayOptions,
    fallbacks: Sequence[str] | None,
    endpoint: Endpoint,
) -> tuple[GatewayOptions, list[str] | None, Endpoint, dict[str, Any]]:
    """Split a call's kwargs into (options, fallbacks, endpoint, request parameters).

    Names in :data:`cfaig.OPTION_FIELDS` (and ``gateway_metadata``) become gateway options merged over
    ``defaults``; ``options=`` / ``gateway_options=`` may carry a ``GatewayOptions`` or mapping too. ``fallbacks=`` and
    ``endpoint=`` override the instance's. Everything else is returned as request parameters.
    """
    rest = dict(kwargs)
    values: dict[str, Any] = {}
    for name in OPTION_FIELDS:
        if name in rest:
            value = rest.pop(name)
            if value is not None:
                values[name] = value
    if "gateway_metadata" in rest:
        value = rest.pop("gateway_metadata")
        if value is not None:
            values["metadata"] = value
    merged = defaults
    for key in ("options", "gateway_options"):
        explicit = GatewayOptions.coerce(rest.pop(key, None))
        if explicit is not None:
            merged = merged.merged(explicit)
    if values:
        merged = merged.merged(GatewayOptions(**values))
    call_fallbacks = rest.pop("fallbacks", None)
    chosen_fallbacks = list(call_fallbacks) if call_fallbacks is not None else (list(fallbacks) if fallbacks else None)
    call_endpoint = rest.pop("endpoint", None)
    return merged, chosen_fallbacks, call_endpoint or endpoint, rest


def pop_stream_timeout(kwargs: dict[str, Any]) -> float | None:
    """Take a call's ``stream_timeout=`` out of ``kwargs`` (a client setting, never a request parameter), checked.

    Only a streaming call uses it (for its whole stream); any other call drops it.
    """
    return check_stream_timeout(kwargs.pop("stream_timeout", None))


def pop_call_credentials(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Take a call's ``provider_keys=`` out of its keyword arguments, as the core call's keyword argument
    (``{}`` when the call has none). Values are masked at once (``ProviderKeys``), so a framework that
    records a call's arguments later (tracing) sees no key."""
    keys = kwargs.pop("provider_keys", None)
    return {"provider_keys": ProviderKeys.coerce(keys)} if keys else {}


def masks_call_keys(method: _F) -> _F:
    """Wrap a public call method so a ``provider_keys=`` keyword holds ``SecretStr`` values (masked in any
    repr or JSON) before anything else sees it (LlamaIndex's instrumentation events record a call's keyword
    arguments)."""

    def mask(kwargs: dict[str, Any]) -> None:
        if kwargs.get("provider_keys"):
            kwargs["provider_keys"] = dict(ProviderKeys.coerce(kwargs["provider_keys"]))

    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def call_async(*args: Any, **kwargs: Any) -> Any:
            mask(kwargs)
            return await method(*args, **kwargs)

        return cast(_F, call_async)

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        mask(kwargs)
        return method(*args, **kwargs)

    return cast(_F, call)


def embedding_support_for(model: str, *, dimensions: int | None = None) -> EmbeddingSupport:
    """What ``model``'s embeddings endpoint accepts, checked against the settings that depend on it.

    Raises :class:`ConfigurationError` for a provider without an embeddings endpoint, and for
    ``dimensions`` where the provider cannot shorten its vectors (it would be ignored, or refused).
    """
    support = embedding_support(model)
    if dimensions is not None and not support.dimensions:
        raise ConfigurationError(f"{model}: this provider does not accept dimensions")
    return support
