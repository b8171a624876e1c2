"""Connection pools are per process: after ``os.fork()`` the child forgets every pool it inherited.

A keep-alive connection copied into a forked child (gunicorn ``--preload``, Celery prefork,
``multiprocessing``) is one socket shared by two processes, and each can read the other's answer. So every
pool registers here, and ``os.register_at_fork`` has the child drop them (never close them: closing could
write on the parent's connections) and replace their locks, which another thread may have held at the fork.
The next request in the child opens a pool of its own; the parent is not affected.
"""

from __future__ import annotations

import os
import weakref
from typing import Protocol

__all__ = ["per_process"]


class _ForkAware(Protocol):
    def _forget_after_fork(self) -> None: ...


_live: weakref.WeakSet[_ForkAware] = weakref.WeakSet()


def per_process(pool: _ForkAware) -> None:
    """Have ``pool._forget_after_fork()`` called in every child forked from now on."""
    _live.add(pool)


def _in_child() -> None:
    for pool in list(_live):
        pool._forget_after_fork()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_in_child)
