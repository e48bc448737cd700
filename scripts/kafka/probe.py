"""Readiness and smoke checks for the kafka-lane broker, with aiokafka (the client the services use).

    probe.py ready HOST:PORT      exit 0 once the broker answers a metadata request and names a broker
    probe.py roundtrip HOST:PORT  produce one record to a fresh topic and consume it back
    probe.py free-port            print a free TCP port on 127.0.0.1
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
import time
import uuid


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def ready(bootstrap: str) -> bool:
    from aiokafka import AIOKafkaClient
    from aiokafka.errors import KafkaError

    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await client.bootstrap()
        # A listener can accept connections while the broker is still joining its own quorum;
        # a metadata answer naming a broker means it is registered and can lead partitions.
        return bool(client.cluster.brokers())
    except (KafkaError, OSError):
        return False
    finally:
        await client.close()


async def roundtrip(bootstrap: str) -> None:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    topic = f"kafka-lane-smoke-{uuid.uuid4().hex[:12]}"
    value = uuid.uuid4().hex.encode()
    started = time.perf_counter()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        sent = await producer.send_and_wait(topic, value, key=b"smoke")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"{topic}-group",
        auto_offset_reset="earliest",
        session_timeout_ms=6000,
        heartbeat_interval_ms=500,
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), timeout=60)
    finally:
        await consumer.stop()
    if record.value != value:
        raise SystemExit(f"roundtrip read {record.value!r}, expected {value!r}")
    elapsed = time.perf_counter() - started
    print(f"roundtrip ok: topic={topic} partition={sent.partition} offset={sent.offset} in {elapsed:.2f}s")


def main(argv: list[str]) -> int:
    # aiokafka logs every refused connection while the broker is starting; the caller reports failure.
    logging.basicConfig(level=logging.CRITICAL)
    if argv[:1] == ["free-port"]:
        print(free_port())
        return 0
    if len(argv) == 2 and argv[0] == "ready":
        return 0 if asyncio.run(ready(argv[1])) else 1
    if len(argv) == 2 and argv[0] == "roundtrip":
        asyncio.run(roundtrip(argv[1]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
