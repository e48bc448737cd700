"""Working groups and the Peer Steering Committee: members, meetings, decisions, deliverables.

Both are a *group* (``kind``): member cities, member officials and partner experts; meetings
with an agenda and notes; decisions recorded at meetings. Steering committee members are cities
with a term; a term ending within the notice period is flagged (``term_status``).

A deliverable (for example a practical resource guide) moves:
``drafting ─submit─▶ in_review ─approve─▶ published`` (its approved draft goes to the library),
``in_review ─request_changes─▶ drafting``. Drafts are numbered; comments name the draft they read.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from .actors import MANAGER_ROLES, Actor
from .errors import InvalidInput, NotAllowedNow, NotPermitted

GroupKind = Literal["working_group", "steering_committee"]
MemberKind = Literal["city", "official", "partner_expert"]
STEERING_COMMITTEE_ID = "peer-steering-committee"


@dataclass
class Member:
    kind: str
    id: str  # city_id for a city, account_id for a person
    name: str
    city_id: str | None = None
    organization: str = ""
    joined_at: datetime | None = None
    term_starts_on: date | None = None
    term_ends_on: date | None = None
    left_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.left_at is None

    def term_status(self, today: date, notice: timedelta) -> Literal["none", "serving", "ending_soon", "ended"]:
        if self.term_ends_on is None:
            return "none"
        if today > self.term_ends_on:
            return "ended"
        if self.term_ends_on - today <= notice:
            return "ending_soon"
        return "serving"


@dataclass
class Decision:
    id: str
    summary: str
    decided_on: date
    recorded_by: str
    recorded_at: datetime


@dataclass
class Meeting:
    id: str
    title: str
    starts_at: datetime
    timezone: str
    agenda: str = ""
    notes: str = ""
    decisions: list[Decision] = field(default_factory=list)


@dataclass
class Group:
    id: str
    kind: str
    name: str
    purpose: str
    topics: list[str]
    created_by: str
    created_at: datetime
    members: list[Member] = field(default_factory=list)
    meetings: list[Meeting] = field(default_factory=list)
    version: int = 0

    def active_members(self) -> list[Member]:
        return [m for m in self.members if m.active]

    def member(self, kind: str, member_id: str) -> Member | None:
        return next((m for m in self.members if m.kind == kind and m.id == member_id and m.active), None)

    def city_ids(self) -> set[str]:
        return {m.id for m in self.active_members() if m.kind == "city"}

    def add_member(self, m: Member) -> None:
        if self.member(m.kind, m.id) is not None:
            raise NotAllowedNow("already_a_member", f"{m.name} is already a member of {self.name}", field="member_id")
        if self.kind == "steering_committee":
            if m.kind != "city":
                raise InvalidInput("committee_members_are_cities",
                                   "the steering committee's members are cities", field="member_kind")
            if m.term_starts_on is None or m.term_ends_on is None:
                raise InvalidInput("term_required", "a committee member city needs the start and end of its term",
                                   field="term_ends_on")
        if m.term_starts_on and m.term_ends_on and m.term_ends_on <= m.term_starts_on:
            raise InvalidInput("term_ends_before_start", "the term must end after it starts", field="term_ends_on")
        if m.kind == "official" and m.city_id not in self.city_ids():
            raise NotAllowedNow("city_not_a_member", "an official joins a group their city is a member of; "
                                "add the city first", field="member_id")
        self.members.append(m)

    def remove_member(self, kind: str, member_id: str, now: datetime) -> Member:
        m = self.member(kind, member_id)
        if m is None:
            raise NotAllowedNow("not_a_member", "that member is not in this group", field="member_id")
        m.left_at = now
        return m

    def meeting(self, meeting_id: str) -> Meeting:
        for mt in self.meetings:
            if mt.id == meeting_id:
                return mt
        from .errors import NotFound
        raise NotFound("meeting_not_found", "no such meeting in this group", field="meeting_id")

    def may_take_part(self, actor: Actor) -> bool:
        """Members (officials of member cities, partner experts named as members) and staff."""
        if actor.is_staff:
            return True
        if actor.is_official:
            return actor.city_id in self.city_ids()
        if actor.is_partner:
            return self.member("partner_expert", actor.id) is not None
        return False

    def to_document(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["_id"] = doc.pop("id")
        for m in doc["members"]:
            for k in ("term_starts_on", "term_ends_on"):
                m[k] = m[k].isoformat() if m[k] else None
        for mt in doc["meetings"]:
            for d in mt["decisions"]:
                d["decided_on"] = d["decided_on"].isoformat()
        return doc

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Group:
        def member(d: dict[str, Any]) -> Member:
            d = dict(d)
            for k in ("term_starts_on", "term_ends_on"):
                d[k] = date.fromisoformat(d[k]) if d.get(k) else None
            return Member(**d)

        def meeting(d: dict[str, Any]) -> Meeting:
            d = dict(d)
            d["decisions"] = [Decision(**{**x, "decided_on": date.fromisoformat(x["decided_on"])})
                              for x in d.get("decisions", [])]
            return Meeting(**d)

        data = {k: v for k, v in doc.items() if k != "_id" and k in cls.__dataclass_fields__}
        data["members"] = [member(m) for m in doc.get("members", [])]
        data["meetings"] = [meeting(m) for m in doc.get("meetings", [])]
        return cls(id=doc["_id"], **data)


# ---------------------------------------------------------------------------- deliverables

DeliverableStatus = Literal["drafting", "in_review", "published"]
DELIVERABLE_TRANSITIONS: dict[tuple[str, str], str] = {
    ("drafting", "draft"): "drafting",
    ("drafting", "submit"): "in_review",
    ("in_review", "request_changes"): "drafting",
    ("in_review", "approve"): "published",
    ("drafting", "comment"): "drafting",
    ("in_review", "comment"): "in_review",
}
REVIEWER_ROLES = MANAGER_ROLES | {"reviewer"}


@dataclass
class Draft:
    number: int
    body: str
    author_id: str
    author_name: str
    at: datetime


@dataclass
class Comment:
    by: str
    name: str
    at: datetime
    body: str
    draft: int


@dataclass
class Deliverable:
    id: str
    group_id: str
    title: str
    summary: str
    topics: list[str]
    created_by: str
    created_at: datetime
    status: str = "drafting"
    drafts: list[Draft] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    review_notes: list[Comment] = field(default_factory=list)
    approved_by: str | None = None
    published_at: datetime | None = None
    version: int = 0

    def _step(self, action: str) -> None:
        nxt = DELIVERABLE_TRANSITIONS.get((self.status, action))
        if nxt is None:
            words = {"drafting": "being drafted", "in_review": "in review", "published": "published"}[self.status]
            raise NotAllowedNow(f"{action}_not_allowed_when_{self.status}",
                                f"this deliverable is {words}; that cannot be done now")
        self.status = nxt

    @property
    def latest(self) -> Draft | None:
        return self.drafts[-1] if self.drafts else None

    def add_draft(self, body: str, actor: Actor, name: str, now: datetime) -> Draft:
        if not body.strip():
            raise InvalidInput("blank_draft", "the draft is empty", field="body")
        self._step("draft")
        d = Draft(number=len(self.drafts) + 1, body=body, author_id=actor.id, author_name=name, at=now)
        self.drafts.append(d)
        return d

    def comment(self, body: str, actor: Actor, name: str, now: datetime) -> None:
        if not body.strip():
            raise InvalidInput("blank_comment", "the comment is empty", field="body")
        self._step("comment")
        self.comments.append(Comment(by=actor.id, name=name, at=now, body=body,
                                     draft=self.latest.number if self.latest else 0))

    def submit(self) -> None:
        if self.latest is None:
            raise NotAllowedNow("no_draft_to_review", "add a draft before sending it for review")
        self._step("submit")

    def review(self, actor: Actor, *, approve: bool, note: str, name: str, now: datetime) -> None:
        if not actor.has(*REVIEWER_ROLES):
            raise NotPermitted("reviewer_required", "a program manager or a reviewer reviews deliverables")
        if not approve and not note.strip():
            raise InvalidInput("changes_need_a_note", "say what should change", field="note")
        self._step("approve" if approve else "request_changes")
        if note.strip():
            self.review_notes.append(Comment(by=actor.id, name=name, at=now, body=note,
                                             draft=self.latest.number if self.latest else 0))
        if approve:
            self.approved_by, self.published_at = actor.id, now

    def to_document(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["_id"] = doc.pop("id")
        return doc

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Deliverable:
        data = {k: v for k, v in doc.items() if k != "_id" and k in cls.__dataclass_fields__}
        data["drafts"] = [Draft(**d) for d in doc.get("drafts", [])]
        data["comments"] = [Comment(**c) for c in doc.get("comments", [])]
        data["review_notes"] = [Comment(**c) for c in doc.get("review_notes", [])]
        return cls(id=doc["_id"], **data)
