"""Use cases of the municipal health data: the catalogue kept in step with the code, staff defining
measures, CSV imports, the Peer Health Group's choice of measures, a city's dashboard and its publication.

An import validates every row first (``domain.health_csv``), then applies the good values in batches of
``IMPORT_BATCH``, each one transaction; the last one also records the import and emits its one
``HealthIndicatorsLoaded`` with the counts (nothing is recorded or emitted when nothing changed, so a
re-import changes nothing). If the process dies between batches, the batches already applied stay and a
re-import applies the rest, counting only that rest in its event.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from nrn_contracts.events import peer as ev

from nrn_kit.csvio import CsvRefused
from nrn_kit.mongo import Tx

from .adapters import health as store
from .adapters import mongo as repo
from .domain.actors import Actor
from .domain.errors import InvalidInput, NotAllowedNow, NotFound, NotPermitted
from .domain.health import (
    PEER_SETS,
    Dashboard,
    HealthValue,
    build_dashboard,
    check_measure,
    latest_years,
    measure_document,
    ordered_measures,
)
from .domain.health_catalogue import CATALOGUE, Measure
from .domain.health_csv import parse_health_csv
from .handlers import Deps, new_id, run

IMPORT_BATCH = 2_000


def _defined_event(m: Measure, by: str | None, at: datetime) -> ev.HealthMeasureDefined:
    return ev.HealthMeasureDefined(measure_id=m.id, domain=m.domain, name=m.name, definition=m.definition, unit=m.unit,
                                   direction=m.direction, source=m.source, geography=m.geography, by=by, at=at)


_FIELDS = ("domain", "name", "definition", "unit", "direction", "source", "geography", "lo", "hi", "decimals")


async def sync_catalogue(deps: Deps) -> int:
    """Bring the stored catalogue in step with the shipped one: a measure not stored yet is defined, one
    whose shipped definition changed is revised — unless staff revised it (theirs stands). Returns how
    many were defined or revised (each with its ``HealthMeasureDefined``)."""
    now = deps.now()

    async def fn(tx: Tx) -> int:
        stored = await store.measure_docs(tx.db, tx.session)
        n = 0
        for m in CATALOGUE:
            doc = stored.get(m.id)
            if doc is not None and (doc.get("defined_by") or all(doc.get(k) == getattr(m, k) for k in _FIELDS)):
                continue
            await store.put_measure(tx.db, measure_document(m, by=None, at=now), tx.session)
            tx.emit(_defined_event(m, None, now))
            n += 1
        return n

    return await deps.store.transaction(fn)


async def define_measure(deps: Deps, m: Measure, *, actor: Actor) -> Measure:
    """Staff define a measure of their own or revise one of the catalogue's."""
    check_measure(m)
    now = deps.now()

    async def fn(tx: Tx) -> Measure:
        await store.put_measure(tx.db, measure_document(m, by=actor.id, at=now), tx.session)
        tx.emit(_defined_event(m, actor.id, now))
        return m

    return await run(deps, fn)


# ---------------------------------------------------------------------------- imports


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)  # {line, field, reason}, in line order
    import_id: str | None = None  # None when nothing changed


def _resolver(cities: dict[str, dict[str, Any]]):  # noqa: ANN202
    by_fips = {d["fips"]: cid for cid, d in cities.items() if d.get("fips")}
    by_name = {(d.get("state", ""), d["name"].casefold()): cid for cid, d in cities.items()}

    def resolve(name: str, state: str, fips: str | None) -> str | None:
        if fips and fips in by_fips:
            return by_fips[fips]
        return by_name.get((state, name.casefold()))

    return resolve


