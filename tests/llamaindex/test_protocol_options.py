"""Issue 11 parts 3-6 through the LlamaIndex classes: fallback_mode, default_headers, session affinity, the
surface chosen by CF_AIG_SURFACE, and a custom domain's gateway_url. Each test runs sync and async
(``cfaig_driver``); the emulator's recorded requests prove the routes and headers sent."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from llama_index.core.llms import ChatMessage

from cfaig import AsyncGatewayClient, GatewayClient
from cfaig.errors import ConfigurationError
from cfaig.testing import EmulatorServer, Fault
from cfaig.testing.pytest_plugin import Driver
from llamaindex_cfaig import CloudflareAIGatewayEmbedding, CloudflareAIGatewayLLM, CloudflareAIGatewayResponses
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
HI = [ChatMessage(role="user", content="hello there")]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    return clear_gateway_env(monkeypatch)


@pytest.fixture
def clients(gateway_client: GatewayClient, async_gateway_client: AsyncGatewayClient) -> dict[str, Any]:
    return {"gateway_client": gateway_client, "async_gateway_client": async_gateway_client}


def test_fallbacks_are_client_side_by_default_and_report_the_step(
    cfaig_driver: Driver, clients: dict[str, Any]
) -> None:
    emu = cfaig_driver.emulator
    emu.inject(Fault(status=400))
    llm = CloudflareAIGatewayLLM(model=MODEL, fallbacks=[FALLBACK], **clients)
    response = cfaig_driver.on(llm, "chat", HI)
    assert response.additional_kwargs["cf_aig_step"] == 1
    assert response.additional_kwargs["model_name"] == FALLBACK
    assert [r.json["model"] for r in emu.requests] == [MODEL, FALLBACK]


def test_fallback_mode_universal_as_a_field_and_per_call(cfaig_driver: Driver, clients: dict[str, Any]) -> None:
    emu = cfaig_driver.emulator
    cfaig_driver.on(
        CloudflareAIGatewayLLM(model=MODEL, fallbacks=[FALLBACK], fallback_mode="universal", **clients), "chat", HI
    )
    cfaig_driver.on(
        CloudflareAIGatewayLLM(model=MODEL, **clients), "chat", HI, fallbacks=[FALLBACK], fallback_mode="universal"
    )
    assert [r.route for r in emu.requests] == ["universal", "universal"]


def test_responses_fallbacks_honour_fallback_mode(cfaig_driver: Driver, clients: dict[str, Any]) -> None:
    emu = cfaig_driver.emulator
    emu.inject(Fault(status=400))
    llm = CloudflareAIGatewayResponses(model=MODEL, fallbacks=["openai/gpt-4.1"], **clients)
    response = cfaig_driver.on(llm, "chat", HI)
    assert response.additional_kwargs["cf_aig_step"] == 1
    assert [r.route for r in emu.requests] == ["provider.openai.responses"] * 2
    emu.reset()
    cfaig_driver.on(llm, "chat", HI, fallback_mode="universal")
    assert [r.route for r in emu.requests] == ["universal"]


def test_default_headers_and_session_affinity(cfaig_driver: Driver, clients: dict[str, Any]) -> None:
    emu = cfaig_driver.emulator
    llm = CloudflareAIGatewayLLM(
        model=MODEL, default_headers={"X-Team": "search"}, session_affinity="conv-1", **clients
    )
    cfaig_driver.on(llm, "chat", HI, default_headers={"X-Call": "yes"})
    sent = emu.requests[-1].headers
    assert (sent["x-team"], sent["x-call"], sent["x-session-affinity"]) == ("search", "yes", "conv-1")
    embedding = CloudflareAIGatewayEmbedding(default_headers={"X-Team": "rag"}, **clients)
    cfaig_driver.on(embedding, "get_query_embedding", "a cat")
    assert emu.requests[-1].headers["x-team"] == "rag"


def test_credential_headers_are_refused_at_construction(clients: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match="may not set"):
        CloudflareAIGatewayLLM(model=MODEL, default_headers={"AUTHORIZATION": "Bearer sk-x"}, **clients)
    with pytest.raises(ConfigurationError, match="may not set"):
        CloudflareAIGatewayEmbedding(default_headers={"Cf-Aig-Authorization": "Bearer x"}, **clients)


def test_cf_aig_surface_switches_the_classes_without_code_changes(
    cfaig_driver: Driver, cfaig_gateway: EmulatorServer, clean_env: pytest.MonkeyPatch
) -> None:
    use_rest_surface(clean_env, cfaig_gateway)
    response = cfaig_driver.on(CloudflareAIGatewayLLM(model="moonshotai/kimi-k2"), "chat", HI)
    assert_sent_on_rest(cfaig_gateway, "moonshotai/kimi-k2")
    assert response.additional_kwargs["model_name"] == "moonshotai/kimi-k2"
    cfaig_driver.on(CloudflareAIGatewayEmbedding(), "get_query_embedding", "a cat")
    assert cfaig_gateway.emulator.requests[-1].route == "rest.embeddings"


def test_gateway_url_sends_to_the_custom_domain(
    cfaig_driver: Driver, cfaig_serve: Callable[..., EmulatorServer], clean_env: pytest.MonkeyPatch
) -> None:
    server, root = custom_domain_server(cfaig_serve)
    cfaig_driver.on(CloudflareAIGatewayLLM(model=MODEL, gateway_url=root, cf_aig_token=TOKEN), "chat", HI)
    clean_env.setenv("CF_AIG_GATEWAY_URL", root)
    cfaig_driver.on(CloudflareAIGatewayEmbedding(cf_aig_token=TOKEN), "get_query_embedding", "a cat")
    assert_custom_domain_paths(server)


def test_default_headers_are_never_shown_or_dumped(clients: dict[str, Any]) -> None:
    llm = CloudflareAIGatewayLLM(model=MODEL, default_headers={"cf-access-token": "eyJ-access-jwt"}, **clients)
    assert "eyJ-access-jwt" not in repr(llm)
    assert "eyJ-access-jwt" not in llm.to_json()
    assert "eyJ-access-jwt" not in json.dumps(llm.to_dict(), default=str)
