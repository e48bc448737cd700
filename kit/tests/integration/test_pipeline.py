"""The kit end to end on the real broker and database: outbox → relay → consumer, inbox, retry, dead letter, trace."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from opentelemetry import trace
from pymongo.errors import DuplicateKeyError, PyMongoError

from nrn_contracts import EVENT_TYPES, Event, encode, envelope, kafka_headers
from nrn_kit import dlq
from nrn_kit.consumer import ConsumerRunner, EventConsumer, applied_event_keys
from nrn_kit.kafka import ensure_topics, make_producer
from nrn_kit.mongo import INBOX, OUTBOX, Store, ensure_indexes, make_client, utcnow
from nrn_kit.relay import CHECKPOINT_ID, LEASES, Relay, published_through
from nrn_kit.telemetry import setup_telemetry
from nrn_kit.testing import eventually

TOPIC = "nrn.kittest.v1"


@pytest.fixture
def thing_event():
    """A throw-away event type, registered only for the test so the contracts' registry stays clean."""

    class ThingHappened(Event, type="org.nationalresourcenetwork.kittest.thing_happened.v1", topic=TOPIC, key="thing_id"):
        thing_id: str
        n: int

    yield ThingHappened
    EVENT_TYPES.pop(ThingHappened.type, None)


@pytest.fixture
async def rig(make_settings):
    """A store, a producer, a relay task and a way to run a consumer, all torn down after the test."""
    settings = make_settings(service_name="kittest")
    setup_telemetry(settings)  # instruments pymongo, which must precede the client
    client = make_client(settings)
    db = client[settings.database_name]
    await ensure_indexes(db, {})
    await ensure_topics(settings, [TOPIC])
    producer = make_producer(settings)
    await producer.start()
    store = Store(client, db, source=settings.source)
    stop = asyncio.Event()
    tasks: list[asyncio.Task] = []

    relay = Relay(db, producer, settings)
    store.on_commit(relay.wake)

    def start_relay() -> Relay:
        tasks.append(asyncio.create_task(relay.run(stop)))
        return relay

    def start_consumer(consumer: EventConsumer, **overrides) -> ConsumerRunner:
        runner = ConsumerRunner(consumer, store, producer, settings.model_copy(update=overrides))
        tasks.append(asyncio.create_task(runner.run(stop)))
        return runner

    class Rig:
        pass

    r = Rig()
    r.settings, r.db, r.store, r.producer = settings, db, store, producer
    r.start_relay, r.start_consumer = start_relay, start_consumer
    try:
        yield r
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=15)
        await producer.stop()
        await client.drop_database(settings.database_name)
        await client.close()


def counter_consumer(thing_event, *, fail_when=None) -> EventConsumer:
    consumer = EventConsumer("counter")

    @consumer.handles(thing_event)
    async def count(event, tx) -> None:
        if fail_when and fail_when(event):
            raise RuntimeError(f"cannot count {event.thing_id}")
        await tx.db.counts.update_one({"_id": event.thing_id}, {"$inc": {"n": event.n}, "$push": {"seen": tx.envelope.id}},
                                      upsert=True, session=tx.session)

    return consumer


async def test_a_failed_command_writes_neither_document_nor_event(rig, thing_event):
    async def ok(tx):
        await tx.db.things.insert_one({"_id": "a"}, session=tx.session)
        tx.emit(thing_event(thing_id="a", n=1))

    async def boom(tx):
        await tx.db.things.insert_one({"_id": "b"}, session=tx.session)
        tx.emit(thing_event(thing_id="b", n=1))
        raise ValueError("rule broken")

    await rig.store.transaction(ok)
    with pytest.raises(ValueError):
        await rig.store.transaction(boom)
    assert await rig.db.things.count_documents({}) == 1
    outbox = await rig.db[OUTBOX].find().to_list(None)
    assert [d["key"] for d in outbox] == ["a"]
    assert outbox[0]["seq"] == 1, "the first position in commit order; the failed command took none"


