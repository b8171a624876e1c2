"""The emulator's Responses API on the wire (no cfaig client): reasoning display, stored responses, streams, faults."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from cfaig.testing import Fault, GatewayEmulator
from tests.core.testing.helpers import sse_json

URL = "/openai/responses"


def names(text: str) -> list[str]:
    return re.findall(r"^event: (\S+)$", text, re.MULTILINE)


@pytest.mark.parametrize(
    ("model", "reasons"),
    [("gpt-5-mini", True), ("o4-mini", True), ("gpt-5-chat-latest", False), ("gpt-4o", False), ("gpt-4.1", False)],
)
def test_which_models_reason(gw: httpx.Client, model: str, reasons: bool) -> None:
    output = gw.post(URL, json={"model": model, "input": "hi"}).json()["output"]
    assert (output[0]["type"] == "reasoning") is reasons
    if reasons:
        assert output[0]["summary"] == []  # hidden unless a summary is asked for
        assert "encrypted_content" not in output[0]


def test_reasoning_summary_and_encrypted_content_when_asked(gw: httpx.Client) -> None:
    body = {
        "model": "gpt-5",
        "input": "plan a trip",
        "reasoning": {"effort": "high", "summary": "detailed"},
        "include": ["reasoning.encrypted_content"],
    }
    response = gw.post(URL, json=body).json()
    reasoning = response["output"][0]
    assert reasoning["summary"][0]["text"].startswith("The user asked: plan a trip")
    assert reasoning["encrypted_content"].startswith("cfaig-emulator-reasoning:")
    assert response["usage"]["output_tokens_details"]["reasoning_tokens"] == len(
        reasoning["summary"][0]["text"].split()
    )


def test_reasoning_parameter_refused_for_a_model_that_does_not_reason(gw: httpx.Client) -> None:
    answer = gw.post(URL, json={"model": "gpt-4o", "input": "hi", "reasoning": {"summary": "auto"}})
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == "reasoning.summary"


def test_reasoning_stream_events(gw: httpx.Client) -> None:
    body = {"model": "gpt-5", "input": "a b", "reasoning": {"summary": "auto"}, "stream": True}
    text = gw.post(URL, json=body).text
    events = names(text)
    assert events[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.reasoning_summary_part.added",
    ]
    assert events[-1] == "response.completed"
    data = sse_json(text)
    assert [e["sequence_number"] for e in data] == list(range(len(data)))
    summary = "".join(e["delta"] for e in data if e["type"] == "response.reasoning_summary_text.delta")
    assert summary == data[-1]["response"]["output"][0]["summary"][0]["text"]
    assert "[DONE]" not in text  # a Responses stream ends with its terminal event


def test_gpt_oss_returns_raw_reasoning_text(rest: httpx.Client) -> None:
    body = {"model": "@cf/openai/gpt-oss-120b", "input": "hi", "stream": True}
    data = sse_json(rest.post("/ai/v1/responses", json=body).text)
    raw = "".join(e["delta"] for e in data if e["type"] == "response.reasoning_text.delta")
    assert raw.startswith("The user asked: hi")
    assert data[-1]["response"]["output"][0]["content"] == [{"type": "reasoning_text", "text": raw}]


def test_previous_response_id_continues_a_stored_conversation(gw: httpx.Client) -> None:
    tools = [
        {"type": "function", "name": "add", "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}}}
    ]
    first = gw.post(URL, json={"model": "gpt-4.1", "input": "add 4", "tools": tools, "instructions": "be brief"}).json()
    [call] = first["output"]
    output = {"type": "function_call_output", "call_id": call["call_id"], "output": "4"}
    second = gw.post(URL, json={"model": "gpt-4.1", "input": [output], "previous_response_id": first["id"]}).json()
    assert second["output"][0]["content"][0]["text"].endswith("Based on the tool result: 4")
    assert second["previous_response_id"] == first["id"]
    assert second["usage"]["input_tokens_details"]["cached_tokens"] > 0
    missing = gw.post(URL, json={"model": "gpt-4.1", "input": "x", "previous_response_id": "resp_nope"})
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "previous_response_not_found"


def test_store_false_forgets_the_response(gw: httpx.Client, emulator: GatewayEmulator) -> None:
    first = gw.post(URL, json={"model": "gpt-5", "input": "secret", "store": False}).json()
    later = gw.post(URL, json={"model": "gpt-5", "input": "x", "previous_response_id": first["id"]})
    assert later.status_code == 404
    kept = gw.post(URL, json={"model": "gpt-5", "input": "kept"}).json()
    emulator.reset()  # stored responses go with the rest of the state
    assert gw.post(URL, json={"model": "gpt-5", "input": "x", "previous_response_id": kept["id"]}).status_code == 404


def test_reasoning_items_sent_back(gw: httpx.Client) -> None:
    stored = gw.post(URL, json={"model": "gpt-5", "input": "one"}).json()
    by_id = {"type": "reasoning", "id": stored["output"][0]["id"], "summary": []}
    assert gw.post(URL, json={"model": "gpt-5", "input": [by_id, user("two")]}).status_code == 200
    unstored = gw.post(URL, json={"model": "gpt-5", "input": "one", "store": False}).json()
    lost = {"type": "reasoning", "id": unstored["output"][0]["id"], "summary": []}
    refused = gw.post(URL, json={"model": "gpt-5", "input": [lost, user("two")]})
    assert refused.status_code == 404
    assert "not persisted" in refused.json()["error"]["message"]
    body: dict[str, Any] = {
        "model": "gpt-5",
        "input": "one",
        "store": False,
        "include": ["reasoning.encrypted_content"],
    }
    carried = gw.post(URL, json=body).json()["output"][0]
    assert gw.post(URL, json={"model": "gpt-5", "input": [carried, user("two")]}).status_code == 200
    forged = gw.post(URL, json={"model": "gpt-5", "input": [{**carried, "encrypted_content": "x"}, user("two")]})
    assert forged.status_code == 400


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"type": "input_text", "text": text}]}


def test_input_images_are_counted(gw: httpx.Client) -> None:
    content = [
        {"type": "input_text", "text": "what is this"},
        {"type": "input_image", "image_url": "data:image/png;base64,AA"},
    ]
    answer = gw.post(URL, json={"model": "gpt-4.1", "input": [{"role": "user", "content": content}]}).json()
    assert answer["output"][0]["content"][0]["text"].endswith("You said: what is this [1 image]")


def test_stream_faults_apply_to_responses_streams(gw: httpx.Client, emulator: GatewayEmulator) -> None:
    emulator.inject(Fault(end_after=3))
    ended = names(gw.post(URL, json={"model": "gpt-4.1", "input": "a b c", "stream": True}).text)
    assert len(ended) == 3
    assert "response.completed" not in ended
    emulator.inject(Fault(malformed_after=1))
    assert "data: {not json" in gw.post(URL, json={"model": "gpt-4.1", "input": "a", "stream": True}).text
    emulator.inject(Fault(status=429, match="/openai/responses"))
    limited = gw.post(URL, json={"model": "gpt-4.1", "input": "a"})
    assert limited.status_code == 429
    assert json.loads(limited.text)["error"][0]["code"] == 2003


def test_delays_and_request_timeouts_apply(gw: httpx.Client, emulator: GatewayEmulator) -> None:
    emulator.inject(Fault(delay=0.05, match="/openai/responses"))
    slow = gw.post(URL, json={"model": "gpt-4.1", "input": "a"}, headers={"cf-aig-request-timeout": "10"})
    assert slow.status_code == 504
    assert slow.json()["error"][0]["code"] == 2015
    emulator.inject(Fault(status=200, delay=0.01))
    assert gw.post(URL, json={"model": "gpt-4.1", "input": "a"}).status_code == 200
