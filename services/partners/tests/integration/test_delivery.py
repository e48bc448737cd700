"""Signed deliveries verified with standardwebhooks, the event's body, order, redeliveries, the test event."""

from __future__ import annotations

import json

from nrn_contracts.events import requests311 as r311
from nrn_contracts.testing import example
from standardwebhooks.webhooks import Webhook

from nrn_kit.testing import eventually
from partners.domain.endpoints import webhook_id


def submitted(request_id: str, **kw) -> r311.QuestionSubmitted:  # noqa: ANN003
    return example(r311.QuestionSubmitted, request_id=request_id, **kw)


async def test_a_delivery_is_signed_and_carries_the_cloudevent(svc) -> None:  # noqa: ANN001
    endpoint = await svc.endpoint(event_types=["org.nationalresourcenetwork.requests311.*"])
    assert endpoint["secret"].startswith("whsec_")
    [event_id] = await svc.publish(submitted("r-1", state="MI", city_id="mi-flint"))
    await eventually(lambda: _count(svc.rx.at("/hook"), 1))
    [got] = svc.rx.at("/hook")
    body = Webhook(endpoint["secret"]).verify(got.body, got.headers)  # raises unless signed right
    assert body["id"] == event_id and body["type"] == r311.QuestionSubmitted.type
    assert body["specversion"] == "1.0" and body["data"]["request_id"] == "r-1"
    assert got.headers["content-type"].startswith("application/cloudevents+json")
    assert got.headers["webhook-id"].startswith("msg_")
    # the standard agreement withholds officials' personal data and own words
    for personal in ("official_id", "question", "context", "preferred_call_times"):
        assert personal not in body["data"]
    assert body["data"]["state"] == "MI" and "traceparent" not in body
    await svc.settled(endpoint["id"], 1)
    [delivery] = await svc.deliveries(endpoint["id"])
    assert delivery["state"] == "succeeded" and delivery["id"] == got.headers["webhook-id"]
    detail = await svc.delivery(delivery["id"])
    [attempt] = detail["attempt_log"]
    assert attempt["status"] == 200 and attempt["outcome"] == "succeeded" and attempt["latency_ms"] >= 0
    assert attempt["response_excerpt"] == "ok"


async def test_patterns_and_filters_choose_what_an_endpoint_receives(svc) -> None:  # noqa: ANN001
    await svc.endpoint("/mi-housing", event_types=["org.nationalresourcenetwork.requests311.*"], states=["MI"],
                       topics=["housing"])
    await svc.endpoint("/library", event_types=["org.nationalresourcenetwork.library.*"])
    await svc.publish(submitted("r-mi-h", state="MI", topic="housing"), submitted("r-oh", state="OH", topic="housing"),
                      submitted("r-mi-f", state="MI", topic="finance_budgets"))
    # a later event of the Michigan housing question carries neither state nor topic: learned from the first
    await svc.publish(example(r311.ExpertAssigned, request_id="r-mi-h"), example(r311.ExpertAssigned, request_id="r-oh"))
    await eventually(lambda: _count(svc.rx.at("/mi-housing"), 2))
    subjects = [json.loads(r.body)["data"]["request_id"] for r in svc.rx.at("/mi-housing")]
    assert subjects == ["r-mi-h", "r-mi-h"]
    assert svc.rx.at("/library") == []


async def test_a_redelivered_event_is_delivered_once_per_webhook_id(svc) -> None:  # noqa: ANN001
    endpoint = await svc.endpoint()
    event = submitted("r-dup")
    [event_id] = await svc.publish(event)
    await svc.settled(endpoint["id"], 1)
    # the same event again (a producer retry, a redrive from the dead-letter topic), and once more after the
    # consumer's inbox forgot it
    await svc.publish(event, ids=[event_id])
    await svc.db["inbox"].delete_many({})
    await svc.publish(event, ids=[event_id])
    [marker] = await svc.publish(submitted("r-after"))
    await eventually(lambda: _has(svc.rx.at("/hook"), marker))
    ids = [r.webhook_id for r in svc.rx.at("/hook")]
    assert len(ids) == len(set(ids)) == 2


async def test_one_aggregates_events_arrive_in_order(svc) -> None:  # noqa: ANN001
    from partners.testing import Reply

    endpoint = await svc.endpoint()
    # the first event fails twice before it succeeds: the later ones of the same request wait for it
    svc.rx.respond("/hook", Reply(500), Reply(500))
    events = [submitted("r-ord"), example(r311.QuestionTriaged, request_id="r-ord"),
              example(r311.ExpertAssigned, request_id="r-ord"), example(r311.MemoDrafted, request_id="r-ord")]
    ids = await svc.publish(*events)
    first = webhook_id(endpoint["id"], ids[0])
    await _attempts(svc, first, 1)
    svc.clock.advance(seconds=10)  # past the 5 s retry (with jitter)
    await _attempts(svc, first, 2)
    svc.clock.advance(seconds=400)  # past the 5 min one
    await _attempts(svc, first, 3)
    await svc.settled(endpoint["id"], 4)
    delivered = [json.loads(r.body)["id"] for r in svc.rx.at("/hook") if r.body]
    firsts = list(dict.fromkeys(delivered))
    assert firsts == ids


async def test_the_test_event_reaches_the_endpoint_and_the_log(svc) -> None:  # noqa: ANN001
    endpoint = await svc.endpoint()
    r = await svc.http.post(f"/partners/ptn_hud/endpoints/{endpoint['id']}/test", headers=svc.admin())
    assert r.status_code == 202, r.text
    await eventually(lambda: _count(svc.rx.at("/hook"), 1))
    body = Webhook(endpoint["secret"]).verify(svc.rx.at("/hook")[0].body, svc.rx.at("/hook")[0].headers)
    assert body["type"] == "org.nationalresourcenetwork.partners.webhook_test.v1"
    await svc.settled(endpoint["id"], 1)
    [delivery] = await svc.deliveries(endpoint["id"])
    assert delivery["test"] and delivery["label"] == "Test event"


async def _attempts(svc, delivery_id: str, n: int) -> None:  # noqa: ANN001
    from partners.adapters import mongo as repo

    async def check():  # noqa: ANN202
        doc = await svc.db[repo.DELIVERIES].find_one({"_id": delivery_id})
        return doc and doc.get("attempts", 0) >= n and doc["state"] != "sending"

    await eventually(check)


async def _has(items, event_id):  # noqa: ANN001, ANN202
    return any(json.loads(r.body)["id"] == event_id for r in items)


async def _count(items, n):  # noqa: ANN001, ANN202
    return len(items) >= n


async def _settled_or_waiting(svc, endpoint_id):  # noqa: ANN001, ANN202
    from partners.adapters import mongo as repo

    return await svc.db[repo.DELIVERIES].count_documents({"endpoint_id": endpoint_id, "state": "sending"}) == 0
