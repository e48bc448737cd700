"""MongoDB of the municipal health data: the measure catalogue, the values, the imports that changed
something, the Peer Health Group's choices and each city's publication.

A value's ``_id`` is ``city|measure|year``: importing the same figure again finds it and changes nothing.
Peer values are read with one query per dashboard on ``(measure_id, year, city_id)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, InsertOne, ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase

from ..domain.health import HealthValue, band_of, measure_from
from ..domain.health_catalogue import Measure
from .mongo import CITIES, S

MEASURES = "health_measures"
VALUES = "health_values"
IMPORTS = "health_imports"
SETTINGS = "health_settings"  # one document: the Peer Health Group's id and the measures it chose
PUBLICATIONS = "health_publications"  # one per city: its dashboard as published
SETTINGS_ID = "peer_health_group"

INDEXES: dict[str, list[IndexModel]] = {
    VALUES: [IndexModel([("measure_id", ASCENDING), ("year", ASCENDING), ("city_id", ASCENDING)], name="measure_year"),
             IndexModel([("city_id", ASCENDING), ("measure_id", ASCENDING), ("year", ASCENDING)], name="city")],
    IMPORTS: [IndexModel([("at", DESCENDING)], name="at")],
    CITIES: [IndexModel([("population", ASCENDING)], name="population")],
}


async def measures(db: AsyncDatabase, session: S = None) -> dict[str, Measure]:
    return {d["_id"]: measure_from(d) for d in await db[MEASURES].find({}, session=session).to_list()}


async def measure_docs(db: AsyncDatabase, session: S = None) -> dict[str, dict[str, Any]]:
    return {d["_id"]: d for d in await db[MEASURES].find({}, session=session).to_list()}


async def put_measure(db: AsyncDatabase, doc: dict[str, Any], session: S) -> None:
    await db[MEASURES].replace_one({"_id": doc["_id"]}, doc, upsert=True, session=session)


async def settings(db: AsyncDatabase, session: S = None) -> dict[str, Any]:
    return await db[SETTINGS].find_one({"_id": SETTINGS_ID}, session=session) or {"_id": SETTINGS_ID}


async def put_settings(db: AsyncDatabase, doc: dict[str, Any], session: S) -> None:
    await db[SETTINGS].replace_one({"_id": SETTINGS_ID}, doc, upsert=True, session=session)


async def existing_values(db: AsyncDatabase, ids: list[str], session: S) -> dict[str, HealthValue]:
    docs = await db[VALUES].find({"_id": {"$in": ids}}, session=session).to_list()
    return {d["_id"]: HealthValue.from_document(d) for d in docs}


async def write_values(db: AsyncDatabase, new: list[HealthValue], changed: list[HealthValue], session: S) -> None:
    ops: list[Any] = [InsertOne(v.to_document()) for v in new]
    ops += [ReplaceOne({"_id": v.id}, v.to_document()) for v in changed]
    if ops:
        await db[VALUES].bulk_write(ops, ordered=False, session=session)


async def city_values(db: AsyncDatabase, city_id: str, measure_ids: Iterable[str]) -> list[HealthValue]:
    docs = await db[VALUES].find({"city_id": city_id, "measure_id": {"$in": list(measure_ids)}}).to_list()
    return [HealthValue.from_document(d) for d in docs]


async def peer_values(db: AsyncDatabase, pairs: dict[str, int], peer_ids: list[str]) -> dict[tuple[str, int], list[float]]:
    """The peers' values of each (measure, year) in ``pairs`` (measure → year), in one query."""
    if not pairs or not peer_ids:
        return {}
    years = sorted(set(pairs.values()))
    cursor = db[VALUES].find({"measure_id": {"$in": sorted(pairs)}, "year": {"$in": years},
                              "city_id": {"$in": peer_ids}},
                             {"_id": 0, "measure_id": 1, "year": 1, "value": 1}).hint("measure_year")
    out: dict[tuple[str, int], list[float]] = {}
    async for d in cursor:
        if pairs.get(d["measure_id"]) == d["year"]:
            out.setdefault((d["measure_id"], d["year"]), []).append(d["value"])
    return out


async def band_peers(db: AsyncDatabase, city_id: str, population: int | None) -> tuple[list[str], str | None]:
    """Ids of the other cities in the city's population band, and the band's words."""
    band = band_of(population)
    if band is None:
        return [], None
    lo, hi, label = band
    f: dict[str, Any] = {"population": {"$gte": lo} | ({"$lt": hi} if hi is not None else {}), "_id": {"$ne": city_id}}
    docs = await db[CITIES].find(f, {"_id": 1}).hint("population").to_list()
    return [d["_id"] for d in docs], label


async def cities_with_values(db: AsyncDatabase) -> list[str]:
    return sorted(await db[VALUES].distinct("city_id"))


async def years_on_record(db: AsyncDatabase, city_id: str) -> list[int]:
    return sorted(await db[VALUES].distinct("year", {"city_id": city_id}))


async def add_import(db: AsyncDatabase, doc: dict[str, Any], session: S) -> None:
    await db[IMPORTS].insert_one(doc, session=session)


async def recent_imports(db: AsyncDatabase, limit: int = 10) -> list[dict[str, Any]]:
    return await db[IMPORTS].find({}).sort([("at", DESCENDING)]).limit(limit).to_list()


async def publication(db: AsyncDatabase, city_id: str, session: S = None) -> dict[str, Any] | None:
    return await db[PUBLICATIONS].find_one({"_id": city_id}, session=session)


async def put_publication(db: AsyncDatabase, doc: dict[str, Any], session: S) -> None:
    await db[PUBLICATIONS].replace_one({"_id": doc["_id"]}, doc, upsert=True, session=session)


async def publications(db: AsyncDatabase) -> dict[str, dict[str, Any]]:
    return {d["_id"]: d for d in await db[PUBLICATIONS].find({}).to_list()}


async def cities_index(db: AsyncDatabase) -> dict[str, dict[str, Any]]:
    """Every known city: name, state, FIPS and population, for resolving an import's rows."""
    docs = await db[CITIES].find({}, {"name": 1, "state": 1, "fips": 1, "population": 1}).to_list()
    return {d["_id"]: d for d in docs if d.get("name")}

