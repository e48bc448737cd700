"""Idempotency-Key on 311 commands, over real HTTP on the real database (nrn_kit.idempotency)."""

from __future__ import annotations

import asyncio
import uuid

QUESTION = {"title": "Can we use ARPA funds for broadband?", "question": "Is a municipal fiber build eligible?",
            "topic": "broadband"}


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


async def count_requests(svc) -> int:
    return await svc.db.requests.count_documents({})


async def test_a_retried_submit_gives_the_first_answer_and_makes_one_question(svc):
    await svc.seed()
    key = str(uuid.uuid4())
    first = await svc.http.post("/requests", json=QUESTION, headers=keyed(svc.official(), key))
    assert first.status_code == 201, first.text
    # The same request again, its JSON written differently (key order, spacing): the same request.
    again = await svc.http.post("/requests", content=b'{"topic": "broadband",  "question": "Is a municipal fiber '
                                b'build eligible?", "title": "Can we use ARPA funds for broadband?"}',
                                headers=keyed({**svc.official(), "Content-Type": "application/json"}, key))
    assert again.status_code == 201
    assert again.json() == first.json()
    for header in ("location", "etag", "content-type"):
        assert again.headers[header] == first.headers[header]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await count_requests(svc) == 1
    events = await svc.db.outbox.count_documents({"type": {"$regex": "question_submitted"}})
    assert events == 1


async def test_the_same_key_with_another_body_is_refused_and_acts_on_nothing(svc):
    await svc.seed()
    key = str(uuid.uuid4())
    assert (await svc.http.post("/requests", json=QUESTION, headers=keyed(svc.official(), key))).status_code == 201
    other = await svc.http.post("/requests", json={**QUESTION, "title": "Another question entirely"},
                                headers=keyed(svc.official(), key))
    assert other.status_code == 422
    assert other.headers["content-type"].startswith("application/problem+json")
    body = other.json()
    assert body["field"] == "Idempotency-Key" and body["type"].endswith("idempotency-key-reused")
    # The same key on another route is another request too.
    req_id = (await svc.http.get("/requests", headers=svc.official())).json()["items"][0]["id"]
    elsewhere = await svc.http.put(f"/requests/{req_id}/consent", json={"consent": "named", "version": 0},
                                   headers=keyed(svc.official(), key))
    assert elsewhere.status_code == 422
    assert await count_requests(svc) == 1


async def test_concurrent_retries_with_one_key_execute_once(svc):
    await svc.seed()
    key = str(uuid.uuid4())
    answers = await asyncio.gather(*(svc.http.post("/requests", json=QUESTION, headers=keyed(svc.official(), key))
                                     for _ in range(6)))
    assert {r.status_code for r in answers} == {201}
    assert len({r.json()["id"] for r in answers}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in answers) == 5
    assert await count_requests(svc) == 1


async def test_keys_belong_to_their_caller(svc):
    await svc.seed()
    key = str(uuid.uuid4())
    mine = await svc.http.post("/requests", json=QUESTION, headers=keyed(svc.official("off-1"), key))
    theirs = await svc.http.post("/requests", json=QUESTION, headers=keyed(svc.official("off-2"), key))
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert "idempotent-replayed" not in theirs.headers
    assert await count_requests(svc) == 2


async def test_a_refusal_that_changed_nothing_frees_the_key(svc):
    await svc.seed()
    key = str(uuid.uuid4())
    req = (await svc.http.post("/requests", json=QUESTION, headers=svc.official())).json()
    # A stale version: refused, nothing changed, so the key is not spent on it.
    stale = await svc.http.put(f"/requests/{req['id']}/consent", json={"consent": "named", "version": 99},
                               headers=keyed(svc.official(), key))
    assert stale.status_code == 409
    fixed = await svc.http.put(f"/requests/{req['id']}/consent", json={"consent": "named", "version": 99},
                               headers=keyed(svc.official(), key))
    assert fixed.status_code == 409 and "idempotent-replayed" not in fixed.headers
    # A command that changed something keeps its answer, even for a later identical retry.
    done = await svc.http.put(f"/requests/{req['id']}/consent", json={"consent": "named", "version": req["version"]},
                              headers=keyed(svc.official(), "k2-" + key))
    assert done.status_code == 200
    replay = await svc.http.put(f"/requests/{req['id']}/consent", json={"consent": "named", "version": req["version"]},
                                headers=keyed(svc.official(), "k2-" + key))
    assert replay.status_code == 200 and replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["version"] == done.json()["version"]


async def test_a_malformed_key_is_named(svc):
    await svc.seed()
    r = await svc.http.post("/requests", json=QUESTION, headers=keyed(svc.official(), "x" * 300))
    assert r.status_code == 422 and r.json()["field"] == "Idempotency-Key"
    assert await count_requests(svc) == 0


async def test_answers_are_kept_a_day_under_a_ttl_index(svc):
    await svc.seed()
    key = str(uuid.uuid4())
    await svc.http.post("/requests", json=QUESTION, headers=keyed(svc.official(), key))
    indexes = await svc.db.idempotency.index_information()
    assert indexes["expires_ttl"]["expireAfterSeconds"] == 0
    record = await svc.db.idempotency.find_one({})
    assert record["state"] == "done" and record["status"] == 201
    assert 86_000 < (record["expires_at"] - record["created_at"]).total_seconds() <= 86_400
    assert record["executed_at"] is not None  # marked in the command's own transaction
