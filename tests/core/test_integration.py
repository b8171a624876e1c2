"""cfaig.integration: the half both framework integrations share, tested without either framework."""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest
from pydantic import SecretStr

import cfaig.integration
from cfaig import GatewayClient, GatewayConfig, GatewayOptions, shared_async_client, shared_client
from cfaig.config import ENV_VARS
from cfaig.errors import ConfigurationError
from cfaig.integration.answer import TokenCounts, gateway_fields, token_counts
from cfaig.integration.clients import GatewayState
from cfaig.integration.fields import CONFIG_FIELDS, OPTION_FIELD_NAMES, GatewayFields
from cfaig.integration.requests import embedding_support_for
from cfaig.integration.tools import (
    normalise_tool_choice,
    read_tool_call,
    tool_arguments_json,
    tool_call_extra,
    tool_call_extras,
    tool_call_param,
)
from cfaig.types import FunctionCall, GatewayMeta, ToolCall, Usage


class Settings(GatewayFields):
    """The smallest integration class: GatewayFields and nothing else."""


# --- fields derived from the core --------------------------------------------------------------


def test_every_core_field_is_an_integration_field() -> None:
    names = set(Settings.model_fields) - {"gateway_client", "async_gateway_client"}
    assert names == {*GatewayConfig.model_fields, *OPTION_FIELD_NAMES.values()}
    assert OPTION_FIELD_NAMES["metadata"] == "gateway_metadata"
    assert set(CONFIG_FIELDS) == set(GatewayConfig.model_fields)


@pytest.mark.parametrize("name", list(GatewayConfig.model_fields))
def test_config_fields_take_the_core_default_description_and_env(name: str) -> None:
    field = GatewayFields.model_fields[name]
    assert field.description, f"{name} has no description: GatewayConfig documents each field under it"
    if name in ENV_VARS:
        assert field.default_factory is not None
    else:
        assert field.default == GatewayConfig.model_fields[name].default


@pytest.mark.parametrize("name", list(OPTION_FIELD_NAMES))
def test_option_fields_are_unset_and_documented_like_the_core(name: str) -> None:
    from cfaig.options import NON_HEADER_OPTIONS

    field = GatewayFields.model_fields[OPTION_FIELD_NAMES[name]]
    assert field.default is None
    assert field.description
    if name not in NON_HEADER_OPTIONS:
        assert field.description.endswith(f"``{_header(name)}``.")


def _header(option: str) -> str:
    return {
        "request_timeout_ms": "cf-aig-request-timeout",
        "retry_delay_ms": "cf-aig-retry-delay",
        "session_affinity": "x-session-affinity",
    }.get(option, "cf-aig-" + option.replace("_", "-"))


def test_defaults_come_from_the_core_and_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for variables in ENV_VARS.values():
        for variable in variables:
            monkeypatch.delenv(variable, raising=False)
    settings = Settings(account_id="acct")
    config = settings._gateway.config
    assert (settings.timeout, settings.max_retries) == (config.timeout, config.max_retries) == (60.0, 2)
    assert settings.gateway_id is None and config.gateway_id == "default"
    monkeypatch.setenv("CLOUDFLARE_GATEWAY_ID", "from-env")
    monkeypatch.setenv("CF_AIG_TOKEN", "env-token")
    settings = Settings(account_id="acct")
    assert settings.gateway_id == "from-env"
    assert isinstance(settings.cf_aig_token, SecretStr)
    assert settings._gateway.config.cf_aig_token == SecretStr("env-token")


