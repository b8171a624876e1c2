"""A LlamaIndex FunctionAgent that calls a FunctionTool and answers from its result."""

from __future__ import annotations

import asyncio

from _settings import MODEL
from llama_index.core.agent.workflow import FunctionAgent, ToolCallResult
from llama_index.core.tools import FunctionTool

from llamaindex_cfaig import CloudflareAIGatewayLLM


def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


async def main() -> None:
    agent = FunctionAgent(tools=[FunctionTool.from_defaults(fn=multiply)], llm=CloudflareAIGatewayLLM(model=MODEL))
    handler = agent.run(user_msg="What is 6 times 7? Use multiply(6, 7).")
    async for event in handler.stream_events():
        if isinstance(event, ToolCallResult):
            print(f"tool call: {event.tool_name}({event.tool_kwargs}) -> {event.tool_output}")
    print("answer:", await handler)


asyncio.run(main())
