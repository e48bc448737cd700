"""The waitlist query at 10,000 applications is index-backed: asserted on the query plan, never on a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engagements.adapters import mongo as repo
from engagements.config import Settings
from nrn_kit.mongo import ensure_indexes, make_client, plan_stages as stages

N = 10_000


@pytest.fixture
async def db(make_settings):
    """Just the database with the service's indexes: no relay or consumers competing for the cores.
    Not dropped afterwards: the embedded database deletes documents one index entry at a time
    (minutes for 10,000), the name is unique to the test, and the session's data folder is removed."""
    settings = make_settings(Settings)
    client = make_client(settings)
    database = client[settings.database_name]
    await ensure_indexes(database, repo.INDEXES)
    try:
        yield database
    finally:
        await client.close()


def applications(n: int) -> list[dict]:
    t = datetime(2025, 1, 1, tzinfo=UTC)
    statuses = ("waitlisted", "declined", "scored", "accepted", "in_review")
    return [{"_id": f"app-{i:05d}", "round_id": f"round-{i % 4}", "status": statuses[i % len(statuses)],
             "score": 100 + (i * 37) % 401, "submitted_at": t + timedelta(minutes=i), "city_id": f"c{i % 300}",
             "created_at": t + timedelta(minutes=i), "partner_city_ids": [], "reviewer_ids": [f"rev-{i % 7}"],
             "conflicted_ids": [], "attachments": []} for i in range(n)]


@pytest.mark.timeout(1200)
async def test_the_waitlist_query_is_index_backed_at_10000_applications(db):
    docs = applications(N)
    for start in range(0, N, 2_000):
        await db[repo.APPLICATIONS].insert_many(docs[start:start + 2_000], ordered=False)
    plan = await repo.explain_waitlist(db, "round-1", limit=5)
    nodes = stages(plan["queryPlanner"]["winningPlan"])
    kinds = [n.get("stage") for n in nodes]
    assert "COLLSCAN" not in kinds, kinds
    assert any(n.get("stage") == "IXSCAN" and n.get("indexName") == repo.IX_WAITLIST for n in nodes), nodes
    found = await repo.waitlist(db, "round-1", limit=5)
    expected = sorted((d for d in docs if d["round_id"] == "round-1" and d["status"] == "waitlisted"),
                      key=lambda d: (-d["score"], d["submitted_at"], d["_id"]))
    assert [d["_id"] for d in found] == [d["_id"] for d in expected[:5]]
    third = next(d for d in docs if d["_id"] == expected[2]["_id"])
    assert await repo.waitlist_position(db, "round-1", third["score"], third["submitted_at"], third["_id"]) == 3
