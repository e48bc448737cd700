"""Convenings over HTTP on the real database and broker: the registration rules with their status
codes and rule names, waitlist promotion with a hold, expiry with the injected clock, cancellation
telling every registrant, the check-in list, feedback, materials and the .ics agenda."""

from __future__ import annotations

from datetime import timedelta

import icalendar
from aiokafka import AIOKafkaConsumer
from nrn_contracts import decode

from peer.testing import convening_body


async def register(svc, who: dict, cid: str, **answers) -> "httpx.Response":  # noqa: ANN001, F821
    return await svc.http.post(f"/convenings/{cid}/registrations", json=answers, headers=who)


async def test_register_waitlist_promote_confirm_and_the_rules(svc) -> None:  # noqa: ANN001
    await svc.seed_people({"off-1": "city-flint", "off-2": "city-gary", "off-3": "city-youngstown",
                           "off-4": "city-flint", "off-5": "city-flint"})
    c = await svc.schedule(convening_body(svc.clock.now, capacity=1, per_city_limit=2,
                                          host_city_id="city-chattanooga"))
    assert c["starts_at_local"].endswith("T08:30:00-05:00") or c["starts_at_local"].endswith("T08:30:00-06:00")
    assert c["host_city"] == "Chattanooga, TN"

    first = await register(svc, svc.official("off-1", "city-flint"), c["id"], role="Mayor",
                           dietary_needs="Vegetarian", session_ids=["opening"])
    assert first.status_code == 201 and first.json()["status"] == "confirmed"
    second = await register(svc, svc.official("off-2", "city-gary"), c["id"])
    assert second.json()["status"] == "waitlisted" and second.json()["position"] == 1
    third = await register(svc, svc.official("off-3", "city-youngstown"), c["id"])
    assert third.json()["position"] == 2

    # registering twice → 409 already_registered (also while waitlisted)
    again = await register(svc, svc.official("off-2", "city-gary"), c["id"])
    assert again.status_code == 409 and again.json()["rule"] == "already_registered"
    # the per-city limit (2 for Flint: one confirmed, one waitlisted) → 409 naming the rule
    assert (await register(svc, svc.official("off-4", "city-flint"), c["id"])).json()["status"] == "waitlisted"
    over = await register(svc, svc.official("off-5", "city-flint"), c["id"])
    assert over.status_code == 409 and over.json()["rule"] == "per_city_limit_reached"
    assert "at most 2 people" in over.json()["detail"]
    # a session not on the agenda is refused naming the field
    bad = await register(svc, svc.partner(), c["id"], session_ids=["nope"])
    assert bad.status_code == 422 and bad.json()["field"] == "session_ids"
    # staff do not register themselves; an unverified official cannot act for a city
    assert (await register(svc, svc.staff(), c["id"])).status_code == 403
    assert (await register(svc, svc.official("off-9", "city-gary", status="pending"), c["id"])).status_code == 403

    # the confirmed one cancels: the first in line is offered the place with a 48-hour hold
    r = await svc.http.post(f"/registrations/{first.json()['id']}/cancel", headers=svc.official("off-1", "city-flint"))
    assert r.json()["status"] == "cancelled"
    offered = (await svc.http.get(f"/convenings/{c['id']}", headers=svc.official("off-2", "city-gary"))).json()
    mine = offered["my_registration"]
    assert mine["status"] == "offered" and mine["promoted"]
    assert mine["hold_until"].startswith((svc.clock.now + timedelta(hours=48)).strftime("%Y-%m-%dT%H"))
    # someone else cannot confirm it (it does not exist for them), the person can
    assert (await svc.http.post(f"/registrations/{mine['id']}/confirm",
                                headers=svc.official("off-3", "city-youngstown"))).status_code == 404
    ok = await svc.http.post(f"/registrations/{mine['id']}/confirm", headers=svc.official("off-2", "city-gary"))
    assert ok.status_code == 200 and ok.json()["status"] == "confirmed"
    assert (await svc.http.post(f"/registrations/{mine['id']}/confirm",
                                headers=svc.official("off-2", "city-gary"))).status_code == 409

    # Gary cancels; Youngstown is offered, lets the hold lapse; the sweep passes it to Flint's second
    await svc.http.post(f"/registrations/{mine['id']}/cancel", headers=svc.official("off-2", "city-gary"))
    svc.clock.advance(hours=47, minutes=59)
    assert (await svc.http.post("/admin/sweep", headers=svc.staff())).json() == {"expired": 0}
    svc.clock.advance(minutes=1)
    assert (await svc.http.post("/admin/sweep", headers=svc.staff())).json() == {"expired": 1}
    late = await svc.http.post(f"/registrations/{third.json()['id']}/confirm",
                               headers=svc.official("off-3", "city-youngstown"))
    assert late.status_code == 409 and late.json()["rule"] == "confirm_not_allowed"
    listing = (await svc.http.get(f"/convenings/{c['id']}/registrations", headers=svc.staff())).json()
    by_status = {x["name"]: x["status"] for x in listing}
    assert by_status == {"Official 1": "cancelled", "Official 2": "cancelled", "Official 3": "cancelled",
                         "Official 4": "offered"}
    assert [x["cancel_reason"] for x in listing if x["name"] == "Official 3"] == ["hold_expired"]
    assert all("city-" not in str(x.get("organization")) for x in listing)  # names, never ids

    events = [e["reason"] for e in await svc.outbox("registration_cancelled")]
    assert events == ["by_registrant", "by_registrant", "hold_expired"]
    assert [e["account_id"] for e in await svc.outbox("waitlist_promoted")] == ["off-2", "off-3", "off-4"]


