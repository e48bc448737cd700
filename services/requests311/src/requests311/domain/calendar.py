"""Business days: weekends and US federal holidays (5 U.S.C. 6103), computed, never fetched.

The holidays come from the `holidays` library (`holidays.US`, no state: the federal list), which
knows the observed-day rule (a holiday on a Saturday is observed on the Friday before, one on a
Sunday on the Monday after, so New Year's Day on a Saturday is observed on 31 December of the year
before) and the history (Juneteenth from 2021). Kept here only: which of its dates close offices.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

SATURDAY = 5
DAY = 86_400.0


@lru_cache(maxsize=256)
def observed_holidays(year: int) -> dict[date, str]:
    """Weekdays of `year` on which federal offices close, in date order, with the holiday's name
    ("… (observed)" when moved off a weekend). The library lists a weekend holiday under its own
    date too; that day is no business day anyway, so only weekdays are kept."""
    days = holidays.US(years=year, observed=True)
    return {d: name for d, name in sorted(days.items()) if d.year == year and d.weekday() < SATURDAY}


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
