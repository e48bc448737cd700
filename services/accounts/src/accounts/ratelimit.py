"""An in-process sliding-window rate limiter for sign-in attempts.

Per instance on purpose: it blunts bursts cheaply; the lockout (in the database) is the limit
that holds across instances.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class SlidingWindowLimiter:
    def __init__(
        self, limit: int, period: float = 60.0, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000
    ) -> None:
        self.limit = limit
        self.period = period
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._max_keys = max_keys

    def hit(self, key: str) -> float | None:
        """Record an attempt; returns None when allowed, else the seconds until one is allowed."""
        now = self._clock()
        window = self._hits.get(key)
        if window is None:
            if len(self._hits) >= self._max_keys:
                self._sweep(now)
            window = self._hits[key] = deque()
        while window and now - window[0] >= self.period:
            window.popleft()
        if len(window) >= self.limit:
            return max(0.001, self.period - (now - window[0]))
        window.append(now)
        return None

    def _sweep(self, now: float) -> None:
        stale = [k for k, w in self._hits.items() if not w or now - w[-1] >= self.period]
        for k in stale:
            del self._hits[k]
        if len(self._hits) >= self._max_keys:  # still full of live keys: forget the oldest half
            for k in list(self._hits)[: self._max_keys // 2]:
                del self._hits[k]
