"""Who sees what (an official only their city's; a reviewer only what is assigned and not conflicted;
staff roles per the kit's matrix), and bad input refused with problem details naming the field."""

from engagements.testing import GOOD_SCORES


async def test_another_citys_official_gets_nothing_and_changes_nothing(svc):
    await svc.round()
    app = await svc.scored("off-1")
    app = await svc.ok(await svc.decide(app))
    eid = app["engagement_id"]
    gary = svc.official("off-4")
    aid = app["id"]
    for method, path, body in (
        ("GET", f"/applications/{aid}", None), ("PATCH", f"/applications/{aid}", {"version": 1}),
        ("POST", f"/applications/{aid}/submit", {"version": 1}), ("POST", f"/applications/{aid}/withdraw", {"version": 1}),
        ("POST", f"/applications/{aid}/partner-confirmation", {"version": 1}),
        ("GET", f"/engagements/{eid}", None), ("GET", f"/engagements/{eid}/peer-context", None),
        ("POST", f"/engagements/{eid}/work-plan/comments", {"version": 1, "text": "x"}),
        ("POST", f"/engagements/{eid}/close-out/confirmation", {"version": 1, "consent": "named"}),
    ):
        response = await svc.http.request(method, path, json=body, headers=gary)
        assert response.status_code in (403, 404), (method, path, response.status_code)
        assert "Flint" not in response.text
    assert (await svc.ok(await svc.http.get("/applications", headers=gary)))["items"] == []
    assert (await svc.ok(await svc.http.get("/engagements", headers=gary)))["items"] == []
    assert (await svc.http.get("/applications", params={"city_id": "city-flint"}, headers=gary)).status_code == 403
    assert (await svc.http.get("/cities/city-flint/summary", headers=gary)).status_code == 403
    flint = await svc.ok(await svc.http.get("/cities/city-flint/summary", headers=svc.official("off-2")))
    assert [a["id"] for a in flint["applications"]] == [aid] and [e["id"] for e in flint["engagements"]] == [eid]


async def test_roles_and_assignment_decide_what_staff_see(svc):
    app = await svc.submitted("off-1")
    aid = app["id"]
    assert (await svc.http.get("/applications", headers=svc.staff("cur-1"))).status_code == 403
    assert (await svc.http.get("/applications", headers=svc.staff("exp-1"))).status_code == 403
    assert (await svc.http.get("/applications", params={"queue": "screening"},
                               headers=svc.staff("rev-1"))).status_code == 403
    assert (await svc.http.get(f"/applications/{aid}", headers=svc.staff("rev-1"))).status_code == 404
    screened = await svc.http.post(f"/applications/{aid}/screen", headers=svc.official("off-1"),
                                   json={"outcome": "eligible", "version": app["version"]})
    assert screened.status_code == 403
    app = await svc.ok(await svc.http.post(f"/applications/{aid}/screen", headers=svc.staff("lead-1"),
                                           json={"outcome": "eligible", "version": app["version"]}))
    lead_assigns = await svc.http.post(f"/applications/{aid}/reviewers", headers=svc.staff("lead-1"),
                                       json={"reviewer_id": "rev-1", "version": app["version"]})
    assert lead_assigns.status_code == 403
    not_a_reviewer = await svc.http.post(f"/applications/{aid}/reviewers", headers=svc.staff("pm-1"),
                                         json={"reviewer_id": "exp-1", "version": app["version"]})
    assert not_a_reviewer.status_code == 422 and not_a_reviewer.json()["field"] == "reviewer_id"
    for rev in ("rev-1", "rev-2"):
        app = await svc.ok(await svc.http.post(f"/applications/{aid}/reviewers", headers=svc.staff("pm-1"),
                                               json={"reviewer_id": rev, "version": app["version"]}))
    mine = await svc.ok(await svc.http.get("/applications", headers=svc.staff("rev-1")))
    assert [a["id"] for a in mine["items"]] == [aid]
    # rev-1 knows the city too well: steps aside, and the application disappears for them
    gone = await svc.http.post(f"/applications/{aid}/conflict", headers=svc.staff("rev-1"),
                               json={"reason": "I advised Flint's council last year.", "version": app["version"]})
    assert gone.status_code == 204
    assert (await svc.http.get(f"/applications/{aid}", headers=svc.staff("rev-1"))).status_code == 404
    assert (await svc.ok(await svc.http.get("/applications", headers=svc.staff("rev-1"))))["items"] == []
    app = await svc.ok(await svc.http.get(f"/applications/{aid}", headers=svc.staff("pm-1")))
    assert [r["conflict"] for r in app["reviews"]] == [True, False]
    again = await svc.http.post(f"/applications/{aid}/reviewers", headers=svc.staff("pm-1"),
                                json={"reviewer_id": "rev-1", "version": app["version"]})
    assert again.status_code == 409 and again.json()["rule"] == "reviewer_conflicted"
    # a program manager sees it; its timeline says who did what and when
    actions = [(t["action"], t["actor_name"]) for t in app["timeline"]]
    assert ("screened_in", "Tara Lead") in actions and ("conflict_declared", "Rita Reviewer") in actions


