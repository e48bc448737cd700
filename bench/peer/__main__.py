"""peer: registrations per second when everyone wants the last seats, against uncontended registration.

Two service runtimes share one database (as two replicas of peer would), each with its own store
and group commit, so their commands really race for the convening's revision. Workers alternate
between them.

Contended: all workers register for ONE convening that has only ``--seats`` places left, so every
command reads and writes the same seat counters; the first few get places, the rest join the
waitlist. Uncontended (baseline, same run, same runtimes, same number of workers): each worker
registers for a convening of its own with room for everyone, so no two commands touch the same
convening. Both are the service's real use case (``handlers.register``: the convening under its
revision check, the registration, the event in the outbox; the relay publishing meanwhile).

Checked after the contended round: places held = seats offered, never more (zero overbooking), and
every waitlist number is someone's alone.

    python -m bench.peer [--registrations 400] [--concurrency 16] [--seats 5]

Prints registrations per second in both rounds, the retries the revision check caused, and the
ratio (target ≥ 0.5). Figures only; no test asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from nrn_kit.app import ServiceSpec
from nrn_kit.app import create_app as create_kit_app
from nrn_kit.infra import local_infra

from peer import handlers as h
from peer.adapters import mongo as repo
from peer.adapters.mongo import INDEXES
from peer.config import Settings
from peer.domain.actors import Actor
from peer.domain.registration import Answers

from ..common import bench_settings, report


def draft(capacity: int, title: str) -> h.ConveningDraft:
    now = datetime.now(UTC)
    return h.ConveningDraft(kind="annual_convening", title=title, description="", topics=[], host_city_id=None,
                            venue="Convention Center", address="", timezone="America/Chicago",
                            starts_at=now + timedelta(days=60), ends_at=now + timedelta(days=61), capacity=capacity,
                            per_city_limit=None, opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=50),
                            sessions=[])


async def run(infra, n: int, concurrency: int, seats: int) -> dict[str, float]:  # noqa: ANN001
    settings = bench_settings(infra, Settings, service_name="peer", hold_sweep_interval_seconds=0,
                              consumers_enabled=False, topic_partitions=3)
    runtimes = []
    for _ in range(2):
        app = create_kit_app(ServiceSpec(settings=settings, title="bench", indexes=INDEXES, publishes=["nrn.peer.v1"]))
        runtimes.append(app.state.runtime)
        await app.state.runtime.start()
    try:
        deps = [h.Deps(store=r.store) for r in runtimes]
        pm = Actor(id="pm-1", kind="staff", roles=frozenset({"program_manager"}))

        def official(i: int, tag: str) -> Actor:
            return Actor(id=f"{tag}-{i}", kind="official", city_id=f"city-{tag}-{i}")

        async def round_(convening_of, tag: str) -> float:  # noqa: ANN001
            queue: asyncio.Queue[int] = asyncio.Queue()
            for i in range(n):
                queue.put_nowait(i)

            async def worker(w: int) -> None:
                d = deps[w % 2]
                while not queue.empty():
                    i = queue.get_nowait()
                    await h.register(d, convening_of(w), actor=official(i, tag), answers=Answers())

            start = time.perf_counter()
            await asyncio.gather(*(worker(w) for w in range(concurrency)))
            return time.perf_counter() - start

        # warm-up
        warm = await h.schedule_convening(deps[0], actor=pm, draft=draft(10, "warm-up"))
        await h.register(deps[0], warm.id, actor=official(0, "warm"), answers=Answers())

        own = [(await h.schedule_convening(deps[w % 2], actor=pm, draft=draft(n + 1, f"own {w}"))).id
               for w in range(concurrency)]
        retries_before = sum(d.contended_retries[0] for d in deps)
        base_s = await round_(lambda w: own[w], "u")
        base_retries = sum(d.contended_retries[0] for d in deps) - retries_before

        last = await h.schedule_convening(deps[0], actor=pm, draft=draft(seats, "the last seats"))
        retries_before = sum(d.contended_retries[0] for d in deps)
        ours_s = await round_(lambda w: last.id, "c")
        ours_retries = sum(d.contended_retries[0] for d in deps) - retries_before

        db = runtimes[0].db
        regs = await db[repo.REGISTRATIONS].find({"convening_id": last.id}).to_list()
        counts = Counter(r["status"] for r in regs)
        seqs = [r["waitlist_seq"] for r in regs if r["status"] == "waitlisted"]
        doc = await db[repo.CONVENINGS].find_one({"_id": last.id})
        overbooked = max(counts["confirmed"] + counts["offered"] - seats, 0)
        assert overbooked == 0 and doc["seats_taken"] == seats and len(seqs) == len(set(seqs)) == n - seats, counts
        return {"ours_s": ours_s, "base_s": base_s, "confirmed": counts["confirmed"], "waitlisted": counts["waitlisted"],
                "overbooked": overbooked, "ours_retries": ours_retries, "base_retries": base_retries}
    finally:
        for r in runtimes:
            await r.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--registrations", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seats", type=int, default=5)
    args = parser.parse_args()
    with local_infra() as infra:
        f = asyncio.run(run(infra, args.registrations, args.concurrency, args.seats))
    ours, base = args.registrations / f["ours_s"], args.registrations / f["base_s"]
    ratio = ours / base
    report("peer: registrations for the last seats vs uncontended (two runtimes, one database)", {
        "registrations per round": args.registrations,
        "workers (alternating between the two runtimes)": args.concurrency,
        "seats left in the contended convening": args.seats,
        "contended: registrations/s": ours,
        "uncontended: registrations/s": base,
        "contended: places given / waitlisted / overbooked": f"{f['confirmed']} / {f['waitlisted']} / {f['overbooked']}",
        "contended: commands run again (lost the revision race)": f["ours_retries"],
        "uncontended: commands run again": f["base_retries"],
    }, ratio_name="contended / uncontended", ratio=ratio, target="≥ 0.5", met=ratio >= 0.5)


if __name__ == "__main__":
    main()
