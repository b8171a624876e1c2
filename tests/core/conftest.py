"""Fixtures for the core tests: the plugin's sync/async driver under the names the core tests use."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cfaig.testing import GatewayEmulator
from cfaig.testing.pytest_plugin import Driver as PluginDriver
from cfaig.types import ChatMessageParam


class Driver(PluginDriver):
    """The plugin's :class:`~cfaig.testing.pytest_plugin.Driver`; ``emu`` is our tests' short name for its emulator."""

    @property
    def emu(self) -> GatewayEmulator:
        return self.emulator


@pytest.fixture
def make_driver(cfaig_driver: PluginDriver) -> Callable[..., Driver]:
    """``make_driver(**fields)``: the driver, its core clients built with these fields."""
    return Driver(cfaig_driver.mode, cfaig_driver.emulator).configure


@pytest.fixture
def driver(make_driver: Callable[..., Driver]) -> Driver:
    return make_driver()


def user(text: str = "Hello there") -> list[ChatMessageParam]:
    return [{"role": "user", "content": text}]
