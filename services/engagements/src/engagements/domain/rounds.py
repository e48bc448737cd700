"""Funding rounds: a capacity of places, the waitlist's order, and which round an application joins.

NRN worked with a fixed number of cities under its agreement (40, with 10 more added): a round
holds ``capacity`` places; each accepted application takes one. The waitlist is promoted in score
order — highest score first, then the earliest submitted, then the application id (a total order,
so two readers never disagree on who is next).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from .errors import InvalidInput

MAX_CAPACITY = 1_000


@dataclass(frozen=True)
class FundingRound:
    id: str
    name: str
    opens_on: date
    closes_on: date | None
    capacity: int
    accepted: int = 0

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> FundingRound:
        return cls(id=doc["_id"], name=doc["name"], opens_on=date.fromisoformat(doc["opens_on"]),
                   closes_on=date.fromisoformat(doc["closes_on"]) if doc.get("closes_on") else None,
                   capacity=int(doc["capacity"]), accepted=int(doc.get("accepted", 0)))

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.accepted, 0)

    @property
    def has_place(self) -> bool:
        return self.accepted < self.capacity

    def open_on(self, day: date) -> bool:
        return self.opens_on <= day and (self.closes_on is None or day <= self.closes_on)

    def take_place(self) -> FundingRound:
        """One more accepted city; refused (InvalidInput) when the round is full."""
        if not self.has_place:
            raise InvalidInput("round_at_capacity", f"all {self.capacity} places of {self.name} are taken",
                               field="round_id")
        return FundingRound(self.id, self.name, self.opens_on, self.closes_on, self.capacity, self.accepted + 1)

    def free_place(self) -> FundingRound:
        return FundingRound(self.id, self.name, self.opens_on, self.closes_on, self.capacity, max(self.accepted - 1, 0))

    def with_capacity(self, capacity: int) -> FundingRound:
        if capacity < self.accepted:
            raise InvalidInput("capacity_below_accepted",
                               f"{self.accepted} cities are already accepted in this round", field="capacity")
        if capacity > MAX_CAPACITY:
            raise InvalidInput("capacity_too_large", f"at most {MAX_CAPACITY} places", field="capacity")
        return FundingRound(self.id, self.name, self.opens_on, self.closes_on, capacity, self.accepted)


def round_for(rounds: Iterable[FundingRound], day: date) -> FundingRound | None:
    """The round an application submitted on `day` joins: open that day, the one closing first
    (a round without a closing date last), then the one opened first."""
    open_now = [r for r in rounds if r.open_on(day)]
    open_now.sort(key=lambda r: (r.closes_on or date.max, r.opens_on, r.id))
    return open_now[0] if open_now else None


def waitlist_key(score: int | None, submitted_at: datetime | None, application_id: str) -> tuple[Any, ...]:
    """Promotion order: highest score, earliest submission, then id (the waitlist index's order)."""
    return (-(score or 0), submitted_at or datetime.max, application_id)


def promotion_order(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Waitlisted applications (`score`, `submitted_at`, `_id`) in the order places are offered."""
    return sorted(entries, key=lambda d: waitlist_key(d.get("score"), d.get("submitted_at"), d["_id"]))
