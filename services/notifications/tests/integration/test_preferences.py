"""Preferences, unsubscribing, the daily digest and the 90-day follow-up, over HTTP."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

from nrn_contracts.events import accounts as acc
from nrn_contracts.events import requests311 as r311

from notifications.testing import later, question_submitted


async def test_unsubscribe_link_and_one_click_post_stop_that_kind_of_mail_only(svc, first) -> None:
    await svc.publish(question_submitted("req-1"))
    receipt = await svc.eventually(lambda: first(svc, "olive@flint.example", "We received"))
    url = receipt.message["List-Unsubscribe"].strip("<>")
    token = parse_qs(urlsplit(url).query)["token"][0]
    assert token in receipt.message.get_body(("plain",)).get_content()

    r = await svc.http.get(f"/unsubscribe/{token}")
    assert r.json() == {"kind": "my_questions", "label": "Your city's questions", "subscribed": True}
    r = await svc.http.post(f"/unsubscribe/{token}")  # what a mail client's one-click POST reaches
    assert r.status_code == 200 and r.json()["subscribed"] is False
    assert (await svc.http.post(f"/unsubscribe/{token}")).json()["subscribed"] is False  # idempotent
    r = await svc.http.post(f"/unsubscribe/{token[:-2]}xx")
    assert r.status_code == 404

    sent_before = len(svc.smtp.to("olive@flint.example"))
    await svc.publish(
        r311.InformationRequested(request_id="req-1", message="What is your budget?", by="lead-1", at=later()),
        r311.CallScheduled(request_id="req-1", call_id="c1", scheduled_for=later(days=2), by="off-1", at=later()))
    # calls are another kind: still e-mailed; the request for information is on the site only
    await svc.eventually(lambda: first(svc, "olive@flint.example", "Call booked"))

    async def on_the_site() -> bool:
        return any("more information" in n["title"] for n in (await svc.notices("off-1"))["items"])

    await svc.eventually(on_the_site)
    assert len(svc.smtp.to("olive@flint.example")) == sent_before + 1
    prefs = (await svc.http.get("/preferences", headers=svc.as_("off-1"))).json()
    assert {k["key"]: k["mode"] for k in prefs["kinds"]} == {
        "account": "email_now", "my_questions": "in_page", "calls": "email_now", "convenings": "email_now",
        "introductions": "email_now", "pro_bono": "email_now", "assistance": "email_now",
        "working_groups": "email_now"}


async def test_preferences_refuse_what_a_kind_does_not_offer_naming_the_field(svc) -> None:
    official = svc.as_("off-1")
    for body, field in [({"modes": {"calls": "daily_digest"}}, "modes.calls"),
                        ({"modes": {"new_questions": "in_page"}}, "modes.new_questions"),
                        ({"modes": {"account": "in_page"}}, "modes.account"),
                        ({"digest_time": "25:00"}, "digest_time"), ({"time_zone": "Mars/Olympus"}, "time_zone")]:
        r = await svc.http.put("/preferences", json=body, headers=official)
        assert r.status_code == 422 and r.json()["field"] == field, (body, r.text)
    r = await svc.http.put("/preferences", json={"surprise": 1}, headers=official)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "surprise"
    # staff see the kinds their roles receive
    lead = (await svc.http.get("/preferences", headers=svc.as_("lead-1", "staff", "triage_lead"))).json()
    assert [k["key"] for k in lead["kinds"]] == ["account", "new_questions", "introductions"]
    assert (await svc.http.get("/preferences")).status_code == 401


async def test_the_daily_digest_comes_once_at_the_persons_own_time(svc, first) -> None:
    r = await svc.http.put("/preferences", headers=svc.as_("off-1"), json={
        "modes": {"my_questions": "daily_digest"}, "digest_time": "07:30", "time_zone": "America/Chicago"})
    assert r.status_code == 200 and r.json()["time_zone"] == "America/Chicago"
    await svc.publish(question_submitted("req-1"), question_submitted("req-2", title="Can we reuse vacant lots?"))
    person = await svc.eventually(lambda: svc.db.people.find_one({"_id": "off-1", "digest_due_at": {"$exists": True}}))
    due = person["digest_due_at"]
    from zoneinfo import ZoneInfo

    assert due.astimezone(ZoneInfo("America/Chicago")).strftime("%H:%M") == "07:30"
    await svc.eventually(lambda: _pending_digest(svc, 2))
    assert (await svc.run_schedule())["digests"] == 0  # not yet
    svc.clock.advance(days=1)
    assert (await svc.run_schedule())["digests"] == 1
    digest = await svc.eventually(lambda: first(svc, "olive@flint.example", "daily summary"))
    text = digest.message.get_body(("plain",)).get_content()
    assert "How do we fund lead pipe replacement?" in text and "Can we reuse vacant lots?" in text
    assert "https://nrn.example/requests/req-2" in text
    assert digest.message["List-Unsubscribe"]
    assert not await first(svc, "olive@flint.example", "We received")  # no e-mail at once
    assert (await svc.run_schedule())["digests"] == 0  # once
    assert await svc.db.notices.count_documents({"recipient": "off-1", "digest": "pending"}) == 0


async def _pending_digest(svc, n: int) -> bool:  # noqa: ANN001
    return await svc.db.notices.count_documents({"recipient": "off-1", "digest": "pending"}) >= n


async def test_follow_up_reminder_ninety_days_after_an_answered_question(svc, first) -> None:
    await svc.publish(question_submitted("req-1"), question_submitted("req-2", title="Closed then reopened"),
                      r311.RequestClosed(request_id="req-1", reason="answered", closed_at=later()),
                      r311.RequestClosed(request_id="req-2", reason="answered", closed_at=later()),
                      r311.RequestReopened(request_id="req-2", reason="more to ask", by="off-1", at=later()))
    await svc.eventually(lambda: svc.db.follow_ups.find_one({"_id": "req-2", "state": "cancelled"}))
    assert (await svc.run_schedule())["follow_ups"] == 0
    svc.clock.advance(days=91)
    assert (await svc.run_schedule())["follow_ups"] == 1
    reminder = await svc.eventually(lambda: first(svc, "olive@flint.example", "Did the advice help?"))
    assert "https://nrn.example/requests/req-1#follow-up" in reminder.message.get_body(("plain",)).get_content()
    assert not await first(svc, "olive@flint.example", "Did the advice help? Closed then reopened")
    assert (await svc.run_schedule())["follow_ups"] == 0


async def test_in_page_notices_read_one_read_all_and_only_ones_own(svc) -> None:
    await svc.publish(question_submitted("req-1"), question_submitted("req-2", title="Second question"),
                      question_submitted("req-3", official="off-2", city="in-gary", title="Gary's question"))

    async def three() -> dict | None:
        page = await svc.notices("off-1")
        return page if page["unread"] == 3 else None  # two receipts and "verified"

    page = await svc.eventually(three)
    titles = [n["title"] for n in page["items"]]
    assert "We received your question “Second question”" in titles and titles[-1].startswith("Your account is verified")
    assert [n["created_at"] for n in page["items"]] == sorted((n["created_at"] for n in page["items"]), reverse=True)
    assert all(n["link"].startswith(("/requests/", "/")) for n in page["items"])
    assert not any("Gary" in n["title"] for n in page["items"])
    async def lead_told() -> set[str]:
        links = {n["link"] for n in (await svc.notices("lead-1", "staff", "triage_lead"))["items"]}
        return links if "/staff/requests/req-3" in links else set()

    assert await svc.eventually(lead_told) >= {"/staff/requests/req-1", "/staff/requests/req-3"}
    first_id = page["items"][0]["id"]
    r = await svc.http.post(f"/notices/{first_id}/read", headers=svc.as_("lead-1", "staff", "triage_lead"))
    assert r.status_code == 404  # not theirs
    r = await svc.http.post(f"/notices/{first_id}/read", headers=svc.as_("off-1"))
    assert r.status_code == 200 and r.json()["read"] is True and r.json()["unread"] == 2
    assert (await svc.http.get("/notices/unread-count", headers=svc.as_("off-1"))).json() == {"unread": 2}
    unread = (await svc.http.get("/notices", params={"unread": "true"}, headers=svc.as_("off-1"))).json()
    assert first_id not in [n["id"] for n in unread["items"]] and len(unread["items"]) == 2
    r = await svc.http.post("/notices/read-all", headers=svc.as_("off-1"))
    assert r.json() == {"marked": 2, "unread": 0}
    # paging
    one = (await svc.http.get("/notices", params={"limit": 1}, headers=svc.as_("off-1"))).json()
    two = (await svc.http.get("/notices", params={"limit": 1, "cursor": one["next_cursor"]},
                              headers=svc.as_("off-1"))).json()
    assert one["items"][0]["id"] != two["items"][0]["id"]
    assert (await svc.http.get("/notices", params={"cursor": "%%%"}, headers=svc.as_("off-1"))).status_code == 422


async def test_nobody_is_told_what_the_matrix_would_not_show_them(svc, first) -> None:
    # (two topics: their relative order is not guaranteed, so the deactivation is applied first)
    await svc.publish(acc.AccountDeactivated(account_id="lead-1", by="adm-1", at=later()))
    await svc.eventually(lambda: svc.db.people.find_one({"_id": "lead-1", "status": "deactivated"}))
    await svc.publish(
        # an official of another city named as the asker of Flint's question (cannot happen; must not leak)
        question_submitted("req-x", official="off-2", city="mi-flint", title="Flint's own matter"),
        question_submitted("req-y", title="After the lead left"))
    await svc.eventually(lambda: first(svc, "olive@flint.example", "After the lead left"))
    await asyncio.sleep(0.5)
    assert not svc.smtp.to("gus@gary.example")
    assert not await first(svc, "lead-1@nrn.example", "After the lead left")
    assert await svc.db.notices.count_documents({"recipient": "off-2"}) == 0
