"""What officials and staff see of a request.

The official projection is built field by field (an allow-list), so a field added to the
aggregate later stays staff-only until someone decides otherwise: memo drafts, review
comments, internal notes and staff-only timeline entries never reach an official.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from .clock import StepView
from .model import (
    Assignment,
    Call,
    CallSlot,
    Decline,
    Feedback,
    FollowUp,
    InformationRequest,
    MemoVersion,
    Note,
    PublicRecord,
    TimelineEntry,
    WorkingCopy,
)
from .model import Role
from .request import PERMISSIONS, Request
from .states import Action, actions_open


class DeliveredMemo(BaseModel):
    version: int
    body: str
    word_count: int
    delivered_at: datetime | None


class RequestSummary(BaseModel):
    """A row of a list or queue."""

    id: str
    reference: str | None = None
    version: int
    status: str
    title: str
    topic: str
    urgency: str
    city_id: str
    city_name: str
    state: str
    expert_id: str | None
    submitted_at: datetime
    next_due_at: datetime | None = None
    sla_status: str | None = None  # the worst status of the running steps


class OfficialRequestView(BaseModel):
    id: str
    reference: str | None = None
    city_time_zone: str | None = None
    version: int
    status: str
    title: str
    question: str
    context: str
    desired_outcome: str
    topic: str
    urgency: str
    preferred_call_times: list[str]
    consent: str
    city_id: str
    city_name: str
    state: str
    official_id: str
    submitted_at: datetime
    expert_name: str | None
    information_requests: list[InformationRequest]
    memo: DeliveredMemo | None
    call_slots: list[CallSlot]  # only those still on offer
    calls: list[Call]
    declined: Decline | None
    closed_at: datetime | None
    reopen_until: datetime | None
    follow_up_due_at: datetime | None
    feedback: list[Feedback]
    follow_up: FollowUp | None
    published: PublicRecord | None
    service_levels: list[StepView]
    timeline: list[TimelineEntry]
    actions: list[str]


class StaffRequestView(OfficialRequestView):
    expert_id: str | None
    triaged_by: str | None
    triaged_at: datetime | None
    memo_versions: list[MemoVersion]
    memo_working_copy: WorkingCopy | None = None  # the editor's autosave, newer than the latest version
    assignments: list[Assignment] = []
    all_call_slots: list[CallSlot]
    notes: list[Note]


def worst_status(views: list[StepView]) -> str | None:
    running = [v.status.value for v in views if v.completed_at is None and not v.cancelled]
    for s in ("overdue", "at_risk", "on_time"):
        if s in running:
            return s
    return None


def summary(req: Request, now: datetime) -> RequestSummary:
    views = req.service_level_views(now)
    dues = [v.due_at for v in views if v.completed_at is None and not v.cancelled and v.due_at]
    return RequestSummary(
        id=req.id, reference=req.reference, version=req.version, status=req.status.value, title=req.title,
        topic=req.topic.value, urgency=req.urgency, city_id=req.city_id, city_name=req.city_name, state=req.us_state,
        expert_id=req.expert_id, submitted_at=req.submitted_at, next_due_at=min(dues, default=None),
        sla_status=worst_status(views),
    )


def _delivered(req: Request) -> DeliveredMemo | None:
    m = req.delivered_memo
    if m is None:
        return None
    return DeliveredMemo(version=m.number, body=m.body, word_count=m.word_count, delivered_at=m.delivered_at)


def _official_fields(req: Request, now: datetime) -> dict:
    return dict(
        id=req.id, reference=req.reference, city_time_zone=req.city_time_zone, version=req.version,
        status=req.status.value, title=req.title, question=req.question,
        context=req.context, desired_outcome=req.desired_outcome, topic=req.topic.value, urgency=req.urgency,
        preferred_call_times=list(req.preferred_call_times), consent=req.consent.value, city_id=req.city_id,
        city_name=req.city_name, state=req.us_state, official_id=req.official_id,
        submitted_at=req.submitted_at, expert_name=req.expert_name,
        information_requests=[r.model_copy() for r in req.information_requests],
        memo=_delivered(req),
        call_slots=[s for s in req.call_slots if not s.withdrawn and not s.taken],
        calls=[c.model_copy() for c in req.calls], declined=req.declined, closed_at=req.closed_at,
        reopen_until=req.reopen_until, follow_up_due_at=req.follow_up_due_at,
        feedback=list(req.feedback), follow_up=req.follow_up, published=req.published,
        service_levels=req.service_level_views(now),
    )


def _open_now(req: Request, now: datetime) -> list[Action]:
    """The actions the status allows, less those the request's own facts close: a rating already given,
    a follow-up not yet due (90 days after closing) or already answered."""
    out = []
    for action in actions_open(req.status):
        if action is Action.give_feedback and req.feedback_given:
            continue
        if action is Action.record_follow_up and not (req.follow_up_open and now >= req.follow_up_due_at):
            continue
        out.append(action)
    return out


def official_view(req: Request, now: datetime) -> OfficialRequestView:
    return OfficialRequestView(
        **_official_fields(req, now),
        timeline=[e for e in req.timeline if e.public],
        actions=[a.value for a in _open_now(req, now) if Role.official in PERMISSIONS[a]],
    )


def staff_view(req: Request, now: datetime) -> StaffRequestView:
    return StaffRequestView(
        **_official_fields(req, now),
        timeline=list(req.timeline),
        actions=[a.value for a in _open_now(req, now) if PERMISSIONS[a] - {Role.official}],
        expert_id=req.expert_id, triaged_by=req.triaged_by, triaged_at=req.triaged_at,
        memo_versions=list(req.memo_versions), all_call_slots=list(req.call_slots), notes=list(req.notes),
        memo_working_copy=req.memo_working_copy, assignments=list(req.assignments),
    )
