"""Fork after a warm-up: the child must not send on the connection the parent pooled.

A pooled keep-alive connection copied into a forked child (gunicorn ``--preload``, Celery prefork,
multiprocessing) is one socket read by two processes: each can read the other's answer. The test makes the
swap deterministic instead of racy: the server holds the child's request until the parent has stopped the
child (``SIGSTOP``), then answers it; the parent then asks on its pooled connection. Had the child written on
that connection, the parent reads the child's answer and the child, resumed, the parent's. With pools per
process the child's request arrives on a connection of its own.
"""

from __future__ import annotations

import asyncio
import os
import select
import signal
import sys
import threading
import warnings
from collections.abc import Iterator

import pytest

from tests.faults._harness import LAYERS, Layer
from tests.faults.wire._calls import Ask, async_asker, on_loop, sync_asker
from tests.faults.wire._server import IO_TIMEOUT, Conn, WireServer, answer_for

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="os.fork with SIGSTOP: Linux only")


def _fork() -> int:
    with warnings.catch_warnings():  # "this process is multi-threaded": the child only sends one request
        warnings.simplefilter("ignore", DeprecationWarning)
        return os.fork()


def _read_all(fd: int, timeout: float) -> str:
    data = b""
    while True:
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return data.decode() + " <timed out>"
        part = os.read(fd, 65536)
        if not part:
            return data.decode()
        data += part


class _HoldChild:
    """The server: answers every request with "answer to <prompt>", holding the child's until released."""

    def __init__(self) -> None:
        self.child_seen = threading.Event()
        self.release = threading.Event()

    def __call__(self, conn: Conn) -> None:
        while (request := conn.read_request()) is not None:
            if request.prompt == "child":
                self.child_seen.set()
                self.release.wait(IO_TIMEOUT)
            head, body = answer_for(request, f"answer to {request.prompt}")
            conn.send(head + body)


def _swap_test(server: WireServer, script: _HoldChild, ask: Ask, child_ask: Ask) -> tuple[str, str]:
    """Warm up, fork, and run the script above; returns (the parent's answer, the child's answer)."""
    assert ask("warm-up") == "answer to warm-up"
    read_fd, write_fd = os.pipe()
    pid = _fork()
    if pid == 0:  # the child: one request, its answer down the pipe, and out (no pytest teardown here)
        try:
            text = child_ask("child")
        except BaseException as exc:  # reported to the parent, which asserts
            text = f"error: {exc!r}"
        os.write(write_fd, text.encode())
        os._exit(0)
    os.close(write_fd)
    try:
        assert script.child_seen.wait(IO_TIMEOUT), "the child's request never reached the server"
        os.kill(pid, signal.SIGSTOP)
        os.waitpid(pid, os.WUNTRACED)  # stopped: it cannot read whatever arrives now
        script.release.set()
        parent = ask("parent")
        os.kill(pid, signal.SIGCONT)
        child = _read_all(read_fd, IO_TIMEOUT)
    finally:
        os.close(read_fd)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
    return parent, child


@pytest.fixture
def server() -> Iterator[tuple[WireServer, _HoldChild]]:
    script = _HoldChild()
    with WireServer(script) as wire:
        yield wire, script


@pytest.mark.parametrize("layer", LAYERS)
def test_sync_fork_after_warm_up_each_process_gets_its_own_answer(
    layer: Layer, server: tuple[WireServer, _HoldChild]
) -> None:
    wire, script = server
    ask = sync_asker(layer, wire.base_url)
    parent, child = _swap_test(wire, script, ask, ask)
    assert (parent, child) == ("answer to parent", "answer to child")
    by_prompt = {request.prompt: request.connection for request in wire.requests}
    assert by_prompt["child"] != by_prompt["warm-up"], "the child sent on the parent's pooled connection"
    assert by_prompt["parent"] == by_prompt["warm-up"], "the parent keeps its pool"


@pytest.mark.parametrize("layer", LAYERS)
def test_async_fork_after_warm_up_each_process_gets_its_own_answer(
    layer: Layer, server: tuple[WireServer, _HoldChild]
) -> None:
    """The parent keeps one event loop (and its pool) across the fork; the child runs a loop of its own."""
    wire, script = server
    achat = async_asker(layer, wire.base_url)
    loop = asyncio.new_event_loop()
    try:
        parent, child = _swap_test(wire, script, on_loop(loop, achat), lambda prompt: asyncio.run(achat(prompt)))
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
    assert (parent, child) == ("answer to parent", "answer to child")
    by_prompt = {request.prompt: request.connection for request in wire.requests}
    assert by_prompt["child"] != by_prompt["warm-up"]
