"""Naive local date-times made aware — the one place it happens.

A person types a wall-clock time ("2027-03-14T02:30") meant in some time zone. Twice a year in
zones with daylight saving time that is not enough to name an instant:

* in the spring-forward gap the time **does not exist** (New York's clocks go from 1:59:59 EST to
  3:00:00 EDT): :func:`to_aware` refuses it with :class:`NonexistentLocalTime`, whose message says
  what the clocks do, never moving it silently to 3:30;
* in the fall-back overlap the time **happens twice** (1:30 EDT, then an hour later 1:30 EST):
  :func:`to_aware` raises :class:`AmbiguousLocalTime` with both choices, and the caller sends the time
  again with ``fold`` (0 = the first, 1 = the second, as in PEP 495) or the UTC offset it means.

Zones without daylight saving time (America/Phoenix, Pacific/Honolulu) have neither. Errors are
:class:`LocalTimeError` (a ``ValueError``) carrying the ``field`` at fault; :meth:`LocalTimeError.problem`
gives the extra members of an RFC 9457 body (``field``, ``errors``, and for an ambiguous time ``choices``).
Time zones come from the IANA database through :mod:`zoneinfo`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "AmbiguousLocalTime",
    "LocalTimeChoice",
    "LocalTimeError",
    "NonexistentLocalTime",
    "UnknownTimeZone",
    "WrongOffset",
    "PROGRAM_ZONE",
    "check_local_has_zone",
    "check_zone_name",
    "format_offset",
    "program_today",
    "zone_label",
    "resolve",
    "time_zone",
    "to_aware",
]

Fold = Literal[0, 1]

# The program works on US Eastern time: its days, deadlines and "not in the future" checks.
PROGRAM_ZONE = ZoneInfo("America/New_York")


def program_today(now: datetime | None = None) -> date:
    """The program's calendar day: the date in US Eastern (:data:`PROGRAM_ZONE`) at ``now``
    (an aware instant; the current time when omitted).

    Not ``date.today()``: servers keep UTC, which runs into tomorrow from 7 or 8 pm Eastern, so a
    day counted there refuses a visit made today as "in the future" and closes a federal deadline
    (11:59 pm Eastern) hours early.
    """
    return (now or datetime.now(UTC)).astimezone(PROGRAM_ZONE).date()


def us_time(at: datetime | time) -> str:
    """A time of day as people in the US read it: '1:30 AM', '5:00 PM'."""
    return f"{(at.hour % 12) or 12}:{at.minute:02d} {'AM' if at.hour < 12 else 'PM'}"


_clock = us_time


def us_date(day: date) -> str:
    """A calendar date as people in the US write it on a page or in a message: "Tue, Mar 10, 2026"."""
    return f"{day:%a, %b} {day.day}, {day.year}"


def us_datetime(moment: datetime, zone: str | ZoneInfo) -> str:
    """An instant as a wall clock in ``zone``, written the US way with the zone's abbreviation:
    "Tue, Mar 10, 2026, 11:00 AM EDT". The abbreviation says which side of a clock change the time
    is on (1:30 AM EDT and 1:30 AM EST are an hour apart). ``moment`` must be aware."""
    tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    local = moment.astimezone(tz)
    return f"{us_date(local)}, {_clock(local)} {local.tzname() or tz.key}"


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds()) // 60
    return "an hour" if minutes == 60 else f"{minutes} minutes"


def _day(at: datetime | date) -> str:
    return f"{at:%A}, {at:%B} {at.day}, {at.year}"


# How people in the US name their zones; any other zone is named by its IANA name.
_US_ZONE_NAMES = {
    "America/New_York": "Eastern time", "America/Detroit": "Eastern time",
    "America/Indiana/Indianapolis": "Eastern time", "America/Chicago": "Central time",
    "America/Denver": "Mountain time", "America/Boise": "Mountain time",
    "America/Phoenix": "Arizona time (Mountain Standard Time all year)", "America/Los_Angeles": "Pacific time",
    "America/Anchorage": "Alaska time", "Pacific/Honolulu": "Hawaii time", "America/Puerto_Rico": "Atlantic time",
}


def zone_label(zone: str | ZoneInfo) -> str:
    """'Eastern time' for America/New_York; 'the Europe/London time zone' for a zone without a US name."""
    key = zone.key if isinstance(zone, ZoneInfo) else zone
    return _US_ZONE_NAMES.get(key) or f"the {key.replace('_', ' ')} time zone"


def format_offset(offset: timedelta) -> str:
    """'-04:00' for four hours behind UTC (seconds, which no current zone uses, are dropped)."""
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{mins:02d}"


def _utc_label(offset: timedelta) -> str:
    return "UTC" + format_offset(offset).replace("-", "\u2212")


class LocalTimeError(ValueError):
    """A local time that cannot be made an instant as given; ``detail`` is a sentence for a person."""

    code = "invalid-local-time"
    title = "Invalid date and time"

    def __init__(self, detail: str, *, field: str, local: datetime | None = None, zone: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.local = local
        self.zone = zone

    def problem(self) -> dict[str, Any]:
        """The extension members of a 422 problem body."""
        return {"field": self.field, "errors": [{"field": self.field, "message": self.detail}]}


class UnknownTimeZone(LocalTimeError):
    code = "unknown-time-zone"


class NonexistentLocalTime(LocalTimeError):
    code = "nonexistent-local-time"
    title = "That time does not exist"


class WrongOffset(LocalTimeError):
    code = "wrong-utc-offset"


@dataclass(frozen=True)
class LocalTimeChoice:
    """One of the two instants an ambiguous wall-clock time can mean."""

    fold: Fold
    at: datetime  # aware, with the zone's offset at that instant
    abbreviation: str  # "EDT"
    label: str  # "1:30 AM EDT (UTC−04:00), the first time"

    @property
    def offset(self) -> str:
        return format_offset(self.at.utcoffset() or timedelta(0))

    def as_dict(self) -> dict[str, Any]:
        return {"fold": self.fold, "offset": self.offset, "abbreviation": self.abbreviation,
                "starts_at": self.at.isoformat(), "label": self.label}


class AmbiguousLocalTime(LocalTimeError):
    code = "ambiguous-local-time"
    title = "Which of the two times do you mean?"

    def __init__(self, detail: str, *, field: str, local: datetime, zone: str,
                 choices: tuple[LocalTimeChoice, LocalTimeChoice]) -> None:
        super().__init__(detail, field=field, local=local, zone=zone)
        self.choices = choices

    def problem(self) -> dict[str, Any]:
        return super().problem() | {"choices": [c.as_dict() for c in self.choices]}


def time_zone(name: str | ZoneInfo, *, field: str = "time_zone") -> ZoneInfo:
    """The IANA zone of that name (``America/New_York``); :class:`UnknownTimeZone` otherwise."""
    if isinstance(name, ZoneInfo):
        return name
    try:
        if not name or len(name) > 64 or name != name.strip():
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UnknownTimeZone(f"{name[:64]!r} is not a time zone name of the IANA database, "
                              "e.g. America/New_York", field=field, zone=name[:64]) from None


def _transition(tz: ZoneInfo, lo: datetime, hi: datetime) -> datetime:
    """The instant in (lo, hi] at which the zone's offset changes (lo, hi aware UTC; one change between)."""
    before = lo.astimezone(tz).utcoffset()
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(tz).utcoffset() == before:
            lo = mid
        else:
            hi = mid
    return hi.replace(microsecond=0)


