"""MongoDB: one collection per aggregate of each program, read models from other services, indexes.

Convenings carry a revision (``rev``); every save is conditional on the revision read, so two
commands that read the same seat counters cannot both write (the loser raises ``Contended`` and
its command runs again from the start). Registration ids are derived from (convening, account):
a second registration by the same person finds the first.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from nrn_kit.mongo import explain

from ..domain.convening import Convening
from ..domain.errors import Contended
from ..domain.groups import Deliverable, Group
from ..domain.introductions import AskedQuestion, CitySignals, Introduction
from ..domain.registration import Registration, Status

# convenings
CONVENINGS = "convenings"
REGISTRATIONS = "registrations"
# working groups and the steering committee
GROUPS = "groups"
DELIVERABLES = "deliverables"
# introductions
INTRODUCTIONS = "introductions"
CITY_SIGNALS = "city_signals"  # read model: peer connections, barriers, 311 subjects per city
# read models from accounts
CITIES = "cities"
PEOPLE = "people"

IX_WAITLIST = "convening_status_seq"
IX_HOLDS = "offered_hold_until"

INDEXES: dict[str, list[IndexModel]] = {
    CONVENINGS: [IndexModel([("starts_at", ASCENDING)], name="starts_at")],
    REGISTRATIONS: [
        IndexModel([("convening_id", ASCENDING), ("status", ASCENDING), ("waitlist_seq", ASCENDING)],
                   name=IX_WAITLIST),
        IndexModel([("status", ASCENDING), ("hold_until", ASCENDING)], name=IX_HOLDS),
        IndexModel([("account_id", ASCENDING)], name="account"),
        IndexModel([("city_id", ASCENDING)], name="city"),
    ],
    DELIVERABLES: [IndexModel([("group_id", ASCENDING), ("created_at", DESCENDING)], name="group")],
    INTRODUCTIONS: [IndexModel([("city_ids", ASCENDING), ("offered_at", DESCENDING)], name="city"),
                    IndexModel([("offered_at", DESCENDING)], name="offered")],
    PEOPLE: [IndexModel([("city_id", ASCENDING)], name="city")],
}


def registration_id(convening_id: str, account_id: str) -> str:
    return "reg_" + hashlib.sha256(f"{convening_id}\x00{account_id}".encode()).hexdigest()[:24]


S = AsyncClientSession | None


# ---------------------------------------------------------------------------- convenings


async def get_convening(db: AsyncDatabase, convening_id: str, session: S = None) -> Convening | None:
    doc = await db[CONVENINGS].find_one({"_id": convening_id}, session=session)
    return Convening.from_document(doc) if doc else None


async def insert_convening(db: AsyncDatabase, c: Convening, session: S) -> None:
    c.rev = 1
    await db[CONVENINGS].insert_one(c.to_document(), session=session)


async def save_convening(db: AsyncDatabase, c: Convening, session: S) -> None:
    """Write ``c`` as the next revision, unless another command wrote since it was read."""
    read = c.rev
    c.rev = read + 1
    result = await db[CONVENINGS].replace_one({"_id": c.id, "rev": read}, c.to_document(), session=session)
    if result.matched_count != 1:
        c.rev = read
        raise Contended(c.id)


async def list_convenings(db: AsyncDatabase, *, include_past: bool, now: datetime, limit: int = 100) -> list[Convening]:
    f: dict[str, Any] = {} if include_past else {"ends_at": {"$gte": now}}
    docs = await db[CONVENINGS].find(f).sort([("starts_at", ASCENDING)]).limit(limit).to_list()
    return [Convening.from_document(d) for d in docs]


# ---------------------------------------------------------------------------- registrations


async def get_registration(db: AsyncDatabase, reg_id: str, session: S = None) -> Registration | None:
    doc = await db[REGISTRATIONS].find_one({"_id": reg_id}, session=session)
    return Registration.from_document(doc) if doc else None


async def put_registration(db: AsyncDatabase, reg: Registration, session: S) -> None:
    await db[REGISTRATIONS].replace_one({"_id": reg.id}, reg.to_document(), upsert=True, session=session)


def waitlisted(convening_id: str) -> dict[str, Any]:
    """A convening's waitlist (index ``convening_status_seq``); sort by ``waitlist_seq``."""
    return {"convening_id": convening_id, "status": Status.waitlisted.value}


def holds_lapsed(now: datetime) -> dict[str, Any]:
    """Offered seats whose hold has run out (index ``offered_hold_until``)."""
    return {"status": Status.offered.value, "hold_until": {"$lte": now}}


# No query names its index with ``hint``: on the embedded database (SecantusDB) a hinted find walks
# the whole index and reads every document (the hold sweep, which runs by itself: most of a second at
# 20,000 registrations). The filters above alone make the planner choose; explain_queries shows it.
PLANNED = {"waitlist head": (REGISTRATIONS, IX_WAITLIST), "lapsed holds": (REGISTRATIONS, IX_HOLDS)}


