"""Bodies of the peer routes, as peer's own API takes them (``peer.api``), with peer's limits
(``gateway.peer_limits``). ``tests/unit/test_peer_limits.py`` compares every route's body and query
with peer's, field by field: a change on either side fails there until the other follows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from nrn_contracts.values import TOPIC_TAXONOMY, MultiLine, SingleLine, TimeZoneName, Url
from pydantic import BaseModel, ConfigDict, Field, field_validator

from .. import peer_limits as P

Topic = Literal[TOPIC_TAXONOMY]  # type: ignore[valid-type]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SessionBody(Body):
    id: SingleLine = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    title: SingleLine = Field(min_length=1, max_length=P.TITLE_MAX)
    starts_at: datetime = Field(description="the venue's wall-clock time (no offset), or an instant with one")
    ends_at: datetime
    track: SingleLine = Field("", max_length=P.NAME_MAX)
    room: SingleLine = Field("", max_length=P.NAME_MAX)
    speakers: list[Annotated[SingleLine, Field(min_length=1, max_length=P.NAME_MAX)]] = Field(
        default_factory=list, max_length=P.SPEAKERS_MAX)
    description: MultiLine = Field("", max_length=P.SUMMARY_MAX)


class ConveningBody(Body):
    kind: Literal["annual_convening", "working_group", "steering_committee", "webinar"] = "annual_convening"
    title: SingleLine = Field(min_length=3, max_length=P.TITLE_MAX)
    description: MultiLine = Field("", max_length=P.DESCRIPTION_MAX)
    topics: list[Topic] = Field(default_factory=list, max_length=11)  # type: ignore[valid-type]
    host_city_id: SingleLine | None = Field(None, max_length=P.ID_MAX)
    venue: SingleLine = Field("", max_length=P.VENUE_MAX)
    address: SingleLine = Field("", max_length=P.ADDRESS_MAX)
    timezone: TimeZoneName = Field(description="the venue's IANA zone, e.g. America/Chicago")
    starts_at: datetime = Field(description="the venue's wall-clock time (no offset), or an instant with one")
    ends_at: datetime
    capacity: int = Field(ge=1, le=P.CAPACITY_MAX)
    per_city_limit: int | None = Field(None, ge=1, le=P.CAPACITY_MAX)
    registration_opens_at: datetime
    registration_closes_at: datetime
    sessions: list[SessionBody] = Field(default_factory=list, max_length=P.SESSIONS_MAX)



class CancelBody(Body):
    reason: MultiLine = Field(min_length=1, max_length=P.REASON_MAX)


class RegisterBody(Body):
    role: SingleLine = Field("", max_length=P.ROLE_MAX)
    dietary_needs: SingleLine = Field("", max_length=P.DIETARY_MAX)
    accessibility_needs: MultiLine = Field("", max_length=P.ACCESSIBILITY_MAX)
    session_ids: list[Annotated[SingleLine, Field(max_length=64)]] = Field(default_factory=list,
                                                                        max_length=P.SESSIONS_MAX)


class AttendanceBody(Body):
    attended: bool = True


class FeedbackBody(Body):
    rating: int = Field(ge=1, le=5)
    comment: MultiLine = Field("", max_length=P.FEEDBACK_COMMENT_MAX)


class MaterialBody(Body):
    kind: Literal["slides", "recording", "notes", "other"]
    title: SingleLine = Field(min_length=3, max_length=P.TITLE_MAX)
    summary: MultiLine = Field("", max_length=P.SUMMARY_MAX)
    body: MultiLine = Field("", max_length=P.MATERIAL_BODY_MAX)
    link: Url | None = None  # at most LINK_MAX characters, LINK_PATTERN


class GroupBody(Body):
    kind: Literal["working_group", "steering_committee"] = "working_group"
    name: SingleLine = Field(min_length=3, max_length=P.NAME_MAX)
    purpose: MultiLine = Field("", max_length=P.DESCRIPTION_MAX)
    topics: list[Topic] = Field(default_factory=list, max_length=11)  # type: ignore[valid-type]


class MemberBody(Body):
    member_kind: Literal["city", "official", "partner_expert"]
    member_id: SingleLine = Field(min_length=1, max_length=P.ID_MAX)
    organization: SingleLine = Field("", max_length=P.NAME_MAX)
    term_starts_on: date | None = None
    term_ends_on: date | None = None


class LeaveBody(Body):
    member_kind: Literal["city", "official", "partner_expert"]
    member_id: SingleLine = Field(min_length=1, max_length=P.ID_MAX)
    reason: MultiLine = Field("", max_length=P.REASON_MAX)


class MeetingBody(Body):
    title: SingleLine = Field(min_length=3, max_length=P.TITLE_MAX)
    starts_at: datetime = Field(description="wall-clock time in `timezone` (no offset), or an instant with one")
    timezone: TimeZoneName = "America/New_York"
    agenda: MultiLine = Field("", max_length=P.AGENDA_MAX)


class NotesBody(Body):
    notes: MultiLine | None = Field(None, max_length=P.NOTES_MAX)
    agenda: MultiLine | None = Field(None, max_length=P.AGENDA_MAX)


class DecisionBody(Body):
    summary: MultiLine = Field(min_length=1, max_length=P.COMMENT_MAX)
    decided_on: date


class DeliverableBody(Body):
    title: SingleLine = Field(min_length=3, max_length=P.TITLE_MAX)
    summary: MultiLine = Field("", max_length=P.SUMMARY_MAX)
    topics: list[Topic] = Field(default_factory=list, max_length=11)  # type: ignore[valid-type]
    body: MultiLine = Field("", max_length=P.DELIVERABLE_BODY_MAX)


class DraftBody(Body):
    body: MultiLine = Field(min_length=1, max_length=P.DELIVERABLE_BODY_MAX)


class CommentBody(Body):
    body: MultiLine = Field(min_length=1, max_length=P.COMMENT_MAX)


class ReviewBody(Body):
    approve: bool
    note: MultiLine = Field("", max_length=P.COMMENT_MAX)


class OfferBody(Body):
    city_id: SingleLine = Field(min_length=1, max_length=P.ID_MAX)
    other_city_id: SingleLine = Field(min_length=1, max_length=P.ID_MAX)
    reason_kind: Literal["similar_questions", "shared_barriers", "peer_connections", "staff"] = "staff"
    reason: MultiLine = Field(min_length=1, max_length=P.REASON_MAX)


class AnswerBody(Body):
    accepted: bool
    shares: list[Literal["contact", "barriers", "questions", "note"]] = Field(default_factory=list, max_length=4)
    note: MultiLine = Field("", max_length=P.COMMENT_MAX)

    @field_validator("shares")
    @classmethod
    def _once(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(v))


class ProgressBody(Body):
    met_on: date | None = None
    outcome: SingleLine | None = Field(None, max_length=P.COMMENT_MAX)
