"""The Application aggregate: a city's application for direct technical assistance, from the first
draft to the program manager's decision.

Every action checks (1) the status (the table in `states`), (2) who may act, (3) its own
preconditions, and only then changes the record and raises contract events. Time comes in as
`now`; the funding round's capacity is the handler's to reserve (it lives in another document).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from nrn_contracts import Event
from nrn_contracts.events import engagements as ev
from pydantic import BaseModel, Field, PrivateAttr, ValidationError

from . import form as f
from .errors import InvalidInput, InvalidTransition, NotPermitted, VersionConflict
from .model import BARRIER_LABELS, Actor, Barrier, CityRef, PersonRef, Role, TimelineEntry, add_months
from .rubric import Rubric, as_points, disagreement, mean_hundredths
from .states import APP_RULES, APP_TRANSITIONS, SETTLE, STAY, AppAction, AppStatus

EDIT_HISTORY = 30  # saves kept for merging; a save based on an older version merges against the oldest kept
BUDGET_CENTS = (5_000_000, 50_000_000)  # NRN's range: $50,000 to $500,000
DURATION_MONTHS = (4, 12)
FEDERAL_SHARE, LOCAL_SHARE = 75, 25  # percent of the budget
MAX_ATTACHMENTS = 10
REASON_MAX = 5_000
AttachmentKind = Literal["sponsor_letter", "budget", "other"]
ATTACHMENT_LABELS = {"sponsor_letter": "Sponsor's letter of commitment", "budget": "Budget", "other": "Other"}

R = Role
# who may take each action ("lead_official": an official of the applying city; "partner_official":
# of a partner city; "assigned_reviewer": a reviewer assigned to it); administrators may act as staff
PERMISSIONS: dict[AppAction, frozenset[Role | str]] = {
    AppAction.edit: frozenset({"lead_official"}),
    AppAction.attach: frozenset({"lead_official"}),
    AppAction.remove_attachment: frozenset({"lead_official"}),
    AppAction.confirm_partnership: frozenset({"partner_official"}),
    AppAction.submit: frozenset({"lead_official"}),
    AppAction.withdraw: frozenset({"lead_official"}),
    AppAction.screen_in: frozenset({R.triage_lead, R.program_manager}),
    AppAction.screen_out: frozenset({R.triage_lead, R.program_manager}),
    AppAction.assign_reviewer: frozenset({R.program_manager}),
    AppAction.declare_conflict: frozenset({"assigned_reviewer"}),
    AppAction.score: frozenset({"assigned_reviewer"}),
    AppAction.accept: frozenset({R.program_manager}),
    AppAction.waitlist: frozenset({R.program_manager}),
    AppAction.decline: frozenset({R.program_manager}),
    AppAction.promote: frozenset({"system"}),
}


def _text(value: str | None, field: str, *, limit: int = REASON_MAX, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(f"{field.rsplit('.', 1)[-1]}_required", f"{field} must not be empty", field=field)
    if len(value) > limit:
        raise InvalidInput(f"{field.rsplit('.', 1)[-1]}_too_long", f"{field} is longer than {limit} characters",
                           field=field)
    return value


def dollars(cents: int) -> str:
    """12345678 → "$123,456.78" (integer arithmetic; never a float)."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}${whole:,}.{part:02d}"


class Terms(BaseModel):
    """What an accepted city gets: set by the program manager when accepting or waitlisting."""

    title: str = Field(min_length=1, max_length=300)
    scope: str = Field(min_length=1, max_length=5_000)
    budget_cents: int = Field(ge=BUDGET_CENTS[0], le=BUDGET_CENTS[1])
    duration_months: int = Field(ge=DURATION_MONTHS[0], le=DURATION_MONTHS[1])
    starts_on: date
    hardship_accepted: bool = False  # the city's hardship request for its local match was accepted

    @property
    def federal_cents(self) -> int:
        # the federal 75 % rounds down to the cent; the local 25 % is the rest, so the two add up exactly
        return self.budget_cents * FEDERAL_SHARE // 100

    @property
    def local_cents(self) -> int:
        return self.budget_cents - self.federal_cents

    @property
    def ends_on(self) -> date:
        return add_months(self.starts_on, self.duration_months)


