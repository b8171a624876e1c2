"""ChatCloudflareAIGateway against the in-process emulator transport (no sockets)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.load import dumpd, dumps
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.runnables import ConfigurableField
from langchain_core.tools import tool
from pydantic import BaseModel, Field

from cfaig import errors
from cfaig.testing import Fault, GatewayEmulator, ScriptedReply
from langchain_cfaig import ChatCloudflareAIGateway

MODEL = "openai/gpt-5-mini"


@tool
def get_weather(city: str) -> str:
    """Current weather in a city."""
    return f"sunny in {city}"


class Person(BaseModel):
    """A person."""

    name: str = Field(description="the person's name")
    age: int = Field(description="age in years")


def make(clients: dict[str, Any], **kwargs: Any) -> ChatCloudflareAIGateway:
    return ChatCloudflareAIGateway(**{"model": MODEL, **kwargs}, **clients)


def chat_requests(emu: GatewayEmulator) -> list[Any]:
    return [r for r in emu.requests if r.json is not None and "messages" in (r.json or {})]


def test_invoke_sends_only_what_was_set(emu: GatewayEmulator, clients: dict[str, Any]) -> None:
    answer = make(clients).invoke("hello there")
    assert isinstance(answer, AIMessage)
    assert "hello there" in answer.text
    body = chat_requests(emu)[-1].json
    assert set(body) == {"model", "messages"}
    assert body["messages"] == [{"role": "user", "content": "hello there"}]


def test_sampling_params_are_sent_when_set(emu: GatewayEmulator, clients: dict[str, Any]) -> None:
    make(clients, temperature=0.2, max_tokens=50, seed=7, model_kwargs={"top_k": 4}).invoke("hi", stop=["END"])
    body = chat_requests(emu)[-1].json
    assert body["temperature"] == 0.2
    assert body["max_completion_tokens"] == 50  # the core's name for OpenAI (see cfaig.providers)
    assert body["seed"] == 7
    assert body["stop"] == ["END"]
    assert body["top_k"] == 4


def test_gateway_options_are_headers_not_body(emu: GatewayEmulator, clients: dict[str, Any]) -> None:
    model = make(clients, cache_ttl=120, gateway_metadata={"team": "search"})
    model.invoke("hi", skip_cache=True, gateway_metadata={"user": "u1"}, cache_ttl=60)
    request = chat_requests(emu)[-1]
    assert request.headers["cf-aig-cache-ttl"] == "60"
    assert request.headers["cf-aig-skip-cache"] == "true"
    assert json.loads(request.headers["cf-aig-metadata"]) == {"user": "u1"}
    for name in ("cache_ttl", "skip_cache", "metadata", "gateway_metadata"):
        assert name not in request.json
    model.invoke("again")
    request = chat_requests(emu)[-1]
    assert request.headers["cf-aig-cache-ttl"] == "120"
    assert json.loads(request.headers["cf-aig-metadata"]) == {"team": "search"}
    assert "cf-aig-skip-cache" not in request.headers


def test_bind_options(emu: GatewayEmulator, clients: dict[str, Any]) -> None:
    make(clients).bind(cache_ttl=300, event_id="trace-1").invoke("hi")
    request = chat_requests(emu)[-1]
    assert request.headers["cf-aig-cache-ttl"] == "300"
    assert request.headers["cf-aig-event-id"] == "trace-1"


def test_bad_config_raises_at_construction() -> None:
    with pytest.raises(errors.ConfigurationError):
        ChatCloudflareAIGateway(model=MODEL, account_id="acct", gateway_id="x" * 65)
    with pytest.raises(errors.ConfigurationError):
        ChatCloudflareAIGateway(model="gpt-5-mini", account_id="acct")
    with pytest.raises(errors.ConfigurationError):
        ChatCloudflareAIGateway(model=MODEL, account_id="acct", cache_ttl=1)


def test_per_call_model_override(emu: GatewayEmulator, clients: dict[str, Any]) -> None:
    answer = make(clients).invoke("hi", model="anthropic/claude-sonnet-4-5")
    assert chat_requests(emu)[-1].json["model"] == "anthropic/claude-sonnet-4-5"
    assert answer.response_metadata["model_name"] == "anthropic/claude-sonnet-4-5"


def test_configurable_model(emu: GatewayEmulator, clients: dict[str, Any]) -> None:
    model = make(clients).configurable_fields(model=ConfigurableField(id="model"))
    answer = model.with_config(configurable={"model": "workers-ai/@cf/meta/llama-3.1-8b-instruct"}).invoke("hi")
    assert answer.response_metadata["model_name"] == "workers-ai/@cf/meta/llama-3.1-8b-instruct"


def test_response_metadata_and_usage(clients: dict[str, Any]) -> None:
    answer = make(clients).invoke("hi")
    metadata = answer.response_metadata
    assert metadata["model_name"] == MODEL
    assert metadata["finish_reason"] == "stop"
    assert metadata["cf_aig_log_id"]
    assert "cf_aig_cache_status" in metadata
    assert answer.usage_metadata is not None
    assert answer.usage_metadata["total_tokens"] > 0


def test_fallback_step(emu: GatewayEmulator, clients: dict[str, Any]) -> None:
    emu.inject(Fault(status=500, step=0))
    answer = make(clients, fallbacks=["anthropic/claude-sonnet-4-5"], fallback_mode="universal").invoke("hi")
    assert answer.response_metadata["cf_aig_step"] == 1
    assert answer.response_metadata["model_name"] == "anthropic/claude-sonnet-4-5"


async def test_fallback_per_call_async(emu: GatewayEmulator, clients: dict[str, Any]) -> None:
    emu.inject(Fault(status=500, step=0))
    answer = await make(clients).ainvoke("hi", fallbacks=["anthropic/claude-sonnet-4-5"], fallback_mode="universal")
    assert answer.response_metadata["cf_aig_step"] == 1


def test_errors_propagate_as_core_types(emu: GatewayEmulator, clients: dict[str, Any]) -> None:
    emu.inject(Fault(status=400))
    with pytest.raises(errors.BadRequestError):
        make(clients, max_retries=0).invoke("hi")


def test_stream_usage_exactly_once(clients: dict[str, Any]) -> None:
    chunks = list(make(clients).stream("count to three please"))
    with_usage = [c for c in chunks if c.usage_metadata]
    assert len(with_usage) == 1
    assert chunks[-1].chunk_position == "last"
    assert chunks[-1] is with_usage[0]
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk
    assert "count to three" in merged.text
    assert merged.response_metadata["model_name"] == MODEL
    assert merged.response_metadata["cf_aig_log_id"]
    assert merged.response_metadata["finish_reason"] == "stop"


def test_stream_usage_off(clients: dict[str, Any]) -> None:
    chunks = list(make(clients, stream_usage=False).stream("hi"))
    assert not any(c.usage_metadata for c in chunks)


async def test_astream_usage_exactly_once(clients: dict[str, Any]) -> None:
    chunks = [chunk async for chunk in make(clients).astream("hello")]
    assert sum(1 for c in chunks if c.usage_metadata) == 1
    assert chunks[-1].chunk_position == "last"


def test_streamed_tool_calls(clients: dict[str, Any]) -> None:
    model = make(clients).bind_tools([get_weather], tool_choice="any")
    merged: AIMessageChunk | None = None
    saw_chunk = False
    for chunk in model.stream("weather in Paris?"):
        assert isinstance(chunk, AIMessageChunk)
        saw_chunk = saw_chunk or bool(chunk.tool_call_chunks)
        merged = chunk if merged is None else merged + chunk
    assert saw_chunk
    assert merged is not None
    assert merged.tool_calls[0]["name"] == "get_weather"
    assert merged.tool_call_chunks[0]["index"] == 0


def test_bind_tools_wire_format(emu: GatewayEmulator, clients: dict[str, Any]) -> None:
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    model = make(clients).bind_tools([get_weather, Person, add], tool_choice="get_weather", parallel_tool_calls=False)
    answer = model.invoke("weather in Oslo")
    body = chat_requests(emu)[-1].json
    assert [t["function"]["name"] for t in body["tools"]] == ["get_weather", "Person", "add"]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert body["parallel_tool_calls"] is False
    assert answer.tool_calls[0]["name"] == "get_weather"
    with pytest.raises(ValueError, match="not among"):
        make(clients).bind_tools([get_weather], tool_choice="nope")


def test_tool_loop_round_trip(emu: GatewayEmulator, clients: dict[str, Any]) -> None:
    model = make(clients).bind_tools([get_weather])
    messages: list[Any] = [HumanMessage("What is the weather in Rome? Use the tool.")]
    first = model.invoke(messages)
    assert isinstance(first, AIMessage)
    call = first.tool_calls[0]
    messages += [first, ToolMessage(get_weather.invoke(call["args"]), tool_call_id=call["id"])]
    second = model.invoke(messages)
    assert "sunny" in second.text
    sent = chat_requests(emu)[-1].json["messages"]
    assert sent[1]["tool_calls"][0]["id"] == call["id"]
    assert sent[2] == {"role": "tool", "tool_call_id": call["id"], "content": get_weather.invoke(call["args"])}


def test_thought_signatures_replayed(emu: GatewayEmulator, clients: dict[str, Any]) -> None:
    model = make(clients, model="google-ai-studio/gemini-2.5-flash").bind_tools([get_weather])
    messages: list[Any] = [HumanMessage("What is the weather in Lima? Use the tool.")]
    first = model.invoke(messages)
    assert isinstance(first, AIMessage)
    call = first.tool_calls[0]
    extras = first.additional_kwargs["tool_call_extra_content"]
    assert extras[call["id"]]["google"]["thought_signature"]
    messages += [first, ToolMessage("sunny", tool_call_id=call["id"])]
    second = model.invoke(messages)  # the emulator answers 400 when the signature is missing
    assert second.text
    replayed = chat_requests(emu)[-1].json["messages"][1]["tool_calls"][0]
    assert replayed["extra_content"] == extras[call["id"]]


def test_thought_signatures_replayed_after_streaming(clients: dict[str, Any]) -> None:
    model = make(clients, model="google-ai-studio/gemini-2.5-flash").bind_tools([get_weather])
    messages: list[Any] = [HumanMessage("What is the weather in Quito? Use the tool.")]
    merged: Any = None
    for chunk in model.stream(messages):
        merged = chunk if merged is None else merged + chunk
    call = merged.tool_calls[0]
    assert call["id"] in merged.additional_kwargs["tool_call_extra_content"]
    messages += [merged, ToolMessage("sunny", tool_call_id=call["id"])]
    assert model.invoke(messages).text


def test_reasoning_content(emu: GatewayEmulator, clients: dict[str, Any]) -> None:
    emu.script(ScriptedReply(content="42", reasoning="six times seven", times=2))
    answer = make(clients).invoke("meaning of life?")
    assert answer.additional_kwargs["reasoning_content"] == "six times seven"
    merged: Any = None
    for chunk in make(clients).stream("meaning of life?"):
        merged = chunk if merged is None else merged + chunk
    assert merged.additional_kwargs["reasoning_content"] == "six times seven"
    assert merged.text == "42"


def test_usage_details(emu: GatewayEmulator, clients: dict[str, Any]) -> None:
    emu.script(
        ScriptedReply(
            content="ok",
            usage={
                "prompt_tokens": 10,
                "completion_tokens": 4,
                "total_tokens": 14,
                "prompt_tokens_details": {"cached_tokens": 6},
                "completion_tokens_details": {"reasoning_tokens": 2},
            },
        )
    )
    usage = make(clients).invoke("hi").usage_metadata
    assert usage is not None
    assert usage["input_token_details"] == {"cache_read": 6}
    assert usage["output_token_details"] == {"reasoning": 2}


def test_structured_output_methods(emu: GatewayEmulator, clients: dict[str, Any]) -> None:
    for method in ("json_schema", "function_calling"):
        result = make(clients).with_structured_output(Person, method=method).invoke("Ana is 31")
        assert isinstance(result, Person)
    raw = make(clients).with_structured_output(Person, include_raw=True).invoke("Ana is 31")
    assert isinstance(raw["parsed"], Person)
    assert raw["parsing_error"] is None
    assert isinstance(raw["raw"], AIMessage)


def test_structured_output_default_method_follows_provider(emu: GatewayEmulator, clients: dict[str, Any]) -> None:
    make(clients).with_structured_output(Person).invoke("Ana is 31")
    assert chat_requests(emu)[-1].json["response_format"]["type"] == "json_schema"
    make(clients, model="anthropic/claude-sonnet-4-5").with_structured_output(Person).invoke("Ana is 31")
    body = chat_requests(emu)[-1].json
    assert "response_format" not in body
    assert body["tool_choice"] == {"type": "function", "function": {"name": "Person"}}


def test_image_input_reaches_the_wire(emu: GatewayEmulator, clients: dict[str, Any]) -> None:
    message = HumanMessage(
        content=[
            {"type": "text", "text": "describe"},
            {"type": "image", "base64": "iVBORw0KGgo=", "mime_type": "image/png"},
        ]
    )
    make(clients).invoke([message])
    content = chat_requests(emu)[-1].json["messages"][0]["content"]
    assert content[1] == {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}


async def test_abatch(clients: dict[str, Any]) -> None:
    answers = await make(clients).abatch(["one", "two", "three"])
    assert [("one" in a.text, "two" in a.text, "three" in a.text) for a in answers] == [
        (True, False, False),
        (False, True, False),
        (False, False, True),
    ]


def test_secrets_never_shown() -> None:
    model = ChatCloudflareAIGateway(
        model=MODEL, account_id="acct", cf_aig_token="super-secret-token", api_key="sk-very-secret"
    )
    for text in (repr(model), str(model), dumps(model)):
        assert "super-secret-token" not in text
        assert "sk-very-secret" not in text
    kwargs = dumpd(model)["kwargs"]
    assert kwargs["cf_aig_token"] == {"lc": 1, "type": "secret", "id": ["CF_AIG_TOKEN"]}
    assert kwargs["api_key"] == {"lc": 1, "type": "secret", "id": ["CF_AIG_PROVIDER_API_KEY"]}


def test_ls_params() -> None:
    model = ChatCloudflareAIGateway(model="anthropic/claude-sonnet-4-5", account_id="acct", temperature=0.1)
    params = model._get_ls_params()
    assert params["ls_provider"] == "anthropic"
    assert params["ls_model_name"] == "claude-sonnet-4-5"  # LangSmith's cost table knows the provider's own id
    assert params["ls_temperature"] == 0.1
    override = model._get_ls_params(model="openai/gpt-5")
    assert (override["ls_provider"], override["ls_model_name"]) == ("openai", "gpt-5")
    workers = model._get_ls_params(model="workers-ai/@cf/meta/llama-3.1-8b-instruct")
    assert (workers["ls_provider"], workers["ls_model_name"]) == ("workers-ai", "@cf/meta/llama-3.1-8b-instruct")


def test_per_call_gateway_metadata_keyword(emu: GatewayEmulator, clients: dict[str, Any]) -> None:
    """Per call the gateway's log metadata is ``gateway_metadata=``, also via .bind and stream."""
    model = make(clients)
    model.invoke("hi", cache_ttl=60, gateway_metadata={"user": "u1"})
    assert emu.requests[-1].headers["cf-aig-metadata"] == '{"user":"u1"}'
    assert emu.requests[-1].headers["cf-aig-cache-ttl"] == "60"
    model.bind(gateway_metadata={"team": "ai"}).invoke("hi")
    assert emu.requests[-1].headers["cf-aig-metadata"] == '{"team":"ai"}'
    list(model.stream("hi", gateway_metadata={"n": 1}))
    assert emu.requests[-1].headers["cf-aig-metadata"] == '{"n":1}'
    assert "metadata" not in (emu.requests[-1].json or {})


