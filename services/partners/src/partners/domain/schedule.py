"""What one attempt's answer means, and when the next attempt is due.

Only a 2xx is success. A redirect is a failure (never followed). 410 Gone disables the endpoint at
once. 429 and 503 with Retry-After are retried no sooner than it says (capped). Anything else — other
statuses, timeouts, refused connections, a refused address — is retried on the schedule; after the
last attempt the delivery has failed and the endpoint is disabled.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum


class Outcome(StrEnum):
    succeeded = "succeeded"
    failed = "failed"  # this attempt; retried while the schedule lasts
    gone = "gone"  # 410: the endpoint is disabled


@dataclass(frozen=True)
class Answer:
    """What one attempt got: a status (None when there was no HTTP answer) and, if none, why."""

    status: int | None
    error: str | None = None
    retry_after: str | None = None

    @property
    def outcome(self) -> Outcome:
        if self.status is not None and 200 <= self.status < 300:
            return Outcome.succeeded
        if self.status == 410:
            return Outcome.gone
        return Outcome.failed

    def explanation(self) -> str:
        if self.error:
            return self.error
        if self.status is None:
            return "no answer"
        if 300 <= self.status < 400:
            return f"answered {self.status}: redirects are not followed"
        return f"answered {self.status}"


def retry_after_seconds(value: str | None, now: datetime, *, cap: float) -> float | None:
    """Retry-After as seconds from now (delta-seconds or an HTTP date), capped; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), cap)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return min(max((when - now).total_seconds(), 0.0), cap)


@dataclass(frozen=True)
class Next:
    """After a failed attempt: when to try again, or None when the schedule is spent."""

    at: datetime | None

    @property
    def give_up(self) -> bool:
        return self.at is None


def next_attempt(attempts_made: int, now: datetime, schedule: tuple[float, ...], *, jitter: float,
                 retry_after: float | None = None, rng: random.Random | None = None) -> Next:
    """``attempts_made`` attempts have failed (the last one just now): when is the next due?

    The delay is the schedule's next entry moved by up to ± ``jitter`` of itself; a Retry-After longer
    than that wins."""
    if attempts_made >= len(schedule):
        return Next(None)
    delay = schedule[attempts_made]
    if delay > 0 and jitter > 0:
        delay *= 1 + (rng or random).uniform(-jitter, jitter)
    if retry_after is not None and retry_after > delay:
        delay = retry_after
    return Next(now + timedelta(seconds=delay))
