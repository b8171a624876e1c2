"""The compat chat endpoint: OpenAI Chat Completions in and out (wire/openai_chat, _handlers)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from cfaig.testing import (
    EMULATOR_ACCOUNT_ID,
    GatewayEmulator,
    RecordedRequest,
)
from tests.core.testing.helpers import CHAT, UUID7, chat_body, content_of, sse_data, sse_json


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
