"""A small in-process cache with a time to live, for composed parts that do not depend on who
asks (the dashboard's recommended resources per city and audience).

- Only successes are kept; a failure is raised to every caller waiting for it and not cached.
- Concurrent misses of one key share one fetch (no stampede on the service when it expires).
- Bounded: beyond ``max_entries`` the entry closest to expiry goes first.
A value is at most ``ttl`` seconds old when served: that is the staleness bound.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

Clock = Callable[[], float]


class TtlCache:
    def __init__(self, ttl: float, *, max_entries: int = 2048, clock: Clock = time.monotonic) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._values: dict[Hashable, tuple[float, Any]] = {}
        self._pending: dict[Hashable, asyncio.Future[Any]] = {}

    def __len__(self) -> int:
        return len(self._values)

    async def get(self, key: Hashable, fetch: Callable[[], Awaitable[Any]]) -> Any:
        hit = self._values.get(key)
        if hit is not None and hit[0] > self._clock():
            return hit[1]
        pending = self._pending.get(key)
        if pending is None:
            pending = self._pending[key] = asyncio.ensure_future(self._fill(key, fetch))
            pending.add_done_callback(retrieve_exception)  # a failure nobody waits for any more is not "never retrieved"
        # a caller that gives up (a section timeout) must not cancel the fetch others wait for
        return await asyncio.shield(pending)

    async def _fill(self, key: Hashable, fetch: Callable[[], Awaitable[Any]]) -> Any:
        try:
            value = await fetch()
        finally:
            self._pending.pop(key, None)
        if self.ttl > 0:
            if len(self._values) >= self.max_entries and key not in self._values:
                self._values.pop(min(self._values, key=lambda k: self._values[k][0]))
            self._values[key] = (self._clock() + self.ttl, value)
        return value


def retrieve_exception(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
