"""Events of direct technical assistance (topic ``nrn.engagements.v1``).

Application events are keyed by ``application_id``, engagement events by ``engagement_id``.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from ..envelope import Event
from ..topics import ENGAGEMENTS_TOPIC
from ..values import Consent, Id, Reason, TaxonomyTopic, Text, Title, UtcDateTime

_T = "org.nationalresourcenetwork.engagements."

Decision = Literal["accepted", "declined", "waitlisted"]
EngagementOutcome = Literal["completed", "ended_early"]


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


class ApplicationDecided(Event, type=_T + "application_decided.v1", topic=ENGAGEMENTS_TOPIC, key="application_id"):
    """Review of an application ended with a decision."""

    application_id: Id
    city_id: Id
    round_id: Id | None = None
    decision: Decision
    reason: Reason | None = None
    by: Id
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


class EngagementClosed(Event, type=_T + "engagement_closed.v1", topic=ENGAGEMENTS_TOPIC, key="engagement_id"):
    """An engagement ended. The close-out summary may be published as the consent allows."""

    engagement_id: Id
    application_id: Id | None = None
    city_id: Id
    outcome: EngagementOutcome = "completed"
    close_out_summary: Text | None = None
    consent_to_publish: Consent = Field(default="none", description="Permission to publish the close-out summary")
    closed_at: UtcDateTime
