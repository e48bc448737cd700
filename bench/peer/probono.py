"""peer: matching 1,000 volunteers to 100 projects against a plain baseline, same run.

The data: 1,000 confirmed volunteers (one to four of the 16 skills, 5–40 hours a month, periods of three
months to two years, remote, on site or either, in one of eight states), 100 open projects (one to three
skills, 20–200 hours over one to six months) and 300 past matches (completed with approved hours, or
accepted and under way) that give volunteers a track record and hours already committed.

Ours is the service's real use case, once per project (``handlers_probono.suggestions``): the project,
its city, its matches, the candidates by one indexed query (a skill needed; a day of the project free,
checked in the process) with the track record each volunteer keeps (worked out before the timing, as the
service does at start), the skills' words, then the score and its reasons for each and the best 20.
The plain baseline: every confirmed volunteer read by one query with no filter and scored by the same
function, then the best 20 — the least any implementation must do without the index; track records
computed once for the whole run and not counted.

    python -m bench.peer.probono [--volunteers 1000] [--projects 100] [--rounds 3]

Prints milliseconds to match every project (median of the rounds) for both, and the ratio ours / plain
(target ≤ 1.5). Figures only.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta

from nrn_kit.app import ServiceSpec
from nrn_kit.app import create_app as create_kit_app
from nrn_kit.infra import local_infra

from peer import handlers_probono as hp
from peer.adapters import probono as store
from peer.adapters.mongo import CITIES, INDEXES
from peer.config import Settings
from peer.domain.actors import Actor
from peer.domain.matching import suggest
from peer.domain.probono import DEFAULT_SKILLS, HoursEntry, Match, Project, Volunteer
from peer.handlers import Deps

from ..common import bench_settings, report

STATES = ("MI", "OH", "IN", "IL", "PA", "NY", "LA", "TX")
STAFF = Actor(id="pm-bench", kind="staff", roles=frozenset({"program_manager"}))


def _data(volunteers: int, projects: int, rng: random.Random) -> tuple[list[Volunteer], list[Project], list[Match]]:
    skills, start = list(DEFAULT_SKILLS), date(2026, 1, 1)
    at = datetime(2025, 12, 1, tzinfo=UTC)
    vs = []
    for i in range(volunteers):
        begin = start + timedelta(days=rng.randrange(0, 300))
        vs.append(Volunteer(
            id=f"vol_{i:05d}", account_id=f"acc-{i}", organization_id=f"org-{i % 20}", name=f"Volunteer {i}",
            title="Analyst", skills=rng.sample(skills, rng.randint(1, 4)), hours_per_month=rng.randint(5, 40),
            available_from=begin, available_until=begin + timedelta(days=rng.randrange(90, 730)),
            work_mode=rng.choice(("remote", "on_site", "either")), base_city="", base_state=rng.choice(STATES),
            experience="", phone="", registered_at=at + timedelta(minutes=i), status="confirmed"))
    ps = []
    for j in range(projects):
        begin = start + timedelta(days=rng.randrange(0, 365))
        mode = rng.choice(("remote", "on_site", "either"))
        ps.append(Project(
            id=f"prj_{j:04d}", city_id=f"city-{j % 25}", department="Planning", title=f"Project {j}",
            problem="A problem to solve.", skills=rng.sample(skills, rng.randint(1, 3)),
            hours_needed=rng.randint(20, 200), starts_on=begin, ends_on=begin + timedelta(days=rng.randrange(30, 180)),
            work_mode=mode, on_site_needs="" if mode == "remote" else "On site", posted_by="off", posted_at=at,
            status="open"))
    ms = []
    for k in range(300):
        v, p = rng.choice(vs), rng.choice(ps)
        done = k % 2 == 0
        m = Match(id=f"mch_{k:04d}", project_id=p.id, city_id=p.city_id, volunteer_id=v.id, account_id=v.account_id,
                  organization_id=v.organization_id, score=0.5, reasons=[], hours_agreed=20, proposed_by="staff",
                  proposer="pm", proposed_at=at, status="completed" if done else "accepted",
                  answers={"volunteer": "accepted", "city": "accepted"}, accepted_at=at,
                  project_skills=list(p.skills), project_months=p.months)  # as propose_match keeps them
        if done:
            m.hours.append(HoursEntry(id=f"h{k}", worked_on=p.starts_on, hours=8, note="", logged_at=at,
                                      status="approved"))
        ms.append(m)
    return vs, ps, ms


async def run(infra, volunteers: int, projects: int, rounds: int) -> dict[str, float]:  # noqa: ANN001
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
        db = runtime.db
        vs, ps, ms = _data(volunteers, projects, random.Random(14))
        await db[CITIES].insert_many([{"_id": f"city-{c}", "name": f"Town {c}", "state": STATES[c % len(STATES)]}
                                      for c in range(25)])
        await db[store.VOLUNTEERS].insert_many([v.to_document() | {"version": 1} for v in vs])
        await db[store.PROJECTS].insert_many([p.to_document() | {"version": 1} for p in ps])
        await db[store.MATCHES].insert_many([m.to_document() | {"version": 1} for m in ms])
        await hp.keep_tracks(deps)  # each volunteer's track record summary, as the service does at start
        labels = await hp.known_skills(deps)
        tracks = await hp.tracks(deps)  # the baseline's, once: not counted
        states = {f"city-{c}": STATES[c % len(STATES)] for c in range(25)}

        async def ours() -> int:
            n = 0
            for p in ps:
                _, found = await hp.suggestions(deps, p.id, actor=STAFF, limit=20)
                n += len(found)
            return n

        async def plain() -> int:
            n = 0
            for p in ps:
                docs = await db[store.VOLUNTEERS].find({"status": "confirmed"}).to_list()
                offered = {m.volunteer_id for m in ms if m.project_id == p.id}
                n += len(suggest(p, [Volunteer.from_document(d) for d in docs], tracks, skill_labels=labels,
                                 city_state=states[p.city_id], exclude=offered, limit=20))
            return n

        a, b = await ours(), await plain()  # warm-up, and the same answer's size
        assert a == b, (a, b)

        async def timed(fn) -> float:  # noqa: ANN001
            start = time.perf_counter()
            await fn()
            return (time.perf_counter() - start) * 1000

        ours_ms, plain_ms = [], []
        for _ in range(rounds):  # interleaved, so both see the same load
            ours_ms.append(await timed(ours))
            plain_ms.append(await timed(plain))
        return {"suggestions": a, "ours_ms": statistics.median(ours_ms), "plain_ms": statistics.median(plain_ms)}
    finally:
        await runtime.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--volunteers", type=int, default=1000)
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with local_infra() as infra:
        f = asyncio.run(run(infra, args.volunteers, args.projects, args.rounds))
    ratio = f["ours_ms"] / f["plain_ms"]
    report("peer: matching volunteers to projects (suggestions with reasons) vs scoring every volunteer", {
        "volunteers": args.volunteers,
        "projects": args.projects,
        "suggestions made (best 20 each)": f["suggestions"],
        "ours: ms for every project (median)": f["ours_ms"],
        "plain: ms for every project (median)": f["plain_ms"],
    }, ratio_name="ours / plain", ratio=ratio, target="≤ 1.5", met=ratio <= 1.5)


if __name__ == "__main__":
    main()
