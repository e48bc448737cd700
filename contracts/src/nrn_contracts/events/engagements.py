"""Events of direct technical assistance (topic ``nrn.engagements.v1``).

Application events are keyed by ``application_id``, engagement events by ``engagement_id``.

An application moves: drafted → submitted → (withdrawn) → reviewers assigned and scoring →
decided (accepted, declined or waitlisted; a waitlisted one may be promoted when a place in its
funding round frees). An accepted application opens an engagement: assessment completed → work
plan agreed → milestones completed → closed.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field

from ..envelope import Event
from ..topics import ENGAGEMENTS_TOPIC
from ..values import Consent, Id, Name, Reason, TaxonomyTopic, Text, Title, UtcDateTime, ValueObject

_T = "org.nationalresourcenetwork.engagements."

Decision = Literal["accepted", "declined", "waitlisted"]
EngagementOutcome = Literal["completed", "ended_early"]
# The barriers to recovery NRN's application form listed (its "economic challenges" section).
Barrier = Literal[
    "government_operations_budgets",
    "economic_development",
    "land_use",
    "transportation",
    "workforce",
    "community_development",
    "housing",
    "public_safety",
]
# A weighted rubric score in hundredths of a point on the 1–5 scale (372 means 3.72).
ScoreHundredths = Annotated[int, Field(ge=100, le=500)]
Cents = Annotated[int, Field(ge=0, description="US dollars in integer cents")]
Strength = Annotated[str, Field(min_length=1, max_length=2_000)]


class ApplicationDrafted(Event, type=_T + "application_drafted.v1", topic=ENGAGEMENTS_TOPIC, key="application_id"):
    """An official started an application (a draft: nothing is decided on it until it is submitted)."""

    application_id: Id
    city_id: Id
    official_id: Id
    round_id: Id | None = None
    previous_application_id: Id | None = Field(default=None, description="The city's earlier application, "
                                               "when this one reapplies")
    drafted_at: UtcDateTime


class ApplicationSubmitted(Event, type=_T + "application_submitted.v1", topic=ENGAGEMENTS_TOPIC, key="application_id"):
    """A city applied for on-the-ground technical assistance."""

    application_id: Id
    city_id: Id
    official_id: Id
    round_id: Id | None = None
    background: Text
    economic_challenges: Text
    project_management: Text
    submitted_at: UtcDateTime
    barriers: tuple[Barrier, ...] = ()
    partner_city_ids: tuple[Id, ...] = Field(default=(), description="Partner cities of a regional application "
                                             "(each confirmed by one of its officials); the lead city is city_id")
    peer_connections: bool = Field(default=False, description="The city asked to be connected with peer cities")
    exception_requested: bool = Field(default=False, description="The city is not eligible and asks for an exception")
    previous_application_id: Id | None = None
    population: int | None = Field(default=None, ge=0)


class ApplicationWithdrawn(Event, type=_T + "application_withdrawn.v1", topic=ENGAGEMENTS_TOPIC, key="application_id"):
    """The city withdrew its application before a decision."""

    application_id: Id
    city_id: Id
    reason: Reason | None = None
    by: Id
    at: UtcDateTime


class ReviewerAssigned(Event, type=_T + "reviewer_assigned.v1", topic=ENGAGEMENTS_TOPIC, key="application_id"):
    """A program manager asked a reviewer to score an application against the rubric."""

    application_id: Id
    reviewer_id: Id
    by: Id
    at: UtcDateTime


class ApplicationScored(Event, type=_T + "application_scored.v1", topic=ENGAGEMENTS_TOPIC, key="application_id"):
    """A reviewer submitted their score. ``score`` is their weighted total; ``average`` the mean of
    every score submitted so far; ``disagreement`` flags scores further apart than the threshold."""

    application_id: Id
    reviewer_id: Id
    score: ScoreHundredths
    average: ScoreHundredths
    reviews_submitted: int = Field(ge=1)
    disagreement: bool
    at: UtcDateTime


class ApplicationDecided(Event, type=_T + "application_decided.v1", topic=ENGAGEMENTS_TOPIC, key="application_id"):
    """Review of an application ended with a decision."""

    application_id: Id
    city_id: Id
    round_id: Id | None = None
    decision: Decision
    reason: Reason | None = None
    by: Id
    at: UtcDateTime
    score: ScoreHundredths | None = None
    waitlist_position: int | None = Field(default=None, ge=1, description="For a waitlisted application: its place "
                                          "in score order when decided")


class ApplicationPromoted(Event, type=_T + "application_promoted.v1", topic=ENGAGEMENTS_TOPIC, key="application_id"):
    """A place in the funding round freed and the waitlist's first application (in score order) took it."""

    application_id: Id
    city_id: Id
    round_id: Id
    engagement_id: Id
    score: ScoreHundredths | None = None
    at: UtcDateTime


class EngagementOpened(Event, type=_T + "engagement_opened.v1", topic=ENGAGEMENTS_TOPIC, key="engagement_id"):
    """An accepted application became an engagement."""

    engagement_id: Id
    application_id: Id
    city_id: Id
    title: Title | None = None
    topics: tuple[TaxonomyTopic, ...] = ()
    starts_on: date | None = None
    opened_at: UtcDateTime
    round_id: Id | None = None
    ends_on: date | None = None
    budget_cents: Cents | None = None
    federal_cents: Cents | None = None
    local_cents: Cents | None = None
    barriers: tuple[Barrier, ...] = ()


class AssessmentCompleted(Event, type=_T + "assessment_completed.v1", topic=ENGAGEMENTS_TOPIC, key="engagement_id"):
    """The in-person assessment recorded the city's barriers to recovery and its strengths."""

    engagement_id: Id
    city_id: Id
    visited_on: date
    barriers: tuple[Barrier, ...] = Field(min_length=1)
    strengths: tuple[Strength, ...] = ()
    by: Id
    at: UtcDateTime


class PlannedMilestone(ValueObject):
    milestone_id: Id
    title: Title
    owner: Name
    due_on: date


class WorkPlanAgreed(Event, type=_T + "work_plan_agreed.v1", topic=ENGAGEMENTS_TOPIC, key="engagement_id"):
    """The city agreed the work plan (after commenting on it): its milestones, owners and due dates."""

    engagement_id: Id
    city_id: Id
    milestones: tuple[PlannedMilestone, ...] = Field(min_length=1)
    agreed_by: Id
    at: UtcDateTime


class MilestoneCompleted(Event, type=_T + "milestone_completed.v1", topic=ENGAGEMENTS_TOPIC, key="engagement_id"):
    """A milestone of the agreed work plan was completed; ``late`` when after its due date."""

    engagement_id: Id
    city_id: Id
    milestone_id: Id
    title: Title
    due_on: date
    completed_on: date
    late: bool
    by: Id
    at: UtcDateTime


class EngagementClosed(Event, type=_T + "engagement_closed.v1", topic=ENGAGEMENTS_TOPIC, key="engagement_id"):
    """An engagement ended. The close-out summary may be published as the consent allows."""

    engagement_id: Id
    application_id: Id | None = None
    city_id: Id
    outcome: EngagementOutcome = "completed"
    close_out_summary: Text | None = None
    consent_to_publish: Consent = Field(default="none", description="Permission to publish the close-out summary")
    closed_at: UtcDateTime
    check_in_due_on: date | None = Field(default=None, description="The 6-month check-in after close-out")
