"""Curated resources: content, curation states and the full change history."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Literal

from nrn_contracts.values import MultiLine, SingleLine
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .errors import InvalidInput, InvalidTransition
from .taxonomy import Audience, ResourceType, Status, check_topics

MAX_BODY_CHARS = 200_000


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class ResourceContent(BaseModel):
    """The editable part of a resource. Every field a curator can change lives here."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: ResourceType
    title: SingleLine = Field(min_length=3, max_length=300)
    summary: MultiLine = Field(default="", max_length=4_000)
    body: MultiLine | None = Field(default=None, max_length=MAX_BODY_CHARS)
    link: SingleLine | None = Field(default=None, max_length=2_000, pattern=r"^https?://\S+$")
    topics: list[SingleLine] = Field(min_length=1, max_length=11)
    source_organisation: SingleLine = Field(min_length=1, max_length=200)
    authors: list[SingleLine] = Field(default_factory=list, max_length=50)
    publication_date: date | None = None
    related_cities: list[SingleLine] = Field(default_factory=list, max_length=100)
    tags: list[SingleLine] = Field(default_factory=list, max_length=30)
    audience: Audience = "public"
    # Agency that produced the resource, when it is federal; a search facet.
    agency: SingleLine | None = Field(default=None, max_length=40)
    # For answered questions (type "answered_question"): the question as asked, redacted.
    question: MultiLine | None = Field(default=None, max_length=40_000)

    @field_validator("topics")
    @classmethod
    def _known_topics(cls, v: list[str]) -> list[str]:
        return check_topics(v)

    @field_validator("tags", "authors", "related_cities")
    @classmethod
    def _clean_list(cls, v: list[str]) -> list[str]:
        cleaned = [s.strip() for s in v if s and s.strip()]
        if any(len(s) > 200 for s in cleaned):
            raise ValueError("each entry must be at most 200 characters")
        return list(dict.fromkeys(cleaned))

    @model_validator(mode="after")
    def _body_or_link(self) -> "ResourceContent":
        if not (self.body and self.body.strip()) and not self.link:
            raise ValueError("a resource needs a body or a link")
        return self


class Change(BaseModel):
    """One entry of a resource's history: who did what, when, and the fields it changed."""

    at: datetime
    by: str
    action: Literal["created", "edited", "submitted", "returned", "published", "archived", "restored", "withdrawn"]
    from_status: Status | None = None
    to_status: Status
    changes: dict[str, dict[str, Any]] = Field(default_factory=dict)  # field -> {"old": .., "new": ..}
    note: str | None = None


# status -> action -> next status
TRANSITIONS: dict[str, dict[str, str]] = {
    "draft": {"submit": "in_review", "archive": "archived"},
    "in_review": {"publish": "published", "return": "draft", "archive": "archived"},
    "published": {"archive": "archived"},
    "archived": {"restore": "draft"},
}
_ACTION_PAST = {"submit": "submitted", "publish": "published", "return": "returned", "archive": "archived", "restore": "restored"}


