"""The hold sweep (by itself, every HOLD_SWEEP_INTERVAL_SECONDS, whether or not anyone uses the system)
and the waitlist's head (every promotion) are index-backed on the real (embedded) database without
``hint``: a hinted find there walks the whole index and reads every document. Checked on the plan
(``explain``) over registrations the queries must skip, and on what the queries return as run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nrn_kit.mongo import plan_index
from nrn_kit.testing import indexed_database
from peer.adapters import mongo as repo
from peer.config import Settings

NOW = datetime(2026, 3, 3, 14, 0, tzinfo=UTC)
STATUSES = ("confirmed", "waitlisted", "offered", "cancelled")


@pytest.fixture
async def db(make_settings):  # noqa: ANN001
    """Just the database with peer's indexes: no sweep taking the registrations inserted here."""
    async with indexed_database(make_settings(Settings), repo.INDEXES) as database:
        yield database


async def test_hold_sweep_and_waitlist_use_their_indexes(db) -> None:  # noqa: ANN001
    docs = []
    for i in range(2_000):
        status = STATUSES[i % 4]
        docs.append({"_id": f"g{i:04d}", "convening_id": f"c{i % 50}", "account_id": f"a{i}", "city_id": f"city{i % 9}",
                     "name": f"Person {i}", "registered_at": NOW - timedelta(days=3), "status": status, "waitlist_seq": (2_000 - i) if status == "waitlisted" else None,
                     # half the offered holds have lapsed; every other status carries an older time, to be skipped
                     "hold_until": NOW + timedelta(minutes=(i % 8) - 5) if status == "offered"
                     else NOW - timedelta(days=1)})
    await db[repo.REGISTRATIONS].insert_many(docs)

    plans = await repo.explain_queries(db, NOW, "c1")

    assert set(plans) == set(repo.PLANNED)
    chosen = {name: plan_index(explained) for name, explained in plans.items()}
    assert chosen == {name: index for name, (_, index) in repo.PLANNED.items()}, plans

    lapsed = {(d["convening_id"], d["_id"]) for d in docs if d["status"] == "offered" and d["hold_until"] <= NOW}
    assert len(lapsed) == 250
    assert set(await repo.lapsed_holds(db, NOW, 1_000)) == lapsed
    assert len(await repo.lapsed_holds(db, NOW, 100)) == 100
    waiting = sorted((d for d in docs if d["convening_id"] == "c1" and d["status"] == "waitlisted"),
                     key=lambda d: d["waitlist_seq"])
    assert [r.id for r in await repo.waitlist_head(db, "c1", None, n=3)] == [d["_id"] for d in waiting[:3]]
