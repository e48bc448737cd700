"""Preconditions, permissions and visibility beyond the status table."""

import re
from datetime import timedelta, timezone

import pytest
from nrn_contracts import EVENT_TYPES, decode, encode, envelope
from nrn_contracts.events import requests311 as ev
from pydantic import ValidationError

from requests311.domain.errors import InvalidInput, InvalidTransition, NotPermitted, VersionConflict
from requests311.domain.model import (
    TOPIC_LABELS, Consent, DeclineReason, ExpertRef, FollowUpOutcome, Topic,
)
from requests311.domain.request import Request
from requests311.domain.states import Action, Status
from requests311.domain.views import official_view, staff_view
from requests311.testing import (
    ADMIN, CITY, CURATOR, EXPERT, EXPERT_2, LEAD, LEVELS, OFFICIAL, OTHER_CITY, OTHER_OFFICIAL, PM, REVIEWER, T0,
    memo_body, new_request, question, scenario_at,
)


def submit(actor=OFFICIAL, city=CITY, **kw):
    return Request.submit(request_id="r", draft=question(**kw), actor=actor, city=city, now=T0, service_levels=LEVELS)


def test_submission_raises_question_submitted_with_the_state():
    req = submit()
    [event] = req.pull_events()
    assert isinstance(event, ev.QuestionSubmitted)
    assert event.state == "MI" and event.topic == "finance_budgets" and event.consent_to_publish == "anonymous"
    # the event survives the real envelope round trip
    _, decoded = decode(encode(envelope(event, source="/nrn/requests311")))
    assert decoded == event


@pytest.mark.parametrize(
    ("actor", "city", "rule"),
    [
        (LEAD, CITY, "only_officials_submit"),
        (OFFICIAL.model_copy(update={"verified": False}), CITY, "official_must_be_verified"),
        (OFFICIAL, OTHER_CITY, "officials_act_only_on_their_city"),
        (OFFICIAL, CITY.model_copy(update={"eligible": False}), "city_must_be_eligible"),
    ],
)
def test_who_may_submit(actor, city, rule):
    with pytest.raises(NotPermitted) as err:
        submit(actor=actor, city=city)
    assert err.value.rule == rule


@pytest.mark.parametrize(
    ("field", "value"),
    [("title", ""), ("title", "x" * 201), ("question", ""), ("question", "q" * 10_001), ("topic", "astrology"),
     ("context", "c" * 10_001), ("preferred_call_times", ["x"] * 11), ("consent", "maybe")],
)
def test_bad_question_fields_are_named(field, value):
    with pytest.raises(ValidationError) as err:
        question(**{field: value})
    assert err.value.errors()[0]["loc"][0] == field


def test_whitespace_only_title_is_refused_by_rule():
    with pytest.raises(InvalidInput) as err:
        submit(title="   ")
    assert err.value.rule == "title_required" and err.value.field == "title"


def test_official_of_another_city_cannot_act():
    sc = scenario_at(Status.awaiting_information)
    with pytest.raises(NotPermitted) as err:
        sc.req.provide_information(actor=OTHER_OFFICIAL, now=sc.now, answer="hi")
    assert err.value.rule == "officials_act_only_on_their_city"


def test_officials_cannot_take_staff_actions():
    req = new_request()
    with pytest.raises(NotPermitted) as err:
        req.triage(actor=OFFICIAL, now=T0, topic=Topic.housing)
    assert err.value.rule == "staff_only_action"


def test_only_the_assigned_expert_drafts():
    sc = scenario_at(Status.assigned)
    with pytest.raises(NotPermitted) as err:
        sc.req.draft_memo(actor=EXPERT_2, now=sc.now, body=memo_body())
    assert err.value.rule == "only_the_assigned_expert"
    sc.req.draft_memo(actor=ADMIN, now=sc.now, body=memo_body())  # administrators may always act


def test_roles_are_checked():
    sc = scenario_at(Status.memo_in_review)
    with pytest.raises(NotPermitted) as err:
        sc.req.approve_memo(actor=CURATOR, now=sc.now)
    assert err.value.rule == "role_required"
    with pytest.raises(NotPermitted):
        sc.req.approve_memo(actor=EXPERT, now=sc.now)
    sc.req.approve_memo(actor=REVIEWER, now=sc.now)