async def test_events_flow_in_order_and_a_redelivery_changes_nothing(rig, thing_event):
    relay = rig.start_relay()
    runner = rig.start_consumer(counter_consumer(thing_event))
    for i in range(1, 21):
        await rig.store.transaction(lambda tx, i=i: _emit(tx, thing_event(thing_id=f"t{i % 3}", n=i)))

    async def all_counted() -> bool:
        docs = await rig.db.counts.find().to_list(None)
        return sum(d["n"] for d in docs) == sum(range(1, 21))

    await eventually(all_counted)
    await eventually(lambda: _true(relay.position == 20))
    # The checkpoint may be held back a moment (relay_checkpoint_seconds) while batches follow each other.
    await eventually(lambda: _published_through(rig, 20))

    # Publish one already-applied event again, as a relay crash between publish and mark would.
    sent = await rig.db[OUTBOX].find_one({"key": "t1"})
    await rig.producer.send_and_wait(rig.settings.topic(TOPIC), value=bytes(sent["value"]), key=b"t1",
                                     headers=[(k, bytes(v)) for k, v in sent["headers"]])
    marker = thing_event(thing_id="t1", n=1000)
    await rig.store.transaction(lambda tx: _emit(tx, marker))

    async def marker_applied() -> bool:
        doc = await rig.db.counts.find_one({"_id": "t1"})
        return doc is not None and doc["n"] >= 1000

    await eventually(marker_applied)
    doc = await rig.db.counts.find_one({"_id": "t1"})
    assert len(doc["seen"]) == len(set(doc["seen"])), "an event was applied twice"
    assert runner.stats.duplicates >= 1
    # Order within one key: the values were emitted increasing, so `seen` follows outbox order.
    outbox_ids = [d["_id"] async for d in rig.db[OUTBOX].find({"key": "t1"}).sort("seq", 1)]
    assert doc["seen"] == outbox_ids


async def test_malformed_and_failing_events_are_parked_and_the_partition_moves_on(rig, thing_event):
    runner = rig.start_consumer(counter_consumer(thing_event, fail_when=lambda e: e.thing_id == "poison"))
    topic = rig.settings.topic(TOPIC)
    # Everything on one key, hence one partition: the good event after the bad ones must still land.
    await rig.producer.send_and_wait(topic, value=b"{not json", key=b"k")
    bad_schema = envelope(thing_event(thing_id="x", n=1), source="/test").model_dump(mode="json")
    bad_schema["data"]["n"] = "many"
    import json as _json

    await rig.producer.send_and_wait(topic, value=_json.dumps(bad_schema).encode(), key=b"k")
    poison = envelope(thing_event(thing_id="poison", n=1), source="/test")
    await rig.producer.send_and_wait(topic, value=encode(poison), key=b"k", headers=kafka_headers(poison))
    good = envelope(thing_event(thing_id="good", n=7), source="/test")
    await rig.producer.send_and_wait(topic, value=encode(good), key=b"k", headers=kafka_headers(good))

    async def good_applied() -> bool:
        return await rig.db.counts.find_one({"_id": "good"}) is not None

    await eventually(good_applied)
    await eventually(lambda: _true(runner.stats.dead_lettered >= 3))

    letters = await dlq.list_dead_letters(rig.settings, TOPIC)
    assert len(letters) == 3
    by_reason = {d.headers["dlq.error"].split(":")[0]: d for d in letters}
    assert set(by_reason) == {"invalid event", "RuntimeError"}
    invalid = [d for d in letters if d.error.startswith("invalid event")]
    assert any("n" in d.error for d in invalid), "the reason names the bad field"
    failing = next(d for d in letters if d.error.startswith("RuntimeError"))
    assert failing.headers["dlq.attempts"] == str(rig.settings.consumer_max_attempts)
    assert failing.headers["dlq.origin.topic"] == TOPIC
    assert failing.headers["dlq.origin.offset"] == "2"
    assert failing.headers["ce_id"] == poison.id


async def test_dead_letters_can_be_redriven_once(rig, thing_event):
    broken = {"on": True}
    runner = rig.start_consumer(counter_consumer(thing_event, fail_when=lambda e: broken["on"]))
    await rig.store.transaction(lambda tx: _emit(tx, thing_event(thing_id="r", n=5)))
    rig.start_relay()
    await eventually(lambda: _true(runner.stats.dead_lettered == 1))

    broken["on"] = False  # the bug is fixed
    assert await dlq.redrive(rig.settings, TOPIC) == 1
    assert await dlq.redrive(rig.settings, TOPIC) == 0, "a second redrive republishes nothing"

    async def applied() -> bool:
        doc = await rig.db.counts.find_one({"_id": "r"})
        return doc is not None and doc["n"] == 5

    await eventually(applied)
    assert all(d.redriven for d in await dlq.list_dead_letters(rig.settings, TOPIC))


