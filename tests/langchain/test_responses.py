"""ChatCloudflareAIGateway on the Responses API, against the in-process emulator; each test sync and async."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import BaseModel, Field

from cfaig import AsyncGatewayClient, GatewayClient, errors
from cfaig.testing import Fault, GatewayEmulator
from cfaig.testing.pytest_plugin import Driver, client_fields
from langchain_cfaig import ChatCloudflareAIGateway

MODEL = "openai/gpt-5-mini"
PLAIN = "openai/gpt-4.1"  # a model that does not reason
PIXEL = base64.b64encode(b"\x89PNG\r\n\x1a\n fake image").decode()


@tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


class Person(BaseModel):
    """A person."""

    name: str = Field(description="the person's name")
    age: int = Field(description="age in years")


def make(clients: dict[str, Any], **kwargs: Any) -> ChatCloudflareAIGateway:
    return ChatCloudflareAIGateway(**{"model": MODEL, "use_responses_api": True, **kwargs}, **clients)


def body(emu: GatewayEmulator) -> dict[str, Any]:
    json_body = emu.requests[-1].json
    assert isinstance(json_body, dict)
    return json_body


def streamed(driver: Driver, model: Any, *args: Any, **kwargs: Any) -> AIMessageChunk:
    chunks: list[AIMessageChunk] = driver.collect(model, "stream", *args, **kwargs)
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return total


def answer(driver: Driver, model: Any, *args: Any, stream: bool, **kwargs: Any) -> BaseMessage:
    if stream:
        return streamed(driver, model, *args, **kwargs)
    result: BaseMessage = driver.on(model, "invoke", *args, **kwargs)
    return result


# --- invoke and stream --------------------------------------------------------------------------


def test_invoke_speaks_the_responses_api(cfaig_driver: Driver, clients: dict[str, Any]) -> None:
    message = cfaig_driver.on(make(clients, model=PLAIN), "invoke", "hello there")
    assert isinstance(message, AIMessage)
    request = cfaig_driver.emulator.requests[-1]
    assert request.path.endswith("/openai/responses")
    assert body(cfaig_driver.emulator) == {
        "model": "gpt-4.1",
        "input": [{"type": "message", "role": "user", "content": "hello there"}],
    }
    assert isinstance(message.content, list)
    [text] = message.content
    assert isinstance(text, dict)
    assert text["type"] == "text"
    assert text["text"] == "[cfaig emulator · openai/gpt-4.1] You said: hello there"
    assert text["id"].startswith("msg_")
    assert message.text == text["text"]
    assert message.id is not None
    assert message.id.startswith("resp_")
    metadata = message.response_metadata
    assert metadata["id"] == message.id
    assert metadata["model_name"] == PLAIN
    assert metadata["finish_reason"] == "stop"
    assert metadata["status"] == "completed"
    assert metadata["cf_aig_log_id"]
    assert message.usage_metadata is not None
    assert message.usage_metadata["total_tokens"] > 0


def test_stream_matches_invoke(cfaig_driver: Driver, clients: dict[str, Any]) -> None:
    model = make(clients, reasoning={"summary": "auto"})
    chunks: list[AIMessageChunk] = cfaig_driver.collect(model, "stream", "one two three")
    assert len(chunks) > 5
    assert [c.usage_metadata is not None for c in chunks].count(True) == 1  # usage exactly once, at the end
    assert chunks[-1].chunk_position == "last"
    total = streamed(cfaig_driver, model, "one two three")
    invoked = cfaig_driver.on(model, "invoke", "one two three")
    assert total.text == invoked.text
    assert total.additional_kwargs["reasoning_content"] == invoked.additional_kwargs["reasoning_content"]
    assert total.response_metadata["finish_reason"] == "stop"
    assert total.response_metadata["cf_aig_log_id"]
    assert total.usage_metadata is not None
    assert total.usage_metadata["output_token_details"]["reasoning"] > 0
    types_ = [block["type"] for block in total.content if isinstance(block, dict)]
    assert types_ == ["reasoning", "text"]
    assert body(cfaig_driver.emulator).get("stream") is None  # the last request was the invoke
    assert cfaig_driver.emulator.requests[-2].json["stream"] is True


def test_stream_usage_can_be_turned_off(cfaig_driver: Driver, clients: dict[str, Any]) -> None:
    chunks: list[AIMessageChunk] = cfaig_driver.collect(make(clients, stream_usage=False), "stream", "hi")
    assert all(chunk.usage_metadata is None for chunk in chunks)


# --- reasoning ----------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
def test_reasoning_summaries_as_langchain_openai_shows_them(
    cfaig_driver: Driver, clients: dict[str, Any], stream: bool
) -> None:
    model = make(clients, reasoning={"effort": "low", "summary": "auto"})
    message = answer(cfaig_driver, model, "what is 2+2", stream=stream)
    assert body(cfaig_driver.emulator)["reasoning"] == {"effort": "low", "summary": "auto"}
    reasoning = message.content[0]
    assert isinstance(reasoning, dict)
    assert reasoning["type"] == "reasoning"
    assert reasoning["id"].startswith("rs_")
    summary = "".join(part["text"] for part in reasoning["summary"])
    assert summary.startswith("The user asked: what is 2+2")
    assert message.additional_kwargs["reasoning_content"] == summary
    standard = message.content_blocks  # LangChain's standard view, from langchain-core's OpenAI translator
    assert standard[0]["type"] == "reasoning"
    assert standard[0].get("reasoning") == summary
    assert standard[-1]["type"] == "text"


def test_reasoning_effort_field_is_reasoning_effort(cfaig_driver: Driver, clients: dict[str, Any]) -> None:
    cfaig_driver.on(make(clients, reasoning_effort="high"), "invoke", "hi")
    assert body(cfaig_driver.emulator)["reasoning"] == {"effort": "high"}


@pytest.mark.parametrize("stream", [False, True])
def test_output_version_v0_and_v1(cfaig_driver: Driver, clients: dict[str, Any], stream: bool) -> None:
    reasoning = {"summary": "auto"}
    old = answer(cfaig_driver, make(clients, reasoning=reasoning, output_version="v0"), "hi", stream=stream)
    assert isinstance(old.content, str)
    assert old.content.endswith("You said: hi")
    assert old.additional_kwargs["reasoning"]["id"].startswith("rs_")
    assert old.additional_kwargs["reasoning_content"].startswith("The user asked: hi")
    new = answer(cfaig_driver, make(clients, reasoning=reasoning, output_version="v1"), "hi", stream=stream)
    kinds = [block["type"] for block in new.content if isinstance(block, dict)]
    assert kinds == ["reasoning", "text"]
    assert new.content[0]["reasoning"].startswith("The user asked: hi")  # type: ignore[index]


def test_encrypted_reasoning_is_carried_between_stateless_turns(cfaig_driver: Driver, clients: dict[str, Any]) -> None:
    model = make(clients, store=False, include=["reasoning.encrypted_content"], reasoning={"summary": "auto"})
    first = cfaig_driver.on(model, "invoke", "remember 7")
    assert body(cfaig_driver.emulator)["store"] is False
    assert first.content[0]["encrypted_content"].startswith("cfaig-emulator-reasoning:")
    second = cfaig_driver.on(model, "invoke", [HumanMessage("remember 7"), first, HumanMessage("which number?")])
    sent = body(cfaig_driver.emulator)["input"]
    [replayed] = [item for item in sent if item["type"] == "reasoning"]
    assert replayed["encrypted_content"] == first.content[0]["encrypted_content"]
    assert "index" not in replayed
    assert second.text.endswith("You said: which number?")
    streamed_first = streamed(cfaig_driver, model, "remember 8")  # a streamed answer replays just the same
    cfaig_driver.on(model, "invoke", [HumanMessage("remember 8"), streamed_first, HumanMessage("which?")])
    [again] = [item for item in body(cfaig_driver.emulator)["input"] if item["type"] == "reasoning"]
    assert again["encrypted_content"].startswith("cfaig-emulator-reasoning:")
    without = first.model_copy(
        update={"content": [{**first.content[0], "encrypted_content": None}, *first.content[1:]]}
    )
    # Unstored, the API keeps no item: a reasoning item that cannot travel whole, and the message's id, are not
    # sent (as langchain-openai does), so the call succeeds instead of naming an item OpenAI never kept.
    third = cfaig_driver.on(model, "invoke", [HumanMessage("remember 7"), without, HumanMessage("which number?")])
    sent = body(cfaig_driver.emulator)["input"]
    assert [item["type"] for item in sent] == ["message", "message", "message"]
    assert all("id" not in item for item in sent)
    assert third.text.endswith("You said: which number?")
    stored = make(clients, reasoning={"summary": "auto"})  # stored answers keep their ids
    answer = cfaig_driver.on(stored, "invoke", "remember 9")
    cfaig_driver.on(stored, "invoke", [HumanMessage("remember 9"), answer, HumanMessage("which?")])
    assert any(item["type"] == "reasoning" and item["id"] for item in body(cfaig_driver.emulator)["input"])


def test_previous_response_id_sends_only_the_new_turn(cfaig_driver: Driver, clients: dict[str, Any]) -> None:
    model = make(clients, use_previous_response_id=True)
    first = cfaig_driver.on(model, "invoke", [SystemMessage("be brief"), HumanMessage("my number is 7")])
    second = cfaig_driver.on(
        model, "invoke", [SystemMessage("be brief"), HumanMessage("my number is 7"), first, HumanMessage("and?")]
    )
    sent = body(cfaig_driver.emulator)
    assert sent["previous_response_id"] == first.id
    assert sent["input"] == [{"type": "message", "role": "user", "content": "and?"}]
    assert second.response_metadata["previous_response_id"] == first.id
    assert second.usage_metadata is not None
    assert second.usage_metadata["input_token_details"]["cache_read"] > 0
    cfaig_driver.on(make(clients), "invoke", "and?", previous_response_id=first.id)  # or per call
    assert body(cfaig_driver.emulator)["previous_response_id"] == first.id


# --- tools, structured output, images ---------------------------------------------------------------


@pytest.mark.parametrize(
    "built_in",
    [
        {"type": "web_search"},
        {"type": "file_search", "vector_store_ids": ["vs_1"]},
        {"type": "mcp", "server_label": "x"},
    ],
    ids=lambda tool: tool["type"],
)
def test_built_in_tools_are_sent_as_given_on_the_responses_api(
    cfaig_driver: Driver, clients: dict[str, Any], built_in: dict[str, Any]
) -> None:
    @tool
    def get_weather(city: str) -> str:
        """Current weather in a city."""
        return city

    model = ChatCloudflareAIGateway(model=PLAIN, **clients)  # use_responses_api unset: the built-in tool selects it
    cfaig_driver.on(model.bind_tools([built_in, get_weather], tool_choice="get_weather"), "invoke", "weather in Oslo?")
    request = cfaig_driver.emulator.requests[-1]
    assert request.path.endswith("/openai/responses")
    sent = request.json["tools"]
    assert sent[0] == built_in
    assert sent[1]["type"] == "function" and sent[1]["name"] == "get_weather"
    assert request.json["tool_choice"] == {"type": "function", "name": "get_weather"}
    count = len(cfaig_driver.emulator.requests)
    chat_only = ChatCloudflareAIGateway(model=PLAIN, use_responses_api=False, **clients)
    with pytest.raises(errors.ConfigurationError, match="needs the Responses API"):
        cfaig_driver.on(chat_only.bind_tools([built_in]), "invoke", "hi")
    assert len(cfaig_driver.emulator.requests) == count  # refused before any request


@pytest.mark.parametrize("stream", [False, True])
def test_tools_and_tool_results(cfaig_driver: Driver, clients: dict[str, Any], stream: bool) -> None:
    model = make(clients).bind_tools([multiply], tool_choice="multiply")
    call_message = answer(cfaig_driver, model, "use multiply(6, 7)", stream=stream)
    sent = body(cfaig_driver.emulator)
    assert sent["tools"][0]["type"] == "function"
    assert sent["tools"][0]["name"] == "multiply"  # flat, as the Responses API wants
    assert sent["tool_choice"] == {"type": "function", "name": "multiply"}
    assert isinstance(call_message, AIMessage)
    [call] = call_message.tool_calls
    assert (call["name"], call["args"]) == ("multiply", {"a": 6, "b": 7})
    history = [HumanMessage("use multiply(6, 7)"), call_message, ToolMessage("42", tool_call_id=call["id"] or "")]
    final = answer(cfaig_driver, make(clients).bind_tools([multiply]), history, stream=stream)
    items = body(cfaig_driver.emulator)["input"]
    assert [item["type"] for item in items] == ["message", "reasoning", "function_call", "function_call_output"]
    assert items[2]["call_id"] == items[3]["call_id"] == call["id"]
    assert json.loads(items[2]["arguments"]) == {"a": 6, "b": 7}
    assert items[3]["output"] == "42"
    assert final.text.endswith("Based on the tool result: 42")


def test_tool_calls_of_a_chat_answer_are_sent_as_function_calls(cfaig_driver: Driver, clients: dict[str, Any]) -> None:
    earlier = AIMessage("", tool_calls=[{"name": "multiply", "args": {"a": 2, "b": 3}, "id": "call_1"}])
    history = [HumanMessage("2 times 3"), earlier, ToolMessage("6", tool_call_id="call_1")]
    final = cfaig_driver.on(make(clients, model=PLAIN).bind_tools([multiply]), "invoke", history)
    items = body(cfaig_driver.emulator)["input"]
    assert items[1] == {
        "type": "function_call",
        "call_id": "call_1",
        "name": "multiply",
        "arguments": '{"a": 2, "b": 3}',
    }
    assert final.text.endswith("Based on the tool result: 6")


@pytest.mark.parametrize("method", ["json_schema", "function_calling", "json_mode"])
def test_structured_output(cfaig_driver: Driver, clients: dict[str, Any], method: str) -> None:
    prompt = 'Return JSON with keys "name" and "age" for Ana, 31.' if method == "json_mode" else "Ana is 31."
    schema = None if method == "json_mode" else Person
    result = cfaig_driver.on(make(clients).with_structured_output(schema, method=method), "invoke", prompt)  # type: ignore[arg-type]
    sent = body(cfaig_driver.emulator)
    if method == "json_schema":
        assert sent["text"]["format"]["type"] == "json_schema"
        assert sent["text"]["format"]["name"] == "Person"
        assert isinstance(result, Person)
    elif method == "function_calling":
        assert sent["tool_choice"] == {"type": "function", "name": "Person"}
        assert isinstance(result, Person)
    else:
        assert sent["text"]["format"] == {"type": "json_object"}
        assert set(result) == {"name", "age"}


def test_image_input(cfaig_driver: Driver, clients: dict[str, Any]) -> None:
    image = HumanMessage(
        content=[
            {"type": "text", "text": "what is in these pictures"},
            {"type": "image", "base64": PIXEL, "mime_type": "image/png"},
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "low"}},
        ]
    )
    message = cfaig_driver.on(make(clients, model=PLAIN), "invoke", [image])
    [item] = body(cfaig_driver.emulator)["input"]
    assert item["content"] == [
        {"type": "input_text", "text": "what is in these pictures"},
        {"type": "input_image", "image_url": f"data:image/png;base64,{PIXEL}"},
        {"type": "input_image", "image_url": "https://example.com/cat.png", "detail": "low"},
    ]
    assert message.text.endswith("what is in these pictures [2 images]")


# --- choosing the API, what it refuses, gateway behaviour ------------------------------------------------


def test_which_api_a_call_uses(cfaig_driver: Driver, clients: dict[str, Any]) -> None:
    auto = ChatCloudflareAIGateway(model=MODEL, **clients)
    cfaig_driver.on(auto, "invoke", "hi")
    assert cfaig_driver.emulator.requests[-1].path.endswith("/compat/chat/completions")
    cfaig_driver.on(auto, "invoke", "hi", reasoning={"summary": "auto"})  # a Responses-only argument
    assert cfaig_driver.emulator.requests[-1].path.endswith("/openai/responses")
    cfaig_driver.on(
        ChatCloudflareAIGateway(model=MODEL, include=["reasoning.encrypted_content"], **clients), "invoke", "hi"
    )
    assert cfaig_driver.emulator.requests[-1].path.endswith("/openai/responses")
    cfaig_driver.on(make(clients, use_responses_api=False), "invoke", "hi", store=True)
    assert cfaig_driver.emulator.requests[-1].path.endswith("/compat/chat/completions")


def test_chat_only_parameters_are_refused_before_any_request(cfaig_driver: Driver, clients: dict[str, Any]) -> None:
    with pytest.raises(errors.ConfigurationError, match="stop"):
        cfaig_driver.on(make(clients), "invoke", "hi", stop=["x"])
    with pytest.raises(errors.ConfigurationError, match="seed"):
        cfaig_driver.on(make(clients, seed=1), "invoke", "hi")
    with pytest.raises(errors.ConfigurationError, match="openai/"):
        cfaig_driver.on(make(clients, model="anthropic/claude-sonnet-4-5"), "invoke", "hi")
    with pytest.raises(errors.ConfigurationError, match="audio"):
        audio = {"type": "audio", "base64": PIXEL, "mime_type": "audio/wav"}
        cfaig_driver.on(make(clients), "invoke", [HumanMessage(content=[audio])])
    assert cfaig_driver.emulator.requests == []


def test_sampling_and_gateway_options(cfaig_driver: Driver, clients: dict[str, Any]) -> None:
    model = make(clients, temperature=0.3, max_tokens=64, cache_ttl=120, model_kwargs={"service_tier": "flex"})
    cfaig_driver.on(model, "invoke", "hi", event_id="trace-9")
    sent = body(cfaig_driver.emulator)
    assert (sent["temperature"], sent["max_output_tokens"], sent["service_tier"]) == (0.3, 64, "flex")
    headers = cfaig_driver.emulator.requests[-1].headers
    assert (headers["cf-aig-cache-ttl"], headers["cf-aig-event-id"]) == ("120", "trace-9")


def test_fallbacks_and_retries(cfaig_driver: Driver, clients: dict[str, Any]) -> None:
    cfaig_driver.emulator.inject(Fault(status=503, step=0))
    message = cfaig_driver.on(make(clients, fallbacks=[PLAIN]), "invoke", "hi")
    assert message.response_metadata["model_name"] == PLAIN
    assert message.response_metadata["cf_aig_step"] == 1
    cfaig_driver.emulator.inject(Fault(status=429))
    assert streamed(cfaig_driver, make(clients), "again").text.endswith("You said: again")


def test_a_cut_stream_is_an_error(cfaig_driver: Driver, clients: dict[str, Any]) -> None:
    cfaig_driver.emulator.inject(Fault(end_after=5))
    with pytest.raises(errors.IncompleteStreamError):
        streamed(cfaig_driver, make(clients, model=PLAIN), "one two three four five six")


def test_rest_surface_and_gpt_oss_raw_reasoning(cfaig_driver: Driver, clients: dict[str, Any]) -> None:
    fields = {**client_fields(cfaig_driver.emulator), "surface": "rest", "cf_aig_token": "test-cf-aig-token"}
    transport = cfaig_driver.emulator.transport()
    sync_client = GatewayClient(transport=transport, **fields)
    async_client = AsyncGatewayClient(transport=transport, **fields)
    model = ChatCloudflareAIGateway(
        model="workers-ai/@cf/openai/gpt-oss-120b",
        use_responses_api=True,
        gateway_client=sync_client,
        async_gateway_client=async_client,
    )
    message = streamed(cfaig_driver, model, "why is the sky blue")
    request = cfaig_driver.emulator.requests[-1]
    assert request.path.endswith("/ai/v1/responses")
    assert body(cfaig_driver.emulator)["model"] == "@cf/openai/gpt-oss-120b"
    reasoning = message.content[0]
    assert isinstance(reasoning, dict)
    assert reasoning["content"][0]["text"].startswith("The user asked: why is the sky blue")
    assert message.additional_kwargs["reasoning_content"] == reasoning["content"][0]["text"]
    sync_client.close()
