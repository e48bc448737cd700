"""Every status × every action: allowed actions lead where the table says; the rest are refused by rule."""

import pytest

from requests311.domain.errors import InvalidTransition
from requests311.domain.states import RESUME, RULES, STAY, TRANSITIONS, Action, Status, actions_open
from requests311.testing import PATHS, scenario_at

CASES = [(s, a) for s in Status for a in Action]


def test_every_status_is_reachable_by_a_path():
    assert set(PATHS) == set(Status)


@pytest.mark.parametrize(("status", "action"), CASES, ids=[f"{s.value}-{a.value}" for s, a in CASES])
def test_status_action(status: Status, action: Action):
    sc = scenario_at(status)
    before_version_events = len(sc.req.pending_events)
    targets = TRANSITIONS[action]
    if status in targets:
        sc.perform(action)
        target = targets[status]
        if target is STAY:
            expected = status
        elif target == RESUME:
            expected = Status(sc.req.information_requests[-1].resume_status)
        else:
            expected = target
        assert sc.req.status is expected
        assert sc.req.timeline[-1].at == sc.now or action in (Action.pick_slot,)
    else:
        snapshot = sc.req.model_dump()
        with pytest.raises(InvalidTransition) as err:
            sc.perform(action)
        assert err.value.rule == RULES[action]
        assert status.value in err.value.detail
        # a refused action changes nothing and raises nothing
        assert sc.req.model_dump() == snapshot
        assert len(sc.req.pending_events) == before_version_events


def test_declined_is_terminal_except_for_notes():
    assert actions_open(Status.declined) == [Action.add_note]


def test_every_refusal_has_a_rule_name():
    assert set(RULES) == set(Action)
    assert all(r and r == r.lower() and " " not in r for r in RULES.values())
