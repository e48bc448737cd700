"""What a help desk team needs of a request: urgency on the clocks, reassignment with a reason, the
memo as typed kept between saves, a confirmed send of an incomplete memo, keyword search terms, and
people named (never ids) in what a page shows."""

from __future__ import annotations

import pytest
from nrn_contracts.events import requests311 as ev

from requests311.api import SYSTEM_NAMES, name_people, people_in
from requests311.domain import search
from requests311.domain.clock import ServiceLevels, Step
from requests311.domain.errors import InvalidInput, InvalidTransition, NotPermitted, WorkingCopyChanged
from requests311.domain.model import ExpertRef, Topic, Urgency
from requests311.domain.states import Action, Status
from requests311.domain.views import staff_view
from requests311.testing import EXPERT, EXPERT_2, LEAD, LEVELS, OFFICIAL, PM, REVIEWER, new_request, scenario_at


# ---------------------------------------------------------------- urgency and the clocks


def test_urgent_questions_run_on_shorter_memo_and_call_clocks():
    levels = ServiceLevels()
    assert [levels.budget(Step.memo, u) for u in ("routine", "soon", "urgent")] == [10, 10, 4]
    assert [levels.budget(Step.call, u) for u in ("routine", "soon", "urgent")] == [5, 5, 2]
    assert [levels.budget(Step.acknowledge, u) for u in ("routine", "soon", "urgent")] == [1, 1, 0.5]
    configured = ServiceLevels.model_validate({"urgent": {"memo_business_days": 2}, "soon": {"memo_business_days": 7}})
    assert configured.budget(Step.memo, "urgent") == 2 and configured.budget(Step.call, "urgent") == 5
    assert configured.budget(Step.memo, "soon") == 7

    asked_urgent = new_request(urgency=Urgency.urgent)
    assert asked_urgent.clocks[Step.memo].budget_business_days == 4
    assert asked_urgent.clocks[Step.acknowledge].budget_business_days == 0.5


def test_triage_marking_a_question_urgent_shortens_its_running_clocks():
    sc = scenario_at(Status.submitted)
    due_before = sc.req.sla_index(sc.now)["next_due_at"]
    memo_due_before = next(v.due_at for v in sc.req.service_level_views(sc.now) if v.step is Step.memo)
    sc.req.triage(actor=LEAD, now=sc.tick(), topic=Topic.housing, urgency=Urgency.urgent)
    assert sc.req.clocks[Step.memo].budget_business_days == 4
    memo_due = next(v.due_at for v in sc.req.service_level_views(sc.now) if v.step is Step.memo)
    assert memo_due < memo_due_before and due_before is not None
    assert sc.req.timeline[-1].summary == (
        "Triaged as Housing (topic changed from Finance and budgets; marked urgent: memo 4 business days)")
    assert sc.req.clocks[Step.acknowledge].budget_business_days == 1  # completed: kept what it had
    # back to routine: the allowance grows again; the same urgency twice changes nothing
    sc.req.triage(actor=LEAD, now=sc.tick(), topic=Topic.housing, urgency=Urgency.routine)
    assert sc.req.clocks[Step.memo].budget_business_days == 10
    sc.req.triage(actor=LEAD, now=sc.tick(), topic=Topic.housing, urgency=Urgency.routine)
    assert "marked" not in sc.req.timeline[-1].summary


def test_the_queue_knows_which_clock_is_next():
    sc = scenario_at(Status.submitted)
    assert sc.req.sla_index(sc.now)["next_due_step"] == "acknowledge"
    sc.req.triage(actor=LEAD, now=sc.tick(), topic=Topic.housing)
    assert sc.req.sla_index(sc.now)["next_due_step"] == "memo"
    delivered = scenario_at(Status.memo_delivered)
    assert delivered.req.sla_index(delivered.now)["next_due_step"] == "call"


# ---------------------------------------------------------------- assignment


def test_reassigning_needs_a_reason_and_says_who_it_replaces():
    sc = scenario_at(Status.memo_drafted)
    sc.req.pull_events()
    with pytest.raises(InvalidInput) as err:
        sc.req.assign(actor=LEAD, now=sc.tick(), expert=ExpertRef(id=EXPERT_2.id, name=EXPERT_2.name))
    assert err.value.field == "reason"
    sc.req.assign(actor=LEAD, now=sc.tick(), expert=ExpertRef(id=EXPERT_2.id, name=EXPERT_2.name),
                  reason="Eve is on leave")
    [event] = sc.req.pull_events()
    assert isinstance(event, ev.ExpertAssigned)
    assert (event.expert_id, event.previous_expert_id, event.reason) == (EXPERT_2.id, EXPERT.id, "Eve is on leave")
    assert sc.req.status is Status.memo_drafted and sc.req.assignments[-1].reason == "Eve is on leave"
    internal = sc.req.timeline[-1]
    assert not internal.public and internal.summary == "Reassigned from Eve Expert: Eve is on leave"


