"""Request bodies of the public API. They validate at the door (a 422 naming the field
before any upstream call) and document the API; the services validate again."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from nrn_contracts import TOPIC_TAXONOMY
from nrn_contracts.values import MultiLine, Population, SingleLine, Version
from nrn_kit.localtime import check_local_has_zone, check_zone_name

from .. import library_limits as L
from .. import requests311_limits as R

# Ids travel into upstream URLs: letters, digits and a few separators, never a dot segment.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$"
Id = Annotated[str, Path(pattern=ID_PATTERN, description="an identifier (letters, digits, `-_.:@`)")]

# Text refuses control characters (nrn_contracts.values.SingleLine / MultiLine, as the services' models do)
Short = Annotated[SingleLine, Field(min_length=1, max_length=300)]
Email = Annotated[SingleLine, Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Role = Literal["administrator", "program_manager", "triage_lead", "subject_matter_expert", "reviewer", "curator",
               "partner_administrator", "probono_coordinator"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def out(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


# --- accounts ----------------------------------------------------------------------------------


class OfficialSignup(Body):
    name: Short
    title: Short
    email: Email
    phone: Annotated[SingleLine, Field(max_length=40)] | None = None
    city_id: Annotated[SingleLine, Field(pattern=ID_PATTERN)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class RefreshIn(Body):
    refresh_token: Annotated[SingleLine, Field(min_length=1, max_length=4096)]


class ResetRequest(Body):
    email: Email


class ResetConfirm(Body):
    token: Annotated[SingleLine, Field(min_length=1, max_length=4096)]
    new_password: Annotated[str, Field(min_length=1, max_length=1024)]


class TokenIn(Body):
    token: Annotated[str, Field(min_length=1, max_length=512)]


class PasswordChange(Body):
    # exactly as typed: never trimmed (accounts applies the one password policy)
    current_password: Annotated[str, Field(min_length=1, max_length=1024)]
    new_password: Annotated[str, Field(min_length=1, max_length=1024)]


class ReasonIn(Body):
    reason: Annotated[MultiLine, Field(min_length=1, max_length=5000)]  # accounts' WithReason


class OptionalReasonIn(Body):
    reason: Annotated[MultiLine, Field(max_length=5000)] | None = None


class MessageIn(Body):
    message: Annotated[MultiLine, Field(min_length=1, max_length=5000)]


class RoleGrant(Body):
    role: Role
    expertise: list[Short] | None = None


class StaffCreate(Body):
    name: Short
    title: Short | None = None
    email: Email
    phone: Annotated[SingleLine, Field(max_length=40)] | None = None
    roles: Annotated[list[Role], Field(min_length=1)]
    expertise: list[Short] | None = None
    password: Annotated[str, Field(min_length=1, max_length=1024)] | None = None


class PartnerCreate(Body):
    name: Short
    kind: Literal["consortium_member", "federal_agency"]
    website: Annotated[SingleLine, Field(max_length=2000)] | None = None


class MemberCreate(Body):
    name: Short
    title: Short | None = None
    email: Email
    phone: Annotated[SingleLine, Field(max_length=40)] | None = None
    password: Annotated[str, Field(min_length=1, max_length=1024)] | None = None
    administrator: bool = Field(False, description="administers the organization's webhook subscriptions")


# --- 311 requests ---------------------------------------------------------------------------------
# Limits mirror requests311's own (gateway.requests311_limits; a test compares the models field by
# field and probes requests311's domain rules with the same inputs), so the door neither lets
# through what requests311 refuses nor refuses what it takes.

Urgency = Literal["routine", "soon", "urgent"]
Consent = Literal["none", "anonymous", "named"]
Topic = R.Topic


def _not_blank(value: str) -> str:
    # requests311 trims required text before checking it (its domain's `_text`); the value goes on as sent
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _call_time(value: str) -> str:
    if len(value.strip()) > R.CALL_TIME_MAX:
        raise ValueError(f"each preferred call time must be at most {R.CALL_TIME_MAX} characters")
    return value


NotBlank = AfterValidator(_not_blank)


class Versioned(Body):
    # The request's version this action expects (or send If-Match); 409 if stale.
    version: Version | None = None


class QuestionIn(Body):
    title: Annotated[SingleLine, Field(min_length=1, max_length=R.TITLE_MAX), NotBlank]
    question: Annotated[MultiLine, Field(min_length=1, max_length=R.QUESTION_MAX), NotBlank]
    context: Annotated[MultiLine, Field(max_length=R.CONTEXT_MAX)] | None = None
    desired_outcome: Annotated[MultiLine, Field(max_length=R.DESIRED_OUTCOME_MAX)] | None = None
    topic: Topic
    urgency: Urgency | None = None
    # blank entries are dropped by requests311; each other one, trimmed, at most R.CALL_TIME_MAX
    preferred_call_times: Annotated[list[Annotated[SingleLine, AfterValidator(_call_time)]],
                                    Field(max_length=R.CALL_TIMES_MAX)] | None = None
    consent: Consent | None = None


class TriageIn(Versioned):
    topic: Topic
    urgency: Urgency | None = None
    note: Annotated[MultiLine, Field(max_length=R.TRIAGE_NOTE_MAX)] | None = None


class InformationRequestIn(Versioned):
    question: Annotated[MultiLine, Field(min_length=1, max_length=R.INFORMATION_QUESTION_MAX), NotBlank]


class InformationIn(Versioned):
    answer: Annotated[MultiLine, Field(min_length=1, max_length=R.INFORMATION_ANSWER_MAX), NotBlank]


class DeclineIn(Versioned):
    reason: Literal["out_of_scope", "duplicate", "other"]
    explanation: Annotated[MultiLine, Field(max_length=R.DECLINE_EXPLANATION_MAX)] | None = None
    duplicate_of: Annotated[SingleLine, Field(min_length=1, max_length=R.ID_MAX)] | None = None


class AssignIn(Versioned):
    expert_id: Annotated[SingleLine, Field(min_length=1, max_length=R.ID_MAX)]
    # why: required (not blank) when another expert is replaced, which requests311 knows
    reason: Annotated[MultiLine, Field(max_length=R.ASSIGN_REASON_MAX)] | None = None


class UnassignIn(Versioned):
    reason: Annotated[MultiLine, Field(min_length=1, max_length=R.ASSIGN_REASON_MAX), NotBlank]


class SubmitMemoIn(Versioned):
    # send it although a section is missing or empty (the expert confirmed it)
    accept_incomplete: bool = False


class WorkingCopyIn(Versioned):
    # the editor's autosave: what is typed, blank included (requests311 checks the length only)
    body: Annotated[MultiLine, Field(max_length=R.MEMO_MAX)]
    base_revision: Annotated[int, Field(ge=0, le=R.WORKING_COPY_REVISION_MAX)] = 0


class MemoBody(Body):
    # a preview: requests311 checks its length only
    body: Annotated[MultiLine, Field(min_length=1, max_length=R.MEMO_MAX)]


class MemoDraftIn(Versioned):
    body: Annotated[MultiLine, Field(min_length=1, max_length=R.MEMO_MAX), NotBlank]


class MemoReturnIn(Versioned):
    comments: Annotated[list[Annotated[MultiLine, Field(max_length=R.RETURN_COMMENT_MAX)]],
                        Field(min_length=1, max_length=R.RETURN_COMMENTS_MAX)]

    @field_validator("comments")
    @classmethod
    def _one_comment(cls, v: list[str]) -> list[str]:
        if not any(c.strip() for c in v):
            raise ValueError("say what to change: at least one comment that is not blank")
        return v


class Slot(Body):
    # requests311 makes a local time an instant (nrn_kit.localtime.resolve): a time in a spring-forward gap
    # is refused, one that happens twice is answered 422 with both `choices` to send back with `fold`
    starts_at: datetime = Field(description="with its UTC offset, or a local date and time with time_zone")
    time_zone: Annotated[SingleLine, Field(min_length=1, max_length=R.TIME_ZONE_MAX),
                         AfterValidator(check_zone_name)] | None = Field(
        None, description="IANA time zone of a local starts_at, e.g. America/New_York")
    fold: Literal[0, 1] | None = Field(None, description="for a local time that happens twice (clocks going "
                                                         "back): 0 the first, 1 the second")
    duration_minutes: Annotated[int, Field(ge=R.SLOT_MINUTES_MIN, le=R.SLOT_MINUTES_MAX)] = 30

    @model_validator(mode="after")
    def _local_needs_zone(self) -> Slot:
        check_local_has_zone(self.starts_at, self.time_zone)
        return self


class CallSlotsIn(Versioned):
    slots: Annotated[list[Slot], Field(min_length=1, max_length=R.SLOTS_MAX)]
    meeting: Annotated[SingleLine, Field(max_length=R.MEETING_MAX)] = ""  # how to join: dial-in number or video link
    # slots outside the city's business hours are offered only when the offerer says so
    outside_business_hours_confirmed: bool = False


class ScheduleIn(Versioned):
    slot_id: Annotated[SingleLine, Field(min_length=1, max_length=R.SLOT_ID_MAX)]


class CallRescheduleIn(Versioned):
    reason: Annotated[MultiLine, Field(max_length=R.CALL_CHANGE_REASON_MAX)] | None = None
    preferred_call_times: Annotated[list[Annotated[SingleLine, Field(max_length=R.CALL_TIME_MAX)]],
                                    Field(max_length=R.CALL_TIMES_MAX)] | None = None


class CallCancelIn(Versioned):
    reason: Annotated[MultiLine, Field(max_length=R.CALL_CHANGE_REASON_MAX)] | None = None


class CallCompleteIn(Versioned):
    summary: Annotated[MultiLine, Field(min_length=1, max_length=R.CALL_SUMMARY_MAX), NotBlank]
    # blank steps are dropped by requests311
    next_steps: Annotated[list[Annotated[MultiLine, Field(max_length=R.NEXT_STEP_MAX)]], Field(max_length=R.NEXT_STEPS_MAX)] = []
    close: bool = True


class CallMissedIn(Versioned):
    missed_by: Literal["official", "expert", "both", "unknown"] | None = None


class CloseIn(Versioned):
    note: Annotated[MultiLine, Field(max_length=R.CLOSE_NOTE_MAX)] | None = None


class FeedbackIn(Versioned):
    rating: Annotated[int, Field(ge=R.RATING_MIN, le=R.RATING_MAX)]
    comment: Annotated[MultiLine, Field(max_length=R.FEEDBACK_COMMENT_MAX)] | None = None


class FollowUpIn(Versioned):
    outcome: Literal["acted", "partly", "not_acted"]
    description: Annotated[MultiLine, Field(max_length=R.FOLLOW_UP_DESCRIPTION_MAX)] | None = None


class ReopenIn(Versioned):
    reason: Annotated[MultiLine, Field(min_length=1, max_length=R.REOPEN_REASON_MAX), NotBlank]


class ConsentIn(Versioned):
    consent: Consent


class NoteIn(Versioned):
    text: Annotated[MultiLine, Field(min_length=1, max_length=R.NOTE_MAX), NotBlank]


class ExpertPatch(Body):
    capacity: Annotated[int, Field(ge=0, le=R.EXPERT_CAPACITY_MAX)] | None = None
    available: bool | None = None


# --- library and clearinghouse ----------------------------------------------------------------------
# Limits mirror the library's own models (gateway.library_limits; a test compares them field by
# field), so the door neither lets through what the library refuses nor refuses what it takes.

ResourceType = Literal["guide", "toolkit", "case_study", "report", "webinar", "research", "policy_analysis",
                       "answered_question", "working_group_deliverable", "convening_material", "close_out_report"]
Agency = Literal["HUD", "EDA", "DOT", "EPA", "USDA", "Treasury", "HHS", "NTIA", "DOE", "DOL", "FEMA", "SBA", "DOJ", "ED",
                 "Other"]
HelpKind = Literal["technical_assistance", "planning", "capacity_building", "grants", "loans", "financing", "data_tools",
                   "training", "peer_learning", "expert_staff"]
EntityKind = Literal["city", "county", "tribe", "state", "nonprofit", "regional_body", "utility", "school_district"]
Url = Annotated[SingleLine, Field(max_length=L.URL_MAX, pattern=L.URL_PATTERN)]


def _topics(values: list[str]) -> list[str]:
    unknown = [v for v in values if v not in TOPIC_TAXONOMY]
    if unknown:
        raise ValueError(f"unknown topic(s) {unknown}; allowed: {', '.join(TOPIC_TAXONOMY)}")
    return list(dict.fromkeys(values))


def _entries(values: list[str]) -> list[str]:
    cleaned = [v.strip() for v in values if v and v.strip()]
    if any(len(v) > L.RESOURCE_LIST_ENTRY_MAX for v in cleaned):
        raise ValueError(f"each entry must be at most {L.RESOURCE_LIST_ENTRY_MAX} characters")
    return list(dict.fromkeys(cleaned))


class LibraryBody(Body):
    # the library trims every string before checking its length; so does the door
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LenientBody(Body):
    # the library's smaller bodies ignore fields they do not know; so does the door
    model_config = ConfigDict(extra="ignore")


class _ResourceChecks(LibraryBody):
    @field_validator("topics", check_fields=False)
    @classmethod
    def _known_topics(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else _topics(v)

    @field_validator("tags", "authors", "related_cities", check_fields=False)
    @classmethod
    def _clean(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else _entries(v)


class ResourceContent(_ResourceChecks):
    """A new resource: the library's ResourceContent."""

    type: ResourceType
    title: Annotated[SingleLine, Field(min_length=L.RESOURCE_TITLE_MIN, max_length=L.RESOURCE_TITLE_MAX)]
    summary: Annotated[MultiLine, Field(max_length=L.RESOURCE_SUMMARY_MAX)] | None = None
    body: Annotated[MultiLine, Field(max_length=L.RESOURCE_BODY_MAX)] | None = None
    link: Url | None = None
    topics: Annotated[list[SingleLine], Field(min_length=L.RESOURCE_TOPICS_MIN, max_length=L.RESOURCE_TOPICS_MAX)]
    source_organisation: Annotated[SingleLine, Field(min_length=L.RESOURCE_SOURCE_MIN, max_length=L.RESOURCE_SOURCE_MAX)]
    authors: Annotated[list[SingleLine], Field(max_length=L.RESOURCE_AUTHORS_MAX)] | None = None
    publication_date: date | None = None
    related_cities: Annotated[list[SingleLine], Field(max_length=L.RESOURCE_RELATED_CITIES_MAX)] | None = None
    tags: Annotated[list[SingleLine], Field(max_length=L.RESOURCE_TAGS_MAX)] | None = None
    audience: Literal["public", "officials", "staff"] | None = None
    agency: Annotated[SingleLine, Field(max_length=L.RESOURCE_AGENCY_MAX)] | None = None
    question: Annotated[MultiLine, Field(max_length=L.RESOURCE_QUESTION_MAX)] | None = None

    @model_validator(mode="after")
    def _body_or_link(self) -> ResourceContent:
        if not (self.body and self.body.strip()) and not self.link:
            raise ValueError("a resource needs a body or a link")
        return self


