"""Structured output into a pydantic class, with LangChain and with LlamaIndex."""

from __future__ import annotations

from _settings import MODEL
from llama_index.core.prompts import PromptTemplate
from pydantic import BaseModel, Field

from langchain_cfaig import ChatCloudflareAIGateway
from llamaindex_cfaig import CloudflareAIGatewayLLM


class Ticket(BaseModel):
    """A support ticket extracted from a customer message."""

    product: str = Field(description="the product the customer writes about")
    severity: int = Field(description="1 (low) to 5 (critical)")
    summary: str = Field(description="one-line summary")


message = "Our checkout page returns 500 errors for every customer since 9am!"
# LangChain: the method defaults to what the provider supports (json_schema for OpenAI, tool calling for others)
ticket = ChatCloudflareAIGateway(model=MODEL).with_structured_output(Ticket).invoke(message)
print("langchain:", repr(ticket))
# LlamaIndex
ticket = CloudflareAIGatewayLLM(model=MODEL).structured_predict(
    Ticket, PromptTemplate("Extract a ticket: {text}"), text=message
)
print("llamaindex:", repr(ticket))
