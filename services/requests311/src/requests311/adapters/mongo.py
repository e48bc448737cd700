"""MongoDB: the requests collection (the aggregate plus indexed queue fields), read models, indexes.

Queue queries name their index (`hint`): the plan is then the same on MongoDB and on the
embedded database, whose planner falls back to a collection scan when a query has a field
outside the index, and a test asserts that every queue stays index-backed at 100,000 requests.
The breach sweep, which runs by itself every minute, names none: there a hinted find walks the
whole index and reads every document (0.5–1.3 s at 20,000 requests, under load); its filter alone
makes the planner choose ``next_breach_check`` (test ``test_breach_sweep_plan``).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from nrn_kit.mongo import Tx, explain as explain_find

from ..domain.errors import InvalidInput, VersionConflict
from ..domain.metrics import RequestFacts
from ..domain import search
from ..domain.model import TOPIC_LABELS, CityRef
from ..domain.request import Request
from ..domain.routing import ExpertProfile
from ..domain.states import EXPERT_WORKLOAD, OPEN, Status

REQUESTS = "requests"
CITIES = "cities"
EXPERTS = "experts"
OFFICIALS = "officials"  # read model: the name and job title an official registered with (for the memo's header)
FACTS = "request_facts"
COUNTERS = "counters"
METRICS = "program_metrics"  # one document of running totals, see domain/metrics.py
TOTALS_ID = "totals"

IX_SUBMITTED = "submitted"
IX_STATUS = "status_submitted"
IX_CITY = "city_submitted"
IX_TOPIC = "topic_submitted"
IX_STATE = "state_submitted"
IX_EXPERT = "expert_status_submitted"
IX_DUE = "next_due"
IX_RISK = "next_at_risk"
IX_BREACH = "next_breach_check"
IX_FOLLOW_UP = "follow_up_pending"
IX_REFERENCE = "reference"
IX_SEARCH = "search_submitted"
IX_URGENCY = "urgency_due"
IX_DUE_SORT = "due_sort"

_NEWEST = [("submitted_at", DESCENDING), ("_id", DESCENDING)]

INDEXES: dict[str, list[IndexModel]] = {
    REQUESTS: [
        IndexModel(_NEWEST, name=IX_SUBMITTED),
        IndexModel([("status", ASCENDING), *_NEWEST], name=IX_STATUS),
        IndexModel([("city_id", ASCENDING), *_NEWEST], name=IX_CITY),
        IndexModel([("topic", ASCENDING), *_NEWEST], name=IX_TOPIC),
        IndexModel([("us_state", ASCENDING), *_NEWEST], name=IX_STATE),
        IndexModel([("expert_id", ASCENDING), ("status", ASCENDING), *_NEWEST], name=IX_EXPERT),
        IndexModel([("next_due_at", ASCENDING), ("_id", ASCENDING)], name=IX_DUE),
        IndexModel([("next_at_risk_at", ASCENDING), ("next_due_at", ASCENDING)], name=IX_RISK),
        IndexModel([("next_breach_check_at", ASCENDING)], name=IX_BREACH),
        IndexModel([("follow_up_pending_at", ASCENDING)], name=IX_FOLLOW_UP),
        IndexModel([("search_terms", ASCENDING), *_NEWEST], name=IX_SEARCH),
        IndexModel([("urgency_rank", ASCENDING), ("due_sort_at", ASCENDING), ("_id", ASCENDING)], name=IX_URGENCY),
        IndexModel([("due_sort_at", ASCENDING), ("_id", ASCENDING)], name=IX_DUE_SORT),
        IndexModel([("published.resource_id", ASCENDING)], name="published_resource"),
        IndexModel([("reference", ASCENDING)], name=IX_REFERENCE, sparse=True),
    ],
    EXPERTS: [IndexModel([("expertise", ASCENDING)], name="expertise")],
}

QUEUES = ("new", "awaiting_information", "in_review", "by_expert", "due_soon", "overdue", "follow_up_due")


# ---------------------------------------------------------------------------- documents


URGENCY_RANK = {"urgent": 0, "soon": 1, "routine": 2}
NEVER = datetime(9999, 12, 31, tzinfo=UTC)  # sorts after every due date: requests with no clock running


def to_document(req: Request, now: datetime) -> dict[str, Any]:
    doc = req.model_dump(mode="python")
    doc["_id"] = req.id
    doc.update(req.sla_index(now))
    doc["follow_up_pending_at"] = (
        req.follow_up_due_at if req.status is Status.closed and req.follow_up is None else None
    )
    # the queue's sorts and keyword search are index ranges too (no nulls in a sort key, no regex scan)
    doc["urgency_rank"] = URGENCY_RANK.get(req.urgency, 2)
    doc["due_sort_at"] = doc["next_due_at"] or NEVER
    doc["search_terms"] = search.terms([
        req.title, req.question, req.city_name, req.us_state, req.reference, req.id,
        TOPIC_LABELS.get(req.topic, ""), req.expert_name])
    return doc


def from_document(doc: dict[str, Any]) -> Request:
    return Request.model_validate({k: v for k, v in doc.items() if k in Request.model_fields})


# ---------------------------------------------------------------------------- the aggregate


class RequestRepository:
    """Loads and saves requests inside a transaction (`session`), with optimistic concurrency."""

    def __init__(self, db: AsyncDatabase, session: AsyncClientSession | None = None) -> None:
        self.db = db
        self.session = session

    async def get(self, request_id: str) -> Request | None:
        doc = await self.db[REQUESTS].find_one({"_id": request_id}, session=self.session)
        return from_document(doc) if doc else None

    async def save(self, req: Request, *, expected_version: int, now: datetime, by_person: bool = True) -> None:
        """Write `req`, unless someone else wrote since it was read.

        A person's command (`by_person`) makes it version `expected_version + 1`; a background fact keeps
        the version. Raises VersionConflict when the version moved (a person must reload), RevisionMoved
        when only a background fact did (the caller runs its transaction again).
        """
        read_revision = req.revision
        req.revision = read_revision + 1
        if by_person:
            req.version = expected_version + 1
        # documents written before revisions existed have none: they are revision 0
        revision = read_revision if read_revision else {"$in": [0, None]}
        result = await self.db[REQUESTS].replace_one(
            {"_id": req.id, "version": expected_version, "revision": revision}, to_document(req, now),
            session=self.session
        )
        if result.matched_count == 0:
            current = await self.db[REQUESTS].find_one({"_id": req.id}, {"version": 1}, session=self.session)
            if current is not None and current["version"] == expected_version:
                raise RevisionMoved(req.id)
            raise VersionConflict(expected_version, current["version"] if current else None)


class RevisionMoved(Exception):
    """A background fact was written between this transaction's read and its write: run it again."""


