"""Property tests: every parser gives a result or a typed cfaig error, never another exception.

Complements tests/core/test_sse.py, test_streaming.py, test_errors.py, test_model_ref.py and
test_options_headers.py (arbitrary bytes and arbitrary text there): here the inputs are *structured*
(well-framed SSE carrying random JSON, error envelopes and completions with random values in the
expected places, every option at once with values of any type), which reaches deeper code paths.
"""

from __future__ import annotations

import json
import math
import pickle
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cfaig import OPTION_FIELDS, ChatCompletion, GatewayConfig, GatewayMeta, GatewayOptions, ModelRef
from cfaig._error_mapping import make_status_error
from cfaig._headers import base_headers, option_headers, provider_authorization, provider_key, wire_headers
from cfaig._response import parse_chat
from cfaig._retry import parse_retry_after
from cfaig._streaming import StreamDecoder
from cfaig.errors import (
    CfaigError,
    ConfigurationError,
    GatewayError,
    MalformedResponseError,
)
from cfaig.model_ref import parse_model
from cfaig.providers import PROVIDERS

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SMALL = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=25,
)
header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)


# --- the error-body parser ---------------------------------------------------------------------------


def _envelope(shape: str, code: Any, message: Any) -> Any:
    return {
        "gateway": {"success": False, "error": [{"code": code, "message": message}]},
        "cloudflare": {"success": False, "errors": [{"code": code, "message": message}]},
        "provider": {"error": {"type": message, "message": message, "code": code}},
        "string": {"error": message, "code": code},
        "list": [{"error": {"code": code, "message": message}}],
    }[shape]


def _assert_usable(error: GatewayError, status: int) -> None:
    assert error.status_code == status
    str(error)
    repr(error)
    assert type(pickle.loads(pickle.dumps(error))) is type(error)  # noqa: S301 - our own bytes


@FUZZ
@given(
    status=st.integers(min_value=100, max_value=599),
    body=st.binary(max_size=300) | st.text(max_size=300) | st.none(),
    headers=st.dictionaries(
        st.sampled_from(["retry-after", "retry-after-ms", "cf-aig-log-id", "cf-aig-request-id", "x-other"]),
        header_text,
    ),
    provider=st.none() | st.text(max_size=10),
    gateway_id=st.none() | st.text(max_size=10),
    step=st.none() | st.integers(min_value=0, max_value=5),
)
def test_any_error_response_gives_a_usable_typed_error(
    status: int,
    body: bytes | str | None,
    headers: dict[str, str],
    provider: str | None,
    gateway_id: str | None,
    step: int | None,
) -> None:
    error = make_status_error(status, body, headers, provider=provider, gateway_id=gateway_id, step=step)
    assert isinstance(error, GatewayError)
    _assert_usable(error, status)


@FUZZ
@given(
    status=st.integers(min_value=400, max_value=599),
    shape=st.sampled_from(["gateway", "cloudflare", "provider", "string", "list"]),
    code=json_values,
    message=json_values,
)
def test_any_value_in_any_error_envelope_gives_a_typed_error(status: int, shape: str, code: Any, message: Any) -> None:
    body = json.dumps(_envelope(shape, code, message)).encode()
    error = make_status_error(status, body, {"retry-after": "1"})
    _assert_usable(error, status)
    assert error.code is None or isinstance(error.code, (int, str))


def test_a_deeply_nested_error_body_gives_a_typed_error() -> None:
    body = b'{"error":' * 5000 + b"1" + b"}" * 5000
    assert isinstance(make_status_error(500, body), GatewayError)


@SMALL
@given(value=header_text, name=st.sampled_from(["retry-after", "retry-after-ms"]))
@example(value="nan", name="retry-after")
@example(value="inf", name="retry-after-ms")
def test_retry_after_is_a_finite_wait_or_none(value: str, name: str) -> None:
    seconds = parse_retry_after({name: value})
    assert seconds is None or (math.isfinite(seconds) and seconds >= 0)


