"""Inspect and redrive dead letters.

A dead-letter topic is read from its start; a per-topic consumer group remembers how far
redrive got, so redriving twice republishes nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition

from nrn_contracts import dlq_topic

from .kafka import make_producer
from .settings import ServiceSettings


@dataclass
class DeadLetter:
    partition: int
    offset: int
    key: str | None
    headers: dict[str, str]
    value: bytes
    redriven: bool

    @property
    def error(self) -> str:
        return self.headers.get("dlq.error", "")


def _group(settings: ServiceSettings, topic: str) -> str:
    return f"{settings.topic_prefix}nrn.dlq-redrive.{topic}"


async def _read(settings: ServiceSettings, topic: str) -> tuple[list[DeadLetter], dict[TopicPartition, int]]:
    physical = settings.topic(dlq_topic(topic))
    kc = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers, group_id=_group(settings, topic),
        enable_auto_commit=False, auto_offset_reset="earliest",
    )
    await kc.start()
    try:
        partitions = kc.partitions_for_topic(physical) or set()
        if not partitions:
            await kc._client.force_metadata_update()  # noqa: SLF001 — a fresh client may not know the topic yet
            partitions = kc.partitions_for_topic(physical) or set()
        tps = [TopicPartition(physical, p) for p in sorted(partitions)]
        if not tps:
            return [], {}
        kc.assign(tps)
        committed = {tp: (await kc.committed(tp)) or 0 for tp in tps}
        ends = await kc.end_offsets(tps)
        letters: list[DeadLetter] = []
        for tp in tps:
            kc.seek(tp, 0)
            end = ends[tp]
            while end and (await kc.position(tp)) < end:
                batch = await kc.getmany(tp, timeout_ms=1000)
                for record in batch.get(tp, []):
                    if record.offset >= end:
                        break
                    letters.append(DeadLetter(
                        partition=tp.partition, offset=record.offset,
                        key=record.key.decode() if record.key else None,
                        headers={k: (v or b"").decode(errors="replace") for k, v in record.headers or ()},
                        value=record.value or b"", redriven=record.offset < committed[tp],
                    ))
                if not batch:
                    break
        return letters, ends
    finally:
        await kc.stop()


async def list_dead_letters(settings: ServiceSettings, topic: str) -> list[DeadLetter]:
    letters, _ = await _read(settings, topic)
    return letters


async def redrive(settings: ServiceSettings, topic: str, *,
                  progress: Callable[[int, int], None] | None = None) -> int:
    """Republish every not-yet-redriven dead letter of ``topic`` to its origin topic."""
    letters, ends = await _read(settings, topic)
    pending = [dl for dl in letters if not dl.redriven]
    producer = make_producer(settings)
    await producer.start()
    try:
        for done, dl in enumerate(pending, 1):
            origin = dl.headers.get("dlq.origin.topic", topic)
            headers = [(k, v.encode()) for k, v in dl.headers.items() if not k.startswith("dlq.")]
            headers.append(("nrn.redriven-from", f"{dlq_topic(origin)}:{dl.partition}:{dl.offset}".encode()))
            await producer.send_and_wait(settings.topic(origin), value=dl.value,
                                         key=dl.key.encode() if dl.key else None, headers=headers)
            if progress:
                progress(done, len(pending))
    finally:
        await producer.stop()
    if ends:
        kc = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers,
                              group_id=_group(settings, topic), enable_auto_commit=False)
        await kc.start()
        try:
            kc.assign(list(ends))
            await kc.commit({tp: end for tp, end in ends.items()})
        finally:
            await kc.stop()
    return len(pending)
