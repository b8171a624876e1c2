"""Tests for cfaig.testing, the local Cloudflare AI Gateway emulator.

Driven with plain httpx: in-process (sync and async clients on ``emu.transport()``) and over
real loopback sockets (``serve()``).
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import os
import re
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cfaig.testing import (
    EMULATOR_ACCOUNT_ID,
    PROVIDER_QUIRKS,
    EmulatorServer,
    Fault,
    GatewayEmulator,
    GatewaySettings,
    RecordedRequest,
    ScriptedReply,
    serve,
    vcr_config,
)

TOKEN = "test-cf-aig-token"
UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
CHAT = "/compat/chat/completions"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "add",
            "description": "Add two integers",
            "parameters": {
                "type": "object",
                "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                "required": ["a", "b"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                },
                "required": ["city"],
            },
        },
    },
]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def user(text: str = "Hello there") -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def chat_body(text: str = "Hello there", model: str = "openai/gpt-5-mini", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": user(text), **extra}


def sse_data(text: str) -> list[str]:
    return [line[len("data: ") :] for line in text.split("\n") if line.startswith("data: ")]


def sse_json(text: str) -> list[dict[str, Any]]:
    return [json.loads(d) for d in sse_data(text) if d != "[DONE]"]


def content_of(chunks: list[dict[str, Any]]) -> str:
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / (
        math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    )


@pytest.fixture
def emulator() -> GatewayEmulator:
    return GatewayEmulator()


@pytest.fixture
def gw(emulator: GatewayEmulator) -> Iterator[httpx.Client]:
    """Client on the default gateway, in-process."""
    with httpx.Client(transport=emulator.transport(), base_url=emulator.gateway_url()) as client:
        yield client


@pytest.fixture
def rest(emulator: GatewayEmulator) -> Iterator[httpx.Client]:
    """Authenticated REST API client, in-process."""
    headers = {"authorization": f"Bearer {TOKEN}"}
    with httpx.Client(transport=emulator.transport(), base_url=emulator.rest_url, headers=headers) as client:
        yield client


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with serve() as running:
        yield running


@pytest.fixture
def served(server: EmulatorServer) -> Iterator[EmulatorServer]:
    server.emulator.reset()
    yield server
    server.emulator.reset()


# ------------------------------------------------------------------------------------ compat chat


def test_compat_chat_json_shape_and_gateway_headers(gw: httpx.Client, emulator: GatewayEmulator) -> None:
    response = gw.post(CHAT, json=chat_body("What is Cloudflare?"))
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["model"] == "gpt-5-mini"
    message = body["choices"][0]["message"]
    assert message == {
        "role": "assistant",
        "content": "[cfaig emulator · openai/gpt-5-mini] You said: What is Cloudflare?",
    }
    assert body["choices"][0]["finish_reason"] == "stop"
    usage = body["usage"]
    assert usage["prompt_tokens"] == 4  # 3 words + 1 per message
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["prompt_tokens_details"] == {"cached_tokens": 0}
    log_id = response.headers["cf-aig-log-id"]
    assert UUID7.match(log_id)
    assert response.headers["cf-aig-request-id"] == log_id
    assert response.headers["cf-aig-event-id"] == log_id
    assert response.headers["cf-aig-cache-status"] == "MISS"
    assert response.headers["cf-aig-step"] == "0"
    log = emulator.logs[log_id]
    assert log["gateway_id"] == "default"
    assert (log["provider"], log["model"], log["status"], log["cached"]) == ("openai", "gpt-5-mini", 200, False)
    assert log["tokens_in"] == 4


def test_recorded_request_fields(gw: httpx.Client, emulator: GatewayEmulator) -> None:
    gw.post(CHAT, json=chat_body(), headers={"X-Custom": "Yes", "cf-aig-zdr": "true"}, params={"q": "1"})
    [record] = emulator.requests
    assert isinstance(record, RecordedRequest)
    assert record.method == "POST"
    assert record.path == f"/v1/{EMULATOR_ACCOUNT_ID}/default{CHAT}"
    assert record.url.endswith(f"{CHAT}?q=1")
    assert record.headers["x-custom"] == "Yes"
    assert record.headers["cf-aig-zdr"] == "true"
    assert json.loads(record.body) == record.json == chat_body()
    assert (record.gateway_id, record.surface, record.route, record.response_status) == (
        "default",
        "gateway",
        "compat.chat",
        200,
    )


def test_compat_chat_stream_events(gw: httpx.Client) -> None:
    body = chat_body("one two three", stream=True, stream_options={"include_usage": True})
    with gw.stream("POST", CHAT, json=body) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        raw_chunks = list(response.iter_raw())
    assert all(chunk.endswith(b"\n\n") and chunk.count(b"data: ") == 1 for chunk in raw_chunks)
    text = b"".join(raw_chunks).decode()
    assert sse_data(text)[-1] == "[DONE]"
    chunks = sse_json(text)
    assert {c["id"] for c in chunks} == {chunks[0]["id"]}
    assert {c["created"] for c in chunks} == {chunks[0]["created"]}
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert content_of(chunks) == "[cfaig emulator · openai/gpt-5-mini] You said: one two three"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] > 0


def test_stream_without_include_usage_has_no_usage_chunk(gw: httpx.Client) -> None:
    chunks = sse_json(gw.post(CHAT, json=chat_body(stream=True)).text)
    assert all(c["choices"] for c in chunks)
    assert "usage" not in chunks[-1]


def test_stream_exactly_k_chunks(gw: httpx.Client) -> None:
    chunks = sse_json(gw.post(CHAT, json=chat_body("__stream_chunks__ 7", stream=True)).text)
    content_chunks = [c for c in chunks if c["choices"][0]["delta"].get("content")]
    assert len(content_chunks) == 7
    assert content_of(chunks) == " ".join(f"tok{i}" for i in range(7))


def test_stop_max_tokens_n_and_images(gw: httpx.Client) -> None:
    stopped = gw.post(CHAT, json=chat_body("alpha beta gamma", stop=["beta"])).json()
    assert stopped["choices"][0]["message"]["content"].endswith("You said: alpha ")
    assert stopped["choices"][0]["finish_reason"] == "stop"
    cut = gw.post(CHAT, json=chat_body("alpha beta gamma", max_completion_tokens=3)).json()
    assert cut["choices"][0]["message"]["content"] == "[cfaig emulator ·"
    assert cut["choices"][0]["finish_reason"] == "length"
    many = gw.post(CHAT, json=chat_body("hi", n=3)).json()
    assert [c["index"] for c in many["choices"]] == [0, 1, 2]
    assert len({c["message"]["content"] for c in many["choices"]}) == 3
    parts = [
        {"type": "text", "text": "Describe"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
    ]
    vision = gw.post(CHAT, json={"model": "openai/gpt-4o", "messages": [{"role": "user", "content": parts}]})
    assert vision.json()["choices"][0]["message"]["content"].endswith("You said: Describe [2 images]")


def test_long_user_message_is_truncated(gw: httpx.Client) -> None:
    content = gw.post(CHAT, json=chat_body("word " * 200)).json()["choices"][0]["message"]["content"]
    echoed = content.split("You said: ", 1)[1]
    assert len(echoed) == 200
    assert echoed.endswith("…")


def test_dynamic_route_headers(gw: httpx.Client) -> None:
    response = gw.post(CHAT, json=chat_body(model="dynamic/support"))
    assert response.status_code == 200
    assert response.headers["cf-aig-model"] == "gpt-4o-mini"
    assert response.headers["cf-aig-provider"] == "openai"
    assert response.json()["model"] == "gpt-4o-mini"


@pytest.mark.parametrize(
    "body",
    [
        chat_body(model="gpt-4o"),
        chat_body(model="nosuchprovider/model"),
        chat_body(model="openai/"),
        {"model": "openai/gpt-4o"},
        {"model": "openai/gpt-4o", "messages": [{"role": "wizard", "content": "x"}]},
        [1, 2, 3],
    ],
)
def test_compat_bad_format_is_2019(gw: httpx.Client, body: Any) -> None:
    response = gw.post(CHAT, json=body)
    assert response.status_code == 400
    error = response.json()
    assert error["success"] is False
    assert error["error"] == [{"code": 2019, "message": "Chat completion bad format"}]
    assert (error["name"], error["internalCode"], error["httpCode"]) == ("AiGatewayError", 2019, 400)


def test_custom_and_all_compat_prefixes_accepted(gw: httpx.Client) -> None:
    for prefix in ["anthropic", "groq", "mistral", "grok", "cerebras", "baseten", "parallel", "aws-bedrock"]:
        assert gw.post(CHAT, json=chat_body(model=f"{prefix}/m")).status_code == 200, prefix
    response = gw.post(CHAT, json=chat_body(model="custom-acme/my-model"))
    assert response.json()["model"] == "my-model"
    workers = gw.post(CHAT, json=chat_body(model="workers-ai/@cf/meta/llama-3.1-8b-instruct"))
    assert workers.json()["model"] == "@cf/meta/llama-3.1-8b-instruct"


# ------------------------------------------------------------------------------------ provider routes

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
    response = gw.post(f"/{path}", json=body)
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
    native = gw.post("/workers-ai/@cf/meta/llama-3.1-8b-instruct", json={"prompt": "hey"}).json()
    assert native["success"] is True
    assert native["errors"] == [] and native["messages"] == []
    assert native["result"]["response"] == "[cfaig emulator · workers-ai/@cf/meta/llama-3.1-8b-instruct] You said: hey"
    embedded = gw.post("/workers-ai/@cf/baai/bge-large-en-v1.5", json={"text": ["a b", "c"]}).json()
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
    native = gw.post("/workers-ai/@cf/meta/llama-3.1-8b-instruct", json={"prompt": "a b", "stream": True}).text
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
    bad_native = gw.post("/workers-ai/@cf/meta/llama-3.1-8b-instruct", json={"nothing": True})
    assert bad_native.status_code == 400
    assert bad_native.json()["success"] is False
    assert gw.get(CHAT).status_code == 405


# ------------------------------------------------------------------------------------ embeddings


def test_embeddings_similarity_shape_and_base64(gw: httpx.Client) -> None:
    texts = ["the cat sat on the mat", "a cat sat on a mat", "quantum chromodynamics lecture notes"]
    body = gw.post("/compat/embeddings", json={"model": "openai/text-embedding-3-small", "input": texts}).json()
    assert body["object"] == "list"
    assert [d["index"] for d in body["data"]] == [0, 1, 2]
    vectors = [d["embedding"] for d in body["data"]]
    assert all(len(v) == 1536 for v in vectors)
    assert math.isclose(math.sqrt(sum(x * x for x in vectors[0])), 1.0, rel_tol=1e-5)
    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2]) + 0.3
    assert body["usage"]["prompt_tokens"] == body["usage"]["total_tokens"] > 0
    encoded = gw.post(
        "/openai/embeddings", json={"model": "text-embedding-3-small", "input": texts[0], "encoding_format": "base64"}
    ).json()["data"][0]["embedding"]
    raw = base64.b64decode(encoded)
    decoded = list(struct.unpack(f"<{len(raw) // 4}f", raw))
    assert decoded == vectors[0]
    same = gw.post("/openai/embeddings", json={"model": "text-embedding-3-small", "input": texts[0]}).json()
    assert same["data"][0]["embedding"] == vectors[0]


def test_embedding_dimensions_and_limits(gw: httpx.Client) -> None:
    def dims(path: str, model: str, **extra: Any) -> int:
        response = gw.post(path, json={"model": model, "input": "x", **extra})
        assert response.status_code == 200, response.text
        return len(response.json()["data"][0]["embedding"])

    assert dims("/openai/embeddings", "text-embedding-3-large") == 3072
    assert dims("/openai/embeddings", "text-embedding-3-small", dimensions=256) == 256
    assert dims("/workers-ai/v1/embeddings", "@cf/baai/bge-small-en-v1.5") == 384
    assert dims("/workers-ai/v1/embeddings", "@cf/baai/bge-m3") == 1024
    assert dims("/workers-ai/v1/embeddings", "@cf/some/other-embedder") == 768
    rejected = gw.post("/workers-ai/v1/embeddings", json={"model": "@cf/baai/bge-m3", "input": "x", "dimensions": 8})
    assert rejected.status_code == 400
    too_many = gw.post("/workers-ai/v1/embeddings", json={"model": "@cf/baai/bge-m3", "input": ["x"] * 101})
    assert too_many.status_code == 400
    assert (
        gw.post("/openai/embeddings", json={"model": "text-embedding-3-small", "input": ["x"] * 2049}).status_code
        == 400
    )
    assert (
        gw.post("/openai/embeddings", json={"model": "text-embedding-3-small", "input": ["x"] * 100}).status_code == 200
    )


# ------------------------------------------------------------------------------------ gateway errors and auth


def test_authenticated_gateway_requires_token(emulator: GatewayEmulator) -> None:
    emulator.gateways["secure"] = GatewaySettings(authentication=True)
    with httpx.Client(transport=emulator.transport(), base_url=emulator.gateway_url("secure")) as client:
        denied = client.post(CHAT, json=chat_body())
        assert denied.status_code == 401
        assert denied.json() == {
            "success": False,
            "error": [{"code": 2009, "message": "Unauthorized"}],
            "name": "AiGatewayError",
            "httpCode": 401,
            "internalCode": 2009,
        }
        assert "cf-aig-log-id" not in denied.headers
        wrong = client.post(CHAT, json=chat_body(), headers={"cf-aig-authorization": "Bearer nope"})
        assert wrong.status_code == 401
        ok = client.post(CHAT, json=chat_body(), headers={"cf-aig-authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200
        # Cloudflare's examples also put the gateway token in the OpenAI SDK api key on compat.
        sdk_style = client.post(CHAT, json=chat_body(), headers={"authorization": f"Bearer {TOKEN}"})
        assert sdk_style.status_code == 200
        provider = client.post(
            "/openai/chat/completions",
            json={"model": "gpt-4o", "messages": user()},
            headers={"authorization": f"Bearer {TOKEN}"},
        )
        assert provider.status_code == 401


def test_unknown_gateway_and_account(emulator: GatewayEmulator) -> None:
    with httpx.Client(transport=emulator.transport(), base_url=emulator.base_url) as client:
        for gateway in ["missing", "x" * 65]:
            response = client.post(f"/{EMULATOR_ACCOUNT_ID}/{gateway}{CHAT}", json=chat_body())
            assert response.status_code == 400
            assert response.json()["error"] == [
                {"code": 2001, "message": "Please configure AI Gateway in the Cloudflare dashboard"}
            ]
        other_account = client.post(f"/{'f' * 32}/default{CHAT}", json=chat_body())
        assert other_account.status_code == 400
        assert other_account.json()["internalCode"] == 2001


def test_default_gateway_auto_created_on_authenticated_request() -> None:
    emulator = GatewayEmulator(gateways={"prod": GatewaySettings()})
    with httpx.Client(transport=emulator.transport(), base_url=emulator.gateway_url()) as client:
        assert client.post(CHAT, json=chat_body()).status_code == 401
        ok = client.post(CHAT, json=chat_body(), headers={"cf-aig-authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200
    assert emulator.gateways["default"].authentication is True


def test_rate_limit_2003_with_fake_clock() -> None:
    clock = FakeClock()
    emulator = GatewayEmulator(gateways={"default": GatewaySettings(rate_limit=2, rate_limit_interval=10)}, clock=clock)
    with httpx.Client(transport=emulator.transport(), base_url=emulator.gateway_url()) as client:
        assert [client.post(CHAT, json=chat_body()).status_code for _ in range(2)] == [200, 200]
        limited = client.post(CHAT, json=chat_body())
        assert limited.status_code == 429
        assert limited.json()["error"] == [{"code": 2003, "message": "Rate limited"}]
        assert UUID7.match(limited.headers["cf-aig-log-id"])
        clock.now += 10.5
        assert client.post(CHAT, json=chat_body()).status_code == 200


# ------------------------------------------------------------------------------------ caching


def test_cache_miss_hit_skip_and_expiry() -> None:
    clock = FakeClock()
    emulator = GatewayEmulator(gateways={"default": GatewaySettings(cache_ttl=60)}, clock=clock)
    with httpx.Client(transport=emulator.transport(), base_url=emulator.gateway_url()) as client:
        first = client.post(CHAT, json=chat_body())
        second = client.post(CHAT, json=chat_body())
        assert (first.headers["cf-aig-cache-status"], second.headers["cf-aig-cache-status"]) == ("MISS", "HIT")
        assert first.content == second.content
        assert first.headers["cf-aig-log-id"] != second.headers["cf-aig-log-id"]
        assert emulator.logs[second.headers["cf-aig-log-id"]]["cached"] is True
        skipped = client.post(CHAT, json=chat_body(), headers={"cf-aig-skip-cache": "true"})
        assert skipped.headers["cf-aig-cache-status"] == "MISS"
        assert skipped.content != first.content
        other_key = client.post(CHAT, json=chat_body(), headers={"authorization": "Bearer sk-other"})
        assert other_key.headers["cf-aig-cache-status"] == "MISS"
        clock.now += 61
        assert client.post(CHAT, json=chat_body()).headers["cf-aig-cache-status"] == "MISS"
        assert client.post(CHAT, json=chat_body()).headers["cf-aig-cache-status"] == "HIT"


def test_cache_headers_streams_and_errors(gw: httpx.Client) -> None:
    # Caching is off on the default gateway unless the request asks for it.
    assert gw.post(CHAT, json=chat_body()).headers["cf-aig-cache-status"] == "MISS"
    assert gw.post(CHAT, json=chat_body()).headers["cf-aig-cache-status"] == "MISS"
    ttl = {"cf-aig-cache-ttl": "120"}
    assert gw.post(CHAT, json=chat_body("t"), headers=ttl).headers["cf-aig-cache-status"] == "MISS"
    assert gw.post(CHAT, json=chat_body("t"), headers=ttl).headers["cf-aig-cache-status"] == "HIT"
    keyed_a = gw.post(CHAT, json=chat_body("first"), headers={"cf-aig-cache-key": "k1"})
    keyed_b = gw.post(CHAT, json=chat_body("second"), headers={"cf-aig-cache-key": "k1"})
    assert keyed_b.headers["cf-aig-cache-status"] == "HIT"
    assert keyed_a.content == keyed_b.content
    stream = chat_body("s", stream=True)
    for _ in range(2):
        assert gw.post(CHAT, json=stream, headers=ttl).headers["cf-aig-cache-status"] == "MISS"
    bad = {"model": "openai/gpt-4o", "messages": user(), "n": 0}
    for _ in range(2):
        response = gw.post(CHAT, json=bad, headers=ttl)
        assert response.status_code == 400
        assert response.headers["cf-aig-cache-status"] == "MISS"
    embeddings = {"model": "openai/text-embedding-3-small", "input": "x"}
    gw.post("/compat/embeddings", json=embeddings, headers=ttl)
    assert gw.post("/compat/embeddings", json=embeddings, headers=ttl).headers["cf-aig-cache-status"] == "HIT"


# ------------------------------------------------------------------------------------ logs, metadata, feedback


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"team": "AI", "user": 12345, "test": true}', {"team": "AI", "user": 12345, "test": True}),
        (json.dumps({f"k{i}": i for i in range(7)}), {f"k{i}": i for i in range(5)}),
        ('{"a": 1, "nested": {"b": 2}}', {}),
        ('{"a": 1, "gone": null}', {}),
        ('["not", "an", "object"]', {}),
        ("not json", {}),
    ],
)
def test_metadata_rules(gw: httpx.Client, emulator: GatewayEmulator, raw: str, expected: dict[str, Any]) -> None:
    response = gw.post(CHAT, json=chat_body(), headers={"cf-aig-metadata": raw})
    assert emulator.logs[response.headers["cf-aig-log-id"]]["metadata"] == expected


def test_collect_log_event_id_and_unique_ids(gw: httpx.Client, emulator: GatewayEmulator) -> None:
    silent = gw.post(CHAT, json=chat_body(), headers={"cf-aig-collect-log": "false"})
    assert UUID7.match(silent.headers["cf-aig-log-id"])
    assert emulator.logs == {}
    traced = gw.post(
        CHAT, json=chat_body(), headers={"cf-aig-event-id": "trace-1", "cf-aig-custom-cost": '{"per_token_in": 0.1}'}
    )
    assert traced.headers["cf-aig-event-id"] == "trace-1"
    log = emulator.logs[traced.headers["cf-aig-log-id"]]
    assert log["event_id"] == "trace-1"
    assert log["custom_cost"] == {"per_token_in": 0.1}
    assert log["cf_headers"]["cf-aig-event-id"] == "trace-1"
    ids = {gw.post(CHAT, json=chat_body()).headers["cf-aig-log-id"] for _ in range(50)}
    assert len(ids) == 50


def test_feedback_patch(gw: httpx.Client, rest: httpx.Client, emulator: GatewayEmulator) -> None:
    log_id = gw.post(CHAT, json=chat_body()).headers["cf-aig-log-id"]
    path = f"/ai-gateway/gateways/default/logs/{log_id}"
    response = rest.patch(path, json={"feedback": 1, "score": 87.5, "metadata": {"user": "u1", "ok": True}})
    assert response.status_code == 200
    body = response.json()
    assert (body["success"], body["errors"], body["messages"]) == (True, [], [])
    assert body["result"]["feedback"] == 1
    assert emulator.logs[log_id]["score"] == 87.5
    assert emulator.logs[log_id]["metadata"] == {"user": "u1", "ok": True}
    assert emulator.requests[-1].route == "feedback"
    assert rest.get(path).json()["result"]["feedback"] == 1
    for bad in [{"feedback": 0}, {"feedback": True}, {"score": "high"}, {"metadata": {"x": {"y": 1}}}]:
        assert rest.patch(path, json=bad).status_code == 400, bad
    missing = rest.patch("/ai-gateway/gateways/default/logs/nope", json={"feedback": -1})
    assert missing.status_code == 404
    assert missing.json()["success"] is False
    wrong_gateway = rest.patch(f"/ai-gateway/gateways/other/logs/{log_id}", json={"feedback": -1})
    assert wrong_gateway.status_code == 404
    unauthenticated = httpx.Client(transport=emulator.transport(), base_url=emulator.rest_url)
    with unauthenticated:
        assert unauthenticated.patch(path, json={"feedback": -1}).status_code == 401


# ------------------------------------------------------------------------------------ REST surface


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
    assert emulator.requests[-1].gateway_id is None
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


# ------------------------------------------------------------------------------------ Universal Endpoint


def universal_steps() -> list[dict[str, Any]]:
    return [
        {
            "provider": "workers-ai",
            "endpoint": "@cf/meta/llama-3.1-8b-instruct",
            "headers": {"Authorization": "Bearer cf-token", "Content-Type": "application/json"},
            "query": {"messages": user("What is Cloudflare?")},
        },
        {
            "provider": "openai",
            "endpoint": "chat/completions",
            "headers": {"Authorization": "Bearer sk-openai"},
            "query": {"model": "gpt-4o-mini", "messages": user("What is Cloudflare?")},
        },
        {
            "provider": "compat",
            "endpoint": "chat/completions",
            "headers": {},
            "query": {"model": "anthropic/claude-haiku-4-5", "messages": user("What is Cloudflare?")},
        },
    ]


def test_universal_first_step_serves(gw: httpx.Client, emulator: GatewayEmulator) -> None:
    response = gw.post("", json=universal_steps())
    assert response.status_code == 200
    assert response.headers["cf-aig-step"] == "0"
    assert response.json()["result"]["response"].endswith("You said: What is Cloudflare?")
    assert emulator.requests[-1].route == "universal"


def test_universal_fallback_and_all_fail(gw: httpx.Client, emulator: GatewayEmulator) -> None:
    emulator.inject(Fault(status=500, step=0))
    fallback = gw.post("", json=universal_steps())
    assert fallback.headers["cf-aig-step"] == "1"
    assert fallback.json()["object"] == "chat.completion"
    emulator.inject(Fault(status=503, match="/workers-ai/"))
    emulator.inject(Fault(status=429, match="/openai/"))
    compat = gw.post("", json=universal_steps())
    assert compat.headers["cf-aig-step"] == "2"
    assert compat.json()["model"] == "claude-haiku-4-5"
    for index, status in enumerate([500, 502, 418]):
        emulator.inject(Fault(status=status, step=index))
    failed = gw.post("", json=universal_steps())
    assert failed.status_code == 418
    assert failed.headers["cf-aig-step"] == "2"
    assert emulator.logs[failed.headers["cf-aig-log-id"]]["step"] == 2


def test_universal_whole_request_fault_and_retries(gw: httpx.Client, emulator: GatewayEmulator) -> None:
    emulator.inject(Fault(status=429))
    limited = gw.post("", json=universal_steps())
    assert limited.status_code == 429
    assert limited.json()["internalCode"] == 2003
    steps = universal_steps()
    steps[0]["config"] = {"maxAttempts": 2, "retryDelay": 10, "backoff": "constant"}
    emulator.inject(Fault(status=503, step=0))
    retried = gw.post("", json=steps)
    assert retried.headers["cf-aig-step"] == "0"
    bad = gw.post("", json={"not": "steps"})
    assert bad.status_code == 400


def test_universal_step_headers_take_precedence(gw: httpx.Client) -> None:
    steps = universal_steps()[:1]
    outer = {"cf-aig-cache-ttl": "300"}
    assert gw.post("", json=steps, headers=outer).headers["cf-aig-cache-status"] == "MISS"
    assert gw.post("", json=steps, headers=outer).headers["cf-aig-cache-status"] == "HIT"
    steps[0]["headers"]["cf-aig-skip-cache"] = "true"
    assert gw.post("", json=steps, headers=outer).headers["cf-aig-cache-status"] == "MISS"


def test_universal_step_timeout_falls_back(gw: httpx.Client, emulator: GatewayEmulator) -> None:
    steps = universal_steps()
    steps[0]["config"] = {"requestTimeout": 20}
    emulator.inject(Fault(status=200, delay=5.0, step=0))
    response = gw.post("", json=steps)
    assert response.headers["cf-aig-step"] == "1"  # step 0 gave up after its requestTimeout


# ------------------------------------------------------------------------------------ faults


def test_fault_status_retry_after_and_realistic_bodies(gw: httpx.Client, emulator: GatewayEmulator) -> None:
    emulator.inject(Fault(status=429, retry_after="2"))
    limited = gw.post(CHAT, json=chat_body())
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "2"
    assert limited.json()["error"] == [{"code": 2003, "message": "Rate limited"}]
    emulator.inject(Fault(status=503, retry_after="Wed, 21 Oct 2026 07:28:00 GMT"))
    unavailable = gw.post(CHAT, json=chat_body())
    assert unavailable.headers["retry-after"] == "Wed, 21 Oct 2026 07:28:00 GMT"
    assert unavailable.json()["error"]["type"] == "server_error"
    emulator.inject(Fault(status=529, match="/anthropic/"))
    assert gw.post(CHAT, json=chat_body()).status_code == 200  # match did not apply
    overloaded = gw.post("/anthropic/v1/messages", json={"model": "c", "max_tokens": 5, "messages": user()})
    assert overloaded.status_code == 529
    assert overloaded.json()["error"]["type"] == "overloaded_error"
    emulator.inject(Fault(status=400, body={"error": {"message": "custom"}}, headers={"x-extra": "1"}, times=2))
    assert [gw.post(CHAT, json=chat_body()).json() for _ in range(2)] == [{"error": {"message": "custom"}}] * 2
    assert gw.post(CHAT, json=chat_body()).status_code == 200
    assert emulator.requests[-2].response_status == 400


def test_fault_html_body_with_200(gw: httpx.Client, emulator: GatewayEmulator) -> None:
    emulator.inject(Fault(status=200, content_type="text/html"))
    response = gw.post(CHAT, json=chat_body())
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html"
    assert response.text.startswith("<!DOCTYPE html>")
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_fault_reset_in_process(gw: httpx.Client, emulator: GatewayEmulator) -> None:
    emulator.inject(Fault(reset=True))
    with pytest.raises(httpx.ReadError):
        gw.post(CHAT, json=chat_body())
    assert emulator.requests[-1].response_status == 0
    assert gw.post(CHAT, json=chat_body()).status_code == 200


def test_stream_faults_in_process(gw: httpx.Client, emulator: GatewayEmulator) -> None:
    body = chat_body("one two three four five", stream=True)
    emulator.inject(Fault(cut_after=2))
    assert gw.post(CHAT, json=chat_body()).status_code == 200  # stream faults skip non-streaming requests
    received: list[str] = []
    with pytest.raises(httpx.RemoteProtocolError), gw.stream("POST", CHAT, json=body) as response:
        assert response.status_code == 200
        received.extend(line for line in response.iter_lines() if line)
    assert len(received) == 2
    emulator.inject(Fault(end_after=3))
    truncated = gw.post(CHAT, json=body).text
    assert len(sse_data(truncated)) == 3
    assert "[DONE]" not in truncated
    emulator.inject(Fault(malformed_after=1))
    malformed = sse_data(gw.post(CHAT, json=body).text)
    assert malformed[1] == "{not json"
    assert malformed[-1] == "[DONE]"
    assert len(malformed) == len(sse_data(gw.post(CHAT, json=body).text)) + 1


def test_fault_delay_and_request_timeout(gw: httpx.Client, emulator: GatewayEmulator) -> None:
    emulator.inject(Fault(status=200, delay=2.0))
    timed_out = gw.post(CHAT, json=chat_body(), headers={"cf-aig-request-timeout": "100"})
    assert timed_out.status_code == 504
    assert timed_out.json()["error"] == [{"code": 2015, "message": "Request timed out"}]
    emulator.inject(Fault(status=200, delay=0.05, headers={"x-slow": "yes"}))
    slow = gw.post(CHAT, json=chat_body(), headers={"cf-aig-request-timeout": "5000"})
    assert slow.status_code == 200
    assert slow.headers["x-slow"] == "yes"
    assert slow.json()["object"] == "chat.completion"


async def test_async_transport_chat_stream_and_concurrent_delays(emulator: GatewayEmulator) -> None:
    async with httpx.AsyncClient(transport=emulator.transport(), base_url=emulator.gateway_url()) as client:
        response = await client.post(CHAT, json=chat_body("async"))
        assert response.json()["choices"][0]["message"]["content"].endswith("You said: async")
        async with client.stream("POST", CHAT, json=chat_body("a b c", stream=True)) as stream:
            chunks = [chunk async for chunk in stream.aiter_raw()]
        assert chunks[-1] == b"data: [DONE]\n\n"
        emulator.inject(Fault(status=200, delay=0.2, times=5))
        timed = await asyncio.gather(*(timed_post(client, CHAT, chat_body()) for _ in range(5)))
        assert {r.status_code for r, _ in timed} == {200}
        assert max_overlap([span for _, span in timed]) == 5  # the delays run side by side, not one by one
        emulator.inject(Fault(cut_after=1))
        with pytest.raises(httpx.RemoteProtocolError):
            async with client.stream("POST", CHAT, json=chat_body(stream=True)) as stream:
                async for _ in stream.aiter_lines():
                    pass
        emulator.inject(Fault(reset=True))
        with pytest.raises(httpx.ReadError):
            await client.post(CHAT, json=chat_body())


# ------------------------------------------------------------------------------------ fake model behaviour


def test_tool_call_synthesis_from_schema(gw: httpx.Client) -> None:
    body = {"model": "openai/gpt-4o", "tools": TOOLS, "messages": user("What is 2 + 5?")}
    message = gw.post(CHAT, json=body).json()["choices"][0]
    assert message["finish_reason"] == "tool_calls"
    assert message["message"]["content"] is None
    [call] = message["message"]["tool_calls"]
    assert call["type"] == "function"
    assert call["id"].startswith("call_")
    assert call["function"]["name"] == "add"
    assert json.loads(call["function"]["arguments"]) == {"a": 2, "b": 5}
    weather = gw.post(CHAT, json={**body, "messages": user("How is the weather in 'Paris' in fahrenheit?")}).json()
    [call] = weather["choices"][0]["message"]["tool_calls"]
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"city": "Paris", "unit": "fahrenheit"}
    syntax = gw.post(CHAT, json={**body, "messages": user("please run add(b=7, a=3)")}).json()
    assert json.loads(syntax["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]) == {"a": 3, "b": 7}
    again = gw.post(CHAT, json={**body, "messages": user("What is 2 + 5?")}).json()
    assert again["choices"][0]["message"]["tool_calls"][0]["id"] == message["message"]["tool_calls"][0]["id"]


def test_tool_choice_variants_and_parallel_calls(gw: httpx.Client) -> None:
    base = {"model": "openai/gpt-4o", "tools": TOOLS}

    def names(**extra: Any) -> list[str] | None:
        message = gw.post(CHAT, json={**base, **extra}).json()["choices"][0]["message"]
        calls = message.get("tool_calls")
        return [c["function"]["name"] for c in calls] if calls else None

    both = user("use add and get_weather please")
    assert names(messages=both) == ["add", "get_weather"]
    assert names(messages=both, parallel_tool_calls=False) == ["add"]
    assert names(messages=user("hello"), tool_choice="none") is None
    assert names(messages=user("hello"), tool_choice="required") == ["add"]
    assert names(messages=user("hello"), tool_choice={"type": "function", "function": {"name": "get_weather"}}) == [
        "get_weather"
    ]
    unknown = gw.post(
        CHAT, json={**base, "messages": user(), "tool_choice": {"type": "function", "function": {"name": "x"}}}
    )
    assert unknown.status_code == 400


def test_tool_result_answer_and_streamed_tool_calls(gw: httpx.Client) -> None:
    history = [
        *user("What is 2 + 5?"),
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "add", "arguments": '{"a":2,"b":5}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "7"},
    ]
    answer = gw.post(CHAT, json={"model": "openai/gpt-4o", "tools": TOOLS, "messages": history}).json()
    assert "Based on the tool result: 7" in answer["choices"][0]["message"]["content"]
    assert answer["choices"][0]["finish_reason"] == "stop"
    stream = gw.post(
        CHAT, json={"model": "openai/gpt-4o", "tools": TOOLS, "stream": True, "messages": user("2 and 5")}
    ).text
    chunks = sse_json(stream)
    deltas = [c["choices"][0]["delta"]["tool_calls"][0] for c in chunks if c["choices"][0]["delta"].get("tool_calls")]
    head = deltas[0]
    assert (head["index"], head["type"], head["function"]["name"], head["function"]["arguments"]) == (
        0,
        "function",
        "add",
        "",
    )
    assert head["id"].startswith("call_")
    fragments = [d["function"]["arguments"] for d in deltas[1:]]
    assert 2 <= len(fragments) <= 3
    assert json.loads("".join(fragments)) == {"a": 2, "b": 5}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_tool_calls_on_responses_and_anthropic_routes(gw: httpx.Client) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    responses_tools = [{"type": "function", "name": "add", "parameters": schema}]
    first = gw.post("/openai/responses", json={"model": "gpt-5", "tools": responses_tools, "input": "add 4"}).json()
    [call] = first["output"]
    assert (call["type"], call["name"], json.loads(call["arguments"])) == ("function_call", "add", {"a": 4})
    follow_up = [
        {"role": "user", "content": "add 4"},
        call,
        {"type": "function_call_output", "call_id": call["call_id"], "output": "4"},
    ]
    answer = gw.post("/openai/responses", json={"model": "gpt-5", "tools": responses_tools, "input": follow_up}).json()
    assert "Based on the tool result: 4" in answer["output"][0]["content"][0]["text"]
    anthropic_tools = [{"name": "add", "description": "Add", "input_schema": schema}]
    body = {"model": "claude-sonnet-4-5", "max_tokens": 50, "tools": anthropic_tools, "messages": user("add 9")}
    message = gw.post("/anthropic/v1/messages", json=body).json()
    assert message["stop_reason"] == "tool_use"
    [tool_use] = message["content"]
    assert (tool_use["type"], tool_use["input"]) == ("tool_use", {"a": 9})
    assert tool_use["id"].startswith("toolu_")
    body["messages"] = [
        *user("add 9"),
        {"role": "assistant", "content": message["content"]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_use["id"], "content": "9"}]},
    ]
    final = gw.post("/anthropic/v1/messages", json=body).json()
    assert final["content"][0]["text"].endswith("Based on the tool result: 9")
    no_params = [{"type": "function", "function": {"name": "ping"}}]
    ping = gw.post(CHAT, json=chat_body("ping", tools=no_params)).json()
    assert ping["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] == "{}"


def test_universal_streaming_step_with_cut(gw: httpx.Client, emulator: GatewayEmulator) -> None:
    steps = universal_steps()[1:]
    steps[0]["query"]["stream"] = True
    emulator.inject(Fault(cut_after=1, step=0))
    with pytest.raises(httpx.RemoteProtocolError), gw.stream("POST", "", json=steps) as response:
        assert response.headers["cf-aig-step"] == "0"
        for _ in response.iter_lines():
            pass


def test_nested_schema_with_refs_enums_and_arrays(gw: httpx.Client) -> None:
    schema = {
        "type": "object",
        "$defs": {
            "Address": {"type": "object", "properties": {"zip": {"type": "string"}, "floor": {"type": "integer"}}}
        },
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer", "minimum": 18},
            "score": {"type": "number"},
            "active": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
            "kind": {"type": "string", "enum": ["a", "b"]},
            "address": {"$ref": "#/$defs/Address"},
            "nickname": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "when": {"type": "string", "format": "date"},
        },
        "required": ["name", "age"],
        "additionalProperties": False,
    }
    body = {
        "model": "openai/gpt-4o",
        "messages": user("Describe a person"),
        "response_format": {"type": "json_schema", "json_schema": {"name": "person", "schema": schema, "strict": True}},
    }
    value = json.loads(gw.post(CHAT, json=body).json()["choices"][0]["message"]["content"])
    assert set(value) == set(schema["properties"])
    assert isinstance(value["name"], str)
    assert isinstance(value["age"], int) and value["age"] >= 18
    assert isinstance(value["score"], float)
    assert value["active"] is True
    assert (
        isinstance(value["tags"], list) and len(value["tags"]) == 2 and all(isinstance(t, str) for t in value["tags"])
    )
    assert value["kind"] in ("a", "b")
    assert isinstance(value["address"]["zip"], str) and isinstance(value["address"]["floor"], int)
    assert isinstance(value["nickname"], str)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", value["when"])
    json_object = gw.post(
        CHAT,
        json={
            "model": "openai/gpt-4o",
            "response_format": {"type": "json_object"},
            "messages": [{"role": "system", "content": "Reply with keys `title` and `year`."}, *user("a film")],
        },
    ).json()
    assert set(json.loads(json_object["choices"][0]["message"]["content"])) == {"title", "year"}
    plain_object = gw.post(CHAT, json=chat_body("hi", response_format={"type": "json_object"})).json()
    assert "answer" in json.loads(plain_object["choices"][0]["message"]["content"])


def test_google_thought_signature_must_be_replayed(gw: httpx.Client) -> None:
    model = "google-ai-studio/gemini-2.5-flash"
    first = gw.post(CHAT, json={"model": model, "tools": TOOLS, "messages": user("What is 2 + 5?")}).json()
    call = first["choices"][0]["message"]["tool_calls"][0]
    signature = call["extra_content"]["google"]["thought_signature"]
    assert base64.b64decode(signature)
    history = [*user("What is 2 + 5?"), {"role": "assistant", "content": None, "tool_calls": [call]}]
    history.append({"role": "tool", "tool_call_id": call["id"], "content": "7"})
    assert gw.post(CHAT, json={"model": model, "tools": TOOLS, "messages": history}).status_code == 200
    stripped = {k: v for k, v in call.items() if k != "extra_content"}
    history[1] = {"role": "assistant", "content": None, "tool_calls": [stripped]}
    rejected = gw.post(CHAT, json={"model": model, "tools": TOOLS, "messages": history})
    assert rejected.status_code == 400
    error = rejected.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert "thought_signature" in error["message"]
    openai_call = gw.post(CHAT, json={"model": "openai/gpt-4o", "tools": TOOLS, "messages": user("2 5")}).json()
    assert "extra_content" not in openai_call["choices"][0]["message"]["tool_calls"][0]


def test_provider_quirks(gw: httpx.Client) -> None:
    assert PROVIDER_QUIRKS["perplexity"].rejects_tool_choice_required
    schema_format = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    cases = [
        ("perplexity/sonar", {"tools": TOOLS, "tool_choice": "required"}, 400),
        ("cohere/command-r", {"tools": TOOLS, "tool_choice": "required"}, 400),
        ("google-ai-studio/gemini-2.5-flash", {"tools": TOOLS, "parallel_tool_calls": True}, 400),
        ("google-vertex-ai/google/gemini-2.5-pro", {"tools": TOOLS, "parallel_tool_calls": False}, 400),
        ("cohere/command-r", {"response_format": schema_format}, 400),
        ("deepseek/deepseek-chat", {"response_format": schema_format}, 400),
        ("workers-ai/@cf/meta/llama-3.1-8b-instruct", {"response_format": schema_format}, 400),
        ("deepseek/deepseek-chat", {"response_format": {"type": "json_object"}}, 200),
        ("groq/llama-3.3-70b", {"response_format": schema_format}, 200),
        ("openai/gpt-4o", {"tools": TOOLS, "tool_choice": "required", "parallel_tool_calls": True}, 200),
    ]
    for model, extra, status in cases:
        response = gw.post(CHAT, json=chat_body(model=model, **extra))
        assert response.status_code == status, (model, extra, response.text)
    google = gw.post(CHAT, json=chat_body(model="google-ai-studio/g", tools=TOOLS, parallel_tool_calls=True)).json()
    assert google["error"]["status"] == "INVALID_ARGUMENT"
    perplexity = gw.post(CHAT, json=chat_body(model="perplexity/sonar", tools=TOOLS, tool_choice="required")).json()
    assert perplexity["error"]["param"] == "tool_choice"


def test_unavailable_model_ids_always_fail(gw: httpx.Client) -> None:
    down = gw.post(CHAT, json=chat_body(model="openai/cfaig-unavailable-model"))
    assert down.status_code == 503
    assert "unavailable" in down.json()["error"]["message"]
    steps = [
        {"provider": "compat", "endpoint": "chat/completions", "query": chat_body(model="openai/unavailable-x")},
        {"provider": "compat", "endpoint": "chat/completions", "query": chat_body(model="anthropic/claude-sonnet-4-5")},
    ]
    served_by = gw.post("", json=steps)
    assert served_by.headers["cf-aig-step"] == "1"
    assert served_by.json()["model"] == "claude-sonnet-4-5"


def test_reasoning_content(gw: httpx.Client) -> None:
    effort = gw.post(CHAT, json=chat_body(reasoning_effort="low")).json()
    assert effort["choices"][0]["message"]["reasoning_content"]
    assert effort["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0
    r1 = gw.post(CHAT, json=chat_body(model="deepseek/deepseek-r1")).json()
    assert "reasoning_content" in r1["choices"][0]["message"]
    plain = gw.post(CHAT, json=chat_body()).json()
    assert "reasoning_content" not in plain["choices"][0]["message"]
    assert "completion_tokens_details" not in plain["usage"]
    chunks = sse_json(gw.post(CHAT, json=chat_body(model="openai/o3-reasoning", stream=True)).text)
    assert any(c["choices"][0]["delta"].get("reasoning_content") for c in chunks)


def test_scripted_replies(gw: httpx.Client, emulator: GatewayEmulator) -> None:
    emulator.script(ScriptedReply(content="scripted!", usage={"prompt_tokens": 11}, match="claude"))
    emulator.script(
        ScriptedReply(tool_calls=[{"name": "lookup", "arguments": {"q": "x"}, "id": "call_fixed"}], times=2)
    )
    tool = gw.post(CHAT, json=chat_body()).json()["choices"][0]
    assert tool["finish_reason"] == "tool_calls"
    assert tool["message"]["tool_calls"][0]["id"] == "call_fixed"
    assert json.loads(tool["message"]["tool_calls"][0]["function"]["arguments"]) == {"q": "x"}
    anthropic = gw.post(
        "/anthropic/v1/messages", json={"model": "claude-x", "max_tokens": 10, "messages": user()}
    ).json()
    assert anthropic["content"] == [{"type": "text", "text": "scripted!"}]
    assert anthropic["usage"]["input_tokens"] > 0
    # The "claude" script is used up, so the second use of the tool-call script answers this one.
    again = gw.post(CHAT, json=chat_body(model="anthropic/claude-y")).json()["choices"][0]["message"]
    assert again["tool_calls"][0]["function"]["name"] == "lookup"
    assert gw.post(CHAT, json=chat_body()).json()["choices"][0]["message"]["content"].startswith("[cfaig emulator")
    emulator.script(ScriptedReply(content="usage", usage={"prompt_tokens": 11}))
    usage = gw.post(CHAT, json=chat_body()).json()["usage"]
    assert usage["prompt_tokens"] == 11
    assert usage["total_tokens"] == 11 + usage["completion_tokens"]
    emulator.reset()
    assert emulator.requests == [] and emulator.logs == {}


# ------------------------------------------------------------------------------------ upstream forwarding


def test_upstream_forwarding(served: EmulatorServer) -> None:
    upstream = served.emulator
    front = GatewayEmulator(upstream=served.gateway_url() + "/openai/v1")
    with httpx.Client(transport=front.transport(), base_url=front.gateway_url()) as client:
        response = client.post(CHAT, json=chat_body("via upstream", model="openai/gpt-4o-mini"))
        assert response.status_code == 200
        assert response.json()["choices"][0]["message"]["content"].endswith("You said: via upstream")
        assert UUID7.match(response.headers["cf-aig-log-id"])
        forwarded = upstream.requests[-1]
        assert forwarded.route == "provider.openai.chat"
        assert forwarded.json["model"] == "gpt-4o-mini"
        with client.stream("POST", CHAT, json=chat_body("__stream_chunks__ 4", stream=True)) as stream:
            text = "".join(stream.iter_text())
        assert content_of(sse_json(text)) == "tok0 tok1 tok2 tok3"
        assert sse_data(text)[-1] == "[DONE]"
        embedded = client.post("/openai/embeddings", json={"model": "text-embedding-3-small", "input": "x"})
        assert len(embedded.json()["data"][0]["embedding"]) == 1536
        assert upstream.requests[-1].route == "provider.openai.embeddings"
        upstream.inject(Fault(status=503))
        assert client.post(CHAT, json=chat_body()).status_code == 503
    broken = GatewayEmulator(upstream="http://127.0.0.1:9/v1")
    with httpx.Client(transport=broken.transport(), base_url=broken.gateway_url()) as client:
        assert client.post(CHAT, json=chat_body()).status_code == 502


async def test_upstream_forwarding_async_and_served(served: EmulatorServer) -> None:
    front = GatewayEmulator(upstream=served.gateway_url() + "/openai")
    async with httpx.AsyncClient(transport=front.transport(), base_url=front.gateway_url()) as client:
        response = await client.post(CHAT, json=chat_body("async upstream"))
        assert response.json()["choices"][0]["message"]["content"].endswith("async upstream")
        async with client.stream("POST", CHAT, json=chat_body("__stream_chunks__ 3", stream=True)) as stream:
            text = "".join([part async for part in stream.aiter_text()])
        assert content_of(sse_json(text)) == "tok0 tok1 tok2"
    with serve(front) as front_server:
        async with httpx.AsyncClient(base_url=front_server.gateway_url()) as client:
            async with client.stream("POST", CHAT, json=chat_body("__stream_chunks__ 2", stream=True)) as stream:
                text = "".join([part async for part in stream.aiter_text()])
            assert content_of(sse_json(text)) == "tok0 tok1"
            served.emulator.inject(Fault(status=200, delay=5.0))
            timed_out = await client.post(CHAT, json=chat_body(), headers={"cf-aig-request-timeout": "100"})
            assert timed_out.status_code == 504


# ------------------------------------------------------------------------------------ served over loopback


def test_served_basics(served: EmulatorServer) -> None:
    assert served.url == f"http://127.0.0.1:{served.port}"
    assert served.base_url == f"{served.url}/v1"
    assert served.api_base_url == f"{served.url}/client/v4"
    with httpx.Client(base_url=served.gateway_url()) as client:
        client_ports = set()
        for index in range(5):
            response = client.post(CHAT, json=chat_body(f"message {index}"))
            assert response.status_code == 200
            assert response.json()["choices"][0]["message"]["content"].endswith(f"message {index}")
            client_ports.add(response.extensions["network_stream"].get_extra_info("client_addr")[1])
        assert len(client_ports) == 1  # keep-alive: one connection served all five
        stream = client.post(CHAT, json=chat_body("x y", stream=True, stream_options={"include_usage": True}))
        assert sse_data(stream.text)[-1] == "[DONE]"
        assert sse_json(stream.text)[-1]["usage"]["total_tokens"] > 0
        assert client.post("/nosuch/x", json={}).status_code == 404
        assert client.head(CHAT).status_code == 405
    with httpx.Client(base_url=served.rest_url, headers={"authorization": f"Bearer {TOKEN}"}) as rest_client:
        assert rest_client.post("/ai/v1/chat/completions", json=chat_body()).status_code == 200
    assert [r.route for r in served.emulator.requests][-1] == "rest.chat"


def test_served_stream_cut_reset_and_end(served: EmulatorServer) -> None:
    emulator = served.emulator
    with httpx.Client(base_url=served.gateway_url()) as client:
        emulator.inject(Fault(cut_after=2))
        lines: list[str] = []
        with (
            pytest.raises(httpx.RemoteProtocolError),
            client.stream("POST", CHAT, json=chat_body("a b c d", stream=True)) as r,
        ):
            lines.extend(line for line in r.iter_lines() if line)
        assert len(lines) == 2
        emulator.inject(Fault(end_after=1))
        assert sse_data(client.post(CHAT, json=chat_body("a b c", stream=True)).text) != []
        emulator.inject(Fault(reset=True))
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            client.post(CHAT, json=chat_body())
        assert client.post(CHAT, json=chat_body()).status_code == 200


async def raw_chat(port: int, text: str) -> tuple[int, dict[str, Any]]:
    """One request on its own raw socket, so hundreds can be in flight at once."""
    payload = json.dumps(chat_body(text)).encode()
    head = f"POST /v1/{EMULATOR_ACCOUNT_ID}/default{CHAT} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head.encode() + payload)
        lines = (await reader.readuntil(b"\r\n\r\n")).decode().split("\r\n")
        length = next(int(line.split(":")[1]) for line in lines if line.lower().startswith("content-length"))
        return int(lines[0].split()[1]), json.loads(await reader.readexactly(length))
    finally:
        writer.close()
        await writer.wait_closed()


async def timed_call(coro: Any) -> tuple[Any, tuple[float, float]]:
    """The result of ``coro`` and the (start, end) of its run, to check that runs overlap."""
    start = time.perf_counter()
    result = await coro
    return result, (start, time.perf_counter())


async def timed_post(client: httpx.AsyncClient, url: str, body: Any) -> tuple[httpx.Response, tuple[float, float]]:
    return await timed_call(client.post(url, json=body))


def max_overlap(spans: list[tuple[float, float]]) -> int:
    """The largest number of spans open at one instant: an ordering property, not a speed threshold."""
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    open_now = peak = 0
    for _, change in events:
        open_now += change
        peak = max(peak, open_now)
    return peak


async def test_served_concurrency_with_delays(served: EmulatorServer) -> None:
    served.emulator.inject(Fault(status=200, delay=0.3, times=300))
    timed_raw = await asyncio.gather(*(timed_call(raw_chat(served.port, str(i))) for i in range(300)))
    results = [result for result, _ in timed_raw]
    assert {status for status, _ in results} == {200}
    assert max_overlap([span for _, span in timed_raw]) >= 100  # delayed requests overlap, not queue
    echoed = {body["choices"][0]["message"]["content"].split()[-1] for _, body in results}
    assert echoed == {str(i) for i in range(300)}
    served.emulator.inject(Fault(status=200, delay=0.2, times=40))
    async with httpx.AsyncClient(base_url=served.gateway_url(), timeout=10) as client:
        timed = await asyncio.gather(*(timed_post(client, CHAT, chat_body(str(i))) for i in range(40)))
    assert [r.status_code for r, _ in timed] == [200] * 40
    assert max_overlap([span for _, span in timed]) >= 10


def test_server_stops_and_closes_sockets() -> None:
    with httpx.Client() as client:
        with serve(GatewayEmulator(), port=0) as running:
            port = running.port
            assert client.post(running.gateway_url() + CHAT, json=chat_body()).status_code == 200
        with pytest.raises(httpx.TransportError):
            client.post(f"http://127.0.0.1:{port}/v1/{EMULATOR_ACCOUNT_ID}/default{CHAT}", json=chat_body())
    with pytest.raises(RuntimeError):
        _ = running.port


# ------------------------------------------------------------------------------------ vcr and CLI


def test_vcr_config_scrubs_tokens_and_account_ids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import vcr

    account_id = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
    token = "cf-secret-token-123"
    monkeypatch.setenv("CFAIG_RECORD", "1")
    monkeypatch.delenv("CLOUDFLARE_ACCOUNT_ID", raising=False)
    config = vcr_config()
    assert config["record_mode"] == "once"
    assert config["match_on"] == ["method", "scheme", "host", "port", "path", "query", "body"]
    emulator = GatewayEmulator(account_id=account_id, tokens=[token])
    cassette = tmp_path / "chat.yaml"
    steps = universal_steps()[1:2]
    steps[0]["headers"]["Authorization"] = "Bearer sk-provider-secret"
    with serve(emulator) as running, httpx.Client(base_url=running.gateway_url()) as client:
        headers = {"cf-aig-authorization": f"Bearer {token}", "x-api-key": "anthropic-secret"}
        with vcr.use_cassette(str(cassette), **config):
            assert client.post(CHAT, json=chat_body(account_id), headers=headers).status_code == 200
            assert client.post("", json=steps, headers=headers).status_code == 200
        recorded = cassette.read_text()
        for secret in (account_id, token, "anthropic-secret", "sk-provider-secret"):
            assert secret not in recorded
        assert "ACCOUNT_ID" in recorded and "REDACTED" in recorded
        monkeypatch.delenv("CFAIG_RECORD")
        replay = vcr_config()
        assert replay["record_mode"] == "none"
        received = len(emulator.requests)
        with vcr.use_cassette(str(cassette), **replay):
            again = client.post(CHAT, json=chat_body(account_id), headers=headers)
        assert again.status_code == 200
        assert len(emulator.requests) == received  # answered from the cassette


def test_vcr_callbacks_tolerate_missing_bodies(monkeypatch: pytest.MonkeyPatch) -> None:
    from vcr.request import Request

    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "my-account")
    config = vcr_config(account_id_placeholder="ACCT")
    request = Request("GET", "https://api.cloudflare.com/client/v4/accounts/my-account/ai/run/x", None, {})
    scrubbed = config["before_record_request"](request)
    assert scrubbed.uri == "https://api.cloudflare.com/client/v4/accounts/ACCT/ai/run/x"
    assert scrubbed.body is None
    response = {"status": {"code": 204, "message": ""}, "headers": {"Set-Cookie": ["a=b"]}, "body": {"string": None}}
    cleaned = config["before_record_response"](response)
    assert "Set-Cookie" not in cleaned["headers"]
    assert cleaned["body"] == {"string": None}
    assert config["before_record_response"]({"headers": {}, "body": {"string": b"id my-account"}})["body"] == {
        "string": b"id ACCT"
    }


def test_cli_help() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    result = subprocess.run(
        [sys.executable, "-m", "cfaig.testing", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for option in ("--port", "--host", "--auth", "--token", "--upstream"):
        assert option in result.stdout


def test_retrieval_prompts_get_an_extractive_answer(gw: httpx.Client) -> None:
    prompt = (
        "Context information is below.\n---------------------\nfile_path: a.md\n\n"
        "Cats sleep for most of the day. The capital of France is Paris.\n"
        "Tax returns are due in April.\n---------------------\n"
        "Given the context information and not prior knowledge, answer the query.\n"
        "Query: What is the capital city of France?\nAnswer: "
    )
    reply = gw.post(CHAT, json=chat_body(prompt)).json()["choices"][0]["message"]["content"]
    assert reply.endswith("From the context: The capital of France is Paris.")
    plain = gw.post(CHAT, json=chat_body("Query: no context here")).json()["choices"][0]["message"]["content"]
    assert "You said: Query: no context here" in plain
