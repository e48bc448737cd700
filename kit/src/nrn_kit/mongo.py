"""MongoDB access: the client factory, index bootstrap, and transactions that carry the outbox.

A command changes the service's documents and appends the events it caused to the ``outbox``
collection in one transaction (:meth:`Store.transaction`). The relay publishes the outbox later.

Each outbox entry gets ``seq``, its position in commit order: the transaction takes the numbers
from one counter document (``outbox_sequence``), and since a transaction that writes that document
conflicts with any other that does until it commits, numbers are handed out in commit order and an
entry can never appear behind a position the relay has already passed. The relay therefore reads
``seq > checkpoint`` and keeps one checkpoint per batch (nrn_kit.relay) instead of marking entries.
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
from pymongo import ASCENDING, AsyncMongoClient, IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError, WriteError

from nrn_contracts import CloudEvent, Event, encode, envelope, kafka_headers

from . import idempotency
from .settings import ServiceSettings

T = TypeVar("T")

OUTBOX = "outbox"
OUTBOX_SEQUENCE = "outbox_sequence"  # one document, {_id: "outbox", seq: the last position handed out}
# The inbox: one document per applied batch, ``{consumer, ids: ["<consumer>:<event id>", ...],
# events: [{type, topic, partition, offset}, ...] (in the order of ids), applied_at}``. A unique
# index on the ``ids`` array (multikey: unique across documents, which MongoDB and the embedded
# database both enforce) refuses any event applied before, in whatever batch it came; one document
# a batch instead of one an event saves the database an index entry, an oplog entry and a
# document write per event. Read it with nrn_kit.consumer.applied_event_keys.
INBOX = "inbox"
# Published outbox entries are kept a week — for inspection, and to publish again when the broker
# loses what it had (nrn_kit.relay) — then deleted by the relay (Relay.sweep). Not by a TTL index:
# the embedded database pays every index on every insert.
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
    # One index serves the relay's "after the checkpoint, in commit order" and the retention sweep.
    return [IndexModel([("seq", ASCENDING)], name="commit_order", unique=True)]


# Indexes earlier versions created that are no longer wanted: dropped at start.
OBSOLETE_INDEXES: dict[str, tuple[str, ...]] = {OUTBOX: ("sent_ttl", "pending_in_order")}


async def ensure_indexes(db: AsyncDatabase, specs: dict[str, Iterable[IndexModel]]) -> None:
    """Create the kit's and the service's indexes; idempotent, run at every start."""
    all_specs: dict[str, list[IndexModel]] = {
        OUTBOX: outbox_indexes(),
        INBOX: [IndexModel([("applied_at", ASCENDING)], name="applied_ttl", expireAfterSeconds=INBOX_RETENTION_SECONDS),
                IndexModel([("ids", ASCENDING)], name="applied_event_ids", unique=True)],
        idempotency.COLLECTION: idempotency.indexes(),
    }
    for collection, models in specs.items():
        all_specs.setdefault(collection, []).extend(models)
    await _number_entries_of_earlier_versions(db)
    await _batch_inbox_of_earlier_versions(db)
    await db[OUTBOX_SEQUENCE].update_one({"_id": OUTBOX}, {"$setOnInsert": {"seq": 0}}, upsert=True)
    for collection, models in all_specs.items():
        if models:
            await db[collection].create_indexes(list(models))
    await drop_indexes(db, OBSOLETE_INDEXES)


async def drop_indexes(db: AsyncDatabase, names: dict[str, Iterable[str]]) -> None:
    """Drop these indexes (collection → index names) where they exist: those earlier versions created
    and no longer wanted. Idempotent, run at start."""
    for collection, wanted_gone in names.items():
        existing = await db[collection].index_information()
        for name in wanted_gone:
            if name in existing:
                await db[collection].drop_index(name)


async def explain(db: AsyncDatabase, find: dict[str, Any]) -> dict[str, Any]:
    """The planner's choice for one ``find`` command document (explain, verbosity queryPlanner: nothing
    is run). Services check with it that a query without ``hint`` is index-backed: on the embedded
    database (SecantusDB) a hinted find walks the whole index and reads every document."""
    return await db.command({"explain": find, "verbosity": "queryPlanner"})


def plan_stages(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """Every stage of a winning plan, outermost first."""
    out, stack = [], [plan]
    while stack:
        node = stack.pop()
        out.append(node)
        stack += [node["inputStage"]] if "inputStage" in node else []
        stack += node.get("inputStages", [])
    return out


def plan_index(explained: dict[str, Any]) -> str | None:
    """The index of the winning plan's IXSCAN in an explain reply, or None when it scans the collection."""
    stages = plan_stages(explained["queryPlanner"]["winningPlan"])
    if any(s.get("stage") == "COLLSCAN" for s in stages):
        return None
    return next((s.get("indexName") for s in stages if s.get("stage") == "IXSCAN"), None)


