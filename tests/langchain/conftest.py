"""Fixtures for the LangChain integration tests: core clients on the plugin's in-process emulator."""

from __future__ import annotations

from typing import Any

import pytest

from cfaig import AsyncGatewayClient, GatewayClient


@pytest.fixture
def clients(cfaig_client: GatewayClient, cfaig_async_client: AsyncGatewayClient) -> dict[str, Any]:
    """Core clients wired to ``emu``'s transport, as injection kwargs for the LangChain classes."""
    return {"gateway_client": cfaig_client, "async_gateway_client": cfaig_async_client}
