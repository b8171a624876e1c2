"""CloudflareAIGatewayLLM against the in-process gateway emulator: every entry point, sync and async."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel

from cfaig import GatewayClient, errors
from cfaig.testing import EMULATOR_ACCOUNT_ID, Fault, GatewayEmulator, ScriptedReply
from cfaig.testing.pytest_plugin import Driver
from llamaindex_cfaig import CloudflareAIGatewayLLM
from llamaindex_cfaig._convert import EXTRA_CONTENT_KEY
from tests.llamaindex.conftest import EventRecorder

MakeLLM = Callable[..., CloudflareAIGatewayLLM]
HI = [ChatMessage(role="user", content="hello there")]


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def get_weather(city: str) -> str:
    """Get the weather for a city."""
    return f"sunny in {city}"


ADD = FunctionTool.from_defaults(fn=add)
WEATHER = FunctionTool.from_defaults(fn=get_weather)


class Person(BaseModel):
    """A person."""

    name: str
    age: int


def last_body(emu: GatewayEmulator) -> dict[str, Any]:
    body = emu.requests[-1].json
    assert isinstance(body, dict)
    return body


# --- plain chat and completion ----------------------------------------------------------------


def test_chat(llm: CloudflareAIGatewayLLM, emu: GatewayEmulator) -> None:
    response = llm.chat(HI)
    assert "You said: hello there" in (response.message.content or "")
    assert response.message.role == MessageRole.ASSISTANT
    kwargs = response.additional_kwargs
    assert kwargs["model_name"] == "openai/gpt-5-mini"
    assert kwargs["finish_reason"] == "stop"
    assert kwargs["cf_aig_log_id"]
    assert kwargs["cf_aig_step"] in (None, 0)
    assert kwargs["prompt_tokens"] > 0
    assert kwargs["total_tokens"] == kwargs["prompt_tokens"] + kwargs["completion_tokens"]
    assert isinstance(response.raw, dict)
    assert response.raw["choices"][0]["message"]["content"] == response.message.content


def test_nothing_unset_is_sent(llm: CloudflareAIGatewayLLM, emu: GatewayEmulator) -> None:
    llm.chat(HI)
    assert set(last_body(emu)) == {"model", "messages"}
    llm.chat_with_tools([ADD], user_msg="add 2 and 3")
    body = last_body(emu)
    assert "tools" in body
    assert "parallel_tool_calls" not in body
    assert "tool_choice" not in body
    assert "temperature" not in body


def test_set_parameters_are_sent(make_llm: MakeLLM, emu: GatewayEmulator) -> None:
    llm = make_llm(temperature=0.2, max_tokens=50, additional_kwargs={"seed": 7, "top_k": 40})
    llm.chat(HI, top_p=0.5)
    body = last_body(emu)
    assert body["temperature"] == 0.2
    assert body["max_completion_tokens"] == 50  # the core renames max_tokens for OpenAI (cfaig.providers)
    assert body["seed"] == 7
    assert body["top_p"] == 0.5
    assert body["top_k"] == 40  # a provider extra travels through extra_body into the body


def test_chat_and_complete(llm: CloudflareAIGatewayLLM, cfaig_driver: Driver) -> None:
    response = cfaig_driver.on(llm, "chat", HI)
    assert "You said: hello there" in (response.message.content or "")
    completion = cfaig_driver.on(llm, "complete", "say hi")
    assert "You said: say hi" in completion.text
    assert completion.additional_kwargs["cf_aig_log_id"]


# --- streaming --------------------------------------------------------------------------------


def test_stream_chat_is_cumulative(llm: CloudflareAIGatewayLLM, cfaig_driver: Driver) -> None:
    messages = [ChatMessage(role="user", content="please stream a longer answer of several words")]
    expected = cfaig_driver.on(llm, "chat", messages).message.content
    responses: list[ChatResponse] = cfaig_driver.collect(llm, "stream_chat", messages)
    assert len(responses) > 3
    text = ""
    for response in responses:
        text += response.delta or ""
        assert response.message.content == text
    assert text == expected
    final = responses[-1]
    assert final.additional_kwargs["finish_reason"] == "stop"
    assert final.additional_kwargs["total_tokens"] > 0
    assert final.additional_kwargs["completion_tokens"] > 0
    assert [r for r in responses[:-1] if "total_tokens" in r.additional_kwargs] == []  # usage once


def test_stream_complete(llm: CloudflareAIGatewayLLM, cfaig_driver: Driver) -> None:
    chunks = cfaig_driver.collect(llm, "stream_complete", "stream five words")
    assert len(chunks) > 3
    assert chunks[-1].text == cfaig_driver.on(llm, "complete", "stream five words").text
    assert "".join(c.delta or "" for c in chunks) == chunks[-1].text


def test_stream_errors_raise_at_call(llm: CloudflareAIGatewayLLM, emu: GatewayEmulator, cfaig_driver: Driver) -> None:
    emu.inject(Fault(status=401))
    with pytest.raises(errors.AuthenticationError):
        cfaig_driver.run(lambda: llm.stream_chat(HI), lambda: llm.astream_chat(HI))


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault(status=200, end_after=2), errors.IncompleteStreamError),
        (Fault(status=200, cut_after=2), errors.GatewayConnectionError),
    ],
    ids=["ended-without-done", "cut"],
)
def test_broken_stream_raises(
    llm: CloudflareAIGatewayLLM, emu: GatewayEmulator, cfaig_driver: Driver, fault: Fault, error: type[Exception]
) -> None:
    emu.inject(fault)
    seen: list[str] = []

    def consume() -> None:
        for response in llm.stream_chat(HI):
            seen.append(response.delta or "")

    async def aconsume() -> None:
        async for response in await llm.astream_chat(HI):
            seen.append(response.delta or "")

    with pytest.raises(error):
        cfaig_driver.run(consume, aconsume)
    assert len(seen) <= 2  # never passes for a short answer


def test_base64_image_pass_through(llm: CloudflareAIGatewayLLM, emu: GatewayEmulator) -> None:
    from tests.llamaindex.test_convert import PNG

    message = ChatMessage(role="user", blocks=[TextBlock(text="what"), ImageBlock(image=PNG)])
    assert "[1 image]" in (llm.chat([message]).message.content or "")
    part = last_body(emu)["messages"][0]["content"][1]
    assert part["image_url"]["url"].startswith("data:image/png;base64,")


# --- one instrumentation event pair per call ---------------------------------------------------


def _drain(value: Any) -> None:
    for _ in value:
        pass


def test_one_event_pair_per_call(llm: CloudflareAIGatewayLLM, events: EventRecorder, cfaig_driver: Driver) -> None:
    cfaig_driver.on(llm, "chat", HI)
    assert events.names() == ["LLMChatStartEvent", "LLMChatEndEvent"]
    events.clear()
    cfaig_driver.collect(llm, "stream_chat", HI)
    names = events.names()
    assert names[0] == "LLMChatStartEvent"
    assert names[-1] == "LLMChatEndEvent"
    assert names.count("LLMChatStartEvent") == names.count("LLMChatEndEvent") == 1
    assert set(names[1:-1]) == {"LLMChatInProgressEvent"}
    events.clear()
    cfaig_driver.on(llm, "complete", "hi")
    assert events.names() == ["LLMCompletionStartEvent", "LLMCompletionEndEvent"]
    events.clear()
    cfaig_driver.collect(llm, "stream_complete", "hi")
    names = events.names()
    assert names.count("LLMCompletionStartEvent") == names.count("LLMCompletionEndEvent") == 1
    assert not [n for n in names if n.startswith("LLMChat")]


def test_end_event_carries_usage(llm: CloudflareAIGatewayLLM, events: EventRecorder) -> None:
    _drain(llm.stream_chat(HI))
    end = next(e for e in events.events if e.class_name() == "LLMChatEndEvent")
    assert end.response.additional_kwargs["total_tokens"] > 0  # type: ignore[attr-defined]


# --- gateway options, fallbacks, errors --------------------------------------------------------


def test_options_go_to_headers_not_body(make_llm: MakeLLM, emu: GatewayEmulator) -> None:
    llm = make_llm(cache_ttl=120, metadata={"team": "search"}, collect_log=False)
    llm.chat(HI, skip_cache=True, event_id="trace-1")
    request = emu.requests[-1]
    assert request.headers["cf-aig-cache-ttl"] == "120"
    assert json.loads(request.headers["cf-aig-metadata"]) == {"team": "search"}
    assert request.headers["cf-aig-collect-log"] == "false"
    assert request.headers["cf-aig-skip-cache"] == "true"
    assert request.headers["cf-aig-event-id"] == "trace-1"
    body = last_body(emu)
    for name in ("cache_ttl", "skip_cache", "event_id", "metadata", "collect_log"):
        assert name not in body
        assert name not in body.get("extra_body", {})
    # per-call values override the instance's; metadata= per call is the gateway metadata too
    llm.chat(HI, cache_ttl=300, metadata={"team": "ads"})
    headers = emu.requests[-1].headers
    assert headers["cf-aig-cache-ttl"] == "300"
    assert json.loads(headers["cf-aig-metadata"]) == {"team": "ads"}


def test_fallback_served_by_second_model(make_llm: MakeLLM, emu: GatewayEmulator) -> None:
    emu.inject(Fault(status=500, step=0))
    llm = make_llm(model="openai/gpt-5-mini", fallbacks=["anthropic/claude-sonnet-4-5"], fallback_mode="universal")
    response = llm.chat(HI)
    assert response.additional_kwargs["cf_aig_step"] == 1
    assert response.additional_kwargs["model_name"] == "anthropic/claude-sonnet-4-5"
    assert "anthropic/claude-sonnet-4-5" in (response.message.content or "")


async def test_per_call_fallbacks_async(llm: CloudflareAIGatewayLLM, emu: GatewayEmulator) -> None:
    emu.inject(Fault(status=503, step=0))
    response = await llm.achat(HI, fallbacks=["workers-ai/@cf/meta/llama-3.1-8b-instruct"], fallback_mode="universal")
    assert response.additional_kwargs["cf_aig_step"] == 1
    assert response.additional_kwargs["model_name"] == "workers-ai/@cf/meta/llama-3.1-8b-instruct"


def test_errors_are_core_errors(llm: CloudflareAIGatewayLLM, emu: GatewayEmulator) -> None:
    emu.inject(Fault(status=400))
    with pytest.raises(errors.BadRequestError) as info:
        llm.chat(HI)
    assert type(info.value).__module__ == "cfaig.errors"


def test_one_retry_layer(emu: GatewayEmulator) -> None:
    client = GatewayClient(
        account_id=EMULATOR_ACCOUNT_ID, base_url=emu.base_url, transport=emu.transport(), max_retries=1
    )
    with client:
        llm = CloudflareAIGatewayLLM(model="openai/gpt-5-mini", gateway_client=client)
        emu.inject(Fault(status=503, times=5))
        with pytest.raises(errors.ServerError):
            llm.chat(HI)
        assert len(emu.requests) == 2  # the core's single retry, nothing stacked on top


# --- tool calling -----------------------------------------------------------------------------


def test_chat_with_tools(llm: CloudflareAIGatewayLLM, emu: GatewayEmulator) -> None:
    response = llm.chat_with_tools([ADD], user_msg="add 2 and 3", tool_required=True)
    body = last_body(emu)
    assert body["tools"][0]["function"]["name"] == "add"
    assert body["tool_choice"] == "required"
    (selection,) = llm.get_tool_calls_from_response(response)
    assert selection.tool_name == "add"
    assert selection.tool_kwargs == {"a": 2, "b": 3}
    assert selection.tool_id
    assert response.additional_kwargs["finish_reason"] == "tool_calls"


def test_tool_choice_by_name_and_parallel(llm: CloudflareAIGatewayLLM, emu: GatewayEmulator) -> None:
    llm.chat_with_tools([ADD, WEATHER], user_msg="weather", tool_choice="add", allow_parallel_tool_calls=True)
    body = last_body(emu)
    assert body["tool_choice"] == {"type": "function", "function": {"name": "add"}}
    assert body["parallel_tool_calls"] is True


def test_parallel_calls_trimmed_when_not_allowed(llm: CloudflareAIGatewayLLM, emu: GatewayEmulator) -> None:
    two = [{"name": "add", "arguments": {"a": 1, "b": 2}}, {"name": "get_weather", "arguments": {"city": "Oslo"}}]
    emu.script(ScriptedReply(tool_calls=two, times=2))
    single = llm.chat_with_tools([ADD, WEATHER], user_msg="both")
    assert [s.tool_name for s in llm.get_tool_calls_from_response(single)] == ["add"]
    both = llm.chat_with_tools([ADD, WEATHER], user_msg="both", allow_parallel_tool_calls=True)
    assert [s.tool_name for s in llm.get_tool_calls_from_response(both)] == ["add", "get_weather"]


def test_no_tool_call(llm: CloudflareAIGatewayLLM) -> None:
    response = llm.chat(HI)
    with pytest.raises(ValueError, match="Expected at least one tool call"):
        llm.get_tool_calls_from_response(response)
    assert llm.get_tool_calls_from_response(response, error_on_no_tool_call=False) == []


def test_predict_and_call(llm: CloudflareAIGatewayLLM, cfaig_driver: Driver) -> None:
    result = cfaig_driver.on(llm, "predict_and_call", [ADD], user_msg="add 2 and 3")
    assert result.response == "5"


def test_streamed_tool_calls_are_cumulative(llm: CloudflareAIGatewayLLM) -> None:
    emu_args = {"city": "San Francisco, California, United States of America"}
    responses = list(llm.stream_chat_with_tools([WEATHER], user_msg=f"weather in {emu_args['city']}"))
    seen: list[dict[str, Any]] = []
    for response in responses:
        # FunctionAgent calls this on every chunk: partial JSON and missing ids must not raise
        for selection in llm.get_tool_calls_from_response(response, error_on_no_tool_call=False):
            seen.append(selection.tool_kwargs)
    final = llm.get_tool_calls_from_response(responses[-1])
    assert len(final) == 1
    assert final[0].tool_name == "get_weather"
    assert final[0].tool_id
    assert final[0].tool_kwargs["city"]
    blocks = [b for b in responses[-1].message.blocks if isinstance(b, ToolCallBlock)]
    assert len(blocks) == 1
    assert isinstance(blocks[0].tool_kwargs, dict)
    assert seen[-1] == final[0].tool_kwargs


async def test_astream_tool_calls_partial_json(llm: CloudflareAIGatewayLLM, emu: GatewayEmulator) -> None:
    long_city = "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch " * 4
    emu.script(ScriptedReply(tool_calls=[{"name": "get_weather", "arguments": {"city": long_city}}]))
    partial_seen = False
    last: ChatResponse | None = None
    async for response in await llm.astream_chat_with_tools([WEATHER], user_msg="weather"):
        for block in response.message.blocks:
            if isinstance(block, ToolCallBlock) and isinstance(block.tool_kwargs, str):
                partial_seen = True
        llm.get_tool_calls_from_response(response, error_on_no_tool_call=False)
        last = response
    assert last is not None
    (selection,) = llm.get_tool_calls_from_response(last)
    assert selection.tool_kwargs == {"city": long_city}
    assert partial_seen, "the emulator should stream the arguments in several fragments"


def test_tool_loop_history_is_serialised(llm: CloudflareAIGatewayLLM, emu: GatewayEmulator) -> None:
    history = [ChatMessage(role="user", content="add 2 and 3")]
    response = llm.chat_with_tools([ADD], chat_history=history)
    (call,) = llm.get_tool_calls_from_response(response)
    history.append(response.message)
    history.append(
        ChatMessage(
            role="tool",
            blocks=[TextBlock(text=str(add(**call.tool_kwargs)))],
            additional_kwargs={"tool_call_id": call.tool_id},
        )
    )
    answer = llm.chat_with_tools([ADD], chat_history=history)
    assert "5" in (answer.message.content or "")
    messages = last_body(emu)["messages"]
    assert messages[1]["role"] == "assistant"
    assert messages[1]["tool_calls"][0]["id"] == call.tool_id
    assert json.loads(messages[1]["tool_calls"][0]["function"]["arguments"]) == {"a": 2, "b": 3}
    assert messages[2] == {"role": "tool", "content": "5", "tool_call_id": call.tool_id}


@pytest.mark.parametrize("streaming", [False, True])
async def test_gemini_thought_signatures_are_replayed(make_llm: MakeLLM, emu: GatewayEmulator, streaming: bool) -> None:
    llm = make_llm(model="google-ai-studio/gemini-2.5-flash")
    history = [ChatMessage(role="user", content="add 2 and 3")]
    if streaming:
        streamed = [r async for r in await llm.astream_chat_with_tools([ADD], chat_history=history)]
        response = streamed[-1]
    else:
        response = await llm.achat_with_tools([ADD], chat_history=history)
    (call,) = llm.get_tool_calls_from_response(response)
    extras = response.message.additional_kwargs[EXTRA_CONTENT_KEY]
    assert extras[call.tool_id]["google"]["thought_signature"]
    history += [
        response.message,
        ChatMessage(role="tool", content="5", additional_kwargs={"tool_call_id": call.tool_id}),
    ]
    answer = await llm.achat_with_tools([ADD], chat_history=history)  # the emulator 400s without signatures
    assert "5" in (answer.message.content or "")
    replayed = last_body(emu)["messages"][1]["tool_calls"][0]
    assert replayed["extra_content"] == extras[call.tool_id]


def test_missing_thought_signature_is_rejected(make_llm: MakeLLM) -> None:
    """Control for the test above: the emulator does enforce the signature."""
    llm = make_llm(model="google-ai-studio/gemini-2.5-flash")
    history = [ChatMessage(role="user", content="add 2 and 3")]
    response = llm.chat_with_tools([ADD], chat_history=history)
    (call,) = llm.get_tool_calls_from_response(response)
    response.message.additional_kwargs.pop(EXTRA_CONTENT_KEY)
    history += [
        response.message,
        ChatMessage(role="tool", content="5", additional_kwargs={"tool_call_id": call.tool_id}),
    ]
    with pytest.raises(errors.BadRequestError):
        llm.chat_with_tools([ADD], chat_history=history)


# --- reasoning, multimodal ---------------------------------------------------------------------


def test_reasoning_becomes_thinking_block(llm: CloudflareAIGatewayLLM, emu: GatewayEmulator) -> None:
    emu.script(ScriptedReply(content="42", reasoning="six times seven"))
    response = llm.chat(HI)
    assert isinstance(response.message.blocks[0], ThinkingBlock)
    assert response.message.blocks[0].content == "six times seven"
    assert response.message.additional_kwargs["reasoning_content"] == "six times seven"
    assert response.message.content == "42"


def test_streamed_reasoning_has_thinking_delta(llm: CloudflareAIGatewayLLM, emu: GatewayEmulator) -> None:
    emu.script(ScriptedReply(content="42", reasoning="six times seven"))
    responses = list(llm.stream_chat(HI))
    thinking = "".join(r.additional_kwargs.get("thinking_delta", "") for r in responses)
    assert thinking == "six times seven"
    assert responses[-1].message.content == "42"


def test_images_pass_through(llm: CloudflareAIGatewayLLM, emu: GatewayEmulator) -> None:
    message = ChatMessage(
        role="user",
        blocks=[TextBlock(text="describe"), ImageBlock(url="https://example.com/cat.png")],
    )
    response = llm.chat([message])
    assert "[1 image]" in (response.message.content or "")
    parts = last_body(emu)["messages"][0]["content"]
    assert parts[1] == {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}


# --- structured output -------------------------------------------------------------------------


def test_structured_predict(llm: CloudflareAIGatewayLLM, cfaig_driver: Driver) -> None:
    from llama_index.core.prompts import PromptTemplate

    prompt = PromptTemplate("Alice is 31. Extract {what}.")
    person = cfaig_driver.on(llm, "structured_predict", Person, prompt, what="the person")
    assert isinstance(person, Person)
    assert person.age == 31


def test_stream_structured_predict(llm: CloudflareAIGatewayLLM) -> None:
    from llama_index.core.prompts import PromptTemplate

    partials = list(llm.stream_structured_predict(Person, PromptTemplate("Carol is 22. Extract the person.")))
    assert partials
    final = partials[-1]
    assert isinstance(final, BaseModel)
    assert Person.model_validate(final.model_dump())


def test_as_structured_llm(llm: CloudflareAIGatewayLLM) -> None:
    structured = llm.as_structured_llm(Person)
    response = structured.chat([ChatMessage(role="user", content="Dave is 50")])
    assert isinstance(response.raw, Person)


# --- configuration and secrets -----------------------------------------------------------------


def test_metadata() -> None:
    llm = CloudflareAIGatewayLLM(model="openai/gpt-4o-mini", account_id="acct")
    meta = llm.metadata
    assert meta.is_chat_model
    assert meta.is_function_calling_model
    assert meta.model_name == "openai/gpt-4o-mini"
    assert meta.context_window == 128_000
    override = CloudflareAIGatewayLLM(model="baseten/some-model", account_id="acct", context_window=1000, max_tokens=64)
    assert override.metadata.context_window == 1000
    assert override.metadata.num_output == 64


def test_secrets_never_shown(events: EventRecorder, emu: GatewayEmulator) -> None:
    client = GatewayClient(account_id=EMULATOR_ACCOUNT_ID, base_url=emu.base_url, transport=emu.transport())
    with client:
        llm = CloudflareAIGatewayLLM(
            account_id="acct", cf_aig_token="tok-SECRET-1", api_key="sk-SECRET-2", gateway_client=client
        )
        llm.chat(HI)
        texts = [repr(llm), str(llm), str(llm.to_dict()), llm.to_json(), str(llm.to_payload())]
        texts += [str(getattr(event, "model_dict", "")) for event in events.events]
        for text in texts:
            assert "SECRET" not in text
        assert llm.cf_aig_token is not None
        assert llm.cf_aig_token.get_secret_value() == "tok-SECRET-1"


def test_secrets_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "env-acct")
    monkeypatch.setenv("CF_AIG_TOKEN", "env-token")
    llm = CloudflareAIGatewayLLM()
    assert llm.account_id == "env-acct"
    assert llm.cf_aig_token is not None
    assert llm.cf_aig_token.get_secret_value() == "env-token"
    assert "env-token" not in repr(llm)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"gateway_id": "g" * 65},
        {"cache_ttl": 5},
        {"metadata": {str(i): i for i in range(6)}},
        {"model": "no-provider-prefix"},
        {"fallbacks": ["not a model"]},
        {"base_url": "http://gateway.example.com/v1", "cf_aig_token": "t"},
    ],
)
def test_bad_configuration_fails_at_construction(kwargs: dict[str, Any]) -> None:
    with pytest.raises(errors.ConfigurationError):
        CloudflareAIGatewayLLM(account_id="acct", **kwargs)


def test_missing_account_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLOUDFLARE_ACCOUNT_ID", raising=False)
    with pytest.raises(errors.ConfigurationError, match="account_id"):
        CloudflareAIGatewayLLM()


def test_shared_client_is_used_without_injection() -> None:
    import cfaig

    llm = CloudflareAIGatewayLLM(account_id="acct-shared")
    assert llm.client is cfaig.shared_client(llm.client.config)
    assert llm.async_client is cfaig.shared_async_client(llm.client.config)


# --- streamed messages: the running answer equals the accumulator's snapshot --------------------


def _snapshot_messages(chunks: list[dict[str, Any]]) -> list[ChatMessage]:
    """What each chunk's response message was before the running answer: ``completion_message`` of the
    accumulator's snapshot after that chunk (the reference the streamed messages must equal)."""
    from cfaig import ChatAccumulator, ChatCompletionChunk
    from llamaindex_cfaig._convert import completion_message

    accumulator = ChatAccumulator()
    out = []
    for raw in chunks:
        accumulator.add(ChatCompletionChunk.model_validate(raw))
        out.append(completion_message(accumulator.snapshot().message, final=False))
    return out


