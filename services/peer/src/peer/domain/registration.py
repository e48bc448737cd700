"""A person's registration for a convening: its states, the actions on them, and their answers.

```
(none|cancelled) ─register─▶ confirmed            (a seat was free and the city under its limit)
(none|cancelled) ─register─▶ waitlisted           (full: a place in line, numbered from 1)
waitlisted ─promote─▶ offered ─confirm─▶ confirmed   (a seat freed; confirm before hold_until)
offered ─expire─▶ cancelled                        (the hold lapsed: the place passes on)
confirmed|waitlisted|offered ─cancel─▶ cancelled
confirmed ─check_in─▶ confirmed (attended)
```
The table is data (``TRANSITIONS``); the unit tests walk every status × every action.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from .errors import NotAllowedNow


class Status(StrEnum):
    confirmed = "confirmed"
    waitlisted = "waitlisted"
    offered = "offered"  # promoted from the waitlist, holding a seat until it confirms
    cancelled = "cancelled"


class Action(StrEnum):
    register = "register"
    promote = "promote"
    confirm = "confirm"
    expire = "expire"
    cancel = "cancel"
    check_in = "check_in"


ACTIVE = frozenset({Status.confirmed, Status.waitlisted, Status.offered})
HOLDS_SEAT = frozenset({Status.confirmed, Status.offered})

# (status or None for "no registration yet", action) → the statuses it may lead to
TRANSITIONS: dict[tuple[Status | None, Action], frozenset[Status]] = {
    (None, Action.register): frozenset({Status.confirmed, Status.waitlisted}),
    (Status.cancelled, Action.register): frozenset({Status.confirmed, Status.waitlisted}),
    (Status.waitlisted, Action.promote): frozenset({Status.offered}),
    (Status.offered, Action.confirm): frozenset({Status.confirmed}),
    (Status.offered, Action.expire): frozenset({Status.cancelled}),
    (Status.confirmed, Action.cancel): frozenset({Status.cancelled}),
    (Status.waitlisted, Action.cancel): frozenset({Status.cancelled}),
    (Status.offered, Action.cancel): frozenset({Status.cancelled}),
    (Status.confirmed, Action.check_in): frozenset({Status.confirmed}),
}

# Why an action is refused in a status, in words a person reads; the rule names the status.
_REFUSALS: dict[Action, str] = {
    Action.register: "you are already registered for this convening",
    Action.promote: "only a waitlisted registration can be offered a place",
    Action.confirm: "there is no place on offer to confirm",
    Action.expire: "only an offered place can lapse",
    Action.cancel: "this registration is already cancelled",
    Action.check_in: "only a confirmed registration can be checked in",
}


def check(status: Status | None, action: Action) -> frozenset[Status]:
    allowed = TRANSITIONS.get((status, action))
    if allowed is None:
        rule = "already_registered" if action is Action.register else f"{action.value}_not_allowed"
        raise NotAllowedNow(rule, _REFUSALS[action], field=None)
    return allowed


@dataclass
class Answers:
    """What the convening asks each registrant."""

    role: str = ""
    dietary_needs: str = ""
    accessibility_needs: str = ""
    session_ids: list[str] = field(default_factory=list)


@dataclass
class Feedback:
    rating: int
    comment: str
    at: datetime


@dataclass
class Registration:
    id: str
    convening_id: str
    account_id: str
    city_id: str | None
    name: str
    status: Status
    answers: Answers
    registered_at: datetime
    waitlist_seq: int | None = None
    hold_until: datetime | None = None
    confirmed_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    attended: bool = False
    checked_in_at: datetime | None = None
    feedback: Feedback | None = None
    promoted: bool = False

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    # ---------------------------------------------------------------- transitions

    def promote(self, *, hold_until: datetime) -> None:
        check(self.status, Action.promote)
        self.status, self.hold_until, self.promoted = Status.offered, hold_until, True

    def confirm(self, now: datetime) -> None:
        check(self.status, Action.confirm)
        if self.hold_until is not None and now >= self.hold_until:
            raise NotAllowedNow("hold_expired", "the time to confirm this place has passed; it went to the next "
                                "person on the waitlist")
        self.status, self.confirmed_at, self.hold_until = Status.confirmed, now, None

    def expire(self, now: datetime) -> None:
        check(self.status, Action.expire)
        if self.hold_until is None or now < self.hold_until:
            raise NotAllowedNow("hold_not_expired", "the hold on this place has not lapsed yet")
        self.status, self.cancelled_at, self.cancel_reason, self.hold_until = (
            Status.cancelled, now, "hold_expired", None)

    def cancel(self, now: datetime, *, reason: str) -> Status:
        check(self.status, Action.cancel)
        before = self.status
        self.status, self.cancelled_at, self.cancel_reason, self.hold_until = Status.cancelled, now, reason, None
        return before

    def check_in(self, now: datetime, *, attended: bool = True) -> None:
        check(self.status, Action.check_in)
        self.attended = attended
        self.checked_in_at = now if attended else None

    def give_feedback(self, *, rating: int, comment: str, now: datetime, convening_ended_at: datetime) -> None:
        if now < convening_ended_at:
            raise NotAllowedNow("feedback_before_the_end", "feedback opens when the convening has ended")
        if not self.attended:
            raise NotAllowedNow("feedback_needs_attendance", "only attendees who were checked in can give feedback")
        if not 1 <= rating <= 5:
            from .errors import InvalidInput
            raise InvalidInput("rating_out_of_range", "rate from 1 (poor) to 5 (excellent)", field="rating")
        self.feedback = Feedback(rating=rating, comment=comment, at=now)

    # ---------------------------------------------------------------- storage

    def to_document(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["_id"] = doc.pop("id")
        doc["status"] = self.status.value
        return doc

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Registration:
        data = {k: v for k, v in doc.items() if k != "_id" and k in cls.__dataclass_fields__}
        data["status"] = Status(data["status"])
        data["answers"] = Answers(**(doc.get("answers") or {}))
        fb = doc.get("feedback")
        data["feedback"] = Feedback(**fb) if fb else None
        return cls(id=doc["_id"], **data)
