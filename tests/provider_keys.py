"""Shared by the framework tests of issue 11 part 1 (the ``keyed_gateway`` fixture is in ``tests/conftest.py``)."""

from __future__ import annotations

from typing import Any

from cfaig.testing import EMULATOR_ACCOUNT_ID, EmulatorServer

OPENAI_KEY = "sk-fw-openai-123"
ANTHROPIC_KEY = "sk-fw-anthropic-456"
MODES = ["sync", "async"]


def where(gateway: EmulatorServer) -> dict[str, Any]:
    """A framework class's connection fields for ``gateway`` (no retries: one request per call)."""
    return {"account_id": EMULATOR_ACCOUNT_ID, "base_url": gateway.base_url, "max_retries": 0}
