"""MongoDB: notifications' collections and their indexes.

Queries that must stay index-backed name their index (``hint``), so the plan is the same on
MongoDB and on the embedded database; the digest's plan is checked with ``explain()`` in
``bench/notifications`` at 10,000 people.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

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

INDEXES: dict[str, list[IndexModel]] = {
    PEOPLE: [
        IndexModel([("roles", ASCENDING), ("status", ASCENDING)], name=IX_ROLES),
        # only people with a digest waiting carry the field: the scheduler's range is that small
        IndexModel([("digest_due_at", ASCENDING)], name=IX_DIGEST_DUE, sparse=True),
        IndexModel([("city_id", ASCENDING)], name="city"),  # a city renamed or its zone set
    ],
    REQUESTS: [IndexModel([("city_id", ASCENDING)], name="city")],
    REGISTRATIONS: [IndexModel([("convening_id", ASCENDING), ("status", ASCENDING)], name=IX_CONVENING)],
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


# The daily digest's two queries, shared by the scheduler (handlers.send_digests) and explain_digest.

def digests_due(now: datetime) -> tuple[dict[str, Any], str]:
    """People whose digest time has come: (filter, index)."""
    return {"digest_due_at": {"$lte": now}}, IX_DIGEST_DUE


def digest_notices(person_id: str) -> tuple[dict[str, Any], str]:
    """A person's notices waiting for their digest, oldest first: (filter, index)."""
    return {"recipient": person_id, "digest": "pending"}, IX_RECIPIENT_DIGEST


async def explain_digest(db: AsyncDatabase, now: datetime, person_id: str) -> dict[str, dict[str, Any]]:
    """The planner's choice for both digest queries, without running them (verbosity queryPlanner)."""
    due, due_index = digests_due(now)
    pending, pending_index = digest_notices(person_id)
    return {
        "people due": await db.command({"explain": {"find": PEOPLE, "filter": due, "projection": {"_id": 1},
                                                    "hint": due_index, "limit": 500}, "verbosity": "queryPlanner"}),
        "their notices": await db.command({"explain": {"find": NOTICES, "filter": pending, "sort": {"created_at": 1},
                                                       "hint": pending_index, "limit": 201},
                                           "verbosity": "queryPlanner"}),
    }


def plan_stages(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """Every stage of a winning plan, outermost first."""
    out, stack = [], [plan]
    while stack:
        node = stack.pop()
        out.append(node)
        stack += [node["inputStage"]] if "inputStage" in node else []
        stack += node.get("inputStages", [])
    return out
