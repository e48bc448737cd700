"""Kinds of notice, and how a person may receive each: the rows of the preferences page.

A kind groups notices a person would switch on or off together. Account and security messages
(mailbox confirmation, password reset, "your password was changed", "your account is verified")
are always e-mailed at once and carry no unsubscribe link: a person cannot opt out of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from nrn_kit.auth import (
    ADMINISTRATOR,
    OFFICIAL,
    PARTNER_ADMINISTRATOR,
    PROGRAM_MANAGER,
    REVIEWER,
    SUBJECT_MATTER_EXPERT,
    TRIAGE_LEAD,
)


class Mode(StrEnum):
    email_now = "email_now"  # an e-mail at once, and the notice on the site
    daily_digest = "daily_digest"  # on the site at once, by e-mail in one message a day
    in_page = "in_page"  # on the site only

    @property
    def label(self) -> str:
        return MODE_LABELS[self]


MODE_LABELS = {
    Mode.email_now: "Email me right away",
    Mode.daily_digest: "One email a day (daily digest)",
    Mode.in_page: "Only on the site, no email",
}


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    description: str
    modes: tuple[Mode, ...]
    default: Mode
    # who the preference row is offered to: "official" or a staff role (a kind nobody of the
    # person's roles can receive is not shown to them)
    audience: frozenset[str]
    security: bool = False  # account and security: always e-mailed now, never unsubscribed

    @property
    def unsubscribable(self) -> bool:
        return not self.security


_ALL = (Mode.email_now, Mode.daily_digest, Mode.in_page)
_EVERYONE = frozenset({OFFICIAL, "staff"})

KINDS: dict[str, Kind] = {k.key: k for k in (
    Kind("account", "Your account and its security",
         "Confirming your email address, resetting your password, a changed password, your account verified.",
         (Mode.email_now,), Mode.email_now, _EVERYONE, security=True),
    Kind("my_questions", "Your city's questions",
         "Receipts, requests for more information, the memo, call times offered, the 90-day follow-up.",
         _ALL, Mode.email_now, frozenset({OFFICIAL})),
    # A calendar invitation in tomorrow's digest would be late for the call it announces.
    Kind("calls", "Call invitations",
         "Calendar invitations for calls about a question, their new times and cancellations.",
         (Mode.email_now, Mode.in_page), Mode.email_now, frozenset({OFFICIAL, SUBJECT_MATTER_EXPERT})),
    Kind("new_questions", "New questions to triage",
         "A city official sent a new question.", _ALL, Mode.email_now, frozenset({TRIAGE_LEAD})),
    Kind("assignments", "Your assignments",
         "A question assigned to you; a memo returned to you by a reviewer.",
         _ALL, Mode.email_now, frozenset({SUBJECT_MATTER_EXPERT})),
    Kind("service_levels", "Missed service levels",
         "A request missed its acknowledgment, memo or call deadline.",
         _ALL, Mode.email_now, frozenset({PROGRAM_MANAGER})),
    Kind("convenings", "Convenings you registered for",
         "Your registration confirmed, your place on the waitlist, a place held for you to confirm, a new time or "
         "place with the calendar update, a cancellation.",
         (Mode.email_now, Mode.in_page), Mode.email_now, frozenset({OFFICIAL, "partner_member"})),
    Kind("introductions", "Peer introductions",
         "NRN suggests your city meet a peer city; the other city's answer. Staff: the cities' answers to "
         "introductions you offered.",
         _ALL, Mode.email_now, frozenset({OFFICIAL, ADMINISTRATOR, PROGRAM_MANAGER, TRIAGE_LEAD})),
    Kind("pro_bono", "Pro bono projects",
         "A volunteer proposed for your city's project or a project proposed to you, the other side's answer, "
         "hours to approve, your project's review.",
         _ALL, Mode.email_now, frozenset({OFFICIAL, "partner_member"})),
    Kind("assistance", "Direct assistance",
         "Your city's application for on-the-ground assistance: received, the decision, a place from the waitlist, "
         "the engagement opened, the work plan agreed, the close-out. Staff: new applications (program managers), "
         "an application assigned to you to score (reviewers).",
         _ALL, Mode.email_now, frozenset({OFFICIAL, PROGRAM_MANAGER, REVIEWER})),
    Kind("working_groups", "Working groups and the steering committee",
         "You or your city joined or left a working group or the Peer Steering Committee, a decision the group "
         "recorded, a deliverable of the group published in the library.",
         _ALL, Mode.email_now, frozenset({OFFICIAL, "partner_member"})),
    Kind("partner_webhooks", "Your organization's webhooks",
         "One of your organization's webhook endpoints stopped receiving deliveries.",
         (Mode.email_now, Mode.in_page), Mode.email_now, frozenset({PARTNER_ADMINISTRATOR})),
)}


def kinds_for(kind: str, roles: frozenset[str]) -> list[Kind]:
    """The kinds a person of account ``kind`` ("official", "staff", …) with ``roles`` may receive."""
    tags = {kind, *roles}
    return [k for k in KINDS.values() if k.audience & tags]


def mode_for(kind: Kind, chosen: str | None) -> Mode:
    """The person's choice when the kind offers it, else the kind's default."""
    if chosen in kind.modes:
        return Mode(chosen)
    return kind.default
