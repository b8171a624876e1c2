"""Fixtures for the core tests: an in-process emulator and a driver that runs each call sync or async."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from cfaig import AsyncGatewayClient, GatewayClient, RetryPolicy
from cfaig.testing import EMULATOR_ACCOUNT_ID, GatewayEmulator

FAST_RETRIES = RetryPolicy(max_retries=2, initial_delay=0.001, max_delay=0.01)


@pytest.fixture
def emu() -> GatewayEmulator:
    return GatewayEmulator()


class Driver:
    """Runs the same client call through GatewayClient or AsyncGatewayClient, so one test covers both."""

    def __init__(self, mode: str, emu: GatewayEmulator, fields: dict[str, Any]) -> None:
        self.mode = mode
        self.emu = emu
        self.fields = fields

    def _sync(self) -> GatewayClient:
        return GatewayClient(transport=self.emu.transport(), **self.fields)

    def _async(self) -> AsyncGatewayClient:
        return AsyncGatewayClient(transport=self.emu.transport(), **self.fields)

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if self.mode == "sync":
            with self._sync() as client:
                return getattr(client, method)(*args, **kwargs)

        async def run() -> Any:
            async with self._async() as client:
                return await getattr(client, method)(*args, **kwargs)

        return asyncio.run(run())

    def stream(self, *args: Any, **kwargs: Any) -> tuple[list[Any], Any]:
        """All chunks of a stream, and the stream object (for meta and accumulator)."""
        if self.mode == "sync":
            with self._sync() as client, client.stream_chat(*args, **kwargs) as stream:
                return list(stream), stream

        async def run() -> tuple[list[Any], Any]:
            async with self._async() as client:
                stream = await client.stream_chat(*args, **kwargs)
                async with stream:
                    return [chunk async for chunk in stream], stream

        return asyncio.run(run())


@pytest.fixture(params=["sync", "async"])
def make_driver(request: pytest.FixtureRequest, emu: GatewayEmulator) -> Callable[..., Driver]:
    def make(**fields: Any) -> Driver:
        defaults: dict[str, Any] = {
            "account_id": EMULATOR_ACCOUNT_ID,
            "base_url": emu.base_url,
            "api_base_url": emu.api_base_url,
            "retry_policy": FAST_RETRIES,
        }
        return Driver(request.param, emu, {**defaults, **fields})

    return make


@pytest.fixture
def driver(make_driver: Callable[..., Driver]) -> Driver:
    return make_driver()


def user(text: str = "Hello there") -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]
