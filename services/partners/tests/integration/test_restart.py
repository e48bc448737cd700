"""The partners service killed (SIGKILL) mid-retry and started again: every delivery completes, and the
receiver — deduplicating by webhook-id, as the Standard Webhooks spec asks — sees each exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter

import httpx
from nrn_contracts.events import requests311 as r311
from nrn_contracts.testing import example

from nrn_kit.serving import free_port
from nrn_kit.testing import eventually
from partners.adapters import mongo as repo
from partners.testing import Reply

EVENTS = 30


def _start(settings, port: int, log) -> subprocess.Popen:  # noqa: ANN001
    env = {**os.environ, "ENVIRONMENT": "test", "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
           "MONGODB_URI": settings.mongodb_uri, "DATABASE_NAME": settings.database_name,
           "TOPIC_PREFIX": settings.topic_prefix, "ALLOW_LOOPBACK_ENDPOINTS": "true",
           "RETRY_SCHEDULE_SECONDS": "[0, 0.3, 0.3, 0.3, 0.3]", "RETRY_JITTER": "0",
           "ATTEMPT_TIMEOUT_SECONDS": "1.5", "CONNECT_TIMEOUT_SECONDS": "1", "READ_TIMEOUT_SECONDS": "1",
           "DELIVERY_LEASE_SECONDS": "2", "DISPATCH_POLL_SECONDS": "0.1", "KAFKA_SESSION_TIMEOUT_MS": "1000",
           "KAFKA_HEARTBEAT_INTERVAL_MS": "200", "TOPIC_PARTITIONS": "2", "LOG_JSON": "false",
           "ENDPOINT_CONCURRENCY": "2"}
    return subprocess.Popen([sys.executable, "-m", "uvicorn", "partners.app:create_app", "--factory",
                             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                            env=env, stdout=log, stderr=log)


async def _ready(port: int) -> None:
    async def check():  # noqa: ANN202
        try:
            async with httpx.AsyncClient() as http:
                return (await http.get(f"http://127.0.0.1:{port}/health/ready", timeout=1)).status_code == 200
        except httpx.HTTPError:
            return False
    await eventually(check, timeout=60)


async def test_killed_mid_retry_every_delivery_arrives_once_per_webhook_id(service_factory, tmp_path) -> None:  # noqa: ANN001
    # register the partner and the endpoint with an in-process instance, then hand over to a process
    async with service_factory(dispatcher_enabled=False) as svc:
        endpoint = await svc.endpoint(event_types=["org.nationalresourcenetwork.requests311.*"])
        settings, rx, db_name = svc.settings, svc.rx, svc.settings.database_name
        # every webhook-id fails once (500), then succeeds: each delivery needs a retry
        failed_once: set[str] = set()

        def first_fails(got):  # noqa: ANN001, ANN202
            if got.webhook_id not in failed_once:
                failed_once.add(got.webhook_id)
                return Reply(500)
            return Reply(200, delay=0.05)  # a little work per request, so the kill lands mid-flight
        rx.decide = first_fails
        await svc.publish(*[example(r311.QuestionSubmitted, request_id=f"r-k{i}") for i in range(EVENTS)])
        db = svc.db
        await eventually(lambda: _deliveries(db, endpoint["id"], EVENTS))

        port = free_port()
        with open(tmp_path / "partners.log", "wb") as log:
            proc = _start(settings, port, log)
            try:
                await _ready(port)
                await eventually(lambda: _received(rx, 12), timeout=60)
                proc.send_signal(signal.SIGKILL)  # mid-retry: some failed once, some in flight, some not sent
                proc.wait(timeout=10)
                killed_at = len(rx.received)
                proc = _start(settings, port, log)
                await _ready(port)
                await eventually(lambda: _succeeded(db, endpoint["id"], EVENTS), timeout=120)
            finally:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        assert killed_at < len(rx.received)  # the restarted process did part of the work
        ok = Counter(r.webhook_id for r in rx.received if r.webhook_id in failed_once)
        wids = {d["_id"] async for d in db[repo.DELIVERIES].find({"endpoint_id": endpoint["id"]})}
        # every delivery reached the receiver, under its own webhook-id, and nothing else did
        assert set(ok) == wids and len(wids) == EVENTS and db_name
        successes = Counter()
        for r in rx.received:
            successes[r.webhook_id] += 1
        # each webhook-id: one failure, then one success — and a second success only for requests that
        # were in flight at the kill (the answer came, the record of it did not): at most the concurrency
        repeats = sum(n - 2 for n in successes.values() if n > 2)
        assert repeats <= 2, successes


async def _deliveries(db, endpoint_id: str, n: int) -> bool:  # noqa: ANN001
    return await db[repo.DELIVERIES].count_documents({"endpoint_id": endpoint_id}) >= n


async def _succeeded(db, endpoint_id: str, n: int) -> bool:  # noqa: ANN001
    return await db[repo.DELIVERIES].count_documents({"endpoint_id": endpoint_id, "state": "succeeded"}) >= n


async def _received(rx, n: int) -> bool:  # noqa: ANN001
    return len(rx.received) >= n