async def _number_entries_of_earlier_versions(db: AsyncDatabase) -> None:
    """Outboxes written before commit-order positions had ``state`` pending/sent and an ObjectId
    ``seq``: number them in that order after the last position handed out, and start the relay's
    checkpoint after the leading run of sent ones (what follows is published, again if need be)."""
    old = await db[OUTBOX].find({"state": {"$exists": True}}, {"_id": 1, "state": 1}).sort("seq", ASCENDING).to_list(None)
    if not old:
        return
    from .relay import CHECKPOINT_ID, LEASES  # the relay owns its checkpoint's shape

    counter = await db[OUTBOX_SEQUENCE].find_one({"_id": OUTBOX})
    position = counter["seq"] if counter else 0
    checkpoint, leading_sent = None, True
    for doc in old:
        position += 1
        await db[OUTBOX].update_one({"_id": doc["_id"]}, {"$set": {"seq": position}, "$unset": {"state": "", "sent_at": ""}})
        leading_sent = leading_sent and doc.get("state") == "sent"
        if leading_sent:
            checkpoint = position
    await db[OUTBOX_SEQUENCE].update_one({"_id": OUTBOX}, {"$set": {"seq": position}}, upsert=True)
    if checkpoint is not None:
        await db[LEASES].update_one({"_id": CHECKPOINT_ID}, {"$max": {"position": checkpoint}}, upsert=True)


async def _batch_inbox_of_earlier_versions(db: AsyncDatabase) -> None:
    """Inboxes written before batch documents had one document an event, ``_id`` its key: give each
    its key in ``ids`` (before the unique index exists: documents without the field would collide
    on it), so the unique index and the look-ups see the events they remember."""
    async for doc in db[INBOX].find({"ids": {"$exists": False}}, {"_id": 1, "type": 1, "topic": 1,
                                                                   "partition": 1, "offset": 1}):
        event = {k: doc.get(k) for k in ("type", "topic", "partition", "offset")}
        await db[INBOX].update_one({"_id": doc["_id"]}, {"$set": {"ids": [doc["_id"]], "events": [event]}})


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


def outbox_document(ce: CloudEvent, event: Event) -> dict[str, Any]:
    """An outbox entry; ``seq`` (its position in commit order) is set when its transaction commits."""
    return {
        "_id": ce.id,
        "seq": None,
        # The class attribute: some payloads have a field named `topic` (a subject area) that shadows it.
        "topic": type(event).topic,
        "key": event.aggregate_id(),
        "type": ce.type,
        "value": encode(ce),
        "headers": [[k, v] for k, v in kafka_headers(ce)],
        "created_at": ce.time,
    }


