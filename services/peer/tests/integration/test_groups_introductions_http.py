"""Working groups, the steering committee and peer introductions over HTTP, with the read models
fed by real accounts, requests311 and engagements events on the broker."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from nrn_contracts.events import engagements as eng
from nrn_contracts.events import requests311 as r311

from nrn_kit.testing import eventually


async def test_a_working_group_drafts_reviews_and_publishes_a_deliverable(svc) -> None:  # noqa: ANN001
    await svc.seed_people()
    pm = svc.staff()
    g = (await svc.http.post("/groups", json={"name": "Broadband Working Group", "topics": ["broadband"],
                                              "purpose": "Close the digital divide."}, headers=pm)).json()
    assert (await svc.http.post("/groups", json={"name": "Nope"}, headers=svc.official())).status_code == 403
    for city in ("city-flint", "city-gary"):
        r = await svc.http.post(f"/groups/{g['id']}/members", json={"member_kind": "city", "member_id": city},
                                headers=pm)
        assert r.status_code == 200, r.text
    r = await svc.http.post(f"/groups/{g['id']}/members", json={"member_kind": "partner_expert", "member_id": "par-1",
                                                               "organization": "NTIA"}, headers=pm)
    assert [m["name"] for m in r.json()["members"]] == ["Flint, MI", "Gary, IN", "Nia Partner"]
    # the add-a-member form's choices, by name: cities not yet members, the member cities' officials,
    # partner experts not yet members; officials of other cities are no choice
    r = await svc.http.get(f"/groups/{g['id']}/candidates", headers=pm)
    assert r.status_code == 200, r.text
    choices = r.json()
    assert "Flint, MI" not in [c["name"] for c in choices["cities"]] and "Youngstown, OH" in \
        [c["name"] for c in choices["cities"]]
    assert [(o["id"], o["city"]) for o in choices["officials"]] == [("off-1", "Flint, MI"), ("off-2", "Gary, IN")]
    assert choices["partner_experts"] == []
    assert (await svc.http.get(f"/groups/{g['id']}/candidates", headers=svc.official())).status_code == 403
    twice = await svc.http.post(f"/groups/{g['id']}/members", json={"member_kind": "city", "member_id": "city-flint"},
                                headers=pm)
    assert twice.status_code == 409 and twice.json()["rule"] == "already_a_member"
    mt = (await svc.http.post(f"/groups/{g['id']}/meetings", headers=pm, json={
        "title": "Kick-off", "starts_at": "2027-02-02T14:00:00", "timezone": "America/Chicago",
        "agenda": "1. Introductions"})).json()["meetings"][0]
    assert mt["starts_at_local"] == "2027-02-02T14:00:00-06:00"
    notes = await svc.http.patch(f"/groups/{g['id']}/meetings/{mt['id']}", json={"notes": "Agreed a guide."},
                                 headers=pm)
    assert notes.json()["meetings"][0]["notes"] == "Agreed a guide."

    # members draft and comment; a non-member city cannot even see the draft
    d = (await svc.http.post(f"/groups/{g['id']}/deliverables", headers=svc.official(), json={
        "title": "Practical resource guide to broadband", "summary": "Steps for cities",
        "body": "# Guide\n\nMap your coverage first."})).json()
    assert d["drafts"][0]["author"] == "Official 1"
    assert (await svc.http.get(f"/deliverables/{d['id']}",
                               headers=svc.official("off-3", "city-youngstown"))).status_code == 404
    assert (await svc.http.post(f"/deliverables/{d['id']}/comments", json={"body": "Add NTIA grant dates."},
                                headers=svc.partner())).status_code == 200
    assert (await svc.http.post(f"/deliverables/{d['id']}/submit", headers=svc.official("off-2", "city-gary"))
            ).json()["status"] == "in_review"
    assert (await svc.http.post(f"/deliverables/{d['id']}/review", json={"approve": True},
                                headers=svc.official())).status_code == 403
    back = await svc.http.post(f"/deliverables/{d['id']}/review", json={"approve": False, "note": "Add dates."},
                               headers=svc.staff("rev-1", "reviewer"))
    assert back.json()["status"] == "drafting"
    await svc.http.post(f"/deliverables/{d['id']}/drafts", json={"body": "# Guide\n\nMap coverage. Dates: May 1."},
                        headers=svc.partner())
    await svc.http.post(f"/deliverables/{d['id']}/submit", headers=pm)
    ok = await svc.http.post(f"/deliverables/{d['id']}/review", json={"approve": True}, headers=pm)
    assert ok.json()["status"] == "published"
    (published,) = await svc.outbox("deliverable_published")
    assert published["version"] == 2 and "May 1" in published["body"]
    assert published["member_cities"] == ["Flint, MI", "Gary, IN"]
    assert published["contributors"] == ["Nia Partner", "Official 1"]
    # now anyone may read the published deliverable
    assert (await svc.http.get(f"/deliverables/{d['id']}",
                               headers=svc.official("off-3", "city-youngstown"))).status_code == 200
    left = await svc.http.post(f"/groups/{g['id']}/members/leave", json={"member_kind": "city",
                                                                       "member_id": "city-gary"}, headers=pm)
    assert [m["name"] for m in left.json()["members"]] == ["Flint, MI", "Nia Partner"]
    kinds = [e["member_id"] for e in await svc.outbox("member_left")]
    assert kinds == ["city-gary"]


async def test_the_steering_committee_terms_and_decisions(svc) -> None:  # noqa: ANN001
    await svc.seed_people()
    pm = svc.staff()
    sc = (await svc.http.post("/groups", json={"kind": "steering_committee", "name": "Peer Steering Committee"},
                              headers=pm)).json()
    assert (await svc.http.post("/groups", json={"kind": "steering_committee", "name": "Another"},
                                headers=pm)).status_code == 409
    today = svc.clock.now.date()
    no_term = await svc.http.post(f"/groups/{sc['id']}/members", json={"member_kind": "city",
                                                                     "member_id": "city-flint"}, headers=pm)
    assert no_term.status_code == 422 and no_term.json()["field"] == "term_ends_on"
    for city, ends in (("city-flint", today + timedelta(days=30)), ("city-youngstown", today + timedelta(days=400))):
        await svc.http.post(f"/groups/{sc['id']}/members", headers=pm, json={
            "member_kind": "city", "member_id": city, "term_starts_on": str(today - timedelta(days=300)),
            "term_ends_on": str(ends)})
    view = (await svc.http.get(f"/groups/{sc['id']}", headers=svc.official())).json()
    assert {m["name"]: m["term_status"] for m in view["members"]} == {"Flint, MI": "ending_soon",
                                                                      "Youngstown, OH": "serving"}
    mt = (await svc.http.post(f"/groups/{sc['id']}/meetings", headers=pm, json={
        "title": "Spring meeting", "starts_at": "2027-04-01T10:00:00"})).json()["meetings"][0]
    dec = await svc.http.post(f"/groups/{sc['id']}/meetings/{mt['id']}/decisions", headers=pm, json={
        "summary": "Hold the 2027 convening in Miami.", "decided_on": "2027-04-01"})
    assert dec.json()["meetings"][0]["decisions"][0]["summary"] == "Hold the 2027 convening in Miami."
    overview = (await svc.http.get("/cities/city-flint/overview", headers=svc.official())).json()
    assert overview["groups"][0]["term_status"] == "ending_soon"
    assert (await svc.http.get("/cities/city-gary/overview", headers=svc.official())).status_code == 403


async def test_introductions_from_suggestion_to_outcome_sharing_only_what_was_consented(svc) -> None:  # noqa: ANN001
    await svc.seed_people()
    at = datetime(2026, 4, 2, 15, 0, tzinfo=UTC)
    await svc.publish(
        r311.QuestionSubmitted(request_id="req-1", city_id="city-flint", official_id="off-1",
                               title="Tax-foreclosed vacant lots", question="What can we do with 900 lots?",
                               topic="land_use", urgency="routine", consent_to_publish="none", submitted_at=at),
        r311.QuestionSubmitted(request_id="req-2", city_id="city-gary", official_id="off-2",
                               title="Side-lot sales", question="How do side-lot programs work?",
                               topic="housing", urgency="routine", consent_to_publish="none", submitted_at=at),
        # triage corrects Gary's subject to land use: now both asked about it in 2026
        r311.QuestionTriaged(request_id="req-2", topic="land_use", urgency="routine", by="lead-1", at=at),
        eng.ApplicationSubmitted(application_id="app-1", city_id="city-youngstown", official_id="off-3",
                                 background="b", economic_challenges="c", project_management="p", submitted_at=at,
                                 peer_connections=True, barriers=("land_use", "workforce")),
        eng.ApplicationSubmitted(application_id="app-2", city_id="city-chattanooga", official_id="off-9",
                                 background="b", economic_challenges="c", project_management="p", submitted_at=at,
                                 peer_connections=True, barriers=("workforce",)),
        source="/nrn/requests311")

    async def suggested() -> list:
        r = await svc.http.get("/introductions/suggestions", headers=svc.staff())
        return r.json() if r.status_code == 200 and r.json() else []

    async def both() -> list:
        found = await suggested()
        return found if len(found) == 2 else []

    s, by_barriers = await eventually(both)
    assert (s["city"], s["other_city"]) == ("Flint, MI", "Gary, IN")
    assert (by_barriers["city"], by_barriers["other_city"]) == ("Chattanooga, TN", "Youngstown, OH")
    assert by_barriers["reason"] == ("Both named workforce among their barriers; both asked to be connected with "
                                     "peer cities")
    assert s["reason"] == "Both asked 311 questions about land use and vacant property in 2026"
    assert (await svc.http.get("/introductions/suggestions", headers=svc.official())).status_code == 403

    i = (await svc.http.post("/introductions", headers=svc.staff(), json={
        "city_id": "city-flint", "other_city_id": "city-gary", "reason_kind": s["reason_kind"],
        "reason": s["reason"]})).json()
    again = await svc.http.post("/introductions", headers=svc.staff(), json={
        "city_id": "city-gary", "other_city_id": "city-flint", "reason": "again"})
    assert again.status_code == 409 and again.json()["rule"] == "already_introduced"
    assert [x["city"] for x in await suggested()] == ["Chattanooga, TN"]  # an introduced pair is not suggested again

    # an official acts only for their own city: Youngstown's official cannot see or answer it
    y = svc.official("off-3", "city-youngstown")
    assert (await svc.http.get(f"/introductions/{i['id']}", headers=y)).status_code == 404
    assert (await svc.http.post(f"/introductions/{i['id']}/answer", json={"accepted": True, "shares": ["contact"]},
                                headers=y)).status_code == 404
    assert (await svc.http.post(f"/introductions/{i['id']}/answer", json={"accepted": True, "shares": ["contact"]},
                                headers=svc.staff())).status_code == 403

    flint, gary = svc.official(), svc.official("off-2", "city-gary")
    r = await svc.http.post(f"/introductions/{i['id']}/answer", headers=flint,
                            json={"accepted": True, "shares": ["questions"]})
    assert r.json()["shared_with_us"] == {} and r.json()["status"] == "offered"
    seen_by_gary = (await svc.http.get(f"/introductions/{i['id']}", headers=gary)).json()
    assert seen_by_gary["other_city"] == "Flint, MI" and seen_by_gary["shared_with_us"] == {}
    assert seen_by_gary["their_answer"] == "accepted"
    r = await svc.http.post(f"/introductions/{i['id']}/answer", headers=gary,
                            json={"accepted": True, "shares": ["contact", "note"], "note": "Call me any time."})
    assert r.json()["status"] == "accepted"
    gary_sees = r.json()["shared_with_us"]
    assert set(gary_sees) == {"questions"}  # Flint shared its questions, not its contact
    assert gary_sees["questions"][0]["title"] == "Tax-foreclosed vacant lots"
    flint_sees = (await svc.http.get(f"/introductions/{i['id']}", headers=flint)).json()["shared_with_us"]
    assert set(flint_sees) == {"contact", "note"}
    assert flint_sees["contact"]["email"] == "off-2@city.example" and flint_sees["note"] == "Call me any time."

    met = await svc.http.post(f"/introductions/{i['id']}/progress", json={"met_on": str(date(2026, 5, 1))},
                              headers=svc.staff())
    assert met.json()["status"] == "met"
    done = await svc.http.post(f"/introductions/{i['id']}/progress", headers=svc.staff(),
                               json={"outcome": "Gary adopted Flint's side-lot pricing."})
    assert done.json()["status"] == "closed"
    steps = [e["step"] for e in await svc.outbox("introduction_progressed")]
    assert steps == ["meeting_held", "outcome_recorded"]
