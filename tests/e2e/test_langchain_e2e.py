"""LangChain, end to end, as a user writes it: real sockets to the gateway emulator on loopback."""

from __future__ import annotations

from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.tools import tool
from langchain_core.vectorstores import InMemoryVectorStore
from pydantic import BaseModel, Field

from cfaig.testing import EMULATOR_ACCOUNT_ID, EMULATOR_TOKEN, EmulatorServer, Fault
from langchain_cfaig import ChatCloudflareAIGateway, CloudflareAIGatewayEmbeddings


@pytest.fixture
def settings(cfaig_gateway: EmulatorServer) -> dict[str, Any]:
    return {"account_id": EMULATOR_ACCOUNT_ID, "cf_aig_token": EMULATOR_TOKEN, "base_url": cfaig_gateway.base_url}


def test_lcel_chain(settings: dict[str, Any]) -> None:
    prompt = ChatPromptTemplate.from_messages([("system", "You translate to French."), ("human", "Translate: {text}")])
    chain = prompt | ChatCloudflareAIGateway(model="openai/gpt-5-mini", **settings) | StrOutputParser()
    answer = chain.invoke({"text": "good morning"})
    assert isinstance(answer, str)
    assert "good morning" in answer


async def test_lcel_chain_streams_async(settings: dict[str, Any]) -> None:
    prompt = ChatPromptTemplate.from_messages([("human", "Say {word}")])
    chain = prompt | ChatCloudflareAIGateway(model="anthropic/claude-sonnet-4-5", **settings) | StrOutputParser()
    pieces = [piece async for piece in chain.astream({"word": "bonjour"})]
    assert len(pieces) > 1
    assert "bonjour" in "".join(pieces)


@tool
def get_order_status(order_id: str) -> str:
    """Look up the shipping status of an order."""
    return f"Order {order_id} shipped on 2025-05-02 via DHL, tracking DHL-77812."


def test_agent_answers_from_tool_result(settings: dict[str, Any]) -> None:
    model = ChatCloudflareAIGateway(model="openai/gpt-5-mini", **settings)
    agent = create_agent(model, tools=[get_order_status], system_prompt="You are a support agent.")
    result = agent.invoke({"messages": [("user", "What is the status of order A-1042? Use the tool.")]})
    messages = result["messages"]
    assert any(getattr(m, "tool_calls", None) for m in messages)
    assert any(m.type == "tool" and "DHL-77812" in m.text for m in messages)
    assert messages[-1].type == "ai"
    assert "DHL-77812" in messages[-1].text


class Invoice(BaseModel):
    """Fields extracted from an invoice."""

    vendor: str = Field(description="who issued the invoice")
    total: float = Field(description="amount due")
    paid: bool = Field(description="whether it is paid")


@pytest.mark.parametrize("model_name", ["openai/gpt-5-mini", "anthropic/claude-sonnet-4-5"])
def test_structured_output(settings: dict[str, Any], model_name: str) -> None:
    model = ChatCloudflareAIGateway(model=model_name, **settings)
    invoice = model.with_structured_output(Invoice).invoke("ACME billed 120.50, not paid yet.")
    assert isinstance(invoice, Invoice)


def test_retrieval_ranks_the_right_document_first(settings: dict[str, Any]) -> None:
    embeddings = CloudflareAIGatewayEmbeddings(**settings)
    store = InMemoryVectorStore(embeddings)
    store.add_documents(
        [
            Document("The Eiffel Tower is a wrought-iron lattice tower in Paris, France.", id="paris"),
            Document("Photosynthesis converts light energy into chemical energy in plants.", id="plants"),
            Document("The stock market fell sharply after the interest rate decision.", id="markets"),
        ]
    )
    hits = store.similarity_search("How do plants turn light into chemical energy?", k=3)
    assert hits[0].id == "plants"
    retriever = store.as_retriever(search_kwargs={"k": 1})
    assert retriever.invoke("wrought-iron tower in Paris")[0].id == "paris"


def test_fallback_served_by_second_model(settings: dict[str, Any], cfaig_gateway: EmulatorServer) -> None:
    cfaig_gateway.emulator.inject(Fault(status=503))  # the primary fails; no retries: the fallback is tried
    model = ChatCloudflareAIGateway(
        model="openai/gpt-5-mini", fallbacks=["anthropic/claude-sonnet-4-5"], max_retries=0, **settings
    )
    answer = model.invoke("Are you there?")
    assert answer.response_metadata["cf_aig_step"] == 1
    assert answer.response_metadata["model_name"] == "anthropic/claude-sonnet-4-5"
    assert "Are you there?" in answer.text
    assert [r.json["model"] for r in cfaig_gateway.emulator.requests[-2:]] == [
        "openai/gpt-5-mini",
        "anthropic/claude-sonnet-4-5",
    ]
