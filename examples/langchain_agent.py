"""An agent that calls a real tool and answers from its result (langchain.agents.create_agent)."""

from __future__ import annotations

from _settings import MODEL
from langchain.agents import create_agent
from langchain_core.tools import tool

from langchain_cfaig import ChatCloudflareAIGateway


@tool
def get_order_status(order_id: int) -> str:
    """Look up the shipping status of an order by its number."""
    return {1042: "shipped on Monday, arriving Thursday"}.get(order_id, "unknown order")


agent = create_agent(ChatCloudflareAIGateway(model=MODEL), tools=[get_order_status])
state = agent.invoke({"messages": [("user", "Where is my order 1042?")]})
for message in state["messages"]:
    for call in getattr(message, "tool_calls", None) or ():
        print(f"tool call: {call['name']}({call['args']})")
print("answer:", state["messages"][-1].content)