@pytest.mark.parametrize(
    "reply",
    [
        ScriptedReply(content="forty two, said the machine", reasoning="six times seven"),
        ScriptedReply(content="let me look", tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}}]),
        ScriptedReply(tool_calls=[{"name": "add", "arguments": {"a": 2, "b": 3}}, {"name": "add", "arguments": "{"}]),
    ],
)
def test_streamed_messages_equal_the_accumulated_snapshot(
    llm: CloudflareAIGatewayLLM, emu: GatewayEmulator, reply: ScriptedReply
) -> None:
    emu.script(reply)
    responses = list(llm.stream_chat(HI))
    streamed = responses[:-1]  # the last one is the final answer (ids filled in, usage)
    assert len(streamed) >= 2
    expected = _snapshot_messages([response.raw for response in streamed])
    assert [r.message for r in streamed] == expected
    assert responses[-1].message.content == streamed[-1].message.content


def test_stream_message_follows_the_lowest_choice_index() -> None:
    """Chunks of several choices (``n=2``): every response carries the lowest index's message, as the
    accumulator's snapshot does, whichever choice a chunk is about."""
    from cfaig import ChatAccumulator, ChatCompletionChunk
    from llamaindex_cfaig._convert import completion_message
    from llamaindex_cfaig.llms import _Answer

    def chunk(index: int, **delta: Any) -> ChatCompletionChunk:
        return ChatCompletionChunk.model_validate(
            {"id": "c", "model": "m", "created": 1, "choices": [{"index": index, "delta": delta}]}
        )

    chunks = [
        chunk(1, content="second "),
        chunk(1, reasoning_content="hm"),
        chunk(0, content="first "),
        chunk(1, content="more"),
        chunk(0, reasoning="thought", content="again"),
        chunk(0, tool_calls=[{"index": 0, "id": "t1", "function": {"name": "f", "arguments": '{"a"'}}]),
        chunk(0, tool_calls=[{"index": 0, "function": {"arguments": ": 1}"}}]),
    ]
    accumulator = ChatAccumulator()
    answer = _Answer(accumulator, {})
    for item in chunks:
        accumulator.add(item)
        answer.add(item)
        assert answer.message() == completion_message(accumulator.snapshot().message, final=False)


