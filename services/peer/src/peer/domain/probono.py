"""The local pro bono talent network, after the Greater New Orleans Talent Partnership: professionals of
companies, universities and foundations give their skills to city departments' projects.

```
volunteer:  awaiting_confirmation ─coordinator confirms─▶ confirmed        (their organization's coordinator)
project:    submitted ─staff open─▶ open ─a match accepted by both─▶ active ─city records the outcome─▶ completed
            submitted ─staff return (note)─▶ returned ─city resubmits─▶ submitted;  submitted ─staff decline─▶ declined
match:      proposed ─volunteer and city accept (either order)─▶ accepted;  proposed ─either declines─▶ declined
            accepted ─project completed─▶ completed
hours:      pending ─city approves─▶ approved;  pending ─city returns (note)─▶ returned
```
A match proposed by the city counts as the city's acceptance. Hours are logged only on an accepted match
of an active project, never beyond the hours agreed on the match unless the city first agrees to more
(``agree_hours``). A volunteer's e-mail and phone reach the city only once both accepted.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from .errors import InvalidInput, NotAllowedNow

WorkMode = Literal["remote", "on_site", "either"]
WORK_MODES = {"remote": "Remote", "on_site": "On site", "either": "Remote or on site"}
SECTORS = {"company": "Company", "university": "University", "foundation": "Foundation",
           "nonprofit": "Nonprofit organization", "other": "Other organization"}
# The managed list the talent network starts with; staff add and retire skills (``probono_skills``).
DEFAULT_SKILLS: dict[str, str] = {
    "analytics": "Data and analytics", "it": "Information technology", "legal": "Legal",
    "finance": "Finance and budgeting", "communications": "Communications",
    "emergency_management": "Emergency management", "blight": "Blight and vacant property",
    "business_outreach": "Business outreach", "human_resources": "Human resources", "procurement": "Procurement",
    "urban_planning": "Urban planning", "grant_writing": "Grant writing", "engineering": "Engineering",
    "public_health": "Public health", "project_management": "Project management", "real_estate": "Real estate",
}
VOLUNTEER_STATUS = {"awaiting_confirmation": "Waiting for your organization's coordinator",
                    "confirmed": "Confirmed", "withdrawn": "Withdrawn"}
PROJECT_STATUS = {"submitted": "Waiting for NRN's review", "returned": "Returned for changes", "open": "Open for matching",
                  "active": "Under way", "completed": "Completed", "declined": "Declined"}
MATCH_STATUS = {"proposed": "Offered", "accepted": "Accepted by both", "declined": "Declined",
                "completed": "Completed"}
# a review decision (ProjectReviewed.decision) → the project's status
REVIEW_DECISIONS = {"opened": "open", "returned": "returned", "declined": "declined"}
HOURS_STATUS = {"pending": "Waiting for the city's approval", "approved": "Approved", "returned": "Returned"}
QUARTER = 0.25
MAX_HOURS_A_DAY = 24.0


def skill_key(label: str) -> str:
    """The key a new skill is stored under: its label in lower-case words joined by underscores."""
    key = re.sub(r"[^a-z0-9]+", "_", label.casefold()).strip("_")[:60]
    if not key or not key[0].isalpha():
        raise InvalidInput("bad_skill", "a skill's name starts with a letter", field="label")
    return key


def _check_period(start: date, end: date, *, field_name: str) -> None:
    if end < start:
        raise InvalidInput("period_inverted", "the period must end on or after the day it starts", field=field_name)


@dataclass
class Organization:
    id: str  # the partner_id in accounts
    name: str
    sector: str
    description: str
    enrolled_by: str
    enrolled_at: datetime

    def to_document(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["_id"] = doc.pop("id")
        return doc

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Organization:
        return cls(id=doc["_id"], **{k: doc[k] for k in cls.__dataclass_fields__ if k != "id"})


@dataclass(frozen=True)
class Track:
    """What a volunteer already did and holds: completed projects' skills (those with approved hours), and
    the hours a month their accepted matches take. Worked out from the volunteer's matches
    (``handlers_probono.tracks``); each volunteer keeps theirs as a summary (``Volunteer.track``)."""

    completed: tuple[frozenset[str], ...] = ()
    committed_per_month: float = 0.0

    def to_document(self) -> dict[str, Any]:
        return {"completed": [sorted(s) for s in self.completed], "committed_per_month": self.committed_per_month}

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Track:
        return cls(tuple(frozenset(s) for s in doc["completed"]), doc["committed_per_month"])


@dataclass
class Volunteer:
    id: str
    account_id: str
    organization_id: str
    name: str
    title: str
    skills: list[str]
    hours_per_month: int
    available_from: date
    available_until: date
    work_mode: str
    base_city: str
    base_state: str | None
    experience: str
    phone: str
    registered_at: datetime
    status: str = "awaiting_confirmation"
    confirmed_by: str | None = None
    confirmed_at: datetime | None = None
    # the track record as a summary of the volunteer's matches, rewritten in the same transaction as every
    # match change (``handlers_probono``), so matching reads it with the volunteer; None until worked out
    # (volunteers saved before it was kept: the service works it out at start, matching on first use)
    track: Track | None = None
    version: int = 0

    def validate(self, known_skills: set[str]) -> None:
        if not self.skills:
            raise InvalidInput("skills_required", "choose at least one skill", field="skills")
        unknown = [s for s in self.skills if s not in known_skills]
        if unknown:
            raise InvalidInput("unknown_skill", f"{unknown[0]!r} is not on the skills list", field="skills")
        if self.work_mode not in WORK_MODES:
            raise InvalidInput("unknown_work_mode", "say whether you work remotely, on site or both", field="work_mode")
        _check_period(self.available_from, self.available_until, field_name="available_until")
        if self.work_mode != "remote" and not self.base_state:
            raise InvalidInput("base_required", "say which state you can work on site in", field="base_state")

    def confirm(self, by: str, now: datetime) -> None:
        if self.status == "confirmed":
            raise NotAllowedNow("already_confirmed", f"{self.name} is already confirmed")
        if self.status == "withdrawn":
            raise NotAllowedNow("volunteer_withdrawn", f"{self.name} has withdrawn from the network")
        self.status, self.confirmed_by, self.confirmed_at = "confirmed", by, now

    def to_document(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["_id"] = doc.pop("id")
        doc["available_from"], doc["available_until"] = self.available_from.isoformat(), self.available_until.isoformat()
        doc["track"] = self.track.to_document() if self.track is not None else None
        return doc

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Volunteer:
        data = {k: doc[k] for k in cls.__dataclass_fields__ if k != "id" and k in doc}
        data["available_from"] = date.fromisoformat(doc["available_from"])
        data["available_until"] = date.fromisoformat(doc["available_until"])
        data["track"] = Track.from_document(doc["track"]) if doc.get("track") is not None else None
        return cls(id=doc["_id"], **data)


@dataclass
class Project:
    id: str
    city_id: str
    department: str
    title: str
    problem: str
    skills: list[str]
    hours_needed: int
    starts_on: date
    ends_on: date
    work_mode: str
    on_site_needs: str
    posted_by: str
    posted_at: datetime
    status: str = "submitted"
    review_note: str = ""
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    outcome: str = ""
    completed_at: datetime | None = None
    version: int = 0

    def validate(self, known_skills: set[str]) -> None:
        if not self.skills:
            raise InvalidInput("skills_required", "choose at least one skill the project needs", field="skills")
        unknown = [s for s in self.skills if s not in known_skills]
        if unknown:
            raise InvalidInput("unknown_skill", f"{unknown[0]!r} is not on the skills list", field="skills")
        if self.work_mode not in WORK_MODES:
            raise InvalidInput("unknown_work_mode", "say whether the work is remote, on site or either",
                               field="work_mode")
        _check_period(self.starts_on, self.ends_on, field_name="ends_on")
        if self.work_mode == "on_site" and not self.on_site_needs.strip():
            raise InvalidInput("on_site_needs_required", "say what has to be done on site, and where",
                               field="on_site_needs")

    @property
    def days(self) -> int:
        return (self.ends_on - self.starts_on).days + 1

    @property
    def months(self) -> float:
        return max(1.0, self.days / 30.44)

    def review(self, decision: str, *, note: str, by: str, now: datetime) -> None:
        if self.status != "submitted":
            raise NotAllowedNow("not_waiting_for_review", "this project is not waiting for a review")
        if decision not in REVIEW_DECISIONS:
            raise InvalidInput("unknown_decision", "open, return or decline the project", field="decision")
        if decision in ("returned", "declined") and not note.strip():
            raise InvalidInput("note_required", "tell the city why, in a note", field="note")
        self.status = REVIEW_DECISIONS[decision]
        self.review_note, self.reviewed_by, self.reviewed_at = note.strip(), by, now

    def resubmit(self) -> None:
        if self.status != "returned":
            raise NotAllowedNow("not_returned", "only a project returned for changes is sent again")
        self.status = "submitted"

    def ensure_open_for_matching(self) -> None:
        if self.status not in ("open", "active"):
            raise NotAllowedNow("project_not_open", "volunteers are matched to projects NRN has opened")

    def complete(self, outcome: str, now: datetime) -> None:
        if self.status != "active":
            raise NotAllowedNow("project_not_active", "a project is completed once work on it is under way")
        if not outcome.strip():
            raise InvalidInput("outcome_required", "say what the project achieved", field="outcome")
        self.status, self.outcome, self.completed_at = "completed", outcome.strip(), now

    def to_document(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["_id"] = doc.pop("id")
        doc["starts_on"], doc["ends_on"] = self.starts_on.isoformat(), self.ends_on.isoformat()
        return doc

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Project:
        data = {k: doc[k] for k in cls.__dataclass_fields__ if k != "id" and k in doc}
        data["starts_on"], data["ends_on"] = date.fromisoformat(doc["starts_on"]), date.fromisoformat(doc["ends_on"])
        return cls(id=doc["_id"], **data)


@dataclass
class HoursEntry:
    id: str
    worked_on: date
    hours: float
    note: str
    logged_at: datetime
    status: str = "pending"
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    review_note: str = ""


Side = Literal["volunteer", "city"]


@dataclass
class Match:
    id: str
    project_id: str
    city_id: str
    volunteer_id: str
    account_id: str
    organization_id: str
    score: float
    reasons: list[str]
    hours_agreed: float
    proposed_by: str  # "staff" | "city"
    proposer: str
    proposed_at: datetime
    status: str = "proposed"
    answers: dict[str, str] = field(default_factory=dict)  # side → "accepted" | "declined"
    decline_reason: str = ""
    accepted_at: datetime | None = None
    hours: list[HoursEntry] = field(default_factory=list)
    # the project's skills and length in months when it was proposed (fixed once a project is open, and
    # only open projects are matched): a volunteer's track record reads them here, not from each project.
    # None on matches proposed before they were kept.
    project_skills: list[str] | None = None
    project_months: float | None = None
    version: int = 0

    def answer(self, side: Side, *, accepted: bool, reason: str, now: datetime) -> None:
        if self.status != "proposed":
            raise NotAllowedNow("match_already_answered", "this match is no longer waiting for an answer")
        if side in self.answers:
            raise NotAllowedNow("side_already_answered", "you have already answered this match")
        self.answers[side] = "accepted" if accepted else "declined"
        if not accepted:
            self.status, self.decline_reason = "declined", reason.strip()
        elif all(self.answers.get(s) == "accepted" for s in ("volunteer", "city")):
            self.status, self.accepted_at = "accepted", now

    @property
    def hours_logged(self) -> float:
        """Hours pending or approved: what counts against the agreed total."""
        return sum(e.hours for e in self.hours if e.status in ("pending", "approved"))

    @property
    def hours_approved(self) -> float:
        return sum(e.hours for e in self.hours if e.status == "approved")

    def log(self, entry: HoursEntry, *, project: Project, today: date) -> None:
        if self.status != "accepted":
            raise NotAllowedNow("match_not_accepted", "hours are logged on a match both sides accepted")
        if project.status != "active":
            raise NotAllowedNow("project_not_active", "hours are logged while the project is under way")
        if entry.hours < QUARTER or entry.hours > MAX_HOURS_A_DAY or (entry.hours / QUARTER) % 1:
            raise InvalidInput("bad_hours", "log between a quarter hour and 24 hours, in quarter hours",
                               field="hours")
        if entry.worked_on > today:
            raise InvalidInput("future_day", "log hours for a day that has passed (or today)", field="worked_on")
        if entry.worked_on < project.starts_on:
            raise InvalidInput("before_project", "that day is before the project started", field="worked_on")
        if self.hours_logged + entry.hours > self.hours_agreed:
            left = max(0.0, self.hours_agreed - self.hours_logged)
            raise NotAllowedNow("beyond_agreed_hours",
                                f"that goes beyond the {self.hours_agreed:g} hours agreed ({left:g} left); ask the "
                                "city to agree to more hours first", field="hours")
        self.hours.append(entry)

    def entry(self, entry_id: str) -> HoursEntry:
        for e in self.hours:
            if e.id == entry_id:
                return e
        raise InvalidInput("unknown_entry", "no such hours entry", field="entry_id")

    def review_hours(self, entry_id: str, *, approved: bool, note: str, by: str, now: datetime) -> HoursEntry:
        e = self.entry(entry_id)
        if e.status != "pending":
            raise NotAllowedNow("hours_already_reviewed", "these hours were already reviewed")
        if not approved and not note.strip():
            raise InvalidInput("note_required", "tell the volunteer why the hours are returned", field="note")
        e.status = "approved" if approved else "returned"
        e.reviewed_by, e.reviewed_at, e.review_note = by, now, note.strip()
        return e

    def agree_hours(self, total: float) -> None:
        if self.status != "accepted":
            raise NotAllowedNow("match_not_accepted", "hours are agreed on a match both sides accepted")
        if total < self.hours_logged:
            raise InvalidInput("below_logged", f"{self.hours_logged:g} hours are already logged", field="hours_agreed")
        self.hours_agreed = total

    def to_document(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["_id"] = doc.pop("id")
        for e in doc["hours"]:
            e["worked_on"] = e["worked_on"].isoformat()
        return doc

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Match:
        data = {k: doc[k] for k in cls.__dataclass_fields__ if k != "id" and k in doc}
        data["hours"] = [HoursEntry(**{**e, "worked_on": date.fromisoformat(e["worked_on"])})
                         for e in doc.get("hours", [])]
        return cls(id=doc["_id"], **data)
