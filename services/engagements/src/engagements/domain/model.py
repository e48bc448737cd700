"""Value objects shared by the aggregates, the handlers and the API: roles, actors, barriers, cities."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict


class Role(StrEnum):
    """The role names of `nrn_kit.auth` (accounts grants them); `official` stands for a city official."""

    official = "official"
    administrator = "administrator"
    program_manager = "program_manager"
    triage_lead = "triage_lead"
    subject_matter_expert = "subject_matter_expert"
    reviewer = "reviewer"
    curator = "curator"


class Actor(BaseModel):
    """Who acts. Built by the API from a verified token; the domain trusts it."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: Literal["official", "staff", "system"]
    roles: frozenset[Role] = frozenset()
    city_id: str | None = None  # officials only
    verified: bool = False
    name: str = ""

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"

    def has(self, *roles: Role) -> bool:
        """Staff holding one of `roles` (administrators hold every staff role)."""
        return self.is_staff and (bool(self.roles & set(roles)) or Role.administrator in self.roles)


SYSTEM = Actor(id="system:engagements", kind="system", name="NRN (automatic)")


class Barrier(StrEnum):
    """The barriers to recovery of NRN's application form (its "economic challenges" section)."""

    government_operations_budgets = "government_operations_budgets"
    economic_development = "economic_development"
    land_use = "land_use"
    transportation = "transportation"
    workforce = "workforce"
    community_development = "community_development"
    housing = "housing"
    public_safety = "public_safety"


BARRIER_LABELS: dict[Barrier, str] = {
    Barrier.government_operations_budgets: "Government operations and budgets",
    Barrier.economic_development: "Economic development",
    Barrier.land_use: "Land use",
    Barrier.transportation: "Transportation",
    Barrier.workforce: "Workforce",
    Barrier.community_development: "Community development",
    Barrier.housing: "Housing",
    Barrier.public_safety: "Public safety",
}

# The 311 taxonomy topics that answer questions about each barrier (peer context, event topics).
BARRIER_TOPICS: dict[Barrier, tuple[str, ...]] = {
    Barrier.government_operations_budgets: ("government_operations", "finance_budgets"),
    Barrier.economic_development: ("economic_development",),
    Barrier.land_use: ("land_use",),
    Barrier.transportation: ("transportation",),
    Barrier.workforce: ("workforce",),
    Barrier.community_development: ("housing", "economic_development"),
    Barrier.housing: ("housing",),
    Barrier.public_safety: ("public_safety",),
}


def topics_of(barriers: list[Barrier] | tuple[Barrier, ...]) -> list[str]:
    out: list[str] = []
    for barrier in barriers:
        for topic in BARRIER_TOPICS[Barrier(barrier)]:
            if topic not in out:
                out.append(topic)
    return out


class CityRef(BaseModel):
    """What this service knows about a city from accounts' events."""

    id: str
    name: str
    us_state: str = ""
    eligible: bool = False
    exception: bool = False  # staff granted eligibility although the city fails the distress tests
    population: int | None = None

    @property
    def label(self) -> str:
        return f"{self.name}, {self.us_state}" if self.us_state else self.name


class PersonRef(BaseModel):
    """A person named on a record: account id (never shown) and the name people read."""

    id: str
    name: str = ""


class TimelineEntry(BaseModel):
    at: datetime
    action: str
    actor_id: str
    actor_name: str = ""
    actor_kind: str
    summary: str
    public: bool = True  # False: staff only (screening notes, reviewer assignments, conflicts)


def add_months(day: date, months: int) -> date:
    """`day` plus whole calendar months, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover
