"""The rules LlamaIndex's classes now share with LangChain's (cfaig.integration), seen through LlamaIndex."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage, ToolCallBlock
from llama_index.core.tools import FunctionTool

from cfaig import AsyncGatewayClient, GatewayClient, errors
from cfaig.testing import EMULATOR_ACCOUNT_ID, GatewayEmulator
from llamaindex_cfaig import CloudflareAIGatewayEmbedding, CloudflareAIGatewayLLM

MakeLLM = Callable[..., CloudflareAIGatewayLLM]
MakeEmbedding = Callable[..., CloudflareAIGatewayEmbedding]
HI = [ChatMessage(role="user", content="hello there")]


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


ADD = FunctionTool.from_defaults(fn=add)


def chat_bodies(emu: GatewayEmulator) -> list[dict[str, Any]]:
    return [r.json for r in emu.requests if isinstance(r.json, dict) and "messages" in r.json]


def test_event_id_is_in_the_answer_and_no_key_is_none(make_llm: MakeLLM) -> None:
    response = make_llm(event_id="trace-42").chat(HI)
    kwargs = response.additional_kwargs
    assert kwargs["cf_aig_event_id"] == "trace-42"
    assert kwargs["cf_aig_log_id"]
    assert all(value is not None for key, value in kwargs.items() if key.startswith("cf_aig_"))


def test_streamed_answers_carry_the_event_id(make_llm: MakeLLM) -> None:
    responses = list(make_llm().stream_chat(HI, event_id="trace-43"))
    assert {r.additional_kwargs["cf_aig_event_id"] for r in responses} == {"trace-43"}


def test_any_tool_choice_means_required(llm: CloudflareAIGatewayLLM, emu: GatewayEmulator) -> None:
    llm.chat_with_tools([ADD], user_msg="add 2 and 3", tool_choice="any")
    assert chat_bodies(emu)[-1]["tool_choice"] == "required"


def test_tool_arguments_keep_non_ascii_on_the_wire(llm: CloudflareAIGatewayLLM, emu: GatewayEmulator) -> None:
    history = [
        ChatMessage(role="user", content="greet"),
        ChatMessage(
            role="assistant",
            blocks=[ToolCallBlock(tool_call_id="c1", tool_name="greet", tool_kwargs={"name": "你好啊集团"})],
        ),
        ChatMessage(role="tool", content="done", additional_kwargs={"tool_call_id": "c1"}),
    ]
    llm.chat(history)
    sent = chat_bodies(emu)[-1]["messages"][1]["tool_calls"][0]["function"]["arguments"]
    assert sent == '{"name": "你好啊集团"}'


def test_llm_derived_state_follows_the_fields(make_llm: MakeLLM, emu: GatewayEmulator) -> None:
    llm = make_llm(cache_ttl=120)
    llm.model_copy(update={"cache_ttl": 600}).chat(HI)
    assert emu.requests[-1].headers["cf-aig-cache-ttl"] == "600"
    llm.chat(HI)
    assert emu.requests[-1].headers["cf-aig-cache-ttl"] == "120"
    llm.skip_cache = True
    llm.chat(HI)
    assert emu.requests[-1].headers["cf-aig-skip-cache"] == "true"
    plain = CloudflareAIGatewayLLM(account_id="acct")
    assert plain.model_copy(update={"gateway_id": "other"}).to_payload()["gateway_id"] == "other"
    with pytest.raises(errors.ConfigurationError):
        plain.model_copy(update={"fallbacks": ["not a model"]})


def test_embedding_derived_state_follows_the_fields(make_embedding: MakeEmbedding, emu: GatewayEmulator) -> None:
    embed = make_embedding(cache_ttl=120)
    embed.model_copy(update={"cache_ttl": 600}).get_text_embedding("hi")
    assert emu.requests[-1].headers["cf-aig-cache-ttl"] == "600"
    with pytest.raises(errors.ConfigurationError, match="dimensions"):
        embed.model_copy(update={"dimensions": 64})


def test_injected_clients_are_fields_excluded_from_dumps(emu: GatewayEmulator) -> None:
    with GatewayClient(account_id=EMULATOR_ACCOUNT_ID, base_url=emu.base_url, transport=emu.transport()) as client:
        llm = CloudflareAIGatewayLLM(gateway_client=client, account_id="ignored-acct", gateway_id="ignored")
        assert llm.client is client
        assert llm.to_payload()["gateway_id"] == client.config.gateway_id  # the client's configuration
        assert "gateway_client" not in llm.to_dict()
        assert "GatewayClient" not in repr(llm)


def test_max_concurrency_is_basembeddings_num_workers() -> None:
    assert CloudflareAIGatewayEmbedding(account_id="a", max_concurrency=3).num_workers == 3
    assert CloudflareAIGatewayEmbedding(account_id="a").num_workers == 4
    assert CloudflareAIGatewayEmbedding(account_id="a", max_concurrency=3, num_workers=8).num_workers == 8


@pytest.mark.parametrize("max_concurrency", [1, 2])
async def test_batch_gather_is_bounded(
    emu: GatewayEmulator,
    async_gateway_client: AsyncGatewayClient,
    monkeypatch: pytest.MonkeyPatch,
    max_concurrency: int,
) -> None:
    """BaseEmbedding gathers its batches at once; max_concurrency bounds them, one worker included."""
    in_flight: list[int] = [0, 0]  # now, peak
    send = async_gateway_client.embed

    async def slow_embed(request: Any, **kwargs: Any) -> Any:
        in_flight[0] += 1
        in_flight[1] = max(in_flight)
        await asyncio.sleep(0.01)
        answer = await send(request, **kwargs)
        in_flight[0] -= 1
        return answer

    monkeypatch.setattr(async_gateway_client, "embed", slow_embed)
    embed = CloudflareAIGatewayEmbedding(
        async_gateway_client=async_gateway_client, embed_batch_size=2, max_concurrency=max_concurrency
    )
    vectors = await embed.aget_text_embedding_batch([f"text {i}" for i in range(7)])
    assert in_flight[1] == max_concurrency
    assert len(vectors) == 7
    assert sorted(len(r.json["input"]) for r in emu.requests if r.path.endswith("/embeddings")) == [1, 2, 2, 2]
