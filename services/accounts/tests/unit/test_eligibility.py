"""Eligibility: computed from three strict distress tests, explained, and overridable by exception."""

from datetime import UTC, datetime

import pytest

from accounts.domain.cities import (
    ILLUSTRATIVE_SOURCE,
    City,
    Indicator,
    Indicators,
    explain_eligibility,
    grant_exception,
    revoke_exception,
)
from accounts.domain.errors import DomainRuleError, InvalidTransition
from nrn_contracts.events.accounts import (
    CityEligibilityDetermined,
    EligibilityExceptionGranted,
    EligibilityExceptionRevoked,
)

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def city(unemployment=None, poverty=None, change=None, **kw) -> City:
    def ind(v):
        return None if v is None else Indicator(value=v, year=2012, source="ACS 2008-2012")

    return City(
        city_id="mi-flint",
        name="Flint",
        state="MI",
        population=102434,
        indicators=Indicators(
            unemployment_rate=ind(unemployment),
            adult_poverty_rate=ind(poverty),
            population_change_2000_2010=ind(change),
        ),
        **kw,
    )


@pytest.mark.parametrize(
    ("unemployment", "poverty", "change", "eligible", "passed"),
    [
        # exactly at each threshold fails: the tests are strict
        (9.0, 20.0, -5.0, False, set()),
        # just past each threshold passes, alone
        (9.01, 20.0, -5.0, True, {"unemployment_rate"}),
        (9.0, 20.01, -5.0, True, {"adult_poverty_rate"}),
        (9.0, 20.0, -5.01, True, {"population_change_2000_2010"}),
        # comfortably inside / outside
        (4.0, 10.0, 12.0, False, set()),
        (14.8, 35.2, -18.1, True, {"unemployment_rate", "adult_poverty_rate", "population_change_2000_2010"}),
        # growth never counts as a loss
        (5.0, 10.0, 5.01, False, set()),
        # no figures: no test can pass
        (None, None, None, False, set()),
        (None, 21.0, None, True, {"adult_poverty_rate"}),
    ],
)
def test_distress_tests_and_boundaries(unemployment, poverty, change, eligible, passed) -> None:
    e = explain_eligibility(city(unemployment, poverty, change))
    assert e.eligible is eligible
    assert {r.test for r in e.reasons if r.passed} == passed
    assert [r.test for r in e.reasons] == ["unemployment_rate", "adult_poverty_rate", "population_change_2000_2010"]
    assert e.basis == ("indicators" if eligible else "none")


def test_explanation_names_the_figures_thresholds_year_and_source() -> None:
    e = explain_eligibility(city(10.5, 18.0, None))
    unemployment, poverty, change = e.reasons
    assert (unemployment.value, unemployment.threshold, unemployment.comparison) == (10.5, 9.0, ">")
    assert unemployment.year == 2012 and unemployment.source == "ACS 2008-2012"
    assert "10.5 %" in unemployment.explanation and "is above 9 %" in unemployment.explanation
    assert "is not above 20 %" in poverty.explanation
    assert change.value is None and "no figure" in change.explanation
    assert (change.threshold, change.comparison) == (-5.0, "<")
    assert e.summary.startswith("Eligible: Unemployment rate 10.5 %")


def test_illustrative_figures_are_flagged_as_not_evidence() -> None:
    c = City(
        city_id="oh-dayton",
        name="Dayton",
        state="OH",
        indicators=Indicators(unemployment_rate=Indicator(value=12.0, year=2014, source=ILLUSTRATIVE_SOURCE)),
    )
    reason = explain_eligibility(c).reasons[0]
    assert reason.passed and "not evidence" in reason.explanation


def test_exception_makes_a_failing_city_eligible_and_revoking_keeps_history() -> None:
    c = city(4.0, 10.0, 3.0)
    assert not explain_eligibility(c).eligible

    events = grant_exception(c, reason="Plant closure in 2015 not yet in the figures", by="staff-1", at=NOW)
    assert isinstance(events[0], EligibilityExceptionGranted) and events[0].by == "staff-1"
    assert isinstance(events[1], CityEligibilityDetermined)
    assert events[1].eligible and events[1].exception
    e = explain_eligibility(c)
    assert e.eligible and e.basis == "exception"
    assert e.exception is not None and e.exception.granted_by == "staff-1"
    assert "Plant closure" in e.summary

    later = NOW.replace(month=6)
    events = revoke_exception(c, reason="Figures now available", by="staff-2", at=later)
    assert isinstance(events[0], EligibilityExceptionRevoked)
    assert events[1].eligible is False and events[1].exception is False
    assert not explain_eligibility(c).eligible
    assert [(h.action, h.by, h.at) for h in c.exception_history] == [
        ("granted", "staff-1", NOW),
        ("revoked", "staff-2", later),
    ]


def test_exception_on_a_city_that_passes_is_kept_but_indicators_are_the_basis() -> None:
    c = city(12.0, None, None)
    grant_exception(c, reason="belt and braces", by="s", at=NOW)
    e = explain_eligibility(c)
    assert e.eligible and e.basis == "indicators" and e.exception is not None


@pytest.mark.parametrize("reason", ["", "   "])
def test_exception_needs_a_written_reason(reason: str) -> None:
    with pytest.raises(DomainRuleError) as info:
        grant_exception(city(), reason=reason, by="s", at=NOW)
    assert info.value.field == "reason"


def test_exception_cannot_be_granted_twice_or_revoked_when_absent() -> None:
    c = city()
    with pytest.raises(InvalidTransition):
        revoke_exception(c, reason="nothing to revoke", by="s", at=NOW)
    grant_exception(c, reason="r", by="s", at=NOW)
    with pytest.raises(InvalidTransition):
        grant_exception(c, reason="again", by="s", at=NOW)


def test_eligibility_event_carries_the_reasons() -> None:
    from accounts.domain.events import city_eligibility_determined

    event = city_eligibility_determined(city(9.0, 25.0, -5.0))
    assert event.eligible and not event.exception
    assert [(r.test, r.passed, r.value, r.threshold) for r in event.reasons] == [
        ("unemployment_rate", False, 9.0, 9.0),
        ("adult_poverty_rate", True, 25.0, 20.0),
        ("population_change_2000_2010", False, -5.0, -5.0),
    ]
