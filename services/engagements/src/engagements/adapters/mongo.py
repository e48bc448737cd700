"""MongoDB: applications, engagements and funding rounds (the aggregates plus indexed list fields),
the read models learned from other services' events, and the indexes.

List and queue queries name their index (`hint`): the plan is then the same on MongoDB and on the
embedded database, whose planner falls back to a collection scan when a filter has a field outside
the index. Calendar dates are stored as ISO strings ("2025-06-30"), which sort as dates; BSON has
no date-only type.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from ..domain.application import Application
from ..domain.engagement import Engagement
from ..domain.errors import InvalidInput, NotFound, VersionConflict
from ..domain.model import CityRef, PersonRef
from ..domain.rounds import FundingRound, round_for
from ..domain.states import APP_TERMINAL, AppStatus

APPLICATIONS = "applications"
ENGAGEMENTS = "engagements"
ROUNDS = "rounds"
CITIES = "cities"
PEOPLE = "people"
ANSWERED = "answered_questions"
ATTACHMENTS_BUCKET = "attachments"  # GridFS: attachments.files, attachments.chunks

IX_CITY = "city_created"
IX_PARTNER = "partner_created"
IX_STATUS = "status_submitted"
IX_REVIEWER = "reviewer_status"
IX_WAITLIST = "waitlist"
IX_ENG_CITY = "city_opened"
IX_ENG_STATUS = "status_opened"
IX_NEXT_DUE = "next_due"
IX_CHECK_IN = "check_in_pending"
IX_BARRIERS = "barriers_opened"

WAITLIST_ORDER = [("score", DESCENDING), ("submitted_at", ASCENDING), ("_id", ASCENDING)]

INDEXES: dict[str, list[IndexModel]] = {
    APPLICATIONS: [
        IndexModel([("city_id", ASCENDING), ("created_at", DESCENDING)], name=IX_CITY),
        IndexModel([("partner_city_ids", ASCENDING), ("created_at", DESCENDING)], name=IX_PARTNER),
        IndexModel([("status", ASCENDING), ("submitted_at", ASCENDING), ("_id", ASCENDING)], name=IX_STATUS),
        IndexModel([("reviewer_ids", ASCENDING), ("status", ASCENDING), ("submitted_at", ASCENDING)],
                   name=IX_REVIEWER),
        IndexModel([("round_id", ASCENDING), ("status", ASCENDING), *WAITLIST_ORDER], name=IX_WAITLIST),
        IndexModel([("attachments.id", ASCENDING)], name="attachments"),
    ],
    ENGAGEMENTS: [
        IndexModel([("application_id", ASCENDING)], name="application", unique=True),
        IndexModel([("city_id", ASCENDING), ("opened_at", DESCENDING)], name=IX_ENG_CITY),
        IndexModel([("status", ASCENDING), ("opened_at", DESCENDING)], name=IX_ENG_STATUS),
        IndexModel([("next_due_on", ASCENDING)], name=IX_NEXT_DUE),
        IndexModel([("check_in_pending_on", ASCENDING)], name=IX_CHECK_IN),
        IndexModel([("barriers", ASCENDING), ("opened_at", DESCENDING)], name=IX_BARRIERS),
    ],
    ROUNDS: [IndexModel([("opens_on", DESCENDING)], name="opens_on")],
    PEOPLE: [IndexModel([("roles", ASCENDING)], name="roles")],
    ANSWERED: [IndexModel([("topic", ASCENDING), ("delivered_at", DESCENDING)], name="topic_delivered")],
}


# ---------------------------------------------------------------------------- documents


def bson_ready(value: Any) -> Any:
    """A python-mode dump made storable: dates as ISO strings, Decimals as strings, string keys."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k.value if isinstance(k, Enum) else k): bson_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [bson_ready(v) for v in value]
    return value


