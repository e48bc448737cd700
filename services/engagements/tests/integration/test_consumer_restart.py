"""The read-model consumer killed mid-work (SIGKILL of the service process) and restarted applies
every event exactly once: the inbox holds one entry per event and every effect is there."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime

import httpx
import pytest
from nrn_contracts import encode, envelope, kafka_headers
from nrn_contracts.events import accounts as acc

from engagements.config import Settings
from nrn_kit.consumer import applied_event_keys
from nrn_kit.kafka import make_producer
from nrn_kit.mongo import make_client
from nrn_kit.serving import free_port
from nrn_kit.testing import eventually

PEOPLE = 600  # two events each: enough work to be caught half-way


def start(settings: Settings, port: int) -> subprocess.Popen:
    env = dict(os.environ)
    for name, value in settings.model_dump().items():
        if value is not None and not isinstance(value, (dict, list, tuple)):
            env[name.upper()] = str(value.get_secret_value() if hasattr(value, "get_secret_value") else value)
    env.pop("RUBRIC", None)
    return subprocess.Popen([sys.executable, "-m", "uvicorn", "engagements.app:create_app", "--factory", "--host",
                             "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning"],
                            env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def kill(proc: subprocess.Popen, sig: int) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        proc.wait(timeout=30)


@pytest.mark.timeout(600)
async def test_killed_mid_batch_and_restarted_the_consumer_applies_each_event_once(make_settings):
    settings = make_settings(Settings, orphan_sweep_interval_seconds=0, relay_embedded=False)
    at = datetime.now(UTC)
    events = []
    for i in range(PEOPLE):
        events.append(acc.AccountRegistered(account_id=f"s-{i}", kind="staff", email=f"s{i}@nrn.example",
                                            name=f"Staff {i}", status="verified"))
        events.append(acc.RoleGranted(account_id=f"s-{i}", role="reviewer", by="adm-1", at=at))
    producer = make_producer(settings)
    await producer.start()
    try:
        for event in events:
            ce = envelope(event, source="/nrn/accounts")
            await producer.send(settings.topic(type(event).topic), encode(ce),
                                key=event.aggregate_id().encode(), headers=kafka_headers(ce))
        await producer.flush()
    finally:
        await producer.stop()

    client = make_client(settings)
    db = client[settings.database_name]
    port = free_port("127.0.0.1")
    proc = start(settings, port)
    try:
        async def some_applied() -> int:
            return len(await applied_event_keys(db))

        applied_at_kill = await eventually(some_applied, timeout=120, interval=0.02)
        kill(proc, signal.SIGKILL)  # no goodbye: the offsets of the batch in flight were never committed
        assert applied_at_kill < len(events), "the consumer finished before it could be killed"

        proc = start(settings, port)

        async def all_applied() -> bool:
            return len(await applied_event_keys(db)) >= len(events)

        await eventually(all_applied, timeout=300, interval=0.2)
        await asyncio.sleep(1.0)  # a redelivered batch after the restart would land now
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            assert (await http.get("/health/ready")).status_code == 200
    finally:
        kill(proc, signal.SIGTERM)
    assert len(await applied_event_keys(db)) == len(events)  # one entry per event: each applied once
    people = await db.people.find({}).to_list()
    assert len(people) == PEOPLE
    assert all(p["roles"] == ["reviewer", "staff"] and p["name"] == f"Staff {p['_id'][2:]}" for p in people)
    await client.drop_database(settings.database_name)
    await client.close()
