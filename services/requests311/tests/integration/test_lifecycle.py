"""From a question to a memo and a call, over HTTP on the real broker and database."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aiokafka import AIOKafkaConsumer
from nrn_contracts import decode

from requests311.testing import memo_body

QUESTION = {
    "title": "How do we fund lead service line replacement?",
    "question": "Which funding sources can a city our size combine to replace 8,000 lead service lines?",
    "context": "We were waitlisted for the state revolving fund.",
    "desired_outcome": "A financing plan for council.",
    "topic": "finance_budgets",
    "urgency": "soon",
    "preferred_call_times": ["Tuesday mornings"],
    "consent": "anonymous",
}


async def submit(svc, **overrides) -> dict:
    r = await svc.http.post("/requests", json={**QUESTION, **overrides}, headers=svc.official())
    assert r.status_code == 201, r.text
    return r.json()


async def test_the_whole_lifecycle(svc):
    await svc.seed()
    lead, pm = svc.staff("lead-1", "triage_lead"), svc.staff("pm-1", "program_manager")
    expert, reviewer = svc.staff("exp-1", "subject_matter_expert"), svc.staff("rev-1", "reviewer")
    official = svc.official()

    # similar answered questions: the library is not running here, so the step is skipped without error
    r = await svc.http.get("/requests/similar", params={"q": "lead service lines"}, headers=official)
    assert r.status_code == 200 and r.json()["skipped"] is True

    created = await submit(svc)
    rid, v = created["id"], created["version"]
    assert created["status"] == "submitted" and v == 1
    assert [s["step"] for s in created["service_levels"]] == ["acknowledge", "memo"]

    r = await svc.http.get("/requests", params={"queue": "new"}, headers=lead)
    assert [i["id"] for i in r.json()["items"]] == [rid]
    # the human reference, numbered per year at submission, is found as people type it (without the zeros)
    reference = created["reference"]
    year, number = reference.split("-")[1:]
    assert reference == f"NRN-{year}-{int(number):05d}" and r.json()["items"][0]["reference"] == reference
    r = await svc.http.get("/requests", params={"reference": f"nrn-{year}-{int(number)}"}, headers=lead)
    assert [i["id"] for i in r.json()["items"]] == [rid]

    r = await svc.http.post(f"/requests/{rid}/triage", json={"topic": "housing", "version": v}, headers=lead)
    assert r.status_code == 200 and r.json()["status"] == "triaged"
    v = r.json()["version"]

    r = await svc.http.get(f"/requests/{rid}/expert-suggestions", headers=lead)
    assert [s["expert_id"] for s in r.json()][0] == "exp-1" and r.json()[0]["matches_topic"]

    r = await svc.http.post(f"/requests/{rid}/assign", json={"expert_id": "exp-1"}, headers={
        **lead, "If-Match": f'"{v}"'})
    assert r.status_code == 200, r.text
    v = r.json()["version"]
    experts = (await svc.http.get("/experts", headers=lead)).json()
    assert {e["id"]: e["open_requests"] for e in experts} == {"exp-1": 1, "exp-2": 0}

    # a short first draft is flagged, not refused; the reviewer returns it
    svc.clock.advance(days=1)
    r = await svc.http.post(f"/requests/{rid}/memo/drafts", json={"body": memo_body(300), "version": v},
                            headers=expert)
    assert r.status_code == 201, r.text
    assert "too_short" in r.json()["memo_versions"][0]["flags"]
    v = r.json()["version"]
    for path, who, body in [("memo/submit", expert, {}), ("memo/return", reviewer, {"comments": ["Too short"]})]:
        r = await svc.http.post(f"/requests/{rid}/{path}", json={**body, "version": v}, headers=who)
        assert r.status_code == 200, r.text
        v = r.json()["version"]

    # the official never sees drafts or review comments
    r = await svc.http.get(f"/requests/{rid}", headers=official)
    assert r.status_code == 200 and r.json()["memo"] is None
    assert "Too short" not in r.text and "memo_versions" not in r.json()
    r = await svc.http.get(f"/requests/{rid}/memo", headers=official)
    assert r.status_code == 404
    r = await svc.http.get(f"/requests/{rid}/memo.pdf", params={"memo_version": 1}, headers=official)
    assert r.status_code == 403

    r = await svc.http.post(f"/requests/{rid}/memo/drafts", json={"body": memo_body(1_100), "version": v},
                            headers=expert)
    v = r.json()["version"]
    for path, who in [("memo/submit", expert), ("memo/approve", reviewer), ("memo/deliver", pm)]:
        r = await svc.http.post(f"/requests/{rid}/{path}", json={"version": v}, headers=who)
        assert r.status_code == 200, (path, r.text)
        v = r.json()["version"]
    assert r.json()["status"] == "memo_delivered"

    r = await svc.http.get(f"/requests/{rid}", headers=official)
    view = r.json()
    assert view["memo"]["version"] == 2 and view["memo"]["word_count"] >= 1_000
    assert r.headers["ETag"] == f'"{v}"'
    html = await svc.http.get(f"/requests/{rid}/memo.html", headers=official)
    assert html.status_code == 200 and "<h2>Short answer</h2>" in html.text
    pdf = await svc.http.get(f"/requests/{rid}/memo.pdf", headers=official)
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")

    # the call: the expert offers slots, the official picks one, nobody shows, they rebook, it happens
    start = svc.clock.now + timedelta(days=2)
    slots = [{"starts_at": (start + timedelta(days=i)).isoformat(), "duration_minutes": 30} for i in range(3)]
    r = await svc.http.post(f"/requests/{rid}/call-slots", json={"slots": slots, "version": v}, headers=expert)
    assert r.status_code == 422 and r.json()["rule"] == "slot_outside_business_hours", r.text  # the third: a Saturday
    assert r.json()["field"] == "slots.2.starts_at" and "Saturday is a weekend day" in r.json()["detail"]
    r = await svc.http.post(f"/requests/{rid}/call-slots", json={
        "slots": slots, "version": v, "outside_business_hours_confirmed": True,
        "meeting": "Video: https://meet.example.org/nrn-flint"}, headers=expert)
    assert r.status_code == 200, r.text
    v = r.json()["version"]
    offered = (await svc.http.get(f"/requests/{rid}", headers=official)).json()["call_slots"]
    assert len(offered) == 3
    r = await svc.http.post(f"/requests/{rid}/call/schedule", json={"slot_id": offered[0]["id"], "version": v},
                            headers=official)
    assert r.status_code == 200 and r.json()["status"] == "call_scheduled"
    assert r.json()["calls"][-1]["meeting"] == "Video: https://meet.example.org/nrn-flint"  # the city sees how to join
    v = r.json()["version"]
    svc.clock.now = start + timedelta(minutes=45)
    r = await svc.http.post(f"/requests/{rid}/call/missed", json={"missed_by": "official", "version": v},
                            headers=expert)
    v = r.json()["version"]
    r = await svc.http.post(f"/requests/{rid}/call/schedule", json={"slot_id": offered[1]["id"], "version": v},
                            headers=official)
    assert r.status_code == 200, r.text
    v = r.json()["version"]
    svc.clock.now = start + timedelta(days=1, minutes=40)
    r = await svc.http.post(f"/requests/{rid}/call/complete", json={
        "summary": "Walked through the three options.", "next_steps": ["Apply by May", "Brief council"],
        "version": v}, headers=expert)
    assert r.status_code == 200 and r.json()["status"] == "closed", r.text
    v = r.json()["version"]
    assert {s["step"]: s["status"] for s in r.json()["service_levels"]} == {
        "acknowledge": "on_time", "memo": "on_time", "call": "on_time"}

    r = await svc.http.post(f"/requests/{rid}/feedback", json={"rating": 5, "comment": "Great", "version": v},
                            headers=official)
    v = r.json()["version"]
    r = await svc.http.post(f"/requests/{rid}/follow-up", json={"outcome": "acted", "version": v}, headers=official)
    assert r.status_code == 409 and r.json()["rule"] == "follow_up_not_yet_due"
    svc.clock.advance(days=91)
    r = await svc.http.get("/requests", params={"queue": "follow_up_due"}, headers=lead)
    assert [i["id"] for i in r.json()["items"]] == [rid]
    r = await svc.http.post(f"/requests/{rid}/follow-up", json={"outcome": "acted", "description": "Funded.",
                                                                "version": v}, headers=official)
    assert r.status_code == 200, r.text
    experts = (await svc.http.get("/experts", headers=lead)).json()
    assert {e["id"]: e["open_requests"] for e in experts} == {"exp-1": 0, "exp-2": 0}

    # the official's timeline has every public step, in order
    timeline = (await svc.http.get(f"/requests/{rid}/timeline", headers=official)).json()
    actions = [e["action"] for e in timeline]
    assert actions[0] == "submitted" and actions[-1] == "follow_up_recorded"
    assert "memo_drafted" not in actions and "memo_returned" not in actions

    # metrics come from the folded events
    m = (await svc.http.get("/metrics", headers=pm)).json()
    assert m["total"] == 1 and m["by_topic"] == {"housing": 1} and m["by_state"] == {"MI": 1}
    assert m["on_time_rate"] == 1.0 and m["memos_delivered"] == 1 and m["average_rating"] == 5
    assert [(x["submitted"], x["by_topic"]) for x in m["by_month"]] == [(1, {"housing": 1})]
    # they are running totals in one document, kept by the commands; rebuilding them from the facts agrees
    totals = await svc.db.program_metrics.find_one({"_id": "totals"})
    assert totals["total"] == 1 and totals["topic"] == {"housing": 1, "finance_budgets": 0}  # re-topicked at triage
    assert (await svc.http.post("/admin/metrics/rebuild", headers=pm)).status_code == 403
    rebuilt = await svc.http.post("/admin/metrics/rebuild", headers=svc.staff("adm-1", "administrator"))
    assert rebuilt.json() == {"requests": 1}
    assert (await svc.http.get("/metrics", headers=pm)).json() == m

    # and the events left through the outbox, in order, on the topic
    expected = ["question_submitted", "question_triaged", "expert_assigned", "memo_drafted", "memo_returned",
                "memo_drafted", "memo_delivered", "call_slots_offered", "call_scheduled", "call_missed",
                "call_scheduled", "call_completed", "request_closed", "feedback_received", "follow_up_recorded"]
    seen = await read_topic(svc, rid, len(expected))
    assert [t.split(".")[-2] for t in seen] == expected


async def read_topic(svc, request_id: str, n: int) -> list[str]:
    consumer = AIOKafkaConsumer(svc.settings.topic("nrn.requests311.v1"),
                                bootstrap_servers=svc.settings.kafka_bootstrap_servers,
                                auto_offset_reset="earliest", enable_auto_commit=False, group_id=None)
    await consumer.start()
    types: list[str] = []
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while len(types) < n and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for record in records:
                    ce, event = decode(record.value)
                    if record.key == request_id.encode():
                        types.append(ce.type)
    finally:
        await consumer.stop()
    return types