def test_unassigning_takes_the_expert_off_with_a_reason():
    sc = scenario_at(Status.memo_returned)
    sc.req.pull_events()
    with pytest.raises(NotPermitted):
        sc.req.unassign(actor=EXPERT, now=sc.tick(), reason="I cannot")
    with pytest.raises(InvalidInput):
        sc.req.unassign(actor=LEAD, now=sc.tick(), reason="   ")
    sc.req.unassign(actor=LEAD, now=sc.tick(), reason="Conflict of interest")
    [event] = sc.req.pull_events()
    assert isinstance(event, ev.ExpertUnassigned) and event.expert_id == EXPERT.id
    assert sc.req.status is Status.triaged and sc.req.expert_id is None
    assert sc.req.memo_versions  # the drafts stay for whoever comes next
    sc.req.assign(actor=PM, now=sc.tick(), expert=ExpertRef(id=EXPERT_2.id, name=EXPERT_2.name))
    assert sc.req.status is Status.assigned  # no one was replaced: no reason needed
    in_review = scenario_at(Status.memo_in_review)
    with pytest.raises(InvalidTransition):
        in_review.req.unassign(actor=LEAD, now=in_review.tick(), reason="Too late")


# ---------------------------------------------------------------- the memo as typed


def test_the_working_copy_is_kept_between_saves_and_never_overwritten_unknowingly():
    sc = scenario_at(Status.assigned)
    sc.req.pull_events()
    first = sc.req.autosave_memo(actor=EXPERT, now=sc.tick(), body="## Question\n\nHalf a thought", base_revision=0)
    assert first.revision == 1 and not sc.req.pull_events()
    second = sc.req.autosave_memo(actor=EXPERT, now=sc.tick(), body="## Question\n\nA whole thought", base_revision=1)
    assert second.revision == 2
    with pytest.raises(WorkingCopyChanged) as err:  # another tab still at revision 1
        sc.req.autosave_memo(actor=EXPERT, now=sc.tick(), body="stale", base_revision=1)
    assert err.value.rule == "working_copy_changed" and err.value.current_revision == 2
    with pytest.raises(NotPermitted):
        sc.req.autosave_memo(actor=EXPERT_2, now=sc.tick(), body="not mine", base_revision=2)
    assert staff_view(sc.req, sc.now).memo_working_copy.body == "## Question\n\nA whole thought"
    sc.req.draft_memo(actor=EXPERT, now=sc.tick(), body="## Question\n\nA whole thought")
    assert sc.req.memo_working_copy is None  # a version now
    review = scenario_at(Status.memo_in_review)
    with pytest.raises(InvalidTransition):
        review.req.autosave_memo(actor=EXPERT, now=review.tick(), body="x", base_revision=0)


# ---------------------------------------------------------------- search and names


def test_search_words_ignore_case_accents_plurals_and_leading_zeros():
    assert search.words("Lead Service LINES in Peñasco") == ["lead", "service", "line", "in", "penasco"]
    assert search.words("NRN-2026-00123") == ["nrn", "2026", "00123", "123"]
    assert search.words("class") == ["class"] and search.words("bus") == ["bus"]
    assert len(search.terms(["word%d" % i for i in range(1000)])) == search.MAX_TERMS


def test_people_are_named_never_shown_as_ids():
    sc = scenario_at(Status.memo_returned)
    sc.req.add_note(actor=LEAD, now=sc.tick(), text="Call the mayor's office first")
    body = staff_view(sc.req, sc.now).model_dump(mode="json")
    ids = people_in(sc.req)
    assert {OFFICIAL.id, LEAD.id, EXPERT.id, REVIEWER.id} <= ids and not ids & set(SYSTEM_NAMES)
    names = {OFFICIAL.id: "Olive Official", LEAD.id: "Tara Lead", EXPERT.id: "Eve Expert", REVIEWER.id: "Rita Reviewer"}
    name_people(body, names)
    assert {e["actor_name"] for e in body["timeline"]} == {"Olive Official", "Tara Lead", "Eve Expert", "Rita Reviewer"}
    assert body["notes"][-1]["by_name"] == "Tara Lead" and body["official_name"] == "Olive Official"
    assert body["memo_versions"][-1]["review_comments"][0]["by_name"] == "Rita Reviewer"
    assert body["memo_versions"][0]["author_name"] == "Eve Expert"
    name_people(body, {})  # nobody known yet: words, not ids
    assert {e["actor_name"] for e in body["timeline"]} == {"City official", "NRN staff"}


