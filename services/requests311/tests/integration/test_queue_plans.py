"""The staff queues at 100,000 requests stay index-backed: asserted on the query plan, never on a time."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from nrn_kit.mongo import ensure_indexes, make_client, plan_stages as stages
from requests311.adapters import mongo as repo
from requests311.config import Settings

N = 100_000
STATUSES = ["submitted", "triaged", "awaiting_information", "assigned", "memo_drafted", "memo_in_review",
            "memo_delivered", "call_scheduled", "closed", "closed", "closed", "closed", "declined"]
TOPICS = ["housing", "finance_budgets", "broadband", "health", "workforce", "land_use"]


@pytest.fixture
async def db(make_settings):
    """Just the database with the service's indexes: no relay or consumers competing for the two cores.

    Not dropped afterwards: the embedded database deletes documents one index entry at a time
    (minutes for 100,000), the name is unique to the test, and the session's data folder is removed.
    """
    settings = make_settings(Settings)
    client = make_client(settings)
    database = client[settings.database_name]
    await ensure_indexes(database, repo.INDEXES)
    try:
        yield database
    finally:
        await client.close()


NOW = datetime(2025, 3, 3, 14, 0, tzinfo=UTC)


@pytest.mark.timeout(1800)  # 100,000 documents with every queue index on the embedded database: minutes
async def test_staff_queues_use_their_indexes_at_100k(db):
    rnd = random.Random(311)
    now = NOW
    docs = []
    for i in range(N):
        status = rnd.choice(STATUSES)
        open_ = status not in ("closed", "declined")
        due = now + timedelta(hours=rnd.randint(-200, 400)) if open_ else None
        docs.append({
            "_id": f"r{i:06d}", "id": f"r{i:06d}", "version": 1, "status": status, "title": f"Question {i}",
            "topic": rnd.choice(TOPICS), "urgency": "routine", "city_id": f"city-{i % 300}",
            "city_name": f"City {i % 300}", "us_state": ["MI", "OH", "IN", "PA", "NY"][i % 5],
            "expert_id": f"exp-{i % 40}" if status not in ("submitted", "triaged") else None,
            "submitted_at": now - timedelta(minutes=i), "next_due_at": due,
            "next_at_risk_at": due - timedelta(hours=6) if due else None, "next_breach_check_at": due,
            "follow_up_pending_at": now - timedelta(days=rnd.randint(-90, 90)) if status == "closed" else None,
            "paused": status == "awaiting_information",
        })
    coll = db[repo.REQUESTS]
    for start in range(0, N, 5_000):
        await coll.insert_many(docs[start:start + 5_000], ordered=False)
    assert await coll.estimated_document_count() == N

    queries = {
        "new": (repo.ListQuery(queue="new"), repo.IX_STATUS),
        "new+topic": (repo.ListQuery(queue="new", topic="housing"), repo.IX_STATUS),
        "awaiting_information": (repo.ListQuery(queue="awaiting_information"), repo.IX_STATUS),
        "in_review+state": (repo.ListQuery(queue="in_review", state="OH"), repo.IX_STATUS),
        "by_expert": (repo.ListQuery(queue="by_expert", expert_id="exp-7"), repo.IX_EXPERT),
        "due_soon": (repo.ListQuery(queue="due_soon"), repo.IX_RISK),
        "overdue": (repo.ListQuery(queue="overdue"), repo.IX_DUE),
        "overdue+topic+city": (repo.ListQuery(queue="overdue", topic="health", city_id="city-7"), repo.IX_DUE),
        "follow_up_due": (repo.ListQuery(queue="follow_up_due"), repo.IX_FOLLOW_UP),
        "city (an official's list)": (repo.ListQuery(city_id="city-12"), repo.IX_CITY),
        "status filter": (repo.ListQuery(statuses=("memo_drafted", "assigned")), repo.IX_STATUS),
        "topic filter": (repo.ListQuery(topic="land_use"), repo.IX_TOPIC),
        "state filter": (repo.ListQuery(state="PA"), repo.IX_STATE),
        "everything, newest first": (repo.ListQuery(), repo.IX_SUBMITTED),
    }
    for name, (query, index) in queries.items():
        explained = await repo.explain(db, query, now)
        planner = explained["queryPlanner"]["winningPlan"]
        kinds = [s.get("stage") for s in stages(planner)]
        assert "COLLSCAN" not in kinds, (name, kinds)
        scans = [s for s in stages(planner) if s.get("stage") == "IXSCAN"]
        assert scans and scans[0]["indexName"] == index, (name, scans)

    # and the pages come back from those plans
    items, cursor = await repo.list_requests(db, repo.ListQuery(queue="overdue", limit=50), now)
    assert len(items) == 50 and cursor
    assert all(d["next_due_at"] <= now for d in items)
    more, _ = await repo.list_requests(db, repo.ListQuery(queue="overdue", limit=50, cursor=cursor), now)
    assert more[0]["next_due_at"] >= items[-1]["next_due_at"] and not {d["_id"] for d in more} & {
        d["_id"] for d in items}
    # the breach sweep's lookup is index-backed too
    ids = await repo.due_for_breach_check(db, now, 10)
    assert len(ids) == 10


@pytest.mark.parametrize("queue", ["new", "overdue"])
async def test_keyset_pages_do_not_repeat_or_skip(db, queue):
    now = NOW
    docs = [{"_id": f"r{i:03d}", "status": "submitted", "submitted_at": now - timedelta(minutes=i // 2),
             "next_due_at": now - timedelta(minutes=i // 3), "title": "t", "topic": "housing",
             "urgency": "routine", "city_id": "c", "version": 1} for i in range(95)]
    await db[repo.REQUESTS].insert_many(docs)
    seen, cursor = [], None
    while True:
        items, cursor = await repo.list_requests(db, repo.ListQuery(queue=queue, limit=10, cursor=cursor), now)
        seen += [d["_id"] for d in items]
        if not cursor:
            break
    assert sorted(seen) == sorted(d["_id"] for d in docs) and len(seen) == len(set(seen))
