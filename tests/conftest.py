"""Suite-wide settings: Hypothesis without per-example deadlines (CI machines are busy, 2 cores), fixture names.

The emulator, server, client and driver fixtures come from the ``cfaig`` pytest plugin
(``cfaig.testing.pytest_plugin``, registered by cfaig-core's ``pytest11`` entry point).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from cfaig.testing import EmulatorServer, GatewayEmulator
from tests.provider_keys import ANTHROPIC_KEY, OPENAI_KEY

settings.register_profile(
    "cfaig",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=bool(os.environ.get("CI")),  # CI is reproducible; local runs keep exploring
    print_blob=True,
)
settings.load_profile("cfaig")


@pytest.fixture
def emu(cfaig_emulator: GatewayEmulator) -> GatewayEmulator:
    """Our tests' short name for the plugin's fresh in-process emulator (``cfaig.testing.pytest_plugin``)."""
    return cfaig_emulator


@pytest.fixture
def keyed_gateway(cfaig_gateway: EmulatorServer) -> EmulatorServer:
    """The session's loopback emulator, knowing ``OPENAI_KEY`` as OpenAI's and ``ANTHROPIC_KEY`` as Anthropic's
    (``cfaig_gateway`` restores the keys it knew after the test)."""
    cfaig_gateway.emulator.set_provider_keys({"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY})
    return cfaig_gateway


@pytest.fixture
def fresh_shared_clients() -> Iterator[None]:
    """No process-wide framework client outlives the test (they would point at a closed raw server)."""
    from tests.faults._harness import clear_shared

    clear_shared()
    yield
    clear_shared()