def test_an_unknown_urgency_in_old_documents_keeps_routine_allowances():
    assert LEVELS.budget(Step.memo, "whatever") == 10


# ---------------------------------------------------------------- calls


def test_slots_outside_the_citys_business_hours_need_a_confirmation():
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from requests311.domain.model import CallHours

    sc = scenario_at(Status.memo_delivered)
    sc.req.city_time_zone = "America/Chicago"  # the city's own zone: hours are read there
    hours = CallHours()
    central = ZoneInfo("America/Chicago")
    tuesday = datetime(2025, 3, 11, 9, 30, tzinfo=central)  # 10:30 in New York
    assert sc.req.outside_call_hours(tuesday, 30, hours) is None
    assert sc.req.outside_call_hours(tuesday.replace(hour=8), 30, hours) == (
        "8:30 AM–9:00 AM CDT is not within 9:00 AM–5:00 PM city time")
    assert "4:45 PM–5:15 PM CDT" in sc.req.outside_call_hours(tuesday.replace(hour=16, minute=45), 30, hours)
    assert sc.req.outside_call_hours(tuesday + timedelta(days=4), 30, hours) == "Saturday is a weekend day"
    assert "federal holiday" in sc.req.outside_call_hours(datetime(2025, 5, 26, 10, tzinfo=central), 30, hours)
    with pytest.raises(InvalidInput) as err:
        sc.req.offer_slots(actor=EXPERT, now=sc.tick(), slots=[(tuesday, 30), (tuesday.replace(hour=7), 30)],
                           call_hours=hours)
    assert err.value.rule == "slot_outside_business_hours" and err.value.field == "slots.1.starts_at"
    assert err.value.detail == ("slot 2 (Tue, Mar 11, 2025, 7:30 AM CDT) is outside the city's business hours "
                                "(7:30 AM–8:00 AM CDT is not within 9:00 AM–5:00 PM city time); confirm to offer it "
                                "anyway")
    offered = sc.req.offer_slots(actor=EXPERT, now=sc.tick(), slots=[(tuesday, 30), (tuesday.replace(hour=7), 30)],
                                 call_hours=hours, outside_hours_confirmed=True, meeting="Dial 1-800-555-0100, code 42")
    assert [s.meeting for s in offered] == ["Dial 1-800-555-0100, code 42"] * 2
    call = sc.req.pick_slot(actor=OFFICIAL, now=sc.tick(), slot_id=offered[-1].id)  # offered in time order
    assert call.meeting == "Dial 1-800-555-0100, code 42"
    assert sc.req.timeline[-1].summary == "Call scheduled for Tue, Mar 11, 2025, 9:30 AM CDT"  # the city's time


def test_staff_move_or_cancel_a_booked_call_with_a_reason():
    sc = scenario_at(Status.call_scheduled)
    sc.req.pull_events()
    with pytest.raises(InvalidInput) as err:
        sc.req.reschedule_call(actor=EXPERT, now=sc.tick(), reason="")
    assert err.value.field == "reason"
    sc.req.reschedule_call(actor=EXPERT, now=sc.tick(), reason="I am called to testify that day")
    [event] = sc.req.pull_events()
    assert isinstance(event, ev.CallRescheduleRequested) and event.by == EXPERT.id
    assert sc.req.status is Status.memo_delivered and sc.req.calls[-1].outcome == "reschedule_requested"
    assert sc.req.timeline[-1].summary == "NRN asked to move the call: I am called to testify that day"
    sc.perform(Action.pick_slot)
    sc.req.cancel_call(actor=PM, now=sc.tick(), reason="The city's memo answers it; no call needed")
    assert sc.req.calls[-1].outcome == "cancelled" and sc.req.status is Status.memo_delivered
    with pytest.raises(NotPermitted):
        other = scenario_at(Status.call_scheduled)
        other.req.cancel_call(actor=EXPERT_2, now=other.tick(), reason="Not my request")
    with pytest.raises(NotPermitted):
        other.req.cancel_call(actor=REVIEWER, now=other.tick(), reason="Not my role")
