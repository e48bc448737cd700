"""Time zones: a city's, a person's, and the next daily digest time in it.

``CityRegistered`` carries no coordinates or zone, so a city's zone is its state's principal
zone (``STATE_ZONES``). For the states that span two zones the table names the zone most of
their people live in; the few cities on the other side (the Florida panhandle west of the
Apalachicola, El Paso, western Kentucky and Tennessee, north-western Indiana, Michigan's
western Upper Peninsula, parts of the Dakotas, Nebraska, Kansas, Idaho and Oregon) get an
invitation an hour off in their own reading. The zone is a field of the city's read model: when
accounts publishes a city's coordinates (for ``timezonefinder``) or its zone, that replaces it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

NRN_ZONE = "America/New_York"  # staff's zone unless they choose another; the pages show US Eastern

STATE_ZONES: dict[str, str] = {
    "AL": "America/Chicago", "AK": "America/Anchorage", "AZ": "America/Phoenix", "AR": "America/Chicago",
    "CA": "America/Los_Angeles", "CO": "America/Denver", "CT": "America/New_York", "DE": "America/New_York",
    "DC": "America/New_York", "FL": "America/New_York", "GA": "America/New_York", "HI": "Pacific/Honolulu",
    "ID": "America/Boise", "IL": "America/Chicago", "IN": "America/Indiana/Indianapolis", "IA": "America/Chicago",
    "KS": "America/Chicago", "KY": "America/New_York", "LA": "America/Chicago", "ME": "America/New_York",
    "MD": "America/New_York", "MA": "America/New_York", "MI": "America/Detroit", "MN": "America/Chicago",
    "MS": "America/Chicago", "MO": "America/Chicago", "MT": "America/Denver", "NE": "America/Chicago",
    "NV": "America/Los_Angeles", "NH": "America/New_York", "NJ": "America/New_York", "NM": "America/Denver",
    "NY": "America/New_York", "NC": "America/New_York", "ND": "America/Chicago", "OH": "America/New_York",
    "OK": "America/Chicago", "OR": "America/Los_Angeles", "PA": "America/New_York", "RI": "America/New_York",
    "SC": "America/New_York", "SD": "America/Chicago", "TN": "America/Chicago", "TX": "America/Chicago",
    "UT": "America/Denver", "VT": "America/New_York", "VA": "America/New_York", "WA": "America/Los_Angeles",
    "WV": "America/New_York", "WI": "America/Chicago", "WY": "America/Denver", "PR": "America/Puerto_Rico",
    "GU": "Pacific/Guam", "VI": "America/St_Thomas", "AS": "Pacific/Pago_Pago", "MP": "Pacific/Saipan",
}

# Offered on the preferences page: the US zones, by the names people know them by.
# Every zone of STATE_ZONES is here, so a person's default zone always has a name.
US_ZONES: dict[str, str] = {
    "America/New_York": "Eastern (New York, Atlanta, Boston)",
    "America/Detroit": "Eastern (Michigan)",
    "America/Indiana/Indianapolis": "Eastern (Indiana)",
    "America/Chicago": "Central (Chicago, Houston, St. Louis)",
    "America/Denver": "Mountain (Denver, Albuquerque)",
    "America/Boise": "Mountain (Idaho)",
    "America/Phoenix": "Arizona (Phoenix, no daylight saving)",
    "America/Los_Angeles": "Pacific (Los Angeles, Seattle)",
    "America/Anchorage": "Alaska (Anchorage)",
    "Pacific/Honolulu": "Hawaii (Honolulu)",
    "America/Puerto_Rico": "Atlantic (Puerto Rico)",
    "America/St_Thomas": "Atlantic (U.S. Virgin Islands)",
    "Pacific/Guam": "Chamorro (Guam)",
    "Pacific/Saipan": "Chamorro (Northern Mariana Islands)",
    "Pacific/Pago_Pago": "Samoa (American Samoa)",
}


def zone_for_state(state: str | None) -> str:
    return STATE_ZONES.get((state or "").upper(), NRN_ZONE)


def valid_zone(name: str) -> bool:
    if name not in available_timezones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def next_local_time(after: datetime, at: time, zone: str) -> datetime:
    """The first moment strictly after ``after`` (aware) whose wall-clock time in ``zone`` is ``at``,
    as UTC. On a spring-forward day a wall time that does not exist (02:30) is taken as the
    same instant an hour later, as clocks show it; on a fall-back day the earlier of the two."""
    tz = ZoneInfo(zone)
    local_day = after.astimezone(tz).date()
    for offset in range(0, 3):
        candidate = _wall(local_day + timedelta(days=offset), at, tz)
        if candidate > after:
            return candidate.astimezone(ZoneInfo("UTC"))
    raise AssertionError("unreachable: a wall time recurs within three days")


def _wall(day: date, at: time, tz: ZoneInfo) -> datetime:
    naive = datetime.combine(day, at)
    moment = naive.replace(tzinfo=tz, fold=0)
    # a nonexistent local time round-trips to another wall time: normalise through UTC
    return moment.astimezone(ZoneInfo("UTC")).astimezone(tz)
