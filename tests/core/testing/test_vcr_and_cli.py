"""vcrpy settings that scrub cassettes (_vcr), and python -m cfaig.testing (__main__)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from cfaig.testing import (
    GatewayEmulator,
    serve,
    vcr_config,
)
from tests.core.testing.helpers import CHAT, chat_body, universal_steps


def test_vcr_config_scrubs_tokens_and_account_ids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import vcr

    account_id = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
    token = "cf-secret-token-123"
    monkeypatch.setenv("CFAIG_RECORD", "1")
    monkeypatch.delenv("CLOUDFLARE_ACCOUNT_ID", raising=False)
    config = vcr_config()
    assert config["record_mode"] == "once"
    assert config["match_on"] == ["method", "scheme", "host", "port", "path", "query", "body"]
    emulator = GatewayEmulator(account_id=account_id, tokens=[token])
    cassette = tmp_path / "chat.yaml"
    steps = universal_steps()[1:2]
    steps[0]["headers"]["Authorization"] = "Bearer sk-provider-secret"
    with serve(emulator) as running, httpx.Client(base_url=running.gateway_url()) as client:
        headers = {"cf-aig-authorization": f"Bearer {token}", "x-api-key": "anthropic-secret"}
        with vcr.use_cassette(str(cassette), **config):
            assert client.post(CHAT, json=chat_body(account_id), headers=headers).status_code == 200
            assert client.post("", json=steps, headers=headers).status_code == 200
        recorded = cassette.read_text()
        for secret in (account_id, token, "anthropic-secret", "sk-provider-secret"):
            assert secret not in recorded
        assert "ACCOUNT_ID" in recorded and "REDACTED" in recorded
        monkeypatch.delenv("CFAIG_RECORD")
        replay = vcr_config()
        assert replay["record_mode"] == "none"
        received = len(emulator.requests)
        with vcr.use_cassette(str(cassette), **replay):
            again = client.post(CHAT, json=chat_body(account_id), headers=headers)
        assert again.status_code == 200
        assert len(emulator.requests) == received  # answered from the cassette


def test_vcr_callbacks_tolerate_missing_bodies(monkeypatch: pytest.MonkeyPatch) -> None:
    from vcr.request import Request

    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "my-account")
    config = vcr_config(account_id_placeholder="ACCT")
    request = Request("GET", "https://api.cloudflare.com/client/v4/accounts/my-account/ai/run/x", None, {})
    scrubbed = config["before_record_request"](request)
    assert scrubbed.uri == "https://api.cloudflare.com/client/v4/accounts/ACCT/ai/run/x"
    assert scrubbed.body is None
    response = {"status": {"code": 204, "message": ""}, "headers": {"Set-Cookie": ["a=b"]}, "body": {"string": None}}
    cleaned = config["before_record_response"](response)
    assert "Set-Cookie" not in cleaned["headers"]
    assert cleaned["body"] == {"string": None}
    assert config["before_record_response"]({"headers": {}, "body": {"string": b"id my-account"}})["body"] == {
        "string": b"id ACCT"
    }


def test_cli_help() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    result = subprocess.run(
        [sys.executable, "-m", "cfaig.testing", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for option in ("--port", "--host", "--auth", "--token", "--upstream"):
        assert option in result.stdout