async def import_values(deps: Deps, data: bytes, *, actor: Actor) -> ImportReport:
    """Validate every row, apply the good values; a re-import changes nothing and emits nothing.

    Raises InvalidInput (field ``file``) when the file as a whole is refused (``nrn_kit.csvio``)."""
    measures = await store.measures(deps.store.db)
    cities = await store.cities_index(deps.store.db)
    try:
        # Seconds of CPU for a large file: in a worker thread, so the service keeps answering meanwhile.
        parsed = await asyncio.to_thread(parse_health_csv, data, measures, _resolver(cities))
    except CsvRefused as refused:
        raise InvalidInput("file_refused", f"The file was not imported: {refused.reason}.", field="file") from None
    report = ImportReport(rows=parsed.rows, failed=sum(1 for e in parsed.errors if e.line > 1))
    report.errors = [{"line": e.line, "field": e.field, "reason": e.reason} for e in parsed.errors]
    now = deps.now()
    import_id = new_id("himp")
    values = [v for _, v in parsed.values]
    before: list[HealthValue] = []  # applied by the batches already committed

    for start in range(0, max(len(values), 1), IMPORT_BATCH):
        batch = values[start:start + IMPORT_BATCH]
        last = start + IMPORT_BATCH >= len(values)

        async def fn(tx: Tx, batch: list[HealthValue] = batch, last: bool = last) -> tuple[list, list]:
            have = await store.existing_values(tx.db, [v.id for v in batch], tx.session)
            new = [v for v in batch if v.id not in have]
            changed = [v for v in batch if v.id in have and not have[v.id].same_as(v)]
            for v in new + changed:
                v.import_id, v.loaded_at = import_id, now
            await store.write_values(tx.db, new, changed, tx.session)
            applied = before + new + changed
            created = report.created + len(new)
            if last and applied:
                counts = dict(rows=report.rows, created=created, updated=len(applied) - created,
                              unchanged=len(values) - len(applied), failed=report.failed)
                cities = {v.city_id for v in applied}
                measures_ = tuple(sorted({v.measure_id for v in applied}))
                years = tuple(sorted({v.year for v in applied}))
                illustrative = sum(1 for v in applied if v.illustrative)
                await store.add_import(tx.db, {"_id": import_id, **counts, "cities": len(cities),
                                               "measures": list(measures_), "years": list(years),
                                               "illustrative": illustrative, "by": actor.id, "at": now}, tx.session)
                tx.emit(ev.HealthIndicatorsLoaded(import_id=import_id, **counts, cities=len(cities),
                                                  measures=measures_[:200], years=years[:200],
                                                  illustrative=illustrative, by=actor.id, at=now))
            return new, changed

        new, changed = await deps.store.transaction(fn)
        before.extend(new + changed)
        report.created += len(new)
        report.updated += len(changed)
    report.unchanged = len(values) - report.created - report.updated
    report.import_id = import_id if report.created or report.updated else None
    return report


# ---------------------------------------------------------------------------- the Peer Health Group


async def name_group(deps: Deps, group_id: str, *, actor: Actor) -> dict[str, Any]:
    """Staff say which working group is the Peer Health Group (its member cities choose the measures
    and are a set of peers)."""
    async def fn(tx: Tx) -> dict[str, Any]:
        if await repo.get_group(tx.db, group_id, tx.session) is None:
            raise InvalidInput("unknown_group", "no such working group", field="group_id")
        doc = await store.settings(tx.db, tx.session)
        doc.update(group_id=group_id, group_named_by=actor.id, group_named_at=deps.now())
        await store.put_settings(tx.db, doc, tx.session)
        return doc

    return await run(deps, fn)


async def group_cities(deps: Deps, settings: dict[str, Any] | None = None) -> tuple[set[str], str | None]:
    """The Peer Health Group's member cities and its name (none while no group is named)."""
    settings = settings if settings is not None else await store.settings(deps.store.db)
    gid = settings.get("group_id")
    g = await repo.get_group(deps.store.db, gid) if gid else None
    return (g.city_ids(), g.name) if g else (set(), None)


async def choose_measures(deps: Deps, measure_ids: list[str], *, actor: Actor, note: str) -> dict[str, Any]:
    """The Peer Health Group's choice of the measures the dashboards show: made by an official of one of
    its member cities (for the group), or by a program manager recording the group's decision."""
    now = deps.now()
    if not measure_ids:
        raise InvalidInput("choose_some", "choose at least one measure", field="measure_ids")

    async def fn(tx: Tx) -> dict[str, Any]:
        doc = await store.settings(tx.db, tx.session)
        if actor.is_official:
            members, name = await group_cities(deps, doc)
            if not name:
                raise NotAllowedNow("no_group", "NRN has not named the Peer Health Group yet")
            if actor.city_id not in members:
                raise NotPermitted("group_members_choose", f"the member cities of {name} choose the measures")
        known = await store.measures(tx.db, tx.session)
        unknown = [m for m in measure_ids if m not in known]
        if unknown:
            raise InvalidInput("unknown_measure", f"{unknown[0]!r} is not one of the health measures",
                               field="measure_ids")
        doc.update(measure_ids=list(dict.fromkeys(measure_ids)), chosen_by=actor.id, chosen_by_city=actor.city_id,
                   chosen_at=now, note=note.strip())
        await store.put_settings(tx.db, doc, tx.session)
        return doc

    return await run(deps, fn)


