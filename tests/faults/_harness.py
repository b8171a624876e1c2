"""Shared machinery of the fault tests: one call through any layer in any mode, with its evidence.

``run_call(layer, mode, base_url, settings)`` sends one chat request through the core client, the
LangChain class or the LlamaIndex class, synchronously, asynchronously, streamed or async-streamed,
and returns a :class:`CallResult`: the text or the exception, how many chunks a stream delivered before
it failed, and how many attempts the core made (counted from its ``retrying`` and ``falling back`` records, which
also works when nothing reached the server).

``fast_retries()`` swaps the core's retry policy for a :class:`RecordingPolicy` that records the delays
the real policy chose (so ``Retry-After`` can be asserted) but sleeps at most 10 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import cfaig._base_client
import cfaig._client_cache
from cfaig import AsyncGatewayClient, GatewayClient, RetryPolicy
from cfaig.errors import GatewayError
from cfaig.testing import EMULATOR_ACCOUNT_ID

Layer = Literal["core", "langchain", "llamaindex"]
Mode = Literal["sync", "async", "stream", "astream"]
LAYERS: tuple[Layer, ...] = ("core", "langchain", "llamaindex")
MODES: tuple[Mode, ...] = ("sync", "async", "stream", "astream")
STREAM_MODES: frozenset[Mode] = frozenset({"stream", "astream"})

MODEL = "openai/gpt-4o-mini"
FALLBACK_MODEL = "anthropic/claude-3-5-haiku"
PROMPT = "hi"
EXPECTED_TEXT = f"You said: {PROMPT}"


def closed_port_url() -> str:
    """A loopback base URL nobody listens on (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


# --- retries: fast, and recorded ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordingPolicy(RetryPolicy):
    """The real policy's decisions, recorded; the sleep itself is capped at ``sleep_cap`` seconds."""

    planned: list[float] = field(default_factory=list, compare=False, repr=False)
    sleep_cap: float = 0.01

    def next_delay(self, error: GatewayError, retries_done: int, slept: float) -> float | None:
        delay = RetryPolicy.next_delay(self, error, retries_done, slept)
        if delay is None:
            return None
        self.planned.append(delay)
        return min(delay, self.sleep_cap)


@dataclass
class RetryRecorder:
    policies: list[RecordingPolicy] = field(default_factory=list)

    def __call__(self, *, max_retries: int) -> RecordingPolicy:
        policy = RecordingPolicy(max_retries=max_retries, initial_delay=0.001, max_delay=0.01)
        self.policies.append(policy)
        return policy

    @property
    def planned(self) -> list[float]:
        return [delay for policy in self.policies for delay in policy.planned]


@contextlib.contextmanager
def fast_retries() -> Iterator[RetryRecorder]:
    """Patch ``cfaig._base_client.RetryPolicy`` (what ``BaseClient.__init__`` builds) with a recorder."""
    recorder = RetryRecorder()
    original = cfaig._base_client.__dict__["RetryPolicy"]
    setattr(cfaig._base_client, "RetryPolicy", recorder)  # noqa: B010 - a patch, not an attribute access
    try:
        yield recorder
    finally:
        setattr(cfaig._base_client, "RetryPolicy", original)  # noqa: B010


def close_shared_sync() -> None:
    """Close and forget the process-wide sync clients the framework classes created."""
    for client in list(cfaig._client_cache._sync.values()):
        client.close()
    cfaig._client_cache._sync.clear()


async def close_shared_async() -> None:
    """Close (on the running loop) and forget the process-wide async clients."""
    for client in list(cfaig._client_cache._async.values()):
        await client.aclose()
    cfaig._client_cache._async.clear()


def clear_shared() -> None:
    close_shared_sync()
    cfaig._client_cache._async.clear()


# --- counting attempts from the core's own log ----------------------------------------------------


class _RetryCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.retries = 0

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("retrying ") or "; falling back to " in message:  # a client-side fallback: one more
            self.retries += 1


@contextlib.contextmanager
def count_retries() -> Iterator[_RetryCounter]:
    log = logging.getLogger("cfaig")
    counter = _RetryCounter()
    level = log.level
    log.setLevel(logging.DEBUG)
    log.addHandler(counter)
    try:
        yield counter
    finally:
        log.removeHandler(counter)
        log.setLevel(level)


# --- one call through one layer --------------------------------------------------------------------


@dataclass
class CallResult:
    text: str | None = None
    error: BaseException | None = None
    chunks: int = 0
    """Stream chunks the consumer received (before an error, if any)."""
    attempts: int = 0
    """1 + the retries the core logged."""

    @property
    def outcome(self) -> str:
        if self.error is None:
            return "ok"
        return type(self.error).__name__


@dataclass(frozen=True)
class CallSettings:
    max_retries: int = 2
    timeout: float = 10.0
    fallbacks: tuple[str, ...] = ()
    fallback_mode: str | None = None
    request_timeout_ms: int | None = None
    account_id: str = EMULATOR_ACCOUNT_ID
    cf_aig_token: str | None = None
    api_key: str | None = None

    def config_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "account_id": self.account_id,
            "max_retries": self.max_retries,
            "timeout": self.timeout,
        }
        if self.cf_aig_token is not None:
            fields["cf_aig_token"] = self.cf_aig_token
        if self.api_key is not None:
            fields["api_key"] = self.api_key
        return fields


