"""The cfaig command: chat, embed, doctor and their exit codes, against the in-process emulator."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cfaig.cli import EXIT_CONFIG, EXIT_GATEWAY, EXIT_NETWORK, EXIT_OK, main
from cfaig.testing import EMULATOR_ACCOUNT_ID, GatewayEmulator, GatewaySettings, serve


@pytest.fixture(autouse=True)
def _no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_GATEWAY_ID", "CF_AIG_TOKEN", "CF_AIG_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_chat(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", "What is AI Gateway?", "--emulator", "--model", "openai/gpt-5-mini"]) == EXIT_OK
    out, err = capsys.readouterr()
    assert "What is AI Gateway?" in out
    assert "log_id=" in err
    assert "served_by=openai/gpt-5-mini" in err


def test_chat_stream_with_options(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "chat",
            "stream this",
            "--emulator",
            "--stream",
            "--cache-ttl",
            "60",
            "--metadata",
            "team=ai",
            "--metadata",
            "n=3",
        ]
    )
    assert code == EXIT_OK
    out, _ = capsys.readouterr()
    assert "stream this" in out


def test_chat_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", "hi", "--emulator", "--json"]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert data["gateway"]["log_id"]
    assert data["choices"][0]["message"]["content"]


def test_embed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["embed", "one", "two", "--emulator"]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert len(data["embeddings"]) == 2
    assert data["dimensions"] == 768


def test_configuration_errors_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", "hi"]) == EXIT_CONFIG  # no account id
    assert "CLOUDFLARE_ACCOUNT_ID" in capsys.readouterr().err
    assert main(["chat", "hi", "--emulator", "--model", "gpt-4o"]) == EXIT_CONFIG
    assert main(["chat", "hi", "--emulator", "--metadata", "novalue"]) == EXIT_CONFIG


def test_usage_error_exits_2() -> None:
    with pytest.raises(SystemExit) as info:
        main(["chat"])
    assert info.value.code == 2


def test_network_error_exits_5(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["chat", "hi", "--account-id", "a", "--base-url", "http://127.0.0.1:9/v1", "--timeout", "2"])
    assert code == EXIT_NETWORK
    assert "network error" in capsys.readouterr().err


def test_doctor_against_a_healthy_gateway(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--emulator"]) == EXIT_OK
    out = capsys.readouterr().out
    assert f"POST http://localhost/v1/{EMULATOR_ACCOUNT_ID}/default/compat/chat/completions" in out
    assert "OK: the gateway is reachable" in out


def test_doctor_diagnoses(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["doctor", "--emulator", "--model", "nonsense"]) == EXIT_CONFIG
    assert "PROBLEM" in capsys.readouterr().out
    assert main(["doctor"]) == EXIT_CONFIG
    assert "account_id is required" in capsys.readouterr().out
    emulator = GatewayEmulator(gateways={"default": GatewaySettings(authentication=True)})
    with serve(emulator) as server:
        base = ["--account-id", EMULATOR_ACCOUNT_ID, "--base-url", server.base_url]
        assert main(["doctor", *base]) == EXIT_GATEWAY
        assert "CF_AIG_TOKEN" in capsys.readouterr().out
        assert main(["doctor", *base, "--gateway-id", "missing"]) == EXIT_GATEWAY
        assert "does not exist" in capsys.readouterr().out
        monkeypatch.setenv("CF_AIG_TOKEN", "test-cf-aig-token")
        assert main(["doctor", *base]) == EXIT_OK
        out = capsys.readouterr().out
        assert "test-cf-aig-token" not in out
        assert "cf-aig-authorization: **********" in out
    assert (
        main(["doctor", "--account-id", "a", "--base-url", "http://127.0.0.1:9/v1", "--timeout", "2"]) == EXIT_NETWORK
    )


def test_gateway_error_exits_4(capsys: pytest.CaptureFixture[str]) -> None:
    emulator = GatewayEmulator(gateways={"default": GatewaySettings(authentication=True)})
    with serve(emulator) as server:
        code = main(["chat", "hi", "--account-id", EMULATOR_ACCOUNT_ID, "--base-url", server.base_url])
    assert code == EXIT_GATEWAY
    assert "2009" in capsys.readouterr().err


def test_help_for_every_command() -> None:
    for command in ([], ["chat"], ["embed"], ["emulator"], ["doctor"]):
        result = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "cfaig.cli", *command, "--help"], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0
        assert "usage: cfaig" in result.stdout
