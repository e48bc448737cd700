"""The Request aggregate: one official's question, from submission to follow-up.

Every action checks (1) the status (the table in `states`), (2) who may act, (3) the
action's own preconditions, and only then changes the record and raises contract
events. Time always comes in as `now`; the service-level snapshot taken at submission
decides due dates, so a later configuration change is not retroactive.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal
from zoneinfo import ZoneInfo

from nrn_contracts import Event
from nrn_contracts.events import requests311 as ev
from nrn_kit.localtime import us_datetime, us_time
from pydantic import BaseModel, Field, PrivateAttr

from . import memo as memo_rules
from .calendar import is_business_day
from .clock import Pause, ServiceLevels, SlaStatus, Step, StepClock, StepView, evaluate
from .errors import InvalidInput, InvalidTransition, NotPermitted, VersionConflict, WorkingCopyChanged
from .model import (
    Actor,
    Assignment,
    Call,
    CallHours,
    CallSlot,
    CityRef,
    Consent,
    Decline,
    DeclineReason,
    ExpertRef,
    Feedback,
    FollowUp,
    FollowUpOutcome,
    InformationRequest,
    MemoVersion,
    Note,
    PublicRecord,
    QuestionDraft,
    ReviewComment,
    TOPIC_LABELS,
    Role,
    TimelineEntry,
    Topic,
    Urgency,
    WorkingCopy,
)
from .states import RESUME, RULES, STAY, TRANSITIONS, Action, Status

FOLLOW_UP_AFTER = timedelta(days=90)
REOPEN_WITHIN = timedelta(days=30)
CALL_TIME_LIMIT = 200  # as the QuestionSubmitted event takes them
# timeline actions by staff that do not answer a reopened request: the reopening itself, internal notes
_NOT_A_RESPONSE = frozenset({"reopened", "note_added"})
MAX_TEXT = 10_000
MAX_SLOTS_PER_OFFER = 10

R = Role
# who may take each action; "assigned_expert" means the expert on the request (admins may always act)
# (a refinement of nrn_kit.auth's matrix: request.triage, memo.draft, memo.review, call.schedule)
PERMISSIONS: dict[Action, frozenset[Role | str]] = {
    Action.triage: frozenset({R.triage_lead, R.program_manager}),
    Action.request_information: frozenset({R.triage_lead, R.program_manager, "assigned_expert"}),
    Action.provide_information: frozenset({R.official}),
    Action.decline: frozenset({R.triage_lead, R.program_manager}),
    Action.assign: frozenset({R.triage_lead, R.program_manager}),
    Action.unassign: frozenset({R.triage_lead, R.program_manager}),
    Action.draft_memo: frozenset({"assigned_expert"}),
    Action.submit_memo: frozenset({"assigned_expert"}),
    Action.approve_memo: frozenset({R.reviewer, R.program_manager}),
    Action.return_memo: frozenset({R.reviewer, R.program_manager}),
    Action.deliver_memo: frozenset({R.reviewer, R.program_manager, "assigned_expert"}),
    Action.offer_slots: frozenset({"assigned_expert", R.program_manager}),
    Action.pick_slot: frozenset({R.official, R.triage_lead, R.program_manager}),
    Action.complete_call: frozenset({"assigned_expert", R.program_manager}),
    Action.miss_call: frozenset({"assigned_expert", R.program_manager}),
    Action.reschedule_call: frozenset({R.official, "assigned_expert", R.program_manager, R.triage_lead}),
    Action.cancel_call: frozenset({R.official, "assigned_expert", R.program_manager, R.triage_lead}),
    Action.close: frozenset({"assigned_expert", R.program_manager, R.triage_lead}),
    Action.give_feedback: frozenset({R.official}),
    Action.record_follow_up: frozenset({R.official, R.program_manager, R.triage_lead}),
    Action.reopen: frozenset({R.official, R.program_manager}),
    Action.change_consent: frozenset({R.official}),
    Action.add_note: frozenset(
        {R.triage_lead, R.subject_matter_expert, R.reviewer, R.program_manager}
    ),
}


FOLLOW_UP_NOTES = {
    FollowUpOutcome.acted: "The city acted on the advice.",
    FollowUpOutcome.partly: "The city partly acted on the advice.",
    FollowUpOutcome.not_acted: "The city has not acted on the advice.",
}
CallParty = Literal["official", "expert", "both", "unknown"]


def _words(value: StrEnum) -> str:
    return value.value.replace("_", " ")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def short_answer(body: str) -> str:
    """The memo's short-answer section for the public record (its first paragraphs, at most 2,000 characters)."""
    section = memo_rules.parse_sections(body).get(memo_rules.Section.short_answer, "").strip()
    if not section:
        section = next((p.strip() for p in body.split("\n\n") if p.strip() and not p.lstrip().startswith("#")),
                       body.strip())
    return _clip(section, 2_000)


