"""The last seat cannot be overbooked: concurrent registrations (at least 50 for 1 seat), and
concurrent cancellations and hold expiries that promote from the waitlist, through two service
instances on the same database (two processes' worth of stores, so each instance's group commit
cannot serialise the other's commands) over real HTTP."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter

from nrn_kit.testing import TokenIssuer
from peer.testing import convening_body

from .conftest import FakeClock, running_service

N = 60


@contextlib.asynccontextmanager
async def two_instances(make_settings, test_id):  # noqa: ANN001, ANN201
    clock, issuer = FakeClock(), TokenIssuer()
    db = f"t{test_id}_peer_shared"
    async with running_service(make_settings, database_name=db, clock=clock, issuer=issuer) as a:
        async with running_service(make_settings, database_name=db, clock=clock, issuer=issuer,
                                   consumers_enabled=False) as b:
            try:
                yield a, b
            finally:
                await a.app.state.runtime.client.drop_database(db)


async def _register_all(a, b, cid: str, ids: list[str]) -> list[dict]:  # noqa: ANN001
    async def one(i: int, oid: str) -> dict:
        svc = (a, b)[i % 2]
        r = await svc.http.post(f"/convenings/{cid}/registrations", json={},
                                headers=svc.official(oid, f"city-{oid}"))
        assert r.status_code == 201, r.text
        return r.json()

    return await asyncio.gather(*(one(i, oid) for i, oid in enumerate(ids)))


async def _invariants(svc, cid: str, capacity: int) -> Counter:  # noqa: ANN001
    regs = await svc.db.registrations.find({"convening_id": cid}).to_list()
    counts = Counter(r["status"] for r in regs)
    doc = await svc.db.convenings.find_one({"_id": cid})
    held = counts["confirmed"] + counts["offered"]
    assert held <= capacity, counts
    assert doc["seats_taken"] == held
    seqs = sorted(r["waitlist_seq"] for r in regs if r["status"] == "waitlisted")
    assert len(seqs) == len(set(seqs))  # every place in line is someone's alone
    return counts


async def test_sixty_registrants_for_one_seat_never_overbook(make_settings, test_id) -> None:  # noqa: ANN001
    async with two_instances(make_settings, test_id) as (a, b):
        c = await a.schedule(convening_body(a.clock.now, capacity=1))
        results = await _register_all(a, b, c["id"], [f"o{i:02d}" for i in range(N)])
        assert Counter(r["status"] for r in results) == {"confirmed": 1, "waitlisted": N - 1}
        assert sorted(r["position"] for r in results if r["status"] == "waitlisted") == list(range(1, N))
        assert await _invariants(a, c["id"], 1) == {"confirmed": 1, "waitlisted": N - 1}
        # the events say the same: one confirmation, N-1 waitlisted at distinct positions
        assert len(await a.outbox("registration_confirmed")) == 1
        positions = [e["position"] for e in await a.outbox("registration_waitlisted")]
        assert sorted(positions) == list(range(1, N))


async def test_a_cancellation_amid_sixty_newcomers_offers_the_seat_to_the_first_in_line(make_settings,
                                                                                      test_id) -> None:  # noqa: ANN001
    async with two_instances(make_settings, test_id) as (a, b):
        c = await a.schedule(convening_body(a.clock.now, capacity=1))
        early = await _register_all(a, b, c["id"], [f"e{i:02d}" for i in range(5)])
        confirmed = next(r for r in early if r["status"] == "confirmed")
        head = min((r for r in early if r["status"] == "waitlisted"), key=lambda r: r["position"])

        async def cancel() -> None:
            r = await b.http.post(f"/registrations/{confirmed['id']}/cancel",
                                  headers=b.official(*_who(early, confirmed)))
            assert r.status_code == 200, r.text

        late, _ = await asyncio.gather(_register_all(a, b, c["id"], [f"n{i:02d}" for i in range(N)]), cancel())
        assert all(r["status"] == "waitlisted" for r in late)  # nobody jumped the line
        counts = await _invariants(a, c["id"], 1)
        assert counts == {"offered": 1, "cancelled": 1, "waitlisted": 3 + N}
        offered = await a.db.registrations.find_one({"status": "offered"})
        assert offered["_id"] == head["id"]


async def test_concurrent_cancellations_and_sweeps_promote_exactly_in_order(make_settings, test_id) -> None:  # noqa: ANN001
    async with two_instances(make_settings, test_id) as (a, b):
        c = await a.schedule(convening_body(a.clock.now, capacity=3))
        regs = await _register_all(a, b, c["id"], [f"r{i:02d}" for i in range(N)])
        confirmed = [r for r in regs if r["status"] == "confirmed"]
        assert len(confirmed) == 3
        # all three cancel at once, from both instances
        await asyncio.gather(*((a, b)[i % 2].http.post(f"/registrations/{r['id']}/cancel",
                                                       headers=(a, b)[i % 2].official(*_who(regs, r)))
                               for i, r in enumerate(confirmed)))
        counts = await _invariants(a, c["id"], 3)
        assert counts["offered"] == 3
        in_line = sorted((r for r in regs if r["status"] == "waitlisted"), key=lambda r: r["position"])
        offered = {d["_id"] for d in await a.db.registrations.find({"status": "offered"}).to_list()}
        assert offered == {r["id"] for r in in_line[:3]}
        # the holds lapse; ten sweeps race on both instances: each offer passes on exactly once
        a.clock.advance(hours=48)
        results = await asyncio.gather(*((a, b)[i % 2].http.post("/admin/sweep", headers=a.staff())
                                         for i in range(10)))
        assert sum(r.json()["expired"] for r in results) == 3
        counts = await _invariants(a, c["id"], 3)
        assert counts["offered"] == 3 and counts["cancelled"] == 6
        offered = {d["_id"] for d in await a.db.registrations.find({"status": "offered"}).to_list()}
        assert offered == {r["id"] for r in in_line[3:6]}
        expired = [e for e in await a.outbox("registration_cancelled") if e["reason"] == "hold_expired"]
        assert len(expired) == 3


def _who(regs: list[dict], reg: dict) -> tuple[str, str]:
    # registrant ids are "o01" and the like; their city is "city-<id>"
    del regs
    account = reg["city_id"].removeprefix("city-")
    return account, reg["city_id"]