class Attachment(BaseModel):
    id: str
    kind: AttachmentKind
    filename: str
    content_type: str
    size: int
    uploaded_by: str
    uploaded_by_name: str = ""
    uploaded_at: datetime


class FieldChange(BaseModel):
    path: str
    before: Any = None
    after: Any = None


class Edit(BaseModel):
    version: int  # the version this save produced
    by: str
    by_name: str = ""
    at: datetime
    changes: list[FieldChange]


class PartnerConfirmation(BaseModel):
    city_id: str
    by: str
    by_name: str = ""
    at: datetime


class Screening(BaseModel):
    outcome: Literal["eligible", "not_eligible"]
    note: str = ""
    by: str
    by_name: str = ""
    at: datetime


class Review(BaseModel):
    reviewer_id: str
    reviewer_name: str = ""
    assigned_by: str
    assigned_at: datetime
    scores: dict[str, int] | None = None
    comments: dict[str, str] = Field(default_factory=dict)
    overall: str = ""
    total: int | None = None  # hundredths
    submitted_at: datetime | None = None
    conflict: str | None = None  # the reason, once declared: the review then does not count
    conflict_at: datetime | None = None

    @property
    def counts(self) -> bool:
        return self.submitted_at is not None and self.conflict is None


class Decision(BaseModel):
    decision: Literal["accepted", "declined", "waitlisted"]
    reason: str  # the city reads it
    by: str
    by_name: str = ""
    at: datetime
    round_id: str | None = None
    waitlist_position: int | None = None
    # the acceptance the program manager asked for when the round was full (kept for promotion)
    intended_reason: str | None = None


class Withdrawal(BaseModel):
    by: str
    by_name: str = ""
    at: datetime
    reason: str = ""