@dataclass
class Tx:
    """What a handler gets inside a transaction: the session, the database and the outbox."""

    session: AsyncClientSession
    db: AsyncDatabase
    source: str
    envelope: CloudEvent | None = None  # the event being consumed, for consumers
    events: list[Event] = field(default_factory=list)
    # The handlers' own state for this run of the transaction (a consumer's whole fetched batch):
    # look-ups the events share, writes gathered across them. Each run (a retry too) starts empty.
    memo: dict[str, Any] = field(default_factory=dict)
    # Awaited in order after the transaction function, inside the transaction: a handler that
    # gathers writes across a batch's events writes them here, once.
    before_commit: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Documents queued by :meth:`insert`, by collection name, in the order queued.
    inserts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def insert(self, collection: str, document: dict[str, Any]) -> Any:
        """Queue a blind insert of a new document; returns its ``_id`` (an ObjectId is set when it has none).

        The Store writes what a transaction's functions queued together, at the end of the transaction
        (and of its group: one ``insert_many`` per collection for the whole group, where ``insert_one``
        costs a statement a command on the embedded database). The document is therefore visible to
        no one in the transaction — not to the function that queued it, nor to the members of its
        group after it — until the transaction commits. Use it only for a document nothing in the
        transaction reads back: a new document under an id the server made (a UUID, an ObjectId).
        A write error (a duplicate ``_id``) fails only the function that queued the document, with
        the ``DuplicateKeyError`` (or ``WriteError``) ``insert_one`` would have raised; its group
        commits without it.
        """
        if "_id" not in document:
            document["_id"] = ObjectId()
        self.inserts.setdefault(collection, []).append(document)
        return document["_id"]


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
    group instead of one each), because the transaction and each statement in it, not the document
    written, is what costs. The semantics are those of running the functions serially: each sees
    the writes of those before it — except inserts queued with :meth:`Tx.insert`, written together
    at the end of the group (one ``insert_many`` per collection), as are the group's Idempotency-Key
    marks (one update). A function that raises, or whose queued insert or mark fails, is taken out
    and gets its own exception; the others are re-run without it (functions must be re-runnable
    anyway: ``with_transaction`` retries).
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
                # What the members queued, written together after the last member: per collection the
                # documents in order and, for each, the member that queued it (a write error fails it).
                inserts: dict[str, tuple[list[dict[str, Any]], list[_Pending]]] = {}
                marks: list[_Pending] = []
                for item in remaining:
                    tx = Tx(session=session, db=self.db, source=self.source, envelope=item.envelope_in)
                    token = otel_context.attach(item.otel_context)  # the caller's trace, not the committer's
                    try:
                        results[id(item)] = await item.fn(tx)
                        for hook in tx.before_commit:
                            await hook()
                    except Exception as exc:
                        if _transient(exc):
                            raise  # the whole group is retried by with_transaction
                        failed.append((item, exc))
                        raise _MemberFailed from exc
                    finally:
                        otel_context.detach(token)
                    for collection, queued in tx.inserts.items():
                        documents, owners = inserts.setdefault(collection, ([], []))
                        documents.extend(queued)
                        owners.extend([item] * len(queued))
                    if item.reservation is not None:
                        marks.append(item)
                    for event in tx.events:
                        docs.append(outbox_document(envelope(event, source=self.source,
                                                             traceparent=item.traceparent), event))
                for collection, (documents, owners) in inserts.items():
                    await self._insert_gathered(collection, documents, owners, session, failed)
                if marks:
                    missing = await idempotency.mark_all_executed([item.reservation for item in marks], session)
                    if missing:
                        item = marks[missing[0]]
                        failed.append((item, idempotency.taken_over()))
                        raise _MemberFailed
                if docs:
                    # Last, so the counter document — which every event-writing transaction touches —
                    # is held for as short a time as possible.
                    counter = await self.db[OUTBOX_SEQUENCE].find_one_and_update(
                        {"_id": OUTBOX}, {"$inc": {"seq": len(docs)}}, upsert=True,
                        return_document=ReturnDocument.AFTER, session=session)
                    first = counter["seq"] - len(docs) + 1
                    for offset, doc in enumerate(docs):
                        doc["seq"] = first + offset
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

    async def _insert_gathered(self, collection: str, documents: list[dict[str, Any]], owners: list[_Pending],
                               session: AsyncClientSession, failed: list[tuple[_Pending, BaseException]]) -> None:
        """One ``insert_many`` for the documents a group queued in ``collection``; a write error fails the
        member that queued the document, with the error ``insert_one`` would have raised."""
        try:
            await self.db[collection].insert_many(documents, ordered=True, session=session)
        except BulkWriteError as exc:
            if _transient(exc):
                raise
            errors = exc.details.get("writeErrors") or []
            if not errors:
                raise
            error = errors[0]
            cls = DuplicateKeyError if error.get("code") == 11000 else WriteError
            failed.append((owners[error["index"]], cls(error.get("errmsg", ""), error.get("code"), error)))
            raise _MemberFailed from exc


async def ping(client: AsyncMongoClient) -> None:
    await asyncio.wait_for(client.admin.command("ping"), timeout=2)