class ResourcePatch(_ResourceChecks):
    """An edit: any of ResourceContent's fields, each within the same limits."""

    type: ResourceType | None = None
    title: Annotated[SingleLine, Field(min_length=L.RESOURCE_TITLE_MIN, max_length=L.RESOURCE_TITLE_MAX)] | None = None
    summary: Annotated[MultiLine, Field(max_length=L.RESOURCE_SUMMARY_MAX)] | None = None
    body: Annotated[MultiLine, Field(max_length=L.RESOURCE_BODY_MAX)] | None = None
    link: Url | None = None
    topics: Annotated[list[SingleLine], Field(min_length=L.RESOURCE_TOPICS_MIN, max_length=L.RESOURCE_TOPICS_MAX)] | None = None
    source_organisation: Annotated[SingleLine, Field(min_length=L.RESOURCE_SOURCE_MIN, max_length=L.RESOURCE_SOURCE_MAX)] | None = None
    authors: Annotated[list[SingleLine], Field(max_length=L.RESOURCE_AUTHORS_MAX)] | None = None
    publication_date: date | None = None
    related_cities: Annotated[list[SingleLine], Field(max_length=L.RESOURCE_RELATED_CITIES_MAX)] | None = None
    tags: Annotated[list[SingleLine], Field(max_length=L.RESOURCE_TAGS_MAX)] | None = None
    audience: Literal["public", "officials", "staff"] | None = None
    agency: Annotated[SingleLine, Field(max_length=L.RESOURCE_AGENCY_MAX)] | None = None
    question: Annotated[MultiLine, Field(max_length=L.RESOURCE_QUESTION_MAX)] | None = None
    version: Version | None = None


