"""Long-lived callers for the wire tests that need state across calls (fork, redirects): one object per
layer, asked several prompts, returning the answer's text.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from cfaig import AsyncGatewayClient, GatewayClient
from cfaig.testing import EMULATOR_ACCOUNT_ID
from tests.faults._harness import MODEL, Layer

Ask = Callable[[str], str]
OPENED: list[GatewayClient] = []
"""Core sync clients the askers made; closed by :func:`close_opened` (a test fixture calls it)."""


def close_opened() -> None:
    while OPENED:
        OPENED.pop().close()


AsyncAsk = Callable[[str], Coroutine[Any, Any, str]]


def fields(base_url: str, **extra: Any) -> dict[str, Any]:
    return {"account_id": EMULATOR_ACCOUNT_ID, "base_url": base_url, "max_retries": 0, "timeout": 5.0, **extra}


def request(prompt: str) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": prompt}]}


def sync_asker(layer: Layer, base_url: str, **extra: Any) -> Ask:
    """``ask(prompt) -> text`` through ``layer``'s sync path (the framework classes use the shared client)."""
    if layer == "core":
        client = GatewayClient(**fields(base_url, **extra))
        OPENED.append(client)
        return lambda prompt: client.chat(request(prompt)).text  # type: ignore[arg-type]
    if layer == "langchain":
        from langchain_cfaig import ChatCloudflareAIGateway

        chat = ChatCloudflareAIGateway(model=MODEL, **fields(base_url, **extra))
        return lambda prompt: str(chat.invoke(prompt).content)
    from llama_index.core.llms import ChatMessage

    from llamaindex_cfaig import CloudflareAIGatewayLLM

    llm = CloudflareAIGatewayLLM(model=MODEL, **fields(base_url, **extra))
    return lambda prompt: str(llm.chat([ChatMessage(role="user", content=prompt)]).message.content)


def async_asker(layer: Layer, base_url: str, **extra: Any) -> AsyncAsk:
    """The async twin of :func:`sync_asker`."""
    if layer == "core":
        client = AsyncGatewayClient(**fields(base_url, **extra))

        async def core(prompt: str) -> str:
            return (await client.chat(request(prompt))).text  # type: ignore[arg-type]

        return core
    if layer == "langchain":
        from langchain_cfaig import ChatCloudflareAIGateway

        chat = ChatCloudflareAIGateway(model=MODEL, **fields(base_url, **extra))

        async def langchain(prompt: str) -> str:
            return str((await chat.ainvoke(prompt)).content)

        return langchain
    from llama_index.core.llms import ChatMessage

    from llamaindex_cfaig import CloudflareAIGatewayLLM

    llm = CloudflareAIGatewayLLM(model=MODEL, **fields(base_url, **extra))

    async def llamaindex(prompt: str) -> str:
        return str((await llm.achat([ChatMessage(role="user", content=prompt)])).message.content)

    return llamaindex


def on_loop(loop: asyncio.AbstractEventLoop, ask: AsyncAsk) -> Ask:
    """``ask`` run to completion on one long-lived ``loop`` (its pool stays open between calls)."""
    return lambda prompt: loop.run_until_complete(ask(prompt))