async def test_one_trace_runs_from_command_to_consumer(rig, thing_event, spans):
    rig.start_relay()
    rig.start_consumer(counter_consumer(thing_event))
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("command") as span:
        trace_id = span.get_span_context().trace_id
        await rig.store.transaction(lambda tx: _emit(tx, thing_event(thing_id="traced", n=1)))

    await eventually(lambda: _counted(rig, "traced"))
    await eventually(lambda: _true(any(s.name.endswith(" process") for s in spans.get_finished_spans())))
    finished = spans.get_finished_spans()
    names = {s.name for s in finished if s.context.trace_id == trace_id}
    assert f"{TOPIC} publish" in names
    assert f"{TOPIC} process" in names
    assert any(n.startswith("insert") or "insert" in n for n in names), names  # pymongo spans in the same trace


async def _published_through(rig, position: int) -> bool:
    return await published_through(rig.db) == position


async def test_a_held_back_checkpoint_only_repeats_after_a_relay_dies_and_is_written_when_it_stops(rig, thing_event):
    """Batches within relay_checkpoint_seconds share one checkpoint write. A relay that dies before
    writing it loses nothing: the next lease holder publishes those entries again and the inbox
    applies each once; a relay that stops writes it first."""
    settings = rig.settings.model_copy(update={"relay_checkpoint_seconds": 5.0, "relay_lease_seconds": 1.0})
    runner = rig.start_consumer(counter_consumer(thing_event))

    async def five(tx) -> None:
        for i in range(1, 6):
            await _emit(tx, thing_event(thing_id=f"h{i}", n=i))

    first, first_stop = Relay(rig.db, rig.producer, settings), asyncio.Event()
    rig.store.on_commit(first.wake)

    async def died() -> None:  # a process that dies releases nothing and writes nothing more
        return None

    first.release = died
    first_run = asyncio.create_task(first.run(first_stop))
    await rig.store.transaction(five)
    await eventually(lambda: _true(first.position == 5))
    assert await published_through(rig.db) == 0, "published, the checkpoint held back"
    first_run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first_run

    second, second_stop = Relay(rig.db, rig.producer, settings), asyncio.Event()
    rig.store.on_commit(second.wake)
    second_run = asyncio.create_task(second.run(second_stop))
    await eventually(lambda: _true(second.position == 5), timeout=30)
    assert second.published == 5, "the lease's next holder published the five again"

    async def each_once() -> bool:
        docs = await rig.db.counts.find({"_id": {"$regex": "^h"}}).to_list(None)
        return sorted((d["_id"], d["n"], len(d["seen"])) for d in docs) == [(f"h{i}", i, 1) for i in range(1, 6)]

    await eventually(each_once)
    await eventually(lambda: _true(runner.stats.duplicates == 5))

    await rig.store.transaction(lambda tx: _emit(tx, thing_event(thing_id="h6", n=6)))
    await eventually(lambda: _true(second.position == 6))
    second_stop.set()
    await second_run
    assert await published_through(rig.db) == 6, "a relay that stops writes its held-back checkpoint"


async def _counted(rig, key: str) -> bool:
    return await rig.db.counts.find_one({"_id": key}) is not None


async def _true(value: bool) -> bool:
    return value


async def _emit(tx, event) -> None:
    await tx.db.things.insert_one({"_id": uuid.uuid4().hex, "k": event.thing_id}, session=tx.session)
    tx.emit(event)