async def shown_measures(deps: Deps) -> tuple[list[Measure], dict[str, Any]]:
    """The measures the dashboards show, in the catalogue's order: the group's choice, or every measure
    while it has not chosen."""
    settings = await store.settings(deps.store.db)
    known = await store.measures(deps.store.db)
    chosen = settings.get("measure_ids")
    picked = [known[m] for m in chosen if m in known] if chosen else list(known.values())
    return ordered_measures(picked), settings


# ---------------------------------------------------------------------------- dashboards


@dataclass
class DashboardView:
    board: Dashboard
    city: dict[str, Any]
    peer_label: str
    band_label: str | None
    group_name: str | None
    settings: dict[str, Any]


async def dashboard(deps: Deps, city_id: str, *, peer_set: str = "population_band",
                    as_of: int | None = None) -> DashboardView:
    """A city's dashboard: two reads of values (the city's, then its peers' for each measure's latest
    year, in one query), besides the city, the measures and the peers' ids."""
    if peer_set not in PEER_SETS:
        raise InvalidInput("unknown_peer_set", "compare with cities of a similar size or the Peer Health Group",
                           field="peers")
    db = deps.store.db
    city = await repo.city(db, city_id)
    if city is None:
        raise NotFound("city_not_found", "no such city", field="city_id")
    measures, settings = await shown_measures(deps)
    values = await store.city_values(db, city_id, [m.id for m in measures])
    band_ids, band_label = await store.band_peers(db, city_id, city.get("population"))
    members, group_name = await group_cities(deps, settings)
    peer_ids = band_ids if peer_set == "population_band" else sorted(members - {city_id})
    pairs = latest_years(values, as_of)
    peers = await store.peer_values(db, pairs, peer_ids)
    board = build_dashboard(city_id, measures, values, peers, peer_set=peer_set, peer_city_ids=peer_ids, as_of=as_of)
    label = f"{PEER_SETS[peer_set]}" + (f" ({band_label})" if peer_set == "population_band" and band_label else
                                        f" ({group_name})" if peer_set == "peer_health_group" and group_name else "")
    return DashboardView(board=board, city=city, peer_label=label, band_label=band_label, group_name=group_name,
                         settings=settings)


async def publish(deps: Deps, city_id: str, *, actor: Actor, peer_set: str = "population_band") -> dict[str, Any]:
    """Staff publish a city's dashboard: its officials see it from now on. Refused while the city has
    no value of any measure shown."""
    view = await dashboard(deps, city_id, peer_set=peer_set)
    board = view.board
    if board.values_shown == 0:
        raise NotAllowedNow("nothing_to_publish", "the city has no values of the measures shown yet; import them "
                            "first")
    now = deps.now()

    async def fn(tx: Tx) -> dict[str, Any]:
        doc = {"_id": city_id, "published_at": now, "published_by": actor.id, "peer_set": peer_set,
               "latest_year": board.latest_year, "measures_shown": len(board.rows),
               "values_shown": board.values_shown, "flagged_better": board.count("better"),
               "flagged_worse": board.count("worse"), "peer_cities": len(board.peer_city_ids),
               "illustrative": board.illustrative}
        await store.put_publication(tx.db, doc, tx.session)
        tx.emit(ev.HealthDashboardPublished(
            city_id=city_id, latest_year=board.latest_year, measures_shown=len(board.rows),
            values_shown=board.values_shown, flagged_better=doc["flagged_better"], flagged_worse=doc["flagged_worse"],
            peer_set=peer_set, peer_cities=len(board.peer_city_ids), illustrative=board.illustrative, by=actor.id,
            at=now))
        return doc

    return await run(deps, fn)
