"""Cities, their distress indicators, and NRN eligibility computed and explained.

Indicators are percentages (9.5 means 9.5 %). Every test is strict: a figure exactly at the
threshold does not pass, because the programme's wording is "above 9 %", "more than 20 %",
"loss above 5 %".
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .emails import InvalidEmail, canonical_domain, email_domain
from .errors import DomainRuleError, InvalidTransition

TestName = Literal["unemployment_rate", "adult_poverty_rate", "population_change_2000_2010"]

UNEMPLOYMENT_THRESHOLD = 9.0  # unemployment rate must be > 9 %
ADULT_POVERTY_THRESHOLD = 20.0  # share of adults in poverty must be > 20 %
POPULATION_CHANGE_THRESHOLD = -5.0  # population change 2000-2010 must be < -5 %

ILLUSTRATIVE_SOURCE = "illustrative demo value"

US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY "
    "NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR".split()
)


class Indicator(BaseModel):
    """One figure with its provenance; a figure without a year and a source is not evidence."""

    model_config = ConfigDict(frozen=True)

    value: float
    year: int
    source: str = Field(min_length=1)

    @property
    def illustrative(self) -> bool:
        return self.source.strip().lower() == ILLUSTRATIVE_SOURCE


class Indicators(BaseModel):
    model_config = ConfigDict(frozen=True)

    unemployment_rate: Indicator | None = None
    adult_poverty_rate: Indicator | None = None
    population_change_2000_2010: Indicator | None = None


class ExceptionRecord(BaseModel):
    """One staff decision about an eligibility exception; the list of them is the history."""

    model_config = ConfigDict(frozen=True)

    action: Literal["granted", "revoked"]
    reason: str
    by: str
    at: datetime


class Reason(BaseModel):
    model_config = ConfigDict(frozen=True)

    test: TestName
    passed: bool
    value: float | None
    threshold: float
    comparison: Literal[">", "<"]
    year: int | None = None
    source: str | None = None
    explanation: str


class ExceptionStatus(BaseModel):
    model_config = ConfigDict(frozen=True)

    reason: str
    granted_by: str
    granted_at: datetime


class Eligibility(BaseModel):
    model_config = ConfigDict(frozen=True)

    eligible: bool
    basis: Literal["indicators", "exception", "none"]
    reasons: list[Reason]
    exception: ExceptionStatus | None = None
    summary: str


class City(BaseModel):
    city_id: str
    name: str
    state: str
    state_fips: str | None = None
    fips_place_code: str | None = None  # 7 digits: state FIPS + place code
    geonames_id: int | None = None
    population: int | None = None
    population_year: int | None = None
    population_source: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    time_zone: str | None = None  # IANA, e.g. "America/Detroit": calls are shown in the city's own time
    indicators: Indicators = Field(default_factory=Indicators)
    official_email_domains: list[str] = Field(default_factory=list)
    exception_history: list[ExceptionRecord] = Field(default_factory=list)
    registered_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def active_exception(self) -> ExceptionRecord | None:
        if self.exception_history and self.exception_history[-1].action == "granted":
            return self.exception_history[-1]
        return None


def city_id_for(state: str, name: str) -> str:
    """A stable, readable id ("mi-flint") so re-imports and other services agree on it."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")
    return f"{state.lower()}-{slug}"


def _fmt(v: float) -> str:
    return f"{v:g}"


def _strict_test(
    test: TestName, ind: Indicator | None, threshold: float, comparison: Literal[">", "<"], label: str
) -> Reason:
    if ind is None:
        return Reason(
            test=test,
            passed=False,
            value=None,
            threshold=threshold,
            comparison=comparison,
            explanation=f"{label}: no figure on record, so this test cannot pass",
        )
    passed = ind.value > threshold if comparison == ">" else ind.value < threshold
    verb = ("is above" if comparison == ">" else "is below") if passed else (
        "is not above" if comparison == ">" else "is not below"
    )
    provenance = f"{ind.year}, {ind.source}" + (", not evidence" if ind.illustrative else "")
    return Reason(
        test=test,
        passed=passed,
        value=ind.value,
        threshold=threshold,
        comparison=comparison,
        year=ind.year,
        source=ind.source,
        explanation=f"{label} {_fmt(ind.value)} % ({provenance}) {verb} {_fmt(threshold)} %",
    )


def eligibility_reasons(indicators: Indicators) -> list[Reason]:
    return [
        _strict_test("unemployment_rate", indicators.unemployment_rate, UNEMPLOYMENT_THRESHOLD, ">", "Unemployment rate"),
        _strict_test("adult_poverty_rate", indicators.adult_poverty_rate, ADULT_POVERTY_THRESHOLD, ">", "Adult poverty rate"),
        _strict_test(
            "population_change_2000_2010",
            indicators.population_change_2000_2010,
            POPULATION_CHANGE_THRESHOLD,
            "<",
            "Population change 2000-2010",
        ),
    ]


def explain_eligibility(city: City) -> Eligibility:
    reasons = eligibility_reasons(city.indicators)
    passed = [r for r in reasons if r.passed]
    exc = city.active_exception
    exception = (
        ExceptionStatus(reason=exc.reason, granted_by=exc.by, granted_at=exc.at) if exc is not None else None
    )
    if passed:
        summary = "Eligible: " + "; ".join(r.explanation for r in passed)
        return Eligibility(eligible=True, basis="indicators", reasons=reasons, exception=exception, summary=summary)
    if exception is not None:
        summary = f"Eligible by an exception NRN staff granted: {exception.reason}"
        return Eligibility(eligible=True, basis="exception", reasons=reasons, exception=exception, summary=summary)
    summary = "Not eligible: no distress test passes (" + "; ".join(r.explanation for r in reasons) + ")"
    return Eligibility(eligible=False, basis="none", reasons=reasons, exception=None, summary=summary)


def grant_exception(city: City, *, reason: str, by: str, at: datetime) -> list:
    """Make a city eligible despite its figures; returns the events raised."""
    from . import events as ev  # events builds on this module

    if not reason or not reason.strip():
        raise DomainRuleError("an exception needs a written reason", field="reason")
    if city.active_exception is not None:
        raise InvalidTransition(f"city {city.city_id} already has an active exception", field="city_id")
    record = ExceptionRecord(action="granted", reason=reason.strip(), by=by, at=at)
    city.exception_history.append(record)
    city.updated_at = at
    return [ev.exception_granted(city, record), ev.city_eligibility_determined(city)]


def revoke_exception(city: City, *, reason: str, by: str, at: datetime) -> list:
    """Withdraw the active exception; the history keeps both decisions."""
    from . import events as ev

    if not reason or not reason.strip():
        raise DomainRuleError("revoking an exception needs a written reason", field="reason")
    if city.active_exception is None:
        raise InvalidTransition(f"city {city.city_id} has no active exception to revoke", field="city_id")
    record = ExceptionRecord(action="revoked", reason=reason.strip(), by=by, at=at)
    city.exception_history.append(record)
    city.updated_at = at
    return [ev.exception_revoked(city, record), ev.city_eligibility_determined(city)]


def is_official_domain(city: City, email: str) -> bool:
    """Whether a canonical address (``emails.canonical_email``) is at one of the city's registered
    official domains, compared in the same canonical form (a stored domain that no longer
    parses matches nothing)."""
    domain = email_domain(email)
    for registered in city.official_email_domains:
        try:
            if canonical_domain(registered) == domain:
                return True
        except InvalidEmail:
            continue
    return False
