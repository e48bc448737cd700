"""Loading and saving the library's documents. Every write inside a transaction passes the session."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from ..domain.answers import AnsweredQuestion
from ..domain.clearinghouse import CityProfile, Program
from ..domain.errors import NotFound, VersionConflict
from ..domain.redaction import FREE_MAIL_DOMAINS
from ..domain.resources import Resource
from ..domain.review import Review
from . import ANSWERED, CITIES, PEOPLE, PROGRAMS, RESOURCES, REVIEWS

Session = AsyncClientSession | None


def resource_to_doc(r: Resource) -> dict[str, Any]:
    d = r.model_dump()
    # BSON has no date type: the content (with its publication date) is stored in its JSON form
    d["content"] = r.content.model_dump(mode="json")
    d["history"] = [h.model_dump(mode="json") | {"at": h.at} for h in r.history]
    d["_id"] = r.resource_id
    return d


def resource_from_doc(d: dict[str, Any]) -> Resource:
    d = dict(d)
    d.pop("_id", None)
    return Resource.model_validate(d)


def program_to_doc(p: Program) -> dict[str, Any]:
    d = p.model_dump()
    d["content"] = p.content.model_dump(mode="json")
    d["_id"] = p.program_id
    return d


def program_from_doc(d: dict[str, Any]) -> Program:
    d = dict(d)
    d.pop("_id", None)
    return Program.model_validate(d)


async def get_resource(db: AsyncDatabase, resource_id: str, *, session: Session = None) -> Resource | None:
    d = await db[RESOURCES].find_one({"_id": resource_id}, session=session)
    return resource_from_doc(d) if d else None


async def require_resource(db: AsyncDatabase, resource_id: str, *, session: Session = None) -> Resource:
    r = await get_resource(db, resource_id, session=session)
    if r is None:
        raise NotFound(f"no resource {resource_id!r}", field="resource_id")
    return r


async def insert_resource(db: AsyncDatabase, r: Resource, *, session: Session) -> None:
    await db[RESOURCES].insert_one(resource_to_doc(r), session=session)


async def save_resource(db: AsyncDatabase, r: Resource, *, expected_version: int | None, session: Session) -> None:
    """Replace the stored resource if it is still at `expected_version` (None: upsert, for event-born items)."""
    doc = resource_to_doc(r)
    if expected_version is None:
        await db[RESOURCES].replace_one({"_id": r.resource_id}, doc, upsert=True, session=session)
        return
    res = await db[RESOURCES].replace_one({"_id": r.resource_id, "version": expected_version}, doc, session=session)
    if res.matched_count == 0:
        raise VersionConflict(f"resource {r.resource_id} changed since version {expected_version}; reload it",
                              field="version")


async def get_program(db: AsyncDatabase, program_id: str, *, session: Session = None) -> Program | None:
    d = await db[PROGRAMS].find_one({"_id": program_id}, session=session)
    return program_from_doc(d) if d else None


async def require_program(db: AsyncDatabase, program_id: str, *, session: Session = None) -> Program:
    p = await get_program(db, program_id, session=session)
    if p is None:
        raise NotFound(f"no programme {program_id!r}", field="program_id")
    return p


async def save_program(db: AsyncDatabase, p: Program, *, expected_version: int | None, session: Session) -> None:
    doc = program_to_doc(p)
    if expected_version is None:
        await db[PROGRAMS].insert_one(doc, session=session)
        return
    res = await db[PROGRAMS].replace_one({"_id": p.program_id, "version": expected_version}, doc, session=session)
    if res.matched_count == 0:
        raise VersionConflict(f"programme {p.program_id} changed since version {expected_version}; reload it",
                              field="version")


async def get_answered(db: AsyncDatabase, request_id: str, *, session: Session) -> AnsweredQuestion | None:
    d = await db[ANSWERED].find_one({"_id": request_id}, session=session)
    if not d:
        return None
    d.pop("_id", None)
    return AnsweredQuestion.model_validate(d)


async def save_answered(db: AsyncDatabase, s: AnsweredQuestion, *, session: Session) -> None:
    await db[ANSWERED].replace_one({"_id": s.request_id}, {"_id": s.request_id, **s.model_dump()}, upsert=True,
                                   session=session)


async def get_city(db: AsyncDatabase, city_id: str, *, session: Session = None) -> CityProfile | None:
    d = await db[CITIES].find_one({"_id": city_id}, session=session)
    if not d or not d.get("name"):
        return None
    return CityProfile(city_id=city_id, name=d["name"], state=d.get("state"), population=d.get("population"),
                       distressed=d.get("eligible"))


async def people_names(db: AsyncDatabase, *, session: Session = None, limit: int = 50_000) -> list[str]:
    cursor = db[PEOPLE].find({}, {"name": 1}, session=session).limit(limit)
    return [d["name"] async for d in cursor if d.get("name")]


async def city_domains(db: AsyncDatabase, city_id: str | None, *, session: Session = None) -> tuple[str, ...]:
    """The e-mail domains the city's officials use (free mail providers left out): they name the city."""
    if not city_id:
        return ()
    domains = await db[PEOPLE].distinct("email_domain", {"city_id": city_id}, session=session)
    return tuple(sorted(d for d in domains if d and d not in FREE_MAIL_DOMAINS))


