"""What a failing endpoint does: retries on the schedule (hand-cranked clock), 410, Retry-After, redirects,
huge and slow answers, disabling and what partners can do then (replay, enable), secret rotation."""

from __future__ import annotations

import json
from datetime import timedelta

from nrn_contracts.events import requests311 as r311
from nrn_contracts.testing import example
from standardwebhooks.webhooks import Webhook

from nrn_kit.testing import eventually
from partners.adapters import mongo as repo
from partners.config import DEFAULT_RETRY_SCHEDULE
from partners.domain.endpoints import webhook_id
from partners.testing import Reply


async def _doc(svc, delivery_id: str, *, attempts: int) -> dict:  # noqa: ANN001
    async def check():  # noqa: ANN202
        doc = await svc.db[repo.DELIVERIES].find_one({"_id": delivery_id})
        return doc if doc and doc.get("attempts", 0) >= attempts and doc["state"] != "sending" else None
    return await eventually(check)


async def test_500_is_retried_on_the_schedule_then_the_endpoint_is_disabled_and_that_is_published(svc) -> None:  # noqa: ANN001
    endpoint = await svc.endpoint(event_types=["org.nationalresourcenetwork.requests311.*"])
    svc.rx.respond("/hook", then=Reply(500, body=b"database down"))
    [event_id] = await svc.publish(example(r311.QuestionSubmitted, request_id="r-500"))
    wid = webhook_id(endpoint["id"], event_id)
    doc = await _doc(svc, wid, attempts=1)
    for n, delay in enumerate(DEFAULT_RETRY_SCHEDULE[1:], start=1):
        waited = (doc["next_attempt_at"] - svc.clock()).total_seconds()
        assert delay * 0.9 - 2 <= waited <= delay * 1.1 + 1, (n, delay, waited)  # the schedule, with ±10 % jitter
        svc.clock.advance(seconds=waited * 0.5)
        await svc.dispatcher.round()
        assert len(svc.rx.at("/hook")) == n  # not before its time
        svc.clock.advance(seconds=waited * 0.5 + 1)
        doc = await _doc(svc, wid, attempts=n + 1)
    assert doc["state"] == "failed" and len(svc.rx.at("/hook")) == len(DEFAULT_RETRY_SCHEDULE)
    assert len({r.webhook_id for r in svc.rx.at("/hook")}) == 1  # the same webhook-id on every retry
    r = await svc.http.get(f"/partners/ptn_hud/endpoints/{endpoint['id']}", headers=svc.admin())
    assert r.json()["status"] == "disabled" and r.json()["disabled_reason"] == "retries_exhausted"
    detail = await svc.delivery(wid)
    assert [a["status"] for a in detail["attempt_log"]] == [500] * 10
    assert detail["attempt_log"][0]["response_excerpt"] == "database down"
    outbox = [d async for d in svc.db["outbox"].find({"type": {"$regex": "webhook_endpoint_disabled"}})]
    assert len(outbox) == 1
    # a new event is not delivered while disabled; enabling and replaying since then sends both
    [later] = await svc.publish(example(r311.QuestionSubmitted, request_id="r-later"))
    await eventually(lambda: svc.db["events"].find_one({"_id": later}))
    svc.rx.respond("/hook", then=Reply(204))
    r = await svc.http.patch(f"/partners/ptn_hud/endpoints/{endpoint['id']}", json={"enabled": True},
                             headers=svc.admin())
    assert r.status_code == 200 and r.json()["status"] == "enabled"
    since = (svc.clock() - timedelta(days=3)).isoformat()
    r = await svc.http.post(f"/partners/ptn_hud/endpoints/{endpoint['id']}/replay", json={"since": since},
                            headers=svc.admin())
    assert r.status_code == 202 and r.json()["queued"] == 2
    await svc.settled(endpoint["id"], 2)


async def test_410_disables_at_once(svc) -> None:  # noqa: ANN001
    endpoint = await svc.endpoint()
    svc.rx.respond("/hook", Reply(410))
    [event_id] = await svc.publish(example(r311.QuestionSubmitted, request_id="r-410"))
    doc = await _doc(svc, webhook_id(endpoint["id"], event_id), attempts=1)
    assert doc["state"] == "failed"
    saved = await svc.db[repo.ENDPOINTS].find_one({"_id": endpoint["id"]})
    assert saved["status"] == "disabled" and saved["disabled_reason"] == "gone"


