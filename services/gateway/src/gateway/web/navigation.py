"""What the main navigation offers each person, and where each role starts its day.

One table: a link shows only to whom the kit's authorisation matrix lets use the page behind it (the
same rule the page checks), so nobody is offered a link that answers "not allowed". A later section
adds its entry with ``NAVIGATION.append(NavItem(...))`` (or a line below), never a template edit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..auth import Principal

Shows = Callable[[Principal], bool]


def staff_may(*actions: str) -> Shows:
    """Staff who may do any of these actions (kit matrix)."""
    return lambda user: user.is_staff and any(user.can(a) for a in actions)


def official(user: Principal) -> bool:
    return user.is_official


def partner(user: Principal) -> bool:
    return user.is_partner


def anyone(user: Principal) -> bool:
    return True


@dataclass(frozen=True)
class NavItem:
    key: str  # the `nav` a page renders with, to mark the current one
    label: str
    href: str
    shows: Shows


NAVIGATION: list[NavItem] = [
    # staff, in the order of a help desk's day
    NavItem("queue", "311 queue", "/staff/queue", staff_may("request.read")),
    NavItem("applications", "Applications", "/staff/applications", staff_may("application.read")),
    NavItem("engagements", "Engagements", "/staff/engagements", staff_may("engagement.read")),
    NavItem("curation", "Curation", "/staff/curation", staff_may("library.curate", "clearinghouse.maintain")),
    NavItem("accounts", "Accounts", "/staff/accounts", staff_may("account.read")),
    NavItem("cities", "Cities", "/staff/cities", staff_may("city.import", "eligibility.exception", "account.read")),
    NavItem("metrics", "Metrics", "/staff/metrics", staff_may("metrics.read")),
    NavItem("partners", "Partners", "/staff/partners", staff_may("webhook.read")),
    NavItem("peer", "Peer network", "/staff/convenings", staff_may("convening.attendance")),
    NavItem("mail", "Mail", "/staff/mail", lambda u: u.is_staff),  # messages sent, any staff (notifications_pages)
    # partner organizations
    NavItem("webhooks", "Webhooks", "/partner/webhooks", lambda u: u.is_partner and u.is_partner_admin),
    NavItem("events", "Event catalog", "/events", partner),
    # city officials
    NavItem("home", "My city", "/", official),
    NavItem("ask", "Ask a question", "/requests/new", official),
    NavItem("requests", "My requests", "/requests", official),
    NavItem("assistance", "Direct assistance", "/applications", official),
    NavItem("peer", "Peer network", "/convenings", lambda u: u.is_official or u.is_partner),
    # everyone
    NavItem("library", "Library", "/library", anyone),
    NavItem("clearinghouse", "Clearinghouse", "/clearinghouse", anyone),
]


def nav_for(user: Principal | None) -> list[NavItem]:
    if user is None:
        return []
    return [item for item in NAVIGATION if item.shows(user)]


# Where a staff member's work is, by the first of their roles in this order: a triage lead reads what is
# new, an expert what is assigned to them, a reviewer what waits for review, a program manager what is
# about to be late, a curator the curation queue, an administrator the accounts waiting for verification.
LANDINGS: tuple[tuple[str, str], ...] = (
    ("triage_lead", "/staff/queue?queue=new"),
    ("subject_matter_expert", "/staff/queue?queue=mine"),
    ("reviewer", "/staff/queue?queue=in_review"),
    ("program_manager", "/staff/queue?queue=due_soon"),
    ("curator", "/staff/curation"),
    ("administrator", "/staff/accounts?status=pending"),
)


def landing(user: Principal) -> str:
    """The page a staff member starts on (the library for staff with no role yet)."""
    for role, href in LANDINGS:
        if role in user.roles:
            return href
    return "/library"


def default_queue(user: Principal) -> str:
    """The queue tab /staff/queue opens on when none is named."""
    href = landing(user)
    return href.split("queue=", 1)[1] if "queue=" in href else "new"
