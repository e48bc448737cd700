"""Builders for tests and benchmarks: actors, a well-formed memo, and a request driven to any status.

Lives in the package (not under tests/) so unit tests, integration tests and the bench share it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from .domain.clock import ServiceLevels
from .domain.model import (
    Actor,
    CityRef,
    Consent,
    DeclineReason,
    ExpertRef,
    FollowUpOutcome,
    QuestionDraft,
    Role,
    Topic,
)
from .domain.request import Request
from .domain.states import Action, Status, allowed

CITY = CityRef(id="city-flint", name="Flint", us_state="MI", eligible=True)
OTHER_CITY = CityRef(id="city-gary", name="Gary", us_state="IN", eligible=True)
OFFICIAL = Actor(id="off-1", kind="official", roles=frozenset({Role.official}), city_id=CITY.id, verified=True,
                 name="Olive Official")
OTHER_OFFICIAL = Actor(id="off-2", kind="official", roles=frozenset({Role.official}), city_id=OTHER_CITY.id,
                       verified=True)
LEAD = Actor(id="lead-1", kind="staff", roles=frozenset({Role.triage_lead}), name="Tara Lead")
EXPERT = Actor(id="exp-1", kind="staff", roles=frozenset({Role.subject_matter_expert}), name="Eve Expert")
EXPERT_2 = Actor(id="exp-2", kind="staff", roles=frozenset({Role.subject_matter_expert}), name="Ed Expert")
REVIEWER = Actor(id="rev-1", kind="staff", roles=frozenset({Role.reviewer}), name="Rita Reviewer")
PM = Actor(id="pm-1", kind="staff", roles=frozenset({Role.program_manager}), name="Pat Manager")
ADMIN = Actor(id="adm-1", kind="staff", roles=frozenset({Role.administrator}), name="Ada Admin")
CURATOR = Actor(id="cur-1", kind="staff", roles=frozenset({Role.curator}), name="Cy Curator")

T0 = datetime(2025, 3, 3, 14, 0, tzinfo=UTC)  # a Monday, 09:00 in New York
LEVELS = ServiceLevels()


def question(**overrides: object) -> QuestionDraft:
    data: dict[str, object] = dict(
        title="How do we fund lead service line replacement?",
        question="Which funding sources can a city our size combine to replace 8,000 lead service lines?",
        context="We applied for a state revolving fund loan and were waitlisted.",
        desired_outcome="A financing plan we can take to council.",
        topic=Topic.finance_budgets,
        preferred_call_times=["Weekday mornings"],
        consent=Consent.anonymous,
    )
    data.update(overrides)
    return QuestionDraft.model_validate(data)


def memo_body(words: int = 1_000) -> str:
    """A memo with every section and about `words` words."""
    filler_words = max(words - 40, 0)
    per = filler_words // 5
    para = lambda n: " ".join(["capacity"] * n)  # noqa: E731
    return "\n\n".join([
        "# Memo: funding lead service line replacement",
        "## Question", "Which sources can the city combine? " + para(per),
        "## Short answer", "Combine the state revolving fund with federal grants. " + para(per),
        "## Options, with examples from other cities", "- Newark used bonds. " + para(per),
        "## Resources", "- [EPA guide](https://www.epa.gov/) " + para(per),
        "## Next steps", "1. Call the state program office. " + para(filler_words - 4 * per),
    ])


def new_request(now: datetime = T0, request_id: str = "req-1", **overrides: object) -> Request:
    return Request.submit(request_id=request_id, draft=question(**overrides), actor=OFFICIAL, city=CITY,
                          now=now, service_levels=LEVELS)


class Scenario:
    """Drives one request through the lifecycle with a hand-cranked clock."""

    def __init__(self, start: datetime = T0, request_id: str = "req-1") -> None:
        self.now = start
        self.req = new_request(start, request_id)

    def tick(self, delta: timedelta = timedelta(minutes=5)) -> datetime:
        self.now += delta
        return self.now

    def expert_actor(self) -> Actor:
        if self.req.expert_id == EXPERT_2.id:
            return EXPERT_2
        return EXPERT

    def future_open_slot(self) -> str | None:
        for s in self.req.call_slots:
            if not s.withdrawn and not s.taken and s.starts_at > self.now:
                return s.id
        return None

    def perform(self, action: Action) -> None:
        """Take `action` with valid arguments for the request as it stands."""
        r = self.req
        if action is Action.triage:
            r.triage(actor=LEAD, now=self.tick(), topic=Topic.housing, note="confirmed with the city")
        elif action is Action.request_information:
            r.request_information(actor=LEAD, now=self.tick(), question="What is the annual capital budget?")
        elif action is Action.provide_information:
            r.provide_information(actor=OFFICIAL, now=self.tick(hours(4)), answer="$12M a year.")
        elif action is Action.decline:
            r.decline(actor=LEAD, now=self.tick(), reason=DeclineReason.out_of_scope,
                      explanation="This is a legal question; we referred you to the state AG.")
        elif action is Action.assign:
            expert = EXPERT_2 if r.expert_id == EXPERT.id else EXPERT
            r.assign(actor=LEAD, now=self.tick(), expert=ExpertRef(id=expert.id, name=expert.name),
                     reason="Rebalancing workload" if r.expert_id else "")
        elif action is Action.unassign:
            r.unassign(actor=LEAD, now=self.tick(), reason="The expert is on leave this month.")
        elif action is Action.draft_memo:
            r.draft_memo(actor=self.expert_actor(), now=self.tick(), body=memo_body())
        elif action is Action.submit_memo:
            r.submit_memo(actor=self.expert_actor(), now=self.tick())
        elif action is Action.approve_memo:
            r.approve_memo(actor=REVIEWER, now=self.tick())
        elif action is Action.return_memo:
            r.return_memo(actor=REVIEWER, now=self.tick(), comments=["Add an example from a Midwestern city."])
        elif action is Action.deliver_memo:
            r.deliver_memo(actor=PM, now=self.tick())
        elif action is Action.offer_slots:
            base = self.now + timedelta(days=2)
            r.offer_slots(actor=self.expert_actor(), now=self.tick(),
                          slots=[(base, 30), (base + timedelta(days=1), 45), (base + timedelta(days=2), 30)])
        elif action is Action.pick_slot:
            slot = self.future_open_slot()
            if slot is None and allowed(Action.offer_slots, r.status):
                self.perform(Action.offer_slots)
                slot = self.future_open_slot()
            r.pick_slot(actor=OFFICIAL, now=self.tick(), slot_id=slot or "s-none")
        elif action in (Action.complete_call, Action.miss_call):
            if r.calls and r.calls[-1].outcome == "scheduled":
                self.now = max(self.now, r.calls[-1].starts_at + timedelta(minutes=30))
            if action is Action.complete_call:
                r.complete_call(actor=self.expert_actor(), now=self.tick(), summary="Walked through the options.",
                                next_steps=["Apply to the state program by May", "Brief council"])
            else:
                r.miss_call(actor=self.expert_actor(), now=self.tick(), missed_by="official")
        elif action is Action.reschedule_call:
            r.reschedule_call(actor=OFFICIAL, now=self.tick(), reason="The council meets then.",
                              preferred_call_times=["Tuesday mornings"])
        elif action is Action.cancel_call:
            r.cancel_call(actor=OFFICIAL, now=self.tick(), reason="The memo answers it; no call needed.")
        elif action is Action.close:
            r.close(actor=PM, now=self.tick())
        elif action is Action.give_feedback:
            r.give_feedback(actor=OFFICIAL, now=self.tick(), rating=5, comment="Very useful")
        elif action is Action.record_follow_up:
            if r.follow_up_due_at is not None:
                self.now = max(self.now, r.follow_up_due_at)
            r.record_follow_up(actor=PM, now=self.tick(), outcome=FollowUpOutcome.acted,
                               description="Applied and was funded.")
        elif action is Action.reopen:
            r.reopen(actor=OFFICIAL, now=self.tick(), reason="The state changed its program rules.")
        elif action is Action.change_consent:
            consent = Consent.named if r.consent is not Consent.named else Consent.none
            r.change_consent(actor=OFFICIAL, now=self.tick(), consent=consent)
        elif action is Action.add_note:
            r.add_note(actor=LEAD, now=self.tick(), text="The mayor's office called about this one.")
        else:  # pragma: no cover - every action is listed above
            raise AssertionError(action)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


# the shortest path from submission to each status
PATHS: dict[Status, list[Action]] = {
    Status.submitted: [],
    Status.triaged: [Action.triage],
    Status.awaiting_information: [Action.triage, Action.request_information],
    Status.assigned: [Action.triage, Action.assign, Action.offer_slots],
    Status.declined: [Action.decline],
}
_A = PATHS[Status.assigned]
PATHS[Status.memo_drafted] = _A + [Action.draft_memo]
PATHS[Status.memo_in_review] = PATHS[Status.memo_drafted] + [Action.submit_memo]
PATHS[Status.memo_returned] = PATHS[Status.memo_in_review] + [Action.return_memo]
PATHS[Status.memo_approved] = PATHS[Status.memo_in_review] + [Action.approve_memo]
PATHS[Status.memo_delivered] = PATHS[Status.memo_approved] + [Action.deliver_memo]
PATHS[Status.call_scheduled] = PATHS[Status.memo_delivered] + [Action.pick_slot]
PATHS[Status.call_completed] = PATHS[Status.call_scheduled] + [Action.complete_call]
PATHS[Status.call_missed] = PATHS[Status.call_scheduled] + [Action.miss_call]
PATHS[Status.closed] = PATHS[Status.call_completed] + [Action.close]
PATHS[Status.reopened] = PATHS[Status.closed] + [Action.reopen]


def scenario_at(status: Status, start: datetime = T0, request_id: str = "req-1") -> Scenario:
    sc = Scenario(start, request_id)
    for action in PATHS[status]:
        sc.perform(action)
    assert sc.req.status is status, (status, sc.req.status)
    return sc


def fixed_clock(at: datetime) -> Callable[[], datetime]:
    return lambda: at
