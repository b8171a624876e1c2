"""Fixtures: our classes on the plugin's core clients (in-process emulator), an instrumentation event recorder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent

from cfaig import AsyncGatewayClient, GatewayClient
from llamaindex_cfaig import CloudflareAIGatewayEmbedding, CloudflareAIGatewayLLM


class EventRecorder(BaseEventHandler):
    """Records every instrumentation event's class name."""

    events: list[BaseEvent] = []

    @classmethod
    def class_name(cls) -> str:
        return "EventRecorder"

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        self.events.append(event)

    def names(self, prefix: str = "LLM") -> list[str]:
        return [event.class_name() for event in self.events if event.class_name().startswith(prefix)]

    def clear(self) -> None:
        self.events.clear()


@pytest.fixture
def gateway_client(cfaig_client: GatewayClient) -> GatewayClient:
    """The plugin's core client on the in-process emulator (``emu``)."""
    return cfaig_client


@pytest.fixture
def async_gateway_client(cfaig_async_client: AsyncGatewayClient) -> AsyncGatewayClient:
    """The plugin's async core client on the in-process emulator (``emu``)."""
    return cfaig_async_client


@pytest.fixture
def make_llm(
    gateway_client: GatewayClient, async_gateway_client: AsyncGatewayClient
) -> Callable[..., CloudflareAIGatewayLLM]:
    def make(model: str = "openai/gpt-5-mini", **kwargs: Any) -> CloudflareAIGatewayLLM:
        return CloudflareAIGatewayLLM(
            model=model, gateway_client=gateway_client, async_gateway_client=async_gateway_client, **kwargs
        )

    return make


@pytest.fixture
def llm(make_llm: Callable[..., CloudflareAIGatewayLLM]) -> CloudflareAIGatewayLLM:
    return make_llm()


@pytest.fixture
def make_embedding(
    gateway_client: GatewayClient, async_gateway_client: AsyncGatewayClient
) -> Callable[..., CloudflareAIGatewayEmbedding]:
    def make(**kwargs: Any) -> CloudflareAIGatewayEmbedding:
        return CloudflareAIGatewayEmbedding(
            gateway_client=gateway_client, async_gateway_client=async_gateway_client, **kwargs
        )

    return make


@pytest.fixture
def events() -> Iterator[EventRecorder]:
    dispatcher = get_dispatcher()
    recorder = EventRecorder(events=[])
    dispatcher.add_event_handler(recorder)
    yield recorder
    dispatcher.event_handlers.remove(recorder)