async def names_of(db: AsyncDatabase, account_ids: set[str]) -> dict[str, str]:
    """Account id → name, for the accounts the library has heard of (staff see names, never ids)."""
    ids = [a for a in account_ids if a and not a.startswith("system:")]
    if not ids:
        return {}
    return {d["_id"]: d["name"] async for d in db[PEOPLE].find({"_id": {"$in": ids}}, {"name": 1}) if d.get("name")}


def review_to_doc(r: Review) -> dict[str, Any]:
    d = r.model_dump(mode="json")
    for k in ("created_at", "updated_at", "decided_at"):
        d[k] = getattr(r, k)
    d["history"] = [h.model_dump(mode="json") | {"at": h.at} for h in r.history]
    d["_id"] = r.review_id
    return d


def review_from_doc(d: dict[str, Any]) -> Review:
    d = dict(d)
    d.pop("_id", None)
    return Review.model_validate(d)


async def get_review(db: AsyncDatabase, review_id: str, *, session: Session = None) -> Review | None:
    d = await db[REVIEWS].find_one({"_id": review_id}, session=session)
    return review_from_doc(d) if d else None


async def require_review(db: AsyncDatabase, review_id: str, *, session: Session = None) -> Review:
    r = await get_review(db, review_id, session=session)
    if r is None:
        raise NotFound(f"no review {review_id!r}", field="review_id")
    return r


async def open_review(db: AsyncDatabase, resource_id: str, *, session: Session = None) -> Review | None:
    d = await db[REVIEWS].find_one({"resource_id": resource_id, "status": "pending"}, session=session)
    return review_from_doc(d) if d else None


async def last_decided_review(db: AsyncDatabase, resource_id: str, *, session: Session = None) -> Review | None:
    d = await db[REVIEWS].find_one({"resource_id": resource_id, "status": {"$in": ["approved", "rejected"]}},
                                   sort=[("decided_at", -1)], session=session)
    return review_from_doc(d) if d else None


async def save_review(db: AsyncDatabase, r: Review, *, expected_version: int | None, session: Session) -> None:
    """Insert (expected_version None) or replace the review if it is still at `expected_version`."""
    doc = review_to_doc(r)
    if expected_version is None:
        await db[REVIEWS].insert_one(doc, session=session)
        return
    res = await db[REVIEWS].replace_one({"_id": r.review_id, "version": expected_version}, doc, session=session)
    if res.matched_count == 0:
        raise VersionConflict(f"review {r.review_id} changed since version {expected_version}; reload it",
                              field="version")


async def all_resources(db: AsyncDatabase):
    async for d in db[RESOURCES].find({}):
        yield resource_from_doc(d)


async def all_programs(db: AsyncDatabase):
    async for d in db[PROGRAMS].find({}):
        yield program_from_doc(d)