def test_decline_as_duplicate_needs_a_link():
    req = new_request()
    with pytest.raises(InvalidInput) as err:
        req.decline(actor=LEAD, now=T0, reason=DeclineReason.duplicate)
    assert err.value.field == "duplicate_of"
    req.decline(actor=LEAD, now=T0, reason=DeclineReason.duplicate, duplicate_of="req-0")
    event = req.pull_events()[-1]
    assert isinstance(event, ev.QuestionDeclined) and event.duplicate_of == "req-0" and event.reason == "duplicate"


def test_decline_for_other_reason_needs_an_explanation():
    with pytest.raises(InvalidInput) as err:
        new_request().decline(actor=LEAD, now=T0, reason=DeclineReason.other)
    assert err.value.rule == "explanation_required"


def test_assigning_the_same_expert_twice_is_refused():
    sc = scenario_at(Status.assigned)
    with pytest.raises(InvalidInput):
        sc.req.assign(actor=LEAD, now=sc.now, expert=ExpertRef(id=EXPERT.id))


def test_memo_outside_2_to_3_pages_is_flagged_not_refused():
    sc = scenario_at(Status.assigned)
    short = sc.req.draft_memo(actor=EXPERT, now=sc.tick(), body=memo_body(300))
    assert "too_short" in short.flags and sc.req.status is Status.memo_drafted
    long = sc.req.draft_memo(actor=EXPERT, now=sc.tick(), body=memo_body(2_500))
    assert "too_long" in long.flags
    ok = sc.req.draft_memo(actor=EXPERT, now=sc.tick(), body=memo_body(1_200))
    assert ok.flags == []
    drafted = [e for e in sc.req.pull_events() if isinstance(e, ev.MemoDrafted)]
    assert [e.flagged_length for e in drafted] == [True, True, False]
    assert [m.number for m in sc.req.memo_versions] == [1, 2, 3]  # every version kept


def test_memo_without_every_section_cannot_go_to_review():
    sc = scenario_at(Status.assigned)
    sc.req.draft_memo(actor=EXPERT, now=sc.tick(), body="# Memo\n\n## Question\n\nWhat?\n\n## Short answer\n\nYes.")
    with pytest.raises(InvalidInput) as err:
        sc.req.submit_memo(actor=EXPERT, now=sc.tick())
    assert err.value.rule == "memo_sections_required" and "next steps" in err.value.detail
    sc.req.submit_memo(actor=EXPERT, now=sc.tick(), accept_incomplete=True)  # the expert confirmed it
    assert sc.req.status is Status.memo_in_review
    assert "knowingly without: options, resources, next steps" in sc.req.timeline[-1].summary


def test_returning_needs_comments_and_keeps_them_on_the_version():
    sc = scenario_at(Status.memo_in_review)
    with pytest.raises(InvalidInput):
        sc.req.return_memo(actor=REVIEWER, now=sc.now, comments=["  "])
    sc.req.return_memo(actor=REVIEWER, now=sc.now, comments=["Cite the HUD guide", "Shorten options"])
    assert [c.comment for c in sc.req.memo_versions[-1].review_comments] == ["Cite the HUD guide", "Shorten options"]
    assert sc.req.memo_versions[-1].state == "returned"


def test_delivery_carries_what_the_library_needs():
    sc = scenario_at(Status.memo_approved)
    sc.req.pull_events()
    sc.req.deliver_memo(actor=PM, now=sc.tick())
    [delivered] = [e for e in sc.req.pull_events() if isinstance(e, ev.MemoDelivered)]
    assert delivered.short_answer.startswith("Combine the state revolving fund")
    assert delivered.consent_to_publish == "anonymous" and delivered.city_name is None
    assert delivered.memo_markdown == sc.req.memo_versions[-1].body


def test_slots_must_be_in_the_future_and_sane():
    sc = scenario_at(Status.memo_delivered)
    with pytest.raises(InvalidInput) as err:
        sc.req.offer_slots(actor=EXPERT, now=sc.now, slots=[(sc.now - timedelta(hours=1), 30)])
    assert err.value.field == "slots.0.starts_at"
    with pytest.raises(InvalidInput) as err:
        sc.req.offer_slots(actor=EXPERT, now=sc.now, slots=[(sc.now + timedelta(days=1), 600)])
    assert err.value.field == "slots.0.duration_minutes"
    with pytest.raises(InvalidInput):
        sc.req.offer_slots(actor=EXPERT, now=sc.now, slots=[])


