"""The read budget's edge: a deadline already spent refuses the read it was given, and leaves nothing dangling."""

from __future__ import annotations

import asyncio
import gc
import time
import warnings

import pytest

from cfaig._transports._limits import Budget, within
from cfaig.errors import GatewayTimeoutError


def test_a_spent_deadline_refuses_the_read_and_closes_it_unstarted() -> None:
    started: list[bool] = []

    async def read() -> bytes:
        started.append(True)
        return b"late"

    spent = Budget(seconds=0.2, deadline=time.monotonic() - 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(GatewayTimeoutError):
            asyncio.run(within(spent, read()))
        gc.collect()
    assert started == []
    assert not [w for w in caught if "never awaited" in str(w.message)]
