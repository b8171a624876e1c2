"""LlamaIndex end to end, written the way a user writes it, against the gateway emulator served on loopback.

The classes are configured like production ones (account id, base URL, token): no client is injected, so
the process-wide core clients and real sockets are used.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.agent.workflow import AgentStream, FunctionAgent, ReActAgent, ToolCallResult
from llama_index.core.llms import ChatMessage
from llama_index.core.prompts import PromptTemplate
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel

from cfaig.testing import EMULATOR_ACCOUNT_ID, EmulatorServer, Fault, GatewayEmulator, GatewaySettings, ScriptedReply
from llamaindex_cfaig import CloudflareAIGatewayEmbedding, CloudflareAIGatewayLLM

TOKEN = "test-cf-aig-token"

DOCS = [
    Document(text="The Eiffel Tower in Paris is 330 metres tall.", doc_id="eiffel"),
    Document(text="Bananas are rich in potassium and grow in tropical climates.", doc_id="bananas"),
    Document(text="Python is a programming language created by Guido van Rossum.", doc_id="python"),
    Document(text="The Great Barrier Reef lies off the coast of Queensland, Australia.", doc_id="reef"),
]


def multiply(a: int, b: int) -> int:
    """Multiply two integers and return the product."""
    return a * b


class Invoice(BaseModel):
    """An invoice."""

    customer: str
    total: int


# An authenticated gateway, served on a loopback port of its own for each test (cfaig_serve).
pytestmark = pytest.mark.cfaig_emulator(gateways={"default": GatewaySettings(authentication=True)})


@pytest.fixture
def base_url(cfaig_serve: Callable[[], EmulatorServer]) -> str:
    return cfaig_serve().base_url


@pytest.fixture
async def llm(base_url: str) -> AsyncIterator[CloudflareAIGatewayLLM]:
    llm = CloudflareAIGatewayLLM(
        model="openai/gpt-5-mini", account_id=EMULATOR_ACCOUNT_ID, base_url=base_url, cf_aig_token=TOKEN
    )
    yield llm
    llm.client.close()
    await llm.async_client.aclose()


@pytest.fixture
async def embed_model(base_url: str) -> AsyncIterator[CloudflareAIGatewayEmbedding]:
    embed = CloudflareAIGatewayEmbedding(account_id=EMULATOR_ACCOUNT_ID, base_url=base_url, cf_aig_token=TOKEN)
    yield embed
    embed.client.close()
    await embed.async_client.aclose()


def test_rag_query_engine_cites_the_right_source(
    llm: CloudflareAIGatewayLLM, embed_model: CloudflareAIGatewayEmbedding
) -> None:
    index = VectorStoreIndex.from_documents(DOCS, embed_model=embed_model)
    query_engine = index.as_query_engine(llm=llm, similarity_top_k=2)
    response = query_engine.query("How tall is the Eiffel Tower in Paris?")
    assert response.source_nodes[0].node.ref_doc_id == "eiffel"
    assert "330 metres" in str(response)  # the emulator echoes the prompt, which carries the context


async def test_async_rag_query(llm: CloudflareAIGatewayLLM, embed_model: CloudflareAIGatewayEmbedding) -> None:
    index = VectorStoreIndex(nodes=[], embed_model=embed_model)
    for doc in DOCS:
        await index.ainsert(doc)  # async embeddings on this event loop
    response = await index.as_query_engine(llm=llm).aquery("Where is the Great Barrier Reef?")
    assert response.source_nodes[0].node.ref_doc_id == "reef"
    assert "Queensland" in str(response)


async def test_function_agent_calls_the_tool(llm: CloudflareAIGatewayLLM) -> None:
    agent = FunctionAgent(
        tools=[FunctionTool.from_defaults(fn=multiply)],
        llm=llm,
        system_prompt="You are a calculator. Use the tools.",
    )
    handler = agent.run(user_msg="What is 6 multiplied by 7?")
    tool_results: list[ToolCallResult] = []
    deltas: list[str] = []
    async for event in handler.stream_events():
        if isinstance(event, ToolCallResult):
            tool_results.append(event)
        elif isinstance(event, AgentStream):
            deltas.append(event.delta)
    output: Any = await handler
    assert [r.tool_name for r in tool_results] == ["multiply"]
    assert tool_results[0].tool_kwargs == {"a": 6, "b": 7}
    assert tool_results[0].tool_output.content == "42"
    assert "42" in str(output.response.content)
    assert "".join(deltas).strip()


async def test_react_agent(llm: CloudflareAIGatewayLLM, emu: GatewayEmulator) -> None:
    # ReAct speaks a text protocol (Thought / Action / Action Input, then Answer) that the emulator's
    # built-in models do not produce, so the two model turns are scripted.
    emu.script(
        ScriptedReply(
            content="Thought: I need to use a tool to help me answer the question.\n"
            'Action: multiply\nAction Input: {"a": 6, "b": 7}'
        )
    )
    emu.script(ScriptedReply(content="Thought: I can answer without using any more tools.\nAnswer: 42"))
    agent = ReActAgent(tools=[FunctionTool.from_defaults(fn=multiply)], llm=llm)
    handler = agent.run(user_msg="What is 6 multiplied by 7?")
    results = [event async for event in handler.stream_events() if isinstance(event, ToolCallResult)]
    output: Any = await handler
    assert results[0].tool_output.content == "42"
    assert "42" in str(output.response.content)
    second_prompt = emu.requests[-1].json["messages"]
    assert any("Observation: 42" in str(message.get("content")) for message in second_prompt)


def test_structured_predict(llm: CloudflareAIGatewayLLM) -> None:
    invoice = llm.structured_predict(
        Invoice, PromptTemplate("Extract the invoice: {text}"), text="ACME Corp owes 1200 dollars."
    )
    assert isinstance(invoice, Invoice)
    assert invoice.total == 1200


def test_fallback_served_by_the_second_model(base_url: str, emu: GatewayEmulator) -> None:
    emu.inject(Fault(status=500, step=0))
    llm = CloudflareAIGatewayLLM(
        model="openai/gpt-5-mini",
        fallbacks=["anthropic/claude-sonnet-4-5"],
        account_id=EMULATOR_ACCOUNT_ID,
        base_url=base_url,
        cf_aig_token=TOKEN,
    )
    try:
        response = llm.chat([ChatMessage(role="user", content="hello")])
    finally:
        llm.client.close()
    assert response.additional_kwargs["cf_aig_step"] == 1
    assert response.additional_kwargs["model_name"] == "anthropic/claude-sonnet-4-5"
