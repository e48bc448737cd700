"""The state machines as data: which action is allowed in which status, and where it leads.

Kept as tables so that the tests walk every status × every action of both aggregates and the
API can tell a caller which actions are open now.
"""

from __future__ import annotations

from enum import StrEnum

STAY = None  # the action leaves the status as it is
SETTLE = "settle"  # scored when enough reviewers' scores count, else (back) in review


class AppStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"  # waiting for the eligibility screen
    screened_out = "screened_out"  # failed the eligibility screen: a program manager decides
    in_review = "in_review"  # reviewers scoring
    scored = "scored"  # enough reviewers scored: waiting for a program manager's decision
    waitlisted = "waitlisted"
    accepted = "accepted"  # an engagement is open
    declined = "declined"
    withdrawn = "withdrawn"


class AppAction(StrEnum):
    edit = "edit"
    attach = "attach"
    remove_attachment = "remove_attachment"
    confirm_partnership = "confirm_partnership"
    submit = "submit"
    withdraw = "withdraw"
    screen_in = "screen_in"
    screen_out = "screen_out"
    assign_reviewer = "assign_reviewer"
    declare_conflict = "declare_conflict"
    score = "score"
    accept = "accept"
    waitlist = "waitlist"
    decline = "decline"
    promote = "promote"


A = AppStatus
_REVIEWING = {A.in_review: STAY, A.scored: STAY}

APP_TRANSITIONS: dict[AppAction, dict[AppStatus, AppStatus | str | None]] = {
    AppAction.edit: {A.draft: STAY},
    AppAction.attach: {A.draft: STAY},
    AppAction.remove_attachment: {A.draft: STAY},
    AppAction.confirm_partnership: {A.draft: STAY},
    AppAction.submit: {A.draft: A.submitted},
    AppAction.withdraw: {s: A.withdrawn for s in (A.draft, A.submitted, A.screened_out, A.in_review, A.scored,
                                                  A.waitlisted)},
    AppAction.screen_in: {A.submitted: A.in_review},
    AppAction.screen_out: {A.submitted: A.screened_out},
    AppAction.assign_reviewer: dict(_REVIEWING),
    AppAction.declare_conflict: {A.in_review: SETTLE, A.scored: SETTLE},
    AppAction.score: {A.in_review: SETTLE, A.scored: SETTLE},
    AppAction.accept: {A.scored: A.accepted},
    AppAction.waitlist: {A.scored: A.waitlisted},
    AppAction.decline: {A.screened_out: A.declined, A.scored: A.declined, A.waitlisted: A.declined},
    AppAction.promote: {A.waitlisted: A.accepted},
}

APP_RULES: dict[AppAction, str] = {
    AppAction.edit: "only_a_draft_is_edited",
    AppAction.attach: "attachments_only_on_a_draft",
    AppAction.remove_attachment: "attachments_only_on_a_draft",
    AppAction.confirm_partnership: "partners_confirm_before_submission",
    AppAction.submit: "only_a_draft_is_submitted",
    AppAction.withdraw: "withdraw_only_before_a_decision",
    AppAction.screen_in: "screen_only_a_submitted_application",
    AppAction.screen_out: "screen_only_a_submitted_application",
    AppAction.assign_reviewer: "reviewers_assigned_only_during_review",
    AppAction.declare_conflict: "conflicts_declared_only_during_review",
    AppAction.score: "scores_only_during_review",
    AppAction.accept: "accept_only_a_scored_application",
    AppAction.waitlist: "waitlist_only_a_scored_application",
    AppAction.decline: "decline_only_after_screening_or_scoring",
    AppAction.promote: "promote_only_from_the_waitlist",
}

APP_TERMINAL = frozenset({A.accepted, A.declined, A.withdrawn})
APP_DECIDED = frozenset({A.accepted, A.declined, A.waitlisted})


class EngStatus(StrEnum):
    opened = "opened"  # accepted; the in-person assessment comes next
    assessed = "assessed"
    planning = "planning"  # a work plan proposed; the city comments, then agrees
    in_progress = "in_progress"
    closing = "closing"  # close-out report written; the city confirms and says whether it may be published
    closed = "closed"
    cancelled = "cancelled"  # ended before the assessment; its place in the round is freed


class EngAction(StrEnum):
    set_team = "set_team"
    complete_assessment = "complete_assessment"
    propose_plan = "propose_plan"
    comment_plan = "comment_plan"
    agree_plan = "agree_plan"
    complete_milestone = "complete_milestone"
    post_update = "post_update"
    record_risk = "record_risk"
    add_partner = "add_partner"
    submit_close_out = "submit_close_out"
    end_early = "end_early"
    cancel = "cancel"
    confirm_close_out = "confirm_close_out"
    record_check_in = "record_check_in"


E = EngStatus
_ACTIVE = (E.opened, E.assessed, E.planning, E.in_progress)

ENG_TRANSITIONS: dict[EngAction, dict[EngStatus, EngStatus | str | None]] = {
    EngAction.set_team: {s: STAY for s in _ACTIVE},
    EngAction.complete_assessment: {E.opened: E.assessed},
    EngAction.propose_plan: {E.assessed: E.planning, E.planning: STAY},
    EngAction.comment_plan: {E.planning: STAY},
    EngAction.agree_plan: {E.planning: E.in_progress},
    EngAction.complete_milestone: {E.in_progress: STAY},
    EngAction.post_update: {s: STAY for s in _ACTIVE},
    EngAction.record_risk: {s: STAY for s in _ACTIVE},
    EngAction.add_partner: {s: STAY for s in _ACTIVE},
    EngAction.submit_close_out: {E.in_progress: E.closing},
    EngAction.end_early: {E.assessed: E.closing, E.planning: E.closing, E.in_progress: E.closing},
    EngAction.cancel: {E.opened: E.cancelled},
    EngAction.confirm_close_out: {E.closing: E.closed},
    EngAction.record_check_in: {E.closed: STAY},
}

ENG_RULES: dict[EngAction, str] = {
    EngAction.set_team: "team_set_only_while_active",
    EngAction.complete_assessment: "assessment_only_at_the_start",
    EngAction.propose_plan: "work_plan_proposed_after_the_assessment",
    EngAction.comment_plan: "comments_only_on_a_proposed_plan",
    EngAction.agree_plan: "only_a_proposed_plan_is_agreed",
    EngAction.complete_milestone: "milestones_completed_only_under_an_agreed_plan",
    EngAction.post_update: "updates_only_while_active",
    EngAction.record_risk: "risks_only_while_active",
    EngAction.add_partner: "partners_only_while_active",
    EngAction.submit_close_out: "close_out_only_after_the_work",
    EngAction.end_early: "end_early_only_after_the_assessment",
    EngAction.cancel: "cancel_only_before_the_assessment",
    EngAction.confirm_close_out: "confirm_only_a_close_out_report",
    EngAction.record_check_in: "check_in_only_after_close_out",
}

ENG_ACTIVE = frozenset(_ACTIVE)


def app_allowed(action: AppAction, status: AppStatus) -> bool:
    return status in APP_TRANSITIONS[action]


def eng_allowed(action: EngAction, status: EngStatus) -> bool:
    return status in ENG_TRANSITIONS[action]
