"""Every status × every action of both aggregates: an allowed action leads where the table says;
any other is refused by its rule and changes nothing, raising nothing."""

import pytest

from engagements.domain.application import PERMISSIONS as APP_PERMISSIONS
from engagements.domain.engagement import PERMISSIONS as ENG_PERMISSIONS
from engagements.domain.errors import InvalidTransition
from engagements.domain.states import (
    APP_RULES,
    APP_TERMINAL,
    APP_TRANSITIONS,
    ENG_RULES,
    ENG_TRANSITIONS,
    SETTLE,
    STAY,
    AppAction,
    AppStatus,
    EngAction,
    EngStatus,
)
from engagements.testing import APP_PATHS, ENG_PATHS, app_at, eng_at

APP_CASES = [(s, a) for s in AppStatus for a in AppAction]
ENG_CASES = [(s, a) for s in EngStatus for a in EngAction]


def test_every_status_is_reachable_by_a_path():
    assert set(APP_PATHS) == set(AppStatus)
    assert set(ENG_PATHS) == set(EngStatus)


@pytest.mark.parametrize(("status", "action"), APP_CASES, ids=[f"{s.value}-{a.value}" for s, a in APP_CASES])
def test_application_status_action(status: AppStatus, action: AppAction):
    sc = app_at(status)
    events_before = len(sc.app.pending_events)
    targets = APP_TRANSITIONS[action]
    if status in targets:
        sc.perform(action)
        target = targets[status]
        if target is STAY:
            expected = {status}
        elif target == SETTLE:
            expected = {AppStatus.in_review, AppStatus.scored}
        else:
            expected = {target}
        assert sc.app.status in expected
        if target == SETTLE:
            enough = len(sc.app.counted_reviews) >= sc.app.rubric.min_reviewers
            assert sc.app.status is (AppStatus.scored if enough else AppStatus.in_review)
    else:
        snapshot = sc.app.model_dump()
        with pytest.raises(InvalidTransition) as err:
            sc.perform(action)
        assert err.value.rule == APP_RULES[action]
        assert status.value.replace("_", " ") in err.value.detail
        assert sc.app.model_dump() == snapshot
        assert len(sc.app.pending_events) == events_before


@pytest.mark.parametrize(("status", "action"), ENG_CASES, ids=[f"{s.value}-{a.value}" for s, a in ENG_CASES])
def test_engagement_status_action(status: EngStatus, action: EngAction):
    sc = eng_at(status)
    events_before = len(sc.e.pending_events)
    targets = ENG_TRANSITIONS[action]
    if status in targets:
        sc.perform(action)
        target = targets[status]
        assert sc.e.status is (status if target is STAY else target)
        assert sc.e.timeline[-1].at == sc.now
    else:
        snapshot = sc.e.model_dump()
        with pytest.raises(InvalidTransition) as err:
            sc.perform(action)
        assert err.value.rule == ENG_RULES[action]
        assert status.value.replace("_", " ") in err.value.detail
        assert sc.e.model_dump() == snapshot
        assert len(sc.e.pending_events) == events_before


def test_terminal_applications_allow_nothing():
    for status in APP_TERMINAL:
        assert [a for a in AppAction if status in APP_TRANSITIONS[a]] == []


def test_closed_engagements_allow_only_the_check_in_and_cancelled_nothing():
    assert [a for a in EngAction if EngStatus.closed in ENG_TRANSITIONS[a]] == [EngAction.record_check_in]
    assert [a for a in EngAction if EngStatus.cancelled in ENG_TRANSITIONS[a]] == []


def test_every_action_has_a_rule_and_a_permission():
    for rules, actions, permissions in ((APP_RULES, AppAction, APP_PERMISSIONS), (ENG_RULES, EngAction, ENG_PERMISSIONS)):
        assert set(rules) == set(actions) == set(permissions)
        assert all(r and r == r.lower() and " " not in r for r in rules.values())


def test_the_events_each_step_raises():
    """Walking the happy path raises the contract events the issue names, in order."""
    sc = app_at(AppStatus.accepted)
    names = [type(e).__name__ for e in sc.app.pull_events()]
    assert names == ["ApplicationDrafted", "ApplicationSubmitted", "ReviewerAssigned", "ReviewerAssigned",
                     "ApplicationScored", "ApplicationScored", "ApplicationDecided"]
    e = eng_at(EngStatus.in_progress)
    e.perform(EngAction.complete_milestone)
    e.perform(EngAction.complete_milestone)
    e.perform(EngAction.submit_close_out)
    e.perform(EngAction.confirm_close_out)
    assert [type(x).__name__ for x in e.e.pull_events()] == [
        "EngagementOpened", "AssessmentCompleted", "WorkPlanAgreed", "MilestoneCompleted", "MilestoneCompleted",
        "EngagementClosed"]