async def test_retry_after_is_honoured(svc) -> None:  # noqa: ANN001
    endpoint = await svc.endpoint()
    svc.rx.respond("/hook", Reply(429, headers={"Retry-After": "120"}), Reply(503, headers={"Retry-After": "3600"}))
    [event_id] = await svc.publish(example(r311.QuestionSubmitted, request_id="r-429"))
    wid = webhook_id(endpoint["id"], event_id)
    doc = await _doc(svc, wid, attempts=1)
    waited = (doc["next_attempt_at"] - svc.clock()).total_seconds()
    assert 115 <= waited <= 121  # not the schedule's 5 s
    svc.clock.advance(seconds=60)
    await svc.dispatcher.round()
    assert len(svc.rx.at("/hook")) == 1
    svc.clock.advance(seconds=61)
    doc = await _doc(svc, wid, attempts=2)
    assert 3590 <= (doc["next_attempt_at"] - svc.clock()).total_seconds() <= 3601
    svc.clock.advance(seconds=3601)
    await _doc(svc, wid, attempts=3)
    assert (await svc.delivery(wid))["state"] == "succeeded"


async def test_redirects_garbage_and_huge_answers_are_failures_read_within_bounds(svc) -> None:  # noqa: ANN001
    endpoint = await svc.endpoint()
    svc.rx.respond("/hook", Reply(302, headers={"Location": svc.rx.url("/elsewhere")}),
                   Reply(200, body=b"\x00\x01 garbage \x1b[31m" + b"x" * (1024 * 1024)))
    [event_id] = await svc.publish(example(r311.QuestionSubmitted, request_id="r-302"))
    wid = webhook_id(endpoint["id"], event_id)
    doc = await _doc(svc, wid, attempts=1)
    assert doc["state"] == "pending" and doc["last_status"] == 302
    assert svc.rx.at("/elsewhere") == []  # never followed
    svc.clock.advance(seconds=10)
    await _doc(svc, wid, attempts=2)
    detail = await svc.delivery(wid)
    first, second = detail["attempt_log"]
    assert "redirects are not followed" in first["error"]
    assert second["status"] == 200 and len(second["response_excerpt"]) <= 1000
    assert "\x1b" not in second["response_excerpt"] and "\x00" not in second["response_excerpt"]


async def test_a_hanging_endpoint_times_out_and_does_not_hold_another(svc) -> None:  # noqa: ANN001
    hanging = await svc.endpoint("/hang")
    healthy = await svc.endpoint("/fine")
    svc.rx.respond("/hang", then=Reply(hang=True))
    await svc.publish(*[example(r311.QuestionSubmitted, request_id=f"r-h{i}") for i in range(6)])
    await svc.settled(healthy["id"], 6)  # while /hang holds every request it was sent
    doc = await _doc(svc, webhook_id(hanging["id"], (await svc.db["events"].find_one({"subject": "r-h0"}))["_id"]),
                     attempts=1)
    assert doc["last_status"] is None and "within" in doc["last_error"]


async def test_secret_rotation_sends_both_signatures_during_the_grace_period(svc) -> None:  # noqa: ANN001
    endpoint = await svc.endpoint()
    r = await svc.http.post(f"/partners/ptn_hud/endpoints/{endpoint['id']}/secret/rotate", json={"grace_hours": 24},
                            headers=svc.admin())
    assert r.status_code == 200, r.text
    new = r.json()["secret"]
    assert new != endpoint["secret"] and r.json()["signing_secrets"] == 2 and r.json()["previous_secret_until"]
    await svc.publish(example(r311.QuestionSubmitted, request_id="r-rot"))
    await eventually(lambda: _some(svc.rx.at("/hook")))
    got = svc.rx.at("/hook")[0]
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    Webhook(endpoint["secret"]).verify(got.body, got.headers)
    Webhook(new).verify(got.body, got.headers)
    # after the grace period only the new secret signs
    svc.clock.advance(hours=25)
    await svc.publish(example(r311.QuestionSubmitted, request_id="r-rot2"))
    await eventually(lambda: _some(svc.rx.at("/hook"), 2))
    later = svc.rx.at("/hook")[1]
    assert len(later.headers["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(later.body, later.headers)
    # the secret is never shown again
    r = await svc.http.get(f"/partners/ptn_hud/endpoints/{endpoint['id']}", headers=svc.admin())
    assert "secret" not in r.json() and new not in r.text


async def test_replay_one_delivery_sends_it_again_with_its_webhook_id(svc) -> None:  # noqa: ANN001
    endpoint = await svc.endpoint()
    [event_id] = await svc.publish(example(r311.QuestionSubmitted, request_id="r-replay"))
    wid = webhook_id(endpoint["id"], event_id)
    await svc.settled(endpoint["id"], 1)
    r = await svc.http.post(f"/partners/ptn_hud/deliveries/{wid}/replay", headers=svc.admin())
    assert r.status_code == 202 and r.json()["replays"] == 1
    await eventually(lambda: _some(svc.rx.at("/hook"), 2))
    assert [x.webhook_id for x in svc.rx.at("/hook")] == [wid, wid]
    assert json.loads(svc.rx.at("/hook")[1].body)["id"] == event_id


async def _some(items, n: int = 1):  # noqa: ANN001, ANN202
    return len(items) >= n