# --- tool specs: LlamaIndex's own, with each schema generated once ------------------------------


class Place(BaseModel):
    city: str
    country: str = "FR"


class Visit(BaseModel):
    place: Place
    days: int = 1


def visit(place: dict[str, Any], days: int = 1) -> str:
    """Plan a visit."""
    return str(place)


def test_tool_specs_are_llamaindex_own_and_fresh_per_call(llm: CloudflareAIGatewayLLM) -> None:
    """The spec sent is what ``ToolMetadata.to_openai_tool`` gives (names sanitised, schema with $defs);
    a caller editing one call's spec does not change the next call's."""
    tools = [ADD, WEATHER, FunctionTool.from_defaults(fn=visit, name="visit[v2]", fn_schema=Visit)]
    first = llm._prepare_chat_with_tools(tools, user_msg="hi")["tools"]
    assert first == [tool.metadata.to_openai_tool(skip_length_check=True) for tool in tools]
    assert first[2]["function"]["name"] == "visit_v2_"
    first[2]["function"]["parameters"]["properties"].clear()
    second = llm._prepare_chat_with_tools(tools, user_msg="hi")["tools"]
    assert second[2] == tools[2].metadata.to_openai_tool(skip_length_check=True)
    assert second[2]["function"]["parameters"]["properties"]


def test_tool_metadata_subclass_keeps_its_own_spec(llm: CloudflareAIGatewayLLM) -> None:
    from llama_index.core.tools import ToolMetadata

    class StrictMetadata(ToolMetadata):
        def to_openai_tool(self, skip_length_check: bool = False) -> dict[str, Any]:
            spec = super().to_openai_tool(skip_length_check=skip_length_check)
            spec["function"]["strict"] = True
            return spec

    tool = FunctionTool.from_defaults(fn=add)
    tool._metadata = StrictMetadata(description="add", name="add", fn_schema=tool.metadata.fn_schema)
    (spec,) = llm._prepare_chat_with_tools([tool], user_msg="hi")["tools"]
    assert spec["function"]["strict"] is True
