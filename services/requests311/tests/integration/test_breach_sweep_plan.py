"""The breach sweep (every minute, by itself, whether or not anyone uses the system) is index-backed on
the real (embedded) database without ``hint``, and reads only what is due: most requests are closed
(``next_breach_check_at: null``, before every date in the index) or checked later."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nrn_kit.mongo import plan_index, plan_stages
from nrn_kit.testing import indexed_database
from requests311.adapters import mongo as repo
from requests311.config import Settings

NOW = datetime(2025, 3, 3, 14, 0, tzinfo=UTC)


@pytest.fixture
async def db(make_settings):  # noqa: ANN001
    """Just the database with the service's indexes: no sweep or consumers taking the requests inserted here."""
    async with indexed_database(make_settings(Settings), repo.INDEXES) as database:
        yield database


async def test_breach_sweep_uses_its_index_and_finds_exactly_the_due(db) -> None:  # noqa: ANN001
    docs = []
    for i in range(3_000):
        if i % 3 == 0:
            check = None  # closed, or nothing left to check
        elif i % 3 == 1:
            check = NOW + timedelta(minutes=i)  # later
        else:
            check = NOW - timedelta(minutes=i)  # due
        docs.append({"_id": f"r{i:04d}", "status": "closed" if check is None else "assigned",
                     **({} if i % 6 == 0 else {"next_breach_check_at": check})})  # some never had the field
    docs.append({"_id": "r-now", "status": "assigned", "next_breach_check_at": NOW})  # due at this very instant
    await db[repo.REQUESTS].insert_many(docs)

    explained = await repo.explain_breach_sweep(db, NOW, 200)
    assert plan_index(explained) == repo.IX_BREACH, explained
    assert "SORT" not in [s.get("stage") for s in plan_stages(explained["queryPlanner"]["winningPlan"])]

    due = {d["_id"] for d in docs if d.get("next_breach_check_at") is not None and d["next_breach_check_at"] <= NOW}
    assert len(due) == 1_001
    # bounded below: open below, the same plan reads every null key first (about 25 times slower at 3,000
    # requests here); the embedded database's executionStats count only the keys returned, so the bound
    # is what can be checked
    assert set(repo.breach_checks_due(NOW)["next_breach_check_at"]) == {"$gte", "$lte"}
    assert set(await repo.due_for_breach_check(db, NOW, 5_000)) == due
    batch = await repo.due_for_breach_check(db, NOW, 200)
    assert len(batch) == 200 and set(batch) <= due
