"""The outbox relay: publishes committed outbox entries to Kafka in commit order, with a checkpoint.

Every outbox entry has ``seq``, its position in commit order (nrn_kit.mongo). The relay reads the
entries after its checkpoint, sends them (the producer batches them), and when the broker has
acknowledged them writes one document: the new checkpoint, the highest offset it got on each
partition, and the broker's cluster id. No entry is written to. While batches follow each other,
the checkpoint is written at most every ``relay_checkpoint_seconds`` (0.2 s), so a busy outbox
pays one write for several batches; it is written as soon as the relay runs out of entries after
that interval, and when it stops.

- Nothing is published that was not committed: the outbox is written in the command's transaction
  and read with majority read concern.
- Nothing committed is lost: the checkpoint moves only past what the broker acknowledged; a crash
  between publishing and the checkpoint (or within a held-back checkpoint's interval) publishes
  again, and consumers' inboxes absorb it.
- Nothing published is lost when the broker loses it. The embedded broker keeps everything in
  memory, so a restart loses every topic and offset; any broker can be replaced. The relay notices
  — a new cluster id, a topic it published to that is gone, or an offset lower than one it already
  got — recreates the topics and publishes the outbox's retention window (a week) again, in commit
  order; the consumers' inboxes make the repeats harmless and their groups, whose committed offsets
  went with the broker, read from the earliest record.

One relay per service database holds a lease (the same document as the checkpoint, which only the
lease holder can write), so two processes do not interleave.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind
from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, PyMongoError
from pymongo.read_concern import ReadConcern

from .kafka import broker_view, ensure_topics
from .metrics import ServiceMetrics, seconds_since
from .mongo import OUTBOX, OUTBOX_RETENTION_SECONDS, OUTBOX_SEQUENCE, utcnow
from .settings import ServiceSettings

log = logging.getLogger(__name__)
tracer = trace.get_tracer("nrn_kit.relay")

LEASES = "relay_lease"
CHECKPOINT_ID = "relay"  # the lease and the checkpoint are one document
# How often the lease holder notes its checkpoint's time and deletes entries published longer ago
# than the retention period.
SWEEP_INTERVAL_SECONDS = 600
# How often the lease holder re-reads the backlog for the metrics.
BACKLOG_INTERVAL_SECONDS = 1.0
# For the crash tests only: exit hard after publishing a batch and before writing the checkpoint.
CRASH_AFTER_PUBLISH_ENV = "NRN_FAULT_RELAY_EXIT_AFTER_PUBLISH"


async def published_through(db: AsyncDatabase) -> int:
    """The relay's checkpoint: every outbox entry with ``seq`` up to it has been published."""
    doc = await db[LEASES].find_one({"_id": CHECKPOINT_ID}, {"position": 1})
    return int((doc or {}).get("position") or 0)


async def outbox_backlog(db: AsyncDatabase, position: int | None = None) -> tuple[int, datetime | None]:
    """Entries committed and not yet published, and when the oldest of them was created (None when none).

    From two small reads (the position counter and the checkpoint) and one indexed lookup: what
    `nrn status` and the ``nrn_outbox_backlog`` metric show. ``position``: what the caller knows to be
    published, when it is the lease holder (ahead of a checkpoint held back); else the checkpoint.
    """
    counter = await db[OUTBOX_SEQUENCE].find_one({"_id": OUTBOX})
    if position is None:
        position = await published_through(db)
    backlog = max(0, int((counter or {}).get("seq") or 0) - position)
    if not backlog:
        return 0, None
    oldest = await db[OUTBOX].find_one({"seq": {"$gt": position}}, {"created_at": 1}, sort=[("seq", ASCENDING)])
    return backlog, (oldest or {}).get("created_at")


class BrokerLost(Exception):
    """The broker no longer holds what the relay published (the message says how it knows)."""


