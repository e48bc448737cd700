"""Peer context on the real broker and database: answered questions come from requests311's events
(kept in this service's read model), similar cities from engagements with shared barriers."""

from datetime import UTC, datetime

from nrn_contracts.events import requests311 as r311

T = datetime(2025, 2, 1, tzinfo=UTC)


def memo(request_id: str, city_id: str, consent: str, title: str, city_name: str | None = None):  # noqa: ANN201
    return r311.MemoDelivered(request_id=request_id, city_id=city_id, topic="housing", title=title,
                              question="How do we start a land bank?", short_answer="Start with tax-foreclosed lots.",
                              memo_markdown="## Short answer\n\nStart with tax-foreclosed lots.",
                              consent_to_publish=consent, city_name=city_name, delivered_at=T)


async def test_an_engagement_shows_peer_cities_and_their_answered_questions(svc):
    await svc.publish(memo("req-g", "city-gary", "named", "Starting a land bank", "Gary"),
                      memo("req-s", "city-saginaw", "none", "A private question"), source="/nrn/requests311")

    async def applied() -> bool:
        return await svc.db.answered_questions.count_documents({}) == 2

    await svc.eventually(applied)
    await svc.round(capacity=5)
    engagements = {}
    for sub in ("off-1", "off-4"):  # Flint and Gary both apply about housing
        app = await svc.ok(await svc.decide(await svc.scored(sub)))
        engagements[sub] = app["engagement_id"]
    context = await svc.ok(await svc.http.get(f"/engagements/{engagements['off-1']}/peer-context",
                                              headers=svc.official("off-1")))
    assert [c["name"] for c in context["cities"]] == ["Gary"]
    assert context["cities"][0]["shared_labels"] == ["Workforce", "Housing"]
    assert [(q["title"], q["city_name"]) for q in context["questions"]] == [("Starting a land bank", "Gary")]
    # another city's official cannot read Flint's peer context
    other = await svc.http.get(f"/engagements/{engagements['off-1']}/peer-context", headers=svc.official("off-4"))
    assert other.status_code == 404
