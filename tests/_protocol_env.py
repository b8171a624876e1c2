"""Environment helpers of the issue 11 protocol tests: no CF_AIG_* / CLOUDFLARE_* variable leaks in from the
machine, and the variables that point every class at a loopback emulator's REST surface."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cfaig.config import ENV_VARS
from cfaig.testing import EmulatorServer

TOKEN = "test-cf-aig-token"


def clear_gateway_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Unset every variable the configuration reads (``CLOUDFLARE_API_TOKEN`` included)."""
    for names in ENV_VARS.values():
        for name in names:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    return monkeypatch


def use_rest_surface(monkeypatch: pytest.MonkeyPatch, server: EmulatorServer) -> None:
    """``CF_AIG_SURFACE=rest`` and the account, API root and token of ``server``: no code changes needed."""
    monkeypatch.setenv("CF_AIG_SURFACE", "rest")
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", server.emulator.account_id)
    monkeypatch.setenv("CF_AIG_API_BASE_URL", server.api_base_url)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)


def assert_sent_on_rest(server: EmulatorServer, model: str) -> None:
    """The last request was a REST chat completion for ``model`` with the Cloudflare token."""
    request = server.emulator.requests[-1]
    assert request.route == "rest.chat"
    assert request.json is not None
    assert request.json["model"] == model
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


def custom_domain_server(serve: Callable[..., EmulatorServer]) -> tuple[EmulatorServer, str]:
    """A loopback emulator serving ``localhost`` as the ``default`` gateway's custom domain, and its root."""
    from cfaig.testing import GatewayEmulator

    server = serve(GatewayEmulator(custom_domains={"localhost": "default"}))
    return server, f"http://localhost:{server.port}"


def assert_custom_domain_paths(server: EmulatorServer) -> None:
    """A chat and an embeddings request went to the custom domain's own routes, of the ``default`` gateway."""
    assert [r.path for r in server.emulator.requests] == ["/compat/chat/completions", "/workers-ai/v1/embeddings"]
    assert all(r.gateway_id == "default" for r in server.emulator.requests)
