"""Part 1: configuration, validated at construction, with env fallbacks and secrets kept secret."""

from __future__ import annotations

import pytest

from cfaig import GatewayClient, GatewayConfig
from cfaig.config import env_default, secret_env_default
from cfaig.errors import ConfigurationError

TOKEN = "tok-SUPERSECRET-123"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "CLOUDFLARE_ACCOUNT_ID",
        "CLOUDFLARE_GATEWAY_ID",
        "CF_AIG_TOKEN",
        "CF_AIG_BASE_URL",
        "CF_AIG_API_BASE_URL",
        "CLOUDFLARE_API_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)


def test_missing_account_id_names_field_and_env_var() -> None:
    with pytest.raises(ConfigurationError) as info:
        GatewayConfig()
    assert "account_id" in str(info.value)
    assert "CLOUDFLARE_ACCOUNT_ID" in str(info.value)


def test_environment_fills_missing_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "acct123")
    monkeypatch.setenv("CLOUDFLARE_GATEWAY_ID", "my-gw")
    monkeypatch.setenv("CF_AIG_TOKEN", TOKEN)
    monkeypatch.setenv("CF_AIG_BASE_URL", "http://127.0.0.1:9/v1/")
    config = GatewayConfig()
    assert config.account_id == "acct123"
    assert config.gateway_id == "my-gw"
    assert config.cf_aig_token is not None
    assert config.cf_aig_token.get_secret_value() == TOKEN
    assert config.base_url == "http://127.0.0.1:9/v1"


def test_explicit_arguments_win_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "from-env")
    assert GatewayConfig(account_id="explicit").account_id == "explicit"


def test_rest_surface_reads_cloudflare_api_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
    config = GatewayConfig(account_id="a", surface="rest")
    assert config.cf_aig_token is not None
    assert config.cf_aig_token.get_secret_value() == TOKEN
    assert GatewayConfig(account_id="a").cf_aig_token is None  # gateway surface does not use it


def test_defaults() -> None:
    config = GatewayConfig(account_id="a")
    assert config.gateway_id == "default"
    assert config.base_url == "https://gateway.ai.cloudflare.com/v1"
    assert config.api_base_url == "https://api.cloudflare.com/client/v4"
    assert config.timeout == 60.0
    assert config.max_retries == 2
    assert config.surface == "gateway"


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"gateway_id": "x" * 65}, "64"),
        ({"gateway_id": "has space"}, "gateway_id"),
        ({"gateway_id": "../other"}, "gateway_id"),
        ({"base_url": "ftp://example.com"}, "base_url"),
        ({"base_url": "https://example.com/v1?x=1"}, "query"),
        ({"timeout": 0}, "timeout"),
        ({"max_retries": -1}, "max_retries"),
        ({"account_id": "a/b"}, "account_id"),
        ({"surface": "websocket"}, "surface"),
        ({"cf_aig_token": "has\nnewline"}, "printable"),
        ({"unknown_field": 1}, "unknown_field"),
    ],
)
def test_bad_values_raise_configuration_error(kwargs: dict[str, object], fragment: str) -> None:
    params: dict[str, object] = {"account_id": "acct", **kwargs}
    with pytest.raises(ConfigurationError) as info:
        GatewayConfig(**params)
    assert fragment in str(info.value)


def test_configuration_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        GatewayConfig(account_id="a", gateway_id="")


def test_secrets_never_in_repr_str_or_errors() -> None:
    config = GatewayConfig(account_id="a", cf_aig_token=TOKEN, api_key="sk-provider-secret")
    for text in (repr(config), str(config), repr(GatewayClient(config)), config.model_dump_json()):
        assert TOKEN not in text
        assert "sk-provider-secret" not in text
    with pytest.raises(ConfigurationError) as info:
        GatewayConfig(account_id="a", cf_aig_token=TOKEN, base_url="http://gateway.example.com/v1")
    assert TOKEN not in str(info.value)
    assert info.value.__cause__ is None


def test_credentials_refused_over_plain_http_to_remote_host() -> None:
    with pytest.raises(ConfigurationError, match="plain http"):
        GatewayConfig(account_id="a", cf_aig_token=TOKEN, base_url="http://gateway.example.com/v1")
    # loopback is fine, and an explicit opt-in is honoured
    GatewayConfig(account_id="a", cf_aig_token=TOKEN, base_url="http://127.0.0.1:8787/v1")
    GatewayConfig(account_id="a", cf_aig_token=TOKEN, base_url="http://localhost:8787/v1")
    GatewayConfig(account_id="a", cf_aig_token=TOKEN, base_url="http://[::1]:8787/v1")
    GatewayConfig(account_id="a", cf_aig_token=TOKEN, base_url="http://gw.internal/v1", allow_insecure_http=True)
    # without credentials nothing can leak
    GatewayConfig(account_id="a", base_url="http://gateway.example.com/v1")


def test_rest_surface_refuses_provider_key() -> None:
    with pytest.raises(ConfigurationError, match="REST surface"):
        GatewayConfig(account_id="a", surface="rest", api_key="sk-x")


def test_blank_secret_counts_as_unset() -> None:
    assert GatewayConfig(account_id="a", cf_aig_token="   ").cf_aig_token is None


def test_config_is_frozen_and_hashable() -> None:
    config = GatewayConfig(account_id="a")
    with pytest.raises(ValueError):
        config.account_id = "b"  # type: ignore[misc]
    assert hash(config) == hash(GatewayConfig(account_id="a"))


def test_env_default_factories(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "acct-env")
    monkeypatch.setenv("CF_AIG_TOKEN", TOKEN)
    assert env_default("account_id")() == "acct-env"
    assert env_default("gateway_id", "default")() == "default"
    secret = secret_env_default("cf_aig_token")()
    assert secret is not None
    assert secret.get_secret_value() == TOKEN
    with pytest.raises(KeyError):
        env_default("nope")
