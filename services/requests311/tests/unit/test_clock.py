"""The service-level clock, driven by hand-set instants (no sleeping, no system time)."""

from datetime import UTC, datetime, timedelta

import pytest
from nrn_contracts.events import requests311 as ev

from requests311.domain.clock import Pause, ServiceLevels, SlaStatus, Step, StepClock, evaluate
from requests311.domain.states import Action, Status
from requests311.testing import LEAD, OFFICIAL, T0, Scenario, new_request, scenario_at
from requests311.domain.model import DeclineReason, Topic

NY = ServiceLevels().calendar.tz
LEVELS = ServiceLevels()


def ny(*a):
    return datetime(*a, tzinfo=NY)


def clock(step=Step.memo, start=None, budget=10.0, **kw):
    return StepClock(step=step, started_at=start or ny(2025, 3, 3, 9), budget_business_days=budget, **kw)


def test_service_levels_are_configuration():
    levels = ServiceLevels.model_validate({"memo_business_days": 7, "at_risk_fraction": 0.5})
    assert levels.budget(Step.memo) == 7 and levels.budget(Step.acknowledge) == 1
    with pytest.raises(ValueError):
        ServiceLevels(memo_business_days=0)


def test_due_date_skips_weekends():
    view = evaluate(clock(), [], ny(2025, 3, 3, 10), LEVELS)
    assert view.due_at == ny(2025, 3, 17, 9)  # two weeks later, same time
    assert view.status is SlaStatus.on_time


def test_due_date_skips_a_federal_holiday():
    # memo clock started the Monday before Memorial Day 2025
    view = evaluate(clock(start=ny(2025, 5, 19, 9)), [], ny(2025, 5, 19, 10), LEVELS)
    assert view.due_at == ny(2025, 6, 3, 9)


def test_at_risk_then_overdue():
    c = clock(budget=4)
    assert evaluate(c, [], ny(2025, 3, 5, 9), LEVELS).status is SlaStatus.on_time  # 2 of 4 days used
    assert evaluate(c, [], ny(2025, 3, 6, 9), LEVELS).status is SlaStatus.at_risk  # 3 of 4 = 75 %
    v = evaluate(c, [], ny(2025, 3, 7, 9), LEVELS)
    assert v.status is SlaStatus.overdue and v.due_at == ny(2025, 3, 7, 9)
    assert v.at_risk_at == ny(2025, 3, 6, 9)


def test_weekend_time_does_not_make_a_step_at_risk():
    c = clock(start=ny(2025, 3, 7, 9), budget=4)  # Friday
    assert evaluate(c, [], ny(2025, 3, 9, 23), LEVELS).elapsed_business_days == pytest.approx(15 / 24)


def test_waiting_on_the_city_pauses_the_clock():
    c = clock(budget=2)
    pauses = [Pause(started_at=ny(2025, 3, 3, 12), ended_at=ny(2025, 3, 10, 12))]  # a week waiting
    view = evaluate(c, pauses, ny(2025, 3, 10, 13), LEVELS)
    assert view.elapsed_business_days == pytest.approx(4 / 24, abs=1e-3)
    assert view.due_at == ny(2025, 3, 12, 9)  # 3 h used before the pause, the rest after it
    assert view.status is SlaStatus.on_time


def test_an_open_pause_has_no_fixed_due_date_and_cannot_breach():
    c = clock(budget=1)
    pauses = [Pause(started_at=ny(2025, 3, 3, 12))]
    view = evaluate(c, pauses, ny(2025, 4, 30, 12), LEVELS)
    assert view.paused and view.due_at is None
    assert view.projected_due_at == ny(2025, 5, 1, 9)  # 21 h left from "now"
    assert view.status is SlaStatus.on_time


def test_completed_step_keeps_its_verdict():
    late = evaluate(clock(budget=1, completed_at=ny(2025, 3, 5, 9)), [], ny(2025, 6, 1), LEVELS)
    on_time = evaluate(clock(budget=1, completed_at=ny(2025, 3, 3, 17)), [], ny(2025, 6, 1), LEVELS)
    assert late.status is SlaStatus.overdue and on_time.status is SlaStatus.on_time


def test_request_info_pauses_memo_clock_until_answered():
    sc = Scenario()
    sc.perform(Action.triage)
    sc.req.request_information(actor=LEAD, now=T0 + timedelta(hours=1), question="Budget?")
    memo = lambda now: next(v for v in sc.req.service_level_views(now) if v.step is Step.memo)  # noqa: E731
    assert memo(T0 + timedelta(days=30)).paused
    assert sc.req.sla_index(T0 + timedelta(days=30))["next_breach_check_at"] is None
    sc.req.provide_information(actor=OFFICIAL, now=T0 + timedelta(days=28), answer="$1M")
    view = memo(T0 + timedelta(days=28, hours=1))
    assert not view.paused and view.elapsed_business_days == pytest.approx(2 / 24, abs=1e-3)
    # 10 business days counted from the answer, less the hour used before the question
    assert view.due_at == sc.req.service_levels.calendar.add_business_days(T0 + timedelta(days=28), 10) - timedelta(hours=1)


