"""Value objects shared by the aggregate, the handlers and the API: topics, roles, actors, sub-records."""

from __future__ import annotations

from datetime import datetime, time
from enum import StrEnum
from typing import Literal

from nrn_contracts.values import MultiLine, SingleLine
from pydantic import BaseModel, ConfigDict, Field


class Topic(StrEnum):
    """The managed taxonomy of question topics."""

    finance_budgets = "finance_budgets"
    economic_development = "economic_development"
    housing = "housing"
    workforce = "workforce"
    public_safety = "public_safety"
    land_use = "land_use"
    transportation = "transportation"
    government_operations = "government_operations"
    broadband = "broadband"
    health = "health"
    other = "other"


TOPIC_LABELS: dict[Topic, str] = {
    Topic.finance_budgets: "Finance and budgets",
    Topic.economic_development: "Economic development",
    Topic.housing: "Housing",
    Topic.workforce: "Workforce",
    Topic.public_safety: "Public safety",
    Topic.land_use: "Land use",
    Topic.transportation: "Transportation",
    Topic.government_operations: "Government operations",
    Topic.broadband: "Broadband",
    Topic.health: "Health",
    Topic.other: "Other",
}


class Urgency(StrEnum):
    routine = "routine"
    soon = "soon"
    urgent = "urgent"


class Consent(StrEnum):
    """Whether the answered question may join the public record, and under whose name."""

    none = "none"  # not published
    anonymous = "anonymous"  # published without the city's name
    named = "named"  # published with the city's name


class DeclineReason(StrEnum):
    out_of_scope = "out_of_scope"
    duplicate = "duplicate"  # of an answered question, which must be linked
    other = "other"


class FollowUpOutcome(StrEnum):
    acted = "acted"
    partly = "partly"
    not_acted = "not_acted"


class Role(StrEnum):
    """The role names of `nrn_kit.auth` (accounts grants them); `official` stands for a city official."""

    official = "official"
    administrator = "administrator"
    program_manager = "program_manager"
    triage_lead = "triage_lead"
    subject_matter_expert = "subject_matter_expert"
    reviewer = "reviewer"
    curator = "curator"


STAFF_ROLES = frozenset(Role) - {Role.official}


class Actor(BaseModel):
    """Who acts. Built by the API from a verified token; the domain trusts it."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: Literal["official", "staff", "system"]
    roles: frozenset[Role] = frozenset()
    city_id: str | None = None  # officials only
    verified: bool = False  # officials: verified by accounts
    name: str = ""

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"

    def has(self, *roles: Role) -> bool:
        return self.is_staff and (bool(self.roles & set(roles)) or Role.administrator in self.roles)


SYSTEM = Actor(id="requests311", kind="system", name="requests311")


class CityRef(BaseModel):
    """What requests311 knows about a city from accounts' events."""

    id: str
    name: str
    us_state: str
    eligible: bool
    time_zone: str | None = None  # IANA, from accounts (the city's coordinates)


class ExpertRef(BaseModel):
    id: str
    name: str = ""


class QuestionDraft(BaseModel):
    """The question as the official writes it. Size limits are rules the API reports by field."""

    title: SingleLine = Field(min_length=1, max_length=200)
    question: MultiLine = Field(min_length=1, max_length=10_000)
    context: MultiLine = Field("", max_length=10_000)
    desired_outcome: MultiLine = Field("", max_length=2_000)
    topic: Topic
    urgency: Urgency = Urgency.routine
    preferred_call_times: list[SingleLine] = Field(default_factory=list, max_length=10)
    consent: Consent = Consent.none


class TimelineEntry(BaseModel):
    at: datetime
    action: str
    actor_id: str
    actor_kind: str
    summary: str
    public: bool = True  # False: staff only (internal notes, review comments, drafts)


class InformationRequest(BaseModel):
    number: int
    asked_by: str
    asked_at: datetime
    question: str
    resume_status: str
    answer: str | None = None
    answered_by: str | None = None
    answered_at: datetime | None = None


class ReviewComment(BaseModel):
    by: str
    at: datetime
    comment: str


class MemoVersion(BaseModel):
    number: int
    body: str
    author_id: str
    drafted_at: datetime
    word_count: int
    flags: list[str]
    state: Literal["draft", "in_review", "returned", "approved", "delivered"] = "draft"
    submitted_at: datetime | None = None
    review_comments: list[ReviewComment] = Field(default_factory=list)
    approved_by: str | None = None
    approved_at: datetime | None = None
    delivered_at: datetime | None = None


class CallSlot(BaseModel):
    id: str
    starts_at: datetime
    duration_minutes: int
    offered_by: str
    offered_at: datetime
    withdrawn: bool = False  # a newer offer replaces the slots not yet picked
    taken: bool = False
    meeting: str | None = None  # how to join: a dial-in number or a video link, as the expert wrote it


class CallHours(BaseModel):
    """When calls are offered without a second thought: weekdays that are not federal holidays, between
    `start` and `end` in the city's own time (a slot outside them needs the offerer's confirmation)."""

    model_config = ConfigDict(frozen=True)

    start: time = time(9, 0)
    end: time = time(17, 0)


class Call(BaseModel):
    id: str
    slot_id: str
    starts_at: datetime
    duration_minutes: int
    scheduled_by: str
    scheduled_at: datetime
    outcome: Literal["scheduled", "completed", "missed", "reschedule_requested", "cancelled"] = "scheduled"
    change_reason: str | None = None  # why it was moved or cancelled (the official's or staff's words)
    meeting: str | None = None  # how to join, from the slot
    summary: str | None = None
    next_steps: list[str] = Field(default_factory=list)
    missed_by: str | None = None
    recorded_at: datetime | None = None


class Decline(BaseModel):
    reason: DeclineReason
    explanation: str = ""
    duplicate_of: str | None = None
    by: str
    at: datetime


class Feedback(BaseModel):
    rating: int
    comment: str
    by: str
    at: datetime


class FollowUp(BaseModel):
    outcome: FollowUpOutcome
    description: str
    recorded_by: str
    recorded_at: datetime


class Note(BaseModel):
    by: str
    at: datetime
    text: str


class Assignment(BaseModel):
    expert_id: str
    expert_name: str
    by: str
    at: datetime
    reason: str | None = None  # why the previous expert was replaced


class WorkingCopy(BaseModel):
    """The memo as the expert is typing it, saved as they go (autosave): not a version yet. Saving a
    draft makes it one. `revision` counts the saves, so two editors of one memo cannot overwrite each
    other unknowingly."""

    body: str
    by: str
    saved_at: datetime
    revision: int


class PublicRecord(BaseModel):
    """Where the library published the answered question (learned from the library's events)."""

    resource_id: str
    published_at: datetime
    archived_at: datetime | None = None