def test_the_same_start_twice_in_one_offer_is_refused():
    sc = scenario_at(Status.memo_delivered)
    at = sc.now + timedelta(days=3)
    same = at.astimezone(timezone(timedelta(hours=-4)))  # the same instant, written with another offset
    with pytest.raises(InvalidInput) as err:
        sc.req.offer_slots(actor=EXPERT, now=sc.now, slots=[(at, 30), (at + timedelta(hours=1), 30), (same, 60)])
    assert (err.value.rule, err.value.field) == ("slot_offered_twice", "slots.2.starts_at")
    assert "same time as slot 1" in err.value.detail


def test_offered_slots_are_kept_in_utc_and_in_order():
    sc = scenario_at(Status.memo_delivered)
    later = (sc.now + timedelta(days=4)).astimezone(timezone(timedelta(hours=-5)))
    sooner = sc.now + timedelta(days=3)
    offered = sc.req.offer_slots(actor=EXPERT, now=sc.tick(), slots=[(later, 30), (sooner, 45)])
    assert [s.starts_at for s in offered] == [sooner, later]
    assert all(s.starts_at.utcoffset() == timedelta(0) for s in offered)


def test_a_new_offer_withdraws_the_unpicked_slots():
    sc = scenario_at(Status.memo_delivered)
    old = [s.id for s in sc.req.call_slots]
    sc.req.offer_slots(actor=EXPERT, now=sc.tick(), slots=[(sc.now + timedelta(days=5), 30)])
    with pytest.raises(InvalidInput) as err:
        sc.req.pick_slot(actor=OFFICIAL, now=sc.tick(), slot_id=old[0])
    assert err.value.rule == "slot_not_offered"


def test_no_show_can_be_rescheduled():
    sc = scenario_at(Status.call_missed)
    sc.perform(Action.pick_slot)
    assert sc.req.status is Status.call_scheduled and len(sc.req.calls) == 2
    assert sc.req.calls[0].outcome == "missed"


def test_a_call_cannot_be_completed_before_it_starts():
    sc = scenario_at(Status.call_scheduled)
    with pytest.raises(InvalidTransition) as err:
        sc.req.complete_call(actor=EXPERT, now=sc.now, summary="x", next_steps=[])
    assert err.value.rule == "call_not_yet_held"


def test_closing_after_a_missed_call_is_unresponsive():
    sc = scenario_at(Status.call_missed)
    sc.req.pull_events()
    sc.perform(Action.close)
    [closed] = sc.req.pull_events()
    assert closed.reason == "unresponsive"


def test_feedback_rating_range_and_once_per_closure():
    sc = scenario_at(Status.closed)
    for bad in (0, 6):
        with pytest.raises(InvalidInput) as err:
            sc.req.give_feedback(actor=OFFICIAL, now=sc.now, rating=bad)
        assert err.value.field == "rating"
    sc.req.give_feedback(actor=OFFICIAL, now=sc.now, rating=4, comment="Good")
    with pytest.raises(InvalidTransition) as err:
        sc.req.give_feedback(actor=OFFICIAL, now=sc.now, rating=5)
    assert err.value.rule == "feedback_once_per_closure"


def test_follow_up_only_after_90_days_and_once():
    sc = scenario_at(Status.closed)
    closed = sc.req.closed_at
    with pytest.raises(InvalidTransition) as err:
        sc.req.record_follow_up(actor=PM, now=closed + timedelta(days=89), outcome=FollowUpOutcome.acted)
    assert err.value.rule == "follow_up_not_yet_due"
    sc.req.record_follow_up(actor=OFFICIAL, now=closed + timedelta(days=90), outcome=FollowUpOutcome.partly)
    assert sc.req.pull_events()[-1].outcome == "partly"
    with pytest.raises(InvalidTransition):
        sc.req.record_follow_up(actor=PM, now=closed + timedelta(days=91), outcome=FollowUpOutcome.acted)


def test_reopen_only_within_30_days():
    sc = scenario_at(Status.closed)
    closed = sc.req.closed_at
    with pytest.raises(InvalidTransition) as err:
        sc.req.reopen(actor=OFFICIAL, now=closed + timedelta(days=30, seconds=1), reason="late")
    assert err.value.rule == "reopen_within_30_days"
    sc.req.reopen(actor=OFFICIAL, now=closed + timedelta(days=30), reason="new council vote")
    assert sc.req.status is Status.reopened