def test_breach_is_raised_once_per_step():
    req = new_request()
    assert req.check_service_levels(T0 + timedelta(hours=1)) == []
    late = T0 + timedelta(days=2)  # acknowledgement was due after 1 business day
    req.pull_events()
    assert req.check_service_levels(late) == [Step.acknowledge]
    assert req.check_service_levels(late + timedelta(days=1)) == []
    events = req.pull_events()
    assert [type(e) for e in events] == [ev.ServiceLevelBreached]
    assert events[0].step == "acknowledge" and events[0].due_at == datetime(2025, 3, 4, 14, tzinfo=UTC)
    # completing the step afterwards does not raise it again
    req.triage(actor=LEAD, now=late + timedelta(days=2), topic=Topic.housing)
    assert not any(isinstance(e, ev.ServiceLevelBreached) for e in req.pull_events())


def test_a_step_completed_late_without_a_sweep_still_breaches_once():
    req = new_request()
    req.pull_events()
    req.triage(actor=LEAD, now=T0 + timedelta(days=3), topic=Topic.housing)
    kinds = [type(e) for e in req.pull_events()]
    assert kinds.count(ev.ServiceLevelBreached) == 1
    assert req.check_service_levels(T0 + timedelta(days=4)) == []


def test_every_step_can_breach_and_each_only_once():
    sc = scenario_at(Status.memo_delivered)
    far = sc.now + timedelta(days=60)
    breached = sc.req.check_service_levels(far)
    assert breached == [Step.call]  # acknowledge and memo were met; the call is 60 days late
    assert sc.req.check_service_levels(far + timedelta(days=1)) == []


def test_declined_request_stops_its_clocks():
    req = new_request()
    req.decline(actor=LEAD, now=T0 + timedelta(hours=2), reason=DeclineReason.out_of_scope, explanation="legal")
    assert req.check_service_levels(T0 + timedelta(days=90)) == []
    assert req.sla_index(T0 + timedelta(days=90))["next_due_at"] is None


def test_sla_index_fields_for_queues():
    req = new_request()
    idx = req.sla_index(T0)
    assert idx["next_due_at"] == datetime(2025, 3, 4, 14, tzinfo=UTC)  # acknowledge, 1 business day
    assert idx["next_at_risk_at"] == datetime(2025, 3, 4, 8, tzinfo=UTC)  # 75 % of a day
    assert idx["next_breach_check_at"] == idx["next_due_at"]


def test_snapshot_of_levels_is_not_retroactive():
    req = new_request()
    assert req.clocks[Step.memo].budget_business_days == 10
    strict = ServiceLevels(memo_business_days=2)
    assert req.service_levels != strict  # a config change later does not rewrite the request's snapshot


def test_a_reopened_request_gets_a_response_clock_that_staff_action_stops():
    sc = scenario_at(Status.closed)
    reopened = sc.req.closed_at + timedelta(days=3)
    sc.req.reopen(actor=OFFICIAL, now=reopened, reason="the council asked a new question")
    view = {v.step: v for v in sc.req.service_level_views(reopened)}[Step.response_after_reopen]
    assert view.status is SlaStatus.on_time and view.budget_business_days == 1
    assert sc.req.sla_index(reopened)["next_due_at"] == view.due_at
    sc.req.add_note(actor=LEAD, now=reopened + timedelta(hours=1), text="looking into it")
    assert sc.req.clocks[Step.response_after_reopen].open  # an internal note is not a response
    sc.req.close(actor=LEAD, now=reopened + timedelta(hours=2), note="answered by phone")
    clock = sc.req.clocks[Step.response_after_reopen]
    assert clock.completed_at == reopened + timedelta(hours=2) and not clock.breach_raised


def test_an_unanswered_reopening_breaches_once():
    sc = scenario_at(Status.closed)
    reopened = sc.req.closed_at + timedelta(days=1)
    sc.req.reopen(actor=OFFICIAL, now=reopened, reason="the numbers changed")
    sc.req.pull_events()
    assert sc.req.check_service_levels(reopened + timedelta(days=5)) == [Step.response_after_reopen]
    assert sc.req.check_service_levels(reopened + timedelta(days=6)) == []
    events = sc.req.pull_events()
    assert [e.step for e in events if isinstance(e, ev.ServiceLevelBreached)] == ["response_after_reopen"]
