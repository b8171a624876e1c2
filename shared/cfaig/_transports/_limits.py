"""What bounds reading an answer: a deadline and a size, checked as the bytes arrive.

A :class:`Budget` holds both: ``timeout`` for a whole non-streaming request (one per attempt), or the optional
``stream_timeout`` for a whole stream (one per call), and ``max_response_bytes``, counted on the decoded
bytes, so a gzip body is measured after decompression. The sync readers check the deadline whenever bytes
arrive (a stall is caught by the per-read ``timeout``); the async ones also cancel a read that would
outlast it. Errors come from ``cfaig._error_mapping``, like every other.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from cfaig._constants import DEFAULT_MAX_RESPONSE_BYTES
from cfaig._error_mapping import deadline_error, too_large_error

__all__ = ["Budget", "aiter_bounded", "aread_body", "iter_bounded", "read_body", "within"]

_T = TypeVar("_T")
Setting = Literal["timeout", "stream_timeout"]


@dataclass(frozen=True, slots=True)
class Budget:
    """How long (a ``time.monotonic()`` deadline, or none) and how much (bytes) one answer may take."""

    max_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    seconds: float | None = None
    setting: Setting = "timeout"
    deadline: float | None = None

    @classmethod
    def start(cls, max_bytes: int, seconds: float | None, setting: Setting) -> Budget:
        """A budget whose clock starts now."""
        return cls(max_bytes, seconds, setting, None if seconds is None else time.monotonic() + seconds)

    def until_headers(self, seconds: float) -> Budget:
        """This budget, with the deadline ``seconds`` from now if that is sooner: how long a stream may take
        to open (send its request, receive the answer's headers)."""
        deadline = time.monotonic() + seconds
        if self.deadline is not None and self.deadline <= deadline:
            return self
        return Budget(self.max_bytes, seconds, "timeout", deadline)

    def remaining(self) -> float | None:
        """Seconds left (may be negative), or ``None`` without a deadline."""
        return None if self.deadline is None else self.deadline - time.monotonic()

    def expired(self) -> Exception:
        return deadline_error(self.setting, self.seconds or 0.0)

    def check(self, received: int, status_code: int | None = None) -> None:
        """Raise if ``received`` bytes are over the size, or the deadline has passed."""
        if received > self.max_bytes:
            raise too_large_error(self.max_bytes, status_code)
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise self.expired()


def iter_bounded(chunks: Iterable[bytes], budget: Budget) -> Iterator[bytes]:
    """``chunks`` as they come, until the budget is spent (then its error)."""
    received = 0
    for chunk in chunks:
        received += len(chunk)
        budget.check(received)
        yield chunk


async def within(budget: Budget, awaitable: Awaitable[_T]) -> _T:
    """``await awaitable``, cancelled with the budget's timeout error when its deadline passes first."""
    remaining = budget.remaining()
    if remaining is None:
        return await awaitable
    if remaining <= 0:
        if inspect.iscoroutine(awaitable):
            awaitable.close()  # never started: closed, so it is not reported as a coroutine never awaited
        raise budget.expired()
    if sys.version_info >= (3, 11):  # a cancel scope in this task: no task hop before the body is read
        scope = asyncio.timeout(remaining)
        try:
            async with scope:
                return await awaitable
        except TimeoutError as exc:
            if not scope.expired():  # a transport's own timeout: mapped as such
                raise
            raise budget.expired() from exc
    try:  # pragma: no cover - Python 3.10
        return await asyncio.wait_for(awaitable, remaining)
    except asyncio.TimeoutError as exc:  # pragma: no cover - Python 3.10
        if type(exc) is not asyncio.TimeoutError:
            raise
        raise budget.expired() from exc


async def aiter_bounded(chunks: AsyncIterable[bytes], budget: Budget) -> AsyncIterator[bytes]:
    """The async :func:`iter_bounded`; a read that would outlast the deadline is cancelled. Closing it closes
    ``chunks`` too (a stream that stops at ``[DONE]`` leaves no body generator for the loop to finalize)."""
    iterator = chunks.__aiter__()
    received = 0
    try:
        while True:
            try:
                chunk = await within(budget, _next(iterator))
            except StopAsyncIteration:
                return
            received += len(chunk)
            budget.check(received)
            yield chunk
    finally:
        closing = getattr(iterator, "aclose", None)
        if closing is not None:
            await closing()


async def _next(iterator: AsyncIterator[bytes]) -> bytes:
    return await iterator.__anext__()


class _SyncBody(Protocol):
    status_code: int

    def iter_bytes(self) -> Iterator[bytes]: ...
    def close(self) -> None: ...


class _AsyncBody(Protocol):
    status_code: int

    def aiter_bytes(self) -> AsyncIterator[bytes]: ...
    async def aclose(self) -> None: ...


class _Collector:
    """The chunks of one body, checked against the budget as they are added."""

    __slots__ = ("_budget", "_received", "_status", "_truncate", "chunks")

    def __init__(self, budget: Budget, status_code: int, truncate: bool) -> None:
        self._budget = budget
        self._status = status_code
        self._truncate = truncate
        self._received = 0
        self.chunks: list[bytes] = []

    def add(self, chunk: bytes) -> bool:
        """Keep ``chunk``; ``False`` when reading should stop (a truncated error body is complete)."""
        self._received += len(chunk)
        over = self._received - self._budget.max_bytes
        if self._truncate and over > 0:
            self.chunks.append(chunk[: len(chunk) - over])
            return False
        self._budget.check(self._received, self._status)
        self.chunks.append(chunk)
        return True

    def keep(self, response: Any) -> bytes:
        body = b"".join(self.chunks)
        response._content = body  # what ``read()`` / ``aread()`` return from now on, as after httpx's own read
        return body


def read_body(response: _SyncBody, budget: Budget, *, truncate: bool = False) -> bytes:
    """The whole decoded body within ``budget``, kept for ``response.read()``; the response is closed after.

    ``truncate``: an error answer's body, of which an excerpt is enough: cut at the size limit, never raising
    for it.
    """
    body = _Collector(budget, response.status_code, truncate)
    try:
        for chunk in response.iter_bytes():
            if not body.add(chunk):
                break
    finally:
        response.close()
    return body.keep(response)


async def aread_body(response: _AsyncBody, budget: Budget, *, truncate: bool = False) -> bytes:
    """The async :func:`read_body` (the deadline of a whole request is the caller's :func:`within`)."""
    body = _Collector(budget, response.status_code, truncate)
    try:
        async for chunk in response.aiter_bytes():
            if not body.add(chunk):
                break
    finally:
        await response.aclose()
    return body.keep(response)
