"""MongoDB: notifications' collections and their indexes.

No query names its index with ``hint``: the planner picks it from the filter on MongoDB and on the
embedded database alike, and on the embedded one (SecantusDB) a hinted find walks the WHOLE index
and reads every document before filtering — measured 750 ms instead of 1.5 ms for one person's
notices among 9,000, which made the 10,000-person digest quadratic. That the planner does pick the
index is checked instead: :func:`explain_queries` (integration test ``test_query_plans`` and
``bench/notifications`` at 10,000 people).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from nrn_kit.mongo import plan_index, plan_stages  # noqa: F401 - re-exported for the plan tests and bench

PEOPLE = "people"  # read model of accounts, plus each person's preferences
CITIES = "cities"  # read model: name, state, time zone
REQUESTS = "requests"  # read model of 311 requests: city, asking official, expert, title
CALLS = "calls"  # per request: the calendar event of its call (UID, SEQUENCE, state)
NOTICES = "notices"  # in-page notices, one per (event, recipient, kind): the idempotency key is _id
MAIL = "mail"  # the outbox of messages: what the sender still has to hand to the SMTP server
FOLLOW_UPS = "follow_ups"  # 90-day follow-up reminders waiting for their day
DEFERRED = "deferred"  # events naming a person not known yet, replayed when their account's events come
CONVENINGS = "convenings"  # read model of peer's convenings: time, place, zone, SEQUENCE, the previous version
REGISTRATIONS = "registrations"  # read model of convening registrations: who, which convening, status
INVITATIONS = "invitations"  # per convening and registrant: the calendar entry mailed (UID, SEQUENCE, open)
PROJECTS = "projects"  # read model of pro bono projects: city, title, the official who posted it
INTRODUCTIONS = "introductions"  # read model of peer introductions: the two cities, who offered it
APPLICATIONS = "applications"  # read model of direct-assistance applications: city, partner cities, submitted
ENGAGEMENTS = "engagements"  # read model of direct-assistance engagements: application, city, title, dates
GROUPS = "groups"  # read model of working groups and the steering committee: name, kind
GROUP_MEMBERS = "group_members"  # read model of their members (a city, an official, a partner expert): active or left
DEFERRED_RETENTION_SECONDS = 30 * 24 * 3600  # a pending account never verified: its waiting notices go

IX_ROLES = "roles"
IX_DIGEST_DUE = "digest_due"
IX_RECIPIENT_NEWEST = "recipient_newest"
IX_RECIPIENT_UNREAD = "recipient_unread"
IX_RECIPIENT_DIGEST = "recipient_digest"
IX_MAIL_DUE = "state_due"
IX_MAIL_NEWEST = "state_newest"
IX_FOLLOW_UP_DUE = "state_due"
IX_DEFERRED_PERSON = "person"
IX_CONVENING = "convening_status"
IX_GROUP_ACTIVE = "group_active"

INDEXES: dict[str, list[IndexModel]] = {
    PEOPLE: [
        IndexModel([("roles", ASCENDING), ("status", ASCENDING)], name=IX_ROLES),
        # only people with a digest waiting carry the field: the scheduler's range is that small
        IndexModel([("digest_due_at", ASCENDING)], name=IX_DIGEST_DUE, sparse=True),
        IndexModel([("city_id", ASCENDING)], name="city"),  # a city renamed or its zone set
    ],
    REQUESTS: [IndexModel([("city_id", ASCENDING)], name="city")],
    REGISTRATIONS: [IndexModel([("convening_id", ASCENDING), ("status", ASCENDING)], name=IX_CONVENING)],
    GROUP_MEMBERS: [IndexModel([("group_id", ASCENDING), ("active", ASCENDING)], name=IX_GROUP_ACTIVE)],
    NOTICES: [
        IndexModel([("recipient", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
                   name=IX_RECIPIENT_NEWEST),
        IndexModel([("recipient", ASCENDING), ("read", ASCENDING), ("created_at", DESCENDING)],
                   name=IX_RECIPIENT_UNREAD),
        IndexModel([("recipient", ASCENDING), ("digest", ASCENDING), ("created_at", ASCENDING)],
                   name=IX_RECIPIENT_DIGEST),
    ],
    MAIL: [
        IndexModel([("state", ASCENDING), ("next_attempt_at", ASCENDING)], name=IX_MAIL_DUE),
        IndexModel([("state", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)], name=IX_MAIL_NEWEST),
    ],
    FOLLOW_UPS: [IndexModel([("state", ASCENDING), ("due_at", ASCENDING)], name=IX_FOLLOW_UP_DUE)],
    DEFERRED: [IndexModel([("person", ASCENDING)], name=IX_DEFERRED_PERSON),
               IndexModel([("created_at", ASCENDING)], name="retention", expireAfterSeconds=DEFERRED_RETENTION_SECONDS)],
}

# Message states. pending → sending → sent; sending → pending (retry later) → … → failed;
# parked when the template fails (kept with its reason and context, retried by staff).
PENDING, SENDING, SENT, FAILED, PARKED = "pending", "sending", "sent", "failed", "parked"
MAIL_STATES = (PENDING, SENDING, SENT, FAILED, PARKED)


# The scheduler's and the sender's queries over collections that grow without bound, shared with
# explain_queries, which shows which index the planner chose for each.

def digests_due(now: datetime) -> dict[str, Any]:
    """People whose digest time has come (index ``digest_due``, sparse: only they carry the field)."""
    return {"digest_due_at": {"$lte": now}}


def digest_notices(person_id: str) -> dict[str, Any]:
    """A person's notices waiting for their digest (index ``recipient_digest``)."""
    return {"recipient": person_id, "digest": "pending"}


def mail_due(state: str, now: datetime) -> dict[str, Any]:
    """Messages in ``state`` whose next attempt (or lease end) has come (index ``state_due``)."""
    return {"state": state, "next_attempt_at": {"$lte": now}}


# query name → (collection, the index the planner must choose)
PLANNED = {"people due": (PEOPLE, IX_DIGEST_DUE), "their notices": (NOTICES, IX_RECIPIENT_DIGEST),
           "mail due": (MAIL, IX_MAIL_DUE)}


async def explain_queries(db: AsyncDatabase, now: datetime, person_id: str) -> dict[str, dict[str, Any]]:
    """The planner's choice (``explain``, verbosity queryPlanner, nothing run) for each query of
    :data:`PLANNED`, exactly as the scheduler and the sender send them: name → explain reply."""
    finds = {
        "people due": {"find": PEOPLE, "filter": digests_due(now), "projection": {"_id": 1}, "limit": 500},
        "their notices": {"find": NOTICES, "filter": digest_notices(person_id), "sort": {"created_at": 1},
                          "limit": 201},
        "mail due": {"find": MAIL, "filter": mail_due(PENDING, now), "projection": {"_id": 1},
                     "sort": {"next_attempt_at": 1}, "limit": 100},
    }
    return {name: await db.command({"explain": find, "verbosity": "queryPlanner"}) for name, find in finds.items()}
