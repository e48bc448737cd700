"""Bad input, out-of-order actions, visibility, concurrency and the clock, over HTTP."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI, Request
from nrn_contracts.events import accounts as acc
from nrn_contracts.events import library as lib

from nrn_kit.serving import serve_app

from requests311.testing import memo_body

QUESTION = {"title": "Can we use ARPA funds for broadband?", "question": "Is a municipal fiber build eligible?",
            "topic": "broadband"}


async def submit(svc, headers=None, **overrides) -> dict:
    r = await svc.http.post("/requests", json={**QUESTION, **overrides}, headers=headers or svc.official())
    assert r.status_code == 201, r.text
    return r.json()


def problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return r.json()


async def test_bad_input_is_named(svc):
    await svc.seed()
    official = svc.official()
    cases = [({"title": ""}, "title"), ({"title": "x" * 201}, "title"), ({"question": "q" * 10_001}, "question"),
             ({"topic": "astrology"}, "topic"), ({"consent": "sure"}, "consent"), ({"colour": "red"}, "colour"),
             ({"preferred_call_times": ["a"] * 11}, "preferred_call_times")]
    for override, field in cases:
        r = await svc.http.post("/requests", json={**QUESTION, **override}, headers=official)
        assert problem(r, 422)["errors"][0]["field"] == field, (override, r.text)
    r = await svc.http.post("/requests", json={**QUESTION, "title": "   "}, headers=official)
    body = problem(r, 422)
    assert body["field"] == "title" and body["rule"] == "title_required"
    # unauthenticated, unverified, staff
    assert (await svc.http.post("/requests", json=QUESTION)).status_code == 401
    r = await svc.http.post("/requests", json=QUESTION, headers=svc.official(status="pending"))
    assert r.status_code == 403
    r = await svc.http.post("/requests", json=QUESTION, headers=svc.staff("lead-1", "triage_lead"))
    assert problem(r, 403)["rule"] == "only_officials_submit"


async def test_out_of_order_actions_name_the_rule(svc):
    await svc.seed()
    req = await submit(svc)
    rid, v = req["id"], req["version"]
    pm, lead = svc.staff("pm-1", "program_manager"), svc.staff("lead-1", "triage_lead")
    r = await svc.http.post(f"/requests/{rid}/memo/deliver", json={"version": v}, headers=pm)
    assert problem(r, 409)["rule"] == "memo_must_be_approved_before_delivery"
    r = await svc.http.post(f"/requests/{rid}/decline", json={"reason": "out_of_scope", "explanation": "legal",
                                                              "version": v}, headers=lead)
    assert r.status_code == 200
    v = r.json()["version"]
    r = await svc.http.post(f"/requests/{rid}/call/schedule", json={"slot_id": "s1", "version": v},
                            headers=svc.official())
    assert problem(r, 409)["rule"] == "call_scheduled_only_after_memo_delivery"
    r = await svc.http.post(f"/requests/{rid}/decline", json={"reason": "duplicate", "version": v}, headers=lead)
    assert r.status_code == 409  # status first: a declined request cannot be declined again
    other = await submit(svc)
    r = await svc.http.post(f"/requests/{other['id']}/decline", json={"reason": "duplicate", "version": 1},
                            headers=lead)
    assert problem(r, 422)["field"] == "duplicate_of"
    r = await svc.http.post(f"/requests/{other['id']}/decline",
                            json={"reason": "duplicate", "duplicate_of": "nope", "version": 1}, headers=lead)
    assert problem(r, 422)["rule"] == "duplicate_of_unknown"
    r = await svc.http.post(f"/requests/{other['id']}/assign", json={"expert_id": "exp-1", "version": 1},
                            headers=lead)
    assert problem(r, 409)["rule"] == "assign_only_after_triage_and_before_review"


async def test_versions_are_required_and_one_writer_wins(svc):
    await svc.seed()
    req = await submit(svc)
    rid = req["id"]
    lead, lead2 = svc.staff("lead-1", "triage_lead"), svc.staff("lead-2", "triage_lead")
    r = await svc.http.post(f"/requests/{rid}/triage", json={"topic": "housing"}, headers=lead)
    assert problem(r, 428)["rule"] == "version_required"
    results = await asyncio.gather(
        svc.http.post(f"/requests/{rid}/triage", json={"topic": "housing", "version": 1}, headers=lead),
        svc.http.post(f"/requests/{rid}/triage", json={"topic": "health", "version": 1}, headers=lead2),
    )
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 409], [r.text for r in results]
    loser = next(r for r in results if r.status_code == 409).json()
    assert loser["rule"] == "version_mismatch" and loser["current_version"] == 2
    stale = await svc.http.post(f"/requests/{rid}/notes", json={"text": "hi"},
                                headers={**lead, "If-Match": '"1"'})
    assert problem(stale, 409)["rule"] == "version_mismatch"


async def test_officials_see_only_their_city_and_never_internal_notes(svc):
    await svc.seed()
    req = await submit(svc)
    rid = req["id"]
    gary = svc.official("off-9", city_id="city-gary")
    assert (await svc.http.get(f"/requests/{rid}", headers=gary)).status_code == 404
    r = await svc.http.post(f"/requests/{rid}/consent", json={"consent": "named", "version": 1}, headers=gary)
    assert r.status_code in (404, 405)
    r = await svc.http.put(f"/requests/{rid}/consent", json={"consent": "named", "version": 1}, headers=gary)
    assert r.status_code == 404
    listed = await svc.http.get("/requests", headers=gary)
    assert listed.json()["items"] == []
    r = await svc.http.get("/requests", params={"city_id": "city-flint"}, headers=gary)
    assert r.status_code == 403
    lead = svc.staff("lead-1", "triage_lead")
    r = await svc.http.post(f"/requests/{rid}/notes", json={"text": "INTERNAL-ONLY", "version": 1}, headers=lead)
    assert r.status_code == 200
    mine = await svc.http.get(f"/requests/{rid}", headers=svc.official())
    assert "INTERNAL-ONLY" not in mine.text
    tl = await svc.http.get(f"/requests/{rid}/timeline", headers=svc.official())
    assert all(e["public"] for e in tl.json())
    staff = await svc.http.get(f"/requests/{rid}", headers=lead)
    assert "INTERNAL-ONLY" in staff.text
    # curators have no business with requests
    assert (await svc.http.get("/requests", headers=svc.staff("cur-1", "curator"))).status_code == 403


async def test_clock_pauses_breaches_once_and_fills_the_staff_queues(svc):
    await svc.seed()
    lead, admin = svc.staff("lead-1", "triage_lead"), svc.staff("adm-1", "administrator")
    waiting = await submit(svc)
    late = await submit(svc, title="Second question")
    # waiting on the city stops the clock: information is requested at once, then a month passes
    r = await svc.http.post(f"/requests/{waiting['id']}/information-requests",
                            json={"question": "Which budget year?", "version": 1}, headers=lead)
    assert r.status_code == 200 and r.json()["status"] == "awaiting_information"
    queue = await svc.http.get("/requests", params={"queue": "awaiting_information"}, headers=lead)
    assert [i["id"] for i in queue.json()["items"]] == [waiting["id"]]

    svc.clock.advance(hours=20)  # 20 of 24 business hours: the acknowledgement is at risk
    soon = await svc.http.get("/requests", params={"queue": "due_soon"}, headers=lead)
    assert [i["id"] for i in soon.json()["items"]] == [late["id"]]
    assert soon.json()["items"][0]["sla_status"] == "at_risk"

    svc.clock.advance(days=30)
    overdue = await svc.http.get("/requests", params={"queue": "overdue"}, headers=lead)
    assert [i["id"] for i in overdue.json()["items"]] == [late["id"]]
    first = await svc.http.post("/admin/sweep", headers=admin)
    again = await svc.http.post("/admin/sweep", headers=admin)
    assert first.json() == {"checked": 1, "breached": 2}  # acknowledge and memo
    assert again.json()["breached"] == 0
    assert await svc.db.outbox.count_documents({"type": {"$regex": "service_level_breached"}}) == 2

    paused = (await svc.http.get(f"/requests/{waiting['id']}", headers=lead)).json()
    memo_clock = next(s for s in paused["service_levels"] if s["step"] == "memo")
    assert memo_clock["paused"] and memo_clock["status"] == "on_time" and memo_clock["due_at"] is None
    r = await svc.http.post(f"/requests/{waiting['id']}/information",
                            json={"answer": "FY2026", "version": paused["version"]}, headers=svc.official())
    assert r.status_code == 200 and r.json()["status"] == "submitted"
    memo_clock = next(s for s in r.json()["service_levels"] if s["step"] == "memo")
    assert not memo_clock["paused"] and memo_clock["status"] == "on_time"
    assert (await svc.http.get("/queues", headers=lead)).json()["overdue"] == 1
    # running the sweep by hand is for administrators
    assert (await svc.http.post("/admin/sweep", headers=lead)).status_code == 403


async def test_library_publication_is_shown_on_the_request(svc):
    await svc.seed()
    req = await submit(svc, consent="named")
    at = datetime.now(UTC)
    await svc.publish(lib.ResourcePublished(
        resource_id="res-42", kind="answered_question", title="Can we use ARPA funds for broadband?", summary="Yes, with limits.",
        topics=("broadband",), source_request_id=req["id"], published_at=at),
        lib.AnswerFoundBeforeAsking(search_id="s1", official_id="off-1", city_id="city-flint",
                                    resource_id="res-1", query="fiber", at=at))

    async def published() -> bool:
        r = await svc.http.get(f"/requests/{req['id']}", headers=svc.official())
        return (r.json().get("published") or {}).get("resource_id") == "res-42"

    await svc.eventually(published)
    r = await svc.http.get(f"/requests/{req['id']}/timeline", headers=svc.official())
    assert r.json()[-1]["action"] == "published"
    # a background fact: shown, but it keeps the version the official read before it arrived
    r = await svc.http.get(f"/requests/{req['id']}", headers=svc.official())
    assert r.json()["version"] == req["version"] and r.headers["ETag"] == f'"{req["version"]}"'
    r = await svc.http.put(f"/requests/{req['id']}/consent", json={"consent": "anonymous", "version": req["version"]},
                           headers=svc.official())
    assert r.status_code == 200, r.text
    assert r.json()["version"] == req["version"] + 1
    await svc.publish(lib.ResourceArchived(resource_id="res-42", at=datetime.now(UTC), reason="withdrawn"))

    async def archived() -> bool:
        r = await svc.http.get(f"/requests/{req['id']}/timeline", headers=svc.official())
        return r.json()[-1]["action"] == "unpublished"

    await svc.eventually(archived)
    r = await svc.http.put(f"/requests/{req['id']}/consent", json={"consent": "named", "version": req["version"] + 1},
                           headers=svc.official())
    assert r.status_code == 200, r.text
    m = await svc.http.get("/metrics", headers=svc.staff("pm-1", "program_manager"))
    assert m.json()["answers_found_before_asking"] == 1


async def test_memo_preview_and_template(svc):
    await svc.seed()
    req = await submit(svc)
    expert = svc.staff("exp-1", "subject_matter_expert")
    t = await svc.http.get(f"/requests/{req['id']}/memo/template", headers=expert)
    r = await svc.http.post(f"/requests/{req['id']}/memo/preview", json={"body": t.json()["body"]}, headers=expert)
    assert r.status_code == 200 and r.json()["missing_sections"] == [] and "too_short" in r.json()["flags"]
    r = await svc.http.post(f"/requests/{req['id']}/memo/preview", json={"body": memo_body()}, headers=expert)
    assert r.json()["flags"] == [] and "<h2>" in r.json()["html"]
    r = await svc.http.post(f"/requests/{req['id']}/memo/preview", json={"body": "x" * 100_001}, headers=expert)
    assert problem(r, 422)["errors"][0]["field"] == "body"
    assert (await svc.http.post(f"/requests/{req['id']}/memo/preview", json={"body": "x"},
                                headers=svc.official())).status_code == 403


async def test_the_service_sweeps_for_breaches_by_itself(sweeping_svc):
    svc = sweeping_svc
    await svc.seed()
    req = await submit(svc)
    svc.clock.advance(days=3)  # acknowledgement (1 business day) is now overdue

    async def breached() -> bool:
        return await svc.db.outbox.count_documents({"type": {"$regex": "service_level_breached"}}) >= 1

    await svc.eventually(breached)
    view = (await svc.http.get(f"/requests/{req['id']}", headers=svc.staff("lead-1", "triage_lead"))).json()
    assert any(e["action"] == "service_level_breached" for e in view["timeline"])
    assert {s["step"]: s["status"] for s in view["service_levels"]}["acknowledge"] == "overdue"
    # more sweeps find nothing new: one breach per step
    before = await svc.db.outbox.count_documents({"type": {"$regex": "service_level_breached"}})
    version = view["version"]
    r = await svc.http.post(f"/requests/{req['id']}/notes", json={"text": "seen", "version": version},
                            headers=svc.staff("lead-1", "triage_lead"))
    assert r.status_code == 200
    assert await svc.db.outbox.count_documents({"type": {"$regex": "service_level_breached"}}) == before


async def test_similar_questions_come_from_the_library(svc):
    library = FastAPI()
    seen: dict = {}

    @library.get("/questions/similar")
    async def similar(request: Request, q: str, limit: int = 5, topic: str | None = None) -> dict:
        seen.update(q=q, topic=topic, auth=request.headers.get("authorization"))
        return {"search_id": "s-1", "items": [{"resource_id": "qa-1", "title": "Fiber ARPA", "snippet": "…"}]}

    async with serve_app(library) as url:
        svc.settings.library_url = url
        official = svc.official()
        r = await svc.http.get("/requests/similar", params={"q": "fiber broadband", "topic": "broadband"},
                               headers=official)
    assert r.status_code == 200
    assert r.json() == {"items": [{"resource_id": "qa-1", "title": "Fiber ARPA", "snippet": "…"}],
                        "search_id": "s-1", "skipped": False}
    assert seen == {"q": "fiber broadband", "topic": "broadband", "auth": official["Authorization"]}


async def test_accounts_events_change_who_can_ask_and_who_can_answer(svc):
    await svc.seed()
    at = datetime.now(UTC)
    await svc.publish(
        acc.RoleRevoked(account_id="exp-2", role="subject_matter_expert", by="adm-1", at=at),
        acc.CityEligibilityDetermined(city_id="city-gary", eligible=False, reasons=(), exception=False),
    )

    async def applied() -> bool:
        expert = await svc.db.experts.find_one({"_id": "exp-2"})
        city = await svc.db.cities.find_one({"_id": "city-gary"})
        return expert["is_expert"] is False and city["eligible"] is False

    await svc.eventually(applied)
    r = await svc.http.post("/requests", json=QUESTION, headers=svc.official("off-9", city_id="city-gary"))
    assert problem(r, 403)["rule"] == "city_must_be_eligible"
    r = await svc.http.post("/requests", json=QUESTION, headers=svc.official("off-5", city_id="city-nowhere"))
    assert problem(r, 422)["rule"] == "city_unknown"
    req = await submit(svc)
    lead = svc.staff("lead-1", "triage_lead")
    v = (await svc.http.post(f"/requests/{req['id']}/triage", json={"topic": "broadband", "version": 1},
                             headers=lead)).json()["version"]
    suggestions = (await svc.http.get(f"/requests/{req['id']}/expert-suggestions", headers=lead)).json()
    assert [s["expert_id"] for s in suggestions] == ["exp-1"] and not suggestions[0]["matches_topic"]
    r = await svc.http.post(f"/requests/{req['id']}/assign", json={"expert_id": "exp-2", "version": v},
                            headers=lead)
    assert problem(r, 422)["field"] == "expert_id"
    await svc.publish(acc.AccountDeactivated(account_id="exp-1", at=at))

    async def deactivated() -> bool:
        return bool((await svc.db.experts.find_one({"_id": "exp-1"})).get("deactivated"))

    await svc.eventually(deactivated)
    assert (await svc.http.get(f"/requests/{req['id']}/expert-suggestions", headers=lead)).json() == []


async def test_six_consent_changes_in_a_row_never_meet_a_409_from_background_facts(svc):
    """The field report: each change made with the version just read failed with 409 about half the
    time, because the library's "joined the public record" events moved the version in between. Here
    every change is made with a version read *before* such a fact landed (the worst case, forced)."""
    await svc.seed()
    official = svc.official()
    req = await submit(svc, consent="named")
    rid, facts = req["id"], 0
    for n, consent in enumerate(["anonymous", "none", "named", "anonymous", "named", "none"]):
        seen = (await svc.http.get(f"/requests/{rid}", headers=official)).json()["version"]
        # the library tells us, through the real broker and consumer, that the answer joined or left the record
        at = datetime.now(UTC)
        if n % 2 == 0:
            await svc.publish(lib.ResourcePublished(
                resource_id=f"res-{n}", kind="answered_question", title="Broadband funding", summary="Yes.",
                topics=("broadband",), source_request_id=rid, published_at=at))
            expected = "published"
        else:
            await svc.publish(lib.ResourceArchived(resource_id=f"res-{n - 1}", at=at, reason="consent changed"))
            expected = "unpublished"
        facts += 1

        async def landed(expected: str = expected, count: int = facts) -> bool:
            timeline = (await svc.http.get(f"/requests/{rid}/timeline", headers=official)).json()
            return sum(e["action"] in ("published", "unpublished") for e in timeline) == count \
                and timeline[-1]["action"] == expected

        await svc.eventually(landed)
        r = await svc.http.put(f"/requests/{rid}/consent", json={"consent": consent, "version": seen},
                               headers=official)
        assert r.status_code == 200, (n, r.text)
        assert r.json()["version"] == seen + 1 and r.json()["consent"] == consent
    # a person's concurrent write still wins over a stale one
    stale = await svc.http.put(f"/requests/{rid}/consent", json={"consent": "named", "version": seen},
                               headers=official)
    assert stale.status_code == 409 and stale.json()["current_version"] == seen + 1


async def test_a_background_fact_landing_mid_command_reruns_the_command_not_a_409(svc):
    import pytest

    from requests311.adapters.mongo import RequestRepository, RevisionMoved
    from requests311.domain.errors import VersionConflict

    await svc.seed()
    req = await submit(svc, consent="named")
    repository = RequestRepository(svc.db)
    mine = await repository.get(req["id"])  # a person's command has read the request ...
    background = await repository.get(req["id"])
    background.record_publication(resource_id="res-1", at=datetime.now(UTC))
    await repository.save(background, expected_version=background.version, now=datetime.now(UTC), by_person=False)
    # ... and is told to run again over the fact (writing would lose it), never that a person changed it
    with pytest.raises(RevisionMoved):
        await repository.save(mine, expected_version=req["version"], now=datetime.now(UTC))
    stored = await repository.get(req["id"])
    assert stored.version == req["version"] and stored.published is not None
    with pytest.raises(VersionConflict):
        await repository.save(stored, expected_version=req["version"] - 1, now=datetime.now(UTC))