async def test_group_commit_isolates_a_failing_member_and_keeps_serial_semantics(rig, thing_event):
    """Concurrent commands share one transaction; one that breaks a rule fails alone."""
    assert rig.store.group_commit

    async def add(tx, i: int):  # noqa: ANN001
        if i == 7:
            raise ValueError("seven is not allowed")
        # Reads what the members before it wrote: the counter behaves as if they ran one by one.
        doc = await tx.db.seq.find_one_and_update({"_id": "c"}, {"$inc": {"n": 1}}, upsert=True,
                                                  return_document=True, session=tx.session)
        await tx.db.things.insert_one({"_id": i, "position": doc["n"]}, session=tx.session)
        tx.emit(thing_event(thing_id=f"g{i}", n=i))
        return i

    results = await asyncio.gather(*(rig.store.transaction(lambda tx, i=i: add(tx, i)) for i in range(20)),
                                   return_exceptions=True)
    assert isinstance(results[7], ValueError)
    assert [r for r in results if not isinstance(r, BaseException)] == [i for i in range(20) if i != 7]
    positions = sorted(d["position"] for d in await rig.db.things.find().to_list(None))
    assert positions == list(range(1, 20)), "each member saw the writes of those before it"
    keys = {d["key"] async for d in rig.db[OUTBOX].find()}
    assert keys == {f"g{i}" for i in range(20) if i != 7}, "the failed member's event was not written"
    assert rig.store.groups < 19, "the commands were committed in groups"


async def test_gathered_inserts_of_a_failing_member_are_gone_and_the_others_committed_once(rig, thing_event):
    """Tx.insert queues a document; the group writes what its members queued in one insert_many per
    collection. A member that raises after queuing, and one whose queued document collides, fail
    alone (the second with the DuplicateKeyError insert_one gives); the others commit once."""
    await rig.db.things.insert_one({"_id": "taken"})
    groups_before = rig.store.groups

    async def add(tx, i: int):  # noqa: ANN001
        tx.insert("things", {"_id": "taken" if i == 11 else f"t{i}", "i": i})
        tx.insert("notes", {"i": i})  # an ObjectId is given
        # Queued, not written: nothing in the transaction sees it before the commit.
        assert await tx.db.things.find_one({"_id": f"t{i}"}, session=tx.session) is None
        tx.emit(thing_event(thing_id=f"t{i}", n=i))
        if i == 7:
            raise ValueError("seven is not allowed")
        return i

    results = await asyncio.gather(*(rig.store.transaction(lambda tx, i=i: add(tx, i)) for i in range(20)),
                                   return_exceptions=True)
    assert isinstance(results[7], ValueError)
    assert isinstance(results[11], DuplicateKeyError)
    committed = [i for i in range(20) if i not in (7, 11)]
    assert [r for r in results if not isinstance(r, BaseException)] == committed
    things = await rig.db.things.find({"_id": {"$ne": "taken"}}).to_list(None)
    assert sorted(d["i"] for d in things) == committed, "each once, none of the failed members'"
    assert sorted([d["i"] async for d in rig.db.notes.find()]) == committed
    assert await rig.db.things.find_one({"_id": "taken"}) == {"_id": "taken"}, "the collision changed nothing"
    assert {d["key"] async for d in rig.db[OUTBOX].find()} == {f"t{i}" for i in committed}
    assert rig.store.groups - groups_before < len(committed), "the commands were committed in groups"


async def test_a_groups_idempotency_keys_are_marked_together_and_a_taken_over_one_fails_alone(rig):
    """The Idempotency-Key marks of a group are one update; a command whose key another attempt took
    over (its lease ran out) gets 409 and writes nothing; the others commit and are marked executed."""
    from nrn_kit import idempotency

    now = utcnow()
    reservations = [idempotency.Reservation(f"key{i}", uuid.uuid4().hex, rig.db) for i in range(6)]
    await rig.db[idempotency.COLLECTION].insert_many(
        [{"_id": r.id, "owner": "someone else" if i == 4 else r.owner, "state": "in_progress", "lease_until": now}
         for i, r in enumerate(reservations)])
    groups_before = rig.store.groups

    async def command(i: int):
        idempotency._current.set(reservations[i])  # noqa: SLF001 — what the route's dependency does

        async def fn(tx):  # noqa: ANN001, ANN202
            tx.insert("things", {"_id": f"k{i}"})
            return i

        return await rig.store.transaction(fn)

    results = await asyncio.gather(*(command(i) for i in range(6)), return_exceptions=True)
    assert isinstance(results[4], idempotency.KeyInProgress)
    assert [r for r in results if not isinstance(r, BaseException)] == [0, 1, 2, 3, 5]
    assert sorted([d["_id"] async for d in rig.db.things.find()]) == ["k0", "k1", "k2", "k3", "k5"]
    marked = sorted([d["_id"] async for d in rig.db[idempotency.COLLECTION].find({"executed_at": {"$exists": True}})])
    assert marked == ["key0", "key1", "key2", "key3", "key5"]
    assert rig.store.groups - groups_before < 5, "the commands were committed in groups"


