"""The Engagement aggregate: the direct assistance an accepted city receives, from the in-person
assessment through the work plan and its milestones to the close-out and the 6-month check-in.

Every action checks the status (the table in `states`), who may act, then its own rules, and only
then changes the record and raises contract events. Dates are calendar dates (the program works
in days); instants are UTC.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from nrn_contracts import Event
from nrn_contracts.events import engagements as ev
from pydantic import BaseModel, Field, PrivateAttr

from .application import Terms, _text
from .errors import InvalidInput, InvalidTransition, NotPermitted, VersionConflict
from .model import BARRIER_LABELS, Actor, Barrier, Role, TimelineEntry, add_months, topics_of
from .states import ENG_RULES, ENG_TRANSITIONS, STAY, EngAction, EngStatus

CHECK_IN_AFTER_MONTHS = 6
MAX_MILESTONES = 30
MAX_TEAM = 20
MAX_ITEMS = 200  # updates, risks, partners, comments each
REPORT_MAX = 20_000  # the final report travels in EngagementClosed (Text)
Consent = Literal["none", "anonymous", "named"]
Health = Literal["on_track", "at_risk", "off_track"]
Level = Literal["low", "medium", "high"]

R = Role
# "team": a staff member on the engagement's team; "city_official": an official of the city
PERMISSIONS: dict[EngAction, frozenset[Role | str]] = {
    EngAction.set_team: frozenset({R.program_manager}),
    EngAction.complete_assessment: frozenset({R.program_manager, "team"}),
    EngAction.propose_plan: frozenset({R.program_manager, "team"}),
    EngAction.comment_plan: frozenset({"city_official"}),
    EngAction.agree_plan: frozenset({"city_official"}),
    EngAction.complete_milestone: frozenset({R.program_manager, "team"}),
    EngAction.post_update: frozenset({R.program_manager, "team"}),
    EngAction.record_risk: frozenset({R.program_manager, "team"}),
    EngAction.add_partner: frozenset({R.program_manager, "team"}),
    EngAction.submit_close_out: frozenset({R.program_manager}),
    EngAction.end_early: frozenset({R.program_manager}),
    EngAction.cancel: frozenset({R.program_manager}),
    EngAction.confirm_close_out: frozenset({"city_official"}),
    EngAction.record_check_in: frozenset({R.program_manager, "team", "city_official"}),
}


class TeamMember(BaseModel):
    member_id: str | None = None  # a staff account; None for a partner organization's expert
    name: str = Field(min_length=1, max_length=200)
    role: str = Field(min_length=1, max_length=200)
    kind: Literal["staff", "partner_expert"] = "staff"
    organization: str = Field("", max_length=200)


class BarrierFinding(BaseModel):
    barrier: Barrier
    findings: str = Field(min_length=1, max_length=5_000)


class Assessment(BaseModel):
    visited_on: date
    barriers: list[BarrierFinding] = Field(min_length=1, max_length=len(Barrier))
    strengths: list[str] = Field(default_factory=list, max_length=20)
    summary: str = Field("", max_length=10_000)
    by: str = ""
    by_name: str = ""
    at: datetime | None = None


class Milestone(BaseModel):
    id: str
    title: str = Field(min_length=1, max_length=300)
    description: str = Field("", max_length=5_000)
    owner: str = Field(min_length=1, max_length=200)
    due_on: date
    status: Literal["open", "completed"] = "open"
    completed_on: date | None = None
    completed_by: str | None = None
    completed_by_name: str = ""
    note: str = ""

    def overdue(self, today: date) -> bool:
        return self.status == "open" and self.due_on < today


class PlanComment(BaseModel):
    by: str
    by_name: str = ""
    at: datetime
    text: str
    plan_version: int
    milestone_id: str | None = None


class StatusUpdate(BaseModel):
    at: datetime
    by: str
    by_name: str = ""
    health: Health
    text: str


class Risk(BaseModel):
    id: str
    description: str
    likelihood: Level
    impact: Level
    mitigation: str = ""
    status: Literal["open", "closed"] = "open"
    by: str
    by_name: str = ""
    at: datetime
    updated_at: datetime


class Partner(BaseModel):
    name: str
    organization: str = ""
    role: str = ""
    added_by: str
    at: datetime


class Outcome(BaseModel):
    milestone_id: str
    result: Literal["met", "partly_met", "not_met"]
    note: str = Field("", max_length=2_000)


class CloseOut(BaseModel):
    outcome: Literal["completed", "ended_early"]
    outcomes: list[Outcome] = Field(default_factory=list)
    final_report: str
    by: str
    by_name: str = ""
    at: datetime


class CheckIn(BaseModel):
    on: date
    notes: str
    by: str
    by_name: str = ""
    at: datetime


class Cancellation(BaseModel):
    reason: str
    by: str
    by_name: str = ""
    at: datetime


class Engagement(BaseModel):
    id: str
    version: int = 0
    status: EngStatus = EngStatus.opened
    application_id: str
    city_id: str
    city_name: str
    us_state: str = ""
    round_id: str | None = None
    title: str
    scope: str
    budget_cents: int
    federal_cents: int
    local_cents: int
    hardship_accepted: bool = False
    duration_months: int
    starts_on: date
    ends_on: date
    barriers: list[Barrier] = Field(default_factory=list)
    peer_connections: bool = False
    opened_at: datetime
    team: list[TeamMember] = Field(default_factory=list)
    assessment: Assessment | None = None
    milestones: list[Milestone] = Field(default_factory=list)
    plan_version: int = 0
    plan_proposed_at: datetime | None = None
    plan_agreed_at: datetime | None = None
    plan_agreed_by: str | None = None
    plan_agreed_by_name: str = ""
    plan_comments: list[PlanComment] = Field(default_factory=list)
    updates: list[StatusUpdate] = Field(default_factory=list)
    risks: list[Risk] = Field(default_factory=list)
    partners: list[Partner] = Field(default_factory=list)
    close_out: CloseOut | None = None
    consent: Consent = "none"
    closed_at: datetime | None = None
    closed_by: str | None = None
    check_in_due_on: date | None = None
    check_in: CheckIn | None = None
    cancellation: Cancellation | None = None
    timeline: list[TimelineEntry] = Field(default_factory=list)

    _events: list[Event] = PrivateAttr(default_factory=list)

    # ------------------------------------------------------------------ plumbing
    def pull_events(self) -> list[Event]:
        events, self._events = self._events, []
        return events

    @property
    def pending_events(self) -> tuple[Event, ...]:
        return tuple(self._events)

    def ensure_version(self, expected: int | None) -> None:
        if expected is not None and expected != self.version:
            raise VersionConflict(expected, self.version)

    def _log(self, now: datetime, action: str, actor: Actor, summary: str) -> None:
        self.timeline.append(TimelineEntry(at=now, action=action, actor_id=actor.id, actor_name=actor.name,
                                           actor_kind=actor.kind, summary=summary))

    def on_team(self, staff_id: str) -> bool:
        return any(m.member_id == staff_id for m in self.team)

    def _guard(self, action: EngAction, actor: Actor) -> EngStatus | None:
        targets = ENG_TRANSITIONS[action]
        if self.status not in targets:
            raise InvalidTransition(ENG_RULES[action], f"cannot {action.value.replace('_', ' ')} while the "
                                                       f"engagement is {self.status.value.replace('_', ' ')}")
        self.authorise(action, actor)
        target = targets[self.status]
        assert target is STAY or isinstance(target, EngStatus)
        return target

    def authorise(self, action: EngAction, actor: Actor) -> None:
        allowed = PERMISSIONS[action]
        if actor.kind == "official":
            if "city_official" not in allowed:
                raise NotPermitted("staff_only_action", f"officials cannot {action.value.replace('_', ' ')}")
            if not actor.verified:
                raise NotPermitted("official_must_be_verified", "the official's account is not verified yet")
            if actor.city_id != self.city_id:
                raise NotPermitted("officials_act_only_on_their_city", "this engagement belongs to another city")
            return
        if actor.kind == "system":
            raise NotPermitted("no_system_actions", "the system cannot take this action")
        staff_roles = {r for r in allowed if isinstance(r, Role)}
        if actor.roles & staff_roles or Role.administrator in actor.roles:
            return
        if "team" in allowed and self.on_team(actor.id):
            return
        if "city_official" in allowed and not staff_roles and "team" not in allowed:
            raise NotPermitted("city_only_action", f"only the city's officials can {action.value.replace('_', ' ')}")
        raise NotPermitted("team_or_program_manager", "only the engagement's team or a program manager may do this"
                           if "team" in allowed else f"{action.value.replace('_', ' ')} needs a program manager")

    def _move(self, target: EngStatus | None) -> None:
        if target is not None:
            self.status = target

    # ------------------------------------------------------------------ facts
    def overdue_milestones(self, today: date) -> list[Milestone]:
        return [m for m in self.milestones if self.status is EngStatus.in_progress and m.overdue(today)]

    def next_due_on(self) -> date | None:
        """The earliest due date of an open milestone while the plan is being carried out (for the
        staff list of overdue milestones)."""
        if self.status is not EngStatus.in_progress:
            return None
        return min((m.due_on for m in self.milestones if m.status == "open"), default=None)

    def check_in_pending_on(self) -> date | None:
        return self.check_in_due_on if self.status is EngStatus.closed and self.check_in is None else None

    def milestone(self, milestone_id: str) -> Milestone:
        found = next((m for m in self.milestones if m.id == milestone_id), None)
        if found is None:
            raise InvalidInput("milestone_unknown", "no such milestone in the work plan", field="milestone_id")
        return found

    # ------------------------------------------------------------------ 1. open
    @classmethod
    def open(cls, *, engagement_id: str, application: Any, terms: Terms, now: datetime) -> Engagement:
        """Open the engagement of an accepted application (`application`: the Application)."""
        e = cls(id=engagement_id, application_id=application.id, city_id=application.city_id,
                city_name=application.city_name, us_state=application.us_state, round_id=application.round_id,
                title=terms.title, scope=terms.scope, budget_cents=terms.budget_cents,
                federal_cents=terms.federal_cents, local_cents=terms.local_cents,
                hardship_accepted=terms.hardship_accepted, duration_months=terms.duration_months,
                starts_on=terms.starts_on, ends_on=terms.ends_on, barriers=application.barriers,
                peer_connections=application.peer_connections, opened_at=now)
        e.timeline.append(TimelineEntry(at=now, action="opened", actor_id="system:engagements", actor_kind="system",
                                        summary="Engagement opened; the in-person assessment comes next"))
        e._events.append(ev.EngagementOpened(
            engagement_id=e.id, application_id=e.application_id, city_id=e.city_id, title=e.title,
            topics=tuple(topics_of(e.barriers)), starts_on=e.starts_on, opened_at=now, round_id=e.round_id,
            ends_on=e.ends_on, budget_cents=e.budget_cents, federal_cents=e.federal_cents,
            local_cents=e.local_cents, barriers=tuple(b.value for b in e.barriers)))
        return e

    def set_team(self, *, actor: Actor, now: datetime, team: list[TeamMember]) -> None:
        target = self._guard(EngAction.set_team, actor)
        if len(team) > MAX_TEAM:
            raise InvalidInput("team_too_large", f"a team has at most {MAX_TEAM} members", field="team")
        ids = [m.member_id for m in team if m.member_id]
        if len(set(ids)) != len(ids):
            raise InvalidInput("team_member_twice", "a staff member is on the team twice", field="team")
        self.team = team
        self._move(target)
        self._log(now, "team_set", actor, "Team: " + ", ".join(f"{m.name} ({m.role})" for m in team))

    # ------------------------------------------------------------------ 2. assess and plan
    def complete_assessment(self, *, actor: Actor, now: datetime, today: date, assessment: Assessment) -> None:
        target = self._guard(EngAction.complete_assessment, actor)
        if assessment.visited_on > today:
            raise InvalidInput("visit_in_the_future", "the assessment visit cannot be in the future",
                               field="visited_on")
        barriers = [b.barrier for b in assessment.barriers]
        if len(set(barriers)) != len(barriers):
            raise InvalidInput("barrier_twice", "a barrier is listed twice", field="barriers")
        strengths = [_text(s, f"strengths.{i}", limit=2_000) for i, s in enumerate(assessment.strengths)]
        self.assessment = assessment.model_copy(update={"strengths": strengths, "by": actor.id,
                                                        "by_name": actor.name, "at": now})
        self.barriers = barriers
        self._move(target)
        self._log(now, "assessed", actor, "Assessment completed: " + ", ".join(BARRIER_LABELS[b] for b in barriers))
        self._events.append(ev.AssessmentCompleted(
            engagement_id=self.id, city_id=self.city_id, visited_on=assessment.visited_on,
            barriers=tuple(b.value for b in barriers), strengths=tuple(strengths), by=actor.id, at=now))

    def propose_plan(self, *, actor: Actor, now: datetime, milestones: list[dict[str, Any]]) -> None:
        """Propose (or revise) the work plan: milestones with owners and due dates within the engagement."""
        target = self._guard(EngAction.propose_plan, actor)
        if not milestones:
            raise InvalidInput("milestones_required", "a work plan needs at least one milestone", field="milestones")
        if len(milestones) > MAX_MILESTONES:
            raise InvalidInput("too_many_milestones", f"at most {MAX_MILESTONES} milestones", field="milestones")
        known = {m.id for m in self.milestones}
        taken = {int(m.id[1:]) for m in self.milestones if m.id[1:].isdigit()}
        plan: list[Milestone] = []
        for i, raw in enumerate(milestones):
            mid = raw.get("id") or None
            if mid is not None and mid not in known:
                raise InvalidInput("milestone_unknown", "no such milestone to revise", field=f"milestones.{i}.id")
            if mid is None:
                n = max(taken, default=0) + 1
                taken.add(n)
                mid = f"m{n}"
            due = raw["due_on"]
            if due < self.starts_on or due > self.ends_on:
                raise InvalidInput("due_outside_the_engagement",
                                   f"due dates fall within the engagement ({self.starts_on.isoformat()} to "
                                   f"{self.ends_on.isoformat()})", field=f"milestones.{i}.due_on")
            plan.append(Milestone(id=mid, title=_text(raw.get("title"), f"milestones.{i}.title", limit=300),
                                  description=_text(raw.get("description"), f"milestones.{i}.description",
                                                    required=False),
                                  owner=_text(raw.get("owner"), f"milestones.{i}.owner", limit=200), due_on=due))
        if len({m.id for m in plan}) != len(plan):
            raise InvalidInput("milestone_twice", "a milestone is listed twice", field="milestones")
        self.milestones = sorted(plan, key=lambda m: (m.due_on, m.id))
        self.plan_version += 1
        self.plan_proposed_at = now
        self._move(target)
        self._log(now, "plan_proposed", actor, f"Work plan proposed (version {self.plan_version}, "
                                               f"{len(plan)} milestones): the city comments, then agrees")

    def comment_plan(self, *, actor: Actor, now: datetime, text: str, milestone_id: str | None = None) -> None:
        self._guard(EngAction.comment_plan, actor)
        text = _text(text, "text")
        if milestone_id is not None:
            self.milestone(milestone_id)
        if len(self.plan_comments) >= MAX_ITEMS:
            raise InvalidInput("too_many_comments", "the plan has too many comments", field="text")
        self.plan_comments.append(PlanComment(by=actor.id, by_name=actor.name, at=now, text=text,
                                              plan_version=self.plan_version, milestone_id=milestone_id))
        self._log(now, "plan_commented", actor, "The city commented on the work plan")

    def agree_plan(self, *, actor: Actor, now: datetime, plan_version: int) -> None:
        target = self._guard(EngAction.agree_plan, actor)
        if plan_version != self.plan_version:
            raise InvalidTransition("plan_changed", "the work plan was revised since you read it; read it again")
        self.plan_agreed_at, self.plan_agreed_by, self.plan_agreed_by_name = now, actor.id, actor.name
        self._move(target)
        self._log(now, "plan_agreed", actor, f"The city agreed the work plan ({len(self.milestones)} milestones)")
        self._events.append(ev.WorkPlanAgreed(
            engagement_id=self.id, city_id=self.city_id, agreed_by=actor.id, at=now,
            milestones=tuple(ev.PlannedMilestone(milestone_id=m.id, title=m.title, owner=m.owner, due_on=m.due_on)
                             for m in self.milestones)))

    # ------------------------------------------------------------------ 3. carry out
    def complete_milestone(self, *, actor: Actor, now: datetime, today: date, milestone_id: str,
                           note: str = "") -> None:
        self._guard(EngAction.complete_milestone, actor)
        m = self.milestone(milestone_id)
        if m.status == "completed":
            raise InvalidTransition("milestone_already_completed", f"“{m.title}” is already completed")
        m.status, m.completed_on, m.completed_by, m.completed_by_name = "completed", today, actor.id, actor.name
        m.note = _text(note, "note", required=False)
        late = today > m.due_on
        self._log(now, "milestone_completed", actor, f"Milestone completed: {m.title}" + (" (late)" if late else ""))
        self._events.append(ev.MilestoneCompleted(
            engagement_id=self.id, city_id=self.city_id, milestone_id=m.id, title=m.title, due_on=m.due_on,
            completed_on=today, late=late, by=actor.id, at=now))

    def _bounded(self, items: list[Any], field: str) -> None:
        if len(items) >= MAX_ITEMS:
            raise InvalidInput("too_many", f"at most {MAX_ITEMS} {field}", field=field)

    def post_update(self, *, actor: Actor, now: datetime, health: Health, text: str) -> None:
        self._guard(EngAction.post_update, actor)
        self._bounded(self.updates, "updates")
        self.updates.append(StatusUpdate(at=now, by=actor.id, by_name=actor.name, health=health,
                                         text=_text(text, "text")))
        self._log(now, "update", actor, f"Status update ({health.replace('_', ' ')})")

    def record_risk(self, *, actor: Actor, now: datetime, risk_id: str | None, description: str, likelihood: Level,
                    impact: Level, mitigation: str = "", status: Literal["open", "closed"] = "open") -> Risk:
        self._guard(EngAction.record_risk, actor)
        description = _text(description, "description")
        mitigation = _text(mitigation, "mitigation", required=False)
        if risk_id is None:
            self._bounded(self.risks, "risks")
            risk = Risk(id=f"r{len(self.risks) + 1}", description=description, likelihood=likelihood, impact=impact,
                        mitigation=mitigation, status=status, by=actor.id, by_name=actor.name, at=now, updated_at=now)
            self.risks.append(risk)
            self._log(now, "risk_added", actor, f"Risk recorded: {description[:120]}")
            return risk
        risk = next((r for r in self.risks if r.id == risk_id), None)
        if risk is None:
            raise InvalidInput("risk_unknown", "no such risk", field="risk_id")
        risk.description, risk.likelihood, risk.impact = description, likelihood, impact
        risk.mitigation, risk.status, risk.updated_at = mitigation, status, now
        self._log(now, "risk_updated", actor, f"Risk {'closed' if status == 'closed' else 'updated'}: "
                                              f"{description[:120]}")
        return risk

    def add_partner(self, *, actor: Actor, now: datetime, name: str, organization: str = "", role: str = "") -> None:
        self._guard(EngAction.add_partner, actor)
        self._bounded(self.partners, "partners")
        self.partners.append(Partner(name=_text(name, "name", limit=200),
                                     organization=_text(organization, "organization", limit=200, required=False),
                                     role=_text(role, "role", limit=200, required=False), added_by=actor.id, at=now))
        self._log(now, "partner_added", actor, f"Partner engaged: {name.strip()}")

    # ------------------------------------------------------------------ 4. close out
    def _close_out(self, action: EngAction, actor: Actor, now: datetime, outcome: str, outcomes: list[Outcome],
                   final_report: str) -> None:
        target = self._guard(action, actor)
        final_report = _text(final_report, "final_report", limit=REPORT_MAX)
        ids = [o.milestone_id for o in outcomes]
        for i, mid in enumerate(ids):
            if mid not in {m.id for m in self.milestones}:
                raise InvalidInput("milestone_unknown", "no such milestone in the work plan",
                                   field=f"outcomes.{i}.milestone_id")
        if len(set(ids)) != len(ids):
            raise InvalidInput("outcome_twice", "a milestone's outcome is given twice", field="outcomes")
        if outcome == "completed":
            missing = [m for m in self.milestones if m.id not in ids]
            if missing:
                raise InvalidInput("outcome_required", f"say how “{missing[0].title}” turned out", field="outcomes")
        self.close_out = CloseOut(outcome=outcome, outcomes=outcomes, final_report=final_report, by=actor.id,
                                  by_name=actor.name, at=now)
        self._move(target)
        self._log(now, "close_out_submitted", actor, "Close-out report written"
                  + (" (ended early)" if outcome == "ended_early" else "")
                  + ": the city confirms and says whether it may be published")

    def submit_close_out(self, *, actor: Actor, now: datetime, outcomes: list[Outcome], final_report: str) -> None:
        self._close_out(EngAction.submit_close_out, actor, now, "completed", outcomes, final_report)

    def end_early(self, *, actor: Actor, now: datetime, outcomes: list[Outcome], final_report: str) -> None:
        self._close_out(EngAction.end_early, actor, now, "ended_early", outcomes, final_report)

    def cancel(self, *, actor: Actor, now: datetime, reason: str) -> None:
        """Before the assessment: the city cannot go ahead. Its place in the round frees (the handler
        promotes the waitlist)."""
        target = self._guard(EngAction.cancel, actor)
        reason = _text(reason, "reason")
        self.cancellation = Cancellation(reason=reason, by=actor.id, by_name=actor.name, at=now)
        self.closed_at = now
        self._move(target)
        self._log(now, "cancelled", actor, f"Cancelled before the assessment: {reason}")
        self._events.append(ev.EngagementClosed(engagement_id=self.id, application_id=self.application_id,
                                                city_id=self.city_id, outcome="ended_early", consent_to_publish="none",
                                                closed_at=now))

    def confirm_close_out(self, *, actor: Actor, now: datetime, consent: Consent) -> None:
        """The city confirms the close-out report and says whether it may be published (and named)."""
        target = self._guard(EngAction.confirm_close_out, actor)
        assert self.close_out is not None
        self.consent = consent
        self.closed_at, self.closed_by = now, actor.id
        self.check_in_due_on = add_months(now.date(), CHECK_IN_AFTER_MONTHS)
        self._move(target)
        self._log(now, "closed", actor, "Engagement closed; " + {
            "none": "the report stays private", "anonymous": "the report may be published without the city's name",
            "named": "the report may be published with the city's name"}[consent])
        self._events.append(ev.EngagementClosed(
            engagement_id=self.id, application_id=self.application_id, city_id=self.city_id,
            outcome=self.close_out.outcome, close_out_summary=self.close_out.final_report,
            consent_to_publish=consent, closed_at=now, check_in_due_on=self.check_in_due_on))

    def record_check_in(self, *, actor: Actor, now: datetime, today: date, notes: str) -> None:
        self._guard(EngAction.record_check_in, actor)
        if self.check_in is not None:
            raise InvalidTransition("check_in_already_recorded", "the 6-month check-in is already recorded")
        self.check_in = CheckIn(on=today, notes=_text(notes, "notes"), by=actor.id, by_name=actor.name, at=now)
        self._log(now, "checked_in", actor, "6-month check-in recorded")

    # ------------------------------------------------------------------ what can be done now
    def actions_for(self, actor: Actor) -> list[str]:
        out = []
        for action in EngAction:
            if self.status not in ENG_TRANSITIONS[action]:
                continue
            try:
                self.authorise(action, actor)
            except NotPermitted:
                continue
            if action is EngAction.record_check_in and self.check_in is not None:
                continue
            out.append(action.value)
        return out
