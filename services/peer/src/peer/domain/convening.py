"""A convening: when and where (in the venue's zone), its agenda, and its seats.

The convening document is the one place that says how many seats are held (confirmed plus
offered), how many active registrations each city has (confirmed, offered and waitlisted count
toward the per-city limit) and the next waitlist number. Every registration command changes it
under a revision check, so two commands that read the same counters cannot both commit
(``adapters.mongo.save_convening``): that is what makes the last seat impossible to overbook.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from .errors import InvalidInput, NotAllowedNow
from .registration import HOLDS_SEAT, Registration, Status

ConveningKind = Literal["annual_convening", "working_group", "steering_committee", "webinar"]
KIND_LABELS = {"annual_convening": "Annual convening", "working_group": "Working group meeting",
               "steering_committee": "Steering committee meeting", "webinar": "Webinar"}
MaterialKind = Literal["slides", "recording", "notes", "other"]


@dataclass
class AgendaSession:
    id: str
    title: str
    starts_at: datetime
    ends_at: datetime
    track: str = ""
    room: str = ""
    speakers: list[str] = field(default_factory=list)
    description: str = ""


@dataclass
class Material:
    id: str
    kind: str
    title: str
    summary: str
    body: str
    link: str
    published_at: datetime
    by: str


@dataclass
class Convening:
    id: str
    kind: str
    title: str
    description: str
    topics: list[str]
    host_city_id: str | None
    venue: str
    address: str
    timezone: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    per_city_limit: int | None
    opens_at: datetime
    closes_at: datetime
    sessions: list[AgendaSession]
    created_by: str
    created_at: datetime
    status: Literal["scheduled", "cancelled"] = "scheduled"
    sequence: int = 0
    seats_taken: int = 0
    waitlist_seq: int = 0
    city_counts: dict[str, int] = field(default_factory=dict)
    rev: int = 0
    materials: list[Material] = field(default_factory=list)
    cancelled_reason: str = ""
    cancelled_at: datetime | None = None

    # ---------------------------------------------------------------- rules of the description

    def validate(self) -> None:
        """Raise InvalidInput naming the field when the description does not hold together."""
        if self.ends_at <= self.starts_at:
            raise InvalidInput("ends_before_start", "the convening must end after it starts", field="ends_at")
        if self.closes_at <= self.opens_at:
            raise InvalidInput("window_closes_before_it_opens",
                               "registration must close after it opens", field="registration_closes_at")
        if self.closes_at > self.ends_at:
            raise InvalidInput("window_closes_after_the_event",
                               "registration must close before the convening ends", field="registration_closes_at")
        seen: set[str] = set()
        for i, s in enumerate(self.sessions):
            if s.id in seen:
                raise InvalidInput("duplicate_session", "two sessions have the same id", field=f"sessions.{i}.id")
            seen.add(s.id)
            if s.ends_at <= s.starts_at:
                raise InvalidInput("session_ends_before_start", f"session “{s.title}” must end after it starts",
                                   field=f"sessions.{i}.ends_at")
            if s.starts_at < self.starts_at or s.ends_at > self.ends_at:
                raise InvalidInput("session_outside_the_convening",
                                   f"session “{s.title}” must fall within the convening's dates",
                                   field=f"sessions.{i}.starts_at")

    # ---------------------------------------------------------------- registration

    def check_open(self, now: datetime) -> None:
        if self.status == "cancelled":
            raise NotAllowedNow("convening_cancelled", "this convening was cancelled")
        if now < self.opens_at:
            raise NotAllowedNow("registration_not_open_yet", "registration for this convening has not opened yet")
        if now >= self.closes_at:
            raise NotAllowedNow("registration_closed", "registration for this convening has closed")

    def admit(self, city_id: str | None, now: datetime) -> Status:
        """Count a new registration: a seat if one is free, else the next place in line.

        Raises NotAllowedNow (``registration_not_open_yet``, ``registration_closed``,
        ``per_city_limit_reached``, ``convening_cancelled``).
        """
        self.check_open(now)
        if city_id is not None and self.per_city_limit is not None:
            if self.city_counts.get(city_id, 0) >= self.per_city_limit:
                raise NotAllowedNow(
                    "per_city_limit_reached",
                    f"each city may register at most {self.per_city_limit} "
                    f"{'person' if self.per_city_limit == 1 else 'people'} for this convening, and yours has",
                    field="city_id")
        if city_id is not None:
            self.city_counts[city_id] = self.city_counts.get(city_id, 0) + 1
        if self.seats_taken < self.capacity:
            self.seats_taken += 1
            return Status.confirmed
        self.waitlist_seq += 1
        return Status.waitlisted

    def release(self, reg: Registration, previous: Status) -> bool:
        """A registration left (cancelled or lapsed): give back its city's count, and its seat if it
        held one. True when a seat freed (the caller then offers it to the waitlist)."""
        if reg.city_id is not None and self.city_counts.get(reg.city_id, 0) > 0:
            self.city_counts[reg.city_id] -= 1
            if not self.city_counts[reg.city_id]:
                del self.city_counts[reg.city_id]
        if previous in HOLDS_SEAT:
            self.seats_taken -= 1
            return True
        return False

    def free_seats(self) -> int:
        return max(self.capacity - self.seats_taken, 0)

    def take_seat_for_offer(self) -> None:
        self.seats_taken += 1

    def hold_until(self, now: datetime, hold: timedelta) -> datetime:
        # Never hold past the start: a place nobody confirmed by then is of no use to anyone.
        return min(now + hold, self.starts_at)

    def is_full(self) -> bool:
        return self.seats_taken >= self.capacity

    # ---------------------------------------------------------------- storage

    def to_document(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["_id"] = doc.pop("id")
        return doc

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Convening:
        data = {k: v for k, v in doc.items() if k != "_id" and k in cls.__dataclass_fields__}
        data["sessions"] = [AgendaSession(**s) for s in doc.get("sessions", [])]
        data["materials"] = [Material(**m) for m in doc.get("materials", [])]
        return cls(id=doc["_id"], **data)
