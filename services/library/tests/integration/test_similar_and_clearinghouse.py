"""Similar questions with the "it answered my question" count; the clearinghouse; event-born resources."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from aiokafka import AIOKafkaConsumer

from library.app import create_app
from library.config import Settings
from nrn_contracts import decode
from nrn_contracts.events import accounts as acc
from nrn_contracts.events import engagements as eng
from nrn_contracts.events import peer
from nrn_contracts.events import requests311 as r311
from nrn_contracts.topics import LIBRARY_TOPIC
from nrn_kit.auth import TokenVerifier
from nrn_kit.localtime import program_today
from nrn_kit.serving import serve_app

T0 = datetime(2026, 2, 2, 15, 0, tzinfo=UTC)


def memo(request_id: str, title: str, question: str, answer: str, topic: str = "housing") -> r311.MemoDelivered:
    return r311.MemoDelivered(request_id=request_id, city_id="city-flint", topic=topic, title=title,
                              question=question, short_answer=answer, memo_markdown=f"## Short answer\n{answer}",
                              consent_to_publish="anonymous", delivered_at=T0)


async def test_similar_questions_and_answer_found_before_asking(lib):
    await lib.publish(
        memo("req-1", "Starting a land bank", "Can our city start a land bank for vacant, tax-foreclosed homes?",
             "Yes, by ordinance with the county."),
        memo("req-2", "Paying for lead pipes", "How can we finance replacing lead service lines?",
             "State revolving fund loans.", topic="health"))
    await lib.approve("qa-req-1")
    await lib.approve("qa-req-2")

    async def both_indexed() -> bool:
        return len(await lib.search_ids("", type="answered_question")) == 2

    await lib.eventually(both_indexed)
    official = lib.official("off-7", "city-gary")
    r = await lib.http.post("/similar-questions", json={"text": "We have hundreds of vacant foreclosed homes. "
                                                                "Could a land bank help us?"}, headers=official)
    assert r.status_code == 200, r.text
    found = r.json()
    assert found["search_id"] and found["items"][0]["id"] == "qa-req-1"

    # anonymous callers get suggestions but nothing is recorded
    anon = (await lib.http.post("/similar-questions", json={"text": "land bank vacant homes"})).json()
    assert anon["search_id"] is None and anon["items"][0]["id"] == "qa-req-1"
    # the GET form requests311 uses
    got = (await lib.http.get("/questions/similar", params={"q": "lead service lines financing", "topic": "health"})).json()
    assert [h["id"] for h in got["items"]] == ["qa-req-2"]

    helpful = f"/similar-questions/{found['search_id']}/helpful"
    assert (await lib.http.post(helpful, json={"resource_id": "qa-req-1"}, headers=lib.official("off-8", "city-gary"))
            ).status_code == 403
    assert (await lib.http.post(helpful, json={"resource_id": "qa-req-2"}, headers=official)).status_code == 422
    r = await lib.http.post(helpful, json={"resource_id": "qa-req-1"}, headers=official)
    assert r.status_code == 201 and r.json() == {"recorded": True}
    again = await lib.http.post(helpful, json={"resource_id": "qa-req-1"}, headers=official)
    assert again.status_code == 200 and again.json() == {"recorded": False}

    # the event leaves the service through the outbox and the relay
    consumer = AIOKafkaConsumer(lib.settings.topic(LIBRARY_TOPIC), bootstrap_servers=lib.settings.kafka_bootstrap_servers,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    try:
        seen = []
        for _ in range(100):  # a bound against hanging only; nothing is timed
            batch = await consumer.getmany(timeout_ms=300)
            for records in batch.values():
                seen += [decode(rec.value)[1] for rec in records]
            if any(type(e).__name__ == "AnswerFoundBeforeAsking" for e in seen):
                break
        [afba] = [e for e in seen if type(e).__name__ == "AnswerFoundBeforeAsking"]
        assert (afba.official_id, afba.city_id, afba.resource_id) == ("off-7", "city-gary", "qa-req-1")
        assert "land bank" in afba.query
    finally:
        await consumer.stop()


PROGRAM = {
    "agency": "HUD", "name": "Section 108 Loan Guarantee Program",
    "summary": "Loan guarantees that let CDBG grantees finance large economic development and housing projects.",
    "help_given": ["financing", "technical_assistance"], "topics": ["economic_development", "housing"],
    "eligibility": {"entity_kinds": ["city", "county"], "max_population": 200_000, "requires_distress": True},
    "how_to_apply": "Talk to the HUD field office, then submit an application with the CDBG action plan.",
    "rolling": True, "url": "https://www.hud.gov/program_offices/comm_planning/section108",
}


async def test_clearinghouse_crud_filters_and_eligibility(lib):
    await lib.publish(
        acc.CityRegistered(city_id="city-flint", name="Flint", state="MI", population=81_252),
        acc.CityEligibilityDetermined(city_id="city-flint", eligible=True, reasons=(), exception=False),
        acc.CityRegistered(city_id="city-big", name="Big City", state="TX", population=1_300_000),
        source="/nrn/accounts")

    async def cities() -> bool:
        return await lib.db.cities.count_documents({"name": {"$exists": True}}) == 2

    await lib.eventually(cities)
    maint = lib.curator("cur-9")
    assert (await lib.http.post("/clearinghouse/programs", json=PROGRAM, headers=lib.official())).status_code == 403
    r = await lib.http.post("/clearinghouse/programs", json=PROGRAM, headers=maint)
    assert r.status_code == 201, r.text
    p108 = r.json()
    eda = {**PROGRAM, "agency": "EDA", "name": "Economic Adjustment Assistance", "topics": ["economic_development"],
           "help_given": ["grants", "planning"], "rolling": False, "eligibility": {},
           "deadlines": [{"label": "FY round", "due": (program_today() + timedelta(days=30)).isoformat()}]}
    r = await lib.http.post("/clearinghouse/programs", json=eda, headers=maint)
    assert r.status_code == 201
    bad = await lib.http.post("/clearinghouse/programs", json={**PROGRAM, "agency": "CIA"}, headers=maint)
    assert bad.status_code == 422

    async def listed(**params) -> list[str]:
        r = await lib.http.get("/clearinghouse/programs", params=params)
        assert r.status_code == 200, r.text
        return [p["content"]["name"] for p in r.json()["items"]]

    assert await listed() == ["Economic Adjustment Assistance", "Section 108 Loan Guarantee Program"]
    assert await listed(agency="HUD") == ["Section 108 Loan Guarantee Program"]
    assert await listed(topic="housing") == ["Section 108 Loan Guarantee Program"]
    assert await listed(help="grants") == ["Economic Adjustment Assistance"]
    assert await listed(eligible_for="city-big") == ["Economic Adjustment Assistance"]
    assert len(await listed(eligible_for="city-flint")) == 2
    mine = await lib.http.get("/clearinghouse/programs", params={"eligible_for": "mine"}, headers=lib.official())
    assert len(mine.json()["items"]) == 2
    assert (await lib.http.get("/clearinghouse/programs", params={"eligible_for": "city-nowhere"})).status_code == 404

    one = await lib.http.get(f"/clearinghouse/programs/{p108['program_id']}", params={"city_id": "city-big"})
    assert one.json()["eligibility"]["eligible"] is False
    assert any("at most" in x and "residents" in x for x in one.json()["eligibility"]["reasons"])

    # programmes are searchable, with the agency facet
    async def searchable() -> bool:
        return p108["program_id"] in await lib.search_ids("loan guarantee", kind="program", agency="HUD")

    await lib.eventually(searchable)

    r = await lib.http.patch(f"/clearinghouse/programs/{p108['program_id']}", json={"rolling": False},
                             headers={**maint, "If-Match": '"1"'})
    assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["open"] is False
    r = await lib.http.delete(f"/clearinghouse/programs/{p108['program_id']}", headers=maint)
    assert r.status_code == 204
    assert await listed() == ["Economic Adjustment Assistance"]
    assert (await lib.http.get(f"/clearinghouse/programs/{p108['program_id']}")).status_code == 404

    async def gone() -> bool:
        return p108["program_id"] not in await lib.search_ids("loan guarantee")

    await lib.eventually(gone)
    kinds = [e.kind for e in await lib.outbox_events("resource_published.v1")]
    assert kinds == ["federal_program", "federal_program"]
    assert [e.resource_id for e in await lib.outbox_events("resource_archived.v1")] == [p108["program_id"]]


async def test_close_out_reports_and_convenings_become_resources(lib):
    await lib.publish(acc.CityRegistered(city_id="city-gary", name="Gary", state="IN", population=69_000),
                      source="/nrn/accounts")
    await lib.eventually(lambda: _has_city(lib))
    await lib.publish(
        eng.EngagementClosed(engagement_id="eng-1", city_id="city-gary", close_out_summary=(
            "Gary consolidated its permitting into one office; contact Dana Kowalski at 219-555-0101."),
            consent_to_publish="named", closed_at=T0),
        eng.EngagementClosed(engagement_id="eng-2", city_id="city-gary", close_out_summary="Confidential.",
                             consent_to_publish="none", closed_at=T0),
        peer.ConveningScheduled(convening_id="conv-1", kind="working_group", title="Broadband working group",
                                description="Digital equity plans; questions to the NRN team.", working_group="Broadband",
                                topics=("broadband",), starts_at=T0, ends_at=T0 + timedelta(hours=2)),
        source="/nrn/engagements")
    # close-out reports and convening material wait for a curator too
    review = await lib.pending_review("closeout-eng-1")
    assert "Dana Kowalski" in review["original"]["body"] and "Dana Kowalski" not in review["content"]["body"]
    assert "closeout-eng-1" not in await lib.search_ids("")
    await lib.approve("closeout-eng-1")
    await lib.approve("convening-conv-1")

    async def both() -> bool:
        ids = await lib.search_ids("")
        return "closeout-eng-1" in ids and "convening-conv-1" in ids

    await lib.eventually(both)
    assert "closeout-eng-2" not in await lib.search_ids("")
    c = (await lib.http.get("/resources/closeout-eng-1")).json()["content"]
    assert c["type"] == "close_out_report" and c["related_cities"] == ["Gary, IN"]
    assert "Dana Kowalski" not in c["body"] and "219-555-0101" not in c["body"]
    w = (await lib.http.get("/resources/convening-conv-1")).json()["content"]
    assert w["type"] == "working_group_deliverable" and w["topics"] == ["broadband"]

    # consent withdrawn later: the report goes
    await lib.publish(eng.EngagementClosed(engagement_id="eng-1", city_id="city-gary", close_out_summary="x",
                                           consent_to_publish="none", closed_at=T0 + timedelta(days=1)),
                      source="/nrn/engagements")

    async def withdrawn() -> bool:
        return (await lib.http.get("/resources/closeout-eng-1")).status_code == 404

    await lib.eventually(withdrawn)


async def test_peer_materials_and_deliverables_are_published_as_nrn_own(lib):
    """NRN-authored: published at once (no curator queue), not redacted, found in search; a second
    delivery of the same event changes nothing; a newer version of the deliverable updates it."""
    material = peer.ConveningMaterialPublished(
        convening_id="cnv-1", material_id="mat-1", convening_title="NRN Annual Convening 2027",
        material_kind="slides", title="Opening plenary: what peer cities learned",
        summary="Slides from the opening plenary", body="## Lessons\n\nCall Dana Kowalski at 219-555-0101.",
        link="https://example.org/slides.pdf", topics=("economic_development",), speakers=("Mayor Andy Berke",),
        held_on=date(2027, 4, 14), by="pm-1", at=T0)
    deliverable = peer.DeliverablePublished(
        working_group_id="wg-1", deliverable_id="dlv-1", working_group_name="Broadband Working Group",
        title="Practical resource guide to broadband", summary="Steps for cities", body="# Guide\n\nMap coverage first.",
        topics=("broadband",), member_cities=("Chattanooga, TN", "Youngstown, OH"),
        contributors=("Nia Partner",), version=2, approved_by="pm-1", at=T0)
    await lib.publish(material, deliverable, material, source="/nrn/peer")

    async def both() -> bool:
        ids = await lib.search_ids("")
        return "material-mat-1" in ids and "deliverable-dlv-1" in ids

    await lib.eventually(both)
    assert "deliverable-dlv-1" in await lib.search_ids("broadband resource guide")
    m = (await lib.http.get("/resources/material-mat-1")).json()["content"]
    assert m["type"] == "convening_material" and m["link"] == "https://example.org/slides.pdf"
    assert "Slides from NRN Annual Convening 2027, April 14, 2027." in m["body"]
    assert "219-555-0101" in m["body"]  # NRN's own document: not redacted
    d = (await lib.http.get("/resources/deliverable-dlv-1")).json()["content"]
    assert d["type"] == "working_group_deliverable" and d["related_cities"] == ["Chattanooga, TN", "Youngstown, OH"]
    assert d["authors"] == ["Nia Partner"]
    assert await lib.db.reviews.count_documents({"resource_id": {"$in": ["material-mat-1", "deliverable-dlv-1"]}}) == 0

    await lib.publish(deliverable.model_copy(update={"body": "# Guide\n\nMap coverage first. Then apply.",
                                                     "version": 3}), source="/nrn/peer")

    async def updated() -> bool:
        return "Then apply" in (await lib.http.get("/resources/deliverable-dlv-1")).json()["content"]["body"]

    await lib.eventually(updated)
    published = [e.resource_id for e in await lib.outbox_events("resource_published.v1")]
    assert published.count("material-mat-1") == 1 and published.count("deliverable-dlv-1") == 1
    assert [e.resource_id for e in await lib.outbox_events("resource_updated.v1")] == ["deliverable-dlv-1"]


async def _has_city(lib) -> bool:
    return await lib.db.cities.count_documents({}) == 1


async def test_a_second_replica_follows_through_the_change_stream_and_rebuilds(lib, make_settings):
    cur = lib.curator()
    body = {"type": "guide", "title": "Participatory budgeting guide", "summary": "Residents decide on spending",
            "body": "Participatory budgeting hands part of the capital budget to residents.",
            "topics": ["finance_budgets"], "source_organisation": "Participatory Budgeting Project"}
    rid = (await lib.http.post("/resources", json=body, headers=cur)).json()["resource_id"]
    # the replica shares the database; its consumers are off so it only serves reads
    replica_settings = lib.settings.model_copy(update={"consumers_enabled": False, "relay_embedded": False})
    replica = create_app(Settings.model_validate(replica_settings.model_dump()))
    async with serve_app(replica) as url:
        import httpx

        replica.state.runtime.verifier = TokenVerifier(jwks=lib.issuer.jwks)
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            async def on_replica(q: str, present: bool) -> bool:
                r = await http.get("/search", params={"q": q, "include_unpublished": "true"}, headers=cur)
                return (rid in [h["id"] for h in r.json()["hits"]]) == present

            await lib.eventually(lambda: on_replica("participatory budgeting", True))  # from the start-up rebuild
            r = await lib.http.patch(f"/resources/{rid}", json={"title": "Community budgeting guide", "version": 1},
                                     headers=cur)
            assert r.status_code == 200
            await lib.eventually(lambda: on_replica("community budgeting", True))   # from the change stream
            rebuilt = await http.post("/admin/search/rebuild", headers=cur)
            assert rebuilt.status_code == 200 and rebuilt.json() == {"indexed": 1}
            assert (await http.post("/admin/search/rebuild", headers=lib.official())).status_code == 403


async def test_clearinghouse_keyword_search_and_plain_limits(lib):
    await lib.publish(acc.CityRegistered(city_id="city-gary", name="Gary", state="IN", population=69_000),
                      source="/nrn/accounts")
    await lib.eventually(lambda: _has_city(lib))
    base = {"summary": "Help for cities.", "help_given": ["planning"], "topics": ["housing"],
            "how_to_apply": "Write to the regional office.", "rolling": True}
    for name, agency, extra in (
        ("Brownfields Assessment Grants", "EPA", {"eligibility": {"min_population": 100_000}}),
        ("Lead Hazard Reduction", "HUD", {"help_details": "Removes lead paint and lead pipes from homes."}),
        ("Rural Water Loans", "USDA", {"eligibility": {"states": ["MI", "OH"], "rural_only": True}}),
    ):
        r = await lib.http.post("/clearinghouse/programs", json={**base, "name": name, "agency": agency, **extra},
                                headers=lib.curator())
        assert r.status_code == 201, r.text

    async def listed(q: str, **params) -> list[str]:
        r = await lib.http.get("/clearinghouse/programs", params={"q": q, **params})
        assert r.status_code == 200, r.text
        return [p["content"]["name"] for p in r.json()["items"]]

    async def ready() -> bool:
        return await listed("lead") == ["Lead Hazard Reduction"]

    await lib.eventually(ready)
    assert await listed("brownfield") == ["Brownfields Assessment Grants"]
    assert await listed("lead", agency="EPA") == []
    r = (await lib.http.get("/clearinghouse/programs", params={"q": "brownfeilds"})).json()
    assert [p["content"]["name"] for p in r["items"]] == ["Brownfields Assessment Grants"]
    assert r["search"]["corrections"] == [{"typed": "brownfeilds", "searched": "brownfields"}]
    water = (await lib.http.get("/clearinghouse/programs", params={"q": "water"})).json()["items"][0]
    assert water["limits"] == ["Only for places in Michigan or Ohio.", "Only for rural places."]
    one = (await lib.http.get(f"/clearinghouse/programs/{water['program_id']}", params={"city_id": "city-gary"})).json()
    assert one["eligibility"]["reasons"] == ["Only places in Michigan or Ohio can apply; Gary is in Indiana."]
