"""requests311: submit → triage → deliver throughput against the service's own single-document writes.

Ours: for each question, the service's use cases in order — submit, triage, assign, draft the
memo, send it for review, approve, deliver — each one a transaction that loads the request,
lets the aggregate decide, writes it back under optimistic concurrency, keeps the workload and
metrics facts, and appends its events to the outbox; the relay publishes them to Kafka meanwhile.
Baseline, same database, same run, same concurrency: one `insert_one` per request-sized
document (what a service without transactions, outbox or read models would do per write).

    python -m bench.requests311 [--requests 200] [--concurrency 8]

Prints questions delivered per second, commands per second, baseline writes per second and the
ratios. Figures only; no test asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

from nrn_kit.app import ServiceSpec
from nrn_kit.app import create_app as create_kit_app
from nrn_kit.infra import local_infra

from requests311 import handlers as h
from requests311.adapters import mongo as repo
from requests311.adapters.mongo import INDEXES
from requests311.config import Settings
from requests311.domain.model import ExpertRef, Topic
from requests311.testing import EXPERT, LEAD, OFFICIAL, PM, REVIEWER, memo_body, question

from ..common import bench_settings, report

STEPS = 7  # submit, triage, assign, draft, submit for review, approve, deliver


async def pipeline(deps: h.Deps, memo: str) -> None:
    req = await h.submit_question(deps, actor=OFFICIAL, draft=question())
    rid, v = req.id, req.version
    v = (await h.triage(deps, rid, actor=LEAD, version=v, topic=Topic.housing)).version
    v = (await h.assign(deps, rid, actor=LEAD, version=v, expert_id=EXPERT.id)).version
    v = (await h.draft_memo(deps, rid, actor=EXPERT, version=v, body=memo)).version
    v = (await h.submit_memo(deps, rid, actor=EXPERT, version=v)).version
    v = (await h.approve_memo(deps, rid, actor=REVIEWER, version=v)).version
    await h.deliver_memo(deps, rid, actor=PM, version=v)


async def run(infra, n: int, concurrency: int) -> dict[str, float]:  # noqa: ANN001
    settings = bench_settings(infra, Settings, service_name="requests311", sla_sweep_interval_seconds=0,
                              consumers_enabled=False, topic_partitions=3)
    app = create_kit_app(ServiceSpec(settings=settings, title="bench", indexes=INDEXES,
                                     publishes=["nrn.requests311.v1"]))
    runtime = app.state.runtime
    await runtime.start()
    try:
        db = runtime.db
        await db[repo.CITIES].insert_one({"_id": OFFICIAL.city_id, "name": "Flint", "state": "MI", "eligible": True})
        await db[repo.EXPERTS].insert_one({"_id": EXPERT.id, "name": EXPERT.name, "is_expert": True,
                                           "expertise": ["housing"]})
        deps = h.Deps(store=runtime.store, levels=settings.service_levels)
        memo = memo_body(1_000)
        await pipeline(deps, memo)  # warm-up

        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(n):
            queue.put_nowait(i)

        async def ours() -> None:
            while not queue.empty():
                queue.get_nowait()
                await pipeline(deps, memo)

        start = time.perf_counter()
        await asyncio.gather(*(ours() for _ in range(concurrency)))
        ours_s = time.perf_counter() - start

        # the baseline writes documents shaped like the service's own, into the same database
        sample = await db[repo.REQUESTS].find_one({})
        sample.pop("_id")
        writes = n * STEPS
        for i in range(writes):
            queue.put_nowait(i)
        baseline = db["baseline_requests"]

        async def single_writes() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                await baseline.insert_one({**sample, "_id": f"b{i}-{uuid.uuid4().hex[:6]}"})

        start = time.perf_counter()
        await asyncio.gather(*(single_writes() for _ in range(concurrency)))
        base_s = time.perf_counter() - start
        published = await db["outbox"].count_documents({"state": "sent"})
        return {"ours_s": ours_s, "base_s": base_s, "writes": writes, "published": published}
    finally:
        await runtime.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    with local_infra() as infra:
        r = asyncio.run(run(infra, args.requests, args.concurrency))
    n = args.requests
    delivered = n / r["ours_s"]
    commands = n * STEPS / r["ours_s"]
    baseline = r["writes"] / r["base_s"]
    report(
        "requests311: submit → triage → deliver",
        {
            "questions delivered": n,
            "concurrency": args.concurrency,
            "questions submitted→delivered per second": delivered,
            "commands per second (7 per question)": commands,
            "baseline single-document writes per second": baseline,
            "single writes in the time of one delivered question": baseline / delivered,
            "events published by the relay meanwhile": r["published"],
        },
        ratio_name="commands/s ÷ single writes/s",
        ratio=commands / baseline,
        target="informational (each command is a transaction of 5–7 operations)",
        met=True,
    )


if __name__ == "__main__":
    main()
