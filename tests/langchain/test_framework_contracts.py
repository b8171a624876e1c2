"""ChatCloudflareAIGateway against ChatOpenAI's contracts: constructor keywords, timeouts, input errors, copies."""

from __future__ import annotations

import warnings
from typing import Any, cast

import httpx
import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.exceptions import OutputParserException
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, LLMResult
from pydantic import BaseModel

from cfaig import errors
from cfaig.testing import EmulatorServer, GatewayEmulator, GatewaySettings, ScriptedReply
from cfaig.testing.pytest_plugin import Driver
from langchain_cfaig import ChatCloudflareAIGateway, CloudflareAIGatewayEmbeddings

MODEL = "openai/gpt-5-mini"


def chat_bodies(emu: GatewayEmulator) -> list[dict[str, Any]]:
    return [r.json for r in emu.requests if isinstance(r.json, dict) and "messages" in r.json]


BOTH_APIS = pytest.mark.parametrize("api", [{}, {"use_responses_api": True}], ids=["chat", "responses"])
"""The contracts ChatOpenAI keeps on Chat Completions and on the Responses API alike."""


# --- unknown constructor keywords: ChatOpenAI's build_extra ------------------------------------------


def test_an_unknown_keyword_warns_and_is_sent_as_a_provider_extra(
    cfaig_driver: Driver, clients: dict[str, Any]
) -> None:
    with pytest.warns(UserWarning, match=r"top_k is not a ChatCloudflareAIGateway parameter.*model_kwargs"):
        model = ChatCloudflareAIGateway(model=MODEL, top_k=40, **clients)
    assert model.model_kwargs == {"top_k": 40}
    cfaig_driver.on(model, "invoke", "hi")
    assert chat_bodies(cfaig_driver.emulator)[-1]["top_k"] == 40


def test_a_typo_is_named_with_the_field_it_probably_meant() -> None:
    with pytest.warns(UserWarning, match="Did you mean 'temperature'") as caught:
        ChatCloudflareAIGateway(model=MODEL, account_id="acct", temprature=0.1)
    assert caught[0].filename == __file__  # the warning points at the caller's line


def test_extras_given_on_purpose_do_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = ChatCloudflareAIGateway(model=MODEL, account_id="acct", model_kwargs={"top_k": 40})
    assert model.model_kwargs == {"top_k": 40}


def test_a_keyword_given_twice_is_refused() -> None:
    with pytest.raises(errors.ConfigurationError, match="top_k is given twice"):
        ChatCloudflareAIGateway(model=MODEL, account_id="acct", top_k=1, model_kwargs={"top_k": 2})


def test_a_credential_shaped_keyword_is_refused_not_sent_in_the_body(emu: GatewayEmulator) -> None:
    """A ChatOpenAI user's ``openai_api_key=`` must not travel as a body field to the provider's logs."""
    with pytest.raises(errors.ConfigurationError, match="api_key=") as info:
        ChatCloudflareAIGateway(model=MODEL, account_id="acct", openai_api_key="sk-must-not-travel")
    assert "sk-must-not-travel" not in str(info.value)
    assert emu.requests == []


def test_the_embeddings_take_unknown_keywords_the_same_way(cfaig_driver: Driver, clients: dict[str, Any]) -> None:
    with pytest.warns(UserWarning, match="model_kwargs"):
        embeddings = CloudflareAIGatewayEmbeddings(model="openai/text-embedding-3-small", user="u-1", **clients)  # type: ignore[call-arg]
    cfaig_driver.on(embeddings, "embed_query", "hi")
    assert cfaig_driver.emulator.requests[-1].json["user"] == "u-1"


# --- timeouts: request_timeout, httpx.Timeout, None ---------------------------------------------------


@pytest.mark.parametrize(
    ("given", "seconds"),
    [
        ({"request_timeout": 5}, 5.0),
        ({"timeout": httpx.Timeout(10.0)}, 10.0),
        ({"timeout": httpx.Timeout(20.0, connect=3.0)}, 20.0),  # the largest phase: none ends sooner
        ({"timeout": httpx.Timeout(None, read=7.5)}, 7.5),
        ({"timeout": (3.0, 30.0)}, 30.0),  # ChatOpenAI's (connect, read) tuple
        ({"timeout": None}, 60.0),  # the default, as None is ChatOpenAI's "the library default"
    ],
)
def test_timeouts_the_way_chatopenai_takes_them(given: dict[str, Any], seconds: float) -> None:
    for cls in (ChatCloudflareAIGateway, CloudflareAIGatewayEmbeddings):
        instance = cls(
            model=MODEL if cls is ChatCloudflareAIGateway else "openai/text-embedding-3-small",
            account_id="acct",
            **given,
        )
        assert instance.timeout == seconds
        assert instance.client.config.timeout == seconds