class NoteBody(LenientBody):
    note: Annotated[MultiLine, Field(max_length=L.NOTE_MAX)] | None = None
    version: Version | None = None


class Deadline(LenientBody):
    label: Annotated[SingleLine, Field(min_length=L.DEADLINE_LABEL_MIN, max_length=L.DEADLINE_LABEL_MAX)]
    due: date


class ProgramEligibility(Body):  # the library's Eligibility forbids unknown fields and keeps spaces
    entity_kinds: list[EntityKind] | None = None
    min_population: Annotated[int, Field(ge=0, le=L.PROGRAM_POPULATION_MAX)] | None = None
    max_population: Annotated[int, Field(ge=0, le=L.PROGRAM_POPULATION_MAX)] | None = None
    states: list[SingleLine] | None = None
    requires_distress: bool | None = None
    rural_only: bool | None = None
    notes: Annotated[MultiLine, Field(max_length=L.PROGRAM_NOTES_MAX)] | None = None

    @field_validator("states")
    @classmethod
    def _codes(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return None
        out = [s.strip().upper() for s in v]
        bad = [s for s in out if len(s) != 2 or not s.isalpha()]
        if bad:
            raise ValueError(f"states must be two-letter codes, got {bad}")
        return out

    @model_validator(mode="after")
    def _range(self) -> ProgramEligibility:
        if self.min_population is not None and self.max_population is not None \
                and self.min_population > self.max_population:
            raise ValueError("min_population is above max_population")
        return self


class _ProgramChecks(LibraryBody):
    @field_validator("topics", check_fields=False)
    @classmethod
    def _known_topics(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else _topics(v)


class ProgramContent(_ProgramChecks):
    """A new programme: the library's ProgramContent."""

    agency: Agency
    sub_agency: Annotated[SingleLine, Field(max_length=L.PROGRAM_SUB_AGENCY_MAX)] | None = None
    name: Annotated[SingleLine, Field(min_length=L.PROGRAM_NAME_MIN, max_length=L.PROGRAM_NAME_MAX)]
    summary: Annotated[MultiLine, Field(min_length=L.PROGRAM_SUMMARY_MIN, max_length=L.PROGRAM_SUMMARY_MAX)]
    help_given: Annotated[list[HelpKind], Field(min_length=L.PROGRAM_HELP_GIVEN_MIN)]
    help_details: Annotated[MultiLine, Field(max_length=L.PROGRAM_HELP_DETAILS_MAX)] | None = None
    topics: Annotated[list[SingleLine], Field(min_length=L.PROGRAM_TOPICS_MIN)]
    eligibility: ProgramEligibility | None = None
    how_to_apply: Annotated[MultiLine, Field(min_length=L.PROGRAM_HOW_TO_APPLY_MIN, max_length=L.PROGRAM_HOW_TO_APPLY_MAX)]
    rolling: bool | None = None
    deadlines: list[Deadline] | None = None
    url: Url | None = None
    contact: Annotated[SingleLine, Field(max_length=L.PROGRAM_CONTACT_MAX)] | None = None
    tags: Annotated[list[SingleLine], Field(max_length=L.PROGRAM_TAGS_MAX)] | None = None


class ProgramPatch(_ProgramChecks):
    """An edit: any of ProgramContent's fields, each within the same limits."""

    agency: Agency | None = None
    sub_agency: Annotated[SingleLine, Field(max_length=L.PROGRAM_SUB_AGENCY_MAX)] | None = None
    name: Annotated[SingleLine, Field(min_length=L.PROGRAM_NAME_MIN, max_length=L.PROGRAM_NAME_MAX)] | None = None
    summary: Annotated[MultiLine, Field(min_length=L.PROGRAM_SUMMARY_MIN, max_length=L.PROGRAM_SUMMARY_MAX)] | None = None
    help_given: Annotated[list[HelpKind], Field(min_length=L.PROGRAM_HELP_GIVEN_MIN)] | None = None
    help_details: Annotated[MultiLine, Field(max_length=L.PROGRAM_HELP_DETAILS_MAX)] | None = None
    topics: Annotated[list[SingleLine], Field(min_length=L.PROGRAM_TOPICS_MIN)] | None = None
    eligibility: ProgramEligibility | None = None
    how_to_apply: Annotated[MultiLine, Field(min_length=L.PROGRAM_HOW_TO_APPLY_MIN,
                                       max_length=L.PROGRAM_HOW_TO_APPLY_MAX)] | None = None
    rolling: bool | None = None
    deadlines: list[Deadline] | None = None
    url: Url | None = None
    contact: Annotated[SingleLine, Field(max_length=L.PROGRAM_CONTACT_MAX)] | None = None
    tags: Annotated[list[SingleLine], Field(max_length=L.PROGRAM_TAGS_MAX)] | None = None
    version: Version | None = None


class ReviewEdit(LibraryBody):
    """A curator's changes to the text a review would publish (the library checks them as ResourceContent)."""

    title: Annotated[SingleLine, Field(min_length=L.RESOURCE_TITLE_MIN, max_length=L.RESOURCE_TITLE_MAX)] | None = None
    question: Annotated[MultiLine, Field(max_length=L.RESOURCE_QUESTION_MAX)] | None = None
    summary: Annotated[MultiLine, Field(max_length=L.RESOURCE_SUMMARY_MAX)] | None = None
    body: Annotated[MultiLine, Field(max_length=L.RESOURCE_BODY_MAX)] | None = None
    tags: Annotated[list[SingleLine], Field(max_length=L.RESOURCE_TAGS_MAX)] | None = None
    version: Version | None = None

    @field_validator("tags")
    @classmethod
    def _clean(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else _entries(v)


class DecisionIn(LenientBody):
    reason: Annotated[MultiLine, Field(max_length=L.REVIEW_REASON_MAX)] | None = None
    version: Version | None = None


class SynonymPhrases(Body):
    phrases: Annotated[list[SingleLine], Field(min_length=L.SYNONYM_PHRASES_MIN, max_length=L.SYNONYM_PHRASES_MAX)]

    @field_validator("phrases")
    @classmethod
    def _clean(cls, v: list[str]) -> list[str]:
        out: dict[str, str] = {}
        for p in v:
            p = " ".join(str(p).split())
            if not p:
                continue
            if len(p) > L.SYNONYM_PHRASE_MAX:
                raise ValueError(f"each phrase must be at most {L.SYNONYM_PHRASE_MAX} characters")
            out.setdefault(p.casefold(), p)
        if len(out) < L.SYNONYM_PHRASES_MIN:
            raise ValueError(f"a group needs at least {L.SYNONYM_PHRASES_MIN} different phrases")
        return list(out.values())


class SynonymsIn(SynonymPhrases):
    version: Version | None = None


class SimilarIn(LenientBody):
    text: Annotated[MultiLine, Field(max_length=L.SIMILAR_TEXT_MAX)]
    limit: Annotated[int, Field(ge=1, le=L.SIMILAR_LIMIT_MAX)] | None = None


class HelpfulIn(LenientBody):
    resource_id: Annotated[SingleLine, Field(min_length=L.HELPFUL_RESOURCE_ID_MIN, max_length=L.HELPFUL_RESOURCE_ID_MAX)]