async def test_the_relay_sweeps_only_entries_published_longer_ago_than_the_retention(rig):
    from datetime import timedelta

    from nrn_kit.mongo import OUTBOX_RETENTION_SECONDS, utcnow

    now = utcnow()
    old = now - timedelta(seconds=OUTBOX_RETENTION_SECONDS + 3600)
    # Entries 1-6; the relay has published through 5. Its marks say it had reached 2 over a week ago
    # and 4 an hour ago: 3 was created long ago but published late (the relay was down), 6 waits.
    await rig.db[OUTBOX].insert_many([{"_id": f"e{n}", "seq": n, "created_at": old} for n in range(1, 7)])
    await rig.db[LEASES].insert_one({"_id": CHECKPOINT_ID, "position": 5,
                                     "marks": [[2, old], [4, now - timedelta(hours=1)]]})
    relay = Relay(rig.db, rig.producer, rig.settings)
    assert await relay._hold_lease()
    assert await relay.sweep() == 2
    assert {d["_id"] async for d in rig.db[OUTBOX].find()} == {"e3", "e4", "e5", "e6"}
    marks = (await rig.db[LEASES].find_one({"_id": CHECKPOINT_ID}))["marks"]
    assert [m[0] for m in marks] == [4, 5], "the expired mark is dropped, this sweep's is noted"


async def test_the_outbox_ttl_index_of_earlier_versions_is_dropped_at_start(rig):
    from pymongo import IndexModel

    await rig.db[OUTBOX].create_indexes([IndexModel([("sent_at", 1)], name="sent_ttl", expireAfterSeconds=3600)])
    await ensure_indexes(rig.db, {})
    assert set(await rig.db[OUTBOX].index_information()) == {"_id_", "commit_order"}


async def test_positions_follow_commit_order_across_concurrent_writers(rig, thing_event):
    """Several stores (as several replicas would) commit at once while the relay reads in small
    batches: positions are unique and gap-free, and the relay, which only reads past its checkpoint,
    publishes every entry — none commits behind a position it has already passed."""
    import random

    relay = Relay(rig.db, rig.producer, rig.settings.model_copy(update={"relay_batch_size": 3}))
    stores = [Store(rig.store.client, rig.db, source="/test", group_commit=False) for _ in range(4)]
    for store in stores:
        store.on_commit(relay.wake)
    stop = asyncio.Event()
    relaying = asyncio.create_task(relay.run(stop))

    async def write(i: int) -> None:
        async def fn(tx):  # noqa: ANN001
            await tx.db.things.insert_one({"_id": f"c{i}"}, session=tx.session)
            await asyncio.sleep(random.random() / 100)  # transactions overlap
            tx.emit(thing_event(thing_id=f"c{i}", n=i))

        await stores[i % len(stores)].transaction(fn)

    await asyncio.gather(*(write(i) for i in range(60)))
    await eventually(lambda: _true(relay.position == 60))
    stop.set()
    await relaying
    seqs = sorted([d["seq"] async for d in rig.db[OUTBOX].find()])
    assert seqs == list(range(1, 61))
    assert relay.published == 60, "every entry published once: the relay never passed one still uncommitted"


async def test_an_outbox_of_the_earlier_format_is_numbered_and_its_pending_entries_published(rig, thing_event):
    """Before commit-order positions, entries had state pending/sent and an ObjectId seq."""
    from bson import ObjectId

    from nrn_contracts import encode, envelope, kafka_headers

    docs = []
    for i, state in enumerate(["sent", "sent", "pending", "sent", "pending"]):
        event = thing_event(thing_id=f"old{i}", n=i)
        ce = envelope(event, source="/test")
        docs.append({"_id": ce.id, "seq": ObjectId(), "state": state, "topic": TOPIC, "key": event.thing_id,
                     "type": ce.type, "value": encode(ce), "headers": [[k, v] for k, v in kafka_headers(ce)],
                     "created_at": ce.time, "sent_at": None})
    await rig.db[OUTBOX].drop_indexes()
    await rig.db[OUTBOX].insert_many(docs)
    await ensure_indexes(rig.db, {})
    numbered = await rig.db[OUTBOX].find().sort("seq", 1).to_list(None)
    assert [d["seq"] for d in numbered] == [1, 2, 3, 4, 5]
    assert [d["_id"] for d in numbered] == [d["_id"] for d in docs], "in the order of the old seq"
    assert not any("state" in d for d in numbered)
    assert await published_through(rig.db) == 2, "the leading sent run is behind the checkpoint"

    runner = rig.start_consumer(counter_consumer(thing_event))
    rig.start_relay()
    await rig.store.transaction(lambda tx: _emit(tx, thing_event(thing_id="new", n=1)))
    await eventually(lambda: _counted(rig, "new"))
    # 3 to 5 were published (4 again: harmless), in order; 1 and 2 were not sent again.
    assert {d["_id"] async for d in rig.db.counts.find()} == {"old2", "old3", "old4", "new"}
    assert runner.stats.applied == 4


