"""pytest fixtures for the gateway emulator: in-process, on loopback, core clients on it, and a sync/async driver.

Installed with ``cfaig-core`` and loaded by pytest through the ``pytest11`` entry point (as respx
and pytest-httpserver are), so the fixtures are there in any test, no ``conftest.py`` needed::

    def test_chat(cfaig_client, cfaig_emulator):
        cfaig_emulator.inject(Fault(status=503))      # retried once, then served
        reply = cfaig_client.chat({"model": "openai/gpt-5-mini", "messages": [{"role": "user", "content": "hi"}]})
        assert "You said: hi" in reply.text
        assert len(cfaig_emulator.requests) == 2

    def test_langchain_on_loopback(cfaig_gateway):    # real sockets: the framework's own clients
        model = ChatCloudflareAIGateway(
            model="openai/gpt-5-mini", account_id=cfaig_gateway.emulator.account_id, base_url=cfaig_gateway.base_url
        )
        assert model.invoke("hi").content

Fixtures:

``cfaig_emulator``
    A fresh :class:`~cfaig.testing.GatewayEmulator` per test (in-process, no socket). Configure it
    with the ``cfaig_emulator`` marker, whose keyword arguments go to the constructor:
    ``@pytest.mark.cfaig_emulator(gateways={"default": GatewaySettings(authentication=True)})``.
``cfaig_client`` / ``cfaig_async_client``
    A :class:`cfaig.GatewayClient` / :class:`cfaig.AsyncGatewayClient` on ``cfaig_emulator``'s
    transport (its account id and base URLs; retries as the default policy but waiting 1-10 ms).
``cfaig_server``
    One emulator served on ``127.0.0.1`` for the whole session (a free port), started on first use.
``cfaig_gateway``
    ``cfaig_server`` for one test: its emulator is reset (and its gateways and tokens restored)
    before and after the test.  Use ``cfaig_gateway.base_url`` and ``cfaig_gateway.emulator``.
``cfaig_serve``
    A factory: ``cfaig_serve()`` serves this test's ``cfaig_emulator`` (or the emulator you pass)
    on its own loopback port until the test ends.
``cfaig_driver``
    A :class:`Driver`, parametrised ``sync`` and ``async``: each test that uses it runs twice, once
    through the synchronous API and once through its asynchronous twin.

The fixtures need only the loopback interface, so ``--disable-socket --allow-hosts=127.0.0.1``
(pytest-socket) keeps working.  Nothing is imported until a fixture is used.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import pytest

if TYPE_CHECKING:
    from cfaig import AsyncGatewayClient, GatewayClient, RetryPolicy
    from cfaig.testing import EmulatorServer, GatewayEmulator

T = TypeVar("T")
D = TypeVar("D", bound="Driver")
Mode = Literal["sync", "async"]
MARKER = "cfaig_emulator"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(**kwargs): GatewayEmulator constructor arguments for the cfaig_emulator fixture"
    )


def _fast_retries() -> RetryPolicy:
    """The default retry decisions, but millisecond waits: fault tests stay fast (``Retry-After`` is still honoured)."""
    from cfaig import RetryPolicy

    return RetryPolicy(max_retries=2, initial_delay=0.001, max_delay=0.01)


def client_fields(emulator: GatewayEmulator) -> dict[str, Any]:
    """Keyword arguments for a core client (or a framework class) that talks to ``emulator`` in-process.

    They carry one of the emulator's Cloudflare tokens as ``cf_aig_token``, as a working setup does: Workers
    AI routes authenticate with it (the default embedding model is a Workers AI one)."""
    from cfaig.testing._types import DEFAULT_TOKEN

    token = DEFAULT_TOKEN if DEFAULT_TOKEN in emulator.tokens else min(emulator.tokens, default=None)
    return {
        "account_id": emulator.account_id,
        "cf_aig_token": token,
        "base_url": emulator.base_url,
        "api_base_url": emulator.api_base_url,
        "retry_policy": _fast_retries(),
    }


class Driver:
    """Runs one call through a synchronous API or through its asynchronous twin, so one test covers both.

    The async side runs in its own event loop (:func:`asyncio.run`), so tests that use a driver
    are plain ``def`` functions.

    * :meth:`call` / :meth:`stream`: the core clients (a fresh :class:`cfaig.GatewayClient` or
      :class:`cfaig.AsyncGatewayClient` on the emulator for each call; :meth:`configure` sets their fields).
    * :meth:`on` / :meth:`collect`: any object whose async twin of ``name`` is ``a<name>``
      (LangChain's ``invoke``/``ainvoke``, LlamaIndex's ``chat``/``achat``).
    * :meth:`run`: anything else, as a pair of callables.
    """

    def __init__(self, mode: Mode, emulator: GatewayEmulator, fields: dict[str, Any] | None = None) -> None:
        self.mode: Mode = mode
        self.emulator = emulator
        self.fields: dict[str, Any] = client_fields(emulator) if fields is None else fields

    def __repr__(self) -> str:
        return f"Driver({self.mode!r})"

    @property
    def is_async(self) -> bool:
        return self.mode == "async"

    def configure(self: D, **fields: Any) -> D:
        """A driver in the same mode whose core clients get these fields on top of the current ones."""
        return type(self)(self.mode, self.emulator, {**self.fields, **fields})

    def run(self, sync_call: Callable[[], T], async_call: Callable[[], Awaitable[T]]) -> T:
        """``sync_call()``, or ``await async_call()`` in a new event loop."""
        if not self.is_async:
            return sync_call()

        async def main() -> T:
            return await async_call()

        return asyncio.run(main())

    # ----------------------------------------------------------------- the core clients

    def _sync_client(self) -> GatewayClient:
        from cfaig import GatewayClient

        return GatewayClient(transport=self.emulator.transport(), **self.fields)

    def _async_client(self) -> AsyncGatewayClient:
        from cfaig import AsyncGatewayClient

        return AsyncGatewayClient(transport=self.emulator.transport(), **self.fields)

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """``client.<method>(...)`` on a fresh core client of this mode."""

        def sync_call() -> Any:
            with self._sync_client() as client:
                return getattr(client, method)(*args, **kwargs)

        async def async_call() -> Any:
            async with self._async_client() as client:
                return await getattr(client, method)(*args, **kwargs)

        return self.run(sync_call, async_call)

    def stream(self, *args: Any, method: str = "stream_chat", **kwargs: Any) -> tuple[list[Any], Any]:
        """All items of ``client.stream_chat(...)`` (or of the stream ``method`` opens, e.g.
        ``stream_responses``), and the stream object (for meta and accumulator)."""

        def sync_call() -> tuple[list[Any], Any]:
            with self._sync_client() as client, getattr(client, method)(*args, **kwargs) as stream:
                return list(stream), stream

        async def async_call() -> tuple[list[Any], Any]:
            async with self._async_client() as client:
                stream = await getattr(client, method)(*args, **kwargs)
                async with stream:
                    return [chunk async for chunk in stream], stream

        return self.run(sync_call, async_call)

    # ----------------------------------------------------------------- a-prefixed twins

    def on(self, target: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        """``target.<name>(...)``, or ``await target.a<name>(...)``."""
        return self.run(
            lambda: getattr(target, name)(*args, **kwargs),
            lambda: getattr(target, f"a{name}")(*args, **kwargs),
        )

    def collect(self, target: Any, name: str, *args: Any, **kwargs: Any) -> list[Any]:
        """Every item of the stream ``target.<name>(...)`` returns, or of ``target.a<name>(...)``.

        The async twin may return an async iterator or a coroutine resolving to one (LlamaIndex).
        """

        def sync_call() -> list[Any]:
            items: Iterable[Any] = getattr(target, name)(*args, **kwargs)
            return list(items)

        async def async_call() -> list[Any]:
            stream = getattr(target, f"a{name}")(*args, **kwargs)
            if inspect.isawaitable(stream):
                stream = await stream
            items: AsyncIterable[Any] = stream
            return [item async for item in items]

        return self.run(sync_call, async_call)


# --------------------------------------------------------------------------------------------- fixtures


@pytest.fixture
def cfaig_emulator(request: pytest.FixtureRequest) -> GatewayEmulator:
    """A fresh in-process gateway emulator (configure it with ``@pytest.mark.cfaig_emulator(**kwargs)``)."""
    from cfaig.testing import GatewayEmulator

    marker = request.node.get_closest_marker(MARKER)
    kwargs: dict[str, Any] = dict(marker.kwargs) if marker is not None else {}
    return GatewayEmulator(**kwargs)


@pytest.fixture
def cfaig_client(cfaig_emulator: GatewayEmulator) -> Iterator[GatewayClient]:
    """A core :class:`~cfaig.GatewayClient` on ``cfaig_emulator``'s transport, closed after the test."""
    from cfaig import GatewayClient

    with GatewayClient(transport=cfaig_emulator.transport(), **client_fields(cfaig_emulator)) as client:
        yield client


