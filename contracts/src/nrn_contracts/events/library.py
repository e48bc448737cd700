"""Events of the resource library (topic ``nrn.library.v1``, keyed by ``resource_id``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ..envelope import Event
from ..topics import LIBRARY_TOPIC
from ..values import Id, LongText, MultiLine, Name, Reason, SingleLine, Slug, TaxonomyTopic, Text, Title, Url, UtcDateTime

_T = "org.nationalresourcenetwork.library."
_K = {"topic": LIBRARY_TOPIC, "key": "resource_id"}

ResourceKind = Literal[
    "guide",
    "toolkit",
    "report",
    "case_study",
    "answered_question",
    "federal_program",
    "convening_material",
    "close_out_report",
    "other",
]
Tag = Annotated[SingleLine, Field(min_length=1, max_length=50)]
Query = Annotated[MultiLine, Field(min_length=1, max_length=500)]


class _ResourceState(Event):
    """A resource as it reads after the change: published and updated events carry all of it."""

    resource_id: Id
    kind: ResourceKind
    title: Title
    summary: Text
    body_markdown: LongText | None = None
    url: Url | None = None
    topics: tuple[TaxonomyTopic, ...] = Field(min_length=1)
    tags: tuple[Tag, ...] = Field(default=(), max_length=30)
    publisher: Name | None = Field(default=None, description="Who produced it, e.g. a federal agency")
    city_id: Id | None = Field(default=None, description="The city it is about, if one")
    source_request_id: Id | None = Field(default=None, description="The 311 request it records, if one")
    resource_type: Slug | None = Field(
        default=None,
        description="The library's own finer type (e.g. webinar, research, policy_analysis, "
        "working_group_deliverable) where `kind` has only a broader value",
    )


class ResourcePublished(_ResourceState, type=_T + "resource_published.v1", **_K):
    """A resource became visible in the library."""

    published_at: UtcDateTime


class ResourceUpdated(_ResourceState, type=_T + "resource_updated.v1", **_K):
    """A published resource changed; the event carries its whole new state."""

    updated_at: UtcDateTime


class ResourceArchived(Event, type=_T + "resource_archived.v1", **_K):
    """A resource was withdrawn from the library (for example when consent was withdrawn)."""

    resource_id: Id
    reason: Reason | None = None
    by: Id | None = None
    at: UtcDateTime


class AnswerFoundBeforeAsking(Event, type=_T + "answer_found_before_asking.v1", **_K):
    """An official searching the library opened a resource instead of submitting a question."""

    search_id: Id
    official_id: Id
    city_id: Id
    resource_id: Id
    query: Query
    at: UtcDateTime | None = None
