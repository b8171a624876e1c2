"""Issue 11 parts 1 and 2 through the LangChain classes: provider keys per target, Workers AI's token, no leaks.

Against the loopback emulator, which knows whose key is whose and records each attempt's credential.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.load import dumpd, load

from cfaig.testing import EMULATOR_TOKEN, EmulatorServer
from cfaig.testing.pytest_plugin import Driver
from langchain_cfaig import ChatCloudflareAIGateway, CloudflareAIGatewayEmbeddings
from tests.provider_keys import ANTHROPIC_KEY, MODES, OPENAI_KEY, attempts, owners, where


def _step_auth(keyed_gateway: EmulatorServer) -> list[str | None]:
    return [step["headers"].get("Authorization") for step in keyed_gateway.emulator.requests[-1].json]


@pytest.mark.parametrize("mode", MODES)
def test_chat_model_fallback_steps_send_their_own_keys(keyed_gateway: EmulatorServer, mode: str) -> None:
    model = ChatCloudflareAIGateway(
        model="openai/gpt-5-unavailable",
        fallbacks=["anthropic/claude-sonnet-4-5", "groq/llama-3.1-8b-instant"],
        api_key=OPENAI_KEY,
        provider_keys={"anthropic": ANTHROPIC_KEY},
        fallback_mode="universal",
        **where(keyed_gateway),
    )
    answer = Driver(mode, keyed_gateway.emulator).on(model, "invoke", "hi")  # type: ignore[arg-type]
    assert answer.response_metadata["cf_aig_step"] == 1
    assert _step_auth(keyed_gateway) == [f"Bearer {OPENAI_KEY}", f"Bearer {ANTHROPIC_KEY}", None]
    assert [seen.owner for seen in keyed_gateway.emulator.requests[-1].credentials] == ["openai", "anthropic"]


@pytest.mark.parametrize("mode", MODES)
def test_chat_model_client_side_attempts_send_their_own_keys(keyed_gateway: EmulatorServer, mode: str) -> None:
    """Client mode (the default): one request per target, each with its own target's key or none."""
    model = ChatCloudflareAIGateway(
        model="openai/gpt-5-unavailable",
        fallbacks=["anthropic/claude-unavailable-4-5", "groq/llama-3.1-8b-instant"],
        api_key=OPENAI_KEY,
        provider_keys={"anthropic": ANTHROPIC_KEY},
        **where(keyed_gateway),
    )
    answer = Driver(mode, keyed_gateway.emulator).on(model, "invoke", "hi")  # type: ignore[arg-type]
    assert answer.response_metadata["cf_aig_step"] == 2
    assert attempts(keyed_gateway, 3) == [
        ("compat.chat", "openai/gpt-5-unavailable", f"Bearer {OPENAI_KEY}"),
        ("compat.chat", "anthropic/claude-unavailable-4-5", f"Bearer {ANTHROPIC_KEY}"),
        ("compat.chat", "groq/llama-3.1-8b-instant", None),  # no key of its own: never the primary's api_key
    ]
    assert owners(keyed_gateway, 3) == ["openai", "anthropic", None]


@pytest.mark.parametrize("mode", MODES)
def test_responses_api_client_side_attempts_send_the_openai_key(keyed_gateway: EmulatorServer, mode: str) -> None:
    model = ChatCloudflareAIGateway(
        model="openai/gpt-5-unavailable",
        fallbacks=["openai/gpt-5-mini"],
        use_responses_api=True,
        api_key="sk-not-for-openai",
        provider_keys={"openai": OPENAI_KEY},
        **where(keyed_gateway),
    )
    answer = Driver(mode, keyed_gateway.emulator).on(model, "invoke", "hi")  # type: ignore[arg-type]
    assert answer.response_metadata["cf_aig_step"] == 1
    assert attempts(keyed_gateway, 2) == [
        ("provider.openai.responses", "gpt-5-unavailable", f"Bearer {OPENAI_KEY}"),
        ("provider.openai.responses", "gpt-5-mini", f"Bearer {OPENAI_KEY}"),  # provider_keys over api_key
    ]


