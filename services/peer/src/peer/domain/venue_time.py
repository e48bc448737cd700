"""Dates in the venue's time zone: a wall-clock time typed for the venue becomes one UTC instant.

A local time in the spring-forward gap does not exist and one in the fall-back hour happens twice;
both are refused naming the field (never moved silently). Zones come from the IANA database
through :mod:`zoneinfo`. When the kit gains ``nrn_kit.localtime`` (branch ``edges``: the same
refusals plus the choice of fold for an ambiguous time) this module should defer to it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import InvalidInput


def zone(name: str, *, field: str = "timezone") -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("unknown_time_zone", f"{name!r} is not a time zone name such as America/New_York",
                           field=field) from None


def to_utc(local: datetime, tz: ZoneInfo, *, field: str) -> datetime:
    """``local`` (naive, the venue's wall clock; or aware, taken as is) as an aware UTC instant.

    Raises InvalidInput (rule ``nonexistent_local_time`` or ``ambiguous_local_time``) for a time
    the venue's clocks skip or show twice.
    """
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    first, second = local.replace(tzinfo=tz, fold=0), local.replace(tzinfo=tz, fold=1)
    if first.utcoffset() != second.utcoffset():
        round_trip = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
        when = f"{local:%B} {local.day}, {local.year} at {local:%-I:%M %p}"
        if round_trip != local:
            raise InvalidInput("nonexistent_local_time", f"{when} does not exist in {tz.key}: the clocks "
                               "spring forward over it; choose a time outside that hour", field=field)
        raise InvalidInput("ambiguous_local_time", f"{when} happens twice in {tz.key} (the clocks fall back); "
                           "choose a time outside that hour or give the UTC offset", field=field)
    return first.astimezone(UTC)


def local(at: datetime, tz: ZoneInfo) -> datetime:
    return at.astimezone(tz)
