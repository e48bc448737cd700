"""The staff desk over HTTP: urgency on the clocks and in the queue's sort, keyword search, an
official's other questions, reassignment and unassignment with their events, the memo's autosave
(no version moved, conflicts refused), a confirmed incomplete memo, people named in the view."""

from __future__ import annotations

from nrn_contracts.events import accounts as acc

from requests311.testing import memo_body

from .test_rules_http import problem, submit


async def test_the_staff_desk(svc):
    await svc.seed()
    lead, pm = svc.staff("lead-1", "triage_lead"), svc.staff("pm-1", "program_manager")
    expert, other_expert = svc.staff("exp-1", "subject_matter_expert"), svc.staff("exp-2", "subject_matter_expert")
    await svc.publish(acc.AccountRegistered(account_id="lead-1", kind="staff", email="tara@nrn.example",
                                            name="Tara Lead", status="verified"))
    await svc.eventually(lambda: svc.db.experts.find_one({"_id": "lead-1", "name": "Tara Lead"}))

    routine = await submit(svc, title="Lead service lines in Peñasco neighborhoods", topic="finance_budgets")
    svc.clock.advance(minutes=1)
    urgent = await submit(svc, title="Water main emergency funding", topic="finance_budgets", urgency="urgent")
    svc.clock.advance(minutes=1)
    gary = await submit(svc, headers=svc.official("off-9", "city-gary"), title="Broadband for libraries")

    # urgency: the urgent question's memo clock is shorter, and it sorts first by urgency
    memo_due = {r["id"]: next(s["budget_business_days"] for s in r["service_levels"] if s["step"] == "memo")
                for r in (routine, urgent)}
    assert memo_due == {routine["id"]: 10, urgent["id"]: 4}
    listed = (await svc.http.get("/requests", params={"sort": "urgency"}, headers=lead)).json()["items"]
    assert listed[0]["id"] == urgent["id"] and listed[0]["next_due_step"] == "acknowledge"
    oldest = (await svc.http.get("/requests", params={"sort": "oldest"}, headers=lead)).json()["items"]
    assert [r["id"] for r in oldest] == [routine["id"], urgent["id"], gary["id"]]
    assert problem(await svc.http.get("/requests", params={"sort": "sideways"}, headers=lead), 422)

    # keyword search: words of the title, the city, accents and plurals folded; every word must match
    async def found(q: str, **params) -> list[str]:
        r = await svc.http.get("/requests", params={"q": q, **params}, headers=lead)
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()["items"]]

    assert await found("penasco LINE") == [routine["id"]]
    assert await found("flint") == [urgent["id"], routine["id"]]
    assert await found("flint libraries") == []
    assert await found("gary", queue="new") == [gary["id"]]
    # the requester's other questions: one official's, within their city
    mine = (await svc.http.get("/requests", params={"city_id": "city-flint", "official_id": "off-1"},
                               headers=lead)).json()["items"]
    assert {r["id"] for r in mine} == {routine["id"], urgent["id"]} and {r["official_id"] for r in mine} == {"off-1"}

    # triage marks the routine one urgent: its memo clock shortens
    r = await svc.http.post(f"/requests/{routine['id']}/triage", headers=lead,
                            json={"topic": "housing", "urgency": "urgent", "version": routine["version"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert next(s["budget_business_days"] for s in body["service_levels"] if s["step"] == "memo") == 4
    assert body["timeline"][-1]["actor_name"] == "Tara Lead" and body["triaged_by_name"] == "Tara Lead"

    # every active expert is offered, topic matches first, with their workload
    suggestions = (await svc.http.get(f"/requests/{routine['id']}/expert-suggestions", params={"limit": 50},
                                      headers=lead)).json()
    assert [(s["expert_id"], s["matches_topic"]) for s in suggestions] == [("exp-1", True), ("exp-2", False)]
    r = await svc.http.post(f"/requests/{routine['id']}/assign", headers=lead,
                            json={"expert_id": "exp-1", "version": body["version"]})
    v = r.json()["version"]
    # reassigning needs a reason; then the event names who it replaces
    r = await svc.http.post(f"/requests/{routine['id']}/assign", headers=lead, json={"expert_id": "exp-2", "version": v})
    assert problem(r, 422)["field"] == "reason"
    r = await svc.http.post(f"/requests/{routine['id']}/assign", headers=lead,
                            json={"expert_id": "exp-2", "reason": "Eve is on leave", "version": v})
    assert r.status_code == 200 and r.json()["expert_name"] == "Ed Expert"
    v = r.json()["version"]
    workload = {e["id"]: e["open_requests"] for e in (await svc.http.get("/experts", headers=lead)).json()}
    assert workload == {"exp-1": 0, "exp-2": 1}
    assert await found("ed expert") == [routine["id"]]  # the expert's name is searchable
    r = await svc.http.post(f"/requests/{routine['id']}/unassign", headers=expert, json={"reason": "x", "version": v})
    assert problem(r, 403)
    r = await svc.http.post(f"/requests/{routine['id']}/unassign", headers=pm,
                            json={"reason": "Needs a housing specialist", "version": v})
    assert r.status_code == 200 and r.json()["status"] == "triaged" and r.json()["expert_id"] is None
    assert {e["id"]: e["open_requests"] for e in (await svc.http.get("/experts", headers=lead)).json()}["exp-2"] == 0
    v = r.json()["version"]
    r = await svc.http.post(f"/requests/{routine['id']}/assign", headers=lead, json={"expert_id": "exp-1", "version": v})
    v = r.json()["version"]

    # autosave: the memo as typed is kept, the version does not move, a stale editor is refused
    r = await svc.http.put(f"/requests/{routine['id']}/memo/working-copy", headers=expert,
                           json={"body": "## Question\n\nStarted", "version": v, "base_revision": 0})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == v and r.json()["revision"] == 1
    r = await svc.http.put(f"/requests/{routine['id']}/memo/working-copy", headers=expert,
                           json={"body": "other tab", "version": v, "base_revision": 0})
    assert problem(r, 409)["rule"] == "working_copy_changed" and r.json()["current_revision"] == 1
    r = await svc.http.put(f"/requests/{routine['id']}/memo/working-copy", headers=other_expert,
                           json={"body": "not mine", "version": v, "base_revision": 1})
    assert problem(r, 403)["rule"] == "only_the_assigned_expert"
    view = (await svc.http.get(f"/requests/{routine['id']}", headers=lead)).json()
    assert view["version"] == v and view["memo_working_copy"]["body"] == "## Question\n\nStarted"
    assert view["memo_working_copy"]["by_name"] == "Eve Expert"
    r = await svc.http.post(f"/requests/{routine['id']}/notes", headers=lead, json={"text": "Mayor called", "version": v})
    v = r.json()["version"]
    r = await svc.http.put(f"/requests/{routine['id']}/memo/working-copy", headers=expert,
                           json={"body": "late", "version": v - 1, "base_revision": 1})
    assert problem(r, 409)["rule"] == "version_mismatch"

    # an incomplete memo goes to review only when the expert confirms it
    r = await svc.http.post(f"/requests/{routine['id']}/memo/drafts", headers=expert,
                            json={"body": memo_body().split("## Resources")[0], "version": v})
    assert r.status_code == 201 and r.json()["memo_working_copy"] is None
    v = r.json()["version"]
    r = await svc.http.post(f"/requests/{routine['id']}/memo/submit", headers=expert, json={"version": v})
    assert problem(r, 422)["rule"] == "memo_sections_required"
    r = await svc.http.post(f"/requests/{routine['id']}/memo/submit", headers=expert,
                            json={"version": v, "accept_incomplete": True})
    assert r.status_code == 200 and r.json()["status"] == "memo_in_review"
    names = {e["actor_name"] for e in r.json()["timeline"]}
    assert {"Pat Official", "Tara Lead", "Eve Expert", "NRN staff"} <= names  # pm-1 was never registered
    assert r.json()["notes"][-1]["by_name"] == "Tara Lead"