class Resource(BaseModel):
    """A library item. Mutations return nothing and append to `history`; `version` guards concurrent edits."""

    resource_id: str
    content: ResourceContent
    status: Status = "draft"
    version: int = 1
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None = None
    # Where an event-born item came from, e.g. {"kind": "requests311", "request_id": "r-1"}.
    origin: dict[str, str] | None = None
    history: list[Change] = Field(default_factory=list)

    @classmethod
    def create(cls, resource_id: str, content: ResourceContent, *, by: str, at: datetime | None = None,
               origin: dict[str, str] | None = None) -> "Resource":
        at = at or utcnow()
        r = cls(resource_id=resource_id, content=content, created_at=at, updated_at=at, origin=origin)
        r.history.append(Change(at=at, by=by, action="created", to_status="draft"))
        return r

    @property
    def is_published(self) -> bool:
        return self.status == "published"

    def allowed_actions(self) -> list[str]:
        return sorted(TRANSITIONS[self.status]) + (["edit"] if self.status != "archived" else [])

    def edit(self, changes: dict[str, Any], *, by: str, at: datetime | None = None) -> dict[str, dict[str, Any]]:
        """Apply a partial update; returns the changed fields (empty when nothing changed)."""
        if self.status == "archived":
            raise InvalidTransition("an archived resource cannot be edited; restore it to draft first", field="status")
        unknown = set(changes) - set(ResourceContent.model_fields)
        if unknown:
            raise InvalidInput(f"unknown field(s): {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
        merged = self.content.model_dump() | changes
        try:
            new = ResourceContent.model_validate(merged)
        except ValueError as exc:  # pydantic.ValidationError is a ValueError
            raise invalid(exc) from exc
        old_d, new_d = self.content.model_dump(mode="json"), new.model_dump(mode="json")
        diff = {k: {"old": old_d[k], "new": new_d[k]} for k in new_d if old_d[k] != new_d[k]}
        if not diff:
            return {}
        at = at or utcnow()
        self.content = new
        self._touch(at)
        self.history.append(Change(at=at, by=by, action="edited", from_status=self.status, to_status=self.status,
                                   changes=diff))
        return diff

    def transition(self, action: str, *, by: str, at: datetime | None = None, note: str | None = None) -> Status:
        nxt = TRANSITIONS[self.status].get(action)
        if nxt is None:
            allowed = ", ".join(sorted(TRANSITIONS[self.status])) or "none"
            raise InvalidTransition(f"cannot {action} a resource that is {self.status} (allowed: {allowed})",
                                    field="status")
        at = at or utcnow()
        prev = self.status
        self.status = nxt  # type: ignore[assignment]
        if nxt == "published":
            self.published_at = at
        self._touch(at)
        self.history.append(Change(at=at, by=by, action=_ACTION_PAST[action], from_status=prev, to_status=nxt,
                                   note=note))
        return self.status

    def publish_directly(self, *, by: str, at: datetime | None = None, note: str | None = None) -> None:
        """Event-born items (consented Q&A, close-out reports) skip curation: consent is the review."""
        at = at or utcnow()
        prev = self.status
        self.status = "published"
        self.published_at = self.published_at or at
        self._touch(at)
        self.history.append(Change(at=at, by=by, action="published", from_status=prev, to_status="published",
                                   note=note))

    def withdraw(self, *, by: str, at: datetime | None = None, note: str | None = None) -> None:
        """Consent withdrawn: archive and drop the text, so nothing of it can be read again."""
        at = at or utcnow()
        prev = self.status
        self.status = "archived"
        self.content = self.content.model_copy(update={"body": "[withdrawn]", "summary": "", "link": None,
                                                       "related_cities": [], "authors": []})
        self._touch(at)
        self.history.append(Change(at=at, by=by, action="withdrawn", from_status=prev, to_status="archived",
                                   note=note))

    def check_version(self, expected: int | None) -> None:
        from .errors import VersionConflict

        if expected is not None and expected != self.version:
            raise VersionConflict(f"resource is at version {self.version}, not {expected}", field="version")

    def _touch(self, at: datetime) -> None:
        self.updated_at = at
        self.version += 1


def invalid(exc: Exception) -> InvalidInput:
    """A pydantic refusal as the domain's InvalidInput: the first error's field and its message as a sentence
    (not pydantic's multi-line report)."""
    errors = getattr(exc, "errors", None)
    message = str(exc)
    if callable(errors):
        errs = errors()
        if errs:
            message = str(errs[0].get("msg") or message).removeprefix("Value error, ")
    return InvalidInput(message, field=_first_error_field(exc))


def _first_error_field(exc: Exception) -> str | None:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        errs = errors()
        if errs and errs[0].get("loc"):
            return ".".join(str(p) for p in errs[0]["loc"])
    return None