# ---------------------------------------------------------------------------- lists and queues


@dataclass(frozen=True)
class ListQuery:
    queue: str | None = None
    expert_id: str | None = None
    topic: str | None = None
    city_id: str | None = None
    state: str | None = None
    statuses: tuple[str, ...] = ()
    limit: int = 20
    cursor: str | None = None
    reference: str | None = None
    official_id: str | None = None
    q: str | None = None  # keyword search: every word must be among the request's search terms
    sort: str | None = None  # newest (default) | oldest | due | urgency; due_soon/overdue/follow_up_due keep theirs


SORTS: dict[str, list[tuple[str, int]]] = {
    "newest": _NEWEST,
    "oldest": [("submitted_at", ASCENDING), ("_id", ASCENDING)],
    "due": [("due_sort_at", ASCENDING), ("_id", ASCENDING)],
    "urgency": [("urgency_rank", ASCENDING), ("due_sort_at", ASCENDING), ("_id", ASCENDING)],
}


def _encode_cursor(values: list[Any]) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: list[tuple[str, int]]) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(sort):
            raise ValueError("shape")
        # only what we put in: ISO times and ids (a number past 64 bits or an operator object from a
        # forged cursor would otherwise reach the database)
        if not all(v is None or isinstance(v, str) for v in values):
            raise ValueError("values")
        out = [datetime.fromisoformat(v) if name.endswith("_at") and v is not None else v
               for v, (name, _) in zip(values, sort, strict=True)]
        if any(isinstance(v, datetime) and v.tzinfo is None for v in out):
            raise ValueError("naive time")  # compared with aware times it would raise, not refuse
        return out
    except (ValueError, TypeError) as exc:
        raise InvalidInput("cursor_invalid", "the cursor is not one this service issued", field="cursor") from exc


def _after(sort: list[tuple[str, int]], values: list[Any]) -> dict[str, Any]:
    """Keyset pagination: documents strictly after `values` in `sort` order."""
    ors = []
    for i, (name, direction) in enumerate(sort):
        clause = {sort[j][0]: values[j] for j in range(i)}
        clause[name] = {"$lt" if direction == DESCENDING else "$gt": values[i]}
        ors.append(clause)
    return {"$or": ors}


