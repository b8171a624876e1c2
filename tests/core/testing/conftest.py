"""Fixtures of the emulator tests: the plugin's emulator, plain httpx clients on it, the loopback server."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from cfaig.testing import EmulatorServer, GatewayEmulator
from tests.core.testing.helpers import TOKEN


@pytest.fixture
def emulator(cfaig_emulator: GatewayEmulator) -> GatewayEmulator:
    return cfaig_emulator


@pytest.fixture
def gw(emulator: GatewayEmulator) -> Iterator[httpx.Client]:
    """Client on the default gateway, in-process."""
    with httpx.Client(transport=emulator.transport(), base_url=emulator.gateway_url()) as client:
        yield client


@pytest.fixture
def rest(emulator: GatewayEmulator) -> Iterator[httpx.Client]:
    """Authenticated REST API client, in-process."""
    headers = {"authorization": f"Bearer {TOKEN}"}
    with httpx.Client(transport=emulator.transport(), base_url=emulator.rest_url, headers=headers) as client:
        yield client


@pytest.fixture
def served(cfaig_gateway: EmulatorServer) -> EmulatorServer:
    """The plugin's loopback emulator, reset before and after the test."""
    return cfaig_gateway
