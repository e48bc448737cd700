"""The outbox relay: publishes committed outbox entries to Kafka in batches and marks them sent.

Nothing is published that was not committed (the outbox is written in the command's
transaction) and nothing committed is lost (an entry stays pending until the broker
acknowledged it). A crash between publish and mark re-publishes; consumers' inboxes absorb it.
One relay per service database holds a lease so that two processes do not interleave.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
import time
from datetime import timedelta

from aiokafka import AIOKafkaProducer
from bson import ObjectId
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind
from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, PyMongoError

from .mongo import OUTBOX, OUTBOX_RETENTION_SECONDS, utcnow
from .settings import ServiceSettings

log = logging.getLogger(__name__)
tracer = trace.get_tracer("nrn_kit.relay")

LEASES = "relay_lease"
# How often the lease holder deletes sent entries older than the retention period.
SWEEP_INTERVAL_SECONDS = 600
# For the crash test only: exit hard after publishing a batch and before marking it sent.
CRASH_AFTER_PUBLISH_ENV = "NRN_FAULT_RELAY_EXIT_AFTER_PUBLISH"


class Relay:
    def __init__(self, db: AsyncDatabase, producer: AIOKafkaProducer, settings: ServiceSettings, *,
                 watch_changes: bool = True) -> None:
        self.db = db
        self.producer = producer
        self.settings = settings
        self.owner = f"{settings.service_name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._wake = asyncio.Event()
        self._lease_until = None
        self._next_sweep = 0.0  # monotonic time; the first batch after start sweeps
        self.published = 0
        self.swept = 0
        self.healthy = True
        # In the service's own process the store wakes the relay on every commit; a relay in a
        # process of its own learns of new entries from a change stream (which costs the database).
        self.watch_changes = watch_changes

    def wake(self) -> None:
        self._wake.set()

    async def _hold_lease(self) -> bool:
        now = utcnow()
        if self._lease_until and now < self._lease_until - timedelta(seconds=self.settings.relay_lease_seconds / 2):
            return True  # renewed recently: spare the database a write per batch
        try:
            doc = await self.db[LEASES].find_one_and_update(
                {"_id": "relay", "$or": [{"owner": self.owner}, {"expires_at": {"$lt": now}}]},
                {"$set": {"owner": self.owner, "expires_at": now + timedelta(seconds=self.settings.relay_lease_seconds)}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            self._lease_until = None
            return False  # someone else holds an unexpired lease
        held = bool(doc and doc.get("owner") == self.owner)
        self._lease_until = doc["expires_at"] if held else None
        return held

    async def release(self) -> None:
        with contextlib.suppress(PyMongoError):
            await self.db[LEASES].delete_one({"_id": "relay", "owner": self.owner})

    async def publish_pending(self) -> int:
        """Publish one batch of pending entries in commit order; return how many were marked sent."""
        cursor = (
            self.db[OUTBOX]
            .find({"state": "pending"})
            .sort([("seq", ASCENDING)])
            .limit(self.settings.relay_batch_size)
        )
        entries = await cursor.to_list(length=self.settings.relay_batch_size)
        if not entries:
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
        sent = [e["_id"] for e, r in zip(entries, results, strict=True) if not isinstance(r, BaseException)]
        failed = [r for r in results if isinstance(r, BaseException)]
        if os.environ.get(CRASH_AFTER_PUBLISH_ENV) and sent:
            log.warning("fault injection: exiting after publish, before marking %d entries sent", len(sent))
            os._exit(137)
        if sent:
            await self.db[OUTBOX].update_many(
                {"_id": {"$in": sent}}, {"$set": {"state": "sent", "sent_at": utcnow()}}
            )
            self.published += len(sent)
        if failed:
            raise failed[0]
        return len(sent)

    async def sweep(self) -> int:
        """Delete entries sent more than the retention period ago; return how many.

        The (state, seq) index finds them: seq is an ObjectId whose leading bytes are its
        creation time, and an entry is sent after it was created, so every entry the sweep
        wants has an old seq; sent_at then spares one that was sent late.
        """
        cutoff = utcnow() - timedelta(seconds=OUTBOX_RETENTION_SECONDS)
        result = await self.db[OUTBOX].delete_many(
            {"state": "sent", "seq": {"$lt": ObjectId.from_datetime(cutoff)}, "sent_at": {"$lt": cutoff}}
        )
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
                        await self._sweep_when_due()
                        count = await self.publish_pending()
                        self.healthy = True
                        backoff = 0.1
                        if count >= self.settings.relay_batch_size:
                            continue  # more is waiting: do not sleep
                    wait = self.settings.relay_poll_seconds
                except asyncio.CancelledError:
                    raise
                except Exception:
                    self.healthy = False
                    log.exception("relay batch failed; retrying in %.1fs", backoff)
                    wait, backoff = backoff, min(backoff * 2, 5.0)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._first(stop), timeout=wait)
        finally:
            if watcher:
                watcher.cancel()
                with contextlib.suppress(BaseException):
                    await watcher
            await self.release()

    async def _first(self, stop: asyncio.Event) -> None:
        waits = [asyncio.create_task(self._wake.wait()), asyncio.create_task(stop.wait())]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()


async def run_standalone(settings: ServiceSettings) -> None:
    """`nrn relay SERVICE`: the relay of one service's outbox as a process of its own."""
    import signal

    from .kafka import make_producer
    from .mongo import make_client
    from .telemetry import setup_telemetry

    setup_telemetry(settings)
    client = make_client(settings)
    producer = make_producer(settings)
    await producer.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await Relay(client[settings.database_name], producer, settings).run(stop)
    finally:
        await producer.stop()
        await client.close()
