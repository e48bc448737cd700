"""Naive local date-times made aware: refused in a gap, asked about in an overlap, plain elsewhere."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from nrn_kit.localtime import (
    us_date,
    us_datetime,
    AmbiguousLocalTime,
    LocalTimeError,
    NonexistentLocalTime,
    UnknownTimeZone,
    WrongOffset,
    program_today,
    resolve,
    to_aware,
    zone_label,
)

NY = "America/New_York"


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# --- spring forward: the gap ---------------------------------------------------------------------


@pytest.mark.parametrize("wall", ["2027-03-14T02:00", "2027-03-14T02:30", "2027-03-14T02:59:59"])
def test_a_time_in_the_spring_forward_gap_is_refused_with_what_the_clocks_do(wall: str) -> None:
    with pytest.raises(NonexistentLocalTime) as caught:
        to_aware(datetime.fromisoformat(wall), NY, field="slots.0.starts_at")
    error = caught.value
    assert error.field == "slots.0.starts_at" and error.zone == NY
    assert "does not exist in Eastern time" in error.detail
    assert "from 2:00 AM EST to 3:00 AM EDT" in error.detail
    assert "Sunday, March 14, 2027" in error.detail
    assert error.problem()["errors"] == [{"field": "slots.0.starts_at", "message": error.detail}]


def test_a_gap_time_is_refused_whatever_fold_or_offset_is_sent() -> None:
    for kw in ({"fold": 0}, {"fold": 1}, {"offset": "-05:00"}, {"offset": "-04:00"}):
        with pytest.raises(NonexistentLocalTime):
            to_aware(datetime(2027, 3, 14, 2, 30), NY, **kw)


def test_the_edges_of_the_gap_exist() -> None:
    assert to_aware(datetime(2027, 3, 14, 1, 59), NY) == _utc("2027-03-14T06:59:00+00:00")
    assert to_aware(datetime(2027, 3, 14, 3, 0), NY) == _utc("2027-03-14T07:00:00+00:00")


@pytest.mark.parametrize(
    ("zone", "wall", "clocks"),
    [
        ("America/Chicago", datetime(2027, 3, 14, 2, 15), "from 2:00 AM CST to 3:00 AM CDT"),
        ("America/Los_Angeles", datetime(2027, 3, 14, 2, 45), "from 2:00 AM PST to 3:00 AM PDT"),
        ("America/Anchorage", datetime(2027, 3, 14, 2, 0), "from 2:00 AM AKST to 3:00 AM AKDT"),
        ("Europe/London", datetime(2027, 3, 28, 1, 30), "from 1:00 AM GMT to 2:00 AM BST"),
        ("America/Santiago", datetime(2024, 9, 8, 0, 30), "from 12:00 AM -04 to 1:00 AM -03"),  # at midnight
        ("Australia/Lord_Howe", datetime(2027, 10, 3, 2, 15), "from 2:00 AM +1030 to 2:30 AM +11"),  # 30 minutes
    ],
)
def test_gaps_in_other_zones_name_their_own_clock_change(zone: str, wall: datetime, clocks: str) -> None:
    with pytest.raises(NonexistentLocalTime) as caught:
        to_aware(wall, zone)
    assert clocks in caught.value.detail
    assert zone_label(zone) in caught.value.detail


def test_zones_are_named_as_people_name_them() -> None:
    assert zone_label(NY) == "Eastern time" and zone_label("America/Chicago") == "Central time"
    assert zone_label("Pacific/Honolulu") == "Hawaii time"
    assert zone_label("America/Argentina/Buenos_Aires") == "the America/Argentina/Buenos Aires time zone"


# --- fall back: the overlap ----------------------------------------------------------------------


def test_a_time_that_happens_twice_asks_which_one_with_both_choices() -> None:
    with pytest.raises(AmbiguousLocalTime) as caught:
        to_aware(datetime(2027, 11, 7, 1, 30), NY, field="slots.1.starts_at")
    error = caught.value
    assert error.field == "slots.1.starts_at"
    assert "happens twice in Eastern time" in error.detail and "go back an hour" in error.detail
    first, second = error.problem()["choices"]
    assert first == {"fold": 0, "offset": "-04:00", "abbreviation": "EDT", "starts_at": "2027-11-07T01:30:00-04:00",
                     "label": "1:30 AM EDT (UTC\u221204:00), the first time"}
    assert second == {"fold": 1, "offset": "-05:00", "abbreviation": "EST", "starts_at": "2027-11-07T01:30:00-05:00",
                      "label": "1:30 AM EST (UTC\u221205:00), the second time"}
    assert error.problem()["field"] == "slots.1.starts_at"


def test_the_caller_picks_with_fold_or_with_the_offset() -> None:
    wall = datetime(2027, 11, 7, 1, 30)
    assert to_aware(wall, NY, fold=0) == _utc("2027-11-07T05:30:00+00:00")
    assert to_aware(wall, NY, fold=1) == _utc("2027-11-07T06:30:00+00:00")
    assert to_aware(wall, NY, offset="-04:00") == to_aware(wall, NY, fold=0)
    assert to_aware(wall, NY, offset=timedelta(hours=-5)) == to_aware(wall, NY, fold=1)
    with pytest.raises(WrongOffset, match="either UTC\u221204:00 or UTC\u221205:00"):
        to_aware(wall, NY, offset="-06:00")


def test_the_two_instants_of_an_ambiguous_time_are_different_values() -> None:
    # ZoneInfo-aware values of one zone compare by wall clock, ignoring fold; ours carry fixed offsets
    wall = datetime(2027, 11, 7, 1, 30)
    first, second = to_aware(wall, NY, fold=0), to_aware(wall, NY, fold=1)
    assert first != second and first < second and len({first, second}) == 2
    assert (first.isoformat(), second.isoformat()) == ("2027-11-07T01:30:00-04:00", "2027-11-07T01:30:00-05:00")


def test_the_edges_of_the_overlap_happen_once() -> None:
    assert to_aware(datetime(2027, 11, 7, 0, 59), NY).utcoffset() == timedelta(hours=-4)
    assert to_aware(datetime(2027, 11, 7, 2, 0), NY).utcoffset() == timedelta(hours=-5)
    for wall in (datetime(2027, 11, 7, 1, 0), datetime(2027, 11, 7, 1, 59, 59)):
        with pytest.raises(AmbiguousLocalTime):
            to_aware(wall, NY)


def test_a_half_hour_fall_back_says_so() -> None:
    with pytest.raises(AmbiguousLocalTime) as caught:
        to_aware(datetime(2027, 4, 4, 1, 45), "Australia/Lord_Howe")
    assert "go back 30 minutes" in caught.value.detail


# --- zones without daylight saving time -----------------------------------------------------------


@pytest.mark.parametrize(("zone", "offset"), [("America/Phoenix", -7), ("Pacific/Honolulu", -10)])
@pytest.mark.parametrize("wall", [datetime(2027, 3, 14, 2, 30), datetime(2027, 11, 7, 1, 30), datetime(2027, 7, 1, 9)])
def test_zones_without_daylight_saving_take_every_wall_time_once(zone: str, offset: int, wall: datetime) -> None:
    at = to_aware(wall, zone)
    assert at.utcoffset() == timedelta(hours=offset)
    assert at.replace(tzinfo=None) == wall
    assert to_aware(wall, zone, fold=1) == at  # fold means nothing where the time happens once
    with pytest.raises(WrongOffset, match="is UTC"):
        to_aware(wall, zone, offset="-04:00")


# --- what is refused whatever the time -----------------------------------------------------------


@pytest.mark.parametrize("name", ["Eastern", "EST5EDTX", "", " America/New_York", "../../etc/passwd", "x" * 300])
def test_an_unknown_zone_is_refused(name: str) -> None:
    with pytest.raises(UnknownTimeZone) as caught:
        to_aware(datetime(2027, 7, 1, 9), name)
    assert caught.value.field == "time_zone"


def test_an_aware_value_is_not_a_wall_clock_time() -> None:
    with pytest.raises(LocalTimeError):
        to_aware(datetime(2027, 7, 1, 9, tzinfo=UTC), NY)


# --- resolve: what an API caller sends ------------------------------------------------------------


def test_resolve_takes_an_offset_as_sent_and_checks_it_against_a_zone() -> None:
    sent = datetime.fromisoformat("2027-11-07T01:30:00-05:00")
    assert resolve(sent, None) == sent
    assert resolve(sent, NY) == sent
    with pytest.raises(NonexistentLocalTime):
        resolve(datetime.fromisoformat("2027-03-14T02:30:00-05:00"), NY)
    with pytest.raises(WrongOffset):
        resolve(datetime.fromisoformat("2027-07-01T09:00:00-05:00"), NY)


def test_resolve_needs_a_zone_for_a_local_time_and_names_the_fields() -> None:
    with pytest.raises(LocalTimeError) as caught:
        resolve(datetime(2027, 7, 1, 9), None, field="slots.2.starts_at")
    assert caught.value.field == "slots.2.starts_at" and "time_zone" in caught.value.detail
    with pytest.raises(UnknownTimeZone) as caught:
        resolve(datetime(2027, 7, 1, 9), "Mars/Olympus", zone_field="slots.2.time_zone")
    assert caught.value.field == "slots.2.time_zone"
    with pytest.raises(AmbiguousLocalTime):
        resolve(datetime(2027, 11, 7, 1, 30), NY)
    assert resolve(datetime(2027, 11, 7, 1, 30), NY, fold=1).isoformat() == "2027-11-07T01:30:00-05:00"


def test_dates_and_times_are_written_the_us_way_with_the_side_of_a_clock_change() -> None:
    # the same wall clock twice on the night clocks go back: the abbreviation tells them apart
    first = datetime(2027, 11, 7, 5, 30, tzinfo=UTC)
    second = datetime(2027, 11, 7, 6, 30, tzinfo=UTC)
    assert us_datetime(first, "America/New_York") == "Sun, Nov 7, 2027, 1:30 AM EDT"
    assert us_datetime(second, "America/New_York") == "Sun, Nov 7, 2027, 1:30 AM EST"
    assert us_datetime(datetime(2026, 3, 10, 17, 0, tzinfo=UTC), "America/Chicago") == "Tue, Mar 10, 2026, 12:00 PM CDT"
    assert us_datetime(datetime(2026, 1, 1, 5, 5, tzinfo=UTC), "America/New_York") == "Thu, Jan 1, 2026, 12:05 AM EST"
    assert us_date(datetime(2031, 11, 14).date()) == "Fri, Nov 14, 2031"


@pytest.mark.parametrize(("at", "day"), [
    ("2026-12-01T04:59:59+00:00", date(2026, 11, 30)),  # 11:59:59 pm EST: still Monday in the program
    ("2026-12-01T05:00:00+00:00", date(2026, 12, 1)),   # midnight EST
    ("2027-07-05T03:30:00+00:00", date(2027, 7, 4)),    # 11:30 pm EDT, an hour less than in winter
    ("2027-07-05T04:00:00+00:00", date(2027, 7, 5)),
])
def test_program_today_is_the_date_in_us_eastern_not_in_utc(at: str, day: date) -> None:
    assert program_today(datetime.fromisoformat(at)) == day
    assert program_today() in {datetime.now(UTC).date(), datetime.now(UTC).date() - timedelta(days=1)}
