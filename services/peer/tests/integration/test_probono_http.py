"""The pro bono talent network over HTTP on the real broker and database: an organization enrolled from
accounts' partner event; a volunteer registers and their coordinator confirms them; a city posts a project
and staff review it; a match proposed with its score and reasons; the volunteer's contact details reach the
city only after both accepted; hours logged (never beyond the agreement) and reviewed by the city; the
project completed; the council's totals. Who may do what is tried at every step."""

from __future__ import annotations

from datetime import timedelta

from nrn_contracts.events import accounts as acc

from nrn_kit.testing import eventually

PB = "/probono"


async def _network(svc) -> None:  # noqa: ANN001
    await svc.seed_people()
    await svc.publish(
        acc.PartnerRegistered(partner_id="acme", name="Acme Analytics", kind="consortium_member"),
        acc.PartnerRegistered(partner_id="globex", name="Globex University", kind="consortium_member"),
        acc.AccountRegistered(account_id="vol-ana", kind="partner_member", email="ana@acme.example",
                              name="Ana Ruiz", title="Data Analyst", partner_id="acme", status="verified"),
        acc.AccountRegistered(account_id="coord-acme", kind="partner_member", email="lee@acme.example",
                              name="Lee Coordinator", partner_id="acme", status="verified"))

    async def ready() -> bool:
        return (await svc.db.partners.count_documents({}) == 2
                and await svc.db.people.count_documents({"_id": {"$in": ["vol-ana", "coord-acme"]}}) == 2)

    await eventually(ready)


def _member(svc, sub: str, partner_id: str, *roles: str) -> dict[str, str]:  # noqa: ANN001
    return svc.as_(svc.issuer.token(sub, "partner_member", partner_id=partner_id, roles=roles))