def plan(q: ListQuery, now: datetime) -> tuple[dict[str, Any], list[tuple[str, int]], str]:
    """The filter, sort and index for a list or queue query."""
    f: dict[str, Any] = {}
    sort = _NEWEST
    hint = IX_SUBMITTED
    if q.topic:
        f["topic"] = q.topic
        hint = IX_TOPIC
    if q.state:
        f["us_state"] = q.state
        hint = IX_STATE
    if q.statuses:
        f["status"] = q.statuses[0] if len(q.statuses) == 1 else {"$in": list(q.statuses)}
        hint = IX_STATUS
    if q.city_id:
        f["city_id"] = q.city_id
        hint = IX_CITY
    if q.expert_id:
        f["expert_id"] = q.expert_id
        hint = IX_EXPERT
    if q.official_id:
        f["official_id"] = q.official_id  # an official's questions: within their city's range
    if q.sort in ("due", "urgency") and not (q.city_id or q.expert_id):
        hint = IX_URGENCY if q.sort == "urgency" else IX_DUE_SORT
    if q.sort:
        if q.sort not in SORTS:
            raise InvalidInput("unknown_sort", f"sort must be one of {', '.join(SORTS)}", field="sort")
        sort = SORTS[q.sort]
    if q.q:
        wanted = search.words(q.q)[:10]
        if wanted:
            f["search_terms"] = {"$all": wanted}
            hint = IX_SEARCH
    if q.reference:
        f["reference"] = q.reference.upper()
        hint = IX_REFERENCE
    queue = q.queue
    if queue in ("new", "awaiting_information", "in_review"):
        status = {"new": "submitted", "in_review": "memo_in_review"}.get(queue, queue)
        if q.statuses and status not in q.statuses:
            f["status"] = {"$in": []}
        else:
            f["status"] = status
        hint = IX_STATUS
    elif queue == "by_expert":
        if not q.expert_id:
            raise InvalidInput("expert_required", "queue=by_expert needs expert_id", field="expert_id")
        if not q.statuses:
            f["status"] = {"$in": sorted(EXPERT_WORKLOAD)}
        hint = IX_EXPERT
    elif queue == "overdue":
        f["next_due_at"] = {"$lte": now}
        sort, hint = [("next_due_at", ASCENDING), ("_id", ASCENDING)], IX_DUE
    elif queue == "due_soon":
        f["next_at_risk_at"] = {"$lte": now}
        f["next_due_at"] = {"$gt": now}
        sort, hint = [("next_due_at", ASCENDING), ("_id", ASCENDING)], IX_RISK
    elif queue == "follow_up_due":
        f["follow_up_pending_at"] = {"$lte": now}
        sort, hint = [("follow_up_pending_at", ASCENDING), ("_id", ASCENDING)], IX_FOLLOW_UP
    elif queue is not None:
        raise InvalidInput("unknown_queue", f"queue must be one of {', '.join(QUEUES)}", field="queue")
    return f, sort, hint


_SUMMARY_FIELDS = {
    "id": 1, "reference": 1, "version": 1, "status": 1, "title": 1, "topic": 1, "urgency": 1, "city_id": 1, "city_name": 1,
    "us_state": 1, "expert_id": 1, "submitted_at": 1, "next_due_at": 1, "next_at_risk_at": 1, "paused": 1,
    "memo_versions.delivered_at": 1, "closed_at": 1,
    "expert_name": 1, "next_due_step": 1, "official_id": 1, "urgency_rank": 1, "due_sort_at": 1,
}


async def list_requests(db: AsyncDatabase, q: ListQuery, now: datetime) -> tuple[list[dict[str, Any]], str | None]:
    f, sort, hint = plan(q, now)
    if q.cursor:
        f = {"$and": [f, _after(sort, _decode_cursor(q.cursor, sort))]} if f else _after(
            sort, _decode_cursor(q.cursor, sort))
    docs = await db[REQUESTS].find(f, _SUMMARY_FIELDS).sort(sort).hint(hint).limit(q.limit + 1).to_list()
    next_cursor = None
    if len(docs) > q.limit:
        docs = docs[: q.limit]
        last = docs[-1]
        next_cursor = _encode_cursor([last.get(name) for name, _ in sort])
    return docs, next_cursor


