"""peer: one city's health dashboard against the same aggregation done by a plain query, same run.

The data: 36 measures × 10 years × 301 cities of one population band (the city and its 300 peers),
108,360 values on one database. Ours is the service's real use case (``handlers_health.dashboard``:
the city, the measures shown, the city's values, the band's peers, then the peers' values of each
measure's latest year in one query on ``(measure_id, year, city_id)`` and the statistics and flags in
Python). The plain query (baseline): one aggregation that matches the peers' values of those measures
and years and groups them by measure (``$group`` with ``$push``), the quartiles then computed the same
way — the least any implementation must do.

    python -m bench.peer.health [--cities 300] [--years 10] [--rounds 20]

Prints milliseconds per dashboard (median of the rounds) for both, and the ratio ours / plain
(target ≤ 2: the dashboard also reads the city, its values and its peers' ids). Figures only.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time

from nrn_kit.app import ServiceSpec
from nrn_kit.app import create_app as create_kit_app
from nrn_kit.infra import local_infra

from peer import handlers_health as hh
from peer.adapters import health as store
from peer.adapters.mongo import CITIES, INDEXES
from peer.config import Settings
from peer.domain.health import HealthValue, summarise
from peer.domain.health_catalogue import CATALOGUE
from peer.handlers import Deps

from ..common import bench_settings, report


async def run(infra, peers: int, years: int, rounds: int) -> dict[str, float]:  # noqa: ANN001
    settings = bench_settings(infra, Settings, service_name="peer", hold_sweep_interval_seconds=0,
                              consumers_enabled=False)
    indexes = {k: list(v) for k, v in INDEXES.items()}
    for k, v in store.INDEXES.items():
        indexes.setdefault(k, []).extend(v)
    app = create_kit_app(ServiceSpec(settings=settings, title="bench", indexes=indexes, publishes=["nrn.peer.v1"]))
    runtime = app.state.runtime
    await runtime.start()
    try:
        deps = Deps(store=runtime.store)
        await hh.sync_catalogue(deps)
        db = runtime.db
        rng = random.Random(14)
        cities = [f"city-{i:04d}" for i in range(peers + 1)]
        await db[CITIES].insert_many([{"_id": c, "name": f"Town {i}", "state": "OH", "population": 100_000 + i * 100}
                                      for i, c in enumerate(cities)])
        first = 2024 - years + 1
        values = [HealthValue(c, m.id, y, round(rng.uniform(m.lo, min(m.hi, m.lo + 100)), 1), "illustrative demo value")
                  for c in cities for m in CATALOGUE for y in range(first, 2025)]
        for start in range(0, len(values), 5_000):
            await store.write_values(db, values[start:start + 5_000], [], None)
        city, peer_ids = cities[0], cities[1:]
        ids = [m.id for m in CATALOGUE]

        async def ours() -> int:
            view = await hh.dashboard(deps, city)
            return sum(1 for r in view.board.rows if r.peers)

        async def plain() -> int:
            pipeline = [{"$match": {"measure_id": {"$in": ids}, "year": 2024, "city_id": {"$in": peer_ids}}},
                        {"$group": {"_id": "$measure_id", "values": {"$push": "$value"}}}]
            groups = await (await db[store.VALUES].aggregate(pipeline)).to_list()
            return sum(1 for g in groups if summarise(g["values"], 2024))

        assert await ours() == await plain() == len(CATALOGUE)  # warm-up, and the same answer's size

        async def timed(fn) -> list[float]:  # noqa: ANN001
            out = []
            for _ in range(rounds):
                start = time.perf_counter()
                await fn()
                out.append((time.perf_counter() - start) * 1000)
            return out

        ours_ms, plain_ms = [], []
        for _ in range(2):  # interleaved, so both see the same load
            ours_ms += await timed(ours)
            plain_ms += await timed(plain)
        return {"values": len(values), "ours_ms": statistics.median(ours_ms), "plain_ms": statistics.median(plain_ms)}
    finally:
        await runtime.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cities", type=int, default=300, help="peer cities besides the city itself")
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with local_infra() as infra:
        f = asyncio.run(run(infra, args.cities, args.years, args.rounds))
    ratio = f["ours_ms"] / f["plain_ms"]
    report("peer: one city's health dashboard (36 measures) vs the same aggregation by a plain query", {
        "values on record": f["values"],
        "peer cities": args.cities,
        "years": args.years,
        "ours: ms per dashboard (median)": f["ours_ms"],
        "plain query: ms (median)": f["plain_ms"],
    }, ratio_name="ours / plain", ratio=ratio, target="≤ 2", met=ratio <= 2)


if __name__ == "__main__":
    main()
