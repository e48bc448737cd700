"""THE table: which event tells whom what, with which template.

One row per (event, recipients). Read a row as: "when <event> happens, tell <who> about it as a
notice of <kind>, written with <template>". ``calendar`` marks the rows whose e-mail carries a
calendar invitation (a new or moved call or convening: REQUEST; a withdrawn one: CANCEL). ``when``
narrows a row to the events a condition accepts.

Who may receive a row's notice is not decided here but by the matrix (``people.may_receive``),
with ``action`` and the subject's city: a row can only narrow who is told, never widen it.

Services built later (direct assistance, peer networking, partners) add their rows here, each in
its own section of the table.
Events of types no row names are ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from nrn_contracts.events import accounts as acc
from nrn_contracts.events import engagements as eng
from nrn_contracts.events import partners as ptn
from nrn_contracts.events import peer
from nrn_contracts.events import requests311 as r311
from pydantic import BaseModel, ConfigDict


class Who(StrEnum):
    account_holder = "the account holder"  # the account the event is about
    asking_official = "the official who asked"
    assigned_expert = "the expert assigned to the request"
    official_and_expert = "the official who asked and the assigned expert"
    triage_leads = "every triage lead"
    program_managers = "every program manager"
    partner_administrators = "the partner organization's administrators"
    # peer networking (read models: registrations, introductions, projects — built from peer's events)
    confirmed_registrants = "the convening's confirmed registrants"
    waiting_registrants = "the convening's waitlisted registrants and those offered a place"
    registrants_it_cancelled = "the registrants whose places the convening's cancellation ended"
    officials_of_both_cities = "the verified officials of both cities"
    officials_of_other_city = "the verified officials of the city that did not just answer"
    offering_staff = "the staff member who offered the introduction"
    volunteer = "the volunteer (the event's account)"
    project_contact = "the official who posted the project"
    # direct assistance (read models: applications, engagements — built from engagements' events)
    applying_city_officials = "the verified officials of the applying city (and of a regional application's partner cities)"
    engagement_city_officials = "the verified officials of the engagement's city"
    assigned_reviewer = "the reviewer assigned to the application"
    # working groups and the Peer Steering Committee (read model: group_members, from MemberJoined/MemberLeft)
    joining_member = "the member who joined or left: that official or partner expert, or the member city's verified officials"
    group_members = "the group's members: its officials and partner experts, the verified officials of its member cities"


class Calendar(StrEnum):
    request = "REQUEST"  # a new call, or a call at a new time (same UID, higher SEQUENCE)
    cancel = "CANCEL"  # the call will not take place (only when an invitation is open)


class FollowUpDue(BaseModel):
    """Not an event of any topic: notifications' own timer, 90 days after a question was answered
    and closed (``schedule.follow_ups_due``), ``closed_at`` + 90 days."""

    model_config = ConfigDict(frozen=True)
    type: ClassVar[str] = "org.nationalresourcenetwork.notifications.follow_up_due.v1"

    request_id: str
    closed_at: datetime


READ_REQUEST = "request.read"  # the matrix action a request's notices need (nrn_kit.auth.MATRIX)
READ_CONVENING = "convening.read"  # a registrant's notices (the registrant alone: the event's account)
READ_WEBHOOKS = "webhook.read"  # a partner's webhook notices: its administrators, for their own partner
ANSWER_INTRODUCTION = "introduction.respond"  # an official, for their own city (one of the two introduced)
MANAGE_INTRODUCTIONS = "introduction.manage"  # staff following introductions
POST_PROJECTS = "probono.post"  # an official, for their own city's projects
VOLUNTEER = "probono.volunteer"  # a professional, for their own matches and hours
READ_APPLICATION = "application.read"  # an official, for their own city's application (or one naming it a partner)
DECIDE_APPLICATIONS = "application.decide"  # program managers (and administrators): the queue of new applications
REVIEW_APPLICATION = "application.review"  # a reviewer, for the application assigned to them
READ_ENGAGEMENT = "engagement.read"  # an official, for their own city's engagement
READ_GROUP = "group.read"  # what the group's page needs; the membership read model names who is told


# Conditions a row can add (``when``): the row applies only to events they accept.
def not_with_the_convening(event: peer.RegistrationCancelled) -> bool:
    """A registration ended on its own (the convening's cancellation tells its registrants itself,
    once, with the reason and the calendar cancellation)."""
    return event.reason != "convening_cancelled"


def by_volunteer(event: peer.MatchAccepted | peer.MatchDeclined) -> bool:
    """The volunteer answered (so the city is told)."""
    return event.side == "volunteer"


def by_city(event: peer.MatchAccepted | peer.MatchDeclined) -> bool:
    """The city answered (so the volunteer is told)."""
    return event.side == "city"


def introduction_decided(event: peer.IntroductionAnswered) -> bool:
    """The answer settled the introduction: both accepted, or one declined."""
    return event.status in ("accepted", "declined")


@dataclass(frozen=True)
class Rule:
    event: type
    who: Who
    kind: str  # kinds.KINDS key
    template: str  # templates/<template>.html and .txt
    action: str | None = READ_REQUEST  # None: an account message, for the account holder only
    calendar: Calendar | None = None
    # False for messages whose reader may not be signed in (confirmation and reset links): e-mail
    # only, and their single-use secret never rests in a notice.
    in_page: bool = True
    when: Callable[[object], bool] | None = None  # None: every event of the type

    @property
    def event_type(self) -> str:
        return self.event.type

    @property
    def about_request(self) -> bool:
        return self.action == READ_REQUEST


W, C = Who, Calendar

RULES: tuple[Rule, ...] = (
    # event                                 who                      kind              template
    Rule(acc.MailboxConfirmationRequested, W.account_holder,        "account",        "confirm_email", action=None, in_page=False),
    Rule(acc.PasswordResetRequested,       W.account_holder,        "account",        "reset_password", action=None, in_page=False),
    Rule(acc.PasswordChanged,              W.account_holder,        "account",        "password_changed", action=None),
    Rule(acc.AccountVerified,              W.account_holder,        "account",        "account_verified", action=None),
    Rule(acc.AccountInformationRequested,  W.account_holder,        "account",        "account_information_requested",
         action=None),
    Rule(acc.AccountRejected,              W.account_holder,        "account",        "account_rejected", action=None),
    Rule(r311.QuestionSubmitted,           W.asking_official,       "my_questions",   "question_received"),
    Rule(r311.QuestionSubmitted,           W.triage_leads,          "new_questions",  "new_question"),
    Rule(r311.InformationRequested,        W.asking_official,       "my_questions",   "information_requested"),
    Rule(r311.ExpertAssigned,              W.assigned_expert,       "assignments",    "expert_assigned"),
    Rule(r311.MemoReturned,                W.assigned_expert,       "assignments",    "memo_returned"),
    Rule(r311.MemoDelivered,               W.asking_official,       "my_questions",   "memo_delivered"),
    Rule(r311.CallSlotsOffered,            W.asking_official,       "my_questions",   "call_slots_offered"),
    Rule(r311.CallScheduled,               W.official_and_expert,   "calls",          "call_scheduled", calendar=C.request),
    # the city asks for another time: the expert offers new slots; the booking then moves the same entry
    Rule(r311.CallRescheduleRequested,     W.assigned_expert,       "assignments",    "call_reschedule_requested"),
    Rule(r311.CallCancelled,               W.official_and_expert,   "calls",          "call_cancelled", calendar=C.cancel),
    Rule(r311.RequestClosed,               W.official_and_expert,   "calls",          "call_cancelled", calendar=C.cancel),
    Rule(r311.ServiceLevelBreached,        W.program_managers,      "service_levels", "service_level_breached"),
    Rule(FollowUpDue,                      W.asking_official,       "my_questions",   "follow_up_due"),
    # the registrant's own calendar invitation (METHOD:REQUEST, the venue's TZID; nobody else's address on it)
    Rule(peer.RegistrationConfirmed,       W.account_holder,        "convenings",     "registration_confirmed",
         action=READ_CONVENING, calendar=C.request),
    Rule(peer.RegistrationWaitlisted,      W.account_holder,        "convenings",     "registration_waitlisted",
         action=READ_CONVENING),
    Rule(peer.WaitlistPromoted,            W.account_holder,        "convenings",     "waitlist_promoted",
         action=READ_CONVENING),
    # a registration that ends on its own: the registrant, and the calendar entry withdrawn if they had one
    Rule(peer.RegistrationCancelled,       W.account_holder,        "convenings",     "registration_cancelled",
         action=READ_CONVENING, calendar=C.cancel, when=not_with_the_convening),
    # a new time, place or title (nothing else people act on): the invitation moves (same UID, higher SEQUENCE)
    Rule(peer.ConveningUpdated,            W.confirmed_registrants, "convenings",     "convening_updated",
         action=READ_CONVENING, calendar=C.request),
    Rule(peer.ConveningUpdated,            W.waiting_registrants,   "convenings",     "convening_updated",
         action=READ_CONVENING),
    # peer cancels each registration first (RegistrationCancelled, reason convening_cancelled), then this:
    # one message each, with the reason, withdrawing the calendar entry of those who had one
    Rule(peer.ConveningCancelled,          W.registrants_it_cancelled, "convenings",  "convening_cancelled",
         action=READ_CONVENING, calendar=C.cancel),
    # each city's officials read what their own page shows: the other city's name and staff's reason
    Rule(peer.IntroductionOffered,         W.officials_of_both_cities, "introductions", "introduction_offered",
         action=ANSWER_INTRODUCTION),
    Rule(peer.IntroductionAnswered,        W.offering_staff,        "introductions",  "introduction_answered",
         action=MANAGE_INTRODUCTIONS),
    Rule(peer.IntroductionAnswered,        W.officials_of_other_city, "introductions", "introduction_decided",
         action=ANSWER_INTRODUCTION, when=introduction_decided),
    # pro bono: the volunteer's name and e-mail reach the city only once both sides accepted the match
    Rule(peer.MatchProposed,               W.volunteer,             "pro_bono",       "match_proposed_volunteer",
         action=VOLUNTEER),
    Rule(peer.MatchProposed,               W.project_contact,       "pro_bono",       "match_proposed_city",
         action=POST_PROJECTS),
    Rule(peer.MatchAccepted,               W.project_contact,       "pro_bono",       "match_accepted",
         action=POST_PROJECTS, when=by_volunteer),
    Rule(peer.MatchAccepted,               W.volunteer,             "pro_bono",       "match_accepted",
         action=VOLUNTEER, when=by_city),
    Rule(peer.MatchDeclined,               W.project_contact,       "pro_bono",       "match_declined",
         action=POST_PROJECTS, when=by_volunteer),
    Rule(peer.MatchDeclined,               W.volunteer,             "pro_bono",       "match_declined",
         action=VOLUNTEER, when=by_city),
    Rule(peer.HoursLogged,                 W.project_contact,       "pro_bono",       "hours_logged",
         action=POST_PROJECTS),
    Rule(peer.ProjectReviewed,             W.project_contact,       "pro_bono",       "project_reviewed",
         action=POST_PROJECTS),
    # ---- direct assistance (engagements): the applying city hears each step, staff their part of the review
    Rule(eng.ApplicationSubmitted,         W.applying_city_officials, "assistance",   "application_received",
         action=READ_APPLICATION),
    Rule(eng.ApplicationSubmitted,         W.program_managers,      "assistance",     "new_application",
         action=DECIDE_APPLICATIONS),
    Rule(eng.ReviewerAssigned,             W.assigned_reviewer,     "assistance",     "review_assigned",
         action=REVIEW_APPLICATION),
    # accepted, waitlisted (with the position) or declined, with the reason staff wrote for the city
    Rule(eng.ApplicationDecided,           W.applying_city_officials, "assistance",   "application_decided",
         action=READ_APPLICATION),
    Rule(eng.ApplicationPromoted,          W.applying_city_officials, "assistance",   "application_promoted",
         action=READ_APPLICATION),
    Rule(eng.EngagementOpened,             W.engagement_city_officials, "assistance", "engagement_opened",
         action=READ_ENGAGEMENT),
    Rule(eng.WorkPlanAgreed,               W.engagement_city_officials, "assistance", "work_plan_agreed",
         action=READ_ENGAGEMENT),
    Rule(eng.EngagementClosed,             W.engagement_city_officials, "assistance", "engagement_closed",
         action=READ_ENGAGEMENT),
    # ---- working groups and the Peer Steering Committee (peer): the members themselves, as the membership read model
    # (built from MemberJoined and MemberLeft) stands when the event arrives — one who left hears no later decision
    Rule(peer.MemberJoined,                W.joining_member,        "working_groups", "group_member_joined",
         action=READ_GROUP),
    Rule(peer.MemberLeft,                  W.joining_member,        "working_groups", "group_member_left",
         action=READ_GROUP),
    Rule(peer.GroupDecisionRecorded,       W.group_members,         "working_groups", "group_decision",
         action=READ_GROUP),
    Rule(peer.DeliverablePublished,        W.group_members,         "working_groups", "deliverable_published",
         action=READ_GROUP),
    # ---- partners
    Rule(ptn.WebhookEndpointDisabled,      W.partner_administrators, "partner_webhooks", "webhook_endpoint_disabled",
         action=READ_WEBHOOKS),
)


def rules_for(event_type: str, event: object | None = None) -> list[Rule]:
    """The rows for an event type, in table order; [] for a type no row names (ignored). With
    ``event``: only the rows whose condition (``when``) accepts it."""
    return [rule for rule in RULES if rule.event_type == event_type
            and (event is None or rule.when is None or rule.when(event))]


# Events that only keep notifications' read models true (people, cities, requests, calls)
# but tell nobody anything themselves.
READ_MODEL_EVENTS: tuple[type, ...] = (
    acc.CityRegistered, acc.AccountRegistered, acc.AccountDeactivated, acc.AccountReactivated, acc.RoleGranted,
    acc.RoleRevoked,
    acc.MailboxConfirmed, r311.CallCompleted, r311.CallMissed, r311.RequestReopened, r311.FollowUpRecorded,
    peer.ConveningScheduled, peer.ProjectPosted, peer.WorkingGroupFormed,
)
# a call's invitation is open (a later booking moves it, a cancellation withdraws it) in these states
OPEN_CALL_STATES = ("scheduled", "missed", "released")