def test_a_timeout_without_a_limit_or_given_twice_is_refused() -> None:
    with pytest.raises(errors.ConfigurationError, match="no finite limit"):
        ChatCloudflareAIGateway(model=MODEL, account_id="acct", timeout=httpx.Timeout(None))
    with pytest.raises(errors.ConfigurationError, match="not both"):
        ChatCloudflareAIGateway(model=MODEL, account_id="acct", timeout=5, request_timeout=6)


# --- bad input: ConfigurationError naming the field, before any request ------------------------------


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"cache_ttl": 1.5}, "cache_ttl"),
        ({"model": None}, "model"),
        ({"timeout": "soon"}, "timeout"),
        ({"max_retries": "many"}, "max_retries"),
        ({"fallbacks": "openai/gpt-5"}, "fallbacks"),
    ],
)
def test_a_wrong_type_is_a_configuration_error_naming_the_field(
    emu: GatewayEmulator, bad: dict[str, Any], field: str
) -> None:
    with pytest.raises(errors.ConfigurationError, match=rf"\b{field}\b") as info:
        ChatCloudflareAIGateway(**{"model": MODEL, "account_id": "acct", **bad})
    assert isinstance(info.value, ValueError)
    assert "pydantic" not in str(info.value)
    assert emu.requests == []


def test_assigning_no_model_is_refused() -> None:
    model = ChatCloudflareAIGateway(model=MODEL, account_id="acct")
    with pytest.raises(errors.ConfigurationError, match="model is required"):
        model.model = None  # type: ignore[assignment]
    assert model.model == MODEL


@pytest.mark.parametrize(
    "tool",
    [{"function": {}}, {"type": "function", "function": {}}, {"type": "function", "function": {"name": ""}}, 42],
)
def test_a_tool_that_is_not_one_is_a_configuration_error(
    emu: GatewayEmulator, clients: dict[str, Any], tool: Any
) -> None:
    model = ChatCloudflareAIGateway(model=MODEL, **clients)
    with pytest.raises(errors.ConfigurationError, match=r"tools\[1\]"):
        model.bind_tools([{"type": "function", "function": {"name": "ok", "parameters": {}}}, tool])
    assert emu.requests == []


# --- derived state follows the fields, on the wire ---------------------------------------------------


def _send(instance: ChatCloudflareAIGateway | CloudflareAIGatewayEmbeddings) -> None:
    if isinstance(instance, ChatCloudflareAIGateway):
        instance.invoke("hi")
    else:
        instance.embed_query("hi")


def test_model_copy_sends_to_the_new_gateway_with_the_new_options(cfaig_gateway: EmulatorServer) -> None:
    """The research's case: ``model_copy(update={"cache_ttl": 600, "gateway_id": "other"})`` on a model
    that builds its own (shared) client, not an injected one."""
    cfaig_gateway.emulator.gateways["other"] = GatewaySettings()
    where = {"account_id": cfaig_gateway.emulator.account_id, "base_url": cfaig_gateway.base_url}
    for original in (
        ChatCloudflareAIGateway(model=MODEL, **where),
        CloudflareAIGatewayEmbeddings(model="openai/text-embedding-3-small", **where),
    ):
        _send(original.model_copy(update={"cache_ttl": 600, "gateway_id": "other"}))
        sent = cfaig_gateway.emulator.requests[-1]
        assert (sent.gateway_id, sent.headers["cf-aig-cache-ttl"]) == ("other", "600")
        _send(original)
        sent = cfaig_gateway.emulator.requests[-1]
        assert sent.gateway_id == "default"
        assert "cf-aig-cache-ttl" not in sent.headers


# --- list content is sent as given -------------------------------------------------------------------


def test_list_content_reaches_the_wire_as_parts_with_their_keys(cfaig_driver: Driver, clients: dict[str, Any]) -> None:
    """Anthropic prompt caching marks a block with ``cache_control``; system messages can carry it too."""
    cached = {"type": "text", "text": "long context", "cache_control": {"type": "ephemeral"}}
    messages = [
        SystemMessage(content=[{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}]),
        HumanMessage(content=[cached, {"type": "text", "text": "question?", "id": "lc_1", "index": 0}]),
        AIMessage(content=[{"type": "text", "text": "an "}, {"type": "text", "text": "answer"}]),
        HumanMessage(content="and?"),
    ]
    model = ChatCloudflareAIGateway(model="anthropic/claude-sonnet-4-5", **clients)
    cfaig_driver.on(model, "invoke", messages)
    system, user, assistant, last = chat_bodies(cfaig_driver.emulator)[-1]["messages"]
    assert system["content"] == [{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}]
    assert user["content"] == [cached, {"type": "text", "text": "question?"}]  # LangChain's id/index stay home
    assert assistant["content"] == "an answer"  # the model's own blocks, joined as it wrote them
    assert last["content"] == "and?"


