"""Events of peer networking (topic ``nrn.peer.v1``, keyed by ``convening_id``).

Registrations are keyed by their convening so they stay in order with it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..envelope import Event
from ..topics import PEER_TOPIC
from ..values import Id, Name, TaxonomyTopic, Text, Title, UtcDateTime

_T = "org.nationalresourcenetwork.peer."
_K = {"topic": PEER_TOPIC, "key": "convening_id"}

ConveningKind = Literal["annual_convening", "working_group", "steering_committee", "webinar"]


class ConveningScheduled(Event, type=_T + "convening_scheduled.v1", **_K):
    """A convening was put on the calendar."""

    convening_id: Id
    kind: ConveningKind
    title: Title
    description: Text | None = None
    working_group: Name | None = Field(default=None, description="e.g. 'Broadband', 'Peer Health'")
    topics: tuple[TaxonomyTopic, ...] = ()
    starts_at: UtcDateTime
    ends_at: UtcDateTime
    location: Name | None = Field(default=None, description="Place; null for a virtual convening")
    capacity: int | None = Field(default=None, ge=1)


class RegistrationConfirmed(Event, type=_T + "registration_confirmed.v1", **_K):
    """Someone's place at a convening was confirmed."""

    registration_id: Id
    convening_id: Id
    account_id: Id
    city_id: Id | None = None
    at: UtcDateTime
