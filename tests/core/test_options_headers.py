"""Part 3: gateway options become headers, built in one place, validated against documented limits."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cfaig import GatewayConfig, GatewayOptions
from cfaig._headers import (
    base_headers,
    option_headers,
    provider_authorization,
    provider_key,
    step_headers,
    wire_headers,
)
from cfaig._redact import redact_headers
from cfaig.errors import ConfigurationError


def test_every_option_maps_to_its_header() -> None:
    options = GatewayOptions(
        cache_ttl=3600,
        skip_cache=True,
        cache_key="k1",
        metadata={"team": "AI", "user": 12345, "test": True, "score": 0.5},
        collect_log=False,
        collect_log_payload=False,
        event_id="evt-1",
        request_timeout_ms=1500,
        max_attempts=3,
        retry_delay_ms=200,
        backoff="exponential",
        custom_cost={"per_token_in": 0.000001, "per_token_out": 0.000002},
        byok_alias="prod",
        zdr=True,
        no_wholesale=True,
    )
    headers = option_headers(options)
    assert headers == {
        "cf-aig-cache-ttl": "3600",
        "cf-aig-skip-cache": "true",
        "cf-aig-cache-key": "k1",
        "cf-aig-metadata": '{"team":"AI","user":12345,"test":true,"score":0.5}',
        "cf-aig-collect-log": "false",
        "cf-aig-collect-log-payload": "false",
        "cf-aig-event-id": "evt-1",
        "cf-aig-request-timeout": "1500",
        "cf-aig-max-attempts": "3",
        "cf-aig-retry-delay": "200",
        "cf-aig-backoff": "exponential",
        "cf-aig-custom-cost": '{"per_token_in":1e-06,"per_token_out":2e-06}',
        "cf-aig-byok-alias": "prod",
        "cf-aig-zdr": "true",
        "cf-aig-no-wholesale": "true",
    }


def test_unset_options_send_nothing() -> None:
    assert option_headers(GatewayOptions()) == {}
    assert option_headers(None) == {}
    assert option_headers(GatewayOptions(skip_cache=False)) == {"cf-aig-skip-cache": "false"}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"cache_ttl": 10},
        {"cache_ttl": 2_592_001},
        {"metadata": {str(i): i for i in range(6)}},
        {"metadata": {"nested": {"a": 1}}},
        {"metadata": {"n": None}},
        {"metadata": {"l": [1]}},
        {"metadata": {"f": float("nan")}},
        {"metadata": "team=ai"},
        {"max_attempts": 6},
        {"max_attempts": 0},
        {"retry_delay_ms": 5001},
        {"backoff": "random"},
        {"request_timeout_ms": 0},
        {"event_id": "bad\r\ninjected: header"},
        {"cache_key": "caf\u00e9"},
        {"custom_cost": {"per_token_in": -1, "per_token_out": 0}},
        {"unknown": True},
    ],
)
def test_invalid_options_raise_configuration_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        GatewayOptions(**kwargs)


def test_merge_overrides_only_what_is_set() -> None:
    defaults = GatewayOptions(cache_ttl=60, metadata={"app": "x"})
    merged = defaults.merged(GatewayOptions(cache_ttl=120, skip_cache=True))
    assert merged.cache_ttl == 120
    assert merged.skip_cache is True
    assert merged.metadata == {"app": "x"}
    assert defaults.cache_ttl == 60  # unchanged
    assert defaults.merged(None) is defaults


def test_coerce_accepts_mappings_and_rejects_other_types() -> None:
    assert GatewayOptions.coerce({"cache_ttl": 60}) == GatewayOptions(cache_ttl=60)
    assert GatewayOptions.coerce(None) is None
    with pytest.raises(ConfigurationError):
        GatewayOptions.coerce(["cache_ttl"])  # type: ignore[arg-type]


def test_gateway_auth_headers() -> None:
    config = GatewayConfig(account_id="a", cf_aig_token="cf-tok", api_key="sk-prov")
    wrapped = base_headers(config)
    assert "cf-tok" not in repr(wrapped)  # SecretStr until the I/O call
    headers = wire_headers(wrapped)
    assert headers["cf-aig-authorization"] == "Bearer cf-tok"
    assert "Authorization" not in headers  # per target: provider_authorization
    assert wire_headers(provider_authorization(provider_key(config, "openai", primary="openai"))) == {
        "Authorization": "Bearer sk-prov"
    }
    assert headers["User-Agent"].startswith("cfaig/")


def test_no_authorization_without_provider_key_byok() -> None:
    config = GatewayConfig(account_id="a", cf_aig_token="cf-tok")
    headers = base_headers(config)
    assert "Authorization" not in headers
    assert "cf-aig-authorization" in headers
    assert provider_key(config, "openai", primary="openai") is None
    assert "Authorization" not in step_headers(provider_authorization(provider_key(config, "openai", primary="openai")))


def test_rest_surface_headers() -> None:
    headers = wire_headers(
        base_headers(GatewayConfig(account_id="a", cf_aig_token="cf-tok", surface="rest", gateway_id="gw1"))
    )
    assert headers["Authorization"] == "Bearer cf-tok"
    assert headers["cf-aig-gateway-id"] == "gw1"
    assert "cf-aig-authorization" not in headers


def test_redaction() -> None:
    redacted = redact_headers(
        {"Authorization": "Bearer x", "cf-aig-authorization": "Bearer y", "cf-aig-cache-ttl": "60"}
    )
    assert redacted == {"Authorization": "**********", "cf-aig-authorization": "**********", "cf-aig-cache-ttl": "60"}


scalar = st.one_of(
    st.text(max_size=20),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
)


@given(st.dictionaries(st.text(min_size=1, max_size=10), scalar, max_size=5))
def test_metadata_round_trips_through_its_header(metadata: dict[str, object]) -> None:
    header = option_headers(GatewayOptions(metadata=metadata))["cf-aig-metadata"]
    assert header.isascii()
    assert all(0x20 <= ord(ch) < 0x7F for ch in header)
    assert json.loads(header) == metadata


@given(st.dictionaries(st.text(max_size=5), st.one_of(scalar, st.none(), st.lists(st.integers())), max_size=8))
def test_metadata_is_accepted_or_refused_never_mangled(metadata: dict[str, object]) -> None:
    try:
        options = GatewayOptions(metadata=metadata)
    except ConfigurationError:
        return
    assert json.loads(option_headers(options)["cf-aig-metadata"]) == metadata


@given(st.text(max_size=40))
def test_header_text_options_are_safe_or_refused(value: str) -> None:
    try:
        options = GatewayOptions(event_id=value, cache_key=value)
    except ConfigurationError:
        return
    headers = option_headers(options)
    for name in ("cf-aig-event-id", "cf-aig-cache-key"):
        assert headers[name] == value
        assert "\r" not in value and "\n" not in value


def test_every_option_has_exactly_one_header() -> None:
    from cfaig._headers import _OPTION_HEADERS
    from cfaig.options import NON_HEADER_OPTIONS

    fields = [field for field, _, _ in _OPTION_HEADERS]
    assert sorted(fields) == sorted(set(GatewayOptions.model_fields) - NON_HEADER_OPTIONS)
    assert len({header for _, header, _ in _OPTION_HEADERS}) == len(fields)
