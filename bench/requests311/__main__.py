"""requests311: submit → triage → deliver throughput against the service's own single-document writes.

Ours: for each question, the service's use cases in order — submit, triage, assign, draft the
memo, send it for review, approve, deliver — each one a transaction that loads the request,
lets the aggregate decide, writes it back under optimistic concurrency, keeps the workload and
metrics facts, and appends its events to the outbox; the relay publishes them to Kafka meanwhile.
Baseline, same database, same run, same concurrency: one `insert_one` per request-sized
document (what a service without transactions, outbox or read models would do per write).

Memo documents: the delivered memo (1,000 words, a line in every script the PDF promises) made
into its PDF (WeasyPrint, PDF/UA, on the PDF worker thread) against the same document made into
HTML alone, in the same run; and the longest the event loop went unanswered while PDFs rendered.

    python -m bench.requests311 [--requests 200] [--concurrency 8] [--memos 20] [--only pipeline|documents]

Prints questions delivered per second, commands per second, baseline writes per second, the
milliseconds per memo document, and the ratios. Figures only; no test asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime

from nrn_kit.app import ServiceSpec
from nrn_kit.app import create_app as create_kit_app
from nrn_kit.infra import local_infra

from requests311 import handlers as h
from requests311.adapters import mongo as repo
from requests311.adapters.mongo import INDEXES
from requests311.config import Settings
from requests311.domain.model import ExpertRef, Topic
from requests311.render import MemoDocument, memo_html_document, memo_pdf
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


SCRIPTS = "Tiếng Việt and 中文 · 日本語 · 한국어 · हिन्दी · العربية · 🏙"


async def documents(n: int) -> dict[str, float]:
    """Per-memo milliseconds: HTML alone (baseline) and the PDF, medians of n; the loop's longest gap."""
    doc = MemoDocument(title=f"Lead service lines ({SCRIPTS})", city_name="Flint", state="MI",
                       body_markdown=memo_body(1_000).replace("## Options", f"{SCRIPTS}\n\n## Options"), version=2,
                       delivered_at=datetime(2027, 3, 3, 15, tzinfo=UTC), recipient_name="Pat Official",
                       recipient_title="City Manager", expert_name="Eve Expert")
    await memo_pdf(doc)  # warm-up: fontconfig, Pango's font map, the CSS
    html_ms, pdf_ms = [], []
    for i in range(n):
        variant = replace(doc, version=i + 1)
        start = time.perf_counter()
        memo_html_document(variant)
        html_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        pdf = await memo_pdf(variant)
        pdf_ms.append((time.perf_counter() - start) * 1000)

    # the event loop while 4 PDFs render at once, and idle for as long (the machine's own share of
    # the gaps): ticks every 5 ms, the 99th percentile and the longest gap between ticks
    async def gaps_while(work: asyncio.Future | None, seconds: float = 0.0) -> list[float]:
        gaps: list[float] = []
        end = time.perf_counter() + seconds
        last = time.perf_counter()
        while (work is not None and not work.done()) or (work is None and time.perf_counter() < end):
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append((now - last) * 1000 - 5)
            last = now
        return sorted(gaps)

    start = time.perf_counter()
    busy = await gaps_while(asyncio.ensure_future(
        asyncio.gather(*(memo_pdf(replace(doc, version=100 + i)) for i in range(4)))))
    idle = await gaps_while(None, time.perf_counter() - start)

    def p99(values: list[float]) -> float:
        return values[min(len(values) - 1, int(len(values) * 0.99))]

    return {"html_ms": statistics.median(html_ms), "pdf_ms": statistics.median(pdf_ms), "pdf_bytes": len(pdf),
            "busy_p99": p99(busy), "busy_max": busy[-1], "idle_p99": p99(idle), "idle_max": idle[-1]}


def report_documents(n: int) -> None:
    d = asyncio.run(documents(n))
    report(
        "requests311: memo documents (under load unless the machine was quiet)",
        {
            "memos rendered (each way)": n,
            "HTML document, median ms": d["html_ms"],
            "PDF (WeasyPrint, PDF/UA), median ms": d["pdf_ms"],
            "PDF size, bytes": d["pdf_bytes"],
            "event-loop lag while 4 PDFs render, p99 / max ms": f'{d["busy_p99"]:.1f} / {d["busy_max"]:.1f}',
            "event-loop lag idle for as long, p99 / max ms": f'{d["idle_p99"]:.1f} / {d["idle_max"]:.1f}',
        },
        ratio_name="PDF ms ÷ HTML ms",
        ratio=d["pdf_ms"] / d["html_ms"],
        target="informational (layout, shaping and font subsetting against string building)",
        met=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--memos", type=int, default=20)
    parser.add_argument("--only", choices=("pipeline", "documents"))
    args = parser.parse_args()
    if args.only != "pipeline":
        report_documents(args.memos)
    if args.only == "documents":
        return
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