@pytest.mark.parametrize("mode", MODES)
def test_per_call_provider_keys_and_tracing_never_sees_them(keyed_gateway: EmulatorServer, mode: str) -> None:
    seen: list[dict[str, Any]] = []

    class Recorder(BaseCallbackHandler):
        def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
            seen.append(kwargs.get("invocation_params") or {})

    model = ChatCloudflareAIGateway(model="anthropic/claude-sonnet-4-5", callbacks=[Recorder()], **where(keyed_gateway))
    Driver(mode, keyed_gateway.emulator).on(model, "invoke", "hi", provider_keys={"anthropic": ANTHROPIC_KEY})  # type: ignore[arg-type]
    assert keyed_gateway.emulator.requests[-1].headers["authorization"] == f"Bearer {ANTHROPIC_KEY}"
    assert seen and seen[0]["provider_keys"] == {"anthropic": "**********"}
    assert ANTHROPIC_KEY not in json.dumps(seen, default=repr)


@pytest.mark.parametrize("mode", MODES)
def test_the_responses_api_sends_the_openai_key(keyed_gateway: EmulatorServer, mode: str) -> None:
    model = ChatCloudflareAIGateway(
        model="openai/gpt-5-mini", use_responses_api=True, provider_keys={"openai": OPENAI_KEY}, **where(keyed_gateway)
    )
    Driver(mode, keyed_gateway.emulator).on(model, "invoke", "hi")  # type: ignore[arg-type]
    sent = keyed_gateway.emulator.requests[-1]
    assert sent.route == "provider.openai.responses"
    assert sent.headers["authorization"] == f"Bearer {OPENAI_KEY}"


@pytest.mark.parametrize("mode", MODES)
def test_embeddings_send_the_workers_ai_token_or_their_providers_key(keyed_gateway: EmulatorServer, mode: str) -> None:
    driver = Driver(mode, keyed_gateway.emulator)  # type: ignore[arg-type]
    workers_ai = CloudflareAIGatewayEmbeddings(cf_aig_token=EMULATOR_TOKEN, **where(keyed_gateway))  # the default model
    driver.on(workers_ai, "embed_query", "hi")
    sent = keyed_gateway.emulator.requests[-1]
    assert sent.route == "provider.workers-ai.embeddings"
    assert sent.headers["authorization"] == f"Bearer {EMULATOR_TOKEN}"
    openai = CloudflareAIGatewayEmbeddings(
        model="openai/text-embedding-3-small", provider_keys={"openai": OPENAI_KEY}, **where(keyed_gateway)
    )
    driver.on(openai, "embed_query", "hi")
    assert keyed_gateway.emulator.requests[-1].headers["authorization"] == f"Bearer {OPENAI_KEY}"


def test_provider_keys_never_in_repr_dumps_or_dumpd(monkeypatch: pytest.MonkeyPatch) -> None:
    keys = {"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY}
    chat = ChatCloudflareAIGateway(model="openai/gpt-5-mini", account_id="a", provider_keys=keys)
    embeddings = CloudflareAIGatewayEmbeddings(account_id="a", provider_keys=keys)
    for obj in (chat, embeddings):
        shown = f"{obj!r} {obj} {obj.model_dump()} {obj.model_dump_json()}"
        assert OPENAI_KEY not in shown and ANTHROPIC_KEY not in shown
    dumped = dumpd(chat)
    assert OPENAI_KEY not in json.dumps(dumped)
    assert dumped["kwargs"]["provider_keys"] == {"lc": 1, "type": "secret", "id": ["CF_AIG_PROVIDER_KEYS"]}
    monkeypatch.setenv("CF_AIG_PROVIDER_KEYS", json.dumps(keys))
    restored = load(
        dumped, secrets_from_env=True, valid_namespaces=["langchain_cfaig"], allowed_objects=[ChatCloudflareAIGateway]
    )
    assert restored.client.config.provider_keys["anthropic"].get_secret_value() == ANTHROPIC_KEY
