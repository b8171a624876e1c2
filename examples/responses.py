"""The OpenAI Responses API through the gateway: a reasoning model with a tool, streamed, with both frameworks.

CFAIG_EXAMPLE_REASONING_MODEL chooses the model (an openai/... reasoning model: gpt-5*, o-series).
"""

from __future__ import annotations

import asyncio
import json
import os

from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.tools import tool
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.tools import FunctionTool

from cfaig import GatewayClient
from cfaig.responses_types import OutputTextDeltaEvent, ReasoningSummaryTextDeltaEvent
from langchain_cfaig import ChatCloudflareAIGateway
from llamaindex_cfaig import CloudflareAIGatewayResponses

MODEL = os.environ.get("CFAIG_EXAMPLE_REASONING_MODEL", "openai/gpt-5-mini")
REASONING = {"effort": "low", "summary": "auto"}  # a summary of the reasoning is returned only when asked for
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"sunny and 24C in {city}"


# The core client: a streamed call that reasons, calls the tool, then answers from the tool's result.
with GatewayClient() as client:
    question = [{"role": "user", "content": 'What is the weather in "Lisbon"?'}]
    request = {"model": MODEL, "input": question, "tools": [WEATHER], "reasoning": REASONING}
    with client.stream_responses(request) as stream:
        summary = "".join(e.delta for e in stream if isinstance(e, ReasoningSummaryTextDeltaEvent))
        first = stream.get_final_response()
    print(f"core reasoning summary: {summary}")
    [call] = first.function_calls
    print(f"core tool call: {call.name}({call.arguments})")
    result = get_weather(**json.loads(call.arguments))
    follow_up = [*question, *(item.model_dump(exclude_none=True) for item in first.output)]
    follow_up.append({"type": "function_call_output", "call_id": call.call_id, "output": result})
    with client.stream_responses({**request, "input": follow_up}) as stream:
        text = "".join(e.delta for e in stream if isinstance(e, OutputTextDeltaEvent))
        usage = stream.get_final_response().usage
    print(f"core answer: {text}")
    if usage is not None and usage.output_tokens_details is not None:
        print(
            f"core usage: {usage.input_tokens} in, {usage.output_tokens} out "
            f"({usage.output_tokens_details.reasoning_tokens} reasoning)"
        )


# LangChain: ChatCloudflareAIGateway(use_responses_api=True); summaries are reasoning blocks in the content
@tool("get_weather")
def weather_tool(city: str) -> str:
    """Current weather for a city."""
    return get_weather(city)


model = ChatCloudflareAIGateway(model=MODEL, use_responses_api=True, reasoning=REASONING).bind_tools([weather_tool])
asked = HumanMessage('What is the weather in "Lisbon"?')
called = model.invoke([asked])
print(f"langchain reasoning: {called.additional_kwargs.get('reasoning_content')}")
tool_call = called.tool_calls[0]
observation = ToolMessage(weather_tool.invoke(tool_call["args"]), tool_call_id=tool_call["id"])
answer = model.invoke([asked, called, observation])
print(f"langchain answer: {answer.text}")

# LlamaIndex: CloudflareAIGatewayResponses in a FunctionAgent; reasoning items are ThinkingBlocks


async def agent_run() -> str:
    llm = CloudflareAIGatewayResponses(model=MODEL, reasoning=REASONING)
    agent = FunctionAgent(tools=[FunctionTool.from_defaults(get_weather)], llm=llm, system_prompt="Use the tools.")
    output = await agent.run('What is the weather in "Lisbon"?')
    return str(output.response.content)


print(f"llamaindex answer: {asyncio.run(agent_run())}")
