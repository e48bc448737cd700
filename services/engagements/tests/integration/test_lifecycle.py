"""The whole journey over HTTP on the real broker and database: application → review → decision →
engagement → close-out, with every event read back from the topic in order."""

from datetime import date, timedelta

from engagements.testing import FAIR_SCORES, GOOD_SCORES, complete_form, tiny_pdf


async def test_application_to_close_out(svc):
    olive, oscar = svc.official("off-1"), svc.official("off-2")
    lead, pm, r1, r2 = svc.staff("lead-1"), svc.staff("pm-1"), svc.staff("rev-1"), svc.staff("rev-2")
    rnd = await svc.round(capacity=10)

    # --- an official drafts; the draft is previewable, and submitting lists what is missing ---------------
    app = await svc.ok(await svc.http.post("/applications", headers=olive), 201)
    aid = app["id"]
    assert app["status"] == "draft" and app["round_id"] == rnd["id"]
    assert app["form"]["background"]["population"] == 102_434  # from accounts' CityRegistered
    early = await svc.http.post(f"/applications/{aid}/submit", json={"version": app["version"]}, headers=olive)
    assert early.status_code == 422 and early.json()["rule"] == "application_incomplete"
    assert len(early.json()["errors"]) >= 10 and all(e["anchor"].startswith("f-") for e in early.json()["errors"])

    body = {**complete_form(svc.clock.now.date()), "version": app["version"]}
    app = await svc.ok(await svc.http.patch(f"/applications/{aid}", json=body, headers=oscar))  # a colleague saves
    assert app["last_saved"]["by_name"] == "Oscar Official"
    app = await svc.ok(await svc.http.post(f"/applications/{aid}/attachments", headers=olive, data={
        "kind": "sponsor_letter", "version": str(app["version"])},
        files={"file": ("letter.pdf", tiny_pdf(), "application/pdf")}), 201)
    assert app["problems"] == [] and "submit" in app["actions"]
    app = await svc.ok(await svc.http.post(f"/applications/{aid}/submit", json={"version": app["version"]},
                                           headers=olive))
    assert app["status"] == "submitted" and "reviews" not in app

    # --- review: screen, two reviewers, scores hidden until one's own is in ------------------------------
    app = await svc.ok(await svc.http.post(f"/applications/{aid}/screen", headers=lead,
                                           json={"outcome": "eligible", "version": app["version"]}))
    for rev in ("rev-1", "rev-2"):
        app = await svc.ok(await svc.http.post(f"/applications/{aid}/reviewers", headers=pm,
                                               json={"reviewer_id": rev, "version": app["version"]}))
    assert (await svc.http.get(f"/applications/{aid}", headers=svc.staff("rev-3"))).status_code == 404
    app = await svc.ok(await svc.http.post(f"/applications/{aid}/scores", headers=r1,
                                           json={"scores": GOOD_SCORES, "overall": "Strong.", "version": app["version"]}))
    seen_by_r2 = await svc.ok(await svc.http.get(f"/applications/{aid}", headers=r2))
    assert seen_by_r2["others_hidden"] and seen_by_r2["score"] is None
    assert [r["reviewer_name"] for r in seen_by_r2["reviews"]] == ["Rob Reviewer"]
    app = await svc.ok(await svc.http.post(f"/applications/{aid}/scores", headers=r2,
                                           json={"scores": FAIR_SCORES, "version": app["version"]}))
    assert app["status"] == "scored" and app["score"]["points"] == "3.88"  # (410 + 365) / 2, half up
    assert {r["reviewer_name"] for r in app["reviews"]} == {"Rita Reviewer", "Rob Reviewer"}

    # --- the program manager accepts: an engagement opens with its budget in cents ---------------------------
    app = await svc.ok(await svc.decide(app))
    assert app["status"] == "accepted" and app["decision"]["reason"].startswith("Strong sponsor")
    assert app["terms"]["federal_cents"] == 18_750_000 and app["terms"]["local"] == "$62,500.00"
    rounds = await svc.ok(await svc.http.get("/rounds", headers=pm))
    assert rounds[0]["accepted"] == 1 and rounds[0]["places_left"] == 9
    city_view = await svc.ok(await svc.http.get(f"/applications/{aid}", headers=olive))
    assert city_view["decision"]["reason"].startswith("Strong sponsor") and "decision_detail" not in city_view
    eid = app["engagement_id"]

    # --- the engagement: team, assessment, work plan commented then agreed, milestones, close-out -----------
    e = await svc.ok(await svc.http.get(f"/engagements/{eid}", headers=pm))
    assert e["status"] == "opened" and e["budget_dollars"] == {"total": "$250,000.00", "federal": "$187,500.00",
                                                                "local": "$62,500.00"}
    e = await svc.ok(await svc.http.put(f"/engagements/{eid}/team", headers=pm, json={"version": e["version"], "team": [
        {"member_id": "exp-1", "role": "Engagement lead"},
        {"name": "Dana Planner", "role": "Land use expert", "kind": "partner_expert", "organization": "ULI"}]}))
    assert e["team"][0]["name"] == "Eve Expert"
    expert = svc.staff("exp-1")
    today = svc.clock.now.date()
    e = await svc.ok(await svc.http.post(f"/engagements/{eid}/assessment", headers=expert, json={
        "version": e["version"], "visited_on": today.isoformat(), "summary": "Two days on site.",
        "barriers": [{"barrier": "housing", "findings": "Vacancy in three wards."},
                     {"barrier": "land_use", "findings": "Zoning blocks infill."}],
        "strengths": ["An active land bank"]}))
    starts = e["starts_on"]
    start = date.fromisoformat(starts)
    e = await svc.ok(await svc.http.post(f"/engagements/{eid}/work-plan", headers=expert, json={
        "version": e["version"], "milestones": [
            {"title": "Vacancy inventory", "owner": "City planning", "due_on": (start + timedelta(days=40)).isoformat()},
            {"title": "Land bank strategy", "owner": "Eve Expert", "due_on": (start + timedelta(days=120)).isoformat()}]}))
    assert e["status"] == "planning" and "agree_plan" in (await svc.ok(await svc.http.get(
        f"/engagements/{eid}", headers=olive)))["actions"]
    e = await svc.ok(await svc.http.post(f"/engagements/{eid}/work-plan/comments", headers=olive, json={
        "version": e["version"], "text": "Please include commercial parcels.", "milestone_id": "m1"}))
    e = await svc.ok(await svc.http.post(f"/engagements/{eid}/work-plan", headers=expert, json={
        "version": e["version"], "milestones": [
            {"id": "m1", "title": "Vacancy inventory (with commercial parcels)", "owner": "City planning",
             "due_on": (start + timedelta(days=40)).isoformat()},
            {"id": "m2", "title": "Land bank strategy", "owner": "Eve Expert",
             "due_on": (start + timedelta(days=120)).isoformat()}]}))
    stale = await svc.http.post(f"/engagements/{eid}/work-plan/agreement", headers=olive,
                                json={"version": e["version"], "plan_version": 1})
    assert stale.status_code == 409 and stale.json()["rule"] == "plan_changed"
    e = await svc.ok(await svc.http.post(f"/engagements/{eid}/work-plan/agreement", headers=olive,
                                         json={"version": e["version"], "plan_version": 2}))
    assert e["status"] == "in_progress"

    svc.clock.advance(days=75)  # past m1's due date, not done: flagged on the staff list
    overdue = await svc.ok(await svc.http.get("/engagements", params={"view": "overdue"}, headers=pm))
    assert [x["id"] for x in overdue["items"]] == [eid] and overdue["items"][0]["overdue_milestones"] == 1
    for path, payload in (("updates", {"health": "at_risk", "text": "The inventory slipped two weeks."}),
                          ("risks", {"description": "Council elections.", "likelihood": "medium", "impact": "high"}),
                          ("partners", {"name": "Genesee County Land Bank", "role": "Owns vacant parcels"})):
        e = await svc.ok(await svc.http.post(f"/engagements/{eid}/{path}", headers=expert,
                                             json={**payload, "version": e["version"]}))
    for mid in ("m1", "m2"):
        e = await svc.ok(await svc.http.post(f"/engagements/{eid}/milestones/{mid}/complete", headers=expert,
                                             json={"version": e["version"]}))
    assert (await svc.ok(await svc.http.get("/engagements", params={"view": "overdue"}, headers=pm)))["items"] == []
    e = await svc.ok(await svc.http.post(f"/engagements/{eid}/close-out", headers=pm, json={
        "version": e["version"], "outcome": "completed",
        "outcomes": [{"milestone_id": "m1", "result": "met"}, {"milestone_id": "m2", "result": "partly_met"}],
        "final_report": "Flint has a vacancy inventory and a land bank strategy adopted by council."}))
    assert e["status"] == "closing"
    e = await svc.ok(await svc.http.post(f"/engagements/{eid}/close-out/confirmation", headers=olive,
                                         json={"version": e["version"], "consent": "named"}))
    assert e["status"] == "closed" and e["check_in_due_on"]
    e = await svc.ok(await svc.http.post(f"/engagements/{eid}/check-in", headers=olive,
                                         json={"version": e["version"], "notes": "Two parcels sold."}))
    assert e["check_in"]["notes"] == "Two parcels sold."

    # --- the events, in order, on the topic ----------------------------------------------------------------
    app_events = ["application_drafted", "application_submitted", "reviewer_assigned", "reviewer_assigned",
                  "application_scored", "application_scored", "application_decided"]
    assert await svc.read_topic(aid, len(app_events)) == app_events
    eng_events = ["engagement_opened", "assessment_completed", "work_plan_agreed", "milestone_completed",
                  "milestone_completed", "engagement_closed"]
    assert await svc.read_topic(eid, len(eng_events)) == eng_events
