"""CloudflareAIGatewayResponses on the in-process emulator: chat, stream, tools, agents, reasoning; sync and async."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import (
    AudioBlock,
    ChatMessage,
    ChatResponse,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.prompts import PromptTemplate
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel

from cfaig import AsyncGatewayClient, GatewayClient, errors
from cfaig.testing import Fault, GatewayEmulator
from cfaig.testing.pytest_plugin import Driver, client_fields
from llamaindex_cfaig import CloudflareAIGatewayResponses

MakeLLM = Callable[..., CloudflareAIGatewayResponses]
HI = [ChatMessage(role="user", content="hello there")]
PLAIN = "openai/gpt-4.1"  # a model that does not reason


def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


MULTIPLY = FunctionTool.from_defaults(fn=multiply)


class Person(BaseModel):
    """A person."""

    name: str
    age: int


@pytest.fixture
def make_llm(gateway_client: GatewayClient, async_gateway_client: AsyncGatewayClient) -> MakeLLM:
    def make(model: str = "openai/gpt-5-mini", **kwargs: Any) -> CloudflareAIGatewayResponses:
        return CloudflareAIGatewayResponses(
            model=model, gateway_client=gateway_client, async_gateway_client=async_gateway_client, **kwargs
        )

    return make


def last_body(emu: GatewayEmulator) -> dict[str, Any]:
    body = emu.requests[-1].json
    assert isinstance(body, dict)
    return body


def thinking(response: ChatResponse) -> list[ThinkingBlock]:
    return [block for block in response.message.blocks if isinstance(block, ThinkingBlock)]


# --- chat and stream --------------------------------------------------------------------------


def test_chat_on_the_responses_api(make_llm: MakeLLM, cfaig_driver: Driver) -> None:
    response = cfaig_driver.on(make_llm(PLAIN, max_tokens=40, temperature=0.2), "chat", HI)
    request = cfaig_driver.emulator.requests[-1]
    assert request.path.endswith("/openai/responses")
    assert last_body(cfaig_driver.emulator) == {
        "model": "gpt-4.1",
        "input": [{"type": "message", "role": "user", "content": "hello there"}],
        "max_output_tokens": 40,
        "temperature": 0.2,
    }
    assert response.message.role == MessageRole.ASSISTANT
    assert response.message.content == "[cfaig emulator · openai/gpt-4.1] You said: hello there"
    kwargs = response.additional_kwargs
    assert kwargs["model_name"] == PLAIN
    assert kwargs["finish_reason"] == "stop"
    assert kwargs["response_id"].startswith("resp_")
    assert kwargs["cf_aig_log_id"]
    assert kwargs["total_tokens"] == kwargs["prompt_tokens"] + kwargs["completion_tokens"]
    completion = cfaig_driver.on(make_llm(PLAIN), "complete", "say hi")
    assert completion.text.endswith("You said: say hi")


def test_stream_chat_is_cumulative(make_llm: MakeLLM, cfaig_driver: Driver) -> None:
    llm = make_llm(reasoning={"summary": "auto"})
    messages = [ChatMessage(role="user", content="please stream a longer answer of several words")]
    responses: list[ChatResponse] = cfaig_driver.collect(llm, "stream_chat", messages)
    assert len(responses) > 10
    text = ""
    for response in responses[:-1]:
        text += response.delta or ""
        assert (response.message.content or "") == text
    thought = "".join(r.additional_kwargs.get("thinking_delta", "") for r in responses)
    assert thought.startswith("The user asked: please stream")
    final = responses[-1]
    assert final.message.content == text
    assert thinking(final)[0].content == thought
    assert final.additional_kwargs["reasoning_tokens"] > 0
    assert [r for r in responses[:-1] if "total_tokens" in r.additional_kwargs] == []  # usage once, at the end
    chunks = cfaig_driver.collect(llm, "stream_complete", "five words please")
    assert chunks[-1].text.endswith("You said: five words please")


def test_a_cut_stream_raises(make_llm: MakeLLM, cfaig_driver: Driver) -> None:
    cfaig_driver.emulator.inject(Fault(end_after=5))
    with pytest.raises(errors.IncompleteStreamError):
        cfaig_driver.collect(make_llm(PLAIN), "stream_chat", [ChatMessage(role="user", content="a b c d e f g")])


def test_errors_before_the_stream_are_retried_then_typed(make_llm: MakeLLM, cfaig_driver: Driver) -> None:
    cfaig_driver.emulator.inject(Fault(status=503))
    assert cfaig_driver.on(make_llm(PLAIN), "chat", HI).message.content
    cfaig_driver.emulator.inject(Fault(status=401, times=3))
    with pytest.raises(errors.AuthenticationError):
        cfaig_driver.on(make_llm(PLAIN), "chat", HI)


# --- reasoning --------------------------------------------------------------------------------


def test_reasoning_summary_is_a_thinking_block(make_llm: MakeLLM, cfaig_driver: Driver) -> None:
    llm = make_llm(reasoning={"effort": "low", "summary": "auto"})
    response = cfaig_driver.on(llm, "chat", HI)
    assert last_body(cfaig_driver.emulator)["reasoning"] == {"effort": "low", "summary": "auto"}
    [block] = thinking(response)
    assert block.content == "The user asked: hello there. I will answer directly."
    item = block.additional_information["reasoning"]
    assert item["id"].startswith("rs_")
    assert response.message.additional_kwargs["reasoning_content"] == block.content
    assert response.message.blocks[0] is block  # the reasoning comes first, as the model produced it


def test_encrypted_reasoning_goes_back_with_the_history(make_llm: MakeLLM, cfaig_driver: Driver) -> None:
    llm = make_llm(store=False, include=["reasoning.encrypted_content"])
    first = cfaig_driver.on(llm, "chat", HI)
    [block] = thinking(first)
    assert block.content is None  # no summary asked for: only the item, to send back
    assert block.additional_information["reasoning"]["encrypted_content"]
    history = [*HI, first.message, ChatMessage(role="user", content="and again")]
    second = cfaig_driver.on(llm, "chat", history)
    items = last_body(cfaig_driver.emulator)["input"]
    assert [item["type"] for item in items] == ["message", "reasoning", "message", "message"]
    assert items[1] == block.additional_information["reasoning"]
    assert (second.message.content or "").endswith("You said: and again")


def test_track_previous_responses(make_llm: MakeLLM, cfaig_driver: Driver) -> None:
    llm = make_llm(track_previous_responses=True)
    first = cfaig_driver.on(llm, "chat", HI)
    assert "previous_response_id" not in last_body(cfaig_driver.emulator)
    history = [*HI, first.message, ChatMessage(role="user", content="what did I say?")]
    second = cfaig_driver.on(llm, "chat", history)
    body = last_body(cfaig_driver.emulator)
    assert body["previous_response_id"] == first.additional_kwargs["response_id"]
    assert body["input"] == [{"type": "message", "role": "user", "content": "what did I say?"}]
    assert second.additional_kwargs["cached_tokens"] > 0
    fresh = cfaig_driver.on(llm, "chat", [ChatMessage(role="user", content="new topic")])  # not a continuation
    assert "previous_response_id" not in last_body(cfaig_driver.emulator)
    assert fresh.message.content


# --- tools, agents, structured output, images -----------------------------------------------------


def test_chat_with_tools_and_the_tool_loop(make_llm: MakeLLM, cfaig_driver: Driver) -> None:
    llm = make_llm()
    response = cfaig_driver.on(llm, "chat_with_tools", [MULTIPLY], user_msg="multiply 6 and 7", tool_required=True)
    body = last_body(cfaig_driver.emulator)
    assert body["tools"][0]["name"] == "multiply"
    assert body["tool_choice"] == "required"
    [selection] = llm.get_tool_calls_from_response(response)
    assert (selection.tool_name, selection.tool_kwargs) == ("multiply", {"a": 6, "b": 7})
    assert response.additional_kwargs["finish_reason"] == "tool_calls"
    result = ChatMessage(
        role="tool", blocks=[TextBlock(text="42")], additional_kwargs={"tool_call_id": selection.tool_id}
    )
    history = [ChatMessage(role="user", content="multiply 6 and 7"), response.message, result]
    answer = cfaig_driver.on(llm, "chat_with_tools", [MULTIPLY], chat_history=history)
    items = last_body(cfaig_driver.emulator)["input"]
    assert [item["type"] for item in items] == ["message", "reasoning", "function_call", "function_call_output"]
    assert items[2]["call_id"] == items[3]["call_id"] == selection.tool_id
    assert json.loads(items[2]["arguments"]) == {"a": 6, "b": 7}
    assert (answer.message.content or "").endswith("Based on the tool result: 42")


def test_streamed_tool_calls_are_cumulative(make_llm: MakeLLM, cfaig_driver: Driver) -> None:
    llm = make_llm(PLAIN)
    responses = cfaig_driver.collect(llm, "stream_chat_with_tools", [MULTIPLY], user_msg="multiply 6 and 7")
    partial = [b for r in responses for b in r.message.blocks if isinstance(b, ToolCallBlock)]
    assert len(partial) > 1
    for response in responses:
        llm.get_tool_calls_from_response(response, error_on_no_tool_call=False)  # partial JSON never raises
    [selection] = llm.get_tool_calls_from_response(responses[-1])
    assert selection.tool_kwargs == {"a": 6, "b": 7}
    assert selection.tool_id.startswith("call_")


async def test_function_agent(make_llm: MakeLLM) -> None:
    agent = FunctionAgent(tools=[MULTIPLY], llm=make_llm(reasoning={"summary": "auto"}), system_prompt="Compute.")
    output: Any = await agent.run("What is multiply(6, 7)?")
    [call] = output.tool_calls
    assert (call.tool_name, call.tool_kwargs, call.tool_output.raw_output) == ("multiply", {"a": 6, "b": 7}, 42)
    assert str(output.response.content).endswith("Based on the tool result: 42")


def test_structured_predict(make_llm: MakeLLM, cfaig_driver: Driver) -> None:
    llm = make_llm()
    person = cfaig_driver.on(
        llm, "structured_predict", Person, PromptTemplate("Ana is 31. Extract {what}."), what="her"
    )
    assert isinstance(person, Person)
    assert last_body(cfaig_driver.emulator)["tool_choice"] in ("required", {"type": "function", "name": "Person"})
    structured = llm.as_structured_llm(Person)
    answer = cfaig_driver.on(structured, "chat", [ChatMessage(role="user", content="Bob is 40.")])
    assert isinstance(answer.raw, Person)


def test_images_and_refused_audio(make_llm: MakeLLM, cfaig_driver: Driver) -> None:
    pixel = base64.b64encode(b"\x89PNG\r\n\x1a\n fake").decode()
    image = ChatMessage(
        role="user",
        blocks=[TextBlock(text="what is this"), ImageBlock(image=pixel.encode(), image_mimetype="image/png")],
    )
    response = cfaig_driver.on(make_llm(PLAIN), "chat", [image])
    [item] = last_body(cfaig_driver.emulator)["input"]
    assert item["content"][0] == {"type": "input_text", "text": "what is this"}
    assert item["content"][1]["type"] == "input_image"
    assert item["content"][1]["image_url"].startswith("data:image/png;base64,")
    assert (response.message.content or "").endswith("what is this [1 image]")
    audio = ChatMessage(role="user", blocks=[AudioBlock(audio=b"RIFF....", format="wav")])
    with pytest.raises(errors.ConfigurationError, match="audio"):
        cfaig_driver.on(make_llm(PLAIN), "chat", [audio])


def test_chat_only_parameters_are_refused(make_llm: MakeLLM, emu: GatewayEmulator) -> None:
    with pytest.raises(errors.ConfigurationError, match="stop"):
        make_llm().chat(HI, stop=["x"])
    with pytest.raises(errors.ConfigurationError, match="openai/"):
        make_llm("anthropic/claude-sonnet-4-5").chat(HI)
    assert emu.requests == []


def test_options_fallbacks_and_the_rest_surface(make_llm: MakeLLM, cfaig_driver: Driver) -> None:
    cfaig_driver.emulator.inject(Fault(status=503, step=0))
    response = cfaig_driver.on(make_llm(fallbacks=[PLAIN], cache_ttl=90), "chat", HI)
    assert response.additional_kwargs["model_name"] == PLAIN
    assert response.additional_kwargs["cf_aig_step"] == 1
    assert cfaig_driver.emulator.requests[-1].headers["cf-aig-cache-ttl"] == "90"
    fields = {**client_fields(cfaig_driver.emulator), "surface": "rest", "cf_aig_token": "test-cf-aig-token"}
    with GatewayClient(transport=cfaig_driver.emulator.transport(), **fields) as client:
        llm = CloudflareAIGatewayResponses(
            model="workers-ai/@cf/openai/gpt-oss-120b",
            gateway_client=client,
            async_gateway_client=AsyncGatewayClient(transport=cfaig_driver.emulator.transport(), **fields),
        )
        gpt_oss = cfaig_driver.on(llm, "chat", HI)
    assert cfaig_driver.emulator.requests[-1].path.endswith("/ai/v1/responses")
    assert last_body(cfaig_driver.emulator)["model"] == "@cf/openai/gpt-oss-120b"
    assert thinking(gpt_oss)[0].content == "The user asked: hello there. I will answer directly."


def test_class_name_and_metadata(make_llm: MakeLLM) -> None:
    llm = make_llm()
    assert CloudflareAIGatewayResponses.class_name() == "CloudflareAIGatewayResponses"
    assert llm.metadata.is_function_calling_model
    assert llm.metadata.model_name == "openai/gpt-5-mini"