class Relay:
    def __init__(self, db: AsyncDatabase, producer: AIOKafkaProducer, settings: ServiceSettings, *,
                 watch_changes: bool = True, metrics: ServiceMetrics | None = None) -> None:
        self.db = db
        self.producer = producer
        self.settings = settings
        self.metrics = metrics
        self.owner = f"{settings.service_name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._wake = asyncio.Event()
        self._lease_until: datetime | None = None
        self._next_sweep = 0.0  # monotonic time; the first batch after start sweeps
        self._next_broker_check = 0.0
        self._next_backlog = 0.0
        # The checkpoint, as loaded when the lease was taken and advanced by each batch.
        self.position = 0
        self.cluster_id: str | None = None
        self.offsets: dict[tuple[str, int], int] = {}  # (physical topic, partition) -> highest offset acknowledged
        # Monotonic time by which the checkpoint must be written when ``position`` has moved past the
        # one last written (None: written). See ServiceSettings.relay_checkpoint_seconds.
        self._checkpoint_due: float | None = None
        self.published = 0
        self.swept = 0
        self.resets = 0
        self.healthy = True
        self.backlog = 0
        self._oldest_created: float | None = None  # time.time() of the oldest unpublished entry
        self._unsubscribe = []
        if metrics is not None:
            self._unsubscribe = [
                metrics.add_gauge_source("backlog", lambda: [(self.backlog, {})] if self._lease_until else []),
                metrics.add_gauge_source(
                    "oldest", lambda: [(seconds_since(self._oldest_created), {})] if self._lease_until else []),
            ]
        # In the service's own process the store wakes the relay on every commit; a relay in a
        # process of its own learns of new entries from a change stream (which costs the database).
        self.watch_changes = watch_changes
        self._outbox = db[OUTBOX].with_options(read_concern=ReadConcern("majority"))

    def wake(self) -> None:
        self._wake.set()

    # ---------------------------------------------------------------- lease and checkpoint

    async def _hold_lease(self) -> bool:
        now = utcnow()
        if self._lease_until and now < self._lease_until - timedelta(seconds=self.settings.relay_lease_seconds / 2):
            return True  # renewed recently (each checkpoint renews it): spare the database a write
        try:
            doc = await self.db[LEASES].find_one_and_update(
                {"_id": CHECKPOINT_ID, "$or": [{"owner": self.owner}, {"owner": None}, {"expires_at": {"$lt": now}}]},
                {"$set": {"owner": self.owner, "expires_at": now + timedelta(seconds=self.settings.relay_lease_seconds)}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            self._lease_until = None
            return False  # someone else holds an unexpired lease
        held = bool(doc and doc.get("owner") == self.owner)
        if held and self._lease_until is None:
            self._load_checkpoint(doc)  # newly taken: continue from where the last holder got
            self._next_broker_check = 0.0
        self._lease_until = doc["expires_at"] if held else None
        return held

    def _load_checkpoint(self, doc: dict[str, Any]) -> None:
        self.position = int(doc.get("position") or 0)
        self.cluster_id = doc.get("cluster_id")
        self.offsets = {(t, int(p)): int(o) for t, p, o in doc.get("offsets") or []}
        self._checkpoint_due = None

    async def _save_checkpoint(self, **extra: Any) -> None:
        """One write: the checkpoint, what the broker acknowledged, and the lease renewed."""
        now = utcnow()
        until = now + timedelta(seconds=self.settings.relay_lease_seconds)
        result = await self.db[LEASES].update_one(
            {"_id": CHECKPOINT_ID, "owner": self.owner},
            {"$set": {"position": self.position, "cluster_id": self.cluster_id, "expires_at": until,
                      "offsets": [[t, p, o] for (t, p), o in sorted(self.offsets.items())], **extra}},
        )
        if result.matched_count == 0:
            # The lease went to another relay (we were too slow to renew it): stop and re-take it.
            self._lease_until = self._checkpoint_due = None
            raise RuntimeError("relay lease lost to another relay; its checkpoint stands")
        self._lease_until = until
        self._checkpoint_due = None

    async def _save_checkpoint_when_due(self) -> None:
        if self._checkpoint_due is not None and time.monotonic() >= self._checkpoint_due:
            await self._save_checkpoint()

    async def release(self) -> None:
        if self._checkpoint_due is not None and self._lease_until is not None:
            # Stopping: write what was published, or the next holder publishes it again.
            with contextlib.suppress(Exception):
                await self._save_checkpoint()
        with contextlib.suppress(PyMongoError):
            await self.db[LEASES].update_one({"_id": CHECKPOINT_ID, "owner": self.owner},
                                             {"$set": {"owner": None, "expires_at": utcnow()}})
        self._lease_until = None

    # ---------------------------------------------------------------- the broker

    async def check_broker(self) -> None:
        """Raise :class:`BrokerLost` when the broker is not the one the checkpoint's offsets came from."""
        published_to = sorted({t for t, _ in self.offsets})
        view = await broker_view(self.producer.client, published_to)
        if self.cluster_id and view.cluster_id and view.cluster_id != self.cluster_id and self.offsets:
            raise BrokerLost(f"the broker's cluster id is now {view.cluster_id} (was {self.cluster_id})")
        if view.missing:
            raise BrokerLost("topics published to are gone: " + ", ".join(sorted(view.missing)))
        if view.cluster_id and view.cluster_id != self.cluster_id:
            self.cluster_id = view.cluster_id  # the first broker this outbox meets
            await self._save_checkpoint()

    async def _check_broker_when_due(self) -> None:
        if time.monotonic() < self._next_broker_check:
            return
        await self.check_broker()
        self._next_broker_check = time.monotonic() + self.settings.relay_broker_check_seconds

    async def republish_window(self, reason: str) -> None:
        """The broker lost what was published: recreate the topics and publish every retained entry again."""
        retained = await self._outbox.count_documents({"seq": {"$lte": self.position}})
        log.warning("the broker lost published events (%s): publishing the outbox's retention window again "
                    "(%d entries, positions up to %d)", reason, retained, self.position)
        topics = sorted({self.settings.logical_topic(t) for t, _ in self.offsets})
        if topics:
            await ensure_topics(self.settings, topics)
        view = await broker_view(self.producer.client)
        self.position, self.offsets, self.cluster_id = 0, {}, view.cluster_id
        await self._save_checkpoint()
        self.resets += 1
        if self.metrics:
            self.metrics.relay_resets.add(1, self.metrics.attrs(reason=reason.split(":")[0][:60]))

    # ---------------------------------------------------------------- publishing

    async def publish_pending(self) -> int:
        """Publish one batch of entries after the checkpoint, in commit order; return how many the
        broker acknowledged (the checkpoint moved past them)."""
        entries = await self._outbox.find({"seq": {"$gt": self.position}}).sort([("seq", ASCENDING)]).to_list(
            length=self.settings.relay_batch_size)
        if not entries:
            await self._save_checkpoint_when_due()
            return 0
        futures = []
        for entry in entries:
            headers = [(k, bytes(v)) for k, v in entry["headers"]]
            carrier = {k: bytes(v).decode() for k, v in entry["headers"] if k == "traceparent"}
            ctx = propagate.extract(carrier)
            with tracer.start_as_current_span(
                f"{entry['topic']} publish", context=ctx, kind=SpanKind.PRODUCER,
                attributes={"messaging.system": "kafka", "messaging.destination.name": entry["topic"],
                            "messaging.message.id": entry["_id"], "nrn.service": self.settings.service_name},
            ):
                # send() only queues; the batch is flushed together, which is what makes the relay fast.
                futures.append(
                    await self.producer.send(
                        self.settings.topic(entry["topic"]),
                        value=bytes(entry["value"]),
                        key=entry["key"].encode(),
                        headers=headers,
                    )
                )
        results = await asyncio.gather(*futures, return_exceptions=True)
        # The checkpoint can pass only the acknowledged run before the first failure; anything
        # acknowledged after a failure goes again with the next batch.
        acknowledged, failure, went_back = 0, None, None
        offsets = dict(self.offsets)
        for entry, result in zip(entries, results, strict=True):
            if isinstance(result, BaseException):
                failure = result
                break
            where = (result.topic, result.partition)
            if result.offset <= offsets.get(where, -1):
                # Offsets only grow on a partition: this broker is not the one that acknowledged the earlier ones.
                went_back = f"{result.topic}[{result.partition}] acknowledged offset {result.offset}, " \
                            f"at or below {offsets[where]} acknowledged before"
            offsets[where] = max(result.offset, offsets.get(where, -1))
            acknowledged += 1
        if went_back:
            await self.republish_window(f"offsets went back: {went_back}")
            return 0
        if os.environ.get(CRASH_AFTER_PUBLISH_ENV) and acknowledged:
            log.warning("fault injection: exiting after publish, before the checkpoint of %d entries", acknowledged)
            os._exit(137)
        if acknowledged:
            self.position = entries[acknowledged - 1]["seq"]
            self.offsets = offsets
            if self._checkpoint_due is None:
                self._checkpoint_due = time.monotonic() + self.settings.relay_checkpoint_seconds
            self.published += acknowledged
            if self.metrics:
                by_topic: dict[str, int] = {}
                for entry in entries[:acknowledged]:
                    by_topic[entry["topic"]] = by_topic.get(entry["topic"], 0) + 1
                for topic, count in by_topic.items():
                    self.metrics.relay_published.add(count, self.metrics.attrs(topic=topic))
                self.metrics.relay_batches.add(1, self.metrics.attrs(outcome="published"))
        await self._save_checkpoint_when_due()
        if failure is not None:
            raise failure
        return acknowledged

    async def _refresh_backlog_when_due(self) -> None:
        if time.monotonic() < self._next_backlog:
            return
        self._next_backlog = time.monotonic() + BACKLOG_INTERVAL_SECONDS
        self.backlog, created = await outbox_backlog(self.db, self.position)
        self._oldest_created = created.timestamp() if created else None

    # ---------------------------------------------------------------- retention

    async def sweep(self) -> int:
        """Delete entries published more than the retention period ago; return how many.

        Each sweep notes the checkpoint with the time (``marks`` in the checkpoint document); an
        entry is deleted once a mark at or past it is older than the retention period, so an entry
        published late (the relay was down) is still kept a whole period after its publication.
        """
        now = utcnow()
        cutoff = now - timedelta(seconds=OUTBOX_RETENTION_SECONDS)
        doc = await self.db[LEASES].find_one_and_update(
            {"_id": CHECKPOINT_ID, "owner": self.owner},
            {"$push": {"marks": {"$each": [[self.position, now]], "$slice": -2_000}}},
            return_document=ReturnDocument.AFTER,
        )
        marks = (doc or {}).get("marks") or []
        expired = [position for position, at in marks if at < cutoff]
        if not expired:
            return 0
        result = await self.db[OUTBOX].delete_many({"seq": {"$lte": min(max(expired), self.position)}})
        await self.db[LEASES].update_one({"_id": CHECKPOINT_ID, "owner": self.owner},
                                         {"$set": {"marks": [m for m in marks if m[1] >= cutoff]}})
        self.swept += result.deleted_count
        return result.deleted_count

    async def _sweep_when_due(self) -> None:
        if time.monotonic() < self._next_sweep:
            return
        self._next_sweep = time.monotonic() + SWEEP_INTERVAL_SECONDS
        try:
            await self.sweep()
        except PyMongoError as exc:  # publishing matters more; try again at the next interval
            log.warning("outbox retention sweep failed: %s", exc)

    # ---------------------------------------------------------------- the loop

    async def _watch(self) -> None:
        """Wake on new outbox entries written by another process (a separate relay, a restarted one)."""
        while True:
            try:
                stream = await self.db[OUTBOX].watch([{"$match": {"operationType": "insert"}}])
                async with stream:
                    async for _ in stream:
                        self._wake.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 — polling still covers us; retry the stream later
                log.debug("outbox change stream unavailable: %s", exc)
                await asyncio.sleep(self.settings.relay_poll_seconds)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        watcher = asyncio.create_task(self._watch(), name="outbox-watch") if self.watch_changes else None
        backoff = 0.1
        try:
            while not stop.is_set():
                # Cleared before reading, so a commit that lands during this batch wakes the next one.
                self._wake.clear()
                try:
                    if await self._hold_lease():
                        try:
                            await self._check_broker_when_due()
                        except BrokerLost as lost:
                            await self.republish_window(str(lost))
                        await self._sweep_when_due()
                        count = await self.publish_pending()
                        await self._refresh_backlog_when_due()
                        self.healthy = True
                        backoff = 0.1
                        if count >= self.settings.relay_batch_size:
                            continue  # more is waiting: do not sleep
                    wait = self.settings.relay_poll_seconds
                    if self._checkpoint_due is not None:
                        wait = min(wait, max(0.0, self._checkpoint_due - time.monotonic()))
                except asyncio.CancelledError:
                    raise
                except Exception:
                    self.healthy = False
                    if self.metrics:
                        self.metrics.relay_batches.add(1, self.metrics.attrs(outcome="failed"))
                    log.exception("relay batch failed; retrying in %.1fs", backoff)
                    # The broker may have restarted: look at it again before the next batch.
                    self._next_broker_check = 0.0
                    with contextlib.suppress(Exception):
                        await self._refresh_backlog_when_due()
                    wait, backoff = backoff, min(backoff * 2, 5.0)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._first(stop), timeout=wait)
        finally:
            if watcher:
                watcher.cancel()
                with contextlib.suppress(BaseException):
                    await watcher
            await self.release()
            for unsubscribe in self._unsubscribe:
                unsubscribe()

    async def _first(self, stop: asyncio.Event) -> None:
        waits = [asyncio.create_task(self._wake.wait()), asyncio.create_task(stop.wait())]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()


async def run_standalone(settings: ServiceSettings) -> None:
    """`nrn relay SERVICE`: the relay of one service's outbox as a process of its own (with its own
    metrics endpoint, see nrn_kit.metrics)."""
    import signal

    from .kafka import make_producer
    from .mongo import make_client
    from .telemetry import setup_telemetry

    setup_telemetry(settings)
    metrics = ServiceMetrics(settings)
    metrics.serve()
    client = make_client(settings)
    producer = make_producer(settings)
    await producer.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await Relay(client[settings.database_name], producer, settings, metrics=metrics).run(stop)
    finally:
        await producer.stop()
        await client.close()
        metrics.close()


if __name__ == "__main__":  # python -m nrn_kit.relay: the relay of the service the environment describes
    asyncio.run(run_standalone(ServiceSettings()))
