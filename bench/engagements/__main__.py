"""engagements: application submissions and review actions per second against single-document writes,
and the waitlist query at 10,000 applications (its plan asserted index-backed).

Submissions: for each city, the service's use cases in order — start the draft, save the whole
form, attach the sponsor's letter (GridFS, then the reference in a transaction), submit — four
commands, each a transaction that loads the application, lets the aggregate decide, writes it back
under optimistic concurrency and appends its events to the outbox (the relay publishes meanwhile).
Review: screen, assign two reviewers, two scores, the decision (accept while the round has places,
else the waitlist) — six commands per application.
Baseline, same database, same run, same concurrency: one ``insert_one`` per application-shaped
document (what a service without transactions or outbox would do per write).

    python -m bench.engagements [--applications 120] [--concurrency 8] [--waitlist 10000]

Prints commands per second, the baseline and the ratios, then the waitlist query's plan and
its latency over 10,000 applications. Figures only; the one assertion is the plan (no COLLSCAN,
an index scan of `waitlist`), as the issue asks.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

from nrn_kit.app import ServiceSpec
from nrn_kit.app import create_app as create_kit_app
from nrn_kit.infra import local_infra

from engagements import handlers as h
from engagements.adapters import mongo as repo
from engagements.adapters.files import AttachmentStore
from engagements.config import Settings
from engagements.domain.model import Actor, Role
from engagements.testing import (
    FAIR_SCORES, GOOD_SCORES, LEAD, PM, REVIEWERS, complete_form, form_changes, terms, tiny_pdf,
)

from ..common import bench_settings, median, percentile, report

SUBMIT_STEPS = 4  # start, save, attach, submit
REVIEW_STEPS = 6  # screen, assign ×2, score ×2, decide


def official(i: int) -> Actor:
    return Actor(id=f"off-{i}", kind="official", roles=frozenset({Role.official}), city_id=f"city-{i}", verified=True,
                 name=f"Official {i}")


async def submission(deps: h.Deps, i: int, form: dict, letter: bytes) -> str:
    actor = official(i)
    app = await h.start_application(deps, actor=actor)
    app, _ = await h.save_draft(deps, app.id, actor=actor, version=app.version, changes=form_changes(form))
    app = await h.attach(deps, app.id, actor=actor, version=app.version, kind="sponsor_letter",
                         filename="letter.pdf", data=letter)
    await h.submit(deps, app.id, actor=actor, version=app.version)
    return app.id


async def review(deps: h.Deps, app_id: str, round_id: str, start: datetime) -> None:
    app = await h.screen(deps, app_id, actor=LEAD, version=await _version(deps, app_id), outcome="eligible")
    for reviewer in REVIEWERS[:2]:
        app = await h.assign_reviewer(deps, app_id, actor=PM, version=app.version, reviewer_id=reviewer.id)
    for reviewer, scores in zip(REVIEWERS[:2], (GOOD_SCORES, FAIR_SCORES), strict=True):
        app = await h.score(deps, app_id, actor=reviewer, version=app.version, scores=scores)
    await h.decide(deps, app_id, actor=PM, version=app.version, decision="accept", reason="Strong commitment.",
                   terms=terms(start.date()), round_id=round_id)


async def _version(deps: h.Deps, app_id: str) -> int:
    doc = await deps.store.db[repo.APPLICATIONS].find_one({"_id": app_id}, {"version": 1})
    return doc["version"]


async def run(infra, n: int, concurrency: int, waitlist_size: int) -> dict[str, float]:  # noqa: ANN001
    settings = bench_settings(infra, Settings, service_name="engagements", consumers_enabled=False,
                              orphan_sweep_interval_seconds=0, topic_partitions=3)
    app = create_kit_app(ServiceSpec(settings=settings, title="bench", indexes=repo.INDEXES,
                                     publishes=["nrn.engagements.v1"]))
    runtime = app.state.runtime
    await runtime.start()
    try:
        db = runtime.db
        start = datetime.now(UTC)
        deps = h.Deps(store=runtime.store, files=AttachmentStore(db), rubric=settings.rubric)
        # the read models accounts' events would fill: cities and reviewers
        await db[repo.CITIES].insert_many([{"_id": f"city-{i}", "name": f"City {i}", "state": "MI", "eligible": True,
                                            "population": 50_000 + i} for i in range(n + 1)])
        await db[repo.PEOPLE].insert_many([{"_id": r.id, "name": r.name, "kind": "staff", "roles": ["reviewer", "staff"]}
                                           for r in REVIEWERS])
        round_doc = await h.create_round(deps, actor=PM, name="Bench round", opens_on=start.date() - timedelta(days=1),
                                         closes_on=None, capacity=max(n // 2, 1))
        form, letter = complete_form(start.date()), tiny_pdf()
        await review(deps, await submission(deps, n, form, letter), round_doc["_id"], start)  # warm-up

        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(n):
            queue.put_nowait(i)
        submitted: list[str] = []

        async def submit_worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                submitted.append(await submission(deps, i, form, letter))

        t = time.perf_counter()
        await asyncio.gather(*(submit_worker() for _ in range(concurrency)))
        submit_s = time.perf_counter() - t

        ids: asyncio.Queue[str] = asyncio.Queue()
        for app_id in submitted:
            ids.put_nowait(app_id)

        async def review_worker() -> None:
            while not ids.empty():
                # once the round is full, an acceptance is refused and the application waitlisted
                await review(deps, ids.get_nowait(), round_doc["_id"], start)

        t = time.perf_counter()
        await asyncio.gather(*(review_worker() for _ in range(concurrency)))
        review_s = time.perf_counter() - t
        accepted = await db[repo.APPLICATIONS].count_documents({"status": "accepted"})
        waitlisted = await db[repo.APPLICATIONS].count_documents({"status": "waitlisted"})

        # the baseline: application-shaped documents, one insert each, same concurrency
        sample = await db[repo.APPLICATIONS].find_one({"_id": submitted[0]})
        sample.pop("_id")
        writes = n * (SUBMIT_STEPS + REVIEW_STEPS)
        for i in range(writes):
            queue.put_nowait(i)
        baseline = db["baseline_applications"]

        async def single_writes() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                await baseline.insert_one({**sample, "_id": f"b{i}-{uuid.uuid4().hex[:6]}"})

        t = time.perf_counter()
        await asyncio.gather(*(single_writes() for _ in range(concurrency)))
        base_s = time.perf_counter() - t

        # the waitlist at `waitlist_size` applications: plan and latency
        docs = [{"_id": f"wl-{i:06d}", "round_id": f"wl-round-{i % 4}", "status": ("waitlisted", "declined", "scored",
                 "accepted", "in_review")[i % 5], "score": 100 + (i * 37) % 401, "submitted_at": start +
                 timedelta(minutes=i), "city_id": f"wl-city-{i % 300}", "created_at": start, "partner_city_ids": [],
                 "reviewer_ids": [], "conflicted_ids": [], "attachments": []} for i in range(waitlist_size)]
        for at in range(0, waitlist_size, 2_000):
            await db[repo.APPLICATIONS].insert_many(docs[at:at + 2_000], ordered=False)
        plan = await repo.explain_waitlist(db, "wl-round-1", limit=20)
        stages, stack = [], [plan["queryPlanner"]["winningPlan"]]
        while stack:
            node = stack.pop()
            stages.append(node)
            stack += [node["inputStage"]] if "inputStage" in node else []
            stack += node.get("inputStages", [])
        kinds = [s.get("stage") for s in stages]
        assert "COLLSCAN" not in kinds, f"the waitlist query scans the collection: {kinds}"
        assert any(s.get("stage") == "IXSCAN" and s.get("indexName") == repo.IX_WAITLIST for s in stages), stages
        times = []
        for _ in range(50):
            t = time.perf_counter()
            await repo.waitlist(db, "wl-round-1", limit=20)
            times.append((time.perf_counter() - t) * 1000)
        return {"submit_s": submit_s, "review_s": review_s, "base_s": base_s, "writes": writes, "accepted": accepted,
                "waitlisted": waitlisted, "plan": " → ".join(k for k in kinds if k),
                "waitlist_p50_ms": median(times), "waitlist_p99_ms": percentile(times, 99),
                "published": await db["outbox"].count_documents({})}
    finally:
        await runtime.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=120)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--waitlist", type=int, default=10_000)
    args = parser.parse_args()
    with local_infra() as infra:
        r = asyncio.run(run(infra, args.applications, args.concurrency, args.waitlist))
    n = args.applications
    baseline = r["writes"] / r["base_s"]
    submit_commands = n * SUBMIT_STEPS / r["submit_s"]
    review_commands = n * REVIEW_STEPS / r["review_s"]
    report(
        "engagements: applications submitted and reviewed",
        {
            "applications": n,
            "concurrency": args.concurrency,
            "submissions per second (start, save, attach, submit)": n / r["submit_s"],
            "submission commands per second": submit_commands,
            "reviews per second (screen, 2 assignments, 2 scores, decision)": n / r["review_s"],
            "review commands per second": review_commands,
            "baseline single-document writes per second": baseline,
            "review commands/s ÷ single writes/s": review_commands / baseline,
            "accepted within capacity / waitlisted": f"{r['accepted']} / {r['waitlisted']}",
            "events in the outbox": r["published"],
            f"waitlist query at {args.waitlist:,} applications: plan": r["plan"],
            "waitlist query p50 (ms)": r["waitlist_p50_ms"],
            "waitlist query p99 (ms)": r["waitlist_p99_ms"],
        },
        ratio_name="submission commands/s ÷ single writes/s",
        ratio=submit_commands / baseline,
        target="informational (each command is a transaction of several operations)",
        met=True,
    )


if __name__ == "__main__":
    main()
