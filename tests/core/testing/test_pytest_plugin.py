"""The pytest plugin: registered by the entry point, its fixtures work in a user's test file (pytester)."""

from __future__ import annotations

import ast
import importlib.metadata
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

import cfaig.testing
from cfaig.testing import GatewayEmulator
from cfaig.testing.pytest_plugin import Driver

pytest_plugins = ["pytester"]

USER_TESTS = """
import httpx
import pytest

from cfaig.testing import Fault, GatewaySettings

HI = {"model": "openai/gpt-5-mini", "messages": [{"role": "user", "content": "hi"}]}


def test_in_process_client(cfaig_client, cfaig_emulator):
    cfaig_emulator.inject(Fault(status=503))
    reply = cfaig_client.chat(HI)
    assert "You said: hi" in reply.text
    assert len(cfaig_emulator.requests) == 2  # retried once, quickly


async def test_async_client(cfaig_async_client, cfaig_emulator):
    reply = await cfaig_async_client.chat(HI)
    assert "You said: hi" in reply.text
    assert cfaig_emulator.requests[-1].route == "compat.chat"


def test_driver_runs_both_worlds(cfaig_driver):
    assert "You said: hi" in cfaig_driver.call("chat", HI).text
    chunks, _ = cfaig_driver.stream(HI)
    assert chunks


def test_loopback_gateway(cfaig_gateway):
    with httpx.Client(base_url=cfaig_gateway.gateway_url()) as client:
        assert client.post("/compat/chat/completions", json=HI).status_code == 200
    assert len(cfaig_gateway.emulator.requests) == 1


@pytest.mark.cfaig_emulator(gateways={"default": GatewaySettings(authentication=True)})
def test_marker_configures_the_emulator(cfaig_serve):
    server = cfaig_serve()
    with httpx.Client(base_url=server.gateway_url()) as client:
        assert client.post("/compat/chat/completions", json=HI).status_code == 401
        headers = {"cf-aig-authorization": "Bearer test-cf-aig-token"}
        assert client.post("/compat/chat/completions", json=HI, headers=headers).status_code == 200
"""

STATE_LEAKS = """
from cfaig.testing import Fault, GatewaySettings


def test_first_leaves_state_behind(cfaig_gateway):
    emulator = cfaig_gateway.emulator
    emulator.inject(Fault(status=500, times=10))
    emulator.gateways["default"].authentication = True
    emulator.gateways["extra"] = GatewaySettings()
    emulator.tokens.add("another")


def test_second_starts_clean(cfaig_gateway, cfaig_server):
    assert cfaig_gateway is cfaig_server
    emulator = cfaig_gateway.emulator
    assert emulator.requests == []
    assert list(emulator.gateways) == ["default"]
    assert emulator.gateways["default"].authentication is False
    assert emulator.tokens == {"test-cf-aig-token"}
"""


@pytest.fixture(autouse=True)
def _user_project(request: pytest.FixtureRequest) -> None:
    """A user's project for the pytester runs: pytest-asyncio in auto mode, nothing else configured."""
    if "pytester" in request.fixturenames:
        pytester: pytest.Pytester = request.getfixturevalue("pytester")
        pytester.makeini("[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n")


def test_the_plugin_is_registered_through_the_pytest11_entry_point() -> None:
    entry = next(e for e in importlib.metadata.entry_points(group="pytest11") if e.name == "cfaig")
    assert entry.value == "cfaig.testing.pytest_plugin"


def test_a_users_test_file_using_the_fixtures_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider", "--disable-socket", "--allow-hosts=127.0.0.1")
    result.assert_outcomes(passed=6)  # the driver's test runs twice: sync and async
    result.stdout.no_fnmatch_line("*PytestUnknownMarkWarning*")


