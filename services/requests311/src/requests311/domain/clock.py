"""The service-level clock: due dates, on time / at risk / overdue, pauses while waiting on the city.

Everything here is a pure function of recorded instants and an injected `now`; nothing
reads the system time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from .calendar import DAY, BusinessCalendar

Clock = Callable[[], datetime]


class Step(StrEnum):
    acknowledge = "acknowledge"  # first staff response: triage, information request or decline
    memo = "memo"  # memo delivered, counted from submission
    call = "call"  # call held, counted from memo delivery
    response_after_reopen = "response_after_reopen"  # staff's first action on a reopened request


class SlaStatus(StrEnum):
    on_time = "on_time"
    at_risk = "at_risk"
    overdue = "overdue"


class UrgentLevels(BaseModel):
    """Shorter allowances for a question marked more pressing; a step left out keeps the routine one."""

    model_config = ConfigDict(frozen=True)

    acknowledge_business_days: float | None = Field(None, gt=0)
    memo_business_days: float | None = Field(None, gt=0)
    call_business_days: float | None = Field(None, gt=0)


class ServiceLevels(BaseModel):
    """Service levels are configuration: the service's settings carry one of these.

    The allowances are for a routine question; an `urgent` one gets shorter acknowledge, memo and call
    clocks (and a `soon` one its own, when configured), as the official asked or triage decided.
    """

    model_config = ConfigDict(frozen=True)

    acknowledge_business_days: float = Field(1, gt=0)
    memo_business_days: float = Field(10, gt=0)
    call_business_days: float = Field(5, gt=0)
    response_after_reopen_business_days: float = Field(1, gt=0)
    soon: UrgentLevels = UrgentLevels()  # as routine unless configured
    urgent: UrgentLevels = UrgentLevels(acknowledge_business_days=0.5, memo_business_days=4, call_business_days=2)
    # a step is "at risk" once this share of its allowance has been used
    at_risk_fraction: float = Field(0.75, gt=0, lt=1)
    timezone: str = "America/New_York"

    def budget(self, step: Step, urgency: str = "routine") -> float:
        """Business days allowed for `step` of a question of this urgency (routine, soon, urgent)."""
        faster = {"soon": self.soon, "urgent": self.urgent}.get(urgency)
        if faster is not None:
            value = {Step.acknowledge: faster.acknowledge_business_days, Step.memo: faster.memo_business_days,
                     Step.call: faster.call_business_days}.get(step)
            if value is not None:
                return value
        return {
            Step.acknowledge: self.acknowledge_business_days,
            Step.memo: self.memo_business_days,
            Step.call: self.call_business_days,
            Step.response_after_reopen: self.response_after_reopen_business_days,
        }[step]

    @property
    def calendar(self) -> BusinessCalendar:
        return BusinessCalendar(self.timezone)


class Pause(BaseModel):
    """An interval during which the request waited on the city; `ended_at` None means still waiting."""

    started_at: datetime
    ended_at: datetime | None = None


class StepClock(BaseModel):
    """What the aggregate records about one step: when it started, ended, and whether a breach was raised."""

    step: Step
    started_at: datetime
    budget_business_days: float  # captured when the step starts so later config changes are not retroactive
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None  # a declined request stops its clocks
    breach_raised: bool = False

    @property
    def open(self) -> bool:
        return self.completed_at is None and self.cancelled_at is None


class StepView(BaseModel):
    """What a reader sees: the due date and whether the step is on time."""

    step: Step
    started_at: datetime
    due_at: datetime | None  # None only while paused and open (the due date is then not fixed)
    at_risk_at: datetime | None = None
    projected_due_at: datetime | None = None  # while paused: the due date if the city answered now
    completed_at: datetime | None = None
    cancelled: bool = False
    paused: bool = False
    status: SlaStatus
    elapsed_business_days: float
    budget_business_days: float


def _active_intervals(
    start: datetime, end: datetime, pauses: Sequence[Pause]
) -> list[tuple[datetime, datetime]]:
    """[start, end) minus the pauses (pauses are disjoint and ordered; an open pause runs to `end`)."""
    out: list[tuple[datetime, datetime]] = []
    cursor = start
    for p in sorted(pauses, key=lambda p: p.started_at):
        p_end = p.ended_at or end
        if p_end <= cursor or p.started_at >= end:
            continue
        if p.started_at > cursor:
            out.append((cursor, p.started_at))
        cursor = max(cursor, p_end)
    if cursor < end:
        out.append((cursor, end))
    return out


def _paused_at(pauses: Sequence[Pause], at: datetime) -> bool:
    return any(p.started_at <= at and (p.ended_at is None or at < p.ended_at) for p in pauses)


def _reach(
    cal: BusinessCalendar,
    intervals: Sequence[tuple[datetime, datetime]],
    target: float,
    tail_from: datetime | None,
) -> datetime | None:
    """The instant at which `target` business seconds of active time have passed.

    Walks the recorded active intervals; if the target lies beyond them, continues from
    `tail_from` (None when the clock is stopped, e.g. paused, and the instant is unknown).
    """
    remaining = target
    for lo, hi in intervals:
        span = cal.business_seconds(lo, hi)
        if span >= remaining:
            return cal.add_business_seconds(lo, remaining)
        remaining -= span
    return None if tail_from is None else cal.add_business_seconds(tail_from, remaining)


def evaluate(
    clock: StepClock, pauses: Sequence[Pause], now: datetime, levels: ServiceLevels
) -> StepView:
    cal = levels.calendar
    budget = clock.budget_business_days * DAY
    end = clock.completed_at or clock.cancelled_at or now
    intervals = _active_intervals(clock.started_at, end, pauses)
    elapsed = sum(cal.business_seconds(lo, hi) for lo, hi in intervals)
    paused = clock.open and _paused_at(pauses, now)

    due_at = _reach(cal, intervals, budget, None if paused else end)
    projected = None
    if due_at is None:  # paused before the allowance ran out
        projected = cal.add_business_seconds(now, budget - elapsed)
    at_risk_at = _reach(cal, intervals, levels.at_risk_fraction * budget, None if paused else end)

    if elapsed >= budget:
        status = SlaStatus.overdue
    elif clock.open and elapsed >= levels.at_risk_fraction * budget:
        status = SlaStatus.at_risk
    else:
        status = SlaStatus.on_time
    return StepView(
        step=clock.step,
        started_at=clock.started_at,
        due_at=due_at,
        at_risk_at=at_risk_at,
        projected_due_at=projected,
        completed_at=clock.completed_at,
        cancelled=clock.cancelled_at is not None,
        paused=paused,
        status=status,
        elapsed_business_days=round(elapsed / DAY, 4),
        budget_business_days=clock.budget_business_days,
    )


def views(
    clocks: Iterable[StepClock], pauses: Sequence[Pause], now: datetime, levels: ServiceLevels
) -> list[StepView]:
    return [evaluate(c, pauses, now, levels) for c in clocks]
