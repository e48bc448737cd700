"""MongoDB access: the client factory, index bootstrap, and transactions that carry the outbox.

A command changes the service's documents and appends the events it caused to the ``outbox``
collection in one transaction (:meth:`Store.transaction`). The relay publishes the outbox later.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from bson import ObjectId
from opentelemetry import propagate
from pymongo import ASCENDING, AsyncMongoClient, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from nrn_contracts import CloudEvent, Event, encode, envelope, kafka_headers

from .settings import ServiceSettings

T = TypeVar("T")

OUTBOX = "outbox"
INBOX = "inbox"
# Sent outbox entries are kept a week for inspection and replay, then swept by a TTL index.
OUTBOX_RETENTION_SECONDS = 7 * 24 * 3600
# Applied event ids are remembered long past any plausible redelivery.
INBOX_RETENTION_SECONDS = 90 * 24 * 3600


def make_client(settings: ServiceSettings) -> AsyncMongoClient:
    """One client per process; pymongo pools connections inside it."""
    return AsyncMongoClient(
        settings.mongodb_uri,
        tz_aware=True,
        serverSelectionTimeoutMS=10_000,
        appname=settings.service_name,
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


def outbox_indexes() -> list[IndexModel]:
    return [
        IndexModel([("state", ASCENDING), ("seq", ASCENDING)], name="pending_in_order"),
        IndexModel([("sent_at", ASCENDING)], name="sent_ttl", expireAfterSeconds=OUTBOX_RETENTION_SECONDS),
    ]


async def ensure_indexes(db: AsyncDatabase, specs: dict[str, Iterable[IndexModel]]) -> None:
    """Create the kit's and the service's indexes; idempotent, run at every start."""
    all_specs: dict[str, list[IndexModel]] = {
        OUTBOX: outbox_indexes(),
        INBOX: [IndexModel([("applied_at", ASCENDING)], name="applied_ttl", expireAfterSeconds=INBOX_RETENTION_SECONDS)],
    }
    for collection, models in specs.items():
        all_specs.setdefault(collection, []).extend(models)
    for collection, models in all_specs.items():
        if models:
            await db[collection].create_indexes(list(models))


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


def outbox_document(ce: CloudEvent, event: Event) -> dict[str, Any]:
    return {
        "_id": ce.id,
        # ObjectIds grow with time and a per-process counter: a cheap total order for the relay.
        "seq": ObjectId(),
        "state": "pending",
        # The class attribute: some payloads have a field named `topic` (a subject area) that shadows it.
        "topic": type(event).topic,
        "key": event.aggregate_id(),
        "type": ce.type,
        "value": encode(ce),
        "headers": [[k, v] for k, v in kafka_headers(ce)],
        "created_at": ce.time,
        "sent_at": None,
    }


@dataclass
class Tx:
    """What a handler gets inside a transaction: the session, the database and the outbox."""

    session: AsyncClientSession
    db: AsyncDatabase
    source: str
    envelope: CloudEvent | None = None  # the event being consumed, for consumers
    events: list[Event] = field(default_factory=list)

    def emit(self, event: Event) -> None:
        self.events.append(event)


class Store:
    """A service's database plus the way to change it: transactions that also write the outbox."""

    def __init__(self, client: AsyncMongoClient, db: AsyncDatabase, *, source: str) -> None:
        self.client = client
        self.db = db
        self.source = source
        self._listeners: list[Callable[[], None]] = []

    def on_commit(self, listener: Callable[[], None]) -> None:
        """Called after a transaction that emitted events commits (the in-process relay wakes on it)."""
        self._listeners.append(listener)

    async def transaction(self, fn: Callable[[Tx], Awaitable[T]], *, envelope_in: CloudEvent | None = None) -> T:
        """Run ``fn`` in a transaction; retried as a whole on transient errors and unknown commit results.

        ``with_transaction`` re-runs the callback, so each attempt starts with an empty event list.
        """
        emitted = False

        async def attempt(session: AsyncClientSession) -> T:
            nonlocal emitted
            tx = Tx(session=session, db=self.db, source=self.source, envelope=envelope_in)
            result = await fn(tx)
            if tx.events:
                await self.write_outbox(tx.events, session=session)
            emitted = bool(tx.events)
            return result

        async with self.client.start_session() as session:
            result = await session.with_transaction(attempt)
        if emitted:
            for listener in self._listeners:
                listener()
        return result

    async def write_outbox(self, events: Iterable[Event], *, session: AsyncClientSession | None) -> None:
        traceparent = current_traceparent()
        docs = []
        for event in events:
            ce = envelope(event, source=self.source, traceparent=traceparent)
            docs.append(outbox_document(ce, event))
        if docs:
            await self.db[OUTBOX].insert_many(docs, session=session, ordered=True)


async def ping(client: AsyncMongoClient) -> None:
    await asyncio.wait_for(client.admin.command("ping"), timeout=2)