def test_secrets_are_hidden() -> None:
    settings = Settings(account_id="acct", cf_aig_token="tok-SECRET", api_key="sk-SECRET")
    assert "SECRET" not in repr(settings)
    assert "cf_aig_token" not in settings.model_dump()
    assert "api_key" not in settings.model_dump()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"timeout": 0},
        {"max_retries": 11},
        {"gateway_id": "g" * 65},
        {"cache_ttl": 5},
        {"max_attempts": 6},
        {"gateway_metadata": {str(i): i for i in range(6)}},
    ],
)
def test_bounds_are_the_cores_and_raise_configuration_error(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        Settings(account_id="acct", **kwargs)


def test_metadata_keyword_is_gateway_metadata_without_a_framework_field() -> None:
    settings = Settings(account_id="acct", metadata={"team": "search"})
    assert settings.gateway_metadata == {"team": "search"}
    assert settings._gateway.options.metadata == {"team": "search"}
    with pytest.raises(ConfigurationError, match="not both"):
        Settings(account_id="acct", metadata={"a": 1}, gateway_metadata={"b": 2})


# --- derived state follows the fields ------------------------------------------------------------


def test_model_copy_with_update_derives_again() -> None:
    settings = Settings(account_id="acct", cache_ttl=120)
    copied = settings.model_copy(update={"cache_ttl": 600, "gateway_id": "other"})
    assert copied._gateway.options.cache_ttl == 600
    assert copied._gateway.config.gateway_id == "other"
    assert settings._gateway.options.cache_ttl == 120
    assert settings._gateway.config.gateway_id == "default"
    with pytest.raises(ConfigurationError):
        settings.model_copy(update={"cache_ttl": 5})


def test_assignment_derives_again_and_a_bad_value_is_refused() -> None:
    settings = Settings(account_id="acct")
    settings.gateway_id = "renamed"
    settings.skip_cache = True
    assert settings._gateway.config.gateway_id == "renamed"
    assert settings._gateway.options.skip_cache is True
    with pytest.raises(ConfigurationError):
        settings.cache_ttl = 5
    assert settings.cache_ttl is None  # left as it was
    assert settings._gateway.options.cache_ttl is None


def test_a_deep_copy_shares_the_clients() -> None:
    settings = Settings(account_id="acct-deep-copy")
    client = settings.client  # a thread-locked pool: copying it would fail
    copied = settings.model_copy(deep=True)
    assert copied.client is client
    assert copied._gateway is not settings._gateway


def test_a_used_instance_pickles_without_its_clients() -> None:
    settings = Settings(account_id="acct-pickle", cache_ttl=120)
    assert settings.client is shared_client(settings._gateway.config)
    restored = pickle.loads(pickle.dumps(settings))  # noqa: S301 - our own bytes, just written
    assert restored._gateway.options.cache_ttl == 120
    assert restored.client is settings.client  # the shared client for the same configuration


# --- client resolution ---------------------------------------------------------------------------


def test_an_injected_client_brings_its_configuration() -> None:
    with GatewayClient(account_id="client-acct", gateway_id="client-gw") as client:
        for fields in ({}, {"account_id": "field-acct", "gateway_id": "field-gw"}):
            settings = Settings(gateway_client=client, **fields)
            assert settings.client is client
            assert settings._gateway.config is client.config
            assert settings._gateway.describe() == {"gateway_id": "client-gw", "surface": "gateway"}
            assert settings.async_client is shared_async_client(client.config)  # the half not injected


def test_the_shared_client_is_looked_up_once() -> None:
    settings = Settings(account_id="acct-shared-once")
    first = settings.client
    assert first is shared_client(settings._gateway.config)
    assert settings.client is first
    assert settings._gateway._client is first  # kept: no lookup (lock, hash) per call


def test_gateway_state_resolve_builds_a_config_only_without_injection() -> None:
    built: list[GatewayConfig] = []

    def build() -> GatewayConfig:
        built.append(GatewayConfig(account_id="built"))
        return built[-1]

    state = GatewayState.resolve(build, GatewayOptions())
    assert state.config is built[0]
    with GatewayClient(account_id="injected") as client:
        assert GatewayState.resolve(build, GatewayOptions(), client).config is client.config
    assert len(built) == 1


# --- answer keys ---------------------------------------------------------------------------------


def test_gateway_fields_include_the_event_id_and_never_none() -> None:
    meta = GatewayMeta(log_id="log", cache_status="HIT", step=0, event_id="evt-7", request_id="r")
    assert gateway_fields(meta) == {
        "cf_aig_log_id": "log",
        "cf_aig_cache_status": "HIT",
        "cf_aig_step": 0,
        "cf_aig_event_id": "evt-7",
    }
    assert gateway_fields(GatewayMeta(log_id="log")) == {"cf_aig_log_id": "log"}
    assert gateway_fields(GatewayMeta()) == {}


def test_token_counts_total_falls_back_to_the_sum() -> None:
    assert token_counts(Usage(prompt_tokens=3, completion_tokens=4, total_tokens=9)).total == 9
    assert token_counts(Usage(prompt_tokens=3, completion_tokens=4)).total == 7
    usage = Usage.model_validate(
        {
            "prompt_tokens": 10,
            "completion_tokens": 5,
            "prompt_tokens_details": {"cached_tokens": 4, "cache_creation_tokens": 1},
            "completion_tokens_details": {"reasoning_tokens": 2},
        }
    )
    assert token_counts(usage) == TokenCounts(10, 5, 15, cache_read=4, cache_creation=1, reasoning=2)


# --- tool calls ----------------------------------------------------------------------------------


def test_tool_arguments_keep_non_ascii() -> None:
    assert tool_arguments_json({"q": "你好"}) == '{"q": "你好"}'
    assert tool_arguments_json({"q": "你好"}) == json.dumps({"q": "你好"}, ensure_ascii=False)
    assert tool_arguments_json('{"partial": ') == '{"partial": '
    assert tool_arguments_json(None) == "{}"


def test_tool_call_param_and_extras() -> None:
    signature = {"google": {"thought_signature": "s"}}
    assert tool_call_param("c1", "f", {"a": 1}, signature) == {
        "id": "c1",
        "type": "function",
        "function": {"name": "f", "arguments": '{"a": 1}'},
        "extra_content": signature,
    }
    assert "extra_content" not in tool_call_param("c1", "f", {}, None)
    calls = [
        ToolCall(id="c1", function=FunctionCall(name="f"), extra_content=signature),
        ToolCall(id="c2", function=FunctionCall(name="g")),
        ToolCall(id="", function=FunctionCall(name="h"), extra_content=signature),
    ]
    assert tool_call_extra(calls[0]) == signature
    assert tool_call_extra(calls[1]) is None
    assert tool_call_extras(calls) == {"c1": signature}


def test_read_tool_call() -> None:
    raw = {"id": "c", "function": {"name": "f", "arguments": {"x": 1}}, "extra_content": {"k": "v"}}
    parts = read_tool_call(raw)
    assert parts is not None
    assert (parts.id, parts.name, parts.arguments, parts.extra) == ("c", "f", {"x": 1}, {"k": "v"})
    assert read_tool_call(ToolCall(id="d", function=FunctionCall(name="g", arguments="{}"))) == ("d", "g", "{}", None)
    assert read_tool_call({"function": {"arguments": "{}"}}) is None
    assert read_tool_call("not a call") is None


# moved from tests/langchain/test_convert.py (LangChain's spellings)
@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (None, None),
        ("auto", "auto"),
        ("none", "none"),
        ("any", "required"),
        ("required", "required"),
        (True, {"type": "function", "function": {"name": "only"}}),
        ("only", {"type": "function", "function": {"name": "only"}}),
    ],
)
def test_tool_choice(choice: object, expected: object) -> None:
    assert normalise_tool_choice(choice, ["only"]) == expected  # type: ignore[arg-type]


