"""Events of 311 for Cities (topic ``nrn.requests311.v1``, keyed by ``request_id``).

A question moves: submitted → triaged → (information requested/provided) → expert assigned →
memo drafted (→ returned → drafted) → memo delivered → call scheduled → call completed or
missed → closed; feedback, follow-ups and consent changes can come after, and a closed request
can be reopened.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ..envelope import Event
from ..topics import REQUESTS311_TOPIC
from ..values import (
    Consent,
    Id,
    LongText,
    MultiLine,
    Name,
    Reason,
    SingleLine,
    Slug,
    StateCode,
    TaxonomyTopic,
    Text,
    Title,
    UtcDateTime,
    ValueObject,
)

_T = "org.nationalresourcenetwork.requests311."
_K = {"topic": REQUESTS311_TOPIC, "key": "request_id"}

Urgency = Literal["routine", "soon", "urgent"]
CloseReason = Literal["answered", "declined", "withdrawn", "unresponsive"]
CallParty = Literal["official", "expert", "both", "unknown"]
Question = Annotated[MultiLine, Field(min_length=1, max_length=10_000)]
ShortAnswer = Annotated[MultiLine, Field(min_length=1, max_length=2_000)]
CallTime = Annotated[SingleLine, Field(min_length=1, max_length=200)]
FollowUpOutcome = Literal["acted", "partly", "not_acted"]


class QuestionSubmitted(Event, type=_T + "question_submitted.v1", **_K):
    """An official asked a question. ``topic`` here is the taxonomy topic, not the Kafka topic."""

    request_id: Id
    city_id: Id
    official_id: Id
    title: Title
    question: Question
    context: Text | None = None
    outcome_wanted: Text | None = None
    topic: TaxonomyTopic
    urgency: Urgency
    preferred_call_times: tuple[CallTime, ...] = Field(default=(), max_length=10)
    consent_to_publish: Consent
    submitted_at: UtcDateTime
    state: StateCode | None = Field(default=None, description="The city's state, for counts by state")
    reference: str | None = Field(default=None, max_length=32, pattern=r"^NRN-[0-9]{4}-[0-9]{5,}$",
                                  description="The human reference people quote (NRN-2026-00123), one per question")


class QuestionTriaged(Event, type=_T + "question_triaged.v1", **_K):
    """Staff read the question, confirmed or changed its topic and urgency."""

    request_id: Id
    topic: TaxonomyTopic
    urgency: Urgency
    notes: Text | None = None
    by: Id
    at: UtcDateTime


class InformationRequested(Event, type=_T + "information_requested.v1", **_K):
    """Staff asked the official for more before the question can be answered."""

    request_id: Id
    message: Text
    by: Id
    at: UtcDateTime


class InformationProvided(Event, type=_T + "information_provided.v1", **_K):
    """The official answered a request for information."""

    request_id: Id
    message: Text
    by: Id
    at: UtcDateTime


class ExpertAssigned(Event, type=_T + "expert_assigned.v1", **_K):
    """An expert was made responsible for the memo."""

    request_id: Id
    expert_id: Id
    by: Id
    at: UtcDateTime
    due_at: UtcDateTime | None = None
    previous_expert_id: Id | None = Field(default=None, description="The expert this one replaces (a reassignment)")
    reason: Reason | None = Field(default=None, description="Why the request was reassigned")


class ExpertUnassigned(Event, type=_T + "expert_unassigned.v1", **_K):
    """The expert was taken off the request; it waits for another assignment."""

    request_id: Id
    expert_id: Id
    reason: Reason
    by: Id
    at: UtcDateTime


class QuestionDeclined(Event, type=_T + "question_declined.v1", **_K):
    """The network will not answer the question (out of scope, duplicate, ...)."""

    request_id: Id
    reason: Reason
    referral: Text | None = Field(default=None, description="Where the official was pointed instead")
    by: Id
    at: UtcDateTime
    duplicate_of: Id | None = Field(default=None, description="The answered request this one duplicates")


class MemoDrafted(Event, type=_T + "memo_drafted.v1", **_K):
    """The expert saved a version of the memo. ``flagged_length`` marks a memo outside 2–3 pages."""

    request_id: Id
    version: int = Field(ge=1)
    word_count: int = Field(ge=0)
    flagged_length: bool
    by: Id | None = None
    at: UtcDateTime | None = None


class MemoReturned(Event, type=_T + "memo_returned.v1", **_K):
    """A reviewer sent a memo draft back to the expert."""

    request_id: Id
    version: int = Field(ge=1)
    reason: Reason
    by: Id
    at: UtcDateTime


class MemoDelivered(Event, type=_T + "memo_delivered.v1", **_K):
    """The memo reached the official.

    Carries what the library needs to publish the answer when consent allows: ``city_name``
    is set only for ``named`` consent.
    """

    request_id: Id
    city_id: Id
    topic: TaxonomyTopic
    title: Title
    question: Question
    short_answer: ShortAnswer
    memo_markdown: LongText
    consent_to_publish: Consent
    city_name: Name | None = None
    delivered_at: UtcDateTime
    version: int | None = Field(default=None, ge=1)
    expert_id: Id | None = None


class OfferedSlot(ValueObject):
    """One time the expert can take the call."""

    slot_id: Id
    starts_at: UtcDateTime
    duration_minutes: int = Field(ge=5, le=480)


class CallSlotsOffered(Event, type=_T + "call_slots_offered.v1", **_K):
    """The expert offered times for the call; the official picks one (a newer offer replaces older ones)."""

    request_id: Id
    slots: tuple[OfferedSlot, ...] = Field(min_length=1, max_length=10)
    expert_id: Id | None = None
    by: Id
    at: UtcDateTime


class CallScheduled(Event, type=_T + "call_scheduled.v1", **_K):
    """A call to walk the official through next steps was booked."""

    request_id: Id
    call_id: Id
    scheduled_for: UtcDateTime
    duration_minutes: int = Field(default=30, ge=5, le=480)
    expert_id: Id | None = None
    by: Id | None = None
    at: UtcDateTime | None = None


class CallCompleted(Event, type=_T + "call_completed.v1", **_K):
    """The call took place."""

    request_id: Id
    call_id: Id
    completed_at: UtcDateTime
    notes: Text | None = None
    next_steps: Text | None = None


class CallRescheduleRequested(Event, type=_T + "call_reschedule_requested.v1", **_K):
    """The official asked for another time: the booked call is released and the expert offers new slots."""

    request_id: Id
    call_id: Id
    reason: Text | None = None
    preferred_call_times: tuple[CallTime, ...] = Field(default=(), max_length=10)
    by: Id
    at: UtcDateTime


class CallCancelled(Event, type=_T + "call_cancelled.v1", **_K):
    """The official no longer wants the call; the memo stands and staff may close the request."""

    request_id: Id
    call_id: Id
    reason: Text | None = None
    by: Id
    at: UtcDateTime


class CallMissed(Event, type=_T + "call_missed.v1", **_K):
    """The call did not take place."""

    request_id: Id
    call_id: Id
    missed_by: CallParty = "unknown"
    at: UtcDateTime


class RequestClosed(Event, type=_T + "request_closed.v1", **_K):
    """The request is finished."""

    request_id: Id
    city_id: Id | None = None
    reason: CloseReason
    note: Text | None = None
    by: Id | None = None
    closed_at: UtcDateTime


class FeedbackReceived(Event, type=_T + "feedback_received.v1", **_K):
    """The official rated the answer."""

    request_id: Id
    official_id: Id
    rating: int = Field(ge=1, le=5)
    comment: Text | None = None
    at: UtcDateTime


class FollowUpRecorded(Event, type=_T + "follow_up_recorded.v1", **_K):
    """Staff noted what happened after the answer (a later check-in with the city)."""

    request_id: Id
    note: Text
    by: Id
    at: UtcDateTime
    outcome: FollowUpOutcome | None = Field(default=None, description="Whether the city acted on the advice")


class RequestReopened(Event, type=_T + "request_reopened.v1", **_K):
    """A closed request was opened again."""

    request_id: Id
    reason: Reason
    by: Id
    at: UtcDateTime


class ServiceLevelBreached(Event, type=_T + "service_level_breached.v1", **_K):
    """A step of the request missed its due time. ``step`` names the service-level clock."""

    request_id: Id
    step: Slug
    due_at: UtcDateTime
    breached_at: UtcDateTime


class ConsentChanged(Event, type=_T + "consent_changed.v1", **_K):
    """The official changed their permission to publish the answer; ``none`` withdraws it."""

    request_id: Id
    consent_to_publish: Consent
    previous: Consent | None = None
    by: Id | None = None
    at: UtcDateTime | None = None
    city_name: Name | None = Field(default=None, description="Set only when the new consent is 'named'")
