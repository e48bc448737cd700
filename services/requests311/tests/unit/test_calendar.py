from datetime import date, datetime, timedelta, timezone

import pytest

from requests311.domain.calendar import BusinessCalendar, is_business_day, observed_holidays

UTC = timezone.utc


def test_2024_observed_holidays_match_opm_list():
    assert list(observed_holidays(2024)) == [
        date(2024, 1, 1), date(2024, 1, 15), date(2024, 2, 19), date(2024, 5, 27),
        date(2024, 6, 19), date(2024, 7, 4), date(2024, 9, 2), date(2024, 10, 14),
        date(2024, 11, 11), date(2024, 11, 28), date(2024, 12, 25),
    ]


def test_2025_observed_holidays_match_opm_list():
    assert list(observed_holidays(2025)) == [
        date(2025, 1, 1), date(2025, 1, 20), date(2025, 2, 17), date(2025, 5, 26),
        date(2025, 6, 19), date(2025, 7, 4), date(2025, 9, 1), date(2025, 10, 13),
        date(2025, 11, 11), date(2025, 11, 27), date(2025, 12, 25),
    ]


@pytest.mark.parametrize(
    ("observed", "name"),
    [
        (date(2021, 6, 18), "Juneteenth"),  # Saturday → Friday
        (date(2021, 7, 5), "Independence Day"),  # Sunday → Monday
        (date(2021, 12, 24), "Christmas Day"),  # Saturday → Friday
        (date(2021, 12, 31), "New Year's Day"),  # 1 Jan 2022 is a Saturday: observed the year before
        (date(2022, 6, 20), "Juneteenth"),  # Sunday → Monday
        (date(2022, 12, 26), "Christmas Day"),
        (date(2023, 1, 2), "New Year's Day"),
        (date(2023, 11, 10), "Veterans Day"),  # Saturday → Friday
        (date(2026, 7, 3), "Independence Day"),  # Saturday → Friday
        (date(2027, 12, 31), "New Year's Day"),
    ],
)
def test_observed_day_rules(observed, name):
    holidays = observed_holidays(observed.year)
    assert observed in holidays and name in holidays[observed]
    assert "(observed)" in holidays[observed]
    assert not is_business_day(observed)


@pytest.mark.parametrize(
    ("observed", "actual", "name"),
    [
        (date(2027, 7, 5), date(2027, 7, 4), "Independence Day"),  # Sunday → Monday
        (date(2021, 12, 31), date(2022, 1, 1), "New Year's Day"),  # next year's holiday, this year's day off
        (date(2021, 6, 18), date(2021, 6, 19), "Juneteenth"),  # the first Juneteenth, on a Saturday
        (date(2027, 6, 18), date(2027, 6, 19), "Juneteenth"),
        (date(2028, 11, 10), date(2028, 11, 11), "Veterans Day"),
    ],
)
def test_the_observed_day_is_the_day_off_and_the_weekend_date_is_not_listed(observed, actual, name):
    days = observed_holidays(observed.year)
    assert name in days[observed] and "(observed)" in days[observed]
    assert actual not in observed_holidays(actual.year)  # a weekend: not a business day anyway
    assert not is_business_day(observed) and not is_business_day(actual)


def test_new_years_day_on_a_saturday_leaves_the_next_year_without_its_own():
    assert date(2022, 1, 1) not in observed_holidays(2022)
    assert not any("New Year" in n for n in observed_holidays(2022).values())
    assert observed_holidays(2021)[date(2021, 12, 31)].startswith("New Year's Day")


def test_juneteenth_before_and_after_2021():
    # The Act was signed on 17 June 2021: 2020 and earlier have no Juneteenth, 2021 on has it.
    for year in (2019, 2020):
        assert not any("Juneteenth" in n for n in observed_holidays(year).values())
        assert is_business_day(date(year, 6, 19)) or date(year, 6, 19).weekday() >= 5
    assert date(2023, 6, 19) in observed_holidays(2023)  # a Monday: the day itself
    assert date(2022, 6, 20) in observed_holidays(2022)  # Sunday 19 June → Monday
    assert is_business_day(date(2020, 6, 19))  # a Friday before the Act


def test_juneteenth_only_from_2021():
    assert not any("Juneteenth" in n for n in observed_holidays(2020).values())
    assert any("Juneteenth" in n for n in observed_holidays(2021).values())


def test_year_with_two_new_years_observations_and_year_with_none():
    assert len(observed_holidays(2027)) == 12  # 1 Jan 2027 (Fri) and 31 Dec 2027 for 1 Jan 2028
    assert date(2028, 1, 1) not in observed_holidays(2028)
    assert len(observed_holidays(2028)) == 10


@pytest.mark.parametrize(
    "d", [date(2025, 1, 20), date(2025, 5, 26), date(2025, 9, 1), date(2025, 10, 13), date(2025, 11, 27)]
)
def test_floating_holidays_are_not_business_days(d):
    assert not is_business_day(d)


def test_weekends_are_not_business_days():
    assert not is_business_day(date(2025, 3, 8)) and not is_business_day(date(2025, 3, 9))
    assert is_business_day(date(2025, 3, 10))


CAL = BusinessCalendar("America/New_York")


def ny(y, m, d, h=0, mi=0):
    return datetime(y, m, d, h, mi, tzinfo=CAL.tz)


def test_one_business_day_from_friday_afternoon_is_monday_afternoon():
    assert CAL.add_business_days(ny(2025, 3, 7, 15), 1) == ny(2025, 3, 10, 15)


def test_business_days_skip_a_holiday_weekend():
    # Friday before Memorial Day 2025 + 1 business day → Tuesday
    assert CAL.add_business_days(ny(2025, 5, 23, 10), 1) == ny(2025, 5, 27, 10)


def test_start_on_a_weekend_counts_from_monday_midnight():
    assert CAL.add_business_days(ny(2025, 3, 8, 11), 1) == ny(2025, 3, 11, 0)


def test_ten_business_days_over_thanksgiving():
    # Mon 24 Nov 2025 09:00 + 10 business days: skips Thu 27 Nov and two weekends
    assert CAL.add_business_days(ny(2025, 11, 24, 9), 10) == ny(2025, 12, 9, 9)


def test_business_seconds_inverse_of_addition_across_dst_change():
    start = ny(2025, 3, 6, 13)  # DST starts Sunday 9 March
    end = CAL.add_business_days(start, 3)
    assert end == ny(2025, 3, 11, 13)
    assert CAL.business_days(start, end) == pytest.approx(3)


def test_business_seconds_ignores_weekends_and_holidays():
    assert CAL.business_days(ny(2025, 7, 3, 12), ny(2025, 7, 7, 12)) == pytest.approx(1.0)


def test_utc_inputs_are_interpreted_in_the_calendar_zone():
    # 03:00 UTC on Saturday is still Friday evening in New York: a business day
    sat_utc = datetime(2025, 3, 8, 3, 0, tzinfo=UTC)
    assert CAL.business_seconds(sat_utc - timedelta(hours=1), sat_utc) == pytest.approx(3600)