async def explain_queries(db: AsyncDatabase, now: datetime, convening_id: str) -> dict[str, dict[str, Any]]:
    """The planner's choice (nothing run) for each query of :data:`PLANNED` as it is sent: name → explain reply."""
    finds = {
        "waitlist head": {"find": REGISTRATIONS, "filter": waitlisted(convening_id), "sort": {"waitlist_seq": 1},
                          "limit": 1},
        "lapsed holds": {"find": REGISTRATIONS, "filter": holds_lapsed(now), "projection": {"convening_id": 1},
                         "limit": 100},
    }
    return {name: await explain(db, find) for name, find in finds.items()}


async def waitlist_head(db: AsyncDatabase, convening_id: str, session: S, n: int = 1) -> list[Registration]:
    """The first ``n`` waitlisted registrations of a convening, in waitlist order."""
    docs = await db[REGISTRATIONS].find(waitlisted(convening_id), session=session) \
        .sort([("waitlist_seq", ASCENDING)]).limit(n).to_list()
    return [Registration.from_document(d) for d in docs]


async def waitlist_position(db: AsyncDatabase, reg: Registration, session: S = None) -> int | None:
    if reg.status is not Status.waitlisted or reg.waitlist_seq is None:
        return None
    ahead = await db[REGISTRATIONS].count_documents(
        {"convening_id": reg.convening_id, "status": Status.waitlisted.value, "waitlist_seq": {"$lt": reg.waitlist_seq}},
        session=session)
    return ahead + 1


async def registrations_of(db: AsyncDatabase, convening_id: str, *, statuses: list[str] | None = None,
                           session: S = None) -> list[Registration]:
    f: dict[str, Any] = {"convening_id": convening_id}
    if statuses:
        f["status"] = {"$in": statuses}
    docs = await db[REGISTRATIONS].find(f, session=session).to_list()
    return [Registration.from_document(d) for d in docs]


async def registrations_of_account(db: AsyncDatabase, account_id: str) -> list[Registration]:
    docs = await db[REGISTRATIONS].find({"account_id": account_id}).to_list()
    return [Registration.from_document(d) for d in docs]


async def registrations_of_city(db: AsyncDatabase, city_id: str) -> list[Registration]:
    docs = await db[REGISTRATIONS].find({"city_id": city_id}).to_list()
    return [Registration.from_document(d) for d in docs]


async def lapsed_holds(db: AsyncDatabase, now: datetime, limit: int) -> list[tuple[str, str]]:
    docs = await db[REGISTRATIONS].find(holds_lapsed(now), {"convening_id": 1}).limit(limit).to_list()
    return [(d["convening_id"], d["_id"]) for d in docs]


# ---------------------------------------------------------------------------- groups


async def get_group(db: AsyncDatabase, group_id: str, session: S = None) -> Group | None:
    doc = await db[GROUPS].find_one({"_id": group_id}, session=session)
    return Group.from_document(doc) if doc else None


async def save_versioned(db: AsyncDatabase, collection: str, item: Any, session: S) -> None:
    """Insert ``item`` (version 0) or replace it only if its stored ``version`` is still the one read;
    ``Contended`` otherwise (the handler runs the command again). ``item`` has ``id``, ``version`` and
    ``to_document()``."""
    read = item.version
    item.version = read + 1
    if read == 0:
        await db[collection].insert_one(item.to_document(), session=session)
        return
    result = await db[collection].replace_one({"_id": item.id, "version": read}, item.to_document(), session=session)
    if result.matched_count != 1:
        item.version = read
        raise Contended(item.id)


async def save_group(db: AsyncDatabase, g: Group, session: S) -> None:
    await save_versioned(db, GROUPS, g, session)


async def list_groups(db: AsyncDatabase) -> list[Group]:
    return [Group.from_document(d) for d in await db[GROUPS].find({}).sort([("name", ASCENDING)]).to_list()]


async def get_deliverable(db: AsyncDatabase, deliverable_id: str, session: S = None) -> Deliverable | None:
    doc = await db[DELIVERABLES].find_one({"_id": deliverable_id}, session=session)
    return Deliverable.from_document(doc) if doc else None


async def save_deliverable(db: AsyncDatabase, d: Deliverable, session: S) -> None:
    await save_versioned(db, DELIVERABLES, d, session)


async def deliverables_of(db: AsyncDatabase, group_id: str) -> list[Deliverable]:
    docs = await db[DELIVERABLES].find({"group_id": group_id}).sort([("created_at", DESCENDING)]).to_list()
    return [Deliverable.from_document(d) for d in docs]


# ---------------------------------------------------------------------------- introductions


async def get_introduction(db: AsyncDatabase, intro_id: str, session: S = None) -> Introduction | None:
    doc = await db[INTRODUCTIONS].find_one({"_id": intro_id}, session=session)
    return Introduction.from_document(doc) if doc else None