async def test_the_registration_window(svc) -> None:  # noqa: ANN001
    await svc.seed_people()
    body = convening_body(svc.clock.now, registration_opens_at=(svc.clock.now + timedelta(days=1)).isoformat())
    c = await svc.schedule(body)
    early = await register(svc, svc.official(), c["id"])
    assert early.status_code == 409 and early.json()["rule"] == "registration_not_open_yet"
    svc.clock.advance(days=1)
    assert (await register(svc, svc.official(), c["id"])).status_code == 201
    svc.clock.advance(days=49)
    late = await register(svc, svc.official("off-2", "city-gary"), c["id"])
    assert late.status_code == 409 and late.json()["rule"] == "registration_closed"
    assert "closed" in late.json()["detail"]


async def test_bad_descriptions_are_refused_naming_the_field(svc) -> None:  # noqa: ANN001
    now = svc.clock.now
    cases = [
        (convening_body(now, timezone="Mars/Base"), "timezone"),
        (convening_body(now, capacity=0), "capacity"),
        (convening_body(now, capacity=2, per_city_limit=0), "per_city_limit"),
        (convening_body(now, title=""), "title"),
        (convening_body(now, starts_at="2027-03-14T02:30:00", ends_at="2027-03-14T17:00:00",
                        registration_closes_at="2027-03-13T00:00:00", sessions=[]), "starts_at"),
    ]
    for body, field in cases:
        r = await svc.http.post("/convenings", json=body, headers=svc.staff())
        assert r.status_code == 422, (field, r.text)
        assert field in r.text
    assert (await svc.http.post("/convenings", json=convening_body(now), headers=svc.official())).status_code == 403
    assert await svc.db.convenings.count_documents({}) == 0