M = TypeVar("M", bound=BaseModel)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def application_fields(app: Application) -> dict[str, Any]:
    return {
        "partner_city_ids": app.partner_city_ids,
        "reviewer_ids": [r.reviewer_id for r in app.reviews if r.conflict is None],
        "conflicted_ids": [r.reviewer_id for r in app.reviews if r.conflict is not None],
    }


def engagement_fields(e: Engagement) -> dict[str, Any]:
    return {"next_due_on": _iso(e.next_due_on()), "check_in_pending_on": _iso(e.check_in_pending_on())}


class Repository(Generic[M]):
    """Loads and saves one aggregate type inside a transaction (`session`), with optimistic concurrency."""

    def __init__(self, db: AsyncDatabase, session: AsyncClientSession | None, collection: str, model: type[M],
                 fields: Callable[[M], dict[str, Any]], what: str) -> None:
        self.db, self.session, self.collection, self.model, self.fields, self.what = (
            db, session, collection, model, fields, what)

    def to_document(self, item: M) -> dict[str, Any]:
        doc = bson_ready(item.model_dump(mode="python"))
        doc["_id"] = doc.pop("id")
        doc.update(self.fields(item))
        return doc

    def from_document(self, doc: dict[str, Any]) -> M:
        data = {k: v for k, v in doc.items() if k in self.model.model_fields}
        data["id"] = doc["_id"]
        return self.model.model_validate(data)

    async def get(self, item_id: str) -> M | None:
        doc = await self.db[self.collection].find_one({"_id": item_id}, session=self.session)
        return self.from_document(doc) if doc else None

    async def require(self, item_id: str) -> M:
        item = await self.get(item_id)
        if item is None:
            raise NotFound(f"{self.what}_not_found", f"no {self.what.replace('_', ' ')} {item_id}", field=f"{self.what}_id")
        return item

    async def add(self, item: M) -> None:
        item.version = 1  # type: ignore[attr-defined]
        await self.db[self.collection].insert_one(self.to_document(item), session=self.session)

    async def save(self, item: M, *, expected_version: int) -> None:
        """Write `item` as version `expected_version + 1`, unless someone else wrote first."""
        item.version = expected_version + 1  # type: ignore[attr-defined]
        result = await self.db[self.collection].replace_one(
            {"_id": item.id, "version": expected_version}, self.to_document(item),  # type: ignore[attr-defined]
            session=self.session)
        if result.matched_count == 0:
            current = await self.db[self.collection].find_one({"_id": item.id}, {"version": 1},  # type: ignore[attr-defined]
                                                               session=self.session)
            raise VersionConflict(expected_version, current["version"] if current else None)


def applications(db: AsyncDatabase, session: AsyncClientSession | None = None) -> Repository[Application]:
    return Repository(db, session, APPLICATIONS, Application, application_fields, "application")


def engagements(db: AsyncDatabase, session: AsyncClientSession | None = None) -> Repository[Engagement]:
    return Repository(db, session, ENGAGEMENTS, Engagement, engagement_fields, "engagement")


# ---------------------------------------------------------------------------- application lists


async def city_applications(db: AsyncDatabase, city_id: str, *, limit: int = 100,
                            session: AsyncClientSession | None = None) -> list[Application]:
    """A city's applications, newest first (its reapply history), and those naming it as a partner."""
    repo = applications(db, session)
    own = await db[APPLICATIONS].find({"city_id": city_id}, session=session).sort(
        [("created_at", DESCENDING)]).hint(IX_CITY).limit(limit).to_list()
    partner = await db[APPLICATIONS].find({"partner_city_ids": city_id}, session=session).sort(
        [("created_at", DESCENDING)]).hint(IX_PARTNER).limit(limit).to_list()
    docs = sorted({d["_id"]: d for d in own + partner}.values(), key=lambda d: d["created_at"], reverse=True)
    return [repo.from_document(d) for d in docs]