async def test_bad_decisions_are_refused_naming_the_field(svc):
    rnd = await svc.round(capacity=3)
    app = await svc.scored("off-1")
    pm = svc.staff("pm-1")
    cases = [
        ({"decision": "accept", "reason": "Yes."}, 422, "terms"),
        ({"decision": "accept", "reason": "Yes.", "terms": svc.terms(budget_cents=250000.5)}, 422, "terms.budget_cents"),
        ({"decision": "accept", "reason": "Yes.", "terms": svc.terms(budget_cents=4_999_999)}, 422, "terms.budget_cents"),
        ({"decision": "accept", "reason": "Yes.", "terms": svc.terms(budget_cents=50_000_001)}, 422, "terms.budget_cents"),
        ({"decision": "accept", "reason": "Yes.", "terms": svc.terms(duration_months=13)}, 422, "terms.duration_months"),
        ({"decision": "accept", "reason": "Yes.", "terms": svc.terms(starts_on="2025-02-01")}, 422, "terms.starts_on"),
        ({"decision": "accept", "reason": "Yes.", "terms": svc.terms(starts_on="2025-02-30")}, 422, "terms.starts_on"),
        ({"decision": "accept", "reason": "Yes.", "terms": svc.terms(), "round_id": "round_nope"}, 422, "round_id"),
        ({"decision": "accept", "reason": "", "terms": svc.terms()}, 422, "reason"),
        ({"decision": "maybe", "reason": "Hmm."}, 422, "decision"),
    ]
    for body, status, field in cases:
        response = await svc.http.post(f"/applications/{app['id']}/decision", headers=pm,
                                       json={**body, "version": app["version"]})
        assert response.status_code == status, (body, response.text)
        problem = response.json()
        assert problem["errors"][0]["field"] == field, (body, problem)
        assert response.headers["content-type"].startswith("application/problem+json")
    no_version = await svc.http.post(f"/applications/{app['id']}/decision", headers=pm,
                                     json={"decision": "decline", "reason": "No."})
    assert no_version.status_code == 428
    stale = await svc.http.post(f"/applications/{app['id']}/decision", headers=pm,
                                json={"decision": "decline", "reason": "No.", "version": app["version"] - 1})
    assert stale.status_code == 409 and stale.json()["current_version"] == app["version"]
    early = await svc.http.post(f"/applications/{app['id']}/scores", headers=svc.staff("rev-1"),
                                json={"scores": GOOD_SCORES, "version": app["version"]})
    assert early.status_code == 409 and early.json()["rule"] == "score_already_submitted"
    assert (await svc.ok(await svc.http.get("/rounds", headers=pm)))[0]["accepted"] == 0
    assert rnd["capacity"] == 3


async def test_an_unverified_official_and_a_partner_member_cannot_apply(svc):
    pending = {"Authorization": "Bearer " + svc.issuer.token("off-9", "official", roles=("official",),
                                                             city_id="city-flint", status="pending")}
    assert (await svc.http.post("/applications", headers=pending)).status_code == 403
    partner = {"Authorization": "Bearer " + svc.issuer.token("p-1", "partner_member")}
    assert (await svc.http.get("/applications", headers=partner)).status_code == 403
    assert (await svc.http.get("/applications")).status_code == 401
