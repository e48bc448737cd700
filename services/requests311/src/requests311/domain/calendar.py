"""Business days: weekends and US federal holidays (5 U.S.C. 6103), computed, never fetched.

Observed-day rule: a holiday on a Saturday is observed on the Friday before, one on a
Sunday on the Monday after. New Year's Day falling on a Saturday is therefore observed on
31 December of the year before, so a year's observed holidays can include a date from
the next year's rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

MONDAY, THURSDAY, SATURDAY, SUNDAY = 0, 3, 5, 6
DAY = 86_400.0


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(d: date) -> date:
    if d.weekday() == SATURDAY:
        return d - timedelta(days=1)
    if d.weekday() == SUNDAY:
        return d + timedelta(days=1)
    return d


def federal_holidays(year: int) -> dict[date, str]:
    """The legal holidays of `year` as (actual date → name); see `observed_holidays` for days off."""
    days = {
        date(year, 1, 1): "New Year's Day",
        _nth_weekday(year, 1, MONDAY, 3): "Birthday of Martin Luther King, Jr.",
        _nth_weekday(year, 2, MONDAY, 3): "Washington's Birthday",
        _last_weekday(year, 5, MONDAY): "Memorial Day",
        date(year, 7, 4): "Independence Day",
        _nth_weekday(year, 9, MONDAY, 1): "Labor Day",
        _nth_weekday(year, 10, MONDAY, 2): "Columbus Day",
        date(year, 11, 11): "Veterans Day",
        _nth_weekday(year, 11, THURSDAY, 4): "Thanksgiving Day",
        date(year, 12, 25): "Christmas Day",
    }
    if year >= 2021:  # Juneteenth National Independence Day Act, 17 June 2021
        days[date(year, 6, 19)] = "Juneteenth National Independence Day"
    return days


@lru_cache(maxsize=256)
def observed_holidays(year: int) -> dict[date, str]:
    """Days in `year` on which federal offices close (observed dates), with the holiday's name."""
    out: dict[date, str] = {}
    for y in (year, year + 1):  # next year's 1 January may be observed on this 31 December
        for d, name in federal_holidays(y).items():
            od = _observed(d)
            if od.year == year:
                out[od] = name if od == d else f"{name} (observed)"
    return dict(sorted(out.items()))


def is_business_day(d: date) -> bool:
    return d.weekday() < SATURDAY and d not in observed_holidays(d.year)


@dataclass(frozen=True)
class BusinessCalendar:
    """Counts business time in a time zone: a business day counts all of its 24 hours.

    Durations are measured in seconds of business days so that "1 business day" from
    Friday 15:00 is Monday 15:00, and partial days (a request filed on Tuesday afternoon)
    are treated fairly.
    """

    timezone: str = "America/New_York"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def _day_bounds(self, d: date) -> tuple[datetime, datetime]:
        start = datetime.combine(d, time(0), self.tz)
        end = datetime.combine(d + timedelta(days=1), time(0), self.tz)
        return start, end

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Seconds of [start, end) that fall on business days (local days; DST-aware)."""
        if end <= start:
            return 0.0
        total = 0.0
        d = start.astimezone(self.tz).date()
        last = end.astimezone(self.tz).date()
        while d <= last:
            if is_business_day(d):
                ds, de = self._day_bounds(d)
                lo, hi = max(ds, start), min(de, end)
                if hi > lo:
                    # a local day is 23 or 25 hours at DST changes; count it as a whole day
                    total += (hi - lo).total_seconds() * DAY / (de - ds).total_seconds()
            d += timedelta(days=1)
        return total

    def add_business_seconds(self, start: datetime, seconds: float) -> datetime:
        """The earliest instant at which `seconds` of business time have passed since `start`."""
        if seconds <= 0:
            return start
        remaining = seconds
        d = start.astimezone(self.tz).date()
        for _ in range(3700):  # ten years of days: a guard, not a limit anyone reaches
            if is_business_day(d):
                ds, de = self._day_bounds(d)
                lo = max(ds, start)
                scale = (de - ds).total_seconds() / DAY
                avail = (de - lo).total_seconds() / scale
                if avail >= remaining:
                    return lo + timedelta(seconds=remaining * scale)
                remaining -= avail
            d += timedelta(days=1)
        raise ValueError("business-time addition ran past ten years")

    def add_business_days(self, start: datetime, days: float) -> datetime:
        return self.add_business_seconds(start, days * DAY)

    def business_days(self, start: datetime, end: datetime) -> float:
        return self.business_seconds(start, end) / DAY