async def open_application_of(db: AsyncDatabase, city_id: str, session: AsyncClientSession | None = None
                              ) -> dict[str, Any] | None:
    """The city's application still in play (a draft, in review, waitlisted), if any."""
    return await db[APPLICATIONS].find_one(
        {"city_id": city_id, "status": {"$nin": sorted(APP_TERMINAL)}}, {"_id": 1, "status": 1},
        session=session, hint=IX_CITY)


async def latest_closed_application(db: AsyncDatabase, city_id: str, session: AsyncClientSession | None = None
                                    ) -> str | None:
    """The city's newest application that ended without an engagement (for the reapply link)."""
    doc = await db[APPLICATIONS].find_one(
        {"city_id": city_id, "status": {"$in": [AppStatus.declined.value, AppStatus.withdrawn.value]}},
        {"_id": 1}, sort=[("created_at", DESCENDING)], session=session, hint=IX_CITY)
    return doc["_id"] if doc else None


STAFF_QUEUES = ("screening", "in_review", "awaiting_decision", "waitlisted", "decided", "mine")


async def staff_applications(db: AsyncDatabase, *, queue: str, staff_id: str, limit: int = 100
                             ) -> list[Application]:
    """A staff queue, oldest submission first; never an application the caller declared a conflict on."""
    statuses = {"screening": ["submitted"], "in_review": ["in_review"],
                "awaiting_decision": ["scored", "screened_out"], "waitlisted": ["waitlisted"],
                "decided": ["accepted", "declined", "withdrawn"]}
    if queue == "mine":
        f: dict[str, Any] = {"reviewer_ids": staff_id, "status": {"$in": ["in_review", "scored"]}}
        hint = IX_REVIEWER
    elif queue in statuses:
        f = {"status": {"$in": statuses[queue]}}
        hint = IX_STATUS
    else:
        raise InvalidInput("unknown_queue", f"queue must be one of {', '.join(STAFF_QUEUES)}", field="queue")
    sort = [("submitted_at", DESCENDING if queue == "decided" else ASCENDING), ("_id", ASCENDING)]
    repo = applications(db)
    docs = await db[APPLICATIONS].find(f).sort(sort).hint(hint).limit(limit + 50).to_list()
    return [repo.from_document(d) for d in docs if staff_id not in (d.get("conflicted_ids") or [])][:limit]


async def queue_counts(db: AsyncDatabase, staff_id: str) -> dict[str, int]:
    counts = {}
    for name, statuses in (("screening", ["submitted"]), ("in_review", ["in_review"]),
                           ("awaiting_decision", ["scored", "screened_out"]), ("waitlisted", ["waitlisted"])):
        counts[name] = await db[APPLICATIONS].count_documents({"status": {"$in": statuses}}, hint=IX_STATUS)
    counts["mine"] = await db[APPLICATIONS].count_documents(
        {"reviewer_ids": staff_id, "status": {"$in": ["in_review", "scored"]}}, hint=IX_REVIEWER)
    return counts


# ---------------------------------------------------------------------------- the waitlist


def waitlist_filter(round_id: str) -> dict[str, Any]:
    return {"round_id": round_id, "status": AppStatus.waitlisted.value}


async def waitlist(db: AsyncDatabase, round_id: str, *, limit: int = 100,
                   session: AsyncClientSession | None = None) -> list[dict[str, Any]]:
    """The round's waitlist in promotion order: score (highest first), then earliest submitted."""
    projection = {"_id": 1, "city_id": 1, "city_name": 1, "us_state": 1, "score": 1, "submitted_at": 1, "version": 1}
    return await db[APPLICATIONS].find(waitlist_filter(round_id), projection, session=session).sort(
        WAITLIST_ORDER).hint(IX_WAITLIST).limit(limit).to_list()


async def waitlist_position(db: AsyncDatabase, round_id: str, score: int | None, submitted_at: datetime | None,
                            app_id: str, session: AsyncClientSession | None = None) -> int:
    """1 + the waitlisted applications of the round ahead of this one in promotion order."""
    ahead = {"$or": [{"score": {"$gt": score}},
                     {"score": score, "submitted_at": {"$lt": submitted_at}},
                     {"score": score, "submitted_at": submitted_at, "_id": {"$lt": app_id}}]}
    f = {"$and": [waitlist_filter(round_id), ahead]}
    return 1 + await db[APPLICATIONS].count_documents(f, session=session, hint=IX_WAITLIST)