async def test_per_call_gateway_metadata_keyword_async(emu: GatewayEmulator, clients: dict[str, Any]) -> None:
    model = make(clients)
    await model.ainvoke("hi", gateway_metadata={"user": "u2"})
    assert emu.requests[-1].headers["cf-aig-metadata"] == '{"user":"u2"}'
    async for _ in model.astream("hi", gateway_metadata={"user": "u3"}):
        pass
    assert emu.requests[-1].headers["cf-aig-metadata"] == '{"user":"u3"}'


def test_run_metadata_is_not_sent_to_the_gateway(emu: GatewayEmulator, clients: dict[str, Any]) -> None:
    """LangChain's ``metadata`` (the field and the run config's) is tracing metadata: never cf-aig-metadata.

    Tracing metadata may nest values and hold any number of keys, which gateway metadata may not: it does
    not have to fit the gateway's rules either.
    """
    tracing = {"thread": {"id": 7}, **{f"k{i}": i for i in range(8)}}
    model = make(clients, metadata=tracing)
    model.invoke("hi", config={"metadata": {"user": "u1", "nested": [1, 2]}})
    assert "cf-aig-metadata" not in chat_requests(emu)[-1].headers
    list(model.stream("hi", config={"metadata": {"user": "u1"}}))
    assert "cf-aig-metadata" not in chat_requests(emu)[-1].headers
    both = make(clients, metadata={"user": "tracing"}, gateway_metadata={"user": "gateway"})
    both.invoke("hi", config={"metadata": {"user": "run"}})
    assert json.loads(chat_requests(emu)[-1].headers["cf-aig-metadata"]) == {"user": "gateway"}


