"""Responses API requests: the body, the route on each surface, and the fallback steps; no I/O.

On the gateway host the Responses API is OpenAI's own route, ``{gateway}/openai/responses`` (the only
provider the gateway documents it for: gateway-protocol.md §1.3), so models are ``openai/...`` and a
fallback is tried client-side (``fallback_mode="client"``, the default: one request per model) or sent as
one Universal-endpoint request whose steps are ``openai`` / ``responses`` (``fallback_mode="universal"``).
On the REST surface it is ``/ai/v1/responses`` for any catalog model (``openai/gpt-5``,
``@cf/openai/gpt-oss-120b``; §1.5, §1.6), and fallbacks are tried client-side, as for chat.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from cfaig._headers import step_headers
from cfaig._request import PreparedRequest, Target, _dumps, merge_extra_body
from cfaig.errors import ConfigurationError
from cfaig.model_ref import ModelRef
from cfaig.options import GatewayOptions

if TYPE_CHECKING:
    from cfaig._request import RequestBuilder

__all__ = ["prepare_responses"]

_RESERVED: Final = frozenset({"model", "input", "stream"})
_GATEWAY_PROVIDER: Final = "openai"


def prepare_responses(
    builder: RequestBuilder,
    request: Mapping[str, Any],
    *,
    options: GatewayOptions | None = None,
    fallbacks: Sequence[str] | None = None,
    stream: bool = False,
    provider_keys: Mapping[str, Any] | None = None,
) -> PreparedRequest:
    """The targets of one Responses API call (one, or one per fallback step on the REST surface)."""
    if not isinstance(request, Mapping):
        raise ConfigurationError("a Responses request is a mapping with at least 'model' and 'input'")
    refs = [builder.parse(request.get("model", "")), *(builder.parse(model) for model in fallbacks or ())]
    if len({ref.qualified for ref in refs}) != len(refs):
        raise ConfigurationError("fallbacks repeat a model; each step must be a different model")
    mode = builder.fallback_mode(options, len(refs))
    body = _body(request, stream)
    headers = builder.headers(options, stream=stream)
    gateway_id = builder.config.gateway_id
    keys, secrets = builder.call_keys(provider_keys)
    if builder.config.surface == "rest":
        url = f"{builder.rest_root}/responses"
        targets = tuple(
            Target(url, headers, _dumps({**body, "model": ref.for_surface("rest")}), ref.qualified, ref.provider)
            for ref in refs
        )
        return PreparedRequest("POST", targets, stream, gateway_id=gateway_id)
    for ref in refs:
        _check_gateway_model(ref)
    url = f"{builder.gateway_root}/{_GATEWAY_PROVIDER}/responses"
    primary = refs[0].provider
    # Each target (client-side attempt or Universal step) takes its own provider's key by the one rule
    # (cfaig._headers.provider_key); every model here is OpenAI's, so it is provider_keys["openai"] or api_key.
    auths = [builder.authorization(url, ref.provider, primary, keys) for ref in refs]
    if len(refs) == 1 or mode == "client":  # one target per model, tried in turn by the attempt loop
        targets = tuple(
            Target(url, {**headers, **auth}, _dumps({**body, "model": ref.model}), ref.qualified, _GATEWAY_PROVIDER)
            for ref, auth in zip(refs, auths, strict=True)
        )
        return PreparedRequest("POST", targets, stream, gateway_id=gateway_id, secrets=secrets)
    steps = [
        {
            "provider": _GATEWAY_PROVIDER,
            "endpoint": "responses",
            "headers": step_headers(auth),
            "query": {**body, "model": ref.model},
        }
        for ref, auth in zip(refs, auths, strict=True)
    ]
    return builder.universal(headers, steps, refs, _GATEWAY_PROVIDER, stream=stream, secrets=secrets)


def _check_gateway_model(ref: ModelRef) -> None:
    if ref.provider == _GATEWAY_PROVIDER:
        return
    where = (
        "; Workers AI serves the Responses API on the REST surface (surface='rest')"
        if ref.provider == "workers-ai"
        else ""
    )
    raise ConfigurationError(
        f"model {ref.qualified!r}: the gateway host serves the Responses API for openai/... models only "
        f"({{gateway}}/openai/responses){where}"
    )


def _body(request: Mapping[str, Any], stream: bool) -> dict[str, Any]:
    """The JSON body: the request's fields and ``extra_body``, ``stream`` as the method decides."""
    raw_input: Any = request.get("input")
    if isinstance(raw_input, str):
        if not raw_input:
            raise ConfigurationError("input must not be an empty string")
    elif (
        not isinstance(raw_input, Sequence)
        or isinstance(raw_input, bytes)
        or not raw_input
        or not all(isinstance(item, Mapping) for item in raw_input)
    ):
        raise ConfigurationError("input must be a non-empty string or a non-empty list of input items (dicts)")
    if request.get("stream") and not stream:
        raise ConfigurationError("call stream_responses() for a streamed answer")
    body: dict[str, Any] = {key: value for key, value in request.items() if key not in ("extra_body", "stream")}
    if not isinstance(raw_input, str):
        body["input"] = list(raw_input)
    merge_extra_body(body, request.get("extra_body"), _RESERVED)
    if stream:
        body["stream"] = True
    return body