def test_the_driver_parametrises_sync_and_async(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_mode(cfaig_driver):\n    assert cfaig_driver.mode in ('sync', 'async')\n")
    result = pytester.runpytest("-v", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*test_mode?sync? PASSED*", "*test_mode?async? PASSED*"])


def test_the_session_gateway_is_reset_and_restored_between_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_state=STATE_LEAKS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_the_fixtures_are_documented(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--fixtures", "-p", "no:cacheprovider")
    for name in ("cfaig_emulator", "cfaig_client", "cfaig_async_client", "cfaig_server", "cfaig_gateway"):
        result.stdout.fnmatch_lines([f"{name}*", "    *"])
    result.stdout.fnmatch_lines(["cfaig_serve*", "    *", "cfaig_driver*", "    *"])


class _Twins:
    """An object with LangChain/LlamaIndex-style async twins (``a<name>``)."""

    def echo(self, value: str) -> str:
        return f"sync {value}"

    async def aecho(self, value: str) -> str:
        return f"async {value}"

    def items(self, n: int) -> Iterator[int]:
        yield from range(n)

    async def aitems(self, n: int) -> AsyncIterator[int]:  # LlamaIndex: a coroutine resolving to an iterator
        async def gen() -> AsyncIterator[int]:
            for i in range(n):
                yield i

        return gen()

    def pieces(self) -> Iterator[str]:
        yield "a"

    async def apieces(self) -> AsyncIterator[str]:  # LangChain: an async generator
        yield "b"


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_driver_calls_the_twin_of_its_mode(mode: str) -> None:
    driver = Driver(mode, GatewayEmulator())  # type: ignore[arg-type]
    twins = _Twins()
    assert driver.on(twins, "echo", "x") == f"{mode} x"
    assert driver.collect(twins, "items", 3) == [0, 1, 2]
    assert driver.collect(twins, "pieces") == (["b"] if mode == "async" else ["a"])
    assert driver.run(lambda: "s", lambda: _value("a")) == mode[0]


async def _value(text: str) -> str:
    return text


def test_driver_configure_keeps_the_mode_and_adds_client_fields() -> None:
    driver = Driver("async", GatewayEmulator())
    configured = driver.configure(cf_aig_token="t")
    assert configured.mode == "async"
    assert configured.emulator is driver.emulator
    assert configured.fields["cf_aig_token"] == "t"
    assert configured.fields["base_url"] == driver.emulator.base_url
    assert driver.fields["cf_aig_token"] == "test-cf-aig-token"  # the emulator's own token, by default

    class Named(Driver):
        pass

    assert type(Named("sync", GatewayEmulator()).configure(timeout=5)) is Named  # a subclass keeps its type


def test_the_emulator_never_imports_the_client() -> None:
    """cfaig.testing is an independent reading of the protocol: importing it (and the plugin) loads no client code.

    Allowed: the ``cfaig`` namespace itself and the standard-library-only helpers ``_vcr`` shares with the core.
    """
    code = (
        "import sys, pkgutil, importlib, cfaig\n"
        "before = set(sys.modules)\n"
        "import cfaig.testing\n"
        "for m in pkgutil.walk_packages(cfaig.testing.__path__, 'cfaig.testing.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(sorted(m for m in set(sys.modules) - before if m.startswith('cfaig')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)  # noqa: S603
    loaded: list[str] = ast.literal_eval(result.stdout.strip())
    assert "cfaig.testing.pytest_plugin" in loaded
    assert "cfaig.testing.wire.openai_chat" in loaded
    outside = {name for name in loaded if not name.startswith("cfaig.testing")}
    assert outside <= {"cfaig._lazy", "cfaig._version", "cfaig._redact", "cfaig._constants"}


def test_no_emulator_room_imports_from_the_core() -> None:
    """Statically: the rooms import only each other (the plugin's client imports are inside its fixtures)."""
    package = Path(cfaig.testing.__file__).parent
    for path in sorted(package.rglob("*.py")):
        if path.name in ("_vcr.py", "pytest_plugin.py"):
            continue
        depth = len(path.relative_to(package).parts)  # 1 in the package, 2 in fake/ and wire/
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                assert not any(alias.name.split(".")[0] == "cfaig" for alias in node.names), path
            elif isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("cfaig"), path
                assert node.level <= depth, f"{path} imports from above cfaig.testing"
