"""The cfaig command: chat, embed, doctor and their exit codes, against the in-process emulator."""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys

import pytest

from cfaig import GatewayClient
from cfaig.cli import EXIT_CONFIG, EXIT_GATEWAY, EXIT_NETWORK, EXIT_OK, EXIT_USAGE, main
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


# --- rough edges a newcomer hit (issue 13.7) -------------------------------------------------------


def _cfaig(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "cfaig.cli", *args], capture_output=True, text=True, check=False, timeout=timeout
    )


def test_a_busy_port_is_a_configuration_error_not_a_traceback() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _cfaig("emulator", "--port", str(port))
    assert result.returncode == EXIT_CONFIG
    assert "Traceback" not in result.stderr
    assert f"127.0.0.1:{port}: the port is in use" in result.stderr
    assert "--port 0" in result.stderr


@pytest.mark.parametrize("port", ["99999", "-1"])
def test_an_invalid_port_is_a_usage_error(port: str) -> None:
    result = _cfaig("emulator", "--port", port)
    assert result.returncode == EXIT_USAGE
    assert "Traceback" not in result.stderr
    assert "is not a TCP port" in result.stderr


def test_a_host_that_is_not_this_machines_is_a_configuration_error() -> None:
    result = _cfaig("emulator", "--host", "no-such-host.invalid", "--port", "0")
    assert result.returncode == EXIT_CONFIG
    assert "not an address of this machine" in result.stderr


def test_cfaig_emulator_takes_the_flags_of_python_m_cfaig_testing() -> None:
    from cfaig.cli import _parser
    from cfaig.testing.__main__ import _parser as testing_parser

    def flags(parser: argparse.ArgumentParser) -> set[str]:
        return {option for action in parser._actions for option in action.option_strings}

    _, commands = _parser(emulator_flags=True)
    assert flags(commands["emulator"]) == flags(testing_parser())
    assert "--account-id" in _cfaig("emulator", "--help").stdout


def test_cfaig_emulator_serves_with_those_flags() -> None:
    """argv reaches the emulator unchanged: an extra gateway and another account id answer on loopback."""
    account = "fedcba9876543210fedcba9876543210"
    command = [
        sys.executable,
        "-m",
        "cfaig.cli",
        "emulator",
        "--port",
        "0",
        "--account-id",
        account,
        "--gateway",
        "extra",
    ]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:  # noqa: S603 - our own module
        try:
            assert process.stdout is not None
            lines = [process.stdout.readline() for _ in range(3)]
            base_url = next(line.split(": ", 1)[1].strip() for line in lines if "gateway base URL" in line)
            with GatewayClient(account_id=account, gateway_id="extra", base_url=base_url) as client:
                answer = client.chat({"model": "openai/gpt-5-mini", "messages": [{"role": "user", "content": "hi"}]})
            assert "You said: hi" in answer.text
        finally:
            process.terminate()
        assert process.wait(timeout=30) == EXIT_OK


def test_json_with_stream_prints_one_object_per_chunk_then_the_gateway(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", "stream this", "--emulator", "--stream", "--json"]) == EXIT_OK
    objects = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    chunks, last = objects[:-1], objects[-1]
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    assert "stream this" in "".join(c["choices"][0]["delta"]["content"] or "" for c in chunks if c["choices"])
    assert last["gateway"]["log_id"]


def test_a_hint_gets_its_own_line(capsys: pytest.CaptureFixture[str]) -> None:
    emulator = GatewayEmulator(gateways={"default": GatewaySettings(authentication=True)})
    with serve(emulator) as server:
        assert main(["chat", "hi", "--account-id", EMULATOR_ACCOUNT_ID, "--base-url", server.base_url]) == EXIT_GATEWAY
    first, *rest = capsys.readouterr().err.splitlines()
    assert first.startswith("gateway error: ")
    assert "hint:" not in first
    assert rest[0].startswith("  hint: ")


def test_an_unknown_flag_shows_its_commands_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["chat", "hi", "--bogus"])
    assert info.value.code == EXIT_USAGE
    assert "usage: cfaig chat" in capsys.readouterr().err


def test_a_configuration_error_is_not_said_twice(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", "hi"]) == EXIT_CONFIG
    assert "configuration error: invalid configuration" not in capsys.readouterr().err


def test_doctor_checks_the_account_ids_shape_on_cloudflares_hosts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--account-id", "nope"]) == EXIT_CONFIG
    out = capsys.readouterr().out
    assert "account id: PROBLEM" in out
    assert "32 hexadecimal characters" in out
    assert "probe:" not in out  # stopped before any request
    assert "CLOUDFLARE_API_TOKEN" in out