# --- llm_output: token_usage in OpenAI's shape, model_name -------------------------------------------


class _LLMEnd(BaseCallbackHandler):
    def __init__(self) -> None:
        self.outputs: list[dict[str, Any] | None] = []

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        self.outputs.append(response.llm_output)


@BOTH_APIS
def test_generate_reports_token_usage_the_way_chatopenai_does(
    cfaig_driver: Driver, clients: dict[str, Any], api: dict[str, Any]
) -> None:
    model = ChatCloudflareAIGateway(model=MODEL, **api, **clients)
    handler = _LLMEnd()
    prompts: list[list[BaseMessage]] = [[HumanMessage("hi")], [HumanMessage("hello there, how are you?")]]
    result = cfaig_driver.run(
        lambda: model.generate(prompts, callbacks=[handler]), lambda: model.agenerate(prompts, callbacks=[handler])
    )
    each: list[Any] = [
        cast(AIMessage, cast(ChatGeneration, generation[0]).message).usage_metadata for generation in result.generations
    ]
    assert result.llm_output is not None
    usage = result.llm_output["token_usage"]
    assert usage["prompt_tokens"] == sum(u["input_tokens"] for u in each)
    assert usage["completion_tokens"] == sum(u["output_tokens"] for u in each)
    assert usage["total_tokens"] == sum(u["total_tokens"] for u in each)
    assert result.llm_output["model_name"] == MODEL
    seen = [output["token_usage"] for output in handler.outputs if output]
    assert seen
    assert all({"prompt_tokens", "completion_tokens", "total_tokens"} <= set(one) for one in seen)


# --- response_format: a class, as ChatOpenAI takes it --------------------------------------------------


class Person(BaseModel):
    """A person."""

    name: str
    age: int


@BOTH_APIS
def test_response_format_takes_a_pydantic_class_and_parses_into_parsed(
    cfaig_driver: Driver, clients: dict[str, Any], api: dict[str, Any]
) -> None:
    model = ChatCloudflareAIGateway(model=MODEL, **api, **clients)
    answer = cfaig_driver.on(model, "invoke", "Ana is 31", response_format=Person)
    if api:
        sent = cfaig_driver.emulator.requests[-1].json["text"]["format"]
        assert cfaig_driver.emulator.requests[-1].path.endswith("/openai/responses")
    else:
        sent = chat_bodies(cfaig_driver.emulator)[-1]["response_format"]["json_schema"]
    assert sent["name"] == "Person"
    assert set(sent["schema"]["properties"]) == {"name", "age"}
    assert isinstance(answer.additional_kwargs["parsed"], Person)
    assert answer.additional_kwargs["parsed"] == Person.model_validate_json(answer.text)


@BOTH_APIS
def test_a_streamed_answer_is_parsed_on_its_last_chunk(
    cfaig_driver: Driver, clients: dict[str, Any], api: dict[str, Any]
) -> None:
    model = ChatCloudflareAIGateway(model=MODEL, **api, **clients)
    chunks = cfaig_driver.collect(model, "stream", "Ana is 31", response_format=Person)
    assert [i for i, chunk in enumerate(chunks) if "parsed" in chunk.additional_kwargs] == [len(chunks) - 1]
    whole = chunks[0]
    for chunk in chunks[1:]:
        whole += chunk
    assert whole.additional_kwargs["parsed"] == Person.model_validate_json(whole.text)


def test_an_answer_that_does_not_fit_the_class_is_an_output_parser_exception(
    emu: GatewayEmulator, clients: dict[str, Any]
) -> None:
    emu.script(ScriptedReply(content="not json at all"))
    with pytest.raises(OutputParserException, match="does not match Person") as info:
        ChatCloudflareAIGateway(model=MODEL, **clients).invoke("hi", response_format=Person)
    assert info.value.llm_output == "not json at all"


def test_a_bare_schema_is_wrapped_and_an_openai_response_format_is_sent_as_is(
    emu: GatewayEmulator, clients: dict[str, Any]
) -> None:
    model = ChatCloudflareAIGateway(model=MODEL, **clients)
    schema = {"title": "Person", "type": "object", "properties": {"name": {"type": "string"}}}
    answer = model.invoke("hi", response_format=schema)
    assert chat_bodies(emu)[-1]["response_format"]["json_schema"]["name"] == "Person"
    assert "parsed" not in answer.additional_kwargs  # only a class is parsed, as with ChatOpenAI
    model.invoke("hi", response_format={"type": "json_object"})
    assert chat_bodies(emu)[-1]["response_format"] == {"type": "json_object"}