def _framework_fields(base_url: str, settings: CallSettings) -> dict[str, Any]:
    fields: dict[str, Any] = {"model": MODEL, "base_url": base_url, **settings.config_fields()}
    if settings.fallbacks:
        fields["fallbacks"] = list(settings.fallbacks)
    if settings.fallback_mode is not None:
        fields["fallback_mode"] = settings.fallback_mode
    if settings.request_timeout_ms is not None:
        fields["request_timeout_ms"] = settings.request_timeout_ms
    return fields


def _core_call(settings: CallSettings) -> dict[str, Any]:
    call: dict[str, Any] = {}
    if settings.fallbacks:
        call["fallbacks"] = list(settings.fallbacks)
    options: dict[str, Any] = {}
    if settings.request_timeout_ms is not None:
        options["request_timeout_ms"] = settings.request_timeout_ms
    if settings.fallback_mode is not None:
        options["fallback_mode"] = settings.fallback_mode
    if options:
        call["options"] = options
    return call


def _core_request() -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": PROMPT}]}


@dataclass(frozen=True)
class _Framework:
    """One framework class configured like production, and how to read its answer and its chunks.

    ``call``/``stream`` name the sync methods; the async twins are the ``a``-prefixed ones.
    """

    target: Any
    call: str
    stream: str
    args: tuple[Any, ...]
    text: Callable[[Any], str | None]
    piece: Callable[[Any], str]


def _framework(layer: Layer, base_url: str, settings: CallSettings) -> _Framework:
    fields = _framework_fields(base_url, settings)
    if layer == "langchain":
        from langchain_cfaig import ChatCloudflareAIGateway

        return _Framework(ChatCloudflareAIGateway(**fields), "invoke", "stream", (PROMPT,), _content, _content)
    from llama_index.core.llms import ChatMessage

    from llamaindex_cfaig import CloudflareAIGatewayLLM

    return _Framework(
        CloudflareAIGatewayLLM(**fields),
        "chat",
        "stream_chat",
        ([ChatMessage(role="user", content=PROMPT)],),
        _message_content,
        _delta,
    )


def _content(message: Any) -> str:
    return str(message.content)


def _message_content(response: Any) -> str | None:
    content: str | None = response.message.content
    return content


def _delta(response: Any) -> str:
    return str(response.delta or "")


def _sync_call(layer: Layer, mode: Mode, base_url: str, settings: CallSettings, result: CallResult) -> None:
    if layer == "core":
        with GatewayClient(base_url=base_url, **settings.config_fields()) as client:
            if mode == "sync":
                result.text = client.chat(_core_request(), **_core_call(settings)).text  # type: ignore[arg-type]
                return
            parts: list[str] = []
            with client.stream_chat(_core_request(), **_core_call(settings)) as stream:  # type: ignore[arg-type]
                for chunk in stream:
                    result.chunks += 1
                    parts.extend(choice.delta.content or "" for choice in chunk.choices)
            result.text = "".join(parts)
            return
    framework = _framework(layer, base_url, settings)
    if mode == "sync":
        result.text = framework.text(getattr(framework.target, framework.call)(*framework.args))
        return
    parts = []
    for item in getattr(framework.target, framework.stream)(*framework.args):
        result.chunks += 1
        parts.append(framework.piece(item))
    result.text = "".join(parts)


async def _async_call(layer: Layer, mode: Mode, base_url: str, settings: CallSettings, result: CallResult) -> None:
    if layer == "core":
        async with AsyncGatewayClient(base_url=base_url, **settings.config_fields()) as client:
            if mode == "async":
                completion = await client.chat(_core_request(), **_core_call(settings))  # type: ignore[arg-type]
                result.text = completion.text
                return
            parts: list[str] = []
            async with await client.stream_chat(_core_request(), **_core_call(settings)) as stream:  # type: ignore[arg-type]
                async for chunk in stream:
                    result.chunks += 1
                    parts.extend(choice.delta.content or "" for choice in chunk.choices)
            result.text = "".join(parts)
            return
    try:
        framework = _framework(layer, base_url, settings)
        if mode == "async":
            result.text = framework.text(await getattr(framework.target, f"a{framework.call}")(*framework.args))
            return
        stream = getattr(framework.target, f"a{framework.stream}")(*framework.args)
        if inspect.isawaitable(stream):  # LlamaIndex: a coroutine that resolves to the stream
            stream = await stream
        parts = []
        async for item in stream:
            result.chunks += 1
            parts.append(framework.piece(item))
        result.text = "".join(parts)
    finally:
        await close_shared_async()


def run_call(layer: Layer, mode: Mode, base_url: str, settings: CallSettings | None = None) -> CallResult:
    """One chat call; never raises (the exception is in ``result.error``). Async modes run their own loop."""
    settings = settings or CallSettings()
    result = CallResult()
    with count_retries() as counter:
        try:
            if mode in ("sync", "stream"):
                _sync_call(layer, mode, base_url, settings, result)
            else:
                asyncio.run(_async_call(layer, mode, base_url, settings, result))
        except Exception as exc:  # the caller asserts on its exact type
            result.error = exc
        finally:
            close_shared_sync()
    result.attempts = 1 + counter.retries
    return result
