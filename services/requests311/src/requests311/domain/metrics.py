"""Program metrics as a pure fold over requests311's own events, kept as running totals.

`apply` folds one event into the facts kept per request. `contribution` says what one request's
facts add to the program's totals — flat counters such as ``topic.housing`` or
``month.2026-11.on_time`` and histograms of days to memo — and `delta` what changed between two
versions of a request's facts, so the totals are maintained with one ``$inc`` in the same
transaction as the command. `from_totals` turns the totals into the figures staff see. Nothing here
scans the requests, and reading the metrics reads one document.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
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


class MonthMetrics(BaseModel):
    """Requests by the month (US Eastern) they were submitted in."""

    month: str  # YYYY-MM
    submitted: int
    by_topic: dict[str, int]
    memos_delivered: int
    steps_decided: int
    steps_on_time: int
    on_time_rate: float | None


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
    by_month: list[MonthMetrics] = Field(default_factory=list)


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
    elif isinstance(event, ev.ExpertUnassigned):
        if facts.status in ("assigned", "memo_drafted", "memo_returned"):
            facts.status = "triaged"
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


# Days to memo are kept as histograms in hundredths of a day (about a quarter of an hour): the
# medians read from them are exact to that resolution.
BUCKETS_PER_DAY = 100
_CLOSED = ("closed", "declined")


def _key(value: str) -> str:
    """A value as one segment of a dotted counter name (MongoDB reads '.' as a path, '$' as an operator)."""
    return value.replace(".", "_").replace("$", "_") or "unknown"


def _bucket(days: float) -> str:
    return str(max(0, round(days * BUCKETS_PER_DAY)))


def contribution(f: RequestFacts, calendar: BusinessCalendar) -> Counter[str]:
    """What one request's facts add to the program's totals."""
    c: Counter[str] = Counter()
    topic, state, status = _key(f.topic), _key(f.state or "unknown"), _key(f.status)
    month = f"month.{f.submitted_at.astimezone(calendar.tz):%Y-%m}"
    c["total"] += 1
    c["open"] += f.status not in _CLOSED
    for name in (f"topic.{topic}", f"state.{state}", f"status.{status}", f"topic_state.{topic}.{state}",
                 f"{month}.submitted", f"{month}.topic.{topic}"):
        c[name] += 1
    if f.memo_delivered_at is not None:
        days = (f.memo_delivered_at - f.submitted_at).total_seconds() / 86_400
        c["memos"] += 1
        c[f"{month}.memos"] += 1
        c[f"memo_days.{_bucket(days)}"] += 1
        c[f"memo_business_days.{_bucket(calendar.business_days(f.submitted_at, f.memo_delivered_at))}"] += 1
    breached, completed = set(f.steps_breached), set(f.steps_completed)
    for prefix in ("", f"{month}."):
        c[f"{prefix}decided"] += len(completed | breached)
        c[f"{prefix}on_time"] += len(completed - breached)
    c["breaches"] += len(breached)
    c["rating_sum"] += sum(f.ratings)
    c["rating_count"] += len(f.ratings)
    return +c  # only what is not zero


def delta(before: RequestFacts | None, after: RequestFacts | None, calendar: BusinessCalendar) -> dict[str, int]:
    """The change in the totals when a request's facts go from `before` to `after` (either may be None)."""
    change: Counter[str] = contribution(after, calendar) if after is not None else Counter()
    if before is not None:
        change.subtract(contribution(before, calendar))
    return {name: n for name, n in change.items() if n}


def aggregate(rows: Iterable[RequestFacts], calendar: BusinessCalendar) -> dict[str, int]:
    total: Counter[str] = Counter()
    for f in rows:
        total.update(contribution(f, calendar))
    return dict(total)


def flatten(doc: Mapping[str, object], prefix: str = "") -> dict[str, float]:
    """A totals document as stored (nested by the dots of its counter names) back into flat counters."""
    out: dict[str, float] = {}
    for name, value in doc.items():
        if name == "_id":
            continue
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{prefix}{name}."))
        elif isinstance(value, int | float):
            out[f"{prefix}{name}"] = value
    return out


def _under(totals: Mapping[str, float], prefix: str) -> dict[str, int]:
    return {name[len(prefix):]: int(n) for name, n in totals.items() if name.startswith(prefix) and n}


def _median(histogram: Mapping[str, int]) -> float | None:
    """The median of the values a histogram of hundredths holds (as statistics.median would give)."""
    counts = sorted((int(bucket), n) for bucket, n in histogram.items() if n > 0)
    total = sum(n for _, n in counts)
    if not total:
        return None
    wanted = [(total - 1) // 2, total // 2]  # the middle one, or the middle two
    found: list[int] = []
    seen = 0
    for bucket, n in counts:
        while wanted and wanted[0] < seen + n:
            found.append(bucket)
            wanted.pop(0)
        seen += n
    return round(sum(found) / len(found) / BUCKETS_PER_DAY, 3)


def _rate(on_time: int, decided: int) -> float | None:
    return round(on_time / decided, 4) if decided else None


def from_totals(totals: Mapping[str, float]) -> ProgramMetrics:
    n = lambda name: int(totals.get(name, 0))  # noqa: E731
    by_topic_and_state: dict[str, dict[str, int]] = {}
    for name, count in sorted(_under(totals, "topic_state.").items()):
        topic, state = name.split(".", 1)
        by_topic_and_state.setdefault(topic, {})[state] = count
    months = sorted({name.split(".", 2)[1] for name in totals if name.startswith("month.")})
    by_month = []
    for month in months:
        m = lambda name: n(f"month.{month}.{name}")  # noqa: E731
        if not m("submitted"):
            continue
        by_month.append(MonthMetrics(
            month=month, submitted=m("submitted"), by_topic=dict(sorted(_under(totals, f"month.{month}.topic.").items())),
            memos_delivered=m("memos"), steps_decided=m("decided"), steps_on_time=m("on_time"),
            on_time_rate=_rate(m("on_time"), m("decided")),
        ))
    return ProgramMetrics(
        total=n("total"),
        open=n("open"),
        by_topic=dict(sorted(_under(totals, "topic.").items())),
        by_state=dict(sorted(_under(totals, "state.").items())),
        by_status=dict(sorted(_under(totals, "status.").items())),
        by_topic_and_state=by_topic_and_state,
        memos_delivered=n("memos"),
        median_days_to_memo=_median(_under(totals, "memo_days.")),
        median_business_days_to_memo=_median(_under(totals, "memo_business_days.")),
        steps_decided=n("decided"),
        steps_on_time=n("on_time"),
        on_time_rate=_rate(n("on_time"), n("decided")),
        breaches=n("breaches"),
        average_rating=round(n("rating_sum") / n("rating_count"), 3) if n("rating_count") else None,
        by_month=by_month,
    )


def summarise(rows: Iterable[RequestFacts], calendar: BusinessCalendar | None = None) -> ProgramMetrics:
    return from_totals(aggregate(rows, calendar or BusinessCalendar()))


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