def test_true_with_several_tools_is_required() -> None:
    assert normalise_tool_choice(True, ["a", "b"]) == "required"


# moved from tests/llamaindex/test_convert.py (LlamaIndex's tool_required and bare names)
@pytest.mark.parametrize(
    ("choice", "required", "expected"),
    [
        (None, False, None),
        (None, True, "required"),
        ("auto", False, "auto"),
        ("none", True, "none"),
        ("add", False, {"type": "function", "function": {"name": "add"}}),
        ({"type": "function", "function": {"name": "x"}}, False, {"type": "function", "function": {"name": "x"}}),
    ],
)
def test_tool_choice_with_tool_required(choice: object, required: bool, expected: object) -> None:
    assert normalise_tool_choice(choice, required=required) == expected  # type: ignore[arg-type]


def test_any_is_required_in_every_framework_spelling() -> None:
    assert normalise_tool_choice("any") == "required"
    assert normalise_tool_choice("any", required=True) == "required"


# --- embeddings ----------------------------------------------------------------------------------


def test_embedding_support_checks_dimensions_once_for_both_frameworks() -> None:
    assert embedding_support_for("openai/text-embedding-3-small", dimensions=64).dimensions
    with pytest.raises(ConfigurationError, match="dimensions"):
        embedding_support_for("workers-ai/@cf/baai/bge-base-en-v1.5", dimensions=64)
    with pytest.raises(ConfigurationError, match="embeddings endpoint"):
        embedding_support_for("anthropic/claude-sonnet-4-5")


def test_public_names_load_lazily() -> None:
    for name in cfaig.integration.__all__:
        assert getattr(cfaig.integration, name) is not None
    assert "GatewayFields" in dir(cfaig.integration)
