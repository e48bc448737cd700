"""Throttles on sign-in failures and on link requests, with the `limits` library.

Counters live in the storage named by ``RATE_LIMIT_STORAGE_URI`` (``async+memory://`` by default:
this process; ``async+redis://…`` or another store `limits` speaks shares them between replicas).
The per-account lockout is not here: it is in accounts' own database, shared whatever this
storage is. Why `limits`' MongoDB storage is not the default: its async flavour is built on Motor,
which MongoDB has deprecated in favour of PyMongo's own async client (the one the platform uses).
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from .config import Settings


class Throttle:
    """Named moving-window limits over one storage. ``wait`` asks without counting; ``hit`` counts."""

    def __init__(self, storage_uri: str, limits: dict[str, str]) -> None:
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self._items: dict[str, RateLimitItem] = {name: parse(rate) for name, rate in limits.items()}

    async def wait(self, name: str, key: str) -> int | None:
        """None when one more is allowed under limit ``name`` for ``key``; else whole seconds to wait."""
        item = self._items[name]
        if await self._limiter.test(item, name, key):
            return None
        stats = await self._limiter.get_window_stats(item, name, key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def hit(self, name: str, key: str) -> int | None:
        """Count one under limit ``name``; None when it was allowed, else whole seconds to wait."""
        item = self._items[name]
        if await self._limiter.hit(item, name, key):
            return None
        stats = await self._limiter.get_window_stats(item, name, key)
        return max(1, math.ceil(stats.reset_time - time.time()))


SIGNIN_FAILURES_PER_CLIENT = "signin-failures-per-client"
LINK_REQUESTS_PER_CLIENT = "link-requests-per-client"
LINK_REQUESTS_PER_ADDRESS = "link-requests-per-address"


def throttle_from(settings: Settings) -> Throttle:
    return Throttle(
        settings.rate_limit_storage_uri,
        {
            SIGNIN_FAILURES_PER_CLIENT: settings.signin_failures_per_client,
            LINK_REQUESTS_PER_CLIENT: settings.link_requests_per_client,
            LINK_REQUESTS_PER_ADDRESS: settings.link_requests_per_address,
        },
    )