async def test_volunteer_project_match_hours_and_completion(svc) -> None:  # noqa: ANN001
    await _network(svc)
    today = svc.clock.now.date()
    pm, flint, gary = svc.staff(), svc.official("off-1", "city-flint"), svc.official("off-2", "city-gary")
    ana = _member(svc, "vol-ana", "acme")
    coordinator = _member(svc, "coord-acme", "acme", "probono_coordinator")
    other_coordinator = _member(svc, "coord-globex", "globex", "probono_coordinator")

    # --- an organization joins; its member registers; the coordinator confirms
    profile = {"title": "Data Analyst", "skills": ["analytics", "blight"], "hours_per_month": 20,
               "available_from": str(today - timedelta(days=30)), "available_until": str(today + timedelta(days=200)),
               "work_mode": "either", "base_city": "Detroit", "base_state": "MI",
               "experience": "Built Detroit's vacant property map.", "phone": "313-555-0100"}
    r = await svc.http.post(f"{PB}/volunteers", json=profile, headers=ana)
    assert (r.status_code, r.json()["rule"]) == (409, "organization_not_enrolled")
    r = await svc.http.post(f"{PB}/organizations", json={"partner_id": "nobody", "sector": "company"}, headers=pm)
    assert (r.status_code, r.json()["field"]) == (422, "partner_id")
    r = await svc.http.post(f"{PB}/organizations", json={"partner_id": "acme", "sector": "company"}, headers=flint)
    assert r.status_code == 403
    r = await svc.http.post(f"{PB}/organizations", json={"partner_id": "acme", "sector": "company",
                                                          "description": "Analytics firm"}, headers=pm)
    assert r.status_code == 201 and r.json()["name"] == "Acme Analytics"

    r = await svc.http.post(f"{PB}/volunteers", json=profile | {"skills": ["juggling"]}, headers=ana)
    assert (r.status_code, r.json()["field"]) == (422, "skills")
    r = await svc.http.post(f"{PB}/volunteers", json=profile | {"phone": "313\x00"}, headers=ana)
    assert r.status_code == 422
    r = await svc.http.post(f"{PB}/volunteers", json=profile, headers=ana)
    assert r.status_code == 201, r.text
    me = r.json()
    assert (me["name"], me["organization"], me["status"]) == ("Ana Ruiz", "Acme Analytics", "awaiting_confirmation")
    vid = me["id"]
    track = (await svc.db.volunteers.find_one({"_id": vid}))["track"]
    assert track == {"completed": [], "committed_per_month": 0}  # kept from the start: no matches yet
    r = await svc.http.post(f"{PB}/volunteers", json=profile, headers=ana)
    assert (r.status_code, r.json()["rule"]) == (409, "already_registered")
    (registered,) = await svc.outbox("volunteer_registered")
    assert (registered["organization_id"], registered["skills"]) == ("acme", ["analytics", "blight"])

    listed = (await svc.http.get(f"{PB}/volunteers", headers=coordinator)).json()
    assert [v["id"] for v in listed] == [vid]
    assert (await svc.http.get(f"{PB}/volunteers", headers=other_coordinator)).json() == []
    r = await svc.http.post(f"{PB}/volunteers/{vid}/confirm", headers=other_coordinator)
    assert r.status_code == 404  # another organization's volunteer does not exist for them
    r = await svc.http.post(f"{PB}/volunteers/{vid}/confirm", headers=ana)
    assert r.status_code == 403  # a volunteer does not confirm themselves
    r = await svc.http.post(f"{PB}/volunteers/{vid}/confirm", headers=coordinator)
    assert (r.status_code, r.json()["status"]) == (200, "confirmed")
    assert len(await svc.outbox("volunteer_confirmed")) == 1

    # --- a city posts a project; staff review it before it opens
    project = {"department": "Planning and Development", "title": "Vacant lot inventory",
               "problem": "We need every vacant lot mapped with its owner and condition.",
               "skills": ["analytics", "blight", "legal"], "hours_needed": 30,
               "starts_on": str(today - timedelta(days=7)), "ends_on": str(today + timedelta(days=83)),
               "work_mode": "either", "on_site_needs": "Walk the north side lots once"}
    r = await svc.http.post(f"{PB}/projects", json=project | {"ends_on": str(today - timedelta(days=8))},
                            headers=flint)
    assert (r.status_code, r.json()["field"]) == (422, "ends_on")
    r = await svc.http.post(f"{PB}/projects", json=project, headers=ana)
    assert r.status_code == 403
    r = await svc.http.post(f"{PB}/projects", json=project, headers=flint)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert (r.json()["status"], r.json()["city"]) == ("submitted", "Flint, MI")
    assert (await svc.http.get(f"{PB}/projects/{pid}", headers=gary)).status_code == 404
    assert [p["id"] for p in (await svc.http.get(f"{PB}/projects", headers=gary)).json()] == []
    r = await svc.http.get(f"{PB}/projects/{pid}/suggestions", headers=pm)
    assert (r.status_code, r.json()["rule"]) == (409, "project_not_open")
    r = await svc.http.post(f"{PB}/projects/{pid}/review", json={"decision": "returned"}, headers=pm)
    assert (r.status_code, r.json()["field"]) == (422, "note")
    r = await svc.http.post(f"{PB}/projects/{pid}/review", json={"decision": "opened"}, headers=flint)
    assert r.status_code == 403  # a city does not open its own project
    r = await svc.http.post(f"{PB}/projects/{pid}/review", json={"decision": "opened"}, headers=pm)
    assert (r.status_code, r.json()["status"], r.json()["status_label"]) == (200, "open", "Open for matching")
    (reviewed,) = await svc.outbox("project_reviewed")
    assert reviewed["decision"] == "opened"

    # --- suggestions with the score and its reasons; staff offer the volunteer
    r = await svc.http.get(f"{PB}/projects/{pid}/suggestions", headers=flint)
    assert r.status_code == 200
    (suggestion,) = r.json()
    assert suggestion["volunteer"]["id"] == vid and "contact" not in suggestion["volunteer"]
    assert suggestion["reasons"][0] == ("Has 2 of the 3 skills needed: Data and analytics and Blight and vacant "
                                        "property (not Legal)")
    assert suggestion["reasons"][3] == "Can work on site: based in Detroit, MI"
    assert (await svc.http.get(f"{PB}/projects/{pid}/suggestions", headers=gary)).status_code == 404
    r = await svc.http.post(f"{PB}/projects/{pid}/matches", json={"volunteer_id": vid, "hours_agreed": 10},
                            headers=pm)
    assert r.status_code == 201, r.text
    mid = r.json()["id"]
    (proposed,) = await svc.outbox("match_proposed")
    assert proposed["reasons"] == suggestion["reasons"] and proposed["score"] == suggestion["score"]
    assert proposed["proposed_by"] == "staff"
    r = await svc.http.post(f"{PB}/projects/{pid}/matches", json={"volunteer_id": vid}, headers=pm)
    assert (r.status_code, r.json()["rule"]) == (409, "already_offered")
    assert (await svc.http.get(f"{PB}/projects/{pid}/suggestions", headers=pm)).json() == []

    # --- contact details only after both accepted
    seen = (await svc.http.get(f"{PB}/matches/{mid}", headers=flint)).json()
    assert "contact" not in seen["volunteer"] and seen["waiting_for_me"]
    assert (await svc.http.get(f"{PB}/matches/{mid}", headers=gary)).status_code == 404
    r = await svc.http.post(f"{PB}/matches/{mid}/hours", json={"worked_on": str(today), "hours": 2}, headers=ana)
    assert (r.status_code, r.json()["rule"]) == (409, "match_not_accepted")
    r = await svc.http.post(f"{PB}/matches/{mid}/answer", json={"accepted": True}, headers=flint)
    assert r.json()["status"] == "proposed" and "contact" not in r.json()["volunteer"]
    r = await svc.http.post(f"{PB}/matches/{mid}/answer", json={"accepted": True}, headers=flint)
    assert (r.status_code, r.json()["rule"]) == (409, "side_already_answered")
    r = await svc.http.post(f"{PB}/matches/{mid}/answer", json={"accepted": True}, headers=ana)
    assert r.json()["status"] == "accepted"
    seen = (await svc.http.get(f"{PB}/matches/{mid}", headers=flint)).json()
    assert seen["volunteer"]["contact"] == {"email": "ana@acme.example", "phone": "313-555-0100"}
    assert [a["status"] for a in await svc.outbox("match_accepted")] == ["awaiting_other", "accepted"]
    assert (await svc.http.get(f"{PB}/projects/{pid}", headers=flint)).json()["status"] == "active"

    # --- hours: logged by the volunteer, never beyond the agreement, reviewed by the city
    day = str(today - timedelta(days=1))
    r = await svc.http.post(f"{PB}/matches/{mid}/hours", json={"worked_on": day, "hours": 6, "note": "Mapped ward 1"},
                            headers=ana)
    assert r.status_code == 201, r.text
    r = await svc.http.post(f"{PB}/matches/{mid}/hours", json={"worked_on": day, "hours": 4.5}, headers=ana)
    assert (r.status_code, r.json()["rule"], r.json()["field"]) == (409, "beyond_agreed_hours", "hours")
    r = await svc.http.post(f"{PB}/matches/{mid}/hours", json={"worked_on": day, "hours": 2.1}, headers=ana)
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "hours")  # quarter hours only
    r = await svc.http.post(f"{PB}/matches/{mid}/hours", json={"worked_on": day, "hours": 2}, headers=flint)
    assert r.status_code == 403
    r = await svc.http.post(f"{PB}/matches/{mid}/agreement", json={"hours_agreed": 14}, headers=flint)
    assert r.json()["hours_agreed"] == 14
    r = await svc.http.post(f"{PB}/matches/{mid}/hours", json={"worked_on": day, "hours": 4.5}, headers=ana)
    assert r.status_code == 201 and r.json()["hours_logged"] == 10.5
    first, second = (e["id"] for e in r.json()["hours"])
    r = await svc.http.post(f"{PB}/matches/{mid}/hours/{first}/review", json={"approved": True}, headers=ana)
    assert r.status_code == 403
    r = await svc.http.post(f"{PB}/matches/{mid}/hours/{first}/review", json={"approved": True}, headers=gary)
    assert r.status_code == 404
    r = await svc.http.post(f"{PB}/matches/{mid}/hours/{first}/review", json={"approved": True}, headers=flint)
    assert r.json()["hours_approved"] == 6
    r = await svc.http.post(f"{PB}/projects/{pid}/complete", json={"outcome": "All lots mapped"}, headers=flint)
    assert (r.status_code, r.json()["rule"]) == (409, "hours_waiting")
    r = await svc.http.post(f"{PB}/matches/{mid}/hours/{second}/review", json={"approved": False}, headers=flint)
    assert (r.status_code, r.json()["field"]) == (422, "note")
    r = await svc.http.post(f"{PB}/matches/{mid}/hours/{second}/review",
                            json={"approved": False, "note": "Please split by ward"}, headers=flint)
    assert r.json()["hours_logged"] == 6
    assert [(e["hours"], e["approved"]) for e in await svc.outbox("hours_reviewed")] == [(6, True), (4.5, False)]
    summary = (await svc.http.get(f"{PB}/cities/city-flint/summary", headers=flint)).json()
    assert (summary["hours_approved"], summary["hours_waiting"], summary["hours_logged"]) == (6, 0, 6)
    assert (summary["matches_accepted"], summary["volunteers_engaged"], summary["matches_waiting"]) == (1, 1, 0)
    assert [(s["label"], s["count"]) for s in summary["by_status"]] == [("Under way", 1)] and summary["projects_total"] == 1
    assert (await svc.http.get(f"{PB}/cities/city-flint/summary", headers=gary)).status_code == 403

    # --- the outcome; then no more hours; the council's totals
    r = await svc.http.post(f"{PB}/projects/{pid}/complete", json={"outcome": "Every lot mapped with its owner"},
                            headers=flint)
    assert (r.status_code, r.json()["status"]) == (200, "completed")
    (completed,) = await svc.outbox("project_completed")
    assert (completed["hours_approved"], completed["volunteers"], completed["organizations"]) == (6, 1, ["acme"])
    r = await svc.http.post(f"{PB}/matches/{mid}/hours", json={"worked_on": day, "hours": 1}, headers=ana)
    assert (r.status_code, r.json()["rule"]) == (409, "match_not_accepted")
    assert (await svc.http.get(f"{PB}/council", headers=flint)).status_code == 403
    council = (await svc.http.get(f"{PB}/council", headers=coordinator)).json()
    (org,) = council["organizations"]
    (city,) = council["cities"]
    assert (org["name"], org["volunteers"], org["projects"], org["hours_approved"]) == ("Acme Analytics", 1, 1, 6)
    assert (city["city"], city["completed"], city["hours_approved"]) == ("Flint, MI", 1, 6)
    mine = (await svc.http.get(f"{PB}/volunteers/me", headers=ana)).json()
    assert [m["status"] for m in mine["matches"]] == ["completed"]
    # the track record matching reads next time: this project done, no hours held any more
    track = (await svc.db.volunteers.find_one({"_id": vid}))["track"]
    assert track == {"completed": [["analytics", "blight", "legal"]], "committed_per_month": 0}


