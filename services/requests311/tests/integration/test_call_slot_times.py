"""Call slots given as local times over HTTP: refused in a spring-forward gap, asked about when they
happen twice, taken once everywhere else; the same start twice is refused."""

from __future__ import annotations

from requests311.testing import memo_body

NY = "America/New_York"


async def delivered(svc) -> tuple[str, int, dict[str, str]]:
    """A request whose memo has been delivered (slots may be offered): its id, version and the expert."""
    await svc.seed()
    lead, pm = svc.staff("lead-1", "triage_lead"), svc.staff("pm-1", "program_manager")
    expert, reviewer = svc.staff("exp-1", "subject_matter_expert"), svc.staff("rev-1", "reviewer")
    r = await svc.http.post("/requests", json={"title": "Lead lines", "question": "How do we pay for it?",
                                               "topic": "housing"}, headers=svc.official())
    rid, v = r.json()["id"], r.json()["version"]
    steps = [("triage", {"topic": "housing"}, lead), ("assign", {"expert_id": "exp-1"}, lead),
             ("memo/drafts", {"body": memo_body(1_000)}, expert), ("memo/submit", {}, expert),
             ("memo/approve", {}, reviewer), ("memo/deliver", {}, pm)]
    for path, body, who in steps:
        r = await svc.http.post(f"/requests/{rid}/{path}", json={**body, "version": v}, headers=who)
        assert r.status_code in (200, 201), (path, r.text)
        v = r.json()["version"]
    return rid, v, expert


async def offer(svc, rid: str, v: int, expert: dict[str, str], *slots: dict):  # noqa: ANN201
    # the night the clocks change is a Sunday: outside business hours, so the offer says it means it
    return await svc.http.post(f"/requests/{rid}/call-slots",
                               json={"slots": [{"duration_minutes": 30, **s} for s in slots], "version": v,
                                     "outside_business_hours_confirmed": True},
                               headers=expert)


async def test_local_slot_times_at_both_transitions_and_where_there_is_no_daylight_saving(svc):
    rid, v, expert = await delivered(svc)

    # spring forward: 2:30 AM does not exist in New York on 14 March 2027
    r = await offer(svc, rid, v, expert, {"starts_at": "2027-03-10T10:00", "time_zone": NY},
                    {"starts_at": "2027-03-14T02:30", "time_zone": NY})
    assert r.status_code == 422, r.text
    problem = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert problem["field"] == "slots.1.starts_at" and problem["title"] == "That time does not exist"
    assert "does not exist in Eastern time" in problem["detail"] and "3:00 AM EDT" in problem["detail"]
    assert "choices" not in problem
    # the same gap written with an offset the zone never shows then is refused too
    r = await offer(svc, rid, v, expert, {"starts_at": "2027-03-14T02:30:00-05:00", "time_zone": NY})
    assert r.status_code == 422 and r.json()["field"] == "slots.0.starts_at"

    # fall back: 1:30 AM happens twice on 7 November 2027; the answer offers both, nothing is saved
    r = await offer(svc, rid, v, expert, {"starts_at": "2027-11-07T01:30", "time_zone": NY})
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["field"] == "slots.0.starts_at"
    assert [(c["fold"], c["starts_at"], c["abbreviation"]) for c in problem["choices"]] == [
        (0, "2027-11-07T01:30:00-04:00", "EDT"), (1, "2027-11-07T01:30:00-05:00", "EST")]
    view = await svc.http.get(f"/requests/{rid}", headers=expert)
    assert view.json()["version"] == v and view.json()["call_slots"] == []

    # the caller sends it again, saying which: with fold, or with the offset of the choice
    r = await offer(svc, rid, v, expert, {"starts_at": "2027-11-07T01:30", "time_zone": NY, "fold": 1},
                    {"starts_at": problem["choices"][0]["starts_at"], "time_zone": NY},
                    {"starts_at": "2027-11-08T09:00", "time_zone": "America/Phoenix"},
                    {"starts_at": "2027-03-14T02:30", "time_zone": "Pacific/Honolulu"})
    assert r.status_code == 200, r.text
    starts = sorted(s["starts_at"] for s in r.json()["call_slots"] if not s.get("withdrawn"))
    assert starts == ["2027-03-14T12:30:00Z", "2027-11-07T05:30:00Z", "2027-11-07T06:30:00Z",
                      "2027-11-08T16:00:00Z"]


async def test_a_start_offered_twice_is_refused_however_it_is_written(svc):
    rid, v, expert = await delivered(svc)
    r = await offer(svc, rid, v, expert, {"starts_at": "2027-06-01T10:00", "time_zone": NY},
                    {"starts_at": "2027-06-02T10:00", "time_zone": NY},
                    {"starts_at": "2027-06-01T14:00:00Z"})
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "slots.2.starts_at" and "same time as slot 1" in r.json()["detail"]
    # the two instants of 1:30 AM on the fall-back night are two different slots
    r = await offer(svc, rid, v, expert, {"starts_at": "2027-11-07T01:30", "time_zone": NY, "fold": 0},
                    {"starts_at": "2027-11-07T01:30", "time_zone": NY, "fold": 1})
    assert r.status_code == 200, r.text


async def test_a_local_time_without_a_zone_or_with_an_unknown_zone_is_refused_by_field(svc):
    rid, v, expert = await delivered(svc)
    r = await offer(svc, rid, v, expert, {"starts_at": "2027-06-01T10:00"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "slots.0", r.text
    r = await offer(svc, rid, v, expert, {"starts_at": "2027-06-01T10:00", "time_zone": "Eastern"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "slots.0.time_zone", r.text
