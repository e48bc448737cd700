"""The public record of answered questions, built from requests311's (and accounts') events alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nrn_contracts.events import accounts as acc
from nrn_contracts.events import requests311 as r311

T0 = datetime(2026, 2, 2, 15, 0, tzinfo=UTC)
MEMO = (
    "## Short answer\nYes. Flint can create a land bank by local ordinance under the state's land bank act.\n\n"
    "## Options\nThe Genesee County Land Bank Authority is the model. Call Jane Doe at 810-555-0142 or write to "
    "jane.doe@cityofflint.com; Marcus Reid in the treasurer's office has the parcel list.\n\n"
    "## Next steps\nDraft the ordinance and an intergovernmental agreement with the county."
)


def memo(request_id: str, consent: str, city_name: str | None = "Flint", at: datetime = T0) -> r311.MemoDelivered:
    return r311.MemoDelivered(
        request_id=request_id, city_id="city-flint", topic="housing", title="Can Flint start a land bank?",
        question="Mayor Sheldon Neeley asks whether Flint can start a land bank for its vacant homes.",
        short_answer="Yes: by ordinance, working with the county's land bank.", memo_markdown=MEMO,
        consent_to_publish=consent, city_name=city_name if consent == "named" else None, delivered_at=at)


async def seed(lib) -> None:
    await lib.publish(
        acc.CityRegistered(city_id="city-flint", name="Flint", state="MI", population=81_252),
        acc.AccountRegistered(account_id="acc-marcus", kind="official", email="m.reid@cityofflint.com",
                              name="Marcus Reid", city_id="city-flint", status="verified"),
        source="/nrn/accounts")
    await lib.eventually(lambda: _count(lib, "people", 1))
    await lib.eventually(lambda: _count(lib, "cities", 1))


async def _count(lib, coll: str, n: int) -> bool:
    return await lib.db[coll].count_documents({}) == n


async def _answer(lib, request_id: str):
    return await lib.http.get(f"/answers/{request_id}")


async def test_named_answer_is_published_redacted_and_searchable(lib):
    await seed(lib)
    await lib.publish(memo("req-1", "named"), r311.RequestClosed(request_id="req-1", reason="answered",
                                                                  closed_at=T0 + timedelta(days=2)))
    await lib.approve("qa-req-1")

    async def published() -> bool:
        return (await _answer(lib, "req-1")).status_code == 200

    await lib.eventually(published)
    body = (await _answer(lib, "req-1")).json()
    c = body["content"]
    assert body["resource_id"] == "qa-req-1" and c["type"] == "answered_question"
    assert c["related_cities"] == ["Flint, MI"] and "Flint" in c["title"]
    text = " ".join([c["title"], c["summary"], c["body"], c["question"]])
    for secret in ("Jane Doe", "810-555-0142", "jane.doe@cityofflint.com", "Marcus Reid", "Sheldon Neeley"):
        assert secret not in text
    assert "Genesee County Land Bank Authority" in c["body"]

    async def searchable() -> bool:
        return "qa-req-1" in await lib.search_ids("land bank ordinance", type="answered_question")

    await lib.eventually(searchable)
    [event] = await lib.outbox_events("resource_published.v1")
    assert event.kind == "answered_question" and event.source_request_id == "req-1"
    assert event.city_id == "city-flint" and "Jane Doe" not in (event.body_markdown or "")


async def test_anonymous_consent_strikes_the_city_and_withdrawal_removes_it(lib):
    await seed(lib)
    await lib.publish(memo("req-2", "anonymous"))
    await lib.approve("qa-req-2")
    await lib.eventually(lambda: _status(lib, "req-2", 200))
    c = (await _answer(lib, "req-2")).json()["content"]
    assert c["related_cities"] == []
    for text in (c["title"], c["summary"], c["body"], c["question"]):
        assert "Flint" not in text
    [event] = await lib.outbox_events("resource_published.v1")
    assert event.city_id is None

    await lib.eventually(lambda: _found(lib, "vacant homes land bank", "qa-req-2"))
    await lib.publish(r311.ConsentChanged(request_id="req-2", consent_to_publish="none", previous="anonymous",
                                          at=T0 + timedelta(days=5)))
    await lib.eventually(lambda: _status(lib, "req-2", 404))
    await lib.eventually(lambda: _gone(lib, "vacant homes land bank", "qa-req-2"))
    [archived] = await lib.outbox_events("resource_archived.v1")
    assert archived.resource_id == "qa-req-2" and "consent" in archived.reason
    # the text is dropped from the library's own copy, not just hidden
    stored = await lib.db.resources.find_one({"_id": "qa-req-2"})
    assert stored["status"] == "archived" and "land bank" not in stored["content"]["body"]


async def test_no_consent_publishes_nothing_and_redelivery_is_idempotent(lib):
    await seed(lib)
    await lib.publish(memo("req-3", "none"), memo("req-4", "named"), memo("req-4", "named"))
    await lib.eventually(lambda: _count(lib, "answered_questions", 2))
    await lib.approve("qa-req-4")
    await lib.eventually(lambda: _status(lib, "req-4", 200))
    # the same memo delivered once more after approval: nothing new to review or announce
    await lib.publish(memo("req-4", "named"), r311.RequestClosed(request_id="req-4", reason="answered",
                                                                  closed_at=T0 + timedelta(days=1)))

    async def closed() -> bool:  # same key, same partition: applied after the memo
        d = await lib.db.answered_questions.find_one({"_id": "req-4"})
        return bool(d and d.get("closed_at"))

    await lib.eventually(closed)
    assert await lib.db.reviews.count_documents({}) == 1
    assert (await _answer(lib, "req-3")).status_code == 404
    assert len(await lib.outbox_events("resource_published.v1")) == 1
    assert await lib.outbox_events("resource_updated.v1") == []


async def test_question_submitted_feeds_the_asked_questions_read_model(lib):
    await lib.publish(r311.QuestionSubmitted(
        request_id="req-9", city_id="city-flint", official_id="off-1", title="How do we budget for lead lines?",
        question="We need to replace 10,000 lead service lines. How do other cities pay for it?",
        topic="health", urgency="routine", consent_to_publish="named", submitted_at=T0))

    async def present() -> bool:
        return (await lib.http.get("/questions/asked/req-9", headers=lib.staff())).status_code == 200

    await lib.eventually(present)
    doc = (await lib.http.get("/questions/asked/req-9", headers=lib.staff())).json()
    assert doc["city_id"] == "city-flint" and doc["topic"] == "health"
    assert (await lib.http.get("/questions/asked/req-9", headers=lib.official())).status_code == 403
    # asked, not answered: nothing published
    assert (await _answer(lib, "req-9")).status_code == 404


async def _status(lib, request_id: str, code: int) -> bool:
    return (await _answer(lib, request_id)).status_code == code


async def _found(lib, q: str, rid: str) -> bool:
    return rid in await lib.search_ids(q)


async def _gone(lib, q: str, rid: str) -> bool:
    return rid not in await lib.search_ids(q)


async def test_nothing_joins_the_public_record_before_a_curator_reviews_it(lib):
    await seed(lib)
    secret_memo = MEMO + "\n\nContact José Núñez, josé@city.gov, 810‑555‑0142, at 1101 S. Saginaw Street."
    await lib.publish(memo("req-5", "anonymous").model_copy(update={"memo_markdown": secret_memo}),
                      memo("req-6", "named"))
    review = await lib.pending_review("qa-req-5")
    # side by side: the original as written, the redacted text that would be published
    assert "José Núñez" in review["original"]["body"] and "josé@city.gov" in review["original"]["body"]
    for secret in ("José Núñez", "josé@city.gov", "810‑555‑0142", "Saginaw", "Flint", "Jane Doe"):
        assert secret not in review["content"]["body"]
    assert review["redactions"]["email"] >= 2 and review["redactions"]["city"] >= 1
    assert review["city_name"] == "Flint" and review["consent"] == "anonymous"
    # nothing is public, nothing announced, nothing searchable yet
    assert (await _answer(lib, "req-5")).status_code == 404
    assert "qa-req-5" not in await lib.search_ids("land bank")
    assert await lib.outbox_events("resource_published.v1") == []
    # only curators see the queue
    assert (await lib.http.get("/reviews", headers=lib.official())).status_code == 403
    assert (await lib.http.get("/reviews", headers=lib.staff())).status_code == 403

    # the curator edits the text to publish, then approves it
    rid = review["review_id"]
    edited = await lib.http.patch(f"/reviews/{rid}", json={"title": "Starting a land bank", "version": review["version"]},
                                  headers=lib.curator())
    assert edited.status_code == 200, edited.text
    stale = await lib.http.post(f"/reviews/{rid}/approve", json={"version": review["version"]}, headers=lib.curator())
    assert stale.status_code == 409
    bad = await lib.http.patch(f"/reviews/{rid}", json={"audience": "staff", "version": edited.json()["version"]},
                               headers=lib.curator())
    assert bad.status_code == 422 and bad.json()["field"] == "audience"
    approved = await lib.http.post(f"/reviews/{rid}/approve", json={"version": edited.json()["version"]},
                                   headers=lib.curator("cur-2"))
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["status"] == "approved" and body["decided_by"] == "cur-2" and body["decided_at"]
    assert [h["action"] for h in body["history"]] == ["proposed", "edited", "approved"]
    assert body["actors"]["system:requests311"] == "311 for Cities (automatic)"
    await lib.eventually(lambda: _status(lib, "req-5", 200))
    assert (await _answer(lib, "req-5")).json()["content"]["title"] == "Starting a land bank"
    [event] = await lib.outbox_events("resource_published.v1")
    assert event.resource_id == "qa-req-5" and event.title == "Starting a land bank" and event.city_id is None
    again = await lib.http.post(f"/reviews/{rid}/approve", json={"version": body["version"]}, headers=lib.curator())
    assert again.status_code == 409 and "approved" in again.json()["detail"]

    # the other one is rejected: nothing published, nothing announced, who and when kept
    other = await lib.pending_review("qa-req-6")
    rejected = await lib.http.post(f"/reviews/{other['review_id']}/reject",
                                   json={"reason": "Names a resident in the options.", "version": other["version"]},
                                   headers=lib.curator("cur-3"))
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["status"], rejected.json()["decided_by"]) == ("rejected", "cur-3")
    assert rejected.json()["reason"] == "Names a resident in the options."
    assert (await _answer(lib, "req-6")).status_code == 404
    assert len(await lib.outbox_events("resource_published.v1")) == 1
    decided = await lib.http.get("/reviews", params={"status": "rejected"}, headers=lib.curator())
    assert [i["review_id"] for i in decided.json()["items"]] == [other["review_id"]]


async def test_consent_narrowed_after_publication_takes_the_named_answer_down_at_once(lib):
    await seed(lib)
    await lib.publish(memo("req-7", "named"))
    await lib.approve("qa-req-7")
    await lib.eventually(lambda: _status(lib, "req-7", 200))
    await lib.publish(r311.ConsentChanged(request_id="req-7", consent_to_publish="anonymous", previous="named",
                                          at=T0 + timedelta(days=1)))
    # the named version leaves the record now; the anonymous one waits for review
    await lib.eventually(lambda: _status(lib, "req-7", 404))
    review = await lib.pending_review("qa-req-7")
    assert "Flint" not in review["content"]["title"]
    [archived] = await lib.outbox_events("resource_archived.v1")
    assert archived.resource_id == "qa-req-7"
    # consent withdrawn while waiting: the review closes and its original texts are dropped
    await lib.publish(r311.ConsentChanged(request_id="req-7", consent_to_publish="none", previous="anonymous",
                                          at=T0 + timedelta(days=2)))

    async def withdrawn() -> bool:
        d = await lib.db.reviews.find_one({"_id": review["review_id"]})
        return d["status"] == "withdrawn"

    await lib.eventually(withdrawn)
    d = await lib.db.reviews.find_one({"_id": review["review_id"]})
    assert d["original"] == {} and "land bank" not in d["content"]["body"]