async def test_cancelling_a_convening_tells_every_registrant(svc) -> None:  # noqa: ANN001
    await svc.seed_people()
    c = await svc.schedule(convening_body(svc.clock.now, capacity=1))
    for oid, city in (("off-1", "city-flint"), ("off-2", "city-gary"), ("off-3", "city-youngstown")):
        await register(svc, svc.official(oid, city), c["id"])
    await register(svc, svc.partner(), c["id"])
    blank = await svc.http.post(f"/convenings/{c['id']}/cancel", json={"reason": ""}, headers=svc.staff())
    assert blank.status_code == 422
    r = await svc.http.post(f"/convenings/{c['id']}/cancel", json={"reason": "The venue flooded."},
                            headers=svc.staff())
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    # one RegistrationCancelled per registrant, read back from the real topic, then the ConveningCancelled
    consumer = AIOKafkaConsumer(svc.settings.topic("nrn.peer.v1"), bootstrap_servers=svc.settings.kafka_bootstrap_servers,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    seen: list = []
    try:
        while not any(e.type.endswith("convening_cancelled.v1") for e in seen):
            batch = await consumer.getmany(timeout_ms=1000)
            seen += [decode(m.value)[0] for msgs in batch.values() for m in msgs]
    finally:
        await consumer.stop()
    told = {e.data["account_id"] for e in seen if e.type.endswith("registration_cancelled.v1")
            and e.data["reason"] == "convening_cancelled"}
    assert told == {"off-1", "off-2", "off-3", "par-1"}
    (cancelled,) = [e.data for e in seen if e.type.endswith("convening_cancelled.v1")]
    assert cancelled["registrations_cancelled"] == 4 and cancelled["reason"] == "The venue flooded."
    late = await register(svc, svc.official("off-1", "city-flint"), c["id"])
    assert late.status_code == 409 and late.json()["rule"] == "already_registered" or late.json()["rule"] == \
        "convening_cancelled"


async def test_check_in_feedback_materials_and_the_agenda(svc) -> None:  # noqa: ANN001
    await svc.seed_people()
    c = await svc.schedule(convening_body(svc.clock.now, capacity=5, host_city_id="city-chattanooga"))
    reg = (await register(svc, svc.official(), c["id"])).json()
    assert (await svc.http.post(f"/registrations/{reg['id']}/attendance", json={"attended": True},
                                headers=svc.official())).status_code == 403
    assert (await svc.http.post(f"/registrations/{reg['id']}/attendance", json={"attended": True},
                                headers=svc.staff("lead-1", "triage_lead"))).json()["attended"] is True
    early = await svc.http.post(f"/registrations/{reg['id']}/feedback", json={"rating": 5}, headers=svc.official())
    assert early.status_code == 409 and early.json()["rule"] == "feedback_before_the_end"
    svc.clock.advance(days=61)
    assert (await svc.http.post(f"/registrations/{reg['id']}/feedback", json={"rating": 6},
                                headers=svc.official())).status_code == 422
    fb = await svc.http.post(f"/registrations/{reg['id']}/feedback", json={"rating": 5, "comment": "Met Gary."},
                             headers=svc.official())
    assert fb.status_code == 200
    summary = (await svc.http.get(f"/convenings/{c['id']}/feedback", headers=svc.staff())).json()
    assert summary["responses"] == 1 and summary["average_rating"] == 5

    m = await svc.http.post(f"/convenings/{c['id']}/materials", headers=svc.staff("cur-1", "curator"), json={
        "kind": "slides", "title": "Opening plenary slides", "summary": "What peer cities learned",
        "body": "## Lessons\n\nStart with the data.", "link": "https://example.org/slides.pdf"})
    assert m.status_code == 201
    (published,) = await svc.outbox("convening_material_published")
    assert published["title"] == "Opening plenary slides" and published["convening_title"] == c["title"]
    assert published["held_on"] == c["starts_at_local"][:10]
    neither = await svc.http.post(f"/convenings/{c['id']}/materials", headers=svc.staff(), json={
        "kind": "notes", "title": "Empty notes"})
    assert neither.status_code == 422 and neither.json()["field"] == "body"

    ics = await svc.http.get(f"/convenings/{c['id']}/agenda.ics", headers=svc.official())
    assert ics.headers["content-type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(ics.content)
    events = cal.walk("VEVENT")
    assert [str(e["SUMMARY"]).split(" — ")[0] for e in events] == ["Opening plenary", "Broadband roundtable"]
    assert all(e["DTSTART"].params["TZID"] == "America/Chicago" for e in events)
    assert events[0].decoded("DTSTART").strftime("%H:%M") == "09:00"


async def test_a_retried_registration_answers_as_the_first_did(svc) -> None:  # noqa: ANN001
    """The gateway retries a command that carries an Idempotency-Key: the retry gets the first answer
    (replayed), not 409 already_registered, and nothing is counted twice."""
    await svc.seed_people()
    c = await svc.schedule(convening_body(svc.clock.now, capacity=1))
    headers = {**svc.official(), "Idempotency-Key": "register-once-1"}
    first = await svc.http.post(f"/convenings/{c['id']}/registrations", json={"role": "Mayor"}, headers=headers)
    again = await svc.http.post(f"/convenings/{c['id']}/registrations", json={"role": "Mayor"}, headers=headers)
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    other = await svc.http.post(f"/convenings/{c['id']}/registrations", json={"role": "Other"}, headers=headers)
    assert other.status_code == 422  # the same key for a different request
    assert len(await svc.outbox("registration_confirmed")) == 1
    assert (await svc.db.convenings.find_one({"_id": c["id"]}))["seats_taken"] == 1
