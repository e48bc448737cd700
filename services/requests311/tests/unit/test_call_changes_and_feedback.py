"""The official's side after the memo: moving or cancelling the call, rating once, the follow-up at 90 days."""

from __future__ import annotations

from datetime import timedelta

import pytest

from requests311.domain.errors import InvalidTransition
from requests311.domain.states import Action, Status
from requests311.domain.views import official_view
from requests311.testing import OFFICIAL, PM, Scenario


def _booked() -> Scenario:
    s = Scenario()
    for action in (Action.triage, Action.assign, Action.draft_memo, Action.submit_memo, Action.approve_memo,
                   Action.deliver_memo, Action.pick_slot):
        s.perform(action)
    assert s.req.status is Status.call_scheduled
    s.req.pull_events()
    return s


def test_asking_to_reschedule_releases_the_call_and_says_why() -> None:
    s = _booked()
    s.req.reschedule_call(actor=OFFICIAL, now=s.tick(), reason="Council meets then", preferred_call_times=["Fridays"])
    assert s.req.status is Status.memo_delivered and s.req.calls[-1].outcome == "reschedule_requested"
    assert s.req.preferred_call_times == ["Fridays"]
    (event,) = s.req.pull_events()
    assert type(event).__name__ == "CallRescheduleRequested" and event.reason == "Council meets then"
    assert "reschedule_call" not in official_view(s.req, s.now).actions
    s.perform(Action.pick_slot)  # new slots are offered and booked
    assert s.req.status is Status.call_scheduled


def test_cancelling_the_call_lets_staff_close_with_the_memo() -> None:
    s = _booked()
    s.req.cancel_call(actor=OFFICIAL, now=s.tick())
    (event,) = s.req.pull_events()
    assert type(event).__name__ == "CallCancelled"
    s.req.close(actor=PM, now=s.tick())
    assert s.req.status is Status.closed


def test_a_call_that_started_cannot_be_moved() -> None:
    s = _booked()
    s.now = s.req.calls[-1].starts_at + timedelta(minutes=1)
    with pytest.raises(InvalidTransition):
        s.req.reschedule_call(actor=OFFICIAL, now=s.now)


def test_feedback_is_asked_once_after_the_call_and_not_again_at_closing() -> None:
    s = _booked()
    assert "give_feedback" not in official_view(s.req, s.now).actions, "not before the call is recorded"
    s.perform(Action.complete_call)
    assert "give_feedback" in official_view(s.req, s.now).actions
    s.req.give_feedback(actor=OFFICIAL, now=s.tick(), rating=4)
    assert "give_feedback" not in official_view(s.req, s.now).actions
    s.perform(Action.close)
    view = official_view(s.req, s.now)
    assert "give_feedback" not in view.actions, "rated already: the form is gone"
    with pytest.raises(InvalidTransition):
        s.req.give_feedback(actor=OFFICIAL, now=s.tick(), rating=5)
    # "did you act on it?" waits for the 90-day follow-up
    assert "record_follow_up" not in view.actions
    s.now = s.req.follow_up_due_at + timedelta(minutes=1)
    assert "record_follow_up" in official_view(s.req, s.now).actions


def test_reopened_request_is_rated_again() -> None:
    s = _booked()
    s.perform(Action.complete_call)
    s.perform(Action.close)
    s.req.give_feedback(actor=OFFICIAL, now=s.tick(), rating=3)
    s.perform(Action.reopen)
    s.perform(Action.close)
    assert "give_feedback" in official_view(s.req, s.now).actions
