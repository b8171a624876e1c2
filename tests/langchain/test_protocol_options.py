"""Issue 11 parts 3-6 through the LangChain classes: fallback_mode, default_headers, session affinity, the
surface chosen by CF_AIG_SURFACE, and a custom domain's gateway_url. Each test runs sync and async
(``cfaig_driver``); the emulator's recorded requests prove the routes and headers sent."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from cfaig.errors import ConfigurationError
from cfaig.testing import EmulatorServer, Fault
from cfaig.testing.pytest_plugin import Driver
from langchain_cfaig import ChatCloudflareAIGateway, CloudflareAIGatewayEmbeddings
from tests._protocol_env import (
    TOKEN,
    assert_custom_domain_paths,
    assert_sent_on_rest,
    clear_gateway_env,
    custom_domain_server,
    use_rest_surface,
)

MODEL = "openai/gpt-5-mini"
FALLBACK = "anthropic/claude-sonnet-4-5"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    return clear_gateway_env(monkeypatch)


def chat(clients: dict[str, Any], **kwargs: Any) -> ChatCloudflareAIGateway:
    return ChatCloudflareAIGateway(**{"model": MODEL, **kwargs}, **clients)


def test_fallbacks_are_client_side_by_default_and_report_the_step(
    cfaig_driver: Driver, clients: dict[str, Any]
) -> None:
    emu = cfaig_driver.emulator
    emu.inject(Fault(status=400))
    message = cfaig_driver.on(chat(clients, fallbacks=[FALLBACK]), "invoke", "hi")
    assert message.response_metadata["cf_aig_step"] == 1
    assert message.response_metadata["model_name"] == FALLBACK
    assert [r.json["model"] for r in emu.requests] == [MODEL, FALLBACK]
    assert all(r.path.endswith("/compat/chat/completions") for r in emu.requests)


def test_fallback_mode_universal_as_a_field_and_per_call(cfaig_driver: Driver, clients: dict[str, Any]) -> None:
    emu = cfaig_driver.emulator
    cfaig_driver.on(chat(clients, fallbacks=[FALLBACK], fallback_mode="universal"), "invoke", "hi")
    cfaig_driver.on(chat(clients, fallbacks=[FALLBACK]), "invoke", "hi", fallback_mode="universal")
    assert [r.route for r in emu.requests] == ["universal", "universal"]


def test_responses_api_fallbacks_honour_fallback_mode(cfaig_driver: Driver, clients: dict[str, Any]) -> None:
    emu = cfaig_driver.emulator
    emu.inject(Fault(status=400))
    model = chat(clients, use_responses_api=True, fallbacks=["openai/gpt-4.1"])
    message = cfaig_driver.on(model, "invoke", "hi")
    assert message.response_metadata["cf_aig_step"] == 1
    assert [r.route for r in emu.requests] == ["provider.openai.responses"] * 2
    emu.reset()
    cfaig_driver.on(model, "invoke", "hi", fallback_mode="universal")
    assert [r.route for r in emu.requests] == ["universal"]


def test_default_headers_and_session_affinity(cfaig_driver: Driver, clients: dict[str, Any]) -> None:
    emu = cfaig_driver.emulator
    model = chat(clients, default_headers={"X-Team": "search"}, session_affinity="conv-1")
    cfaig_driver.on(model, "invoke", "hi", default_headers={"X-Call": "yes"})
    sent = emu.requests[-1].headers
    assert (sent["x-team"], sent["x-call"], sent["x-session-affinity"]) == ("search", "yes", "conv-1")
    cfaig_driver.collect(model, "stream", "hi")
    assert emu.requests[-1].headers["x-team"] == "search"
    embeddings = CloudflareAIGatewayEmbeddings(default_headers={"X-Team": "rag"}, **clients)
    cfaig_driver.on(embeddings, "embed_query", "a cat")
    assert emu.requests[-1].headers["x-team"] == "rag"


def test_credential_headers_are_refused_at_construction(clients: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match="may not set"):
        chat(clients, default_headers={"Authorization": "Bearer sk-x"})
    with pytest.raises(ConfigurationError, match="may not set"):
        CloudflareAIGatewayEmbeddings(default_headers={"cf-aig-authorization": "Bearer x"}, **clients)


def test_cf_aig_surface_switches_the_classes_without_code_changes(
    cfaig_driver: Driver, cfaig_gateway: EmulatorServer, clean_env: pytest.MonkeyPatch
) -> None:
    use_rest_surface(clean_env, cfaig_gateway)
    clean_env.setenv("CF_AIG_GATEWAY_URL", "https://ai.example.com")  # a gateway-host setting: REST ignores it
    message = cfaig_driver.on(ChatCloudflareAIGateway(model="z-ai/glm-4.7-flash"), "invoke", "hi")
    assert_sent_on_rest(cfaig_gateway, "z-ai/glm-4.7-flash")
    assert message.response_metadata["model_name"] == "z-ai/glm-4.7-flash"
    cfaig_driver.on(CloudflareAIGatewayEmbeddings(), "embed_query", "a cat")
    assert cfaig_gateway.emulator.requests[-1].route == "rest.embeddings"


def test_gateway_url_sends_to_the_custom_domain(
    cfaig_driver: Driver, cfaig_serve: Callable[..., EmulatorServer], clean_env: pytest.MonkeyPatch
) -> None:
    server, root = custom_domain_server(cfaig_serve)
    cfaig_driver.on(ChatCloudflareAIGateway(model=MODEL, gateway_url=root, cf_aig_token=TOKEN), "invoke", "hi")
    clean_env.setenv("CF_AIG_GATEWAY_URL", root)
    cfaig_driver.on(CloudflareAIGatewayEmbeddings(cf_aig_token=TOKEN), "embed_query", "a cat")
    assert_custom_domain_paths(server)


def test_default_headers_are_never_shown_or_dumped(clients: dict[str, Any]) -> None:
    from langchain_core.load import dumpd

    model = chat(clients, default_headers={"cf-access-token": "eyJ-access-jwt"})
    assert "eyJ-access-jwt" not in repr(model)
    assert "eyJ-access-jwt" not in json.dumps(dumpd(model))
    assert "eyJ-access-jwt" not in json.dumps(model.model_dump(), default=str)