async def explain_waitlist(db: AsyncDatabase, round_id: str, limit: int = 1) -> dict[str, Any]:
    """The planner's choice for the waitlist query (verbosity queryPlanner), as run by `waitlist`."""
    find = {"find": APPLICATIONS, "filter": waitlist_filter(round_id), "sort": dict(WAITLIST_ORDER),
            "hint": IX_WAITLIST, "limit": limit}
    return await db.command({"explain": find, "verbosity": "queryPlanner"})


# ---------------------------------------------------------------------------- funding rounds


def round_view(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], "name": doc["name"], "opens_on": doc["opens_on"], "closes_on": doc.get("closes_on"),
            "capacity": doc["capacity"], "accepted": doc.get("accepted", 0),
            "places_left": max(doc["capacity"] - doc.get("accepted", 0), 0), "version": doc.get("version", 1),
            "created_at": doc["created_at"].isoformat() if doc.get("created_at") else None}


async def get_round(db: AsyncDatabase, round_id: str, session: AsyncClientSession | None = None
                    ) -> dict[str, Any] | None:
    return await db[ROUNDS].find_one({"_id": round_id}, session=session)


async def list_rounds(db: AsyncDatabase) -> list[dict[str, Any]]:
    return await db[ROUNDS].find({}).sort([("opens_on", DESCENDING)]).limit(200).to_list()


async def round_open_on(db: AsyncDatabase, today: date, session: AsyncClientSession | None = None) -> str | None:
    """The round an application submitted `today` joins (`domain.rounds.round_for`)."""
    docs = await db[ROUNDS].find({"opens_on": {"$lte": today.isoformat()}}, session=session).sort(
        [("opens_on", DESCENDING)]).hint("opens_on").limit(200).to_list()
    found = round_for([FundingRound.from_document(d) for d in docs], today)
    return found.id if found else None


async def reserve_place(db: AsyncDatabase, round_id: str, session: AsyncClientSession) -> bool:
    """Take one place in the round if one is left. Two transactions reserving the last place write
    the same document: one commits, the other conflicts, is retried and then finds the round full.
    (The update is conditional as well, for a database that would not detect the conflict.)"""
    doc = await db[ROUNDS].find_one({"_id": round_id}, session=session)
    if doc is None:
        raise InvalidInput("round_unknown", f"no funding round {round_id}", field="round_id")
    current = FundingRound.from_document(doc)
    if not current.has_place:
        return False
    taken = current.take_place()
    result = await db[ROUNDS].update_one(
        {"_id": round_id, "accepted": current.accepted, "capacity": current.capacity},
        {"$set": {"accepted": taken.accepted}, "$inc": {"version": 1}}, session=session)
    return result.modified_count == 1


async def release_place(db: AsyncDatabase, round_id: str, session: AsyncClientSession) -> None:
    await db[ROUNDS].update_one({"_id": round_id, "accepted": {"$gt": 0}}, {"$inc": {"accepted": -1, "version": 1}},
                                session=session)


# ---------------------------------------------------------------------------- engagements lists


