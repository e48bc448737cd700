"""MongoDB collections of partners, their indexes, and the documents' shapes.

| collection   | what |
|--------------|------|
| partners     | read model from accounts (PartnerRegistered): name, kind |
| agreements   | one per partner that NRN set (absent: the standard agreement) |
| endpoints    | a partner's endpoints; secrets sealed (adapters/secrets.py) |
| events       | every external event received (the CloudEvent as published), kept EVENT_RETENTION_DAYS for replays |
| lookups      | what filters need and an event may not carry: a city's state (key city:<id>), an aggregate's state and topic (key agg:<subject>) |
| deliveries   | one per (endpoint, event): _id is the webhook-id; state pending → sending → succeeded | failed | cancelled |
| attempts     | the delivery log: one per attempt (status, latency, excerpt, error), kept LOG_RETENTION_DAYS |

No query names its index with ``hint``: on the embedded database (SecantusDB) a hinted find walks
the whole index and reads every document (the dispatcher's due query: over a second per round at
20,000 deliveries). Its planner picks an index only when every field of the filter is in it and
``$in`` is not used, so the dispatcher asks once per unfinished state (equality) and merges the
answers in order; :func:`explain_queries` shows the planner's choice (integration test
``test_query_plans``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from nrn_kit.mongo import explain

from ..domain.endpoints import Endpoint, Filters, SigningSecret
from .secrets import SecretBox

PARTNERS = "partners"
AGREEMENTS = "agreements"
ENDPOINTS = "endpoints"
EVENTS = "events"
LOOKUPS = "lookups"
DELIVERIES = "deliveries"
ATTEMPTS = "attempts"

PENDING, SENDING, SUCCEEDED, FAILED, CANCELLED = "pending", "sending", "succeeded", "failed", "cancelled"
UNFINISHED = (PENDING, SENDING)

IX_DUE = "due"
IX_ORDER = "endpoint_key_state_seq"
IX_LOG = "endpoint_created"
IX_LOG_STATE = "endpoint_state_created"


def indexes(settings) -> dict[str, list[IndexModel]]:  # noqa: ANN001
    day = 24 * 3600
    return {
        ENDPOINTS: [IndexModel([("partner_id", ASCENDING), ("created_at", ASCENDING)], name="partner_created")],
        EVENTS: [IndexModel([("received_at", ASCENDING)], name="received_ttl",
                            expireAfterSeconds=settings.event_retention_days * day),
                 IndexModel([("time", ASCENDING)], name="time")],
        DELIVERIES: [
            IndexModel([("state", ASCENDING), ("next_attempt_at", ASCENDING)], name=IX_DUE),
            # head of line: an earlier unfinished delivery of the same aggregate to the same endpoint (state
            # before seq: the question is asked per unfinished state and skips every finished delivery)
            IndexModel([("endpoint_id", ASCENDING), ("order_key", ASCENDING), ("state", ASCENDING), ("seq", ASCENDING)],
                       name=IX_ORDER),
            # an endpoint's delivery log, newest first, and the same filtered by state
            IndexModel([("endpoint_id", ASCENDING), ("created_at", DESCENDING)], name=IX_LOG),
            IndexModel([("endpoint_id", ASCENDING), ("state", ASCENDING), ("created_at", DESCENDING)],
                       name=IX_LOG_STATE),
            IndexModel([("created_at", ASCENDING)], name="created_ttl",
                       expireAfterSeconds=settings.log_retention_days * day),
        ],
        ATTEMPTS: [
            IndexModel([("delivery_id", ASCENDING), ("n", ASCENDING)], name="delivery_n"),
            IndexModel([("endpoint_id", ASCENDING), ("at", DESCENDING)], name="endpoint_at"),
            IndexModel([("at", ASCENDING)], name="at_ttl", expireAfterSeconds=settings.log_retention_days * day),
        ],
    }


# Indexes earlier versions created that are no longer wanted (the order check without state): dropped at
# start (nrn_kit.mongo.drop_indexes).
OBSOLETE_INDEXES = {DELIVERIES: ("endpoint_key_seq",)}


# The queries that run by themselves (the dispatcher's rounds) or over an endpoint's whole history (the
# delivery log), shared with explain_queries.

def due(state: str, now: datetime) -> dict[str, Any]:
    """Deliveries in ``state`` whose next attempt (or lease end) has come (index ``due``); sort by
    ``next_attempt_at``."""
    return {"state": state, "next_attempt_at": {"$lte": now}}


def earlier_in_order(delivery: dict[str, Any], state: str) -> dict[str, Any]:
    """Deliveries in ``state`` of the same aggregate to the same endpoint that come before ``delivery``
    (index ``endpoint_key_state_seq``)."""
    return {"endpoint_id": delivery["endpoint_id"], "order_key": delivery["order_key"], "state": state,
            "seq": {"$lt": delivery["seq"]}}


def delivery_log(endpoint_id: str, state: str | None, before: datetime | None) -> dict[str, Any]:
    """An endpoint's deliveries, of one state if given, created before ``before`` if given (index
    ``endpoint_created``, or ``endpoint_state_created`` with a state); sort by ``created_at`` descending."""
    query: dict[str, Any] = {"endpoint_id": endpoint_id}
    if state:
        query["state"] = state
    if before:
        query["created_at"] = {"$lt": before}
    return query


async def due_deliveries(db: AsyncDatabase, now: datetime, *, skip: set[str], limit: int) -> AsyncIterator[dict[str, Any]]:
    """At most ``limit`` due deliveries (:func:`due`) of endpoints not in ``skip``, earliest
    ``next_attempt_at`` first.

    One query per unfinished state, merged here: the embedded database's planner picks the ``due``
    index only for an equality on state and a filter of indexed fields alone, so the skipped
    endpoints are passed over here as well, reading on until ``limit`` are found (a disabled
    endpoint's backlog never crowds the others out of a round). Lazy: a round reads what it uses."""
    cursors = [db[DELIVERIES].find(due(state, now)).sort("next_attempt_at", ASCENDING) for state in UNFINISHED]
    try:
        heads = [await anext(cursor, None) for cursor in cursors]
        while limit > 0:
            live = [i for i, head in enumerate(heads) if head is not None]
            if not live:
                return
            first = min(live, key=lambda i: heads[i]["next_attempt_at"])
            delivery, heads[first] = heads[first], await anext(cursors[first], None)
            if delivery["endpoint_id"] not in skip:
                limit -= 1
                yield delivery
    finally:
        for cursor in cursors:
            await cursor.close()


async def earlier_unfinished(db: AsyncDatabase, delivery: dict[str, Any]) -> bool:
    """Whether an earlier delivery of the same aggregate to the same endpoint is still unfinished
    (one equality query per unfinished state: :func:`earlier_in_order`)."""
    for state in UNFINISHED:
        if await db[DELIVERIES].find_one(earlier_in_order(delivery, state), {"_id": 1}) is not None:
            return True
    return False


# query name → (collection, the index the planner must choose)
PLANNED = {"due": (DELIVERIES, IX_DUE), "earlier in order": (DELIVERIES, IX_ORDER),
           "delivery log": (DELIVERIES, IX_LOG), "delivery log of a state": (DELIVERIES, IX_LOG_STATE)}


async def explain_queries(db: AsyncDatabase, now: datetime, delivery: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The planner's choice (nothing run) for each query of :data:`PLANNED`, as the dispatcher and
    the delivery log send them, for ``delivery`` (a document with endpoint_id, order_key and seq):
    name → explain reply."""
    endpoint = delivery["endpoint_id"]
    finds = {
        "due": {"find": DELIVERIES, "filter": due(PENDING, now), "sort": {"next_attempt_at": 1}},
        "earlier in order": {"find": DELIVERIES, "filter": earlier_in_order(delivery, PENDING),
                             "projection": {"_id": 1}, "limit": 1},
        "delivery log": {"find": DELIVERIES, "filter": delivery_log(endpoint, None, now),
                         "sort": {"created_at": -1}, "limit": 50},
        "delivery log of a state": {"find": DELIVERIES, "filter": delivery_log(endpoint, SUCCEEDED, now),
                                    "sort": {"created_at": -1}, "limit": 50},
    }
    return {name: await explain(db, find) for name, find in finds.items()}


def endpoint_to_doc(endpoint: Endpoint, box: SecretBox) -> dict[str, Any]:
    return {
        "_id": endpoint.endpoint_id, "partner_id": endpoint.partner_id, "url": endpoint.url,
        "description": endpoint.description, "event_types": list(endpoint.event_types),
        "filters": endpoint.filters.to_doc(),
        "secrets": [{"sealed": box.seal(s.secret), "created_at": s.created_at, "expires_at": s.expires_at}
                    for s in endpoint.secrets],
        "status": endpoint.status, "disabled_reason": endpoint.disabled_reason, "disabled_at": endpoint.disabled_at,
        "created_by": endpoint.created_by, "created_at": endpoint.created_at, "version": endpoint.version,
    }


def endpoint_from_doc(doc: dict[str, Any], box: SecretBox) -> Endpoint:
    filters = doc.get("filters") or {}
    return Endpoint(
        endpoint_id=doc["_id"], partner_id=doc["partner_id"], url=doc["url"], description=doc.get("description"),
        event_types=tuple(doc.get("event_types") or ()),
        filters=Filters(states=tuple(filters.get("states") or ()), topics=tuple(filters.get("topics") or ())),
        secrets=tuple(SigningSecret(box.open(s["sealed"]), s["created_at"], s.get("expires_at"))
                      for s in doc.get("secrets") or ()),
        status=doc.get("status", "enabled"), disabled_reason=doc.get("disabled_reason"),
        disabled_at=doc.get("disabled_at"), created_by=doc.get("created_by", ""), created_at=doc.get("created_at"),
        version=int(doc.get("version", 1)),
        extra={k: doc.get(k) for k in ("last_success_at", "last_failure_at")},
    )


def delivery_view(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": doc["_id"], "endpoint_id": doc["endpoint_id"], "event_id": doc["event_id"],
        "event_type": doc["event_type"], "state": doc["state"], "attempts": doc.get("attempts", 0),
        "next_attempt_at": doc.get("next_attempt_at") if doc["state"] == PENDING else None,
        "last_status": doc.get("last_status"), "last_error": doc.get("last_error"),
        "created_at": doc.get("created_at"), "finished_at": doc.get("finished_at"),
        "replays": doc.get("replays", 0), "test": bool(doc.get("test")),
    }


def attempt_view(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "delivery_id": doc["delivery_id"], "n": doc["n"], "at": doc["at"], "status": doc.get("status"),
        "latency_ms": doc.get("latency_ms"), "outcome": doc.get("outcome"), "error": doc.get("error"),
        "response_excerpt": doc.get("excerpt"), "event_type": doc.get("event_type"),
    }


