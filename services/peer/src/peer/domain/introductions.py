"""Peer introductions: which cities to suggest to each other and why, and an introduction's life.

Suggestions come from what peer learned from other services' events (``CitySignals``): the
direct-assistance application's "peer connections" answer, the barriers a city named, and the
topics of the 311 questions it asked, by year. A pair is suggested when both asked similar 311
questions, share a barrier, or both asked for peer connections; the reason says which in words
("both asked 311 questions about housing in 2026").

```
offered ─answer (one city)─▶ offered ─answer (the other)─▶ accepted | declined
accepted ─meeting held─▶ met ─outcome─▶ closed        (either city declining ends it: declined)
```
What each city sees of the other is only what that city consented to share when it accepted
(``shares``: contact, barriers, questions, note), and only once both accepted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from itertools import combinations
from typing import Any, Literal

from .errors import InvalidInput, NotAllowedNow, NotFound

TOPIC_LABELS = {
    "finance_budgets": "finance and budgets", "economic_development": "economic development", "housing": "housing",
    "workforce": "workforce", "public_safety": "public safety", "land_use": "land use and vacant property",
    "transportation": "transportation", "government_operations": "government operations",
    "broadband": "broadband", "health": "health", "other": "other subjects",
}
BARRIER_LABELS = {
    "government_operations_budgets": "government operations and budgets", "economic_development":
    "economic development", "land_use": "land use", "transportation": "transportation", "workforce": "workforce",
    "community_development": "community development", "housing": "housing", "public_safety": "public safety",
}
Share = Literal["contact", "barriers", "questions", "note"]
SHARE_LABELS = {"contact": "the contact details of the official who accepted", "barriers": "the city's barriers",
                "questions": "the subjects of the city's 311 questions", "note": "a note to the other city"}
ReasonKind = Literal["similar_questions", "shared_barriers", "peer_connections", "staff"]
_STRENGTH = {"similar_questions": 3, "shared_barriers": 2, "peer_connections": 1, "staff": 0}


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


@dataclass
class AskedQuestion:
    topic: str
    title: str
    year: int


@dataclass
class CitySignals:
    city_id: str
    name: str
    state: str
    peer_connections: bool = False
    barriers: list[str] = field(default_factory=list)
    questions: list[AskedQuestion] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.name}, {self.state}" if self.state else self.name


@dataclass(frozen=True)
class Suggestion:
    city_id: str
    other_city_id: str
    reason_kind: str
    reason: str
    strength: int


def reason_for(a: CitySignals, b: CitySignals) -> tuple[str, str, int] | None:
    """(reason kind, the reason in words, strength) for suggesting ``a`` and ``b``, or None."""
    parts: list[str] = []
    kinds: list[str] = []
    strength = 0
    by_year_a = {(q.topic, q.year) for q in a.questions}
    shared = sorted(by_year_a & {(q.topic, q.year) for q in b.questions}, key=lambda t: (-t[1], t[0]))
    if shared:
        years: dict[int, list[str]] = {}
        for topic, year in shared:
            years.setdefault(year, []).append(TOPIC_LABELS.get(topic, topic))
        parts.append("; ".join(f"both asked 311 questions about {_and(t)} in {y}" for y, t in years.items()))
        kinds.append("similar_questions")
        strength += 4 * len(shared)  # a shared subject in the same year outweighs a shared barrier
    barriers = sorted(set(a.barriers) & set(b.barriers))
    if barriers:
        parts.append(f"both named {_and([BARRIER_LABELS.get(x, x) for x in barriers])} among their barriers")
        kinds.append("shared_barriers")
        strength += 2 * len(barriers)
    if a.peer_connections and b.peer_connections:
        parts.append("both asked to be connected with peer cities")
        kinds.append("peer_connections")
        strength += 1
    if not parts:
        return None
    text = "; ".join(parts)
    return max(kinds, key=_STRENGTH.__getitem__), text[0].upper() + text[1:], strength


def suggest(cities: list[CitySignals], *, exclude: set[frozenset[str]] = frozenset(),
            limit: int = 50) -> list[Suggestion]:
    """Pairs worth introducing, strongest reason first; ``exclude`` holds pairs already introduced."""
    out: list[Suggestion] = []
    for a, b in combinations(sorted(cities, key=lambda c: c.city_id), 2):
        if frozenset((a.city_id, b.city_id)) in exclude:
            continue
        found = reason_for(a, b)
        if found:
            out.append(Suggestion(a.city_id, b.city_id, found[0], found[1], found[2]))
    out.sort(key=lambda s: (-s.strength, s.city_id, s.other_city_id))
    return out[:limit]


# ---------------------------------------------------------------------------- the introduction


@dataclass
class Answer:
    accepted: bool
    shares: list[str]
    by: str
    at: datetime
    # What was shared, as it stood when the city accepted (only the consented parts are kept).
    shared: dict[str, Any] = field(default_factory=dict)


@dataclass
class Introduction:
    id: str
    city_ids: list[str]
    reason_kind: str
    reason: str
    offered_by: str
    offered_at: datetime
    status: Literal["offered", "accepted", "declined", "met", "closed"] = "offered"
    answers: dict[str, Answer] = field(default_factory=dict)
    met_on: date | None = None
    outcome: str = ""
    closed_at: datetime | None = None
    version: int = 0

    def other(self, city_id: str) -> str:
        if city_id not in self.city_ids:
            raise NotFound("introduction_not_found", "no such introduction for your city")
        return self.city_ids[1] if self.city_ids[0] == city_id else self.city_ids[0]

    def answer(self, city_id: str, *, accepted: bool, shares: list[str], shared: dict[str, Any], by: str,
               now: datetime) -> None:
        self.other(city_id)
        if self.status != "offered":
            raise NotAllowedNow("introduction_already_answered", "this introduction is no longer waiting for an answer")
        if city_id in self.answers:
            raise NotAllowedNow("city_already_answered", "your city has already answered this introduction")
        if accepted and not shares:
            raise InvalidInput("share_something", "choose at least one thing to share with the other city",
                               field="shares")
        unknown = [s for s in shares if s not in SHARE_LABELS]
        if unknown:
            raise InvalidInput("unknown_share", f"cannot share {unknown[0]!r}", field="shares")
        kept = {k: v for k, v in shared.items() if k in shares} if accepted else {}
        self.answers[city_id] = Answer(accepted=accepted, shares=list(shares) if accepted else [], by=by, at=now,
                                       shared=kept)
        if not accepted:
            self.status = "declined"
        elif all(c in self.answers and self.answers[c].accepted for c in self.city_ids):
            self.status = "accepted"

    def record_meeting(self, met_on: date) -> None:
        if self.status != "accepted":
            raise NotAllowedNow("meeting_needs_both_accepted", "a meeting is recorded once both cities accepted")
        self.status, self.met_on = "met", met_on

    def record_outcome(self, outcome: str, now: datetime) -> None:
        if self.status not in ("accepted", "met"):
            raise NotAllowedNow("outcome_needs_acceptance", "an outcome is recorded for an accepted introduction")
        if not outcome.strip():
            raise InvalidInput("blank_outcome", "say what came of the introduction", field="outcome")
        self.status, self.outcome, self.closed_at = "closed", outcome, now

    def shared_with(self, city_id: str) -> dict[str, Any]:
        """What ``city_id`` may see of the other city: nothing until both accepted, then only what
        the other consented to share."""
        other = self.other(city_id)
        if self.status not in ("accepted", "met", "closed"):
            return {}
        theirs = self.answers.get(other)
        return dict(theirs.shared) if theirs and theirs.accepted else {}

    def to_document(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["_id"] = doc.pop("id")
        doc["met_on"] = self.met_on.isoformat() if self.met_on else None
        doc["pair"] = sorted(self.city_ids)
        return doc

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Introduction:
        data = {k: v for k, v in doc.items() if k != "_id" and k in cls.__dataclass_fields__}
        data["answers"] = {k: Answer(**v) for k, v in (doc.get("answers") or {}).items()}
        data["met_on"] = date.fromisoformat(doc["met_on"]) if doc.get("met_on") else None
        return cls(id=doc["_id"], **data)
