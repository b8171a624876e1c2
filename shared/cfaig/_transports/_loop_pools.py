"""One async connection pool per event loop, created on first use there and closed when that loop shuts down.

A pool belongs to the loop it was opened in, so one async client serves code that calls
``asyncio.run`` more than once, and loops in several threads. To close a pool with its loop, a small
async generator is started in the loop and left suspended: a loop's shutdown
(``loop.shutdown_asyncgens()``, which ``asyncio.run`` calls) closes every suspended async generator,
and this one's ``finally`` closes the pool. Without it, a pool left behind by a finished ``asyncio.run``
would keep its sockets open.
"""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from cfaig._transports._fork import per_process

__all__ = ["LoopPools"]


class _Pool(Protocol):
    async def aclose(self) -> None: ...


_P = TypeVar("_P", bound=_Pool)


async def _close_with_loop(pool: _Pool) -> AsyncGenerator[None, None]:
    pid = os.getpid()
    try:
        yield
        yield  # never resumed: only closed, by the loop's shutdown or by LoopPools.aclose
    finally:
        if os.getpid() == pid:  # a forked child shutting an inherited loop down leaves the parent's pool be
            await pool.aclose()


@dataclass(slots=True)
class _Entry(Generic[_P]):
    pool: _P
    closer: AsyncGenerator[None, None]
    parked: bool = False


class LoopPools(Generic[_P]):
    """The pools of one client, one per event loop; ``open_pool`` makes a pool for the running loop."""

    __slots__ = ("__weakref__", "_entries", "_lock", "_open_pool")

    def __init__(self, open_pool: Callable[[], _P]) -> None:
        self._open_pool = open_pool
        self._entries: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Entry[_P]] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()
        per_process(self)

    def _forget_after_fork(self) -> None:
        """In a forked child: forget every pool (their sockets are the parent's); each loop opens its own."""
        self._entries = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def current(self) -> _P:
        """The running loop's pool, opened if it has none yet."""
        return self._entry().pool

    async def acquire(self) -> _P:
        """The running loop's pool, registered to close with the loop."""
        entry = self._entry()
        if not entry.parked:
            entry.parked = True
            await entry.closer.__anext__()  # started, then suspended: the loop's shutdown closes it
        return entry.pool

    def _entry(self) -> _Entry[_P]:
        loop = asyncio.get_running_loop()
        entry = self._entries.get(loop)
        if entry is None:
            with self._lock:
                entry = self._entries.get(loop)
                if entry is None:
                    for old in [owner for owner in self._entries if owner.is_closed()]:
                        del self._entries[old]  # their pools were closed at their loops' shutdown
                    pool = self._open_pool()
                    entry = self._entries[loop] = _Entry(pool, _close_with_loop(pool))
        return entry

    async def aclose(self) -> None:
        """Close the pool of the running loop (and forget pools of loops that are gone)."""
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        for owner, entry in list(self._entries.items()):
            if owner is loop:
                await entry.closer.aclose()  # closes the pool through its finally, if it was started
                await entry.pool.aclose()
                del self._entries[owner]
            elif owner.is_closed():
                del self._entries[owner]
