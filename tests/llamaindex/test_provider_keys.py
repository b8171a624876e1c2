"""Issue 11 parts 1 and 2 through the LlamaIndex classes: provider keys per target, Workers AI's token, no leaks.

Against the loopback emulator, which knows whose key is whose and records each attempt's credential.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage

from cfaig.testing import EMULATOR_TOKEN, EmulatorServer
from cfaig.testing.pytest_plugin import Driver
from llamaindex_cfaig import CloudflareAIGatewayEmbedding, CloudflareAIGatewayLLM, CloudflareAIGatewayResponses
from tests.provider_keys import ANTHROPIC_KEY, MODES, OPENAI_KEY, attempts, owners, where

HI = [ChatMessage(role="user", content="hi")]


@pytest.mark.parametrize("mode", MODES)
def test_llm_fallback_steps_send_their_own_keys(keyed_gateway: EmulatorServer, mode: str) -> None:
    llm = CloudflareAIGatewayLLM(
        model="anthropic/claude-unavailable-4-5",
        fallbacks=["openai/gpt-5-mini"],
        api_key=ANTHROPIC_KEY,
        provider_keys={"openai": OPENAI_KEY},
        fallback_mode="universal",
        **where(keyed_gateway),
    )
    answer = Driver(mode, keyed_gateway.emulator).on(llm, "chat", HI)  # type: ignore[arg-type]
    assert answer.additional_kwargs["cf_aig_step"] == 1
    steps = keyed_gateway.emulator.requests[-1].json
    assert [step["headers"].get("Authorization") for step in steps] == [
        f"Bearer {ANTHROPIC_KEY}",
        f"Bearer {OPENAI_KEY}",
    ]
    assert [seen.owner for seen in keyed_gateway.emulator.requests[-1].credentials] == ["anthropic", "openai"]


@pytest.mark.parametrize("mode", MODES)
def test_llm_client_side_attempts_send_their_own_keys(keyed_gateway: EmulatorServer, mode: str) -> None:
    """Client mode (the default): one request per target, each with its own target's key or none."""
    llm = CloudflareAIGatewayLLM(
        model="anthropic/claude-unavailable-4-5",
        fallbacks=["openai/gpt-5-unavailable", "groq/llama-3.1-8b-instant"],
        api_key=ANTHROPIC_KEY,
        provider_keys={"openai": OPENAI_KEY},
        **where(keyed_gateway),
    )
    answer = Driver(mode, keyed_gateway.emulator).on(llm, "chat", HI)  # type: ignore[arg-type]
    assert answer.additional_kwargs["cf_aig_step"] == 2
    assert attempts(keyed_gateway, 3) == [
        ("compat.chat", "anthropic/claude-unavailable-4-5", f"Bearer {ANTHROPIC_KEY}"),
        ("compat.chat", "openai/gpt-5-unavailable", f"Bearer {OPENAI_KEY}"),
        ("compat.chat", "groq/llama-3.1-8b-instant", None),  # no key of its own: never the primary's api_key
    ]
    assert owners(keyed_gateway, 3) == ["anthropic", "openai", None]


@pytest.mark.parametrize("mode", MODES)
def test_the_responses_class_client_side_attempts_send_the_openai_key(keyed_gateway: EmulatorServer, mode: str) -> None:
    llm = CloudflareAIGatewayResponses(
        model="openai/gpt-5-unavailable",
        fallbacks=["openai/gpt-5-mini"],
        api_key=OPENAI_KEY,
        **where(keyed_gateway),
    )
    answer = Driver(mode, keyed_gateway.emulator).on(llm, "chat", HI)  # type: ignore[arg-type]
    assert answer.additional_kwargs["cf_aig_step"] == 1
    assert attempts(keyed_gateway, 2) == [  # api_key: openai is the primary's provider, and each fallback's too
        ("provider.openai.responses", "gpt-5-unavailable", f"Bearer {OPENAI_KEY}"),
        ("provider.openai.responses", "gpt-5-mini", f"Bearer {OPENAI_KEY}"),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_per_call_provider_keys_never_reach_the_events(keyed_gateway: EmulatorServer, mode: str, events: Any) -> None:
    llm = CloudflareAIGatewayLLM(model="anthropic/claude-sonnet-4-5", **where(keyed_gateway))
    Driver(mode, keyed_gateway.emulator).on(llm, "chat", HI, provider_keys={"anthropic": ANTHROPIC_KEY})  # type: ignore[arg-type]
    assert keyed_gateway.emulator.requests[-1].headers["authorization"] == f"Bearer {ANTHROPIC_KEY}"
    recorded = [event for event in events.events if event.class_name().startswith("LLMChat")]
    assert recorded
    for event in recorded:  # the events keep a call's keyword arguments: the keys there are masked
        assert ANTHROPIC_KEY not in f"{event!r} {event.model_dump_json()}"


@pytest.mark.parametrize("mode", MODES)
def test_the_responses_class_sends_the_openai_key(keyed_gateway: EmulatorServer, mode: str) -> None:
    llm = CloudflareAIGatewayResponses(
        model="openai/gpt-5-mini", provider_keys={"openai": OPENAI_KEY}, **where(keyed_gateway)
    )
    Driver(mode, keyed_gateway.emulator).on(llm, "chat", HI)  # type: ignore[arg-type]
    sent = keyed_gateway.emulator.requests[-1]
    assert sent.route == "provider.openai.responses"
    assert sent.headers["authorization"] == f"Bearer {OPENAI_KEY}"


@pytest.mark.parametrize("mode", MODES)
def test_the_embedding_sends_the_workers_ai_token_or_its_providers_key(
    keyed_gateway: EmulatorServer, mode: str
) -> None:
    driver = Driver(mode, keyed_gateway.emulator)  # type: ignore[arg-type]
    workers_ai = CloudflareAIGatewayEmbedding(cf_aig_token=EMULATOR_TOKEN, **where(keyed_gateway))  # the default model
    driver.run(lambda: workers_ai.get_text_embedding("hi"), lambda: workers_ai.aget_text_embedding("hi"))
    sent = keyed_gateway.emulator.requests[-1]
    assert sent.route == "provider.workers-ai.embeddings"
    assert sent.headers["authorization"] == f"Bearer {EMULATOR_TOKEN}"
    openai = CloudflareAIGatewayEmbedding(
        model_name="openai/text-embedding-3-small", provider_keys={"openai": OPENAI_KEY}, **where(keyed_gateway)
    )
    driver.run(lambda: openai.get_text_embedding("hi"), lambda: openai.aget_text_embedding("hi"))
    assert keyed_gateway.emulator.requests[-1].headers["authorization"] == f"Bearer {OPENAI_KEY}"


def test_provider_keys_never_in_repr_to_dict_or_to_json() -> None:
    keys = {"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY}
    objects: list[CloudflareAIGatewayLLM | CloudflareAIGatewayEmbedding] = [
        CloudflareAIGatewayLLM(model="openai/gpt-5-mini", account_id="a", provider_keys=keys),
        CloudflareAIGatewayResponses(model="openai/gpt-5-mini", account_id="a", provider_keys=keys),
        CloudflareAIGatewayEmbedding(account_id="a", provider_keys=keys),
    ]
    for obj in objects:
        shown = f"{obj!r} {obj} {json.dumps(obj.to_dict(), default=repr)} {obj.to_json()} {obj.model_dump()}"
        assert OPENAI_KEY not in shown and ANTHROPIC_KEY not in shown
        assert obj.client.config.provider_keys["openai"].get_secret_value() == OPENAI_KEY