async def save_introduction(db: AsyncDatabase, i: Introduction, session: S) -> None:
    await save_versioned(db, INTRODUCTIONS, i, session)


async def introductions(db: AsyncDatabase, *, city_id: str | None = None, limit: int = 200) -> list[Introduction]:
    f = {"city_ids": city_id} if city_id else {}
    docs = await db[INTRODUCTIONS].find(f).sort([("offered_at", DESCENDING)]).limit(limit).to_list()
    return [Introduction.from_document(d) for d in docs]


async def open_pairs(db: AsyncDatabase, session: S = None) -> set[frozenset[str]]:
    """Pairs already introduced (any status but declined: a declined pair is not offered again either)."""
    docs = await db[INTRODUCTIONS].find({}, {"city_ids": 1}, session=session).to_list()
    return {frozenset(d["city_ids"]) for d in docs}


async def all_signals(db: AsyncDatabase) -> list[CitySignals]:
    cities = {d["_id"]: d for d in await db[CITIES].find({}).to_list()}
    out = []
    for d in await db[CITY_SIGNALS].find({}).to_list():
        city = cities.get(d["_id"], {})
        if not city.get("name"):
            continue
        out.append(signals_from(d, city))
    return out


def signals_from(doc: dict[str, Any], city: dict[str, Any]) -> CitySignals:
    return CitySignals(
        city_id=doc["_id"], name=city.get("name", ""), state=city.get("state", ""),
        peer_connections=bool(doc.get("peer_connections")), barriers=sorted(doc.get("barriers") or []),
        questions=[AskedQuestion(topic=q["topic"], title=q["title"], year=q["year"])
                   for q in (doc.get("questions") or {}).values()])


async def signals_of(db: AsyncDatabase, city_id: str, session: S = None) -> CitySignals | None:
    doc = await db[CITY_SIGNALS].find_one({"_id": city_id}, session=session)
    city = await db[CITIES].find_one({"_id": city_id}, session=session) or {}
    return signals_from(doc or {"_id": city_id}, city)


# ---------------------------------------------------------------------------- read models


async def city(db: AsyncDatabase, city_id: str | None, session: S = None) -> dict[str, Any] | None:
    if not city_id:
        return None
    return await db[CITIES].find_one({"_id": city_id}, session=session)


async def city_names(db: AsyncDatabase, ids: set[str]) -> dict[str, str]:
    """'Flint, MI' per city id (the id itself never shows: unknown cities read 'a city')."""
    docs = await db[CITIES].find({"_id": {"$in": sorted(ids)}}).to_list() if ids else []
    return {d["_id"]: (f"{d['name']}, {d['state']}" if d.get("state") else d.get("name", "")) for d in docs
            if d.get("name")}


async def member_candidates(db: AsyncDatabase, *, member_city_ids: set[str], limit: int = 5000,
                            ) -> dict[str, list[dict[str, Any]]]:
    """Who may join a group, from the read models: ``{"cities": [...], "officials": [...],
    "partner_experts": [...]}``, each ``{"id", "name", "city_id"}`` sorted by name. Officials are
    those of ``member_city_ids`` (a group's officials come from its member cities); deactivated
    accounts never appear."""
    cities = await db[CITIES].find({}, {"name": 1, "state": 1}).to_list(limit)
    active = {"deactivated": {"$ne": True}}
    officials = await db[PEOPLE].find({"kind": "official", "city_id": {"$in": sorted(member_city_ids)}, **active},
                                      {"name": 1, "title": 1, "city_id": 1}).to_list(limit) if member_city_ids else []
    experts = await db[PEOPLE].find({"kind": "partner_member", **active}, {"name": 1, "title": 1}).to_list(limit)
    return {
        "cities": sorted(({"id": c["_id"], "name": f"{c['name']}, {c['state']}" if c.get("state") else c["name"]}
                          for c in cities if c.get("name")), key=lambda c: c["name"]),
        "officials": sorted(({"id": p["_id"], "name": p.get("name") or "", "title": p.get("title") or "",
                              "city_id": p.get("city_id")} for p in officials), key=lambda p: p["name"]),
        "partner_experts": sorted(({"id": p["_id"], "name": p.get("name") or "", "title": p.get("title") or ""}
                                   for p in experts), key=lambda p: p["name"]),
    }


async def person(db: AsyncDatabase, account_id: str, session: S = None) -> dict[str, Any] | None:
    return await db[PEOPLE].find_one({"_id": account_id}, session=session)


async def people_names(db: AsyncDatabase, ids: set[str]) -> dict[str, dict[str, Any]]:
    docs = await db[PEOPLE].find({"_id": {"$in": sorted(ids)}}).to_list() if ids else []
    return {d["_id"]: d for d in docs}
