"""Webhook deliveries per second to 20 local endpoints with one of them hanging, against the same
with none hanging, in one run (isolation per endpoint: target ratio ≥ 0.8).

    .venv/bin/python -m bench.webhooks [--events 40] [--rounds 2]

Each round runs both cases on a fresh partners service (real broker, database, consumer, dispatcher)
delivering to 20 endpoints of one loopback receiver: N events published → 20 × N deliveries. The
figure is deliveries per second to the 19 endpoints that answer in both cases, from the first
publish to the last of them delivered. In the hanging case endpoint 0 never answers (each attempt
ends at ATTEMPT_TIMEOUT_SECONDS and is retried on the schedule). Cases alternate between rounds;
medians are reported. Figures measured on the shared 2-core machine are "under load".
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from nrn_contracts import encode, envelope, kafka_headers
from nrn_contracts.events import accounts as acc
from nrn_contracts.events import requests311 as r311
from nrn_contracts.testing import example

from nrn_kit.auth import TokenVerifier
from nrn_kit.infra import local_infra
from nrn_kit.kafka import make_producer
from nrn_kit.serving import serve_app
from nrn_kit.testing import TokenIssuer
from partners.adapters import mongo as repo
from partners.app import create_app
from partners.config import Settings
from partners.testing import Reply, receiver

from ..common import bench_settings, report

ENDPOINTS = 20


async def one_case(infra, *, events: int, hanging: bool) -> float:  # noqa: ANN001
    settings = bench_settings(infra, Settings, service_name="partners", allow_loopback_endpoints=True,
                              dispatch_poll_seconds=0.05, endpoint_cache_seconds=0.0, attempt_timeout_seconds=5.0,
                              read_timeout_seconds=5.0, connect_timeout_seconds=2.0, delivery_lease_seconds=30.0)
    issuer = TokenIssuer()
    app = create_app(settings)
    app.state.runtime.verifier = TokenVerifier(jwks=issuer.jwks)
    producer = make_producer(settings)
    await producer.start()
    try:
        async with receiver() as rx, serve_app(app) as url:
            import httpx

            async def publish(*items) -> None:  # noqa: ANN002
                for event in items:
                    ce = envelope(event, source="/nrn/bench")
                    await producer.send_and_wait(settings.topic(type(event).topic), encode(ce),
                                                 key=event.aggregate_id().encode(), headers=kafka_headers(ce))

            await publish(acc.PartnerRegistered(partner_id="ptn_b", name="Bench", kind="federal_agency"))
            db = app.state.runtime.db
            while not await db[repo.PARTNERS].find_one({"_id": "ptn_b"}):
                await asyncio.sleep(0.05)
            token = issuer.token("acc_b", "partner_member", roles=("partner_administrator",), partner_id="ptn_b")
            async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}) as http:
                for i in range(ENDPOINTS):
                    r = await http.post("/partners/ptn_b/endpoints", json={
                        "url": rx.url(f"/e{i}"), "event_types": ["org.nationalresourcenetwork.requests311.*"]})
                    r.raise_for_status()
            if hanging:
                rx.respond("/e0", then=Reply(hang=True))
            healthy = {f"/e{i}" for i in range(1, ENDPOINTS)}
            wanted = events * len(healthy)
            start = time.perf_counter()
            await publish(*[example(r311.QuestionSubmitted, request_id=f"r-b{i}") for i in range(events)])
            while sum(1 for r in rx.received if r.path in healthy) < wanted:
                await asyncio.sleep(0.02)
            return wanted / (time.perf_counter() - start)
    finally:
        await producer.stop()


async def run(events: int, rounds: int) -> None:
    with local_infra() as infra:
        healthy, hanging = [], []
        for round_ in range(rounds):
            order = (False, True) if round_ % 2 == 0 else (True, False)
            for case in order:
                rate = await one_case(infra, events=events, hanging=case)
                (hanging if case else healthy).append(rate)
                print(f"  round {round_ + 1}: {'one hanging' if case else 'none hanging'}: {rate:,.1f} deliveries/s",
                      flush=True)
        a, b = statistics.median(hanging), statistics.median(healthy)
        report("webhooks (under load on the shared machine unless re-measured quiet)", {
            "events per case": events, "endpoints": ENDPOINTS, "rounds": rounds,
            "deliveries/s to the 19 answering endpoints, one hanging (median)": a,
            "deliveries/s to the same 19, none hanging (median)": b,
        }, ratio_name="ratio hanging / none hanging", ratio=a / b, target="≥ 0.8", met=a / b >= 0.8)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.webhooks")
    parser.add_argument("--events", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(run(args.events, args.rounds))


if __name__ == "__main__":
    main()
