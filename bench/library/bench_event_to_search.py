"""From an event to a search hit, through the whole library service, at a steady load of other events.

    .venv/bin/python bench/library/bench_event_to_search.py [--rate 20] [--seconds 30] [--samples 20]

Starts the embedded broker and database (or uses KAFKA_BOOTSTRAP_SERVERS / MONGODB_URI), serves
the library app, and publishes requests311 `MemoDelivered` events (consented answers) at `--rate`
per second. Meanwhile it publishes marker answers one at a time and measures how long each takes
from being sent to the broker until `GET /search` over HTTP returns it: consumer → transaction
(fold, redaction, resource, outbox) → change stream → index commit. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx

from library.app import create_app
from library.config import Settings
from nrn_contracts import encode, envelope, kafka_headers
from nrn_contracts.events import MemoDelivered
from nrn_kit.consumer import applied_event_keys
from nrn_kit.infra import local_infra
from nrn_kit.kafka import make_producer
from nrn_kit.serving import serve_app

WORDS = ("budget housing transit broadband workforce zoning permits parks water lead pipes land bank vacant "
         "homes revenue pension bonds audit procurement").split()


def memo(request_id: str, words: str) -> MemoDelivered:
    return MemoDelivered(
        request_id=request_id, city_id="city-bench", topic="housing", title=f"Question about {words}",
        question=f"How should a small city handle {words}? Contact Jane Doe at 555-201-0199.",
        short_answer=f"Start with {words}, then review.", memo_markdown=f"## Short answer\nStart with {words}.",
        consent_to_publish="anonymous", delivered_at=datetime.now(UTC))


async def run(args: argparse.Namespace, kafka: str, mongo: str) -> None:
    tag = uuid.uuid4().hex[:8]
    settings = Settings(environment="test", kafka_bootstrap_servers=kafka, mongodb_uri=mongo,
                        database_name=f"bench_{tag}_library", topic_prefix=f"b{tag}.", log_json=False,
                        kafka_session_timeout_ms=1000, kafka_heartbeat_interval_ms=200, topic_partitions=3,
                        search_commit_interval_s=args.commit_interval)
    app = create_app(settings)
    producer = make_producer(settings)
    await producer.start()

    async def send(event: MemoDelivered) -> None:
        ce = envelope(event, source="/nrn/requests311")
        await producer.send(settings.topic(type(event).topic), encode(ce), key=event.aggregate_id().encode(),
                            headers=kafka_headers(ce))

    try:
        async with serve_app(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
            stop = asyncio.Event()
            sent = 0

            async def background() -> None:
                nonlocal sent
                i = 0
                interval = 1 / args.rate
                next_at = time.perf_counter()
                while not stop.is_set():
                    words = " ".join(WORDS[(i + k) % len(WORDS)] for k in range(3))
                    await send(memo(f"bg-{i}", words))
                    sent += 1
                    i += 1
                    next_at += interval
                    await asyncio.sleep(max(0.0, next_at - time.perf_counter()))

            bg = asyncio.create_task(background())
            await asyncio.sleep(3)  # let the load reach a steady state first
            lat: list[float] = []
            t_start = time.perf_counter()
            for k in range(args.samples):
                marker = f"zq{uuid.uuid4().hex[:10]}"
                t = time.perf_counter()
                await send(memo(f"marker-{k}", marker))
                await producer.flush()
                while True:
                    r = await http.get("/search", params={"q": marker, "facets": "false", "snippets": "false"})
                    if f"qa-marker-{k}" in [h["id"] for h in r.json()["hits"]]:
                        break
                    if time.perf_counter() - t > 60:
                        db = app.state.runtime.db
                        raise SystemExit(f"a marker did not become searchable within 60 s (inbox "
                                         f"{len(await applied_event_keys(db))} events, resources "
                                         f"{await db.resources.count_documents({})}, index "
                                         f"{app.state.runtime.state['search'].num_docs}, stats "
                                         f"{[r.stats for r in app.state.runtime.runners]})")
                    await asyncio.sleep(0.01)
                lat.append(time.perf_counter() - t)
                await asyncio.sleep(max(0.0, args.seconds / args.samples - (time.perf_counter() - t)))
            elapsed = time.perf_counter() - t_start
            stop.set()
            await bg
            applied = await app.state.runtime.db.resources.count_documents({})
            lat.sort()
            print(f"background load: {args.rate} MemoDelivered/s offered, {sent} sent; "
                  f"{applied} Q&A resources written by the end")
            print(f"event sent -> searchable over HTTP ({len(lat)} samples over {elapsed:.0f}s, index commit every "
                  f"{args.commit_interval}s): p50 {statistics.median(lat):.3f}s  "
                  f"p90 {lat[int(0.9 * (len(lat) - 1))]:.3f}s  max {lat[-1]:.3f}s   (target <= 2 s)")
            await app.state.runtime.client.drop_database(settings.database_name)
    finally:
        await producer.stop()


def main() -> None:
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=20.0, help="background MemoDelivered events per second")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--samples", type=int, default=20)
    ap.add_argument("--commit-interval", type=float, default=0.25)
    args = ap.parse_args()
    import os

    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") and os.environ.get("MONGODB_URI"):
        asyncio.run(run(args, os.environ["KAFKA_BOOTSTRAP_SERVERS"], os.environ["MONGODB_URI"]))
        return
    with local_infra(data_dir=Path(tempfile.mkdtemp(prefix="nrn-bench-"))) as infra:
        asyncio.run(run(args, infra.kafka_bootstrap_servers, infra.mongodb_uri))


if __name__ == "__main__":
    main()
