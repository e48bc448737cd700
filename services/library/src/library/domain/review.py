"""The review queue: nothing born from another service's event joins the public record until a curator says so.

Answered 311 questions, engagement close-out reports and convening material are redacted by
patterns (`redaction`), but a pattern list is never complete. So each of them first becomes a
`Review`: the original texts side by side with the redacted ones. A curator may edit the
redacted text, then approve it (the item is published, and only then are events emitted) or
reject it (nothing is published). Who decided, and when, is kept.

One review per item is open at a time. A newer version of the same item (the memo delivered
again, consent changed) replaces the proposal of the open review; a proposal that a curator
already decided (approved or rejected exactly as the redactor made it) is not asked again.
Withdrawn consent closes the open review at once and drops its original texts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from .errors import InvalidInput, InvalidTransition
from .resources import ResourceContent

ReviewStatus = Literal["pending", "approved", "rejected", "withdrawn"]
Source = Literal["requests311", "engagements", "peer"]

# the fields a curator compares and may edit, with the words the pages use for them
TEXT_FIELDS: dict[str, str] = {"title": "Title", "question": "Question", "summary": "Summary", "body": "Text"}
EDITABLE = frozenset(TEXT_FIELDS) | {"tags"}
REASON_MAX = 2_000


class ReviewEntry(BaseModel):
    at: datetime
    by: str
    action: Literal["proposed", "replaced", "edited", "approved", "rejected", "withdrawn"]
    note: str | None = None
    changes: list[str] = Field(default_factory=list)  # the fields an edit changed


class Review(BaseModel):
    review_id: str
    resource_id: str
    source: Source
    origin: dict[str, str] = Field(default_factory=dict)
    status: ReviewStatus = "pending"
    consent: str | None = None
    # where the text came from, for the curator (city named only to staff)
    city_id: str | None = None
    city_name: str | None = None
    original: dict[str, str] = Field(default_factory=dict)   # field -> text as written, before redaction
    proposed: ResourceContent                                # what the redactor made
    content: ResourceContent                                 # what will be published (proposed + edits)
    redactions: dict[str, int] = Field(default_factory=dict)  # kind -> how many were replaced
    created_at: datetime
    updated_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None
    version: int = 1
    history: list[ReviewEntry] = Field(default_factory=list)

    def _touch(self, at: datetime) -> None:
        self.updated_at = at
        self.version += 1

    def require_pending(self, action: str) -> None:
        if self.status != "pending":
            raise InvalidTransition(f"cannot {action} a review that is {self.status}", field="status")

    def replace_proposal(self, proposed: ResourceContent, original: dict[str, str], redactions: dict[str, int], *,
                         consent: str | None, city_name: str | None, at: datetime, by: str) -> None:
        """A newer version of the item arrived while the review is open: the curator reviews that one."""
        self.proposed, self.content, self.original, self.redactions = proposed, proposed, original, redactions
        self.consent, self.city_name = consent, city_name
        self._touch(at)
        self.history.append(ReviewEntry(at=at, by=by, action="replaced",
                                        note="a newer version arrived; earlier edits were replaced"))

    def edit(self, changes: dict[str, Any], *, by: str, at: datetime) -> list[str]:
        """The curator's changes to the text that will be published; returns the fields changed."""
        self.require_pending("edit")
        unknown = set(changes) - EDITABLE
        if unknown:
            raise InvalidInput(f"only {', '.join(sorted(EDITABLE))} can be edited in a review",
                               field=sorted(unknown)[0])
        try:
            new = ResourceContent.model_validate(self.content.model_dump() | changes)
        except ValueError as exc:
            from .resources import invalid

            raise invalid(exc) from exc
        changed = [k for k in changes if getattr(new, k) != getattr(self.content, k)]
        if not changed:
            return []
        self.content = new
        self._touch(at)
        self.history.append(ReviewEntry(at=at, by=by, action="edited", changes=changed))
        return changed

    def decide(self, approve: bool, *, by: str, at: datetime, reason: str | None = None) -> None:
        self.require_pending("approve" if approve else "reject")
        self.status = "approved" if approve else "rejected"
        self.decided_by, self.decided_at, self.reason = by, at, (reason or None)
        self._touch(at)
        self.history.append(ReviewEntry(at=at, by=by, action=self.status, note=reason or None))

    def withdraw(self, *, by: str, at: datetime, note: str) -> None:
        """Consent withdrawn while waiting: closed, and the original texts are dropped."""
        self.status = "withdrawn"
        self.original = {}
        self.content = self.proposed = self.proposed.model_copy(
            update={"body": "[withdrawn]", "summary": "", "question": None, "link": None, "related_cities": []})
        self.decided_by, self.decided_at, self.reason = by, at, note
        self._touch(at)
        self.history.append(ReviewEntry(at=at, by=by, action="withdrawn", note=note))


def originals(**texts: str | None) -> dict[str, str]:
    """The original texts worth showing beside the redacted ones (empty ones left out)."""
    return {k: v for k, v in texts.items() if v and v.strip()}


class Step(BaseModel):
    """What to do with a new proposal for an item (all False: nothing)."""

    close_pending: bool = False   # consent withdrawn: close the open review, drop its originals
    unpublish: bool = False       # take the published item down now (consent withdrawn or narrowed)
    replace_pending: bool = False  # the open review now shows the newer proposal
    open_review: bool = False      # a curator must review this proposal


def next_step(proposed: ResourceContent | None, *, pending: Review | None, last_decided: Review | None,
              published: bool, narrowed: bool) -> Step:
    """Decide what a new proposal (None: nothing may be published any more) changes.

    `narrowed`: the published item names the city and the consent no longer allows it — it is
    taken down at once instead of staying public while the anonymous version waits for review.
    """
    if proposed is None:
        return Step(close_pending=pending is not None, unpublish=published)
    unpublish = published and narrowed
    if pending is not None:
        return Step(unpublish=unpublish, replace_pending=pending.proposed != proposed)
    if last_decided is not None and last_decided.proposed == proposed:
        if last_decided.status == "rejected":
            return Step(unpublish=unpublish)
        if last_decided.status == "approved" and published and not unpublish:
            return Step()
    return Step(unpublish=unpublish, open_review=True)
