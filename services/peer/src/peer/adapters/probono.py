"""MongoDB of the pro bono talent network: organizations, the skills list, volunteers, projects and
matches (a match holds its hours). Volunteers, projects and matches carry a ``version``; a save is
conditional on the version read (``Contended`` otherwise), as the other programs' aggregates.
A volunteer's ``_id`` is derived from their account, so registering twice finds the first."""

from __future__ import annotations

import hashlib
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from ..domain.probono import DEFAULT_SKILLS, Match, Organization, Project, Volunteer
from .mongo import S, save_versioned

ORGANIZATIONS = "probono_organizations"
SKILLS = "probono_skills"
VOLUNTEERS = "volunteers"
PROJECTS = "projects"
MATCHES = "matches"
PARTNERS = "partners"  # read model from accounts: partner names

INDEXES: dict[str, list[IndexModel]] = {
    VOLUNTEERS: [IndexModel([("organization_id", ASCENDING), ("status", ASCENDING)], name="organization"),
                 IndexModel([("status", ASCENDING), ("skills", ASCENDING)], name="skills"),
                 IndexModel([("status", ASCENDING), ("registered_at", ASCENDING)], name="status")],
    PROJECTS: [IndexModel([("city_id", ASCENDING), ("posted_at", DESCENDING)], name="city"),
               IndexModel([("status", ASCENDING), ("posted_at", DESCENDING)], name="status")],
    MATCHES: [IndexModel([("project_id", ASCENDING)], name="project"),
              IndexModel([("volunteer_id", ASCENDING)], name="volunteer"),
              IndexModel([("city_id", ASCENDING)], name="city"),
              IndexModel([("organization_id", ASCENDING)], name="organization")],
}

def volunteer_id(account_id: str) -> str:
    return "vol_" + hashlib.sha256(account_id.encode()).hexdigest()[:24]


async def save_volunteer(db: AsyncDatabase, v: Volunteer, session: S) -> None:
    await save_versioned(db, VOLUNTEERS, v, session)


async def save_project(db: AsyncDatabase, p: Project, session: S) -> None:
    await save_versioned(db, PROJECTS, p, session)


async def save_match(db: AsyncDatabase, m: Match, session: S) -> None:
    await save_versioned(db, MATCHES, m, session)


async def get_volunteer(db: AsyncDatabase, vid: str, session: S = None) -> Volunteer | None:
    doc = await db[VOLUNTEERS].find_one({"_id": vid}, session=session)
    return Volunteer.from_document(doc) if doc else None


async def get_project(db: AsyncDatabase, pid: str, session: S = None) -> Project | None:
    doc = await db[PROJECTS].find_one({"_id": pid}, session=session)
    return Project.from_document(doc) if doc else None


async def get_match(db: AsyncDatabase, mid: str, session: S = None) -> Match | None:
    doc = await db[MATCHES].find_one({"_id": mid}, session=session)
    return Match.from_document(doc) if doc else None


async def volunteers(db: AsyncDatabase, *, organization_id: str | None = None, status: str | None = None,
                     limit: int = 5_000) -> list[Volunteer]:
    f: dict[str, Any] = {}
    if organization_id:
        f["organization_id"] = organization_id
    if status:
        f["status"] = status
    docs = await db[VOLUNTEERS].find(f).sort([("registered_at", ASCENDING)]).limit(limit).to_list()
    return [Volunteer.from_document(d) for d in docs]


async def candidates(db: AsyncDatabase, project: Project) -> list[Volunteer]:
    """Confirmed volunteers with at least one of the project's skills who are available on some day of it:
    everyone matching could suggest, and no one else, however many volunteers the network has; each with
    their track record summary. The database answers the skills by the ``skills`` index; the period is
    checked here, because the embedded database plans a query with the period's ranges as a scan of the
    whole collection (explain: COLLSCAN), three times the cost of the index-backed one. In no order:
    matching ranks them itself (ties by registration), and a sort costs the database another pass."""
    docs = await db[VOLUNTEERS].find({"status": "confirmed", "skills": {"$in": list(project.skills)}}).to_list()
    ends, starts = project.ends_on.isoformat(), project.starts_on.isoformat()  # ISO dates compare as the dates do
    return [Volunteer.from_document(d) for d in docs if d["available_from"] <= ends and d["available_until"] >= starts]