async def explain(db: AsyncDatabase, q: ListQuery, now: datetime) -> dict[str, Any]:
    """The planner's choice for a list query, without running it (verbosity queryPlanner)."""
    f, sort, hint = plan(q, now)
    find = {"find": REQUESTS, "filter": f, "projection": _SUMMARY_FIELDS, "sort": dict(sort), "hint": hint,
            "limit": q.limit + 1}
    return await explain_find(db, find)


async def queue_counts(db: AsyncDatabase, now: datetime, expert_id: str | None) -> dict[str, int]:
    counts = {}
    for queue in ("new", "awaiting_information", "in_review", "due_soon", "overdue", "follow_up_due"):
        f, _, hint = plan(ListQuery(queue=queue), now)
        counts[queue] = await db[REQUESTS].count_documents(f, hint=hint)
    if expert_id:
        f, _, hint = plan(ListQuery(queue="by_expert", expert_id=expert_id), now)
        counts["mine"] = await db[REQUESTS].count_documents(f, hint=hint)
    return counts


# Before every breach check: the lower bound of the breach sweep's range.
_NO_CHECK_BEFORE = datetime(1970, 1, 1, tzinfo=UTC)


def breach_checks_due(now: datetime) -> dict[str, Any]:
    """Requests whose next service-level check has come (index ``next_breach_check``).

    Bounded below as well: a request with nothing left to check has ``next_breach_check_at: null``
    (every closed request, most of the collection), null sorts before every date in the index, and
    the embedded database's planner scans ``$lte`` alone from the start of the index, reading each
    of those documents (no ``hint`` either: a hinted find there walks the whole index)."""
    return {"next_breach_check_at": {"$gte": _NO_CHECK_BEFORE, "$lte": now}}


async def due_for_breach_check(db: AsyncDatabase, now: datetime, limit: int) -> list[str]:
    """Ids of at most ``limit`` requests due for a service-level check (the breach sweep, every minute)."""
    cursor = db[REQUESTS].find(breach_checks_due(now), {"_id": 1}).limit(limit)
    return [d["_id"] async for d in cursor]


async def explain_breach_sweep(db: AsyncDatabase, now: datetime, limit: int) -> dict[str, Any]:
    """The planner's choice for the breach sweep's query as :func:`due_for_breach_check` sends it (nothing run)."""
    find = {"find": REQUESTS, "filter": breach_checks_due(now), "projection": {"_id": 1}, "limit": limit}
    return await explain_find(db, find)


# ---------------------------------------------------------------------------- read models


async def get_city(db: AsyncDatabase, city_id: str, session: AsyncClientSession | None = None) -> CityRef | None:
    doc = await db[CITIES].find_one({"_id": city_id}, session=session)
    if not doc or not doc.get("name"):
        return None
    return CityRef(id=city_id, name=doc["name"], us_state=doc.get("state") or "",
                   eligible=bool(doc.get("eligible", False)), time_zone=doc.get("time_zone"))


async def next_reference(db: AsyncDatabase, year: int, session: AsyncClientSession | None) -> str:
    """The next human reference of a year ("NRN-2026-00123"), numbered in the submitting transaction."""
    doc = await db[COUNTERS].find_one_and_update({"_id": f"reference-{year}"}, {"$inc": {"value": 1}}, upsert=True,
                                                 return_document=ReturnDocument.AFTER, session=session)
    return f"NRN-{year}-{int(doc['value']):05d}"


def expert_profile(doc: dict[str, Any]) -> ExpertProfile:
    return ExpertProfile(
        id=doc["_id"], name=doc.get("name") or "", expertise=frozenset(doc.get("expertise") or ()),
        active=bool(doc.get("is_expert")) and not doc.get("deactivated") and doc.get("available", True),
        open_requests=max(int(doc.get("open_requests") or 0), 0), capacity=doc.get("capacity"),
    )


async def official_name(db: AsyncDatabase, official_id: str) -> tuple[str, str]:
    """(name, job title) of an official as accounts registered them; ("", "") when not heard of."""
    doc = await db[OFFICIALS].find_one({"_id": official_id}) or {}
    return doc.get("name") or "", doc.get("title") or ""


async def people_names(db: AsyncDatabase, ids: set[str]) -> dict[str, str]:
    """Names of staff and officials by account id, from the read models of accounts' events."""
    wanted = sorted(i for i in ids if i)
    if not wanted:
        return {}
    out: dict[str, str] = {}
    for collection in (OFFICIALS, EXPERTS):
        async for doc in db[collection].find({"_id": {"$in": wanted}}, {"name": 1}):
            if doc.get("name"):
                out[doc["_id"]] = doc["name"]
    return out


