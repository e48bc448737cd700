"""The library publishes an engagement's final report when the city consents (after its curators'
review, as for everything event-born): engagements and the library running together on the real
broker and database, nothing faked between them."""

from __future__ import annotations

from datetime import timedelta

import httpx

from engagements.testing import FAIR_SCORES, GOOD_SCORES
from nrn_cli.system import running_system
from nrn_kit.auth import TokenVerifier
from nrn_kit.consumer import applied_event_keys
from nrn_kit.kafka import make_producer
from nrn_kit.testing import TokenIssuer, eventually

from .conftest import FakeClock, Service


async def drive_to_closing(svc: Service, *, consent: str) -> str:
    await svc.round()
    app = await svc.scored("off-1", scores=(GOOD_SCORES, FAIR_SCORES))
    app = await svc.ok(await svc.decide(app))
    eid = app["engagement_id"]
    pm, olive = svc.staff("pm-1"), svc.official("off-1")
    e = await svc.ok(await svc.http.get(f"/engagements/{eid}", headers=pm))
    e = await svc.ok(await svc.http.post(f"/engagements/{eid}/assessment", headers=pm, json={
        "version": e["version"], "visited_on": svc.clock.now.date().isoformat(),
        "barriers": [{"barrier": "housing", "findings": "Vacancy in three wards."}]}))
    due = (svc.clock.now.date() + timedelta(days=60)).isoformat()
    e = await svc.ok(await svc.http.post(f"/engagements/{eid}/work-plan", headers=pm, json={
        "version": e["version"], "milestones": [{"title": "Vacancy inventory", "owner": "Planning", "due_on": due}]}))
    e = await svc.ok(await svc.http.post(f"/engagements/{eid}/work-plan/agreement", headers=olive,
                                         json={"version": e["version"], "plan_version": 1}))
    e = await svc.ok(await svc.http.post(f"/engagements/{eid}/close-out", headers=pm, json={
        "version": e["version"], "outcomes": [{"milestone_id": "m1", "result": "met"}],
        "final_report": "Flint built a vacancy inventory with its land bank. Contact Jordan Lee at 810-555-0199."}))
    await svc.ok(await svc.http.post(f"/engagements/{eid}/close-out/confirmation", headers=olive,
                                     json={"version": e["version"], "consent": consent}))
    return eid


async def test_the_library_publishes_the_close_out_report_when_the_city_consents(nrn_infra, test_id):
    issuer, clock = TokenIssuer(), FakeClock()
    prefix = f"lc{test_id}"
    overrides = {"engagements": {"orphan_sweep_interval_seconds": 0}}
    async with running_system(kafka_bootstrap_servers=nrn_infra.kafka_bootstrap_servers,
                              mongodb_uri=nrn_infra.mongodb_uri, prefix=prefix, names=("library", "engagements"),
                              overrides=overrides, common={"kafka_session_timeout_ms": 1000,
                                                          "kafka_heartbeat_interval_ms": 200,
                                                          "relay_poll_seconds": 0.2}) as system:
        for name in ("library", "engagements"):
            system.runtime(name).verifier = TokenVerifier(jwks=issuer.jwks)
        app = system.apps["engagements"]
        # the service as the tests elsewhere drive it, with its clock taken over by hand
        app.state.runtime.state["deps"].clock = clock
        settings = system.settings["engagements"]
        producer = make_producer(settings)
        await producer.start()
        try:
            svc = Service(app, system.urls["engagements"], settings, clock, issuer, producer)
            await svc.seed()  # accounts' events: the library learns the cities from them too
            named = await drive_to_closing(svc, consent="named")
            curator = {"Authorization": "Bearer " + issuer.token("cur-1", "staff", roles=("curator",))}
            async with httpx.AsyncClient(base_url=system.urls["library"], timeout=30) as library:
                async def pending() -> dict | None:
                    page = (await library.get("/reviews", params={"status": "pending"}, headers=curator)).json()
                    return next((r for r in page["items"] if r["resource_id"] == f"closeout-{named}"), None)

                # the library's curators review what joins the public record: the report waits for them
                review = await eventually(pending)
                assert review["consent"] == "named" and review["source"] == "engagements"
                assert (await library.get(f"/resources/closeout-{named}")).status_code == 404
                approved = await library.post(f"/reviews/{review['review_id']}/approve",
                                              json={"version": review["version"]}, headers=curator)
                assert approved.status_code == 200, approved.text
                resource = (await library.get(f"/resources/closeout-{named}")).json()
                content = resource["content"]
                assert content["type"] == "close_out_report" and content["related_cities"] == ["Flint, MI"]
                assert "vacancy inventory" in content["body"]
                assert "810-555-0199" not in content["body"]  # the library redacts contact details

                # a city that keeps its report private: nothing is published
                await svc.db.applications.update_many({}, {"$set": {"status": "declined"}})  # let Flint apply again
                private = await drive_to_closing(svc, consent="none")
                await eventually(lambda: _closed_event_applied(system, private))
                assert (await library.get(f"/resources/closeout-{private}")).status_code == 404
                page = (await library.get("/reviews", params={"status": "pending"}, headers=curator)).json()
                assert all(r["resource_id"] != f"closeout-{private}" for r in page["items"])
        finally:
            await producer.stop()
            await svc.http.aclose()


async def _closed_event_applied(system, engagement_id: str) -> bool:  # noqa: ANN001
    """The library has applied the EngagementClosed of `engagement_id` (its inbox holds the event's id)."""
    outbox = await system.runtime("engagements").db.outbox.find_one(
        {"key": engagement_id, "type": {"$regex": "engagement_closed"}})
    if outbox is None:
        return False
    keys = await applied_event_keys(system.runtime("library").db, consumer="read-models")
    return keys.count(f"read-models:{outbox['_id']}") == 1
