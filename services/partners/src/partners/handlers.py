"""Use cases: what an event received, a partner's or an administrator's command, and an attempt's answer do.

Each changes the database in one transaction (``Store.transaction``); what the outside must learn
(an endpoint disabled) goes through the outbox in that same transaction.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument

from nrn_contracts import CloudEvent, Event, encode
from nrn_contracts.events import PartnerRegistered, WebhookEndpointDisabled
from nrn_kit.mongo import Store, Tx

from .adapters import mongo as repo
from .adapters.secrets import SecretBox
from .config import Settings
from .domain import catalogue
from .domain.agreements import Agreement
from .domain.agreements import build as build_agreement
from .domain.endpoints import (
    DISABLED,
    ENABLED,
    Endpoint,
    SigningSecret,
    check_filters,
    check_types,
    check_url,
    new_secret,
    rotate,
    webhook_id,
)
from .domain.errors import Conflict, InvalidInput, NotFound
from .domain.schedule import Answer, Outcome, next_attempt, retry_after_seconds

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Snapshot:
    """The consumer's view of enabled endpoints and agreements (refreshed after ENDPOINT_CACHE_SECONDS,
    at once after a change made in this process)."""

    endpoints: list[dict[str, Any]] = field(default_factory=list)
    agreements: dict[str, Agreement] = field(default_factory=dict)
    loaded_at: float = float("-inf")


@dataclass
class Deps:
    store: Store
    settings: Settings
    clock: Clock = system_clock
    box: SecretBox | None = None
    wake: Callable[[], None] = lambda: None  # the dispatcher's
    snapshot: _Snapshot = field(default_factory=_Snapshot)
    generation: int = 0  # moved by every change of endpoints or agreements made in this process

    def __post_init__(self) -> None:
        if self.box is None:
            self.box = SecretBox(self.settings.secret_encryption_key.get_secret_value())

    @property
    def db(self):  # noqa: ANN201
        return self.store.db

    def changed(self) -> None:
        self.snapshot.loaded_at = float("-inf")
        self.generation += 1


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


# --- what partners receive: an event arrives ------------------------------------------------------


async def _snapshot(deps: Deps) -> _Snapshot:
    snap = deps.snapshot
    if time.monotonic() - snap.loaded_at < deps.settings.endpoint_cache_seconds:
        return snap
    endpoints = [d async for d in deps.db[repo.ENDPOINTS].find(
        {}, {"partner_id": 1, "event_types": 1, "filters": 1, "status": 1})]
    agreements = {d["_id"]: Agreement.from_doc(d, d["_id"]) async for d in deps.db[repo.AGREEMENTS].find({})}
    deps.snapshot = _Snapshot(endpoints, agreements, time.monotonic())
    return deps.snapshot


def _topics_of(data: dict[str, Any]) -> list[str]:
    out = []
    if isinstance(data.get("topic"), str):
        out.append(data["topic"])
    if isinstance(data.get("topics"), list):
        out += [t for t in data["topics"] if isinstance(t, str)]
    return out


async def _where(tx: Tx, subject: str, data: dict[str, Any]) -> tuple[str | None, list[str]]:
    """The state and topics an event is about, for filters: its own fields, else what earlier events of
    the same aggregate (or its city) said. Remembers what this one says for the later ones."""
    lookups = tx.db[repo.LOOKUPS]
    state = data.get("state") if isinstance(data.get("state"), str) else None
    city_id = data.get("city_id") if isinstance(data.get("city_id"), str) else None
    topics = _topics_of(data)
    if city_id and state:
        await lookups.update_one({"_id": f"city:{city_id}"}, {"$set": {"state": state}}, upsert=True,
                                 session=tx.session)
    if city_id and not state:
        city = await lookups.find_one({"_id": f"city:{city_id}"}, session=tx.session)
        state = city.get("state") if city else None
    known = await lookups.find_one({"_id": f"agg:{subject}"}, session=tx.session)
    if known:
        state = state or known.get("state")
        topics = topics or list(known.get("topics") or ())
    update = {k: v for k, v in (("state", state), ("topics", topics or None), ("city_id", city_id)) if v}
    if update and (not known or any(known.get(k) != v for k, v in update.items())):
        await lookups.update_one({"_id": f"agg:{subject}"}, {"$set": update}, upsert=True, session=tx.session)
    return state, topics


def delivery_document(endpoint_id: str, partner_id: str, event_id: str, event_type: str, order_key: str,
                      now: datetime, *, test: bool = False) -> dict[str, Any]:
    return {"endpoint_id": endpoint_id, "partner_id": partner_id, "event_id": event_id, "event_type": event_type,
            "order_key": order_key, "seq": ObjectId(), "state": repo.PENDING, "attempts": 0, "tries": 0,
            "next_attempt_at": now, "created_at": now, "replays": 0, "test": test}


async def receive(tx: Tx, deps: Deps, event: Event, ce: CloudEvent) -> int:
    """An external event arrived: keep it (for replays), and make one delivery per enabled endpoint that
    wants it under its partner's agreement and passes its filters. The delivery's ``_id`` is the
    webhook-id, made from the endpoint and the event id, so a redelivered event (even one the inbox
    forgot) makes no second delivery. Returns how many deliveries it made."""
    now = deps.clock()
    if isinstance(event, PartnerRegistered):
        await tx.db[repo.PARTNERS].update_one(
            {"_id": event.partner_id}, {"$set": {"name": event.name, "kind": event.kind}}, upsert=True,
            session=tx.session)
    snap = await _snapshot(deps)
    if not snap.endpoints:
        # No organization has an endpoint: nothing to deliver now or replay later, so the platform's
        # whole history (every city of the starter data, say) costs partners no write.
        return 0
    document = json.loads(encode(ce))
    subject = ce.subject or ce.id
    data = document.get("data") if isinstance(document.get("data"), dict) else {}
    state, topics = await _where(tx, subject, data)
    await tx.db[repo.EVENTS].update_one(
        {"_id": ce.id},
        {"$setOnInsert": {"type": ce.type, "subject": subject, "time": ce.time or now, "received_at": now,
                          "seq": ObjectId(), "state": state, "topics": topics, "cloudevent": document}},
        upsert=True, session=tx.session)
    wanted: dict[str, dict[str, Any]] = {}
    for doc in snap.endpoints:
        if doc.get("status") != ENABLED:
            continue
        agreement = snap.agreements.get(doc["partner_id"]) or Agreement(partner_id=doc["partner_id"])
        if not (agreement.allows_type(ce.type) and catalogue.matches_any(doc.get("event_types") or (), ce.type)):
            continue
        if not _passes(doc.get("filters") or {}, state, topics, agreement):
            continue
        wanted[webhook_id(doc["_id"], ce.id)] = {
            "_id": webhook_id(doc["_id"], ce.id),
            **delivery_document(doc["_id"], doc["partner_id"], ce.id, ce.type, subject, now)}
    made = 0
    if wanted:
        # one read and one write for all the endpoints: a webhook-id that exists already (a redelivered
        # event) is left as it is
        existing = {d["_id"] async for d in tx.db[repo.DELIVERIES].find(
            {"_id": {"$in": list(wanted)}}, {"_id": 1}, session=tx.session)}
        fresh = [doc for wid, doc in wanted.items() if wid not in existing]
        if fresh:
            await tx.db[repo.DELIVERIES].insert_many(fresh, ordered=True, session=tx.session)
        made = len(fresh)
    if made:
        deps.wake()
    return made


def _passes(filters: dict[str, Any], state: str | None, topics: list[str], agreement: Agreement) -> bool:
    states, wanted_topics = filters.get("states") or [], filters.get("topics") or []
    if states and "state" in agreement.filters and state not in states:
        return False
    if wanted_topics and "topic" in agreement.filters and not set(topics) & set(wanted_topics):
        return False
    return True


# --- agreements (NRN administrators) --------------------------------------------------------------


async def get_agreement(deps: Deps, partner_id: str) -> Agreement:
    return Agreement.from_doc(await deps.db[repo.AGREEMENTS].find_one({"_id": partner_id}), partner_id)


async def set_agreement(deps: Deps, partner_id: str, *, event_types: list[str], fields: dict[str, list[str]] | None,
                        personal_data: bool, filters: list[str], version: int | None, by: str) -> Agreement:
    await _known_partner(deps, partner_id)

    async def fn(tx: Tx) -> Agreement:
        current = Agreement.from_doc(await tx.db[repo.AGREEMENTS].find_one({"_id": partner_id}, session=tx.session),
                                     partner_id)
        if version is not None and version != current.version:
            raise Conflict(f"the agreement changed meanwhile (now version {current.version}); reload it",
                           field="version", current_version=current.version)
        agreement = build_agreement(partner_id, event_types=event_types, fields=fields, personal_data=personal_data,
                                    filters=filters, version=current.version + 1, by=by, at=deps.clock())
        await tx.db[repo.AGREEMENTS].replace_one({"_id": partner_id}, agreement.to_doc(), upsert=True,
                                                 session=tx.session)
        return agreement

    agreement = await deps.store.transaction(fn, group=False)
    deps.changed()
    return agreement


async def _known_partner(deps: Deps, partner_id: str) -> dict[str, Any]:
    partner = await deps.db[repo.PARTNERS].find_one({"_id": partner_id})
    if partner is None:
        raise NotFound("no such partner organization", field="partner_id")
    return partner


async def list_partners(deps: Deps) -> list[dict[str, Any]]:
    counts: dict[str, dict[str, int]] = {}
    async for doc in deps.db[repo.ENDPOINTS].find({}, {"partner_id": 1, "status": 1}):
        entry = counts.setdefault(doc["partner_id"], {"enabled": 0, "disabled": 0})
        entry["enabled" if doc.get("status") == ENABLED else "disabled"] += 1
    out = []
    async for doc in deps.db[repo.PARTNERS].find({}).sort("name", 1):
        c = counts.get(doc["_id"], {"enabled": 0, "disabled": 0})
        out.append({"partner_id": doc["_id"], "name": doc.get("name"), "kind": doc.get("kind"),
                    "endpoints_enabled": c["enabled"], "endpoints_disabled": c["disabled"]})
    return out


async def get_partner(deps: Deps, partner_id: str) -> dict[str, Any]:
    doc = await _known_partner(deps, partner_id)
    return {"partner_id": doc["_id"], "name": doc.get("name"), "kind": doc.get("kind")}


# --- endpoints (a partner's administrators) ------------------------------------------------------


async def load_endpoint(deps: Deps, partner_id: str, endpoint_id: str, *, session=None) -> Endpoint:  # noqa: ANN001
    doc = await deps.db[repo.ENDPOINTS].find_one({"_id": endpoint_id, "partner_id": partner_id}, session=session)
    if doc is None:
        raise NotFound("no such endpoint", field="endpoint_id")
    return repo.endpoint_from_doc(doc, deps.box)


async def register_endpoint(deps: Deps, partner_id: str, *, url: str, description: str | None,
                            event_types: list[str], states: list[str] | None, topics: list[str] | None,
                            by: str) -> tuple[Endpoint, str]:
    """A new endpoint and its secret (returned once, never again)."""
    await _known_partner(deps, partner_id)
    agreement = await get_agreement(deps, partner_id)
    url = check_url(url, allow_loopback=deps.settings.allow_loopback_endpoints)
    types = check_types(event_types, agreement)
    filters = check_filters(states, topics, agreement)
    now = deps.clock()
    secret = new_secret()
    endpoint = Endpoint(endpoint_id=new_id("ep"), partner_id=partner_id, url=url,
                        description=(description or "").strip() or None, event_types=types, filters=filters,
                        secrets=(SigningSecret(secret, now),), created_by=by, created_at=now)

    async def fn(tx: Tx) -> None:
        count = await tx.db[repo.ENDPOINTS].count_documents({"partner_id": partner_id}, session=tx.session)
        if count >= deps.settings.max_endpoints_per_partner:
            raise InvalidInput(f"an organization may have at most {deps.settings.max_endpoints_per_partner} "
                               "endpoints; remove one first", field="url")
        await tx.db[repo.ENDPOINTS].insert_one(repo.endpoint_to_doc(endpoint, deps.box), session=tx.session)

    await deps.store.transaction(fn, group=False)
    deps.changed()
    return endpoint, secret


async def list_endpoints(deps: Deps, partner_id: str) -> list[Endpoint]:
    cursor = deps.db[repo.ENDPOINTS].find({"partner_id": partner_id}).sort("created_at", 1)
    return [repo.endpoint_from_doc(d, deps.box) async for d in cursor]


async def _save(deps: Deps, endpoint: Endpoint, expected_version: int | None, tx: Tx) -> Endpoint:
    if expected_version is not None and expected_version != endpoint.version:
        raise Conflict(f"the endpoint changed meanwhile (now version {endpoint.version}); reload it",
                       field="version", current_version=endpoint.version)
    saved = replace(endpoint, version=endpoint.version + 1)
    doc = repo.endpoint_to_doc(saved, deps.box)
    result = await tx.db[repo.ENDPOINTS].update_one({"_id": endpoint.endpoint_id, "version": endpoint.version},
                                                    {"$set": doc}, session=tx.session)
    if result.matched_count == 0:
        raise Conflict("the endpoint changed meanwhile; reload it", field="version")
    return saved


async def update_endpoint(deps: Deps, partner_id: str, endpoint_id: str, *, changes: dict[str, Any],
                          version: int | None) -> Endpoint:
    agreement = await get_agreement(deps, partner_id)

    async def fn(tx: Tx) -> Endpoint:
        endpoint = await load_endpoint(deps, partner_id, endpoint_id, session=tx.session)
        updated = endpoint
        if "url" in changes:
            updated = replace(updated, url=check_url(changes["url"], allow_loopback=deps.settings.allow_loopback_endpoints))
        if "description" in changes:
            updated = replace(updated, description=(changes["description"] or "").strip() or None)
        if "event_types" in changes:
            updated = replace(updated, event_types=check_types(changes["event_types"], agreement))
        if "states" in changes or "topics" in changes:
            updated = replace(updated, filters=check_filters(
                changes.get("states", list(endpoint.filters.states)),
                changes.get("topics", list(endpoint.filters.topics)), agreement))
        if "enabled" in changes:
            if changes["enabled"]:
                updated = replace(updated, status=ENABLED, disabled_reason=None, disabled_at=None)
            elif endpoint.enabled:
                updated = replace(updated, status=DISABLED, disabled_reason="by_partner", disabled_at=deps.clock())
        return await _save(deps, updated, version, tx)

    saved = await deps.store.transaction(fn, group=False)
    deps.changed()
    deps.wake()
    return saved


async def remove_endpoint(deps: Deps, partner_id: str, endpoint_id: str) -> None:
    async def fn(tx: Tx) -> None:
        await load_endpoint(deps, partner_id, endpoint_id, session=tx.session)
        await tx.db[repo.ENDPOINTS].delete_one({"_id": endpoint_id}, session=tx.session)
        await tx.db[repo.DELIVERIES].update_many(
            {"endpoint_id": endpoint_id, "state": {"$in": list(repo.UNFINISHED)}},
            {"$set": {"state": repo.CANCELLED, "last_error": "the endpoint was removed",
                      "finished_at": deps.clock()}}, session=tx.session)

    await deps.store.transaction(fn, group=False)
    deps.changed()


async def rotate_secret(deps: Deps, partner_id: str, endpoint_id: str, *, grace_hours: float | None
                        ) -> tuple[Endpoint, str, datetime | None]:
    hours = deps.settings.secret_grace_default_hours if grace_hours is None else grace_hours
    now = deps.clock()

    async def fn(tx: Tx) -> tuple[Endpoint, str]:
        endpoint = await load_endpoint(deps, partner_id, endpoint_id, session=tx.session)
        rotated, secret = rotate(endpoint, now=now, grace=timedelta(hours=hours))
        return await _save(deps, rotated, None, tx), secret

    endpoint, secret = await deps.store.transaction(fn, group=False)
    deps.changed()
    previous_until = max((s.expires_at for s in endpoint.secrets if s.expires_at), default=None)
    return endpoint, secret, previous_until


def endpoint_view(endpoint: Endpoint, now: datetime, agreement: Agreement | None = None) -> dict[str, Any]:
    """Never a secret: only how many sign now and until when the old ones do."""
    signing = [s for s in endpoint.secrets if s.active(now)]
    return {
        "id": endpoint.endpoint_id, "partner_id": endpoint.partner_id, "url": endpoint.url,
        "description": endpoint.description, "event_types": list(endpoint.event_types),
        "receives": [t for t in catalogue.expand(endpoint.event_types)
                     if agreement is None or agreement.allows_type(t)],
        "filters": endpoint.filters.to_doc(), "status": endpoint.status, "disabled_reason": endpoint.disabled_reason,
        "disabled_at": endpoint.disabled_at, "created_at": endpoint.created_at, "version": endpoint.version,
        "signing_secrets": len(signing),
        "previous_secret_until": max((s.expires_at for s in signing if s.expires_at), default=None),
    }


# --- the delivery log, replays and the test event ------------------------------------------------


async def list_deliveries(deps: Deps, partner_id: str, endpoint_id: str, *, state: str | None, limit: int,
                          before: datetime | None) -> list[dict[str, Any]]:
    await load_endpoint(deps, partner_id, endpoint_id)
    query = repo.delivery_log(endpoint_id, state, before)
    cursor = deps.db[repo.DELIVERIES].find(query).sort("created_at", -1).limit(limit)
    return [d async for d in cursor]


async def get_delivery(deps: Deps, partner_id: str, delivery_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    doc = await deps.db[repo.DELIVERIES].find_one({"_id": delivery_id, "partner_id": partner_id})
    if doc is None:
        raise NotFound("no such delivery", field="delivery_id")
    attempts = [a async for a in deps.db[repo.ATTEMPTS].find({"delivery_id": delivery_id}).sort("n", 1)]
    return doc, attempts


async def replay(deps: Deps, partner_id: str, delivery_id: str) -> dict[str, Any]:
    """Send a finished delivery again, on purpose: same webhook-id, a new round of attempts."""
    doc = await deps.db[repo.DELIVERIES].find_one({"_id": delivery_id, "partner_id": partner_id})
    if doc is None:
        raise NotFound("no such delivery", field="delivery_id")
    endpoint = await load_endpoint(deps, partner_id, doc["endpoint_id"])
    if not endpoint.enabled:
        raise Conflict("the endpoint is disabled: enable it first", field="endpoint_id")
    if doc["state"] in repo.UNFINISHED:
        raise Conflict("this delivery is still being attempted", field="delivery_id")
    now = deps.clock()
    updated = await deps.db[repo.DELIVERIES].find_one_and_update(
        {"_id": delivery_id, "state": {"$nin": list(repo.UNFINISHED)}},
        {"$set": {"state": repo.PENDING, "tries": 0, "next_attempt_at": now, "seq": ObjectId(), "finished_at": None},
         "$inc": {"replays": 1}}, return_document=ReturnDocument.AFTER)
    if updated is None:
        raise Conflict("this delivery is already being attempted again", field="delivery_id")
    deps.wake()
    return updated


async def replay_since(deps: Deps, partner_id: str, endpoint_id: str, since: datetime, *, limit: int = 10_000) -> int:
    """Everything the endpoint wants (now) of the events received since ``since``, again, in order: a
    finished delivery goes again with its webhook-id, an event it never had gets its first delivery."""
    endpoint = await load_endpoint(deps, partner_id, endpoint_id)
    if not endpoint.enabled:
        raise Conflict("the endpoint is disabled: enable it first", field="endpoint_id")
    agreement = await get_agreement(deps, partner_id)
    now = deps.clock()
    queued = 0
    cursor = deps.db[repo.EVENTS].find({"received_at": {"$gte": since}}).sort("seq", 1).limit(limit)
    async for event in cursor:
        if event["type"] == catalogue.TEST_EVENT_TYPE or not endpoint.wants(event["type"], agreement):
            continue
        if not _passes(endpoint.filters.to_doc(), event.get("state"), event.get("topics") or [], agreement):
            continue
        wid = webhook_id(endpoint_id, event["_id"])
        fresh = delivery_document(endpoint_id, partner_id, event["_id"], event["type"], event["subject"], now)
        result = await deps.db[repo.DELIVERIES].update_one({"_id": wid}, {"$setOnInsert": fresh}, upsert=True)
        if result.upserted_id is not None:
            queued += 1
            continue
        again = await deps.db[repo.DELIVERIES].update_one(
            {"_id": wid, "state": {"$nin": list(repo.UNFINISHED)}},
            {"$set": {"state": repo.PENDING, "tries": 0, "next_attempt_at": now, "seq": ObjectId(),
                      "finished_at": None}, "$inc": {"replays": 1}})
        queued += again.modified_count
    deps.wake()
    return queued


async def send_test(deps: Deps, partner_id: str, endpoint_id: str, *, by: str) -> dict[str, Any]:
    endpoint = await load_endpoint(deps, partner_id, endpoint_id)
    if not endpoint.enabled:
        raise Conflict("the endpoint is disabled: enable it first", field="endpoint_id")
    now = deps.clock()
    event_id = str(uuid.uuid4())
    cloudevent = {
        "specversion": "1.0", "id": event_id, "source": "/nrn/partners", "type": catalogue.TEST_EVENT_TYPE,
        "subject": endpoint_id, "time": now.isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "data": {"message": "A test event from the SC2 National Resource Network. If you can read this, your "
                            "endpoint received it; check its signature with your signing secret.",
                 "endpoint_id": endpoint_id, "partner_id": partner_id, "sent_at": now.isoformat()},
    }
    delivery = delivery_document(endpoint_id, partner_id, event_id, catalogue.TEST_EVENT_TYPE, endpoint_id, now,
                                 test=True)
    delivery["_id"] = webhook_id(endpoint_id, event_id)

    async def fn(tx: Tx) -> None:
        await tx.db[repo.EVENTS].insert_one({"_id": event_id, "type": catalogue.TEST_EVENT_TYPE, "subject": endpoint_id,
                                             "time": now, "received_at": now, "seq": ObjectId(), "test": True,
                                             "requested_by": by, "cloudevent": cloudevent}, session=tx.session)
        await tx.db[repo.DELIVERIES].insert_one(delivery, session=tx.session)

    await deps.store.transaction(fn, group=False)
    deps.wake()
    return delivery


# --- an attempt's answer ---------------------------------------------------------------------------


async def record_attempt(deps: Deps, delivery: dict[str, Any], *, answer: Answer, latency_ms: int,
                         excerpt: str | None, rng=None) -> str:  # noqa: ANN001
    """Log one attempt and decide what follows; returns the delivery's new state. Only the dispatcher
    holding the claim may write it (a claim taken over after its lease ran out writes nothing)."""
    now = deps.clock()
    s = deps.settings
    outcome = answer.outcome
    tries = delivery.get("tries", 0) + 1
    n = delivery.get("attempts", 0) + 1
    retry_after = retry_after_seconds(answer.retry_after, now, cap=s.retry_after_max_seconds) \
        if answer.status in (429, 503) else None

    attempt = {
        "delivery_id": delivery["_id"], "endpoint_id": delivery["endpoint_id"],
        "partner_id": delivery["partner_id"], "event_type": delivery["event_type"], "n": n, "at": now,
        "status": answer.status, "latency_ms": latency_ms, "outcome": str(outcome),
        "error": None if outcome == Outcome.succeeded else answer.explanation(), "excerpt": excerpt,
    }
    update: dict[str, Any] = {"attempts": n, "tries": tries, "last_status": answer.status,
                              "last_error": None if outcome == Outcome.succeeded else answer.explanation(),
                              "claim": None}
    disable: str | None = None
    if outcome == Outcome.succeeded:
        update |= {"state": repo.SUCCEEDED, "finished_at": now}
    elif outcome == Outcome.gone:
        update |= {"state": repo.FAILED, "finished_at": now}
        disable = "gone"
    else:
        nxt = next_attempt(tries, now, s.retry_schedule_seconds, jitter=s.retry_jitter, retry_after=retry_after,
                           rng=rng)
        if nxt.give_up:
            update |= {"state": repo.FAILED, "finished_at": now}
            disable = "retries_exhausted"
        else:
            update |= {"state": repo.PENDING, "next_attempt_at": nxt.at}
    claimed = {"_id": delivery["_id"], "claim": delivery.get("claim")}
    if disable is None:
        # the common case without a transaction (they are what costs): the log entry, then the delivery. A crash
        # between the two sends the delivery again after its lease, as a crash before either would.
        await deps.db[repo.ATTEMPTS].insert_one(attempt)
        result = await deps.db[repo.DELIVERIES].update_one(claimed, {"$set": update})
        return update["state"] if result.matched_count else "lost"

    async def fn(tx: Tx) -> str:
        # the last word of a delivery and the endpoint's disabling, with its event, commit together
        await tx.db[repo.ATTEMPTS].insert_one(dict(attempt), session=tx.session)
        result = await tx.db[repo.DELIVERIES].update_one(claimed, {"$set": update}, session=tx.session)
        if result.matched_count == 0:
            return "lost"
        await _disable(tx, deps, delivery["endpoint_id"], reason=disable, answer=answer, attempts=tries, now=now)
        return update["state"]

    state = await deps.store.transaction(fn, group=False)
    return state


async def _disable(tx: Tx, deps: Deps, endpoint_id: str, *, reason: str, answer: Answer, attempts: int,
                   now: datetime) -> None:
    doc = await tx.db[repo.ENDPOINTS].find_one_and_update(
        {"_id": endpoint_id, "status": ENABLED},
        {"$set": {"status": DISABLED, "disabled_reason": reason, "disabled_at": now}, "$inc": {"version": 1}},
        session=tx.session, return_document=ReturnDocument.AFTER)
    if doc is None:
        return  # already disabled: the partner was told then
    tx.emit(WebhookEndpointDisabled(
        endpoint_id=endpoint_id, partner_id=doc["partner_id"], url=doc["url"], description=doc.get("description"),
        reason=reason, last_status=answer.status, last_error=answer.explanation()[:5000], attempts=attempts, at=now))
    deps.changed()

