"""The dispatcher's queries (every round, forever, whether or not anyone uses the system) and the
delivery log are index-backed on the real (embedded) database, without ``hint``: a hinted find there
walks the whole index and reads every document. Checked on the plan (``explain``) over a collection
holding deliveries the queries must skip, and on what the queries return as run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId

from nrn_kit.mongo import drop_indexes, plan_index
from nrn_kit.testing import indexed_database
from partners.adapters import mongo as repo
from partners.config import Settings

NOW = datetime(2026, 3, 3, 14, 0, tzinfo=UTC)
STATES = (repo.SUCCEEDED, repo.SUCCEEDED, repo.FAILED, repo.CANCELLED, repo.PENDING, repo.SENDING)


@pytest.fixture
async def db(make_settings):  # noqa: ANN001
    """Just the database with partners' indexes: no dispatcher taking the deliveries inserted here."""
    settings = make_settings(Settings)
    async with indexed_database(settings, repo.indexes(settings)) as database:
        yield database


def _delivery(i: int) -> dict:
    """Delivery i: endpoint e{i%5}, aggregate k{i%20}, mostly finished; the unfinished ones are due
    every other time (the others wait for a retry an hour ahead)."""
    state = STATES[i % len(STATES)]
    when = NOW + timedelta(seconds=i) - timedelta(minutes=30) if i % 12 < 6 else NOW + timedelta(hours=1, seconds=i)
    return {"_id": f"d{i:04d}", "endpoint_id": f"e{i % 5}", "order_key": f"k{i % 20}", "seq": ObjectId(),
            "state": state, "next_attempt_at": when, "created_at": NOW - timedelta(seconds=2_000 - i)}


async def test_dispatcher_and_log_queries_use_their_indexes(db) -> None:  # noqa: ANN001
    docs = [_delivery(i) for i in range(2_000)]
    await db[repo.DELIVERIES].insert_many(docs)
    last = docs[-1]

    plans = await repo.explain_queries(db, NOW, last)

    assert set(plans) == set(repo.PLANNED)
    chosen = {name: plan_index(explained) for name, explained in plans.items()}
    assert chosen == {name: index for name, (_, index) in repo.PLANNED.items()}, plans
    # the delivery log as the page reads it: newest first, one endpoint, of a state if asked, before a time
    before = NOW - timedelta(seconds=500)
    for state in (None, repo.SUCCEEDED, repo.PENDING):
        page = await db[repo.DELIVERIES].find(repo.delivery_log("e1", state, before)).sort("created_at", -1) \
            .limit(50).to_list()
        wanted = sorted((d for d in docs if d["endpoint_id"] == "e1" and d["created_at"] < before
                         and state in (None, d["state"])), key=lambda d: d["created_at"], reverse=True)[:50]
        assert [d["_id"] for d in page] == [d["_id"] for d in wanted]


async def test_due_deliveries_merge_the_states_in_order_and_pass_over_skipped_endpoints(db) -> None:  # noqa: ANN001
    docs = [_delivery(i) for i in range(2_000)]
    await db[repo.DELIVERIES].insert_many(docs)

    def expected(skip: set[str], limit: int) -> list[str]:
        due = [d for d in docs if d["state"] in repo.UNFINISHED and d["next_attempt_at"] <= NOW
               and d["endpoint_id"] not in skip]
        return [d["_id"] for d in sorted(due, key=lambda d: d["next_attempt_at"])][:limit]

    async def run(skip: set[str], limit: int) -> list[str]:
        return [d["_id"] async for d in repo.due_deliveries(db, NOW, skip=skip, limit=limit)]

    everything = await run(set(), 10_000)
    assert everything == expected(set(), 10_000)
    assert {d["state"] for d in docs if d["_id"] in everything} == set(repo.UNFINISHED)
    # a batch: the earliest, whatever their state
    assert await run(set(), 25) == expected(set(), 25)
    # skipped endpoints (disabled, or their queue is full) do not use up the batch
    skip = {"e0", "e1", "e2", "e3"}
    assert await run(skip, 25) == expected(skip, 25)
    assert len(expected(skip, 25)) == 25


async def test_earlier_unfinished_holds_back_only_behind_unfinished_deliveries(db) -> None:  # noqa: ANN001
    base = {"endpoint_id": "e1", "order_key": "agg-1", "next_attempt_at": NOW, "created_at": NOW}
    first, second, third = ObjectId(), ObjectId(), ObjectId()
    await db[repo.DELIVERIES].insert_many([
        {"_id": "a", **base, "seq": first, "state": repo.SUCCEEDED},
        {"_id": "b", **base, "seq": second, "state": repo.SENDING},
        {"_id": "c", **base, "seq": third, "state": repo.PENDING},
        # the same aggregate to another endpoint, and another aggregate to this one: never in the way
        {"_id": "x", **base, "endpoint_id": "e2", "seq": ObjectId(), "state": repo.PENDING},
        {"_id": "y", **base, "order_key": "agg-2", "seq": ObjectId(), "state": repo.PENDING},
    ])
    held = {d["_id"]: await repo.earlier_unfinished(db, d) async for d in db[repo.DELIVERIES].find()}
    assert held == {"a": False, "b": False, "c": True, "x": False, "y": False}

    await db[repo.DELIVERIES].update_one({"_id": "b"}, {"$set": {"state": repo.FAILED}})
    assert not await repo.earlier_unfinished(db, await db[repo.DELIVERIES].find_one({"_id": "c"}))
    await db[repo.DELIVERIES].update_one({"_id": "a"}, {"$set": {"state": repo.PENDING}})
    assert await repo.earlier_unfinished(db, await db[repo.DELIVERIES].find_one({"_id": "c"}))


async def test_the_order_index_of_earlier_versions_is_dropped_at_start(db) -> None:  # noqa: ANN001
    await db[repo.DELIVERIES].create_index([("endpoint_id", 1), ("order_key", 1), ("seq", 1)], name="endpoint_key_seq")
    await drop_indexes(db, repo.OBSOLETE_INDEXES)
    await drop_indexes(db, repo.OBSOLETE_INDEXES)  # and again, with nothing left to drop
    names = set(await db[repo.DELIVERIES].index_information())
    assert "endpoint_key_seq" not in names and {repo.IX_DUE, repo.IX_ORDER, repo.IX_LOG, repo.IX_LOG_STATE} <= names
