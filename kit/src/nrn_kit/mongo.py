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
from opentelemetry import context as otel_context
from opentelemetry import propagate
from pymongo import ASCENDING, AsyncMongoClient, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from nrn_contracts import CloudEvent, Event, encode, envelope, kafka_headers

from . import idempotency
from .settings import ServiceSettings

T = TypeVar("T")

OUTBOX = "outbox"
INBOX = "inbox"
# Sent outbox entries are kept a week for inspection and replay, then deleted by the relay
# (nrn_kit.relay.Relay.sweep). Not by a TTL index: every index on the outbox is paid on each
# insert and each "mark sent", and the embedded database pays per index, per document.
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
    # One index serves both the relay's "pending in commit order" and the retention sweep
    # ("sent", seq older than a week: seq is an ObjectId, whose leading bytes are its time).
    return [IndexModel([("state", ASCENDING), ("seq", ASCENDING)], name="pending_in_order")]


# Indexes earlier versions created that are no longer wanted: dropped at start.
OBSOLETE_INDEXES: dict[str, tuple[str, ...]] = {OUTBOX: ("sent_ttl",)}


async def ensure_indexes(db: AsyncDatabase, specs: dict[str, Iterable[IndexModel]]) -> None:
    """Create the kit's and the service's indexes; idempotent, run at every start."""
    all_specs: dict[str, list[IndexModel]] = {
        OUTBOX: outbox_indexes(),
        INBOX: [IndexModel([("applied_at", ASCENDING)], name="applied_ttl", expireAfterSeconds=INBOX_RETENTION_SECONDS)],
        idempotency.COLLECTION: idempotency.indexes(),
    }
    for collection, models in specs.items():
        all_specs.setdefault(collection, []).extend(models)
    for collection, models in all_specs.items():
        if models:
            await db[collection].create_indexes(list(models))
    for collection, names in OBSOLETE_INDEXES.items():
        existing = await db[collection].index_information()
        for name in names:
            if name in existing:
                await db[collection].drop_index(name)


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


@dataclass
class _Pending:
    """One caller's transaction function, waiting to be committed (alone or with others)."""

    fn: Callable[[Tx], Awaitable[Any]]
    future: asyncio.Future
    envelope_in: CloudEvent | None
    otel_context: otel_context.Context
    traceparent: str | None
    # The Idempotency-Key the calling request holds: marked executed in this same transaction.
    reservation: idempotency.Reservation | None = None


class _MemberFailed(Exception):
    """Aborts a group transaction because one member's function raised."""


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, PyMongoError) and (
        exc.has_error_label("TransientTransactionError") or exc.has_error_label("UnknownTransactionCommitResult")
    )


class Store:
    """A service's database plus the way to change it: transactions that also write the outbox.

    Group commit: concurrent callers' transaction functions are run one after another inside
    one MongoDB transaction and committed together (one commit and one outbox write for the
    group instead of one each), because the transaction, not the document write, is what costs.
    The semantics are those of running the functions serially: each sees the writes of those
    before it. A function that raises is taken out and gets its own exception; the others are
    re-run without it (functions must be re-runnable anyway: ``with_transaction`` retries).
    """

    def __init__(self, client: AsyncMongoClient, db: AsyncDatabase, *, source: str,
                 group_commit: bool = True, group_max: int = 64, group_parallel: int = 1) -> None:
        self.client = client
        self.db = db
        self.source = source
        self.group_commit = group_commit
        self.group_max = group_max
        self.group_parallel = group_parallel
        self._listeners: list[Callable[[], None]] = []
        self._queue: list[_Pending] = []
        self._committers: set[asyncio.Task] = set()
        self.groups = 0  # committed groups, for figures

    def on_commit(self, listener: Callable[[], None]) -> None:
        """Called after a transaction that emitted events commits (the in-process relay wakes on it)."""
        self._listeners.append(listener)

    async def transaction(self, fn: Callable[[Tx], Awaitable[T]], *, envelope_in: CloudEvent | None = None,
                          group: bool | None = None) -> T:
        """Run ``fn`` in a transaction with the events it emits; retried as a whole on transient errors.

        ``fn`` may run more than once (retries, a group member failing): each run starts with an
        empty event list, and it must do nothing but database work through ``tx``.
        """
        item = _Pending(fn, asyncio.get_running_loop().create_future(), envelope_in,
                        otel_context.get_current(), current_traceparent(), idempotency.current())
        if not (self.group_commit if group is None else group):
            await self._commit_group([item])
            return item.future.result()
        self._queue.append(item)
        # A few groups in flight at once: one group's statements run one after another on its
        # session, so a single committer would leave the database idle between round trips.
        # A committer whose coroutine has returned is done() at once, though its done-callbacks
        # run later: count by done(), or a caller resumed by it would wait for a finished task.
        self._committers = {task for task in self._committers if not task.done()}
        if len(self._committers) < self.group_parallel:
            self._committers.add(asyncio.create_task(self._commit_queued(), name="group-commit"))
        return await item.future

    async def _commit_queued(self) -> None:
        await asyncio.sleep(0)  # let the callers that arrive together join one group
        while self._queue:
            group = self._queue[: self.group_max]
            del self._queue[: len(group)]
            await self._commit_group(group)

    async def _commit_group(self, group: list[_Pending]) -> None:
        remaining = [item for item in group if not item.future.done()]
        while remaining:
            failed: list[tuple[_Pending, BaseException]] = []
            results: dict[int, Any] = {}

            async def attempt(session: AsyncClientSession) -> bool:
                results.clear()
                docs = []
                for item in remaining:
                    tx = Tx(session=session, db=self.db, source=self.source, envelope=item.envelope_in)
                    token = otel_context.attach(item.otel_context)  # the caller's trace, not the committer's
                    try:
                        results[id(item)] = await item.fn(tx)
                        if item.reservation is not None:
                            await idempotency.mark_executed(item.reservation, session)
                    except Exception as exc:
                        if _transient(exc):
                            raise  # the whole group is retried by with_transaction
                        failed.append((item, exc))
                        raise _MemberFailed from exc
                    finally:
                        otel_context.detach(token)
                    for event in tx.events:
                        docs.append(outbox_document(envelope(event, source=self.source,
                                                             traceparent=item.traceparent), event))
                if docs:
                    await self.db[OUTBOX].insert_many(docs, session=session, ordered=True)
                return bool(docs)

            try:
                async with self.client.start_session() as session:
                    emitted = await session.with_transaction(attempt)
            except _MemberFailed:
                item, exc = failed[-1]
                if not item.future.done():
                    item.future.set_exception(exc)
                remaining.remove(item)
                continue
            except BaseException as exc:  # noqa: BLE001 — every caller learns the commit failed
                for item in remaining:
                    if not item.future.done():
                        item.future.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                return
            self.groups += 1
            for item in remaining:
                if not item.future.done():
                    item.future.set_result(results[id(item)])
            if emitted:
                for listener in self._listeners:
                    listener()
            return


async def ping(client: AsyncMongoClient) -> None:
    await asyncio.wait_for(client.admin.command("ping"), timeout=2)
