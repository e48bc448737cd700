"""HTTP routes of the municipal health data (the Peer Health Group's dashboard): parse → command →
handler → response. Included in ``api.router``; the contract is in README.md ("HTTP API")."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Path, Query, Response, UploadFile
from pydantic import Field

from nrn_contracts.values import MultiLine, SingleLine
from nrn_kit.auth import authorize
from nrn_kit.idempotency import IDEMPOTENT

from . import handlers_health as hh
from .adapters import health as store
from .adapters import mongo as repo
from .api import Body, PrincipalDep, RuntimeDep, deps, may
from .domain import limits as L
from .domain.errors import InvalidInput, NotFound, NotPermitted
from .domain.health import (
    ILLUSTRATIVE_WORDS,
    MIN_PEERS,
    PEER_SETS,
    HealthValue,
    MeasureRow,
    PeerSummary,
    describe,
    fmt,
    ordered_measures,
)
from .domain.health_catalogue import DIRECTIONS, DOMAINS, GEOGRAPHIES, Measure

router = APIRouter(tags=["municipal health data"], dependencies=[IDEMPOTENT])

PeerSetParam = Literal["population_band", "peer_health_group"]
YearParam = Annotated[int | None, Query(ge=1900, le=2100)]
CityId = Annotated[SingleLine, Path(min_length=1, max_length=L.ID_MAX)]
FLAG_RULE = (f"A measure is flagged when the city's latest value lies outside the middle half of its peers' values "
             f"of the same year (below the first quartile or above the third), with at least {MIN_PEERS} peers; "
             "whether that is better or worse depends on the measure's direction. Peers without a value that "
             "year are left out.")


class MeasureBody(Body):
    domain: Literal["health_outcomes", "health_behaviors", "clinical_care", "social_economic", "physical_environment"]
    name: SingleLine = Field(min_length=2, max_length=L.NAME_MAX)
    definition: MultiLine = Field(min_length=10, max_length=L.SUMMARY_MAX)
    unit: SingleLine = Field(min_length=1, max_length=L.UNIT_MAX)
    direction: Literal["higher_is_better", "lower_is_better"]
    source: SingleLine = Field(min_length=2, max_length=L.SOURCE_MAX)
    geography: Literal["city", "county"] = "city"
    lo: float = Field(0.0, ge=-1e9, le=1e9, allow_inf_nan=False)
    hi: float = Field(100.0, ge=-1e9, le=1e9, allow_inf_nan=False)
    decimals: int = Field(1, ge=0, le=4)


class GroupBody(Body):
    group_id: SingleLine = Field(min_length=1, max_length=L.ID_MAX)


class SelectionBody(Body):
    measure_ids: list[Annotated[str, Field(pattern=L.MEASURE_ID_PATTERN)]] = Field(min_length=1,
                                                                                  max_length=L.MEASURE_IDS_MAX)
    note: MultiLine = Field("", max_length=L.COMMENT_MAX)


class PublishBody(Body):
    peer_set: PeerSetParam = "population_band"


# ---------------------------------------------------------------------------- views


def _value(v: HealthValue, m: Measure) -> dict[str, Any]:
    return {"year": v.year, "value": v.value, "display": fmt(v.value, m.decimals), "source": v.source,
            "note": v.note, "illustrative": v.illustrative}


def _peers(s: PeerSummary | None, m: Measure) -> dict[str, Any] | None:
    if s is None:
        return None
    return {"year": s.year, "count": s.count, **{k: getattr(s, k) for k in ("median", "q1", "q3", "low", "high")},
            "display": {k: fmt(getattr(s, k), m.decimals) for k in ("median", "q1", "q3", "low", "high")}}


def _row(r: MeasureRow) -> dict[str, Any]:
    m = r.measure
    return {"measure": describe(m), "value": _value(r.latest, m) if r.latest else None,
            "trend": [_value(v, m) for v in r.trend], "peers": _peers(r.peers, m),
            "flag": {"kind": r.flag.kind, "words": r.flag.words}}


def _city(city: dict[str, Any], band: str | None) -> dict[str, Any]:
    return {"id": city["_id"], "name": city.get("name", ""), "state": city.get("state", ""),
            "population": city.get("population"), "band": band}


async def _readable(runtime: Any, p: Any, city_id: str) -> dict[str, Any] | None:
    """The city's publication; officials read only their own city's, and only once published."""
    authorize(p, "health.read", city_id=city_id if p.kind == "official" else None)
    if p.kind == "official" and p.city_id != city_id:
        raise NotPermitted("own_city_only", "an official may see only their own city's dashboard")
    return await store.publication(runtime.db, city_id)


# ---------------------------------------------------------------------------- the catalogue and the group


@router.get("/health-data/measures")
async def catalogue(runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    """Every measure with its definition, unit, direction, source and geography; which ones the dashboards
    show (the Peer Health Group's choice) and the group's cities."""
    authorize(p, "health.catalogue")
    d = deps(runtime)
    shown, settings = await hh.shown_measures(d)
    known = await store.measures(runtime.db)
    members, group_name = await hh.group_cities(d, settings)
    names = await repo.city_names(runtime.db, members | ({settings["chosen_by_city"]} if settings.get(
        "chosen_by_city") else set()))
    shown_ids = {m.id for m in shown}
    return {"measures": [describe(m) | {"shown": m.id in shown_ids} for m in ordered_measures(known.values())],
            "domains": [{"key": k, "label": v} for k, v in DOMAINS.items()],
            "directions": DIRECTIONS, "geographies": GEOGRAPHIES,
            "selection": {"chosen": bool(settings.get("measure_ids")), "count": len(shown),
                          "chosen_at": settings.get("chosen_at"), "note": settings.get("note", ""),
                          "chosen_by_city": names.get(settings.get("chosen_by_city") or "", None)},
            "group": {"id": settings.get("group_id"), "name": group_name,
                      "cities": sorted(names[c] for c in members if c in names)},
            "can_choose": p.kind == "staff" or (p.kind == "official" and p.city_id in members)}


@router.put("/health-data/measures/{measure_id}")
async def define(measure_id: Annotated[str, Path(pattern=L.MEASURE_ID_PATTERN)], body: MeasureBody,
                 runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    """Define a measure of NRN's own, or revise one of the catalogue's (the revision then stands over
    the shipped definition)."""
    actor = may(p, "health.manage")
    m = Measure(id=measure_id, **body.model_dump())
    return describe(await hh.define_measure(deps(runtime), m, actor=actor))


@router.put("/health-data/group")
async def name_group(body: GroupBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = may(p, "health.manage")
    doc = await hh.name_group(deps(runtime), body.group_id, actor=actor)
    return {"group_id": doc["group_id"]}


@router.put("/health-data/selection")
async def choose(body: SelectionBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = may(p, "health.choose")
    doc = await hh.choose_measures(deps(runtime), list(body.measure_ids), actor=actor, note=body.note)
    return {"measure_ids": doc["measure_ids"], "chosen_at": doc["chosen_at"]}


# ---------------------------------------------------------------------------- imports


@router.post("/health-data/imports")
async def import_values(runtime: RuntimeDep, p: PrincipalDep, file: Annotated[UploadFile, File()]) -> dict[str, Any]:
    """A CSV of values (city, state, measure, year, value, source[, fips][, note]); the report names every
    bad row by line. 422 (``field: file``) when the file as a whole is refused."""
    actor = may(p, "health.manage")
    limit = runtime.settings.health_import_max_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput("file_too_large", f"the file is larger than {limit // (1024 * 1024)} MiB", field="file")
    report = await hh.import_values(deps(runtime), data, actor=actor)
    return report.__dict__


@router.get("/health-data/imports")
async def imports(runtime: RuntimeDep, p: PrincipalDep) -> list[dict[str, Any]]:
    may(p, "health.manage")
    docs = await store.recent_imports(runtime.db)
    return [{k: v for k, v in d.items() if k != "_id"} | {"id": d["_id"]} for d in docs]


@router.get("/health-data/cities")
async def cities(runtime: RuntimeDep, p: PrincipalDep) -> list[dict[str, Any]]:
    """Staff: every city with values on record, and whether its dashboard is published."""
    may(p, "health.manage")
    ids = await store.cities_with_values(runtime.db)
    names = await repo.city_names(runtime.db, set(ids))
    pubs = await store.publications(runtime.db)
    out = [{"city_id": c, "city": names.get(c, "a city"), "published_at": (pubs.get(c) or {}).get("published_at")}
           for c in ids]
    return sorted(out, key=lambda r: r["city"])


# ---------------------------------------------------------------------------- dashboards


@router.get("/health-data/cities/{city_id}/dashboard")
async def dashboard(city_id: CityId, runtime: RuntimeDep, p: PrincipalDep, peers: PeerSetParam = "population_band",
                    as_of: YearParam = None) -> dict[str, Any]:
    """The city's dashboard: each measure shown with the city's latest value and its trend, its peers'
    median and range that year, and the flag (``rule`` says when). Officials: their own city, once
    published (``published`` null and no measures before)."""
    pub = await _readable(runtime, p, city_id)
    if p.kind == "official" and pub is None:
        city = await repo.city(runtime.db, city_id) or {"_id": city_id}
        return {"city": _city(city, None), "published": None, "domains": [], "rule": FLAG_RULE}
    view = await hh.dashboard(deps(runtime), city_id, peer_set=peers, as_of=as_of)
    board = view.board
    rows = [_row(r) for r in board.rows]
    domains = [{"key": k, "label": label, "rows": [r for r in rows if r["measure"]["domain"] == k]}
               for k, label in DOMAINS.items()]
    return {
        "city": _city(view.city, view.band_label),
        "published": {k: pub[k] for k in ("published_at", "peer_set", "latest_year")} if pub else None,
        "peers": {"set": peers, "label": view.peer_label, "cities": len(board.peer_city_ids),
                  "choices": [{"key": k, "label": v} for k, v in PEER_SETS.items()],
                  "group_name": view.group_name},
        "rule": FLAG_RULE, "latest_year": board.latest_year, "illustrative": board.illustrative,
        "illustrative_words": ILLUSTRATIVE_WORDS,
        "counts": {k: board.count(k) for k in ("better", "worse", "within", "too_few_peers", "no_value")},
        "selection_chosen": bool(view.settings.get("measure_ids")),
        "domains": [d for d in domains if d["rows"]],
    }


CSV_COLUMNS = ("domain", "measure", "unit", "direction", "geography", "year", "value", "source", "evidence",
               "peers", "peer_year", "peer_count", "peer_median", "peer_q1", "peer_q3", "peer_low", "peer_high",
               "flag")


@router.get("/health-data/cities/{city_id}/dashboard.csv")
async def dashboard_csv(city_id: CityId, runtime: RuntimeDep, p: PrincipalDep,
                        peers: PeerSetParam = "population_band") -> Response:
    """The dashboard as CSV: one row per measure and year on record; the peer columns and the flag on the
    row of the latest year. Every value with its year and source; demo values say so."""
    pub = await _readable(runtime, p, city_id)
    if p.kind == "official" and pub is None:
        raise NotFound("not_published", "your city's health dashboard is not published yet")
    view = await hh.dashboard(deps(runtime), city_id, peer_set=peers)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for r in view.board.rows:
        m = r.measure
        base = [DOMAINS[m.domain], m.name, m.unit, DIRECTIONS[m.direction], GEOGRAPHIES[m.geography]]
        if not r.trend:
            w.writerow(base + ["", "", "", ""] + [view.peer_label] + [""] * 7 + [r.flag.words])
        for v in r.trend:
            latest = v is r.latest
            s = r.peers if latest else None
            w.writerow(base + [v.year, fmt(v.value, m.decimals).replace(",", ""), v.source,
                               ILLUSTRATIVE_WORDS if v.illustrative else ""]
                       + [view.peer_label, s.year if s else "", s.count if s else ""]
                       + [fmt(getattr(s, k), m.decimals).replace(",", "") if s else ""
                          for k in ("median", "q1", "q3", "low", "high")]
                       + [r.flag.words if latest else ""])
    name = f"{view.city.get('name', 'city')}-{view.city.get('state', '')}-health.csv".replace(" ", "-").lower()
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/health-data/cities/{city_id}/publish")
async def publish(city_id: CityId, body: PublishBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = may(p, "health.manage")
    doc = await hh.publish(deps(runtime), city_id, actor=actor, peer_set=body.peer_set)
    return {k: v for k, v in doc.items() if k != "_id"} | {"city_id": city_id}


@router.get("/health-data/cities/{city_id}/summary", tags=["dashboard"])
async def summary(city_id: CityId, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    """The city dashboard's Health section: published or not, the latest year, how many measures are
    better and worse than peers, and the worse ones by name."""
    pub = await _readable(runtime, p, city_id)
    if pub is None and p.kind == "official":
        return {"published": False}
    view = await hh.dashboard(deps(runtime), city_id, peer_set=(pub or {}).get("peer_set", "population_band"))
    board = view.board
    return {"published": pub is not None, "published_at": (pub or {}).get("published_at"),
            "latest_year": board.latest_year, "measures": len(board.rows), "peer_label": view.peer_label,
            "better": board.count("better"), "worse": board.count("worse"), "illustrative": board.illustrative,
            "worse_measures": [r.measure.name for r in board.rows if r.flag.kind == "worse"][:5]}
