"""Shared by the framework tests of issue 11 part 1 (the ``keyed_gateway`` fixture is in ``tests/conftest.py``)."""

from __future__ import annotations

from typing import Any

from cfaig.testing import EMULATOR_ACCOUNT_ID, EmulatorServer, SeenCredential

OPENAI_KEY = "sk-fw-openai-123"
ANTHROPIC_KEY = "sk-fw-anthropic-456"
MODES = ["sync", "async"]


def where(gateway: EmulatorServer) -> dict[str, Any]:
    """A framework class's connection fields for ``gateway`` (no retries: one request per call)."""
    return {"account_id": EMULATOR_ACCOUNT_ID, "base_url": gateway.base_url, "max_retries": 0}


def attempts(gateway: EmulatorServer, count: int) -> list[tuple[str, Any, str | None]]:
    """``(route, model as sent, Authorization)`` of the last ``count`` requests: one per client-side attempt
    (``where`` turns retries off)."""
    return [
        (r.route, (r.json or {})["model"], r.headers.get("authorization")) for r in gateway.emulator.requests[-count:]
    ]


def owners(gateway: EmulatorServer, count: int) -> list[str | None]:
    """Whose key (as the emulator knows it) each of the last ``count`` attempts carried."""
    seen: list[SeenCredential] = [c for r in gateway.emulator.requests[-count:] for c in r.credentials]
    return [credential.owner for credential in seen]
