"""Part 8: errors mapped in one place, from every body shape, carrying the evidence and a hint."""

from __future__ import annotations

import email.utils
import json
import pickle
import time
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cfaig import errors
from cfaig._error_mapping import make_status_error, map_transport_errors
from cfaig._retry import parse_retry_after

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "spec" / "samples"


def _sample(name: str) -> bytes:
    path = SAMPLES / name
    if path.exists():
        return path.read_bytes()
    # the reference samples, inlined for checkouts without ../shared
    inline = {
        "error-gateway-401-unauthorized.json": {"success": False, "error": [{"code": 2009, "message": "unauthorized"}]},
        "error-gateway-400-not-found.json": {"success": False, "error": [{"code": 2001, "message": "no such gateway"}]},
        "error-cf-api-401-authentication.json": {
            "result": None,
            "success": False,
            "errors": [{"code": 10000, "message": "Authentication error"}],
            "messages": [],
        },
    }
    return json.dumps(inline[name]).encode()


def test_gateway_envelope_401() -> None:
    error = make_status_error(401, _sample("error-gateway-401-unauthorized.json"), {"cf-aig-log-id": "L1"})
    assert isinstance(error, errors.AuthenticationError)
    assert error.code == 2009
    assert error.log_id == "L1"
    assert error.hint is not None
    assert "cf_aig_token" in error.hint


def test_gateway_envelope_unknown_gateway_hint_names_gateway() -> None:
    error = make_status_error(400, _sample("error-gateway-400-not-found.json"), gateway_id="prod-gw")
    assert isinstance(error, errors.BadRequestError)
    assert error.code == 2001
    assert error.hint is not None
    assert "'prod-gw' does not exist" in error.hint


def test_cloudflare_api_envelope() -> None:
    error = make_status_error(401, _sample("error-cf-api-401-authentication.json"))
    assert isinstance(error, errors.AuthenticationError)
    assert error.code == 10000
    assert "Authentication error" in str(error)


def test_provider_error_passed_through() -> None:
    body = {
        "error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "code": "invalid_api_key"}
    }
    error = make_status_error(401, json.dumps(body), provider="openai")
    assert isinstance(error, errors.AuthenticationError)
    assert error.code == "invalid_api_key"
    assert error.provider == "openai"
    assert "Incorrect API key" in str(error)


def test_anthropic_error_shape() -> None:
    body = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    error = make_status_error(529, json.dumps(body), provider="anthropic")
    assert isinstance(error, errors.ServerError)
    assert "Overloaded" in str(error)


def test_html_body_becomes_typed_error_with_excerpt() -> None:
    html = "<html><head><title>502 Bad Gateway</title></head><body>" + "x" * 2000 + "</body></html>"
    error = make_status_error(502, html)
    assert isinstance(error, errors.ServerError)
    assert error.body_excerpt is not None
    assert len(error.body_excerpt) <= 300
    assert "502 Bad Gateway" in error.body_excerpt


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, errors.BadRequestError),
        (401, errors.AuthenticationError),
        (402, errors.PaymentRequiredError),
        (403, errors.PermissionDeniedError),
        (404, errors.NotFoundError),
        (408, errors.GatewayTimeoutError),
        (409, errors.ConflictError),
        (413, errors.RequestTooLargeError),
        (422, errors.BadRequestError),
        (424, errors.ContentBlockedError),
        (429, errors.RateLimitError),
        (500, errors.ServerError),
        (502, errors.ServerError),
        (503, errors.ServerError),
        (504, errors.UpstreamTimeoutError),
        (418, errors.BadRequestError),
    ],
)
def test_status_table(status: int, cls: type[errors.GatewayError]) -> None:
    error = make_status_error(status, b"")
    assert type(error) is cls
    assert error.status_code == status
    assert isinstance(error, errors.GatewayError)


def test_504_is_both_server_and_timeout_error() -> None:
    error = make_status_error(504, b"")
    assert isinstance(error, errors.ServerError)
    assert isinstance(error, errors.GatewayTimeoutError)


def test_dlp_codes_are_content_blocked() -> None:
    body = {
        "success": False,
        "error": [{"code": 2029, "message": "Request content blocked due to DLP policy violations"}],
    }
    error = make_status_error(400, json.dumps(body))
    assert isinstance(error, errors.ContentBlockedError)
    assert isinstance(error, errors.BadRequestError)


def test_retry_after_seconds_and_date() -> None:
    assert make_status_error(429, b"", {"retry-after": "7"}).retry_after == 7.0
    future = email.utils.formatdate(time.time() + 30, usegmt=True)
    retry_after = parse_retry_after({"retry-after": future})
    assert retry_after is not None
    assert 25 <= retry_after <= 31
    assert parse_retry_after({"retry-after-ms": "1500"}) == 1.5
    assert parse_retry_after({"retry-after": "soon"}) is None
    past = email.utils.formatdate(time.time() - 30, usegmt=True)
    assert parse_retry_after({"retry-after": past}) == 0.0


def test_secrets_scrubbed_from_excerpts() -> None:
    body = '{"detail": "bad header Authorization: Bearer sk-live-abcdefghijk1234"}'
    error = make_status_error(400, body)
    assert "sk-live-abcdefghijk1234" not in str(error)


def test_errors_pickle() -> None:
    error = make_status_error(429, b'{"error":{"message":"slow down"}}', {"retry-after": "1", "cf-aig-log-id": "L"})
    clone = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    assert type(clone) is errors.RateLimitError
    assert clone.retry_after == 1.0
    assert clone.log_id == "L"
    assert str(clone) == str(error)


def test_transport_errors_are_mapped() -> None:
    request = httpx.Request("POST", "https://x")
    with pytest.raises(errors.GatewayTimeoutError), map_transport_errors():
        raise httpx.ReadTimeout("timed out", request=request)
    with pytest.raises(errors.GatewayConnectionError), map_transport_errors():
        raise httpx.ConnectError("refused", request=request)
    with pytest.raises(errors.GatewayConnectionError), map_transport_errors():
        raise httpx.RemoteProtocolError("peer closed", request=request)


@given(st.integers(min_value=100, max_value=599), st.binary(max_size=300))
def test_any_body_gives_a_typed_error(status: int, body: bytes) -> None:
    error = make_status_error(status, body, {"retry-after": "x"})
    assert isinstance(error, errors.GatewayError)
    assert str(error)


@given(
    st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10)),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.sampled_from(["error", "errors", "code", "message", "x"]), children, max_size=4)
        ),
        max_leaves=12,
    )
)
def test_any_json_error_body_gives_a_typed_error(data: object) -> None:
    error = make_status_error(400, json.dumps(data))
    assert isinstance(error, errors.BadRequestError)
    assert str(error)
