"""Which paths serve what: provider routes on the gateway host and the Cloudflare REST surface (_routes)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from cfaig.testing import (
    EMULATOR_ACCOUNT_ID,
    GatewayEmulator,
)
from tests.core.testing.helpers import CF_AUTH, CHAT, TOKEN, UUID7, chat_body, sse_data, sse_json, user

PROVIDER_CASES = [
    ("openai/chat/completions", {"model": "gpt-4o", "messages": user()}, "provider.openai.chat"),
    ("openai/v1/chat/completions", {"model": "gpt-4o", "messages": user()}, "provider.openai.chat"),
    ("openai/responses", {"model": "gpt-4o", "input": "hi"}, "provider.openai.responses"),
    ("openai/v1/responses", {"model": "gpt-4o", "input": "hi"}, "provider.openai.responses"),
    ("openai/embeddings", {"model": "text-embedding-3-small", "input": "hi"}, "provider.openai.embeddings"),
    ("openai/v1/embeddings", {"model": "text-embedding-3-small", "input": "hi"}, "provider.openai.embeddings"),
    (
        "workers-ai/v1/chat/completions",
        {"model": "@cf/meta/llama-3.1-8b-instruct", "messages": user()},
        "provider.workers-ai.chat",
    ),
    (
        "workers-ai/v1/embeddings",
        {"model": "@cf/baai/bge-small-en-v1.5", "input": "hi"},
        "provider.workers-ai.embeddings",
    ),
    ("workers-ai/@cf/meta/llama-3.1-8b-instruct", {"messages": user()}, "provider.workers-ai.run"),
    ("workers-ai/@cf/baai/bge-base-en-v1.5", {"text": ["a", "b"]}, "provider.workers-ai.run"),
    ("groq/chat/completions", {"model": "llama-3.3-70b", "messages": user()}, "provider.groq.chat"),
    ("mistral/v1/chat/completions", {"model": "mistral-large", "messages": user()}, "provider.mistral.chat"),
    ("deepseek/chat/completions", {"model": "deepseek-chat", "messages": user()}, "provider.deepseek.chat"),
    ("perplexity-ai/chat/completions", {"model": "sonar", "messages": user()}, "provider.perplexity-ai.chat"),
    ("grok/v1/chat/completions", {"model": "grok-3", "messages": user()}, "provider.grok.chat"),
    ("cerebras/chat/completions", {"model": "llama3.1-8b", "messages": user()}, "provider.cerebras.chat"),
    ("cerebras/v1/chat/completions", {"model": "llama3.1-8b", "messages": user()}, "provider.cerebras.chat"),
    (
        "anthropic/v1/messages",
        {"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": user()},
        "provider.anthropic.messages",
    ),
]


@pytest.mark.parametrize(("path", "body", "label"), PROVIDER_CASES)
def test_provider_routes(gw: httpx.Client, emulator: GatewayEmulator, path: str, body: Any, label: str) -> None:
    response = gw.post(f"/{path}", json=body, headers=CF_AUTH if path.startswith("workers-ai/") else None)
    assert response.status_code == 200, response.text
    assert emulator.requests[-1].route == label
    assert UUID7.match(response.headers["cf-aig-log-id"])


def test_provider_route_shapes(gw: httpx.Client) -> None:
    openai = gw.post("/openai/chat/completions", json={"model": "gpt-4o", "messages": user("hey")}).json()
    assert openai["model"] == "gpt-4o"
    assert openai["choices"][0]["message"]["content"] == "[cfaig emulator · openai/gpt-4o] You said: hey"
    responses = gw.post("/openai/responses", json={"model": "gpt-4o", "input": "hey"}).json()
    assert responses["object"] == "response"
    assert responses["output"][0]["type"] == "message"
    assert responses["output"][0]["content"][0] == {
        "type": "output_text",
        "text": "[cfaig emulator · openai/gpt-4o] You said: hey",
        "annotations": [],
    }
    usage = responses["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    anthropic = gw.post(
        "/anthropic/v1/messages", json={"model": "claude-sonnet-4-5", "max_tokens": 100, "messages": user("hey")}
    ).json()
    assert anthropic["type"] == "message"
    assert anthropic["content"] == [
        {"type": "text", "text": "[cfaig emulator · anthropic/claude-sonnet-4-5] You said: hey"}
    ]
    assert anthropic["stop_reason"] == "end_turn"
    assert set(anthropic["usage"]) == {"input_tokens", "output_tokens"}
    native = gw.post("/workers-ai/@cf/meta/llama-3.1-8b-instruct", json={"prompt": "hey"}, headers=CF_AUTH).json()
    assert native["success"] is True
    assert native["errors"] == [] and native["messages"] == []
    assert native["result"]["response"] == "[cfaig emulator · workers-ai/@cf/meta/llama-3.1-8b-instruct] You said: hey"
    embedded = gw.post("/workers-ai/@cf/baai/bge-large-en-v1.5", json={"text": ["a b", "c"]}, headers=CF_AUTH).json()
    assert embedded["result"]["shape"] == [2, 1024]
    assert len(embedded["result"]["data"][1]) == 1024


def test_provider_streams(gw: httpx.Client) -> None:
    anthropic = gw.post(
        "/anthropic/v1/messages",
        json={"model": "claude-haiku-4-5", "max_tokens": 50, "stream": True, "messages": user("a b")},
    ).text
    names = re.findall(r"^event: (\S+)$", anthropic, re.MULTILINE)
    assert names[0] == "message_start" and names[-1] == "message_stop"
    deltas = [e["delta"]["text"] for e in sse_json(anthropic) if e["type"] == "content_block_delta"]
    assert "".join(deltas).endswith("You said: a b")
    responses = gw.post("/openai/responses", json={"model": "gpt-4o", "input": "a b", "stream": True}).text
    events = sse_json(responses)
    assert events[0]["type"] == "response.created"
    assert events[-1]["type"] == "response.completed"
    assert "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta").endswith("a b")
    native = gw.post(
        "/workers-ai/@cf/meta/llama-3.1-8b-instruct", json={"prompt": "a b", "stream": True}, headers=CF_AUTH
    ).text
    assert sse_data(native)[-1] == "[DONE]"
    assert "".join(e["response"] for e in sse_json(native)).endswith("You said: a b")


def test_provider_route_errors(gw: httpx.Client) -> None:
    unknown = gw.post("/nosuch/chat/completions", json={"model": "x", "messages": user()})
    assert unknown.status_code == 404
    assert unknown.json()["name"] == "AiGatewayError"
    missing_model = gw.post("/openai/chat/completions", json={"messages": user()})
    assert missing_model.status_code == 400
    assert missing_model.json()["error"]["param"] == "model"
    no_max_tokens = gw.post("/anthropic/v1/messages", json={"model": "claude", "messages": user()})
    assert no_max_tokens.status_code == 400
    assert no_max_tokens.json()["type"] == "error"
    bad_native = gw.post("/workers-ai/@cf/meta/llama-3.1-8b-instruct", json={"nothing": True}, headers=CF_AUTH)
    assert bad_native.status_code == 400
    assert bad_native.json()["success"] is False
    assert gw.get(CHAT).status_code == 405


def test_rest_surface(rest: httpx.Client, emulator: GatewayEmulator) -> None:
    chat = rest.post("/ai/v1/chat/completions", json=chat_body(model="openai/gpt-4.1"))
    assert chat.status_code == 200
    assert chat.json()["model"] == "gpt-4.1"
    assert UUID7.match(chat.headers["cf-aig-log-id"])
    assert emulator.requests[-1].gateway_id == "default"
    assert emulator.requests[-1].surface == "rest"
    for model in ["google/gemini-3-flash", "xai/grok-3", "anthropic/claude-sonnet-4-5"]:
        assert rest.post("/ai/v1/chat/completions", json=chat_body(model=model)).status_code == 200
    for model in ["google-ai-studio/gemini-2.5-flash", "grok/grok-3"]:
        rejected = rest.post("/ai/v1/chat/completions", json=chat_body(model=model))
        assert rejected.status_code == 400
        assert "google/" in rejected.json()["errors"][0]["message"]
    direct = rest.post("/ai/v1/chat/completions", json=chat_body(model="@cf/meta/llama-3.1-8b-instruct"))
    assert direct.status_code == 200
    assert "cf-aig-log-id" not in direct.headers
    direct_request = emulator.requests[-1]
    assert direct_request.gateway_id is None
    via_gateway = rest.post(
        "/ai/v1/chat/completions",
        json=chat_body(model="@cf/meta/llama-3.1-8b-instruct"),
        headers={"cf-aig-gateway-id": "default"},
    )
    assert "cf-aig-log-id" in via_gateway.headers
    unknown = rest.post("/ai/v1/chat/completions", json=chat_body(), headers={"cf-aig-gateway-id": "nope"})
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["code"] == 2001
    embeddings = rest.post("/ai/v1/embeddings", json={"model": "@cf/baai/bge-base-en-v1.5", "input": ["a", "b"]})
    assert [len(d["embedding"]) for d in embeddings.json()["data"]] == [768, 768]
    assert emulator.requests[-1].route == "rest.embeddings"
    responses = rest.post("/ai/v1/responses", json={"model": "openai/gpt-5", "input": "hi"})
    assert responses.json()["object"] == "response"
    run = rest.post("/ai/run/@cf/meta/llama-3.1-8b-instruct", json={"messages": user("yo")})
    assert run.json()["result"]["response"].endswith("You said: yo")
    assert emulator.requests[-1].route == "rest.run"
    no_model = rest.post("/ai/run/@cf/nosuch", json={"messages": user()})
    assert no_model.status_code == 200  # any @cf/ model id runs on the fake backend
    not_workers = rest.post("/ai/run/openai/gpt-4o", json={"messages": user()})
    assert not_workers.status_code == 400
    assert not_workers.json()["errors"][0]["code"] == 5007


def test_rest_auth_and_routing_errors(emulator: GatewayEmulator) -> None:
    with httpx.Client(transport=emulator.transport(), base_url=emulator.api_base_url) as client:
        denied = client.post(f"/accounts/{EMULATOR_ACCOUNT_ID}/ai/v1/chat/completions", json=chat_body())
        assert denied.status_code == 401
        assert denied.json() == {
            "result": None,
            "success": False,
            "errors": [{"code": 10000, "message": "Authentication error"}],
            "messages": [],
        }
        auth = {"authorization": f"Bearer {TOKEN}"}
        other = client.post(f"/accounts/{'a' * 32}/ai/v1/chat/completions", json=chat_body(), headers=auth)
        assert other.status_code == 404
        assert other.json()["errors"][0]["code"] == 7003
        nowhere = client.post(f"/accounts/{EMULATOR_ACCOUNT_ID}/ai/v2/nothing", json={}, headers=auth)
        assert nowhere.status_code == 404
