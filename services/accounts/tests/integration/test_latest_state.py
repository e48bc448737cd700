"""The latest-state records on the compacted topics: every change of a city or an account publishes its
whole current state (no name or e-mail for accounts), in the same transaction; and, on a broker that
applies compaction (the real Kafka lane), a reader from the start sees only the newest record per key."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from nrn_contracts import TOPICS, decode
from nrn_contracts.events import AccountStateChanged, CityStateChanged

from nrn_kit.testing import eventually


async def test_every_change_publishes_the_whole_latest_state(accounts) -> None:  # noqa: ANN001
    admin = await accounts.admin()
    assert (await accounts.import_csv(accounts.CITIES_CSV, admin)).status_code == 200
    r = await accounts.http.post("/cities/il-naperville/exception", json={"reason": "Steel plant closure"},
                                 headers=admin)
    assert r.status_code == 200, r.text

    async def states() -> dict[str, list]:
        docs = await accounts.runtime.db.outbox.find().sort("seq", 1).to_list(None)
        out: dict[str, list] = {"city": [], "account": []}
        for d in docs:
            _, event = decode(bytes(d["value"]))
            if isinstance(event, CityStateChanged):
                out["city"].append(event)
            elif isinstance(event, AccountStateChanged):
                out["account"].append(event)
        return out

    found = await states()
    naperville = [e for e in found["city"] if e.city_id == "il-naperville"]
    assert len(naperville) == 2 and naperville[-1].exception is True and naperville[-1].eligible is True
    assert naperville[0].eligible is False and naperville[0].unemployment_rate is not None  # the whole state, indicators included
    administrator = [e for e in found["account"] if "administrator" in e.roles]
    assert administrator and administrator[-1].status == "verified"
    assert "email" not in AccountStateChanged.model_fields and "name" not in AccountStateChanged.model_fields


@pytest.mark.skipif(not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"),
                    reason="the embedded broker accepts compaction but does not apply it: proven on the Kafka lane")
async def test_a_compacted_topic_keeps_the_newest_record_per_key_on_real_kafka() -> None:
    bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    name = f"compaction-{uuid.uuid4().hex[:8]}"
    # the registry's configuration of the latest-state topics, with segments that roll at once so the
    # broker's cleaner (every second on the lane) gets to them within the test
    configs = {**TOPICS["nrn.accounts.cities.latest.v1"].configs(), "segment.ms": "100",
               "min.cleanable.dirty.ratio": "0.01", "min.compaction.lag.ms": "0", "delete.retention.ms": "0"}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name=name, num_partitions=1, replication_factor=1, topic_configs=configs)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for version in range(20):
            for key in ("mi-flint", "oh-youngstown", "in-gary"):
                await producer.send_and_wait(name, f"{key}:{version}".encode(), key=key.encode())
        await asyncio.sleep(0.3)
        await producer.send_and_wait(name, b"roll", key=b"roll-1")  # closes the segment holding the others

        async def compacted() -> dict[str, list[str]] | None:
            await producer.send_and_wait(name, b"roll", key=b"roll-2")  # keeps segments rolling
            consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
            await consumer.start()
            try:
                tp = TopicPartition(name, 0)
                consumer.assign([tp])
                await consumer.seek_to_beginning(tp)
                seen: dict[str, list[str]] = {}
                while True:
                    batch = await consumer.getmany(tp, timeout_ms=500)
                    if not batch:
                        break
                    for record in batch[tp]:
                        seen.setdefault(record.key.decode(), []).append(record.value.decode())
            finally:
                await consumer.stop()
            cities = {k: v for k, v in seen.items() if not k.startswith("roll")}
            return cities if all(len(v) == 1 for v in cities.values()) else None

        result = await eventually(compacted, timeout=90, interval=1.0)
        assert result == {"mi-flint": ["mi-flint:19"], "oh-youngstown": ["oh-youngstown:19"], "in-gary": ["in-gary:19"]}
    finally:
        await producer.stop()