def _fixed(at: datetime) -> datetime:
    """The same instant with a fixed-offset tzinfo. Two ZoneInfo-aware values of one zone compare by
    wall clock, ignoring ``fold`` (1:30 EDT == 1:30 EST!); fixed offsets compare as instants."""
    offset = at.utcoffset()
    assert offset is not None
    return at.astimezone(timezone(offset))


def _parse_offset(value: str | timedelta, field: str) -> timedelta:
    if isinstance(value, timedelta):
        return value
    try:
        parsed = datetime.strptime(value.replace("Z", "+00:00"), "%z").utcoffset()
    except ValueError:
        parsed = None
    if parsed is None:
        raise LocalTimeError(f"{value[:20]!r} is not a UTC offset such as -04:00", field=field)
    return parsed


def to_aware(local: datetime, zone: str | ZoneInfo, *, fold: int | None = None,
             offset: str | timedelta | None = None, field: str = "starts_at") -> datetime:
    """The instant that the wall-clock time ``local`` (naive) means in ``zone``.

    ``fold`` (0 or 1) or ``offset`` (``-05:00``) picks one of the two instants of an ambiguous time;
    either is ignored where the time happens once, except that an ``offset`` the zone does not use at
    that time is refused (:class:`WrongOffset`). Raises :class:`NonexistentLocalTime` inside a
    spring-forward gap, :class:`AmbiguousLocalTime` (with ``choices``) in a fall-back overlap when
    neither ``fold`` nor ``offset`` says which, :class:`UnknownTimeZone`. An aware ``local`` is
    refused too (a ``LocalTimeError``): it is not a wall-clock time.
    """
    tz = time_zone(zone, field="time_zone")
    name = tz.key
    if local.tzinfo is not None:
        raise LocalTimeError("expected a local date and time without a UTC offset", field=field, local=local,
                             zone=name)
    if fold not in (None, 0, 1):
        raise LocalTimeError("fold is 0 (the first of a time that happens twice) or 1 (the second)",
                             field="fold", local=local, zone=name)
    first = local.replace(tzinfo=tz, fold=0)
    second = local.replace(tzinfo=tz, fold=1)
    off_first, off_second = first.utcoffset(), second.utcoffset()
    assert off_first is not None and off_second is not None
    wanted = _parse_offset(offset, field) if offset is not None else None

    if off_first == off_second:  # the usual case: the time happens exactly once
        if wanted is not None and wanted != off_first:
            raise WrongOffset(f"{_clock(local)} on {_day(local)} in {zone_label(name)} is {_utc_label(off_first)}, "
                              f"not {_utc_label(wanted)}", field=field, local=local, zone=name)
        return _fixed(first)

    # The two readings differ: a gap (neither round-trips) or an overlap (both do).
    exists = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == local
    if not exists:
        candidates = sorted((local - off_first, local - off_second))
        at = _transition(tz, candidates[0].replace(tzinfo=UTC) - timedelta(hours=1),
                         candidates[1].replace(tzinfo=UTC) + timedelta(hours=1))
        before = (at - timedelta(seconds=1)).astimezone(tz)
        after = at.astimezone(tz)
        raise NonexistentLocalTime(
            f"{_clock(local)} on {_day(local)} does not exist in {zone_label(name)}: the clocks go forward from "
            f"{_clock(before + timedelta(seconds=1))} {before.tzname()} to {_clock(after)} {after.tzname()}. "
            "Choose a time outside that gap.", field=field, local=local, zone=name)

    choices = tuple(
        LocalTimeChoice(n, _fixed(at), at.tzname() or "",
                        f"{_clock(local)} {at.tzname()} ({_utc_label(at.utcoffset())}), the {nth} time")
        for n, at, nth in ((0, first, "first"), (1, second, "second"))
    )
    if wanted is not None:
        match = next((c for c in choices if c.at.utcoffset() == wanted), None)
        if match is None:
            raise WrongOffset(f"{_clock(local)} on {_day(local)} in {zone_label(name)} is either {_utc_label(off_first)} or "
                              f"{_utc_label(off_second)}, not {_utc_label(wanted)}", field=field, local=local,
                              zone=name)
        return match.at
    if fold is not None:
        return choices[fold].at
    raise AmbiguousLocalTime(
        f"{_clock(local)} on {_day(local)} happens twice in {zone_label(name)}, because the clocks go back "
        f"{_duration(off_first - off_second)}: "
        f"say which one you mean — {choices[0].label}, or {choices[1].label}.",
        field=field, local=local, zone=name, choices=choices)