def test_consent_change_is_evented_and_must_change():
    req = new_request()
    with pytest.raises(InvalidInput):
        req.change_consent(actor=OFFICIAL, now=T0, consent=Consent.anonymous)
    req.change_consent(actor=OFFICIAL, now=T0, consent=Consent.named)
    event = req.pull_events()[-1]
    assert isinstance(event, ev.ConsentChanged) and event.city_name == "Flint" and event.previous == "anonymous"


def test_version_check():
    req = new_request()
    req.ensure_version(0)
    req.ensure_version(None)
    with pytest.raises(VersionConflict) as err:
        req.ensure_version(3)
    assert err.value.status == 409 and err.value.field == "version"


def test_official_view_never_shows_drafts_review_comments_or_notes():
    sc = scenario_at(Status.memo_returned)
    sc.req.add_note(actor=LEAD, now=sc.tick(), text="SECRET-NOTE")
    sc.req.draft_memo(actor=EXPERT, now=sc.tick(), body=memo_body() + " DRAFT-TEXT")
    dumped = official_view(sc.req, sc.now).model_dump_json()
    assert "DRAFT-TEXT" not in dumped and "SECRET-NOTE" not in dumped
    assert "Add an example from a Midwestern city" not in dumped  # the review comment
    assert "memo_versions" not in dumped and '"notes"' not in dumped
    staff = staff_view(sc.req, sc.now).model_dump_json()
    assert "DRAFT-TEXT" in staff and "SECRET-NOTE" in staff
    # after delivery the official sees exactly the delivered version
    for a in (Action.submit_memo, Action.approve_memo, Action.deliver_memo):
        sc.perform(a)
    view = official_view(sc.req, sc.now)
    assert view.memo is not None and view.memo.version == 2 and "DRAFT-TEXT" in view.memo.body
    assert all(e.public for e in view.timeline)


def test_official_actions_list_only_what_an_official_can_do():
    sc = scenario_at(Status.memo_delivered)
    assert set(official_view(sc.req, sc.now).actions) == {"pick_slot", "change_consent"}
    assert "pick_slot" in staff_view(sc.req, sc.now).actions


def test_contract_events_cover_the_lifecycle():
    sc = scenario_at(Status.closed)
    kinds = {type(e).__name__ for e in sc.req.pull_events()}
    assert {"QuestionSubmitted", "QuestionTriaged", "ExpertAssigned", "MemoDrafted", "MemoDelivered",
            "CallSlotsOffered", "CallScheduled", "CallCompleted", "RequestClosed"} <= kinds
    assert all(t in EVENT_TYPES for t in {ev.CallSlotsOffered.type, ev.QuestionSubmitted.type})


def test_every_raised_event_is_valid_on_the_wire():
    sc = scenario_at(Status.reopened)
    for event in sc.req.pull_events():
        _, decoded = decode(encode(envelope(event, source="/nrn/requests311")))
        assert decoded == event


def test_publication_by_the_library_is_recorded_once_and_shown_to_the_official():
    sc = scenario_at(Status.memo_delivered)
    assert sc.req.record_publication(resource_id="res-9", at=sc.now)
    assert not sc.req.record_publication(resource_id="res-9", at=sc.now)  # redelivered event
    view = official_view(sc.req, sc.now)
    assert view.published is not None and view.published.resource_id == "res-9"
    assert view.timeline[-1].action == "published"
    assert sc.req.record_unpublication(resource_id="res-9", at=sc.now)
    assert not sc.req.record_unpublication(resource_id="res-9", at=sc.now)


def test_timeline_reads_as_words_not_codes():
    sc = scenario_at(Status.closed)
    summaries = [t.summary for t in sc.req.timeline]
    triaged = next(s for s in summaries if s.startswith("Triaged as "))
    assert triaged.removeprefix("Triaged as ").split(" (")[0] in TOPIC_LABELS.values()
    call = next(s for s in summaries if s.startswith("Call scheduled for "))
    assert re.fullmatch(r"Call scheduled for \w{3}, \w{3} \d{1,2}, \d{4}, \d{1,2}:\d{2} [AP]M E[SD]T", call), call
    assert not [s for s in summaries if "_" in s or re.search(r"\d{4}-\d{2}-\d{2}T", s)], summaries


def test_a_preferred_call_time_longer_than_the_event_takes_is_refused_by_name():
    assert new_request(preferred_call_times=["  " + "x" * 200 + "  "]).preferred_call_times == ["x" * 200]
    with pytest.raises(InvalidInput) as err:
        new_request(preferred_call_times=["x" * 201])
    assert err.value.field == "preferred_call_times" and err.value.rule == "call_time_too_long"
