"""Dates in the venue's time zone: a wall-clock time typed for the venue becomes one UTC instant.

The kit's ``nrn_kit.localtime`` does the work (zoneinfo): a local time in the spring-forward gap
does not exist and one in the fall-back hour happens twice; both are refused naming the field,
never moved silently. Its errors become this service's ``InvalidInput`` (422, ``rule`` and
``field``), so every refusal of peer's API has one shape.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from nrn_kit import localtime

from .errors import InvalidInput

_RULES = {localtime.NonexistentLocalTime: "nonexistent_local_time",
          localtime.AmbiguousLocalTime: "ambiguous_local_time", localtime.UnknownTimeZone: "unknown_time_zone"}


def _invalid(exc: localtime.LocalTimeError, field: str) -> InvalidInput:
    detail = exc.detail + (" Choose a time outside that hour, or send it with its UTC offset."
                           if isinstance(exc, localtime.AmbiguousLocalTime) else "")
    return InvalidInput(_RULES.get(type(exc), "invalid_local_time"), detail, field=field)


def zone(name: str, *, field: str = "timezone") -> ZoneInfo:
    try:
        return localtime.time_zone(name, field=field)
    except localtime.LocalTimeError as exc:
        raise _invalid(exc, field) from None


def to_utc(local: datetime, tz: ZoneInfo, *, field: str) -> datetime:
    """``local`` (naive, the venue's wall clock; or aware, taken as is) as an aware UTC instant.

    Raises InvalidInput (rule ``nonexistent_local_time`` or ``ambiguous_local_time``) for a time
    the venue's clocks skip or show twice.
    """
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    try:
        return localtime.to_aware(local, tz, field=field).astimezone(UTC)
    except localtime.LocalTimeError as exc:
        raise _invalid(exc, field) from None
