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


# --- library and clearinghouse ----------------------------------------------------------------------

ResourceType = Literal["guide", "toolkit", "case_study", "report", "webinar", "research", "policy_analysis",
                       "answered_question", "working_group_deliverable", "convening_material", "close_out_report"]
Agency = Literal["HUD", "EDA", "DOT", "EPA", "USDA", "Treasury", "HHS", "NTIA", "DOE", "DOL", "FEMA", "SBA", "DOJ", "ED",
                 "Other"]
HelpKind = Literal["technical_assistance", "planning", "capacity_building", "grants", "loans", "financing", "data_tools",
                   "training", "peer_learning", "expert_staff"]
Tag = Annotated[str, Field(min_length=1, max_length=100)]


class ResourcePatch(Body):
    type: ResourceType | None = None
    title: Annotated[str, Field(min_length=3, max_length=300)] | None = None
    summary: Annotated[str, Field(max_length=4_000)] | None = None
    body: Annotated[str, Field(max_length=200_000)] | None = None
    link: Annotated[str, Field(max_length=2_000, pattern=r"^https?://")] | None = None
    topics: Annotated[list[Tag], Field(max_length=20)] | None = None
    source_organisation: Annotated[str, Field(max_length=300)] | None = None
    authors: Annotated[list[Short], Field(max_length=50)] | None = None
    publication_date: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")] | None = None
    related_cities: Annotated[list[Tag], Field(max_length=50)] | None = None
    tags: Annotated[list[Tag], Field(max_length=50)] | None = None
    audience: Literal["public", "officials", "staff"] | None = None
    agency: Agency | None = None
    question: Annotated[str, Field(max_length=20_000)] | None = None
    version: Annotated[int, Field(ge=0)] | None = None


class ResourceContent(ResourcePatch):
    type: ResourceType
    title: Annotated[str, Field(min_length=3, max_length=300)]
    topics: Annotated[list[Tag], Field(min_length=1, max_length=20)]


class NoteBody(Body):
    note: Annotated[str, Field(max_length=5_000)] | None = None
    version: Annotated[int, Field(ge=0)] | None = None


class Deadline(Body):
    label: Short
    due: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]


class ProgramEligibility(Body):
    entity_kinds: list[Literal["city", "county", "tribe", "state", "nonprofit", "regional_body", "utility",
                               "school_district"]] | None = None
    min_population: Annotated[int, Field(ge=0)] | None = None
    max_population: Annotated[int, Field(ge=0)] | None = None
    states: list[Annotated[str, Field(pattern=r"^[A-Z]{2}$")]] | None = None
    requires_distress: bool | None = None
    rural_only: bool | None = None
    notes: Annotated[str, Field(max_length=4_000)] | None = None


class ProgramPatch(Body):
    agency: Agency | None = None
    sub_agency: Annotated[str, Field(max_length=300)] | None = None
    name: Annotated[str, Field(min_length=1, max_length=300)] | None = None
    summary: Annotated[str, Field(max_length=4_000)] | None = None
    help_given: Annotated[list[HelpKind], Field(max_length=10)] | None = None
    help_details: Annotated[str, Field(max_length=10_000)] | None = None
    topics: Annotated[list[Tag], Field(max_length=20)] | None = None
    eligibility: ProgramEligibility | None = None
    how_to_apply: Annotated[str, Field(max_length=10_000)] | None = None
    rolling: bool | None = None
    deadlines: Annotated[list[Deadline], Field(max_length=20)] | None = None
    url: Annotated[str, Field(max_length=2_000, pattern=r"^https?://")] | None = None
    contact: Annotated[str, Field(max_length=500)] | None = None
    tags: Annotated[list[Tag], Field(max_length=50)] | None = None
    version: Annotated[int, Field(ge=0)] | None = None


class ProgramContent(ProgramPatch):
    agency: Agency
    name: Annotated[str, Field(min_length=1, max_length=300)]


class SimilarIn(Body):
    text: Annotated[str, Field(min_length=1, max_length=20_000)]
    limit: Annotated[int, Field(ge=1, le=20)] | None = None


class HelpfulIn(Body):
    resource_id: Annotated[str, Field(pattern=ID_PATTERN)]
