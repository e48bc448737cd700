"""Event consumers: idempotent (inbox), retried with backoff, and dead-lettered, never dropped.

A service declares ``consumer = EventConsumer("read-models")`` and decorates handlers with
``@consumer.handles(QuestionSubmitted)``. A handler is ``async def h(event, tx)`` and runs inside
a transaction together with the inbox record of the event, so an event redelivered after a
crash changes nothing. What the handler emits goes to the outbox in the same transaction.

Per fetched batch the runner applies all its events, across partitions and in each partition's
order, in one transaction (the database's transactions are the expensive part); if that fails it
falls back to one event at a time with bounded retries, then parks the event in ``<topic>.dlq``
with the error, the attempt count and its origin in headers, and the partition moves on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.errors import CommitFailedError, KafkaError
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, DuplicateKeyError, PyMongoError

from nrn_contracts import CloudEvent, Event, InvalidEvent, decode, dlq_topic

from .kafka import broker_view, make_consumer
from .metrics import ServiceMetrics
from .mongo import INBOX, Store, Tx, utcnow
from .settings import ServiceSettings

log = logging.getLogger(__name__)
tracer = trace.get_tracer("nrn_kit.consumer")

Handler = Callable[[Any, Tx], Awaitable[None]]


class Reject(Exception):
    """A handler raises this when the event can never succeed (retrying is pointless)."""


def database_unreachable(exc: BaseException) -> bool:
    """The database is down, restarting or unreachable — an outage, not a fault of the event."""
    return isinstance(exc, ConnectionFailure) or (
        isinstance(exc, PyMongoError) and exc.has_error_label("TransientTransactionError")
        and isinstance(exc.__cause__ or exc.__context__, ConnectionFailure))


def inbox_key(consumer: str, event_id: str) -> str:
    """The inbox's key for an event a consumer applied: ``"<consumer name>:<CloudEvents id>"``."""
    return f"{consumer}:{event_id}"


async def applied_event_keys(db: AsyncDatabase, *, consumer: str | None = None,
                             type_contains: str | None = None) -> list[str]:
    """The inbox keys (:func:`inbox_key`) of the events a service's consumers have applied and the
    inbox still remembers (90 days), one per event: the inbox holds one document per applied batch.

    ``consumer``: only that consumer's; ``type_contains``: only events whose CloudEvents type
    contains this text.
    """
    keys: list[str] = []
    async for doc in db[INBOX].find({"consumer": consumer} if consumer else {}, {"ids": 1, "events": 1}):
        ids = doc.get("ids") or []
        events = doc.get("events") or [{}] * len(ids)
        for key, event in zip(ids, events, strict=False):
            if type_contains is None or type_contains in (event.get("type") or ""):
                keys.append(key)
    return keys


class _SeenBefore(Exception):
    """The inbox's unique key refused an entry: the batch holds an event applied before."""


class EventConsumer:
    def __init__(self, name: str) -> None:
        self.name = name
        self.handlers: dict[str, list[Handler]] = {}
        self.event_types: dict[str, type[Event]] = {}

    def handles(self, *event_classes: type[Event]) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            for cls in event_classes:
                self.handlers.setdefault(cls.type, []).append(fn)
                self.event_types[cls.type] = cls
            return fn

        return register

    @property
    def topics(self) -> list[str]:
        return sorted({cls.topic for cls in self.event_types.values()})


@dataclass
class Item:
    record: ConsumerRecord
    envelope: CloudEvent
    event: Event


@dataclass
class ConsumerStats:
    applied: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    retries: int = 0
    last_error: str | None = None