def resolve(value: datetime, zone: str | None, *, fold: int | None = None, field: str = "starts_at",
            zone_field: str = "time_zone") -> datetime:
    """An instant from what an API caller sent: a date-time with its UTC offset, or a local one with a zone.

    With an offset and a zone, the offset must be one the zone uses at that wall-clock time (so
    ``2027-03-14T02:30-05:00`` in America/New_York is refused as nonexistent). A local time without
    a zone is refused (:class:`LocalTimeError` on ``field``): the platform never guesses a zone.
    """
    if value.tzinfo is not None and value.utcoffset() is not None:
        if zone is not None:
            to_aware(value.replace(tzinfo=None), time_zone(zone, field=zone_field), offset=value.utcoffset(),
                     field=field)
        return value
    if zone is None:
        raise LocalTimeError("give the date and time with its UTC offset (e.g. 2027-11-07T01:30:00-05:00), "
                             "or send time_zone (e.g. America/New_York) with a local time", field=field,
                             local=value)
    return to_aware(value, time_zone(zone, field=zone_field), fold=fold, field=field)


def check_zone_name(name: str | None) -> str | None:
    """For a pydantic field validator: the name when it is an IANA zone (or None), else ValueError."""
    if name is not None:
        time_zone(name)
    return name


def check_local_has_zone(value: datetime, zone: str | None) -> None:
    """For a pydantic model validator: ValueError when a local date-time comes without a zone."""
    if (value.tzinfo is None or value.utcoffset() is None) and zone is None:
        raise ValueError("a date and time without a UTC offset needs time_zone (e.g. America/New_York)")