def _text(value: str, field: str, *, limit: int = MAX_TEXT, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(f"{field}_required", f"{field} must not be empty", field=field)
    if len(value) > limit:
        raise InvalidInput(f"{field}_too_long", f"{field} is longer than {limit} characters", field=field)
    return value


class Request(BaseModel):
    id: str
    # What people quote ("NRN-2026-00123"): numbered per year in submission order at submission
    reference: str | None = None
    # The optimistic-concurrency version people act on (ETag, If-Match, `version`): it moves only when a
    # person's command changes the request. Background facts (the library publishing the answer, a
    # service-level breach found by the sweep) move `revision` alone, so they never make a person's
    # write fail with 409. Every write moves `revision`, the guard between concurrent writers.
    version: int = 0
    revision: int = 0
    status: Status
    city_id: str
    city_name: str
    us_state: str
    city_time_zone: str | None = None  # IANA; the call is shown and booked in the city's own time
    official_id: str
    title: str
    question: str
    context: str
    desired_outcome: str
    topic: Topic
    urgency: str
    preferred_call_times: list[str]
    consent: Consent
    submitted_at: datetime
    service_levels: ServiceLevels
    triaged_by: str | None = None
    triaged_at: datetime | None = None
    information_requests: list[InformationRequest] = Field(default_factory=list)
    expert_id: str | None = None
    expert_name: str | None = None
    assignments: list[Assignment] = Field(default_factory=list)
    memo_versions: list[MemoVersion] = Field(default_factory=list)
    memo_working_copy: WorkingCopy | None = None
    call_slots: list[CallSlot] = Field(default_factory=list)
    calls: list[Call] = Field(default_factory=list)
    declined: Decline | None = None
    closed_at: datetime | None = None
    closures: int = 0
    feedback: list[Feedback] = Field(default_factory=list)
    follow_up: FollowUp | None = None
    reopened_at: list[datetime] = Field(default_factory=list)
    notes: list[Note] = Field(default_factory=list)
    published: PublicRecord | None = None
    clocks: dict[Step, StepClock] = Field(default_factory=dict)
    pauses: list[Pause] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)

    _events: list[Event] = PrivateAttr(default_factory=list)

    # ------------------------------------------------------------------ plumbing
    def pull_events(self) -> list[Event]:
        events, self._events = self._events, []
        return events

    @property
    def pending_events(self) -> Sequence[Event]:
        return tuple(self._events)

    def ensure_version(self, expected: int | None) -> None:
        if expected is not None and expected != self.version:
            raise VersionConflict(expected, self.version)

    def _raise(self, event: ev.Event) -> None:
        self._events.append(event)

    def _log(self, now: datetime, action: str, actor: Actor, summary: str, *, public: bool = True) -> None:
        self.timeline.append(
            TimelineEntry(at=now, action=action, actor_id=actor.id, actor_kind=actor.kind,
                          summary=summary, public=public)
        )
        if actor.kind == "staff" and action not in _NOT_A_RESPONSE:
            # staff working the request answers a reopening; only a reopened request has this clock
            self._complete_clock(Step.response_after_reopen, now)

    def _guard(self, action: Action, actor: Actor) -> Status | str | None:
        """Status first (the rule clients most need to see), then who is acting."""
        targets = TRANSITIONS[action]
        if self.status not in targets:
            raise InvalidTransition(
                RULES[action], f"cannot {action.value.replace('_', ' ')} while the request is {self.status.value}"
            )
        self._authorise(action, actor)
        return targets[self.status]

    def _authorise(self, action: Action, actor: Actor) -> None:
        allowed = PERMISSIONS[action]
        if actor.kind == "official":
            if R.official not in allowed:
                raise NotPermitted("staff_only_action", f"officials cannot {action.value.replace('_', ' ')}")
            if not actor.verified:
                raise NotPermitted("official_must_be_verified", "the official's account is not verified yet")
            if actor.city_id != self.city_id:
                raise NotPermitted("officials_act_only_on_their_city", "this request belongs to another city")
            return
        if actor.kind == "system":
            raise NotPermitted("no_system_actions", "the system cannot take this action")
        if Role.administrator in actor.roles:
            return
        if actor.roles & {r for r in allowed if isinstance(r, Role)}:
            return
        if "assigned_expert" in allowed and Role.subject_matter_expert in actor.roles:
            if actor.id == self.expert_id:
                return
            raise NotPermitted("only_the_assigned_expert", "only the expert assigned to this request may do this")
        raise NotPermitted(
            "role_required",
            f"{action.value.replace('_', ' ')} needs one of: "
            + ", ".join(sorted(str(r) for r in allowed)),
        )

    def _move(self, target: Status | str | None) -> None:
        if target is STAY:
            return
        if target == RESUME:
            self.status = Status(self.information_requests[-1].resume_status)
            return
        assert isinstance(target, Status)
        self.status = target

    def _local(self, at: datetime) -> str:
        """An instant as people read it in a timeline: the city's time zone when known (else the service's), named."""
        return us_datetime(at, self.call_zone)  # "Thu, Dec 3, 2026, 2:00 PM CST"

    def _by(self, actor: Actor, now: datetime) -> dict[str, Any]:
        return {"request_id": self.id, "by": actor.id, "at": now}

    # ------------------------------------------------------------------ clock
    def _start_clock(self, step: Step, now: datetime) -> None:
        self.clocks[step] = StepClock(
            step=step, started_at=now, budget_business_days=self.service_levels.budget(step, self.urgency)
        )

    def _rebudget(self) -> list[str]:
        """After the urgency changed: the running clocks take the allowances of the new urgency (a step
        already completed keeps what it had). Returns what changed, in words, for the timeline."""
        changed = []
        for clock in self.clocks.values():
            if not clock.open:
                continue
            budget = self.service_levels.budget(clock.step, self.urgency)
            if budget != clock.budget_business_days:
                clock.budget_business_days = budget
                changed.append(f"{clock.step.value.replace('_', ' ')} {budget:g} business day"
                               + ("" if budget == 1 else "s"))
        return changed

    def _complete_clock(self, step: Step, now: datetime) -> None:
        clock = self.clocks.get(step)
        if clock is None or not clock.open:
            return
        clock.completed_at = now
        # a step finished late that the sweeper had not caught yet still breaches, once
        self._breach_if_due(clock, now)

    def _breach_if_due(self, clock: StepClock, now: datetime) -> None:
        if clock.breach_raised:
            return
        view = evaluate(clock, self.pauses, now, self.service_levels)
        if view.status is SlaStatus.overdue and view.due_at is not None:
            clock.breach_raised = True
            self._raise(ev.ServiceLevelBreached(
                request_id=self.id, step=clock.step.value, due_at=view.due_at, breached_at=now,
            ))
            self.timeline.append(TimelineEntry(
                at=now, action="service_level_breached", actor_id="requests311", actor_kind="system",
                summary=f"{clock.step.value} step overdue (due {view.due_at.isoformat()})", public=False,
            ))

    def check_service_levels(self, now: datetime) -> list[Step]:
        """Raise `ServiceLevelBreached` for each step that is overdue now and was not reported yet."""
        breached = []
        for clock in self.clocks.values():
            before = clock.breach_raised
            if clock.cancelled_at is None:
                self._breach_if_due(clock, now)
            if clock.breach_raised and not before:
                breached.append(clock.step)
        return breached

    def service_level_views(self, now: datetime) -> list[StepView]:
        return [evaluate(c, self.pauses, now, self.service_levels) for c in self.clocks.values()]

    def sla_index(self, now: datetime) -> dict[str, Any]:
        """Fields stored beside the document so that queues and the breach sweep are index queries.

        A running step's due date is fixed until the next pause, and every pause or resume
        rewrites these fields, so storing them is safe.
        """
        running = [v for v in self.service_level_views(now) if v.completed_at is None and not v.cancelled]
        due = [v.due_at for v in running if v.due_at is not None]
        risk = [v.at_risk_at for v in running if v.at_risk_at is not None]
        unbreached = [
            v.due_at for v in running
            if v.due_at is not None and not self.clocks[v.step].breach_raised
        ]
        next_step = min(((v.due_at, v.step.value) for v in running if v.due_at is not None), default=(None, None))[1]
        return {
            "next_due_step": next_step,
            "next_due_at": min(due, default=None),
            "next_at_risk_at": min(risk, default=None),
            "next_breach_check_at": min(unbreached, default=None),
            "paused": any(v.paused for v in running),
        }

    # ------------------------------------------------------------------ 1. ask
    @classmethod
    def submit(
        cls,
        *,
        request_id: str,
        draft: QuestionDraft,
        actor: Actor,
        city: CityRef,
        now: datetime,
        service_levels: ServiceLevels,
        reference: str | None = None,
    ) -> Request:
        if actor.kind != "official":
            raise NotPermitted("only_officials_submit", "only a city official can submit a question")
        if not actor.verified:
            raise NotPermitted("official_must_be_verified", "the official's account is not verified yet")
        if actor.city_id != city.id:
            raise NotPermitted("officials_act_only_on_their_city", "officials submit for their own city")
        if not city.eligible:
            raise NotPermitted("city_must_be_eligible", f"{city.name} is not an eligible city", field="city_id")
        title = _text(draft.title, "title", limit=200)
        question = _text(draft.question, "question")
        call_times = [t.strip() for t in draft.preferred_call_times if t.strip()]
        if any(len(t) > CALL_TIME_LIMIT for t in call_times):
            raise InvalidInput("call_time_too_long", f"each preferred call time has at most {CALL_TIME_LIMIT} "
                               "characters", field="preferred_call_times")
        req = cls(
            id=request_id,
            reference=reference,
            status=Status.submitted,
            city_id=city.id,
            city_name=city.name,
            us_state=city.us_state,
            city_time_zone=city.time_zone,
            official_id=actor.id,
            title=title,
            question=question,
            context=draft.context.strip(),
            desired_outcome=draft.desired_outcome.strip(),
            topic=draft.topic,
            urgency=draft.urgency.value,
            preferred_call_times=call_times,
            consent=draft.consent,
            submitted_at=now,
            service_levels=service_levels,
        )
        req._start_clock(Step.acknowledge, now)
        req._start_clock(Step.memo, now)
        req._log(now, "submitted", actor, f"Question submitted: {title}")
        req._raise(ev.QuestionSubmitted(
            request_id=req.id, city_id=city.id, official_id=actor.id, title=title, question=question,
            context=req.context or None, outcome_wanted=req.desired_outcome or None,
            topic=req.topic.value, urgency=req.urgency, preferred_call_times=tuple(req.preferred_call_times),
            consent_to_publish=req.consent.value, submitted_at=now, state=city.us_state, reference=reference,
        ))
        return req

    # ------------------------------------------------------------------ 2. triage
    def triage(
        self, *, actor: Actor, now: datetime, topic: Topic, urgency: Urgency | None = None, note: str = ""
    ) -> None:
        target = self._guard(Action.triage, actor)
        note = _text(note, "note", required=False)
        previous = self.topic
        self.topic = topic
        self.triaged_by, self.triaged_at = actor.id, now
        self._complete_clock(Step.acknowledge, now)
        budgets: list[str] = []
        if urgency is not None and urgency.value != self.urgency:
            self.urgency = urgency.value
            budgets = self._rebudget()  # urgent questions run on shorter memo and call clocks
        if note:
            self.notes.append(Note(by=actor.id, at=now, text=note))
        self._move(target)
        said = ([f"topic changed from {TOPIC_LABELS[previous]}"] if previous != topic else []) + (
            [f"marked {self.urgency}: {', '.join(budgets)}"] if budgets else [])
        self._log(now, "triaged", actor, f"Triaged as {TOPIC_LABELS[topic]}" + (f" ({'; '.join(said)})" if said else ""))
        self._raise(ev.QuestionTriaged(
            **self._by(actor, now), topic=topic.value, urgency=self.urgency, notes=note or None,
        ))

    def request_information(self, *, actor: Actor, now: datetime, question: str) -> None:
        target = self._guard(Action.request_information, actor)
        question = _text(question, "question")
        self.information_requests.append(InformationRequest(
            number=len(self.information_requests) + 1, asked_by=actor.id, asked_at=now,
            question=question, resume_status=self.status.value,
        ))
        self._complete_clock(Step.acknowledge, now)
        self.pauses.append(Pause(started_at=now))
        self._move(target)
        self._log(now, "information_requested", actor, f"More information requested: {question}")
        self._raise(ev.InformationRequested(**self._by(actor, now), message=question))

    def provide_information(self, *, actor: Actor, now: datetime, answer: str) -> None:
        target = self._guard(Action.provide_information, actor)
        answer = _text(answer, "answer")
        pending = self.information_requests[-1]
        pending.answer, pending.answered_by, pending.answered_at = answer, actor.id, now
        self.pauses[-1].ended_at = now
        self._move(target)
        self._log(now, "information_provided", actor, "The city provided the information requested")
        self._raise(ev.InformationProvided(**self._by(actor, now), message=answer))

    def decline(
        self, *, actor: Actor, now: datetime, reason: DeclineReason, explanation: str = "",
        duplicate_of: str | None = None,
    ) -> None:
        target = self._guard(Action.decline, actor)
        explanation = _text(explanation, "explanation", required=reason is DeclineReason.other)
        if reason is DeclineReason.duplicate:
            if not duplicate_of:
                raise InvalidInput("duplicate_needs_link", "a duplicate must link the answered question",
                                   field="duplicate_of")
            if duplicate_of == self.id:
                raise InvalidInput("duplicate_of_itself", "a request cannot duplicate itself",
                                   field="duplicate_of")
        elif duplicate_of:
            raise InvalidInput("link_only_for_duplicates", "duplicate_of is only for reason=duplicate",
                               field="duplicate_of")
        self.declined = Decline(reason=reason, explanation=explanation, duplicate_of=duplicate_of,
                                by=actor.id, at=now)
        self._complete_clock(Step.acknowledge, now)
        for clock in self.clocks.values():
            if clock.open:
                clock.cancelled_at = now
        if self.pauses and self.pauses[-1].ended_at is None:
            self.pauses[-1].ended_at = now
        self._move(target)
        self._log(now, "declined", actor, f"Declined: {_words(reason)}" + (f" — {explanation}" if explanation else ""))
        self._raise(ev.QuestionDeclined(
            **self._by(actor, now), reason=reason.value, referral=explanation or None, duplicate_of=duplicate_of,
        ))

    def assign(self, *, actor: Actor, now: datetime, expert: ExpertRef, reason: str = "") -> None:
        """Make `expert` responsible for the memo; replacing another expert (a reassignment) needs a reason."""
        target = self._guard(Action.assign, actor)
        if expert.id == self.expert_id:
            raise InvalidInput("expert_already_assigned", "this expert is already assigned", field="expert_id")
        previous, previous_name = self.expert_id, self.expert_name
        reason = _text(reason, "reason", limit=5_000, required=previous is not None)
        self.expert_id, self.expert_name = expert.id, expert.name
        self.assignments.append(Assignment(expert_id=expert.id, expert_name=expert.name, by=actor.id, at=now,
                                           reason=reason or None))
        self._move(target)
        self._log(now, "expert_assigned", actor, f"Expert assigned: {expert.name or expert.id}")
        if previous is not None:
            self._log(now, "expert_reassigned", actor,
                      f"Reassigned from {previous_name or 'the previous expert'}: {reason}", public=False)
        memo_clock = self.clocks.get(Step.memo)
        due = evaluate(memo_clock, self.pauses, now, self.service_levels).due_at if memo_clock else None
        self._raise(ev.ExpertAssigned(**self._by(actor, now), expert_id=expert.id, due_at=due,
                                      previous_expert_id=previous, reason=reason or None))

    def unassign(self, *, actor: Actor, now: datetime, reason: str) -> None:
        """Take the expert off the request (ill, conflicted, wrong expertise); it waits for another."""
        target = self._guard(Action.unassign, actor)
        if self.expert_id is None:
            raise InvalidInput("no_expert_assigned", "no expert is assigned to this request", field="expert_id")
        reason = _text(reason, "reason", limit=5_000)
        expert_id, name = self.expert_id, self.expert_name
        self.expert_id, self.expert_name = None, None
        self._move(target)
        self._log(now, "expert_unassigned", actor, f"{name or 'The expert'} taken off the request: {reason}",
                  public=False)
        self._raise(ev.ExpertUnassigned(**self._by(actor, now), expert_id=expert_id, reason=reason))

    # ------------------------------------------------------------------ 3. memo
    @property
    def current_memo(self) -> MemoVersion | None:
        return self.memo_versions[-1] if self.memo_versions else None

    @property
    def delivered_memo(self) -> MemoVersion | None:
        delivered = [m for m in self.memo_versions if m.state == "delivered"]
        return delivered[-1] if delivered else None

    def draft_memo(self, *, actor: Actor, now: datetime, body: str) -> memo_rules.MemoCheck:
        target = self._guard(Action.draft_memo, actor)
        body = _text(body, "body", limit=memo_rules.MAX_MEMO_CHARS)
        checked = memo_rules.check(body)
        version = MemoVersion(
            number=len(self.memo_versions) + 1, body=body, author_id=actor.id, drafted_at=now,
            word_count=checked.word_count, flags=checked.flags,
        )
        self.memo_versions.append(version)
        self.memo_working_copy = None  # saved as a version now
        self._move(target)
        self._log(now, "memo_drafted", actor, f"Memo version {version.number} drafted", public=False)
        self._raise(ev.MemoDrafted(
            **self._by(actor, now), version=version.number, word_count=checked.word_count,
            flagged_length=checked.length_flagged,
        ))
        return checked

    def autosave_memo(self, *, actor: Actor, now: datetime, body: str, base_revision: int) -> WorkingCopy:
        """Keep what the expert is typing (the editor saves as they go). Not a version and not an event:
        "Save draft" makes the version. `base_revision` is the working copy's revision the editor started
        from (0: none); another save since then is refused (409 `working_copy_changed`) rather than lost."""
        self._guard(Action.draft_memo, actor)
        body = _text(body, "body", limit=memo_rules.MAX_MEMO_CHARS, required=False)
        current = self.memo_working_copy.revision if self.memo_working_copy else 0
        if base_revision != current:
            raise WorkingCopyChanged(base_revision, current)
        self.memo_working_copy = WorkingCopy(body=body, by=actor.id, saved_at=now, revision=current + 1)
        return self.memo_working_copy

    def submit_memo(self, *, actor: Actor, now: datetime, accept_incomplete: bool = False) -> None:
        """Send the latest version for review. A memo missing a section (or with one left empty) is
        refused unless the expert confirms it (`accept_incomplete`): the reviewer then sees what was missing."""
        target = self._guard(Action.submit_memo, actor)
        memo = self.current_memo
        assert memo is not None  # memo_drafted implies a version
        checked = memo_rules.check(memo.body)
        gaps = ", ".join(s.value.replace("_", " ") for s in checked.missing_sections + checked.empty_sections)
        if not checked.complete and not accept_incomplete:
            raise InvalidInput("memo_sections_required",
                               f"the memo needs every section before review; missing or empty: {gaps}",
                               field="body")
        memo.state, memo.submitted_at = "in_review", now
        self._move(target)
        self._log(now, "memo_submitted", actor, f"Memo version {memo.number} sent for review"
                  + (f", knowingly without: {gaps}" if gaps else ""), public=False)

    def approve_memo(self, *, actor: Actor, now: datetime) -> None:
        target = self._guard(Action.approve_memo, actor)
        memo = self.current_memo
        assert memo is not None
        memo.state, memo.approved_by, memo.approved_at = "approved", actor.id, now
        self._move(target)
        self._log(now, "memo_approved", actor, f"Memo version {memo.number} approved", public=False)

    def return_memo(self, *, actor: Actor, now: datetime, comments: list[str]) -> None:
        target = self._guard(Action.return_memo, actor)
        cleaned = [c.strip() for c in comments if c and c.strip()]
        if not cleaned:
            raise InvalidInput("return_needs_comments", "say what to change when returning a memo",
                               field="comments")
        for c in cleaned:
            _text(c, "comments")
        memo = self.current_memo
        assert memo is not None
        memo.state = "returned"
        memo.review_comments += [ReviewComment(by=actor.id, at=now, comment=c) for c in cleaned]
        self._move(target)
        self._log(now, "memo_returned", actor,
                  f"Memo version {memo.number} returned with {len(cleaned)} comment(s)", public=False)
        self._raise(ev.MemoReturned(
            **self._by(actor, now), version=memo.number, reason=_clip("\n\n".join(cleaned), 5_000),
        ))

    def deliver_memo(self, *, actor: Actor, now: datetime) -> None:
        target = self._guard(Action.deliver_memo, actor)
        memo = self.current_memo
        assert memo is not None and memo.state == "approved"
        memo.state, memo.delivered_at = "delivered", now
        self._complete_clock(Step.memo, now)
        if Step.call not in self.clocks:
            self._start_clock(Step.call, now)
        self._move(target)
        self._log(now, "memo_delivered", actor, f"Memo delivered (version {memo.number})")
        # the library keeps the text and publishes it only as far as consent allows
        self._raise(ev.MemoDelivered(
            request_id=self.id, city_id=self.city_id, topic=self.topic.value, title=self.title,
            question=self.question, short_answer=short_answer(memo.body), memo_markdown=memo.body,
            consent_to_publish=self.consent.value,
            city_name=self.city_name if self.consent is Consent.named else None,
            delivered_at=now, version=memo.number, expert_id=self.expert_id,
        ))

    # ------------------------------------------------------------------ 4. call
    @property
    def call_zone(self) -> ZoneInfo:
        """Where the call is read: the city's time zone when accounts gave one, else the service's."""
        return ZoneInfo(self.city_time_zone) if self.city_time_zone else self.service_levels.calendar.tz

    def outside_call_hours(self, starts_at: datetime, minutes: int, hours: CallHours) -> str | None:
        """Why a slot falls outside the city's business hours (weekend, federal holiday, too early or
        late in the city's time), or None when it is within them."""
        local = starts_at.astimezone(self.call_zone)
        end = local + timedelta(minutes=minutes)
        if local.weekday() >= 5:
            return f"{local:%A} is a weekend day"
        if not is_business_day(local.date()):
            return f"{local:%A, %B} {local.day} is a federal holiday"
        if local.time() < hours.start or end.date() != local.date() or end.time() > hours.end:
            return (f"{us_time(local)}–{us_time(end)} {local.tzname()} is not within "
                    f"{us_time(hours.start)}–{us_time(hours.end)} city time")
        return None

    def offer_slots(self, *, actor: Actor, now: datetime, slots: list[tuple[datetime, int]], meeting: str = "",
                    call_hours: CallHours | None = None, outside_hours_confirmed: bool = False) -> list[CallSlot]:
        """Offer the city call slots (replacing those not picked). With `call_hours`, a slot outside the
        city's business hours is refused (422 `slot_outside_business_hours`) unless the offerer confirmed
        it. `meeting`: how to join (a dial-in number or a video link), shown to the city with the call."""
        self._guard(Action.offer_slots, actor)
        meeting = _text(meeting, "meeting", limit=500, required=False)
        if not slots:
            raise InvalidInput("slots_required", "offer at least one call slot", field="slots")
        if len(slots) > MAX_SLOTS_PER_OFFER:
            raise InvalidInput("too_many_slots", f"offer at most {MAX_SLOTS_PER_OFFER} slots", field="slots")
        for i, (starts_at, minutes) in enumerate(slots):
            if starts_at.tzinfo is None:
                raise InvalidInput("slot_needs_timezone", "slot times need a time zone", field=f"slots.{i}.starts_at")
            if starts_at <= now:
                raise InvalidInput("slot_in_the_past", "call slots must be in the future",
                                   field=f"slots.{i}.starts_at")
            if not 15 <= minutes <= 120:
                raise InvalidInput("slot_duration_out_of_range", "a call lasts 15 to 120 minutes",
                                   field=f"slots.{i}.duration_minutes")
        first_at: dict[datetime, int] = {}
        for i, (starts_at, _) in enumerate(slots):
            # the same instant however it was written (01:30-04:00 and 05:30Z are one slot); compared in
            # UTC because two values of one ZoneInfo compare by wall clock, ignoring fold
            instant = starts_at.astimezone(UTC)
            if instant in first_at:
                raise InvalidInput("slot_offered_twice",
                                   f"slot {i + 1} starts at the same time as slot {first_at[instant] + 1} "
                                   f"({self._local(starts_at)}); offer each time once",
                                   field=f"slots.{i}.starts_at")
            first_at[instant] = i
        if call_hours is not None and not outside_hours_confirmed:
            for i, (starts_at, minutes) in enumerate(slots):
                why = self.outside_call_hours(starts_at, minutes, call_hours)
                if why:
                    raise InvalidInput("slot_outside_business_hours",
                                       f"slot {i + 1} ({self._local(starts_at)}) is outside the city's business "
                                       f"hours ({why}); confirm to offer it anyway", field=f"slots.{i}.starts_at")
        for s in self.call_slots:
            if not s.taken:
                s.withdrawn = True
        first = len(self.call_slots) + 1
        offered = [
            # kept in UTC, as read back from the database: the response to the offer and later reads agree
            CallSlot(id=f"s{first + i}", starts_at=st, duration_minutes=m, offered_by=actor.id, offered_at=now,
                     meeting=meeting or None)
            for i, (st, m) in enumerate(sorted((at.astimezone(UTC), m) for at, m in slots))
        ]
        self.call_slots += offered
        self._log(now, "call_slots_offered", actor, f"{len(offered)} call time{'' if len(offered) == 1 else 's'} offered")
        self._raise(ev.CallSlotsOffered(
            **self._by(actor, now), expert_id=self.expert_id,
            slots=tuple(ev.OfferedSlot(slot_id=s.id, starts_at=s.starts_at, duration_minutes=s.duration_minutes)
                        for s in offered),
        ))
        return offered

    def pick_slot(self, *, actor: Actor, now: datetime, slot_id: str) -> Call:
        target = self._guard(Action.pick_slot, actor)
        if self.delivered_memo is None:
            raise InvalidTransition(RULES[Action.pick_slot], "the memo has not been delivered yet")
        slot = next((s for s in self.call_slots if s.id == slot_id), None)
        if slot is None or slot.withdrawn or slot.taken:
            raise InvalidInput("slot_not_offered", f"slot {slot_id} is not on offer", field="slot_id")
        if slot.starts_at <= now:
            raise InvalidInput("slot_in_the_past", "that slot has already started", field="slot_id")
        slot.taken = True
        call = Call(id=f"c{len(self.calls) + 1}", slot_id=slot.id, starts_at=slot.starts_at, duration_minutes=slot.duration_minutes,
                    scheduled_by=actor.id, scheduled_at=now, meeting=slot.meeting)
        self.calls.append(call)
        self._move(target)
        self._log(now, "call_scheduled", actor, f"Call scheduled for {self._local(slot.starts_at)}")
        self._raise(ev.CallScheduled(
            **self._by(actor, now), call_id=call.id, scheduled_for=slot.starts_at,
            duration_minutes=slot.duration_minutes, expert_id=self.expert_id,
        ))
        return call

    def _scheduled_call(self, now: datetime) -> Call:
        call = self.calls[-1]
        if now < call.starts_at:
            raise InvalidTransition("call_not_yet_held", "the call has not started yet")
        return call

    def complete_call(self, *, actor: Actor, now: datetime, summary: str, next_steps: list[str]) -> None:
        target = self._guard(Action.complete_call, actor)
        summary = _text(summary, "summary")
        steps = [_text(s, "next_steps", limit=2_000) for s in next_steps if s and s.strip()]
        if len(steps) > 50:
            raise InvalidInput("next_steps_too_many", "at most 50 next steps", field="next_steps")
        call = self._scheduled_call(now)
        call.outcome, call.summary, call.next_steps, call.recorded_at = "completed", summary, steps, now
        self._complete_clock(Step.call, now)
        self._move(target)
        self._log(now, "call_completed", actor, "Call held; summary and next steps recorded")
        self._raise(ev.CallCompleted(
            request_id=self.id, call_id=call.id, completed_at=now, notes=summary,
            next_steps=_clip("\n".join(f"- {s}" for s in steps), 20_000) or None,
        ))

    def miss_call(self, *, actor: Actor, now: datetime, missed_by: CallParty = "unknown") -> None:
        target = self._guard(Action.miss_call, actor)
        call = self._scheduled_call(now)
        call.outcome, call.recorded_at, call.missed_by = "missed", now, missed_by
        self._move(target)
        self._log(now, "call_missed", actor, "The call did not take place; pick another slot")
        self._raise(ev.CallMissed(request_id=self.id, call_id=call.id, missed_by=missed_by, at=now))

    def _release_call(self, action: Action, actor: Actor, now: datetime, reason: str) -> Call:
        target = self._guard(action, actor)
        # staff moving or cancelling the city's call owe the city a reason; the city need not give one
        reason = _text(reason, "reason", limit=2_000, required=actor.is_staff)
        call = self.calls[-1]
        if call.starts_at <= now:
            raise InvalidTransition(RULES[action], "the call has already started")
        call.outcome = "reschedule_requested" if action is Action.reschedule_call else "cancelled"
        call.change_reason, call.recorded_at = reason or None, now
        self._move(target)
        return call

    def reschedule_call(self, *, actor: Actor, now: datetime, reason: str = "",
                        preferred_call_times: list[str] | None = None) -> None:
        """The official asks for another time: the call is released, the expert offers new slots."""
        times = [t.strip() for t in (preferred_call_times or []) if t.strip()][:MAX_SLOTS_PER_OFFER]
        if any(len(t) > CALL_TIME_LIMIT for t in times):
            raise InvalidInput("call_time_too_long", f"each preferred call time has at most {CALL_TIME_LIMIT} "
                               "characters", field="preferred_call_times")
        call = self._release_call(Action.reschedule_call, actor, now, reason)
        if times:
            self.preferred_call_times = times
        who = "NRN" if actor.is_staff else "The city"
        self._log(now, "call_reschedule_requested", actor,
                  f"{who} asked to move the call" + (f": {call.change_reason}" if call.change_reason else ""))
        self._raise(ev.CallRescheduleRequested(request_id=self.id, call_id=call.id, reason=call.change_reason,
                                               preferred_call_times=tuple(times), by=actor.id, at=now))

    def cancel_call(self, *, actor: Actor, now: datetime, reason: str = "") -> None:
        """The official no longer wants the call; the memo stands."""
        call = self._release_call(Action.cancel_call, actor, now, reason)
        who = "NRN" if actor.is_staff else "The city"
        self._log(now, "call_cancelled", actor,
                  f"{who} cancelled the call" + (f": {call.change_reason}" if call.change_reason else ""))
        self._raise(ev.CallCancelled(request_id=self.id, call_id=call.id, reason=call.change_reason, by=actor.id,
                                     at=now))

    # ------------------------------------------------------------------ 5. close and follow up
    @property
    def follow_up_due_at(self) -> datetime | None:
        return self.closed_at + FOLLOW_UP_AFTER if self.closed_at else None

    @property
    def reopen_until(self) -> datetime | None:
        return self.closed_at + REOPEN_WITHIN if self.closed_at else None

    def close(self, *, actor: Actor, now: datetime, note: str = "") -> None:
        target = self._guard(Action.close, actor)
        note = _text(note, "note", limit=5_000, required=False)
        # closing after a missed call (the city never rebooked) is not an answered request
        reason = "unresponsive" if self.status is Status.call_missed else "answered"
        self.closed_at = now
        self.closures += 1
        self._move(target)
        self._log(now, "closed", actor, f"Request closed ({reason})")
        self._raise(ev.RequestClosed(
            request_id=self.id, city_id=self.city_id, reason=reason, note=note or None, by=actor.id, closed_at=now,
        ))

    @property
    def feedback_given(self) -> bool:
        """Rated already in this round (since the question was asked, or last reopened)."""
        since = self.reopened_at[-1] if self.reopened_at else self.submitted_at
        return any(f.at >= since for f in self.feedback)

    @property
    def follow_up_open(self) -> bool:
        """The "did you act on it?" question: only from the 90-day follow-up on, once."""
        return self.follow_up is None and self.follow_up_due_at is not None

    def give_feedback(self, *, actor: Actor, now: datetime, rating: int, comment: str = "") -> None:
        self._guard(Action.give_feedback, actor)
        if not isinstance(rating, int) or not 1 <= rating <= 5:
            raise InvalidInput("rating_out_of_range", "rate the help from 1 to 5", field="rating")
        comment = _text(comment, "comment", limit=2_000, required=False)
        if self.feedback_given:
            raise InvalidTransition("feedback_once_per_closure", "feedback was already given for this answer")
        self.feedback.append(Feedback(rating=rating, comment=comment, by=actor.id, at=now))
        self._log(now, "feedback_received", actor, f"Rated {rating}/5")
        self._raise(ev.FeedbackReceived(
            request_id=self.id, official_id=actor.id, rating=rating, comment=comment or None, at=now,
        ))

    def record_follow_up(
        self, *, actor: Actor, now: datetime, outcome: FollowUpOutcome, description: str = ""
    ) -> None:
        self._guard(Action.record_follow_up, actor)
        assert self.follow_up_due_at is not None
        if now < self.follow_up_due_at:
            raise InvalidTransition(
                "follow_up_not_yet_due", f"the follow-up is due on {self.follow_up_due_at.date().isoformat()}"
            )
        if self.follow_up is not None:
            raise InvalidTransition("follow_up_already_recorded", "the follow-up answer was already recorded")
        description = _text(description, "description", limit=5_000, required=False)
        self.follow_up = FollowUp(outcome=outcome, description=description, recorded_by=actor.id, recorded_at=now)
        self._log(now, "follow_up_recorded", actor, f"Follow-up: {FOLLOW_UP_NOTES[outcome]}")
        self._raise(ev.FollowUpRecorded(
            **self._by(actor, now), note=description or FOLLOW_UP_NOTES[outcome], outcome=outcome.value,
        ))

    def reopen(self, *, actor: Actor, now: datetime, reason: str) -> None:
        target = self._guard(Action.reopen, actor)
        reason = _text(reason, "reason", limit=5_000)
        assert self.reopen_until is not None
        if now > self.reopen_until:
            raise InvalidTransition(
                "reopen_within_30_days", f"the request could be reopened until {self.reopen_until.isoformat()}"
            )
        self.reopened_at.append(now)
        self._start_clock(Step.response_after_reopen, now)  # a new clock each time it is reopened
        self._move(target)
        self._log(now, "reopened", actor, f"Reopened: {reason}")
        self._raise(ev.RequestReopened(**self._by(actor, now), reason=reason))

    # ------------------------------------------------------------------ anytime
    def change_consent(self, *, actor: Actor, now: datetime, consent: Consent) -> None:
        self._guard(Action.change_consent, actor)
        if consent is self.consent:
            raise InvalidInput("consent_unchanged", f"consent is already {consent.value}", field="consent")
        previous, self.consent = self.consent, consent
        self._log(now, "consent_changed", actor, f"Publication consent: {_words(consent)}")
        self._raise(ev.ConsentChanged(
            **self._by(actor, now), consent_to_publish=consent.value, previous=previous.value,
            city_name=self.city_name if consent is Consent.named else None,
        ))

    def add_note(self, *, actor: Actor, now: datetime, text: str) -> None:
        self._guard(Action.add_note, actor)
        text = _text(text, "text")
        self.notes.append(Note(by=actor.id, at=now, text=text))
        self._log(now, "note_added", actor, "Internal note added", public=False)

    # ------------------------------------------------------------------ learned from the library
    def record_publication(self, *, resource_id: str, at: datetime) -> bool:
        """The library published this answer; returns False when nothing changed (redelivery)."""
        if self.published and self.published.resource_id == resource_id and self.published.archived_at is None:
            return False
        self.published = PublicRecord(resource_id=resource_id, published_at=at)
        self.timeline.append(TimelineEntry(at=at, action="published", actor_id="library", actor_kind="system",
                                           summary="The answer joined the public record"))
        return True

    def record_unpublication(self, *, resource_id: str, at: datetime) -> bool:
        if not self.published or self.published.resource_id != resource_id or self.published.archived_at:
            return False
        self.published.archived_at = at
        self.timeline.append(TimelineEntry(at=at, action="unpublished", actor_id="library", actor_kind="system",
                                           summary="The answer was removed from the public record"))
        return True