async def list_experts(db: AsyncDatabase, topic: str | None = None) -> list[ExpertProfile]:
    f: dict[str, Any] = {"is_expert": True}
    if topic:
        f["expertise"] = topic
    return [expert_profile(d) async for d in db[EXPERTS].find(f).sort("_id", ASCENDING)]


async def get_expert(db: AsyncDatabase, expert_id: str, session: AsyncClientSession | None = None
                     ) -> ExpertProfile | None:
    doc = await db[EXPERTS].find_one({"_id": expert_id, "is_expert": True}, session=session)
    return expert_profile(doc) if doc else None


def workload_key(req: Request | None) -> tuple[str | None, bool]:
    if req is None:
        return None, False
    return req.expert_id, req.status in EXPERT_WORKLOAD


async def adjust_workload(db: AsyncDatabase, session: AsyncClientSession, before: tuple[str | None, bool],
                          after: tuple[str | None, bool]) -> None:
    """Keep `experts.open_requests` exact: the change happens in the command's own transaction."""
    if before == after:
        return
    (old_expert, old_open), (new_expert, new_open) = before, after
    if old_expert and old_open:
        await db[EXPERTS].update_one({"_id": old_expert}, {"$inc": {"open_requests": -1}}, upsert=True,
                                     session=session)
    if new_expert and new_open:
        await db[EXPERTS].update_one({"_id": new_expert}, {"$inc": {"open_requests": 1}}, upsert=True,
                                     session=session)


async def load_facts(db: AsyncDatabase, request_id: str, session: AsyncClientSession | None
                     ) -> RequestFacts | None:
    doc = await db[FACTS].find_one({"_id": request_id}, session=session)
    return RequestFacts.model_validate(doc) if doc else None


def add_new(tx: Tx, req: Request, facts: RequestFacts | None, now: datetime) -> None:
    """A request just submitted, and its metrics facts: queued with ``tx.insert``, so a group of submits
    writes its requests in one statement and their facts in another (nrn_kit.mongo.Tx.insert). Its id
    is fresh (handlers.new_request_id), so nothing in the transaction reads either back; an id that
    exists already fails the submit with DuplicateKeyError, as a single insert did."""
    req.version = 1
    tx.insert(REQUESTS, to_document(req, now))
    if facts is not None:
        tx.insert(FACTS, {**facts.model_dump(mode="python"), "_id": facts.request_id})


async def save_facts(db: AsyncDatabase, facts: RequestFacts, session: AsyncClientSession | None) -> None:
    doc = facts.model_dump(mode="python")
    doc["_id"] = facts.request_id
    await db[FACTS].replace_one({"_id": facts.request_id}, doc, upsert=True, session=session)


async def all_facts(db: AsyncDatabase, session: AsyncClientSession | None = None) -> list[RequestFacts]:
    return [RequestFacts.model_validate(d) async for d in db[FACTS].find({}, {"_id": 0}, session=session)]


async def add_to_totals(db: AsyncDatabase, change: dict[str, int], session: AsyncClientSession | None) -> None:
    if change:
        await db[METRICS].update_one({"_id": TOTALS_ID}, {"$inc": change}, upsert=True, session=session)


async def replace_totals(db: AsyncDatabase, totals: dict[str, int], session: AsyncClientSession | None) -> None:
    await db[METRICS].delete_one({"_id": TOTALS_ID}, session=session)
    await db[METRICS].insert_one({"_id": TOTALS_ID}, session=session)  # present even when there is nothing yet
    await add_to_totals(db, totals, session)


async def read_totals(db: AsyncDatabase) -> dict[str, Any] | None:
    return await db[METRICS].find_one({"_id": TOTALS_ID})


async def counter(db: AsyncDatabase, name: str) -> int:
    doc = await db[COUNTERS].find_one({"_id": name})
    return int(doc["value"]) if doc else 0


__all__ = [
    "CITIES", "COUNTERS", "EXPERTS", "FACTS", "INDEXES", "METRICS", "OPEN", "QUEUES", "REQUESTS", "ListQuery",
    "RequestRepository", "add_new", "add_to_totals", "adjust_workload", "all_facts", "breach_checks_due",
    "due_for_breach_check", "explain", "explain_breach_sweep", "get_city", "get_expert", "list_experts", "people_names",
    "list_requests", "load_facts", "plan", "queue_counts", "read_totals",
    "replace_totals", "save_facts",
]
