"""Fixtures for the core tests: the plugin's sync/async driver under the names the core tests use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cfaig.testing.pytest_plugin import Driver


@pytest.fixture
def make_driver(cfaig_driver: Driver) -> Callable[..., Driver]:
    """``make_driver(**fields)``: the driver, its core clients built with these fields."""
    return cfaig_driver.configure


@pytest.fixture
def driver(cfaig_driver: Driver) -> Driver:
    return cfaig_driver


def user(text: str = "Hello there") -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]
