"""Idempotency-Key on a kit service, real database: waits, take-overs after a lease, crashes, failures."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import APIRouter, Request

from nrn_kit.app import ServiceSpec, create_app
from nrn_kit.idempotency import COLLECTION, IDEMPOTENT
from nrn_kit.serving import serve_app


@pytest.fixture
async def kit_app(make_settings):
    """A service with one command that counts its executions in the database; a gate holds it mid-way."""
    router = APIRouter(dependencies=[IDEMPOTENT])
    gates: dict[str, asyncio.Event] = {}
    entered: dict[str, asyncio.Event] = {}

    @router.post("/things/{name}", status_code=201)
    async def make_thing(name: str, request: Request, body: dict) -> dict:
        runtime = request.app.state.runtime
        if name in gates:
            entered[name].set()
            await gates[name].wait()
        if body.get("explode"):
            raise RuntimeError("boom before the commit")

        async def fn(tx):  # noqa: ANN001, ANN202
            await tx.db.things.insert_one({"name": name, "n": body.get("n")}, session=tx.session)
            return await tx.db.things.count_documents({"name": name}, session=tx.session)

        count = await runtime.store.transaction(fn)
        return {"name": name, "count": count}

    settings = make_settings(service_name="idemtest", idempotency_wait_seconds=30)
    app = create_app(ServiceSpec(settings=settings, title="idempotency test", routers=[router]))
    async with serve_app(app) as url, httpx.AsyncClient(base_url=url, timeout=60) as http:
        app.state.gates, app.state.entered, app.state.http = gates, entered, http
        yield app
        await app.state.runtime.client.drop_database(settings.database_name)


def hold(app, name: str) -> asyncio.Event:  # noqa: ANN001
    app.state.gates[name] = asyncio.Event()
    app.state.entered[name] = asyncio.Event()
    return app.state.gates[name]


async def things(app, name: str) -> int:  # noqa: ANN001
    return await app.state.runtime.db.things.count_documents({"name": name})


async def test_a_retry_while_the_first_runs_waits_for_its_answer(kit_app):
    gate, key = hold(kit_app, "a"), str(uuid.uuid4())
    first = asyncio.create_task(kit_app.state.http.post("/things/a", json={"n": 1}, headers={"Idempotency-Key": key}))
    await kit_app.state.entered["a"].wait()
    second = asyncio.create_task(kit_app.state.http.post("/things/a", json={"n": 1}, headers={"Idempotency-Key": key}))
    await asyncio.sleep(0.3)  # let the retry reach the reservation (it waits, whatever the delay)
    assert not second.done()
    gate.set()
    r1, r2 = await first, await second
    assert r1.status_code == r2.status_code == 201
    assert r1.json() == r2.json() == {"name": "a", "count": 1}
    assert r2.headers["idempotent-replayed"] == "true"
    assert await things(kit_app, "a") == 1


async def test_an_attempt_that_outlived_its_lease_cannot_commit_after_a_take_over(kit_app):
    gate, key = hold(kit_app, "b"), str(uuid.uuid4())
    first = asyncio.create_task(kit_app.state.http.post("/things/b", json={"n": 1}, headers={"Idempotency-Key": key}))
    await kit_app.state.entered["b"].wait()
    # The first attempt's lease runs out (as if its process hung): a retry takes the key over.
    db = kit_app.state.runtime.db
    await db[COLLECTION].update_one({}, {"$set": {"lease_until": datetime.now(UTC) - timedelta(seconds=1)}})
    del kit_app.state.gates["b"]  # the retry does not wait at the gate
    second = await kit_app.state.http.post("/things/b", json={"n": 1}, headers={"Idempotency-Key": key})
    assert second.status_code == 201 and second.json()["count"] == 1
    gate.set()
    late = await first
    assert late.status_code == 409  # its transaction saw the key taken over and rolled back
    assert await things(kit_app, "b") == 1
    replay = await kit_app.state.http.post("/things/b", json={"n": 1}, headers={"Idempotency-Key": key})
    assert replay.json() == second.json() and replay.headers["idempotent-replayed"] == "true"


async def test_a_failure_before_the_commit_frees_the_key(kit_app):
    key = str(uuid.uuid4())
    boom = await kit_app.state.http.post("/things/c", json={"explode": True}, headers={"Idempotency-Key": key})
    assert boom.status_code == 500
    assert await kit_app.state.runtime.db[COLLECTION].count_documents({}) == 0
    assert await things(kit_app, "c") == 0


async def test_a_crash_after_the_commit_is_told_not_repeated(kit_app):
    key = str(uuid.uuid4())
    done = await kit_app.state.http.post("/things/d", json={"n": 1}, headers={"Idempotency-Key": key})
    assert done.status_code == 201
    # As if the process died between the commit and storing the answer.
    db = kit_app.state.runtime.db
    await db[COLLECTION].update_one({}, {"$set": {"state": "in_progress",
                                                  "lease_until": datetime.now(UTC) - timedelta(seconds=1)}})
    again = await kit_app.state.http.post("/things/d", json={"n": 1}, headers={"Idempotency-Key": key})
    assert again.status_code == 409 and again.json()["type"].endswith("idempotency-outcome-unknown")
    assert await things(kit_app, "d") == 1


async def test_without_a_key_nothing_is_recorded_and_the_header_is_documented(kit_app):
    r = await kit_app.state.http.post("/things/e", json={"n": 1})
    assert r.status_code == 201
    assert await kit_app.state.runtime.db[COLLECTION].count_documents({}) == 0
    spec = (await kit_app.state.http.get("/openapi.json")).json()
    names = [p["name"] for p in spec["paths"]["/things/{name}"]["post"]["parameters"]]
    assert "Idempotency-Key" in names