# --- the stream decoder, fed well-framed SSE with random payloads --------------------------------


def _chunk_like(value: Any) -> dict[str, Any]:
    """A chunk skeleton with a random value in one of the places a provider might get wrong."""
    return {"id": "c", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": value}]}


sse_payloads = st.one_of(
    json_values.map(json.dumps),
    json_values.map(lambda v: json.dumps(_chunk_like(v))),
    json_values.map(lambda v: json.dumps({"choices": v})),
    json_values.map(lambda v: json.dumps({"error": v})),
    json_values.map(lambda v: json.dumps({"choices": [], "usage": v})),
    st.just("[DONE]"),
    st.text(max_size=20),
)
sse_events = st.tuples(
    st.sampled_from(["", "event: message\n", "event: error\n", ": comment\n", "id: 7\n"]), sse_payloads
)


@FUZZ
@given(events=st.lists(sse_events, max_size=8), cut=st.integers(min_value=0, max_value=64), done=st.booleans())
def test_framed_sse_with_random_payloads_gives_chunks_or_a_typed_error(
    events: list[tuple[str, str]], cut: int, done: bool
) -> None:
    stream = "".join(f"{prefix}data: {payload}\n\n" for prefix, payload in events)
    if done:
        stream += "data: [DONE]\n\n"
    raw = stream.encode()
    decoder = StreamDecoder(GatewayMeta(status_code=200), provider="openai")
    try:
        chunks = decoder.feed(raw[:cut]) + decoder.feed(raw[cut:]) + decoder.finish()
    except CfaigError:
        return
    assert decoder.done
    decoder.accumulator.snapshot(decoder.meta)
    decoder.accumulator.tool_calls()
    assert all(chunk.choices is not None for chunk in chunks)


@SMALL
@given(body=json_values, content_type=st.sampled_from(["application/json", "text/plain", ""]))
def test_a_buffered_answer_to_a_stream_request_is_replayed_or_refused(body: Any, content_type: str) -> None:
    decoder = StreamDecoder(GatewayMeta(status_code=200))
    try:
        decoder.whole_body(json.dumps(body).encode(), content_type)
    except MalformedResponseError:
        return
    assert decoder.done


# --- model strings -------------------------------------------------------------------------------


@FUZZ
@given(
    provider=st.sampled_from([*PROVIDERS, "dynamic", "custom-x", "aws-bedrock", "google", "xai", "", "@cf"]),
    rest=st.text(max_size=40),
)
def test_provider_prefixed_model_strings_parse_stably_or_raise(provider: str, rest: str) -> None:
    try:
        ref = parse_model(f"{provider}/{rest}")
    except ConfigurationError:
        return
    assert isinstance(ref, ModelRef)
    assert parse_model(str(ref)) == ref  # the canonical spelling parses to the same reference


@pytest.mark.parametrize("value", [["openai/gpt-4o"], {"model": "openai/gpt-4o"}])
def test_a_non_string_model_is_a_configuration_error(value: object) -> None:
    with pytest.raises(ConfigurationError):
        parse_model(value)  # type: ignore[arg-type]


# --- gateway options -> headers --------------------------------------------------------------------

any_value = st.one_of(json_values, st.floats(), st.binary(max_size=8), st.tuples(st.integers()))
_TEXT_HEADERS = {"cache_key": "cf-aig-cache-key", "event_id": "cf-aig-event-id", "byok_alias": "cf-aig-byok-alias"}


@FUZZ
@given(st.dictionaries(st.sampled_from(sorted(OPTION_FIELDS)), any_value, max_size=6))
def test_any_options_are_sendable_headers_or_refused(raw: dict[str, Any]) -> None:
    try:
        options = GatewayOptions(**raw)
    except ConfigurationError:
        return
    headers = option_headers(options)
    for name, value in headers.items():
        assert name.startswith("cf-aig-")
        assert all(0x20 <= ord(ch) < 0x7F for ch in value), (name, value)
    httpx.Request("POST", "https://gateway.example/v1", headers=headers)  # httpx accepts them as they are
    for field, header in _TEXT_HEADERS.items():
        if getattr(options, field) is not None:
            assert headers[header] == getattr(options, field)
    if options.metadata is not None:
        assert json.loads(headers["cf-aig-metadata"]) == options.metadata
    if options.request_timeout_ms is not None:
        assert int(headers["cf-aig-request-timeout"]) == options.request_timeout_ms
    assert GatewayOptions.coerce(options.model_dump(exclude_none=True)) == options  # round trip


@FUZZ
@given(
    metadata=st.dictionaries(
        st.text(min_size=1, max_size=12),
        st.one_of(st.text(max_size=20), st.integers(), st.floats(), st.booleans(), st.none()),
        max_size=6,
    )
)
def test_unicode_metadata_round_trips_as_ascii_or_is_refused(metadata: dict[str, Any]) -> None:
    try:
        options = GatewayOptions(metadata=metadata)
    except ConfigurationError:
        return
    header = option_headers(options)["cf-aig-metadata"]
    assert header.isascii()
    assert json.loads(header) == metadata


@FUZZ
@given(token=st.text(min_size=1, max_size=40), key=st.text(min_size=1, max_size=40))
def test_any_credential_is_a_valid_header_or_refused(token: str, key: str) -> None:
    # a distinctive prefix, so a secret cannot coincide with the wording of the message itself
    token, key = "TOKsecret" + token, "KEYsecret" + key
    try:
        config = GatewayConfig(account_id="a", cf_aig_token=token, api_key=key)
    except ConfigurationError as exc:
        refusal = str(exc)
        for secret in (token.strip(), key.strip()):
            assert len(secret) < 6 or secret not in refusal  # the refusal never echoes it
        return
    headers = wire_headers(
        {**base_headers(config), **provider_authorization(provider_key(config, "openai", primary="openai"))}
    )
    httpx.Request("POST", "https://gateway.example/v1", headers=headers)
    if config.cf_aig_token is not None:
        assert headers["cf-aig-authorization"] == f"Bearer {token.strip()}"
    if config.api_key is not None:
        assert headers["Authorization"] == f"Bearer {key.strip()}"
    for secret in (token.strip(), key.strip()):
        if len(secret) >= 6:
            assert secret not in repr(config)


# --- chat responses --------------------------------------------------------------------------------


def _completion_with(place: str, value: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "x",
        "object": "chat.completion",
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    if place == "body":
        return {"value": value}
    if place in ("choices", "usage", "id", "model", "created"):
        body[place] = value
    elif place in ("message", "finish_reason", "index"):
        body["choices"][0][place] = value
    else:
        body["choices"][0]["message"][place] = value
    return body


@FUZZ
@given(
    place=st.sampled_from(
        [
            "body",
            "choices",
            "usage",
            "id",
            "model",
            "created",
            "message",
            "finish_reason",
            "index",
            "content",
            "tool_calls",
            "role",
            "reasoning_content",
            "refusal",
        ]
    ),
    value=json_values,
)
def test_random_structure_in_a_chat_response_gives_a_completion_or_malformed(place: str, value: Any) -> None:
    body = json.dumps(_completion_with(place, value)).encode()
    try:
        completion = parse_chat(body, "application/json", GatewayMeta(status_code=200))
    except MalformedResponseError:
        return
    assert isinstance(completion, ChatCompletion)
    assert completion.choices
    completion.text  # noqa: B018 - the convenience accessors must not fail on what was accepted
    completion.message  # noqa: B018


@SMALL
@given(value=json_values)
def test_any_json_document_as_a_chat_response(value: Any) -> None:
    try:
        completion = parse_chat(json.dumps(value).encode(), "application/json", GatewayMeta(status_code=200))
    except MalformedResponseError:
        return
    assert completion.choices
