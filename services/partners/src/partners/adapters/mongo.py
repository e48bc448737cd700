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
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel

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
IX_ORDER = "endpoint_key_seq"
IX_LOG = "endpoint_created"


def indexes(settings) -> dict[str, list[IndexModel]]:  # noqa: ANN001
    day = 24 * 3600
    return {
        ENDPOINTS: [IndexModel([("partner_id", ASCENDING), ("created_at", ASCENDING)], name="partner_created")],
        EVENTS: [IndexModel([("received_at", ASCENDING)], name="received_ttl",
                            expireAfterSeconds=settings.event_retention_days * day),
                 IndexModel([("time", ASCENDING)], name="time")],
        DELIVERIES: [
            IndexModel([("state", ASCENDING), ("next_attempt_at", ASCENDING)], name=IX_DUE),
            # head of line: an earlier unfinished delivery of the same aggregate to the same endpoint
            IndexModel([("endpoint_id", ASCENDING), ("order_key", ASCENDING), ("seq", ASCENDING)], name=IX_ORDER),
            IndexModel([("endpoint_id", ASCENDING), ("created_at", DESCENDING)], name=IX_LOG),
            IndexModel([("created_at", ASCENDING)], name="created_ttl",
                       expireAfterSeconds=settings.log_retention_days * day),
        ],
        ATTEMPTS: [
            IndexModel([("delivery_id", ASCENDING), ("n", ASCENDING)], name="delivery_n"),
            IndexModel([("endpoint_id", ASCENDING), ("at", DESCENDING)], name="endpoint_at"),
            IndexModel([("at", ASCENDING)], name="at_ttl", expireAfterSeconds=settings.log_retention_days * day),
        ],
    }


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


