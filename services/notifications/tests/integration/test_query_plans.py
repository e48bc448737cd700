"""The scheduler's and the sender's queries are index-backed on the real database (``explain``):
the daily digest of 10,000 people and the outbox of every message ever sent must not be scanned.

No query names its index (a hinted find on the embedded database walks the whole index and reads
every document); these check that the planner chooses the right index from the filter alone, on
collections holding documents the queries must skip."""

from __future__ import annotations

from datetime import timedelta

from notifications.adapters import mongo as repo


async def test_digest_and_sender_queries_use_their_indexes(svc) -> None:
    db, now = svc.db, svc.clock()
    await db[repo.PEOPLE].insert_many(
        [{"_id": f"p{i:03d}", "kind": "official", "status": "verified", "email": f"p{i}@city.example", "roles": [],
          "city_id": f"c{i % 7}", **({"digest_due_at": now - timedelta(minutes=i)} if i % 2 else {})}
         for i in range(300)])
    await db[repo.NOTICES].insert_many(
        [{"_id": f"e{j}:p{i:03d}", "recipient": f"p{i:03d}", "kind": "my_questions", "title": "t", "link": "/x",
          "created_at": now - timedelta(hours=j), "read": bool(j % 2), "digest": ("pending", "sent", None)[j]}
         for i in range(300) for j in range(3)])
    await db[repo.MAIL].insert_many(
        [{"_id": f"m{i}", "state": repo.MAIL_STATES[i % len(repo.MAIL_STATES)], "to": "x@city.example",
          "created_at": now, "next_attempt_at": now + timedelta(seconds=i - 500)} for i in range(1_000)])

    plans = await repo.explain_queries(db, now, "p041")

    assert set(plans) == set(repo.PLANNED)
    chosen = {name: repo.plan_index(explained) for name, explained in plans.items()}
    assert chosen == {name: index for name, (_, index) in repo.PLANNED.items()}, plans
    # and the queries as run find what the plans promise
    assert len(await db[repo.PEOPLE].find(repo.digests_due(now)).to_list()) == 150
    assert [d["_id"] for d in await db[repo.NOTICES].find(repo.digest_notices("p041")).to_list()] == ["e0:p041"]
    due = await db[repo.MAIL].find(repo.mail_due(repo.PENDING, now)).to_list()
    assert due and all(d["state"] == repo.PENDING and d["next_attempt_at"] <= now for d in due)
