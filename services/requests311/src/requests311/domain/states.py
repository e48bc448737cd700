"""The request's state machine as data: which action is allowed in which status, and where it leads.

Keeping the table as data lets the tests walk every status × every action and lets the
API tell a client which actions are open now.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    submitted = "submitted"
    triaged = "triaged"
    awaiting_information = "awaiting_information"
    assigned = "assigned"
    memo_drafted = "memo_drafted"
    memo_in_review = "memo_in_review"
    memo_returned = "memo_returned"
    memo_approved = "memo_approved"
    memo_delivered = "memo_delivered"
    call_scheduled = "call_scheduled"
    call_completed = "call_completed"
    call_missed = "call_missed"
    closed = "closed"
    reopened = "reopened"
    declined = "declined"


class Action(StrEnum):
    triage = "triage"
    request_information = "request_information"
    provide_information = "provide_information"
    decline = "decline"
    assign = "assign"
    unassign = "unassign"
    draft_memo = "draft_memo"
    submit_memo = "submit_memo"
    approve_memo = "approve_memo"
    return_memo = "return_memo"
    deliver_memo = "deliver_memo"
    offer_slots = "offer_slots"
    pick_slot = "pick_slot"
    complete_call = "complete_call"
    miss_call = "miss_call"
    reschedule_call = "reschedule_call"
    cancel_call = "cancel_call"
    close = "close"
    give_feedback = "give_feedback"
    record_follow_up = "record_follow_up"
    reopen = "reopen"
    change_consent = "change_consent"
    add_note = "add_note"


S = Status
STAY = None  # the action leaves the status as it is
RESUME = "resume"  # back to the status the request had before it waited on the city

_AFTER_ASSIGNMENT = (
    S.assigned, S.memo_drafted, S.memo_in_review, S.memo_returned, S.memo_approved,
    S.memo_delivered, S.call_missed, S.reopened,
)

# action → {from status: to status | STAY | RESUME}
TRANSITIONS: dict[Action, dict[Status, Status | str | None]] = {
    Action.triage: {S.submitted: S.triaged, S.triaged: STAY},
    Action.request_information: {S.submitted: S.awaiting_information, S.triaged: S.awaiting_information,
                                 S.assigned: S.awaiting_information},
    Action.provide_information: {S.awaiting_information: RESUME},
    Action.decline: {S.submitted: S.declined, S.triaged: S.declined, S.awaiting_information: S.declined},
    Action.assign: {S.triaged: S.assigned, S.assigned: STAY, S.memo_drafted: STAY, S.memo_returned: STAY,
                    S.reopened: STAY},
    # the expert is taken off; the request waits for another (a reopened request stays reopened)
    Action.unassign: {S.assigned: S.triaged, S.memo_drafted: S.triaged, S.memo_returned: S.triaged,
                      S.reopened: STAY},
    Action.draft_memo: {S.assigned: S.memo_drafted, S.memo_drafted: S.memo_drafted,
                        S.memo_returned: S.memo_drafted, S.reopened: S.memo_drafted},
    Action.submit_memo: {S.memo_drafted: S.memo_in_review},
    Action.approve_memo: {S.memo_in_review: S.memo_approved},
    Action.return_memo: {S.memo_in_review: S.memo_returned},
    Action.deliver_memo: {S.memo_approved: S.memo_delivered},
    Action.offer_slots: {s: STAY for s in _AFTER_ASSIGNMENT},
    Action.pick_slot: {S.memo_delivered: S.call_scheduled, S.call_missed: S.call_scheduled,
                       S.reopened: S.call_scheduled},
    Action.complete_call: {S.call_scheduled: S.call_completed},
    Action.miss_call: {S.call_scheduled: S.call_missed},
    # the official releases a booked call: a new time (the expert offers slots again) or none at all
    Action.reschedule_call: {S.call_scheduled: S.memo_delivered},
    Action.cancel_call: {S.call_scheduled: S.memo_delivered},
    # memo_delivered: the city cancelled the call, or never booked one; the memo answers the question
    Action.close: {S.call_completed: S.closed, S.call_missed: S.closed, S.reopened: S.closed, S.memo_delivered: S.closed},
    # asked once the call is recorded or the request closes, whichever comes first (once per round)
    Action.give_feedback: {S.call_completed: STAY, S.closed: STAY},
    Action.record_follow_up: {S.closed: STAY},
    Action.reopen: {S.closed: S.reopened},
    Action.change_consent: {s: STAY for s in Status if s is not S.declined},
    Action.add_note: {s: STAY for s in Status},
}

# why an action is refused in a status: the rule name a client sees in the problem details
RULES: dict[Action, str] = {
    Action.triage: "triage_only_before_assignment",
    Action.request_information: "information_only_requested_before_drafting",
    Action.provide_information: "information_only_provided_when_requested",
    Action.decline: "decline_only_before_assignment",
    Action.assign: "assign_only_after_triage_and_before_review",
    Action.unassign: "unassign_only_an_assigned_request_before_review",
    Action.draft_memo: "memo_drafted_only_when_assigned_or_returned",
    Action.submit_memo: "only_a_drafted_memo_goes_to_review",
    Action.approve_memo: "only_a_memo_in_review_is_approved",
    Action.return_memo: "only_a_memo_in_review_is_returned",
    Action.deliver_memo: "memo_must_be_approved_before_delivery",
    Action.offer_slots: "call_slots_offered_only_while_request_is_active_after_assignment",
    Action.pick_slot: "call_scheduled_only_after_memo_delivery",
    Action.complete_call: "only_a_scheduled_call_is_completed",
    Action.miss_call: "only_a_scheduled_call_is_missed",
    Action.reschedule_call: "only_a_booked_call_is_rescheduled",
    Action.cancel_call: "only_a_booked_call_is_cancelled",
    Action.close: "close_only_after_the_call",
    Action.give_feedback: "feedback_only_after_the_call_or_closing",
    Action.record_follow_up: "follow_up_only_on_a_closed_request",
    Action.reopen: "reopen_only_a_closed_request",
    Action.change_consent: "consent_not_changed_on_a_declined_request",
    Action.add_note: "notes_always_allowed",
}

TERMINAL = frozenset({S.declined})


def allowed(action: Action, status: Status) -> bool:
    return status in TRANSITIONS[action]


def actions_open(status: Status) -> list[Action]:
    return [a for a in Action if allowed(a, status)]

# statuses in which a request counts towards its expert's workload
EXPERT_WORKLOAD = frozenset({
    S.assigned, S.memo_drafted, S.memo_in_review, S.memo_returned, S.memo_approved, S.memo_delivered,
    S.call_scheduled, S.call_missed, S.reopened, S.awaiting_information,
})
OPEN = frozenset(Status) - {S.closed, S.declined}