async def test_a_city_offer_counts_as_its_acceptance_and_a_decline_ends_the_match(svc) -> None:  # noqa: ANN001
    await _network(svc)
    today = svc.clock.now.date()
    pm, flint = svc.staff(), svc.official("off-1", "city-flint")
    ana = _member(svc, "vol-ana", "acme")
    await svc.http.post(f"{PB}/organizations", json={"partner_id": "acme", "sector": "company"}, headers=pm)
    r = await svc.http.post(f"{PB}/volunteers", headers=ana, json={
        "skills": ["legal"], "hours_per_month": 10, "available_from": str(today),
        "available_until": str(today + timedelta(days=90)), "work_mode": "remote"})
    vid = r.json()["id"]
    r = await svc.http.put(f"{PB}/volunteers/me", headers=ana, json={
        "skills": ["legal", "finance"], "hours_per_month": 12, "available_from": str(today),
        "available_until": str(today + timedelta(days=90)), "work_mode": "remote"})
    assert r.status_code == 200 and r.json()["status"] == "awaiting_confirmation"
    (updated,) = await svc.outbox("volunteer_updated")
    assert (updated["skills"], updated["hours_per_month"]) == (["legal", "finance"], 12)
    await svc.http.post(f"{PB}/volunteers/{vid}/confirm", headers=pm)
    r = await svc.http.post(f"{PB}/projects", headers=flint, json={
        "department": "Law", "title": "Lease review", "problem": "Review our downtown leases.", "skills": ["legal"],
        "hours_needed": 10, "starts_on": str(today), "ends_on": str(today + timedelta(days=30)),
        "work_mode": "remote"})
    pid = r.json()["id"]
    await svc.http.post(f"{PB}/projects/{pid}/review", json={"decision": "opened"}, headers=pm)
    r = await svc.http.post(f"{PB}/projects/{pid}/matches", json={"volunteer_id": vid}, headers=flint)
    assert r.status_code == 201 and r.json()["answers"] == {"city": "accepted"}
    assert r.json()["hours_agreed"] == 10
    mid = r.json()["id"]
    assert (await svc.outbox("match_proposed"))[0]["proposed_by"] == "city"
    r = await svc.http.post(f"{PB}/matches/{mid}/answer", json={"accepted": False, "reason": "Busy this month"},
                            headers=ana)
    assert r.json()["status"] == "declined" and "contact" not in (
        await svc.http.get(f"{PB}/matches/{mid}", headers=flint)).json()["volunteer"]
    (declined,) = await svc.outbox("match_declined")
    assert (declined["side"], declined["reason"]) == ("volunteer", "Busy this month")
    assert (await svc.http.get(f"{PB}/projects/{pid}", headers=flint)).json()["status"] == "open"