class ConsumerRunner:
    def __init__(self, consumer: EventConsumer, store: Store, producer: AIOKafkaProducer, settings: ServiceSettings,
                 *, metrics: ServiceMetrics | None = None) -> None:
        self.consumer = consumer
        self.store = store
        self.producer = producer
        self.settings = settings
        self.metrics = metrics
        self.stats = ConsumerStats()
        self.running = False
        self.group = settings.group(consumer.name)
        self._kafka: AIOKafkaConsumer | None = None
        self._cluster_id: str | None = None
        self._committed: dict[Any, int] = {}  # TopicPartition -> the offset committed last
        # (logical topic, partition) -> records not yet applied; replaced whole, read by the metrics thread.
        self.lag: dict[tuple[str, int], int] = {}

    def _count(self, outcome: str, topic: str, n: int = 1) -> None:
        if self.metrics and n:
            self.metrics.consumer_events.add(n, self.metrics.attrs(group=self.group, topic=topic, outcome=outcome))

    def logical_topic(self, physical: str) -> str:
        return self.settings.logical_topic(physical)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        topics = [self.settings.topic(t) for t in self.consumer.topics]
        if not topics:
            return
        overrides = {}
        if self.settings.kafka_group_instance_id:
            # Static membership (KIP-345): this replica, restarted within the session timeout, gets its
            # partitions back without the rest of the group stopping for a rebalance.
            overrides["group_instance_id"] = f"{self.settings.kafka_group_instance_id}.{self.consumer.name}"
        kc = make_consumer(self.settings, *topics, group=self.group, **overrides)
        self._kafka = kc
        await kc.start()
        self._cluster_id = (await broker_view(kc._client)).cluster_id  # noqa: SLF001 — the client aiokafka holds
        unsubscribe = (self.metrics.add_gauge_source("lag", self._lag_observations)
                       if self.metrics else (lambda: None))
        self.running = True
        try:
            while not stop.is_set():
                batch = await kc.getmany(timeout_ms=250, max_records=self.settings.consumer_batch_size)
                if not batch:
                    self._measure_lag(kc)
                    continue
                if await self._broker_started_afresh(kc):
                    continue
                # One transaction for everything fetched, whatever the partition: a partition's
                # records keep their order within it, and the transaction, not the document, costs.
                await self.process([record for records in batch.values() for record in records])
                offsets = {tp: records[-1].offset + 1 for tp, records in batch.items()}
                try:
                    await kc.commit(offsets)
                    self._committed.update(offsets)
                except (CommitFailedError, KafkaError) as exc:
                    # After a rebalance or a broker restart the records come again; the inbox makes
                    # that harmless, and the next commit covers these offsets too.
                    log.info("consumer %s: commit failed (%s); the records may come again", self.group, exc)
                self._measure_lag(kc)
        finally:
            self.running = False
            unsubscribe()
            with contextlib.suppress(Exception):
                await kc.stop()

    async def _broker_started_afresh(self, kc: AIOKafkaConsumer) -> bool:
        """Before committing a fetched batch, make sure it came from the broker this consumer started
        on. A broker that lost everything (the embedded one, restarted) may hand out its re-published
        records at the positions the old one had reached, and a commit there would skip the records
        before them: read every partition from its start again instead (the inbox absorbs repeats)."""
        cluster_id = (await broker_view(kc._client)).cluster_id  # noqa: SLF001
        if not cluster_id or not self._cluster_id or cluster_id == self._cluster_id:
            self._cluster_id = self._cluster_id or cluster_id
            return False
        log.warning("consumer %s: the broker started afresh (cluster id %s, was %s); reading from the start",
                    self.group, cluster_id, self._cluster_id)
        self._cluster_id = cluster_id
        self._committed.clear()
        assigned = list(kc.assignment())
        if assigned:
            with contextlib.suppress(Exception):  # a rebalance under way resets positions itself
                await kc.seek_to_beginning(*assigned)
        return True

    def _measure_lag(self, kc: AIOKafkaConsumer) -> None:
        """Lag per partition from the highwater the last fetch reported (end_offsets() is unreliable on
        the embedded broker) and the offset this consumer committed."""
        lag = {}
        for tp in kc.assignment():
            highwater = kc.highwater(tp)
            if highwater is None:
                continue
            committed = self._committed.get(tp)
            if committed is None:
                with contextlib.suppress(Exception):
                    committed = kc._subscription.assignment.state_value(tp).position  # noqa: SLF001
            if committed is not None:
                lag[(self.logical_topic(tp.topic), tp.partition)] = max(0, highwater - committed)
        self.lag = lag

    def _lag_observations(self):  # noqa: ANN202
        return [(value, {"group": self.group, "topic": topic, "partition": partition})
                for (topic, partition), value in self.lag.items()]

    async def process(self, records: list[ConsumerRecord]) -> None:
        """Apply fetched records (each partition's in offset order) in one transaction, or one by one."""
        items: list[Item] = []
        for record in records:
            try:
                ce, event = decode(record.value or b"")
            except InvalidEvent as exc:
                await self.dead_letter(record, f"invalid event: {exc.reason}", attempts=1)
                continue
            if event is None or ce.type not in self.consumer.handlers:
                continue  # topics carry many types; this consumer needs only some
            items.append(Item(record, ce, event))
        if not items:
            return
        try:
            # The fetched batch is already a group: commit it on its own. First without reading the
            # inbox: its unique key refuses an event applied before (a redelivery, a republished
            # window), which aborts the transaction, and the batch goes again with the lookup.
            try:
                outcome = await self.store.transaction(lambda tx: self._apply(tx, items, look_up=False), group=False)
            except _SeenBefore:
                outcome = await self.store.transaction(lambda tx: self._apply(tx, items), group=False)
            self._record(outcome)
            return
        except Exception as exc:  # noqa: BLE001 — one bad event must not hold back the others
            log.info("batch of %d failed (%s); applying one at a time", len(items), exc)
        for item in items:
            await self.apply_with_retries(item)

    def _record(self, outcome: tuple[list[Item], list[Item]]) -> None:
        """Count what a committed transaction applied and what it found already applied."""
        fresh, duplicates = outcome
        self.stats.applied += len(fresh)
        self.stats.duplicates += len(duplicates)
        for outcome_name, items in (("applied", fresh), ("duplicate", duplicates)):
            by_topic: dict[str, int] = {}
            for item in items:
                topic = self.logical_topic(item.record.topic)
                by_topic[topic] = by_topic.get(topic, 0) + 1
            for topic, n in by_topic.items():
                self._count(outcome_name, topic, n)

    async def _apply(self, tx: Tx, items: list[Item], *, look_up: bool = True) -> tuple[list[Item], list[Item]]:
        """Apply what the inbox has not seen; return (applied, already applied). May run more than once.

        ``look_up=False`` skips reading the inbox first and relies on its unique key instead: the
        inbox entries are written before any handler runs, and an event applied before raises
        :class:`_SeenBefore` (the caller aborts and goes again with the lookup).
        """
        keys = [inbox_key(self.consumer.name, item.envelope.id) for item in items]
        if not look_up and len(set(keys)) == len(keys):
            try:
                await self._write_inbox(tx, list(zip(keys, items, strict=True)))
            except DuplicateKeyError as exc:
                raise _SeenBefore from exc
            for item in items:
                await self._handle(tx, item)
            return items, []
        wanted = set(keys)
        seen = {key async for d in tx.db[INBOX].find({"ids": {"$in": keys}}, {"ids": 1}, session=tx.session)
                for key in d["ids"] if key in wanted}
        fresh, duplicates, applied_keys = [], [], set()
        for key, item in zip(keys, items, strict=True):
            if key in seen or key in applied_keys:
                duplicates.append(item)
                continue
            applied_keys.add(key)
            fresh.append((key, item))
        for key, item in fresh:
            await self._handle(tx, item)
        if fresh:
            await self._write_inbox(tx, fresh)
        return [item for _, item in fresh], duplicates

    async def _write_inbox(self, tx: Tx, entries: list[tuple[str, Item]]) -> None:
        """One inbox document for the batch (see nrn_kit.mongo.INBOX); raises DuplicateKeyError
        when any of its events is in the inbox already."""
        await tx.db[INBOX].insert_one(
            {"consumer": self.consumer.name, "ids": [key for key, _ in entries],
             "events": [{"type": item.envelope.type, "topic": self.logical_topic(item.record.topic),
                         "partition": item.record.partition, "offset": item.record.offset} for _, item in entries],
             "applied_at": utcnow()},
            session=tx.session,
        )

    async def _handle(self, tx: Tx, item: Item) -> None:
        carrier = {"traceparent": item.envelope.traceparent} if item.envelope.traceparent else {}
        ctx = propagate.extract(carrier)
        with tracer.start_as_current_span(
            f"{self.logical_topic(item.record.topic)} process", context=ctx, kind=SpanKind.CONSUMER,
            attributes={"messaging.system": "kafka", "messaging.message.id": item.envelope.id,
                        "messaging.consumer.group.name": self.group, "cloudevents.event_type": item.envelope.type,
                        "nrn.service": self.settings.service_name},
        ) as span:
            tx.envelope = item.envelope
            try:
                for handler in self.consumer.handlers[item.envelope.type]:
                    await handler(item.event, tx)
            except Exception as exc:
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, str(exc)))
                raise

    async def apply_with_retries(self, item: Item) -> None:
        attempts = 0
        delay = self.settings.consumer_backoff_seconds
        while True:
            attempts += 1
            try:
                self._record(await self.store.transaction(lambda tx: self._apply(tx, [item]), group=False))
                return
            except Reject as exc:
                await self.dead_letter(item.record, f"rejected: {exc}", attempts=attempts)
                return
            except Exception as exc:  # noqa: BLE001
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                if database_unreachable(exc):
                    # Not the event's fault: hold the partition until the database is back, as parking
                    # holds it until the broker takes the dead letter. Parking here would lose
                    # good events to an outage.
                    attempts -= 1
                    log.warning("database unreachable while applying %s (%s); retrying", item.envelope.id, exc)
                    self._count("retried", self.logical_topic(item.record.topic))
                    await asyncio.sleep(max(delay, 0.5))
                    continue
                if attempts >= self.settings.consumer_max_attempts:
                    log.error("giving up on %s after %d attempts: %s", item.envelope.id, attempts, exc)
                    await self.dead_letter(item.record, self.stats.last_error, attempts=attempts)
                    return
                self.stats.retries += 1
                self._count("retried", self.logical_topic(item.record.topic))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def dead_letter(self, record: ConsumerRecord, error: str, *, attempts: int) -> None:
        logical = self.logical_topic(record.topic)
        headers = [(k, v) for k, v in (record.headers or ()) if not k.startswith("dlq.")]
        headers += [
            ("dlq.error", error[:2000].encode()),
            ("dlq.attempts", str(attempts).encode()),
            ("dlq.origin.topic", logical.encode()),
            ("dlq.origin.partition", str(record.partition).encode()),
            ("dlq.origin.offset", str(record.offset).encode()),
            ("dlq.consumer", self.group.encode()),
            ("dlq.failed_at", utcnow().isoformat().encode()),
        ]
        target = self.settings.topic(dlq_topic(logical))
        while True:
            try:
                await self.producer.send_and_wait(target, value=record.value, key=record.key, headers=headers)
                break
            except KafkaError as exc:
                # Parking must not fail silently: hold the partition until the broker takes it.
                log.error("could not park %s:%s in %s (%s); retrying", record.topic, record.offset, target, exc)
                await asyncio.sleep(1)
        self.stats.dead_lettered += 1
        self._count("parked", logical)
        if self.metrics:
            self.metrics.dead_letters.add(1, self.metrics.attrs(group=self.group, topic=logical))
        log.warning("parked %s[%d]@%d in %s: %s", logical, record.partition, record.offset, target, error)
