"""The fake models: echo, RAG answers, tool calls, schema synthesis, quirks, reasoning (fake/)."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import httpx
import pytest

from cfaig.testing import (
    PROVIDER_QUIRKS,
    Fault,
    GatewayEmulator,
    ScriptedReply,
)
from tests.core.testing.helpers import CHAT, TOOLS, chat_body, sse_json, universal_steps, user


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
    first = gw.post("/openai/responses", json={"model": "gpt-4.1", "tools": responses_tools, "input": "add 4"}).json()
    [call] = first["output"]
    assert (call["type"], call["name"], json.loads(call["arguments"])) == ("function_call", "add", {"a": 4})
    follow_up = [
        {"role": "user", "content": "add 4"},
        call,
        {"type": "function_call_output", "call_id": call["call_id"], "output": "4"},
    ]
    answer = gw.post(
        "/openai/responses", json={"model": "gpt-4.1", "tools": responses_tools, "input": follow_up}
    ).json()
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
    schema: dict[str, Any] = {
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
    cases: list[tuple[str, dict[str, Any], int]] = [
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