@pytest.fixture
def cfaig_async_client(cfaig_emulator: GatewayEmulator) -> AsyncGatewayClient:
    """A core :class:`~cfaig.AsyncGatewayClient` on ``cfaig_emulator``'s transport.

    Use it in one event loop or several; each loop's connection pool closes with its loop.
    """
    from cfaig import AsyncGatewayClient

    return AsyncGatewayClient(transport=cfaig_emulator.transport(), **client_fields(cfaig_emulator))


@pytest.fixture(scope="session")
def cfaig_server() -> Iterator[EmulatorServer]:
    """One emulator served on 127.0.0.1 for the session; prefer ``cfaig_gateway``, which resets it per test."""
    from cfaig.testing import serve

    with serve() as server:
        yield server


@pytest.fixture
def cfaig_gateway(cfaig_server: EmulatorServer) -> Iterator[EmulatorServer]:
    """The session's loopback emulator for one test: reset; gateways, tokens and known provider keys restored,
    before and after."""
    emulator = cfaig_server.emulator
    gateways, tokens, owners = copy.deepcopy(emulator.gateways), set(emulator.tokens), dict(emulator.key_owners)

    def restore() -> None:
        emulator.reset()
        emulator.gateways = copy.deepcopy(gateways)
        emulator.tokens = set(tokens)
        emulator.key_owners = dict(owners)

    restore()
    yield cfaig_server
    restore()


@pytest.fixture
def cfaig_serve(cfaig_emulator: GatewayEmulator) -> Iterator[Callable[..., EmulatorServer]]:
    """Serve ``cfaig_emulator`` (or the emulator given) on a loopback port of its own until the test ends."""
    from cfaig.testing import serve

    running: list[EmulatorServer] = []

    def start(emulator: GatewayEmulator | None = None) -> EmulatorServer:
        server = serve(emulator if emulator is not None else cfaig_emulator).start()
        running.append(server)
        return server

    yield start
    for server in reversed(running):
        server.stop()


@pytest.fixture(params=["sync", "async"])
def cfaig_driver(request: pytest.FixtureRequest, cfaig_emulator: GatewayEmulator) -> Driver:
    """A :class:`Driver` on ``cfaig_emulator``: the test runs once ``sync`` and once ``async``."""
    mode: Mode = request.param
    return Driver(mode, cfaig_emulator)