async def volunteers_by_id(db: AsyncDatabase, ids: set[str]) -> dict[str, Volunteer]:
    docs = await db[VOLUNTEERS].find({"_id": {"$in": sorted(ids)}}).to_list() if ids else []
    return {d["_id"]: Volunteer.from_document(d) for d in docs}


async def projects(db: AsyncDatabase, *, city_id: str | None = None, statuses: list[str] | None = None,
                   limit: int = 500) -> list[Project]:
    f: dict[str, Any] = {}
    if city_id:
        f["city_id"] = city_id
    if statuses:
        f["status"] = {"$in": statuses}
    docs = await db[PROJECTS].find(f).sort([("posted_at", DESCENDING)]).limit(limit).to_list()
    return [Project.from_document(d) for d in docs]


async def projects_by_id(db: AsyncDatabase, ids: set[str], session: S = None) -> dict[str, Project]:
    docs = await db[PROJECTS].find({"_id": {"$in": sorted(ids)}}, session=session).to_list() if ids else []
    return {d["_id"]: Project.from_document(d) for d in docs}


async def matches(db: AsyncDatabase, **f: Any) -> list[Match]:
    """Matches by any of ``project_id``, ``volunteer_id``, ``city_id``, ``organization_id``, ``status``."""
    query = {k: ({"$in": v} if isinstance(v, list) else v) for k, v in f.items() if v is not None}
    docs = await db[MATCHES].find(query).sort([("proposed_at", DESCENDING)]).to_list()
    return [Match.from_document(d) for d in docs]


# what a track record needs of a match, and nothing else (``handlers_probono.tracks``)
TRACK_FIELDS = {"_id": 0, "volunteer_id": 1, "project_id": 1, "status": 1, "hours_agreed": 1, "hours.hours": 1,
                "hours.status": 1, "project_skills": 1, "project_months": 1}


async def track_matches(db: AsyncDatabase, volunteer_ids: list[str] | None, session: S = None) -> list[dict[str, Any]]:
    """The accepted and completed matches of these volunteers (all of them when None), only ``TRACK_FIELDS``."""
    f: dict[str, Any] = {"status": {"$in": ["accepted", "completed"]}}
    if volunteer_ids is not None:
        f["volunteer_id"] = {"$in": volunteer_ids}
    return await db[MATCHES].find(f, TRACK_FIELDS, session=session).to_list()


async def organizations(db: AsyncDatabase) -> list[Organization]:
    docs = await db[ORGANIZATIONS].find({}).sort([("name", ASCENDING)]).to_list()
    return [Organization.from_document(d) for d in docs]


async def get_organization(db: AsyncDatabase, oid: str | None, session: S = None) -> Organization | None:
    doc = await db[ORGANIZATIONS].find_one({"_id": oid}, session=session) if oid else None
    return Organization.from_document(doc) if doc else None


async def put_organization(db: AsyncDatabase, o: Organization, session: S) -> None:
    await db[ORGANIZATIONS].replace_one({"_id": o.id}, o.to_document(), upsert=True, session=session)


async def partner(db: AsyncDatabase, partner_id: str, session: S = None) -> dict[str, Any] | None:
    return await db[PARTNERS].find_one({"_id": partner_id}, session=session)


async def skills(db: AsyncDatabase, *, include_retired: bool = False) -> dict[str, dict[str, Any]]:
    """The managed list: key → {label, retired}; the defaults until staff change it."""
    docs = {d["_id"]: d for d in await db[SKILLS].find({}).to_list()}
    out = {k: {"label": label, "retired": False} for k, label in DEFAULT_SKILLS.items()}
    for k, d in docs.items():
        out[k] = {"label": d["label"], "retired": bool(d.get("retired"))}
    return {k: v for k, v in out.items() if include_retired or not v["retired"]}


async def put_skill(db: AsyncDatabase, key: str, label: str, retired: bool, session: S) -> None:
    await db[SKILLS].replace_one({"_id": key}, {"_id": key, "label": label, "retired": retired}, upsert=True,
                                 session=session)
