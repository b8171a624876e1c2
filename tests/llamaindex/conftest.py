"""Fixtures: a gateway emulator in-process, core clients on its transport, our classes on those clients,
and an instrumentation event recorder."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent

from cfaig import AsyncGatewayClient, GatewayClient
from cfaig.testing import EMULATOR_ACCOUNT_ID, GatewayEmulator, GatewaySettings
from llamaindex_cfaig import CloudflareAIGatewayEmbedding, CloudflareAIGatewayLLM

TOKEN = "test-cf-aig-token"


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
def emu() -> GatewayEmulator:
    return GatewayEmulator(
        account_id=EMULATOR_ACCOUNT_ID,
        gateways={"default": GatewaySettings(authentication=False, cache_ttl=0)},
        tokens=(TOKEN,),
    )


@pytest.fixture
def gateway_client(emu: GatewayEmulator) -> Iterator[GatewayClient]:
    client = GatewayClient(account_id=EMULATOR_ACCOUNT_ID, base_url=emu.base_url, transport=emu.transport())
    yield client
    client.close()


@pytest.fixture
async def async_gateway_client(emu: GatewayEmulator) -> AsyncIterator[AsyncGatewayClient]:
    client = AsyncGatewayClient(account_id=EMULATOR_ACCOUNT_ID, base_url=emu.base_url, transport=emu.transport())
    yield client
    await client.aclose()


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