async def test_the_inbox_refuses_an_event_applied_in_any_earlier_batch(rig):
    """One inbox document holds a batch's event keys; the unique index on that array holds across
    documents (multikey), in a transaction too, so a redelivered event is refused in any batch."""
    inbox = rig.db[INBOX]
    await inbox.insert_one({"consumer": "c", "ids": ["c:a", "c:b"], "events": [{"type": "x.v1"}, {"type": "y.v1"}],
                            "applied_at": utcnow()})
    with pytest.raises(DuplicateKeyError):
        await inbox.insert_one({"consumer": "c", "ids": ["c:c", "c:b"], "applied_at": utcnow()})
    async with rig.store.client.start_session() as session:
        with pytest.raises(DuplicateKeyError):
            async with await session.start_transaction():
                await inbox.insert_one({"consumer": "c", "ids": ["c:d", "c:a"], "applied_at": utcnow()},
                                       session=session)
    await inbox.insert_one({"consumer": "other", "ids": ["other:a"], "events": [{"type": "x.v1"}],
                            "applied_at": utcnow()})
    assert sorted(await applied_event_keys(rig.db)) == ["c:a", "c:b", "other:a"]
    assert await applied_event_keys(rig.db, consumer="c", type_contains="y") == ["c:b"]
    assert (await inbox.index_information())["applied_ttl"]["expireAfterSeconds"] == 90 * 24 * 3600


async def test_an_inbox_of_one_document_per_event_keeps_refusing_those_events(rig, thing_event):
    """Inboxes written before batch documents (``_id`` the key) are given their ``ids`` at start."""
    inbox = rig.db[INBOX]
    await inbox.drop()
    await inbox.insert_many([{"_id": f"counter:old{i}", "consumer": "counter", "type": thing_event.type,
                              "topic": TOPIC, "partition": 0, "offset": i, "applied_at": utcnow()} for i in range(3)])
    await ensure_indexes(rig.db, {})
    assert sorted(await applied_event_keys(rig.db, consumer="counter")) == [f"counter:old{i}" for i in range(3)]
    with pytest.raises(DuplicateKeyError):
        await inbox.insert_one({"consumer": "counter", "ids": ["counter:new", "counter:old1"], "applied_at": utcnow()})


async def test_two_replicas_applying_the_same_event_at_once_cannot_both_commit(rig):
    """During a takeover two replicas may apply one event in different batches at the same time:
    the second insert of its key conflicts, whether the first is still open or committed after
    the second's snapshot was taken."""
    inbox, client = rig.db[INBOX], rig.store.client
    for first_commits_before_second_writes in (False, True):
        key = f"c:{first_commits_before_second_writes}"
        async with client.start_session() as a, client.start_session() as b:
            await a.start_transaction()
            await b.start_transaction()
            await inbox.find_one({"ids": key}, session=b)  # b's snapshot: before a's insert
            await inbox.insert_one({"consumer": "c", "ids": ["c:x" + key, key], "applied_at": utcnow()}, session=a)
            if first_commits_before_second_writes:
                await a.commit_transaction()
            with pytest.raises(PyMongoError):
                await inbox.insert_one({"consumer": "c", "ids": [key, "c:y" + key], "applied_at": utcnow()}, session=b)
                await b.commit_transaction()
            if not first_commits_before_second_writes:
                await a.commit_transaction()
        assert (await applied_event_keys(rig.db)).count(key) == 1
