"""Request bodies of the public API. They validate at the door (a 422 naming the field
before any upstream call) and document the API; the services validate again."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

# Ids travel into upstream URLs: letters, digits and a few separators, never a dot segment.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$"
Id = Annotated[str, Path(pattern=ID_PATTERN, description="an identifier (letters, digits, `-_.:@`)")]

Text = Annotated[str, Field(min_length=1, max_length=20_000)]
Short = Annotated[str, Field(min_length=1, max_length=300)]
Email = Annotated[str, Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Role = Literal["administrator", "program_manager", "triage_lead", "subject_matter_expert", "reviewer", "curator"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def out(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


# --- accounts ----------------------------------------------------------------------------------


class OfficialSignup(Body):
    name: Short
    title: Short
    email: Email
    phone: Annotated[str, Field(max_length=40)] | None = None
    city_id: Annotated[str, Field(pattern=ID_PATTERN)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class RefreshIn(Body):
    refresh_token: Annotated[str, Field(min_length=1, max_length=4096)]


class ResetRequest(Body):
    email: Email


class ResetConfirm(Body):
    token: Annotated[str, Field(min_length=1, max_length=4096)]
    new_password: Annotated[str, Field(min_length=1, max_length=1024)]


class ReasonIn(Body):
    reason: Annotated[str, Field(min_length=1, max_length=4000)]


class RoleGrant(Body):
    role: Role
    expertise: list[Short] | None = None


class StaffCreate(Body):
    name: Short
    title: Short | None = None
    email: Email
    phone: Annotated[str, Field(max_length=40)] | None = None
    roles: Annotated[list[Role], Field(min_length=1)]
    expertise: list[Short] | None = None
    password: Annotated[str, Field(min_length=1, max_length=1024)] | None = None


class PartnerCreate(Body):
    name: Short
    kind: Literal["consortium_member", "federal_agency"]
    website: Annotated[str, Field(max_length=2000)] | None = None


class MemberCreate(Body):
    name: Short
    title: Short | None = None
    email: Email
    phone: Annotated[str, Field(max_length=40)] | None = None
    password: Annotated[str, Field(min_length=1, max_length=1024)] | None = None


# --- 311 requests ---------------------------------------------------------------------------------

Urgency = Literal["routine", "soon", "urgent"]
Consent = Literal["none", "anonymous", "named"]


class Versioned(Body):
    # The request's version this action expects (or send If-Match); 409 if stale.
    version: Annotated[int, Field(ge=0)] | None = None


class QuestionIn(Body):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    question: Text
    context: Annotated[str, Field(max_length=20_000)] | None = None
    desired_outcome: Annotated[str, Field(max_length=5_000)] | None = None
    topic: Short
    urgency: Urgency | None = None
    preferred_call_times: Annotated[list[Short], Field(max_length=10)] | None = None
    consent: Consent | None = None


class TriageIn(Versioned):
    topic: Short
    urgency: Urgency | None = None
    note: Annotated[str, Field(max_length=5_000)] | None = None


class InformationRequestIn(Versioned):
    question: Text


class InformationIn(Versioned):
    answer: Text


class DeclineIn(Versioned):
    reason: Literal["out_of_scope", "duplicate", "other"]
    explanation: Annotated[str, Field(max_length=5_000)] | None = None
    duplicate_of: Annotated[str, Field(pattern=ID_PATTERN)] | None = None


class AssignIn(Versioned):
    expert_id: Annotated[str, Field(pattern=ID_PATTERN)]


class MemoBody(Body):
    body: Annotated[str, Field(max_length=100_000)]


class MemoDraftIn(Versioned):
    body: Annotated[str, Field(min_length=1, max_length=100_000)]


class MemoReturnIn(Versioned):
    comments: Annotated[list[Annotated[str, Field(min_length=1, max_length=5_000)]], Field(min_length=1, max_length=50)]


class Slot(Body):
    starts_at: datetime
    duration_minutes: Annotated[int, Field(ge=15, le=120)] = 30


class CallSlotsIn(Versioned):
    slots: Annotated[list[Slot], Field(min_length=1, max_length=10)]


class ScheduleIn(Versioned):
    slot_id: Annotated[str, Field(min_length=1, max_length=128)]


class CallCompleteIn(Versioned):
    summary: Text
    next_steps: Annotated[list[Short], Field(max_length=30)] = []
    close: bool = True


class CallMissedIn(Versioned):
    missed_by: Literal["official", "expert", "both", "unknown"] | None = None


class CloseIn(Versioned):
    note: Annotated[str, Field(max_length=5_000)] | None = None


class FeedbackIn(Versioned):
    rating: Annotated[int, Field(ge=1, le=5)]
    comment: Annotated[str, Field(max_length=5_000)] | None = None


class FollowUpIn(Versioned):
    outcome: Literal["acted", "partly", "not_acted"]
    description: Annotated[str, Field(max_length=5_000)] | None = None


class ReopenIn(Versioned):
    reason: Annotated[str, Field(min_length=1, max_length=5_000)]


class ConsentIn(Versioned):
    consent: Consent


class NoteIn(Versioned):
    text: Text


class ExpertPatch(Body):
    capacity: Annotated[int, Field(ge=0, le=1000)] | None = None
    active: bool | None = None