class Application(BaseModel):
    id: str
    version: int = 0
    status: AppStatus = AppStatus.draft
    city_id: str
    city_name: str
    us_state: str = ""
    created_by: str
    created_at: datetime
    updated_at: datetime
    form: f.ApplicationForm = Field(default_factory=f.ApplicationForm)
    edits: list[Edit] = Field(default_factory=list)
    attachments: list[Attachment] = Field(default_factory=list)
    confirmations: list[PartnerConfirmation] = Field(default_factory=list)
    previous_application_id: str | None = None
    round_id: str | None = None
    submitted_at: datetime | None = None
    submitted_by: str | None = None
    eligible_when_submitted: bool | None = None
    screening: Screening | None = None
    rubric: Rubric | None = None
    reviews: list[Review] = Field(default_factory=list)
    score: int | None = None  # hundredths: the mean of the reviews that count
    disagreement: list[str] = Field(default_factory=list)
    terms: Terms | None = None
    decision: Decision | None = None
    engagement_id: str | None = None
    withdrawal: Withdrawal | None = None
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

    def _log(self, now: datetime, action: str, actor: Actor, summary: str, *, public: bool = True) -> None:
        self.timeline.append(TimelineEntry(at=now, action=action, actor_id=actor.id, actor_name=actor.name,
                                           actor_kind=actor.kind, summary=summary, public=public))

    def _guard(self, action: AppAction, actor: Actor) -> AppStatus | str | None:
        """Status first (the rule callers most need to see), then who is acting."""
        targets = APP_TRANSITIONS[action]
        if self.status not in targets:
            raise InvalidTransition(APP_RULES[action], f"cannot {action.value.replace('_', ' ')} while the "
                                                       f"application is {self.status.value.replace('_', ' ')}")
        self.authorise(action, actor)
        return targets[self.status]

    def check(self, action: AppAction, actor: Actor) -> None:
        """Whether `actor` may take `action` now (InvalidTransition or NotPermitted), changing nothing."""
        self._guard(action, actor)

    def authorise(self, action: AppAction, actor: Actor) -> None:
        allowed = PERMISSIONS[action]
        if actor.kind == "system":
            if "system" not in allowed:
                raise NotPermitted("no_system_actions", "the system cannot take this action")
            return
        if actor.kind == "official":
            if not actor.verified:
                raise NotPermitted("official_must_be_verified", "the official's account is not verified yet")
            if "lead_official" in allowed and actor.city_id == self.city_id:
                return
            if "partner_official" in allowed and actor.city_id in self.partner_city_ids:
                return
            if allowed & {"lead_official", "partner_official"}:
                raise NotPermitted("officials_act_only_on_their_city", "this application belongs to another city")
            raise NotPermitted("staff_only_action", f"officials cannot {action.value.replace('_', ' ')}")
        if "system" in allowed:
            raise NotPermitted("system_only", "this happens automatically")
        if self.conflicted(actor.id):
            raise NotPermitted("conflict_of_interest", "you declared a conflict of interest on this application")
        staff_roles = {r for r in allowed if isinstance(r, Role)}
        if staff_roles and (actor.roles & staff_roles or Role.administrator in actor.roles):
            return
        if "assigned_reviewer" in allowed:
            if Role.reviewer in actor.roles and self.review_of(actor.id) is not None:
                return
            raise NotPermitted("only_an_assigned_reviewer", "only a reviewer assigned to this application may do this")
        raise NotPermitted("role_required", f"{action.value.replace('_', ' ')} needs one of: "
                           + ", ".join(sorted(str(r).replace("_", " ") for r in allowed)))

    def _move(self, target: AppStatus | str | None) -> None:
        if target is STAY:
            return
        if target == SETTLE:
            enough = self.rubric is not None and len(self.counted_reviews) >= self.rubric.min_reviewers
            self.status = AppStatus.scored if enough else AppStatus.in_review
            return
        assert isinstance(target, AppStatus)
        self.status = target

    # ------------------------------------------------------------------ facts
    @property
    def partner_city_ids(self) -> list[str]:
        return list((self.form.regional or f.Regional()).partner_city_ids or [])

    @property
    def barriers(self) -> list[Barrier]:
        chosen = (self.form.economic_challenges or f.EconomicChallenges()).barriers or {}
        return [b for b in Barrier if b in chosen]

    @property
    def exception_requested(self) -> bool:
        return self.eligible_when_submitted is False

    @property
    def peer_connections(self) -> bool:
        return bool(self.form.peer_connections)

    def review_of(self, staff_id: str) -> Review | None:
        return next((r for r in self.reviews if r.reviewer_id == staff_id), None)

    def conflicted(self, staff_id: str) -> bool:
        review = self.review_of(staff_id)
        return review is not None and review.conflict is not None

    @property
    def counted_reviews(self) -> list[Review]:
        return [r for r in self.reviews if r.counts]

    def attachment(self, attachment_id: str) -> Attachment | None:
        return next((a for a in self.attachments if a.id == attachment_id), None)

    def confirmed_cities(self) -> set[str]:
        return {c.city_id for c in self.confirmations}

    def problems(self, *, city: CityRef | None, partners: dict[str, CityRef | None], today: date
                 ) -> list[dict[str, str]]:
        return f.problems(self.form, city=city, partners=partners, confirmed=self.confirmed_cities(),
                          attachment_kinds={a.kind for a in self.attachments}, today=today)

    # ------------------------------------------------------------------ 1. draft
    @classmethod
    def start(cls, *, application_id: str, actor: Actor, city: CityRef, now: datetime,
              previous_application_id: str | None = None, round_id: str | None = None) -> Application:
        if actor.kind != "official":
            raise NotPermitted("only_officials_apply", "only a city official can apply for the city")
        if not actor.verified:
            raise NotPermitted("official_must_be_verified", "the official's account is not verified yet")
        if actor.city_id != city.id:
            raise NotPermitted("officials_act_only_on_their_city", "officials apply for their own city")
        app = cls(id=application_id, city_id=city.id, city_name=city.name, us_state=city.us_state,
                  created_by=actor.id, created_at=now, updated_at=now, round_id=round_id,
                  previous_application_id=previous_application_id,
                  form=f.ApplicationForm(background=f.Background(population=city.population) if city.population
                                         else None, peer_connections=False))
        app._log(now, "drafted", actor, "Application started" + (" (reapplying)" if previous_application_id else ""))
        app._events.append(ev.ApplicationDrafted(
            application_id=app.id, city_id=city.id, official_id=actor.id, round_id=round_id,
            previous_application_id=previous_application_id, drafted_at=now))
        return app

    def values_at(self, version: int, paths: list[str]) -> dict[str, Any] | None:
        """The values `paths` had at `version`, undoing later saves; None when the history no longer
        reaches back that far."""
        values = {p: v for p, v in f.flatten(self.form).items() if p in paths}
        oldest = self.edits[0].version if self.edits else self.version + 1
        if version < oldest - 1 and version != self.version:
            return None
        for edit in reversed(self.edits):
            if edit.version <= version:
                break
            for change in edit.changes:
                if change.path in values:
                    values[change.path] = change.before
        return values

    def save(self, *, actor: Actor, now: datetime, base_version: int, changes: dict[str, Any]
             ) -> list[Edit]:
        """Save a draft: `changes` (path → JSON value) made on `base_version`.

        On the current version every change applies. On an older one, the fields the saver
        changed merge with what others saved since (three-way, per field); a field both changed
        differently raises `EditConflict` naming it, who changed it and when, and nothing is
        saved. Returns the saves of others that were merged in (empty when none)."""
        from .errors import EditConflict

        self._guard(AppAction.edit, actor)
        if base_version > self.version or base_version < 1:
            raise VersionConflict(base_version, self.version)
        unknown = sorted(set(changes) - set(f.VALUE_PATHS))
        if unknown:
            raise InvalidInput("unknown_field", f"{unknown[0]} is not a field of the application", field=unknown[0])
        current = f.flatten(self.form)
        merged_from: list[Edit] = []
        if base_version == self.version:
            apply = {p: v for p, v in changes.items() if current.get(p) != v}
        else:
            base = self.values_at(base_version, list(changes))
            newer = [e for e in self.edits if e.version > base_version]
            if base is None:  # history too short: whatever differs from now is a conflict
                base = {p: current.get(p) for p in changes}
                conflicts = [p for p, v in changes.items() if v != current.get(p)]
                apply = {}
            else:
                apply, conflicts = f.merge(base=base, current=current, mine=changes)
            if conflicts:
                raise EditConflict([self._conflict(p, changes[p], current.get(p), newer) for p in conflicts],
                                   self.version)
            merged_from = [e for e in newer if e.by != actor.id]
        if not apply:
            return merged_from
        new = dict(current)
        new.update(apply)
        try:
            self.form = f.unflatten(new)
        except ValidationError as exc:  # a combination the form refuses (each value was valid alone)
            first = exc.errors()[0]
            field = ".".join(str(x) for x in first["loc"])
            raise InvalidInput("invalid_field", f"{field}: {first['msg']}", field=field) from None
        partners = set(self.partner_city_ids)
        self.confirmations = [c for c in self.confirmations if c.city_id in partners]
        self.edits.append(Edit(version=self.version + 1, by=actor.id, by_name=actor.name, at=now, changes=[
            FieldChange(path=p, before=current.get(p), after=v) for p, v in apply.items()]))
        self.edits = self.edits[-EDIT_HISTORY:]
        self.updated_at = now
        return merged_from

    @staticmethod
    def _conflict(path: str, yours: Any, theirs: Any, newer: list[Edit]) -> dict[str, Any]:
        last = next((e for e in reversed(newer) if any(c.path == path for c in e.changes)), None)
        return {"field": path, "label": f.label(path), "anchor": f.BY_PATH[path].anchor, "yours": yours,
                "theirs": theirs, "by_name": last.by_name if last else "", "at": last.at.isoformat() if last else None}

    def attach(self, *, actor: Actor, now: datetime, attachment: Attachment) -> None:
        self._guard(AppAction.attach, actor)
        if len(self.attachments) >= MAX_ATTACHMENTS:
            raise InvalidInput("too_many_attachments", f"an application has at most {MAX_ATTACHMENTS} attachments",
                               field="file")
        self.attachments.append(attachment)
        self.updated_at = now
        self._log(now, "attached", actor, f"Attached {ATTACHMENT_LABELS[attachment.kind].lower()}: "
                                          f"{attachment.filename}")

    def remove_attachment(self, *, actor: Actor, now: datetime, attachment_id: str) -> Attachment:
        self._guard(AppAction.remove_attachment, actor)
        found = self.attachment(attachment_id)
        if found is None:
            raise InvalidInput("attachment_unknown", "no such attachment on this application", field="attachment_id")
        self.attachments.remove(found)
        self.updated_at = now
        self._log(now, "attachment_removed", actor, f"Removed {found.filename}")
        return found

    def confirm_partnership(self, *, actor: Actor, now: datetime) -> None:
        self._guard(AppAction.confirm_partnership, actor)
        assert actor.city_id is not None
        if actor.city_id in self.confirmed_cities():
            raise InvalidTransition("partnership_already_confirmed", "your city has already confirmed")
        self.confirmations.append(PartnerConfirmation(city_id=actor.city_id, by=actor.id, by_name=actor.name, at=now))
        self._log(now, "partner_confirmed", actor, "A partner city confirmed the regional application")

    # ------------------------------------------------------------------ 2. submit
    def submit(self, *, actor: Actor, now: datetime, city: CityRef, partners: dict[str, CityRef | None],
               today: date, round_id: str | None) -> None:
        target = self._guard(AppAction.submit, actor)
        found = self.problems(city=city, partners=partners, today=today)
        if found:
            from .errors import Incomplete

            raise Incomplete(found)
        self._move(target)
        self.submitted_at, self.submitted_by = now, actor.id
        self.eligible_when_submitted = city.eligible or city.exception
        self.round_id = self.round_id or round_id
        self.updated_at = now
        self._log(now, "submitted", actor, "Application submitted" + (
            " with a request for an eligibility exception" if self.exception_requested else ""))
        b = self.form.background or f.Background()
        self._events.append(ev.ApplicationSubmitted(
            application_id=self.id, city_id=self.city_id, official_id=actor.id, round_id=self.round_id,
            background=f.section_text(self.form, "background"),
            economic_challenges="\n".join(f"{BARRIER_LABELS[b_]}: {(self.form.economic_challenges.barriers or {})[b_]}"
                                          for b_ in self.barriers)[:20_000] if self.form.economic_challenges else "-",
            project_management=f.section_text(self.form, "project_management"),
            submitted_at=now, barriers=tuple(b_.value for b_ in self.barriers),
            partner_city_ids=tuple(self.partner_city_ids), peer_connections=self.peer_connections,
            exception_requested=self.exception_requested, previous_application_id=self.previous_application_id,
            population=b.population))

    def withdraw(self, *, actor: Actor, now: datetime, reason: str = "") -> None:
        target = self._guard(AppAction.withdraw, actor)
        reason = _text(reason, "reason", required=False)
        self._move(target)
        self.withdrawal = Withdrawal(by=actor.id, by_name=actor.name, at=now, reason=reason)
        self.updated_at = now
        self._log(now, "withdrawn", actor, "Application withdrawn" + (f": {reason}" if reason else ""))
        self._events.append(ev.ApplicationWithdrawn(application_id=self.id, city_id=self.city_id,
                                                    reason=reason or None, by=actor.id, at=now))

    # ------------------------------------------------------------------ 3. review
    def screen_in(self, *, actor: Actor, now: datetime, rubric: Rubric, note: str = "") -> None:
        target = self._guard(AppAction.screen_in, actor)
        note = _text(note, "note", required=False)
        self._move(target)
        self.screening = Screening(outcome="eligible", note=note, by=actor.id, by_name=actor.name, at=now)
        self.rubric = rubric
        self.updated_at = now
        self._log(now, "screened_in", actor, "Passed the eligibility screen" + (f": {note}" if note else ""),
                  public=False)
        self.timeline.append(TimelineEntry(at=now, action="in_review", actor_id=actor.id, actor_kind="staff",
                                           summary="In review: reviewers are scoring the application"))

    def screen_out(self, *, actor: Actor, now: datetime, note: str) -> None:
        target = self._guard(AppAction.screen_out, actor)
        note = _text(note, "note")
        self._move(target)
        self.screening = Screening(outcome="not_eligible", note=note, by=actor.id, by_name=actor.name, at=now)
        self.updated_at = now
        self._log(now, "screened_out", actor, f"Did not pass the eligibility screen: {note}", public=False)

    def assign_reviewer(self, *, actor: Actor, now: datetime, reviewer: PersonRef) -> None:
        self._guard(AppAction.assign_reviewer, actor)
        existing = self.review_of(reviewer.id)
        if existing is not None:
            rule = "reviewer_conflicted" if existing.conflict else "reviewer_already_assigned"
            raise InvalidTransition(rule, f"{reviewer.name or 'this reviewer'} is already "
                                          + ("conflicted" if existing.conflict else "assigned"))
        self.reviews.append(Review(reviewer_id=reviewer.id, reviewer_name=reviewer.name, assigned_by=actor.id,
                                   assigned_at=now))
        self.updated_at = now
        self._log(now, "reviewer_assigned", actor, f"Reviewer assigned: {reviewer.name}", public=False)
        self._events.append(ev.ReviewerAssigned(application_id=self.id, reviewer_id=reviewer.id, by=actor.id, at=now))

    def declare_conflict(self, *, actor: Actor, now: datetime, reason: str) -> None:
        """The reviewer steps aside: their score (if any) stops counting, and the application is
        hidden from them from now on."""
        target = self._guard(AppAction.declare_conflict, actor)
        reason = _text(reason, "reason")
        review = self.review_of(actor.id)
        assert review is not None
        review.conflict, review.conflict_at = reason, now
        self._rescore()
        self._move(target)
        self.updated_at = now
        self._log(now, "conflict_declared", actor, "A reviewer declared a conflict of interest and stepped aside",
                  public=False)

    def submit_score(self, *, actor: Actor, now: datetime, scores: dict[str, int], comments: dict[str, str] | None = None,
              overall: str = "") -> None:
        target = self._guard(AppAction.score, actor)
        review = self.review_of(actor.id)
        assert review is not None and self.rubric is not None
        if review.submitted_at is not None:
            raise InvalidTransition("score_already_submitted", "you have already submitted your score")
        try:
            total = self.rubric.total(scores)
        except ValueError as exc:
            field, _, message = str(exc).partition(": ")
            raise InvalidInput("score_invalid", message, field=field) from None
        comments = {k: _text(v, f"comments.{k}", limit=2_000, required=False) for k, v in (comments or {}).items()}
        unknown = sorted(set(comments) - {c.id for c in self.rubric.criteria})
        if unknown:
            raise InvalidInput("score_invalid", "not a criterion of the rubric", field=f"comments.{unknown[0]}")
        review.scores, review.total, review.submitted_at = dict(scores), total, now
        review.comments = {k: v for k, v in comments.items() if v}
        review.overall = _text(overall, "overall", required=False)
        self._rescore()
        before = self.status
        self._move(target)
        self.updated_at = now
        self._log(now, "scored", actor, f"Scored {as_points(total)} of 5", public=False)
        if before is AppStatus.in_review and self.status is AppStatus.scored:
            self._log(now, "scored_by_all", actor, "Scoring complete: waiting for a decision")
        assert self.score is not None
        self._events.append(ev.ApplicationScored(
            application_id=self.id, reviewer_id=actor.id, score=total, average=self.score,
            reviews_submitted=len(self.counted_reviews), disagreement=bool(self.disagreement), at=now))

    def _rescore(self) -> None:
        counted = self.counted_reviews
        self.score = mean_hundredths([r.total for r in counted if r.total is not None])
        self.disagreement = disagreement(self.rubric, [r.scores for r in counted if r.scores]) if self.rubric else []

    # ------------------------------------------------------------------ 4. decide
    def _decide(self, action: AppAction, actor: Actor, now: datetime, decision: str, reason: str,
                round_id: str | None, **extra: Any) -> None:
        target = self._guard(action, actor)
        self._move(target)
        self.decision = Decision(decision=decision, reason=reason, by=actor.id, by_name=actor.name, at=now,
                                 round_id=round_id, **extra)
        self.updated_at = now

    def accept(self, *, actor: Actor, now: datetime, terms: Terms, reason: str, round_id: str,
               engagement_id: str) -> None:
        """Accept (the handler has reserved a place in `round_id`)."""
        self._guard(AppAction.accept, actor)
        reason = _text(reason, "reason")
        self._decide(AppAction.accept, actor, now, "accepted", reason, round_id)
        self.round_id, self.terms, self.engagement_id = round_id, terms, engagement_id
        self._log(now, "accepted", actor, f"Accepted: {reason}")
        self._events.append(ev.ApplicationDecided(application_id=self.id, city_id=self.city_id, round_id=round_id,
                                                  decision="accepted", reason=reason, by=actor.id, at=now,
                                                  score=self.score))

    def waitlist(self, *, actor: Actor, now: datetime, terms: Terms, reason: str, round_id: str, position: int,
                 intended_reason: str | None = None) -> None:
        """Put on the round's waitlist: by decision, or because the round was full when accepting
        (`intended_reason`: the acceptance's reason, used if the application is promoted)."""
        self._guard(AppAction.waitlist, actor)
        reason = _text(reason, "reason")
        self._decide(AppAction.waitlist, actor, now, "waitlisted", reason, round_id, waitlist_position=position,
                     intended_reason=intended_reason)
        self.round_id, self.terms = round_id, terms
        self._log(now, "waitlisted", actor, f"On the waitlist: {reason}")
        self._events.append(ev.ApplicationDecided(application_id=self.id, city_id=self.city_id, round_id=round_id,
                                                  decision="waitlisted", reason=reason, by=actor.id, at=now,
                                                  score=self.score, waitlist_position=position))

    def decline(self, *, actor: Actor, now: datetime, reason: str) -> None:
        self._guard(AppAction.decline, actor)
        reason = _text(reason, "reason")
        self._decide(AppAction.decline, actor, now, "declined", reason, self.round_id)
        self._log(now, "declined", actor, f"Declined: {reason}")
        self._events.append(ev.ApplicationDecided(application_id=self.id, city_id=self.city_id, round_id=self.round_id,
                                                  decision="declined", reason=reason, by=actor.id, at=now,
                                                  score=self.score))

    def promote(self, *, actor: Actor, now: datetime, engagement_id: str) -> None:
        """A place freed in the round: the waitlist's first application (score order) takes it."""
        target = self._guard(AppAction.promote, actor)
        assert self.round_id is not None and self.terms is not None and self.decision is not None
        self._move(target)
        reason = self.decision.intended_reason or self.decision.reason
        self.decision = Decision(decision="accepted", reason=reason, by=actor.id, by_name=actor.name, at=now,
                                 round_id=self.round_id)
        self.engagement_id = engagement_id
        self.updated_at = now
        self._log(now, "promoted", actor, "A place in the funding round freed: accepted from the waitlist")
        self._events.append(ev.ApplicationPromoted(application_id=self.id, city_id=self.city_id,
                                                   round_id=self.round_id, engagement_id=engagement_id,
                                                   score=self.score, at=now))
        self._events.append(ev.ApplicationDecided(application_id=self.id, city_id=self.city_id, round_id=self.round_id,
                                                  decision="accepted", reason=reason, by=actor.id, at=now,
                                                  score=self.score))

    # ------------------------------------------------------------------ what can be done now
    def actions_for(self, actor: Actor) -> list[str]:
        out = []
        for action in AppAction:
            if self.status not in APP_TRANSITIONS[action]:
                continue
            try:
                self.authorise(action, actor)
            except NotPermitted:
                continue
            if action is AppAction.score and (r := self.review_of(actor.id)) is not None and r.submitted_at:
                continue
            if action is AppAction.confirm_partnership and actor.city_id in self.confirmed_cities():
                continue
            out.append(action.value)
        return out
