"""Program metrics as a pure fold over requests311's own events.

`apply` folds one event into the facts kept per request (a consumer can persist these
rows as its read model); `summarise` turns the facts into the figures staff see. Nothing
here scans the requests collection.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from nrn_contracts import Event
from nrn_contracts.events import requests311 as ev
from pydantic import BaseModel, Field

from .calendar import BusinessCalendar
from .clock import Step


class RequestFacts(BaseModel):
    request_id: str
    topic: str
    state: str | None = None
    status: str = "submitted"
    resume_status: str | None = None
    submitted_at: datetime
    memo_delivered_at: datetime | None = None
    steps_completed: dict[str, datetime] = Field(default_factory=dict)
    steps_breached: list[str] = Field(default_factory=list)
    ratings: list[int] = Field(default_factory=list)
    last_event_id: str | None = None


class ProgramMetrics(BaseModel):
    total: int
    open: int
    by_topic: dict[str, int]
    by_state: dict[str, int]
    by_status: dict[str, int]
    by_topic_and_state: dict[str, dict[str, int]]
    memos_delivered: int
    median_days_to_memo: float | None
    median_business_days_to_memo: float | None
    steps_decided: int
    steps_on_time: int
    on_time_rate: float | None
    breaches: int
    average_rating: float | None


_STATUS = {
    ev.QuestionTriaged: "triaged",
    ev.InformationRequested: "awaiting_information",
    ev.MemoDrafted: "memo_drafted",
    ev.MemoReturned: "memo_returned",
    ev.MemoDelivered: "memo_delivered",
    ev.CallScheduled: "call_scheduled",
    ev.CallCompleted: "call_completed",
    ev.CallMissed: "call_missed",
    ev.RequestClosed: "closed",
    ev.RequestReopened: "reopened",
    ev.QuestionDeclined: "declined",
}
_COMPLETES = {
    ev.QuestionTriaged: Step.acknowledge,
    ev.InformationRequested: Step.acknowledge,
    ev.QuestionDeclined: Step.acknowledge,
    ev.MemoDelivered: Step.memo,
    ev.CallCompleted: Step.call,
}


def _when(event: Event) -> datetime | None:
    for name in ("at", "delivered_at", "completed_at", "closed_at", "breached_at", "submitted_at"):
        value = getattr(event, name, None)
        if isinstance(value, datetime):
            return value
    return None


def apply(facts: RequestFacts | None, event: Event) -> RequestFacts | None:
    """Fold one event into a request's facts (None until the request's QuestionSubmitted is seen)."""
    if isinstance(event, ev.QuestionSubmitted):
        return RequestFacts(request_id=event.request_id, topic=event.topic, state=getattr(event, "state", None),
                            submitted_at=event.submitted_at)
    if facts is None:
        return None
    facts = facts.model_copy(deep=True)
    kind = type(event)
    if isinstance(event, ev.QuestionTriaged):
        facts.topic = event.topic
    if isinstance(event, ev.InformationRequested):
        facts.resume_status = facts.status
    if isinstance(event, ev.InformationProvided):
        facts.status = facts.resume_status or "triaged"
    elif isinstance(event, ev.ExpertAssigned):
        if facts.status == "triaged":
            facts.status = "assigned"
    elif kind in _STATUS:
        facts.status = _STATUS[kind]
    step = _COMPLETES.get(kind)
    when = _when(event)
    if step is not None and step.value not in facts.steps_completed and when is not None:
        facts.steps_completed[step.value] = when
    if isinstance(event, ev.MemoDelivered) and facts.memo_delivered_at is None:
        facts.memo_delivered_at = event.delivered_at
    if isinstance(event, ev.ServiceLevelBreached) and event.step not in facts.steps_breached:
        facts.steps_breached.append(event.step)
    if isinstance(event, ev.FeedbackReceived):
        facts.ratings.append(event.rating)
    return facts


def summarise(rows: Iterable[RequestFacts], calendar: BusinessCalendar | None = None) -> ProgramMetrics:
    calendar = calendar or BusinessCalendar()
    rows = list(rows)
    by_topic: Counter[str] = Counter()
    by_state: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    by_topic_state: dict[str, Counter[str]] = {}
    days, business_days, ratings = [], [], []
    decided = on_time = breaches = 0
    for f in rows:
        state = f.state or "unknown"
        by_topic[f.topic] += 1
        by_state[state] += 1
        by_status[f.status] += 1
        by_topic_state.setdefault(f.topic, Counter())[state] += 1
        if f.memo_delivered_at is not None:
            days.append((f.memo_delivered_at - f.submitted_at).total_seconds() / 86_400)
            business_days.append(calendar.business_days(f.submitted_at, f.memo_delivered_at))
        breached = set(f.steps_breached)
        breaches += len(breached)
        decided += len(set(f.steps_completed) | breached)
        on_time += len(set(f.steps_completed) - breached)
        ratings += f.ratings
    return ProgramMetrics(
        total=len(rows),
        open=sum(1 for f in rows if f.status not in ("closed", "declined")),
        by_topic=dict(sorted(by_topic.items())),
        by_state=dict(sorted(by_state.items())),
        by_status=dict(sorted(by_status.items())),
        by_topic_and_state={t: dict(sorted(c.items())) for t, c in sorted(by_topic_state.items())},
        memos_delivered=len(days),
        median_days_to_memo=round(statistics.median(days), 3) if days else None,
        median_business_days_to_memo=round(statistics.median(business_days), 3) if business_days else None,
        steps_decided=decided,
        steps_on_time=on_time,
        on_time_rate=round(on_time / decided, 4) if decided else None,
        breaches=breaches,
        average_rating=round(statistics.fmean(ratings), 3) if ratings else None,
    )


def fold(events: Iterable[Event], calendar: BusinessCalendar | None = None) -> ProgramMetrics:
    facts: dict[str, RequestFacts] = {}
    for event in events:
        rid = getattr(event, "request_id", None)
        if rid is None:
            continue
        updated = apply(facts.get(rid), event)
        if updated is not None:
            facts[rid] = updated
    return summarise(facts.values(), calendar)
