"""Funding rounds on the real database: the last place taken by two program managers at the same
moment (two service replicas on one database), and the waitlist promoted in score order when a
place frees."""

import asyncio

from engagements.adapters import mongo as repo
from engagements.testing import FAIR_SCORES, GOOD_SCORES

from .conftest import running_service

LOW = {"need": 3, "commitment": 3, "capacity": 3, "fit": 3, "impact": 3}


async def test_two_program_managers_accepting_the_last_place_at_once_cannot_both_succeed(make_settings, test_id):
    async with running_service(make_settings) as a:
        # a second replica of the service on the same database and topics, as in production
        async with running_service(make_settings, clock=a.clock, issuer=a.issuer, seed=False, drop=False) as b:
            rnd = await a.round(capacity=2)
            first = await a.scored("off-1")
            assert (await a.decide(first)).status_code == 200  # one of two places taken
            flint_is_in = first
            gary = await a.scored("off-4")
            naperville = await a.scored("off-5", exception_request="Poverty doubled in four tracts since 2010.")
            # both managers press "Accept" at the same moment, on different replicas
            results = await asyncio.gather(a.decide(gary, sub="pm-1"), b.decide(naperville, sub="pm-2"))
            statuses = sorted(r.status_code for r in results)
            assert statuses == [200, 409], [r.text for r in results]
            refused = next(r for r in results if r.status_code == 409).json()
            assert refused["rule"] == "round_at_capacity" and refused["waitlisted"] is True
            assert refused["waitlist_position"] == 1 and "All 2 places" in refused["detail"]
            doc = await repo.get_round(a.db, rnd["id"])
            assert (doc["capacity"], doc["accepted"]) == (2, 2)
            accepted = await a.db.applications.count_documents({"status": "accepted"})
            engagements = await a.db.engagements.count_documents({})
            waitlisted = await a.db.applications.count_documents({"status": "waitlisted"})
            assert (accepted, engagements, waitlisted) == (2, 2, 1)
            assert flint_is_in["id"] in {d["_id"] async for d in a.db.applications.find({"status": "accepted"})}


async def test_the_same_application_accepted_twice_at_once_opens_one_engagement(svc):
    await svc.round(capacity=5)
    app = await svc.scored("off-1")
    results = await asyncio.gather(svc.decide(app, sub="pm-1"), svc.decide(app, sub="pm-2"))
    assert sorted(r.status_code for r in results) == [200, 409]
    assert next(r for r in results if r.status_code == 409).json()["rule"] == "version_mismatch"
    assert await svc.db.engagements.count_documents({}) == 1
    assert (await repo.get_round(svc.db, (await svc.db.rounds.find_one({}))["_id"]))["accepted"] == 1


async def test_a_freed_place_goes_to_the_waitlist_in_score_order(svc):
    rnd = await svc.round(capacity=1)
    winner = await svc.scored("off-1")
    assert (await svc.decide(winner)).status_code == 200
    # Gary scores lower than Naperville; both are refused a place and wait in score order
    gary = await svc.scored("off-4", scores=(LOW, LOW))
    naperville = await svc.scored("off-5", scores=(GOOD_SCORES, FAIR_SCORES),
                                  exception_request="Poverty doubled in four tracts since 2010.")
    assert (await svc.decide(gary)).status_code == 409
    refused = await svc.decide(naperville)
    assert refused.status_code == 409 and refused.json()["waitlist_position"] == 1  # ahead of Gary's 3.00
    waitlist = await svc.ok(await svc.http.get(f"/rounds/{rnd['id']}/waitlist", headers=svc.staff("pm-1")))
    assert [w["application_id"] for w in waitlist] == [naperville["id"], gary["id"]]
    assert [w["score"]["points"] for w in waitlist] == ["3.88", "3.00"]

    # the accepted city cannot go ahead: its engagement is cancelled and its place goes to Naperville
    winner = await svc.ok(await svc.http.get(f"/applications/{winner['id']}", headers=svc.staff("pm-1")))
    e = await svc.ok(await svc.http.get(f"/engagements/{winner['engagement_id']}", headers=svc.staff("pm-1")))
    early = await svc.http.post(f"/engagements/{e['id']}/cancel", headers=svc.staff("exp-1"),
                                json={"reason": "x", "version": e["version"]})
    assert early.status_code == 403
    await svc.ok(await svc.http.post(f"/engagements/{e['id']}/cancel", headers=svc.staff("pm-1"), json={
        "reason": "The city could not assign a project manager.", "version": e["version"]}))
    promoted = await svc.ok(await svc.http.get(f"/applications/{naperville['id']}", headers=svc.official("off-5")))
    assert promoted["status"] == "accepted" and promoted["engagement_id"]
    assert promoted["decision"]["reason"] == "Strong sponsor commitment and clear need."  # the manager's own words
    assert (await svc.ok(await svc.http.get(f"/applications/{gary['id']}", headers=svc.staff("pm-1"))))["status"] == \
        "waitlisted"
    # raising the capacity promotes the next one at once
    raised = await svc.ok(await svc.http.patch(f"/rounds/{rnd['id']}", headers=svc.staff("pm-1"), json={"capacity": 2}))
    assert raised["promoted"] == [gary["id"]] and raised["accepted"] == 2
    lowered = await svc.http.patch(f"/rounds/{rnd['id']}", headers=svc.staff("pm-1"), json={"capacity": 1})
    assert lowered.status_code == 422 and lowered.json()["field"] == "capacity"
    events = await svc.read_topic(naperville["id"], 9)
    assert events[-3:] == ["application_decided", "application_promoted", "application_decided"]