def test_derived_state_follows_the_fields(emu: GatewayEmulator, clients: dict[str, Any]) -> None:
    model = make(clients, cache_ttl=120)
    copied = model.model_copy(update={"cache_ttl": 600, "model": "anthropic/claude-sonnet-4-5"})
    copied.invoke("hi")
    request = chat_requests(emu)[-1]
    assert request.headers["cf-aig-cache-ttl"] == "600"
    assert request.json["model"] == "anthropic/claude-sonnet-4-5"
    model.invoke("hi")
    assert chat_requests(emu)[-1].headers["cf-aig-cache-ttl"] == "120"
    unconfigured = ChatCloudflareAIGateway(model=MODEL, account_id="acct")
    assert unconfigured.model_copy(update={"gateway_id": "other"})._identifying_params["gateway_id"] == "other"
    with pytest.raises(errors.ConfigurationError):
        model.model_copy(update={"model": "not-a-model"})


def test_injected_client_configuration_is_the_instances(clients: dict[str, Any]) -> None:
    """The same rule as LlamaIndex's: an injected client's configuration wins over the connection fields."""
    model = make(clients, account_id="field-acct", gateway_id="field-gateway")
    assert model.client is clients["gateway_client"]
    assert model._identifying_params["gateway_id"] == clients["gateway_client"].config.gateway_id