async def engagement_list(db: AsyncDatabase, *, city_id: str | None = None, status: str | None = None,
                          overdue_before: date | None = None, check_in_by: date | None = None,
                          limit: int = 100) -> list[Engagement]:
    repo = engagements(db)
    if overdue_before is not None:
        f: dict[str, Any] = {"next_due_on": {"$lt": overdue_before.isoformat()}}
        cursor = db[ENGAGEMENTS].find(f).sort([("next_due_on", ASCENDING)]).hint(IX_NEXT_DUE)
    elif check_in_by is not None:
        f = {"check_in_pending_on": {"$lte": check_in_by.isoformat()}}
        cursor = db[ENGAGEMENTS].find(f).sort([("check_in_pending_on", ASCENDING)]).hint(IX_CHECK_IN)
    elif city_id is not None:
        cursor = db[ENGAGEMENTS].find({"city_id": city_id}).sort([("opened_at", DESCENDING)]).hint(IX_ENG_CITY)
    elif status is not None:
        cursor = db[ENGAGEMENTS].find({"status": status}).sort([("opened_at", DESCENDING)]).hint(IX_ENG_STATUS)
    else:
        cursor = db[ENGAGEMENTS].find({}).sort([("status", ASCENDING), ("opened_at", DESCENDING)]).hint(IX_ENG_STATUS)
    return [repo.from_document(d) for d in await cursor.limit(limit).to_list()]


async def engagements_with_barriers(db: AsyncDatabase, barriers: list[str], *, limit: int = 200
                                    ) -> list[dict[str, Any]]:
    projection = {"_id": 1, "city_id": 1, "city_name": 1, "barriers": 1, "title": 1, "status": 1, "opened_at": 1,
                  "peer_connections": 1}
    return await db[ENGAGEMENTS].find({"barriers": {"$in": barriers}}, projection).sort(
        [("opened_at", DESCENDING)]).hint(IX_BARRIERS).limit(limit).to_list()


async def answered_on_topics(db: AsyncDatabase, topics: list[str], *, limit: int = 200) -> list[dict[str, Any]]:
    return await db[ANSWERED].find({"topic": {"$in": topics}}).sort([("delivered_at", DESCENDING)]).hint(
        "topic_delivered").limit(limit).to_list()


# ---------------------------------------------------------------------------- read models


async def get_city(db: AsyncDatabase, city_id: str, session: AsyncClientSession | None = None) -> CityRef | None:
    doc = await db[CITIES].find_one({"_id": city_id}, session=session)
    if not doc or not doc.get("name"):
        return None
    return CityRef(id=city_id, name=doc["name"], us_state=doc.get("state") or "", eligible=bool(doc.get("eligible")),
                   exception=bool(doc.get("exception")), population=doc.get("population"))


async def get_cities(db: AsyncDatabase, city_ids: list[str], session: AsyncClientSession | None = None
                     ) -> dict[str, CityRef | None]:
    found = {d["_id"]: d async for d in db[CITIES].find({"_id": {"$in": list(city_ids)}}, session=session)}
    out: dict[str, CityRef | None] = {}
    for city_id in city_ids:
        doc = found.get(city_id)
        out[city_id] = None if not doc or not doc.get("name") else CityRef(
            id=city_id, name=doc["name"], us_state=doc.get("state") or "", eligible=bool(doc.get("eligible")),
            exception=bool(doc.get("exception")), population=doc.get("population"))
    return out


async def list_cities(db: AsyncDatabase) -> list[dict[str, Any]]:
    docs = await db[CITIES].find({"name": {"$exists": True}}, {"name": 1, "state": 1, "eligible": 1,
                                                              "exception": 1}).limit(5_000).to_list()
    return sorted(({"city_id": d["_id"], "name": d["name"], "state": d.get("state") or "",
                    "eligible": bool(d.get("eligible")) or bool(d.get("exception"))} for d in docs),
                  key=lambda c: (c["state"], c["name"]))


async def get_person(db: AsyncDatabase, account_id: str, session: AsyncClientSession | None = None
                     ) -> dict[str, Any] | None:
    return await db[PEOPLE].find_one({"_id": account_id}, session=session)


def person_ref(doc: dict[str, Any]) -> PersonRef:
    return PersonRef(id=doc["_id"], name=doc.get("name") or "")


async def staff_with_role(db: AsyncDatabase, role: str) -> list[dict[str, Any]]:
    docs = await db[PEOPLE].find({"roles": role}).hint("roles").limit(500).to_list()
    return sorted((d for d in docs if not d.get("deactivated")), key=lambda d: d.get("name") or "")
