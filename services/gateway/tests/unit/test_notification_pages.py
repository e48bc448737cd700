"""The notification centre, its header count, settings, unsubscribe and the staff mail pages,
over a fake notifications service (httpx.MockTransport)."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.auth import InvalidToken, Principal
from gateway.config import Settings

OFFICIAL = Principal(account_id="acc-flint", kind="official", roles=frozenset(), expertise=frozenset(),
                     city_id="mi-flint", status="verified", token="tok-flint")
STAFF = Principal(account_id="acc-lead", kind="staff", roles=frozenset({"triage_lead"}), expertise=frozenset(),
                  city_id=None, status="verified", token="tok-lead")
PRINCIPALS = {p.token: p for p in (OFFICIAL, STAFF)}
PASSWORDS = {"fran@example.org": "tok-flint", "lee@nrn.example": "tok-lead"}


async def verify(token: str) -> Principal:
    if token not in PRINCIPALS:
        raise InvalidToken("unknown")
    return PRINCIPALS[token]


def accounts(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/auth/token":
        form = dict(x.split("=") for x in request.content.decode().split("&"))
        token = PASSWORDS.get(form["username"].replace("%40", "@"))
        return httpx.Response(200, json={"access_token": token, "token_type": "bearer", "refresh_token": "r"})
    if request.url.path == "/me":
        return httpx.Response(200, json={"name": "Fran"})
    return httpx.Response(404, json={"status": 404, "title": "Not found"})


class FakeNotifications:
    def __init__(self) -> None:
        self.notices = [
            {"id": "e1:acc-flint:my_questions", "kind": "my_questions", "kind_label": "Your city's questions",
             "title": "The memo answering “Lead <pipes>” is ready.", "link": "/requests/req-1",
             "created_at": "2026-03-03T15:00:00Z", "read": False},
            {"id": "e0:acc-flint:account", "kind": "account", "kind_label": "Your account and its security",
             "title": "Your account is verified.", "link": "/", "created_at": "2026-03-01T15:00:00Z", "read": True},
        ]
        self.prefs: dict[str, Any] = {"modes": {}}
        self.retried: list[str] = []
        self.calls: list[str] = []

    def unread(self) -> int:
        return sum(not n["read"] for n in self.notices)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        self.calls.append(f"{method} {path}")
        if path == "/notices/unread-count":
            return httpx.Response(200, json={"unread": self.unread()})
        if path == "/notices":
            return httpx.Response(200, json={"items": self.notices, "unread": self.unread(), "next_cursor": None})
        if path == "/notices/read-all":
            for n in self.notices:
                n["read"] = True
            return httpx.Response(200, json={"marked": 1, "unread": 0})
        if m := re.fullmatch(r"/notices/(.+)/read", path):
            found = [n for n in self.notices if n["id"] == m.group(1)]
            if not found:
                return httpx.Response(404, json={"status": 404, "title": "Not found", "detail": "no such notice"})
            found[0]["read"] = True
            return httpx.Response(200, json={**found[0], "unread": self.unread()})
        if path == "/preferences" and method == "GET":
            return httpx.Response(200, json=self.preferences())
        if path == "/preferences" and method == "PUT":
            body = json.loads(request.content)
            if body.get("digest_time") == "25:00":
                return httpx.Response(422, json={"status": 422, "title": "Invalid input", "field": "digest_time",
                                                 "detail": "a time of day as HH:MM, 24-hour clock (for example 08:00)"})
            self.prefs = body
            return httpx.Response(200, json=self.preferences())
        if m := re.fullmatch(r"/unsubscribe/(.+)", path):
            if m.group(1) != "good-token":
                return httpx.Response(404, json={"status": 404, "title": "Not found"})
            subscribed = method == "GET"
            return httpx.Response(200, json={"kind": "my_questions", "label": "Your city's questions",
                                             "subscribed": subscribed})
        if path == "/admin/mail":
            return httpx.Response(200, json={"counts": {"failed": 1, "sent": 3}, "next_cursor": None, "items": [
                {"id": "m1", "to": "fran@example.org", "to_name": "Fran", "subject": "Your memo is ready",
                 "kind_label": "Your city's questions", "state": "failed", "attempts": 8,
                 "last_error": "server answered 451 mailbox busy", "created_at": "2026-03-03T15:00:00Z",
                 "sent_at": None, "next_attempt_at": None}]})
        if m := re.fullmatch(r"/admin/mail/(.+)/retry", path):
            self.retried.append(m.group(1))
            return httpx.Response(200, json={"id": m.group(1), "state": "pending"})
        if path == "/caught-mail":
            return httpx.Response(200, json={"total": 1, "items": [
                {"id": "k1", "from": "NRN <n@nrn.example>", "to": ["fran@example.org"], "subject": "Call booked",
                 "date": None, "message_id": "<a@nrn.example>", "received_at": "2026-03-03T15:00:00+00:00",
                 "has_calendar": True, "attachments": 1}]})
        if path == "/caught-mail/k1":
            return httpx.Response(200, json={
                "id": "k1", "from": "NRN <n@nrn.example>", "to": ["fran@example.org"], "subject": "Call booked",
                "received_at": "2026-03-03T15:00:00+00:00", "message_id": "<a@nrn.example>", "size": 4096,
                "headers": [["Subject", "Call booked"]], "text": "Hello <Fran>", "calendar": "BEGIN:VCALENDAR",
                "html": "<p>Hello</p><script>alert(1)</script>",
                "attachment_list": [{"index": 0, "filename": "invitation.ics", "content_type": "application/ics",
                                     "size": 12}]})
        if path == "/caught-mail/k1/attachments/0":
            return httpx.Response(200, content=b"BEGIN:VCALENDAR", headers={
                "content-type": "application/ics", "content-disposition": 'attachment; filename="invitation.ics"'})
        return httpx.Response(404, json={"status": 404, "title": "Not found", "detail": "no such thing"})

    def preferences(self) -> dict:
        return {"kinds": [
            {"key": "account", "label": "Your account and its security", "description": "d", "fixed": True,
             "mode": "email_now", "modes": [{"value": "email_now", "label": "Email me right away"}]},
            {"key": "my_questions", "label": "Your city's questions", "description": "d", "fixed": False,
             "mode": self.prefs.get("modes", {}).get("my_questions", "email_now"),
             "modes": [{"value": "email_now", "label": "Email me right away"},
                       {"value": "daily_digest", "label": "One e-mail a day (daily digest)"},
                       {"value": "in_page", "label": "Only on the site, no e-mail"}]}],
            "digest_time": "08:00", "time_zone": "America/Detroit",
            "zones": [{"value": "America/New_York", "label": "Eastern (New York, Detroit, Atlanta)"}]}


@pytest.fixture
def fake() -> FakeNotifications:
    return FakeNotifications()


@pytest.fixture
async def client(fake):  # noqa: ANN001, ANN201
    app = create_app(Settings(cookie_secure=False, upstream_retries=0, notice_poll_seconds=7), verifier=verify,
                     transports={"accounts": httpx.MockTransport(accounts), "notifications": httpx.MockTransport(fake),
                                 "requests311": httpx.MockTransport(lambda r: httpx.Response(503)),
                                 "library": httpx.MockTransport(lambda r: httpx.Response(503))})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as c:
        yield c


async def csrf_of(client: httpx.AsyncClient, path: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', (await client.get(path)).text).group(1)


async def sign_in(client: httpx.AsyncClient, email: str = "fran@example.org") -> str:
    token = await csrf_of(client, "/signin")
    r = await client.post("/signin", data={"username": email, "password": "x", "csrf_token": token})
    assert r.status_code == 303
    return await csrf_of(client, "/notifications")


async def test_the_header_asks_for_the_count_on_its_own_and_polls(client, fake) -> None:  # noqa: ANN001
    await sign_in(client)
    page = await client.get("/notifications/settings")
    header = page.text.split('<header class="site-header">', 1)[1].split("</header>", 1)[0]
    assert 'hx-get="/notifications/badge"' in header and 'hx-trigger="load, every 7s"' in header
    assert "GET /notices/unread-count" not in fake.calls  # the page did not wait for it
    badge = await client.get("/notifications/badge", headers={"HX-Request": "true"})
    assert '<span class="count">1</span>' in badge.text and 'hx-trigger="every 7s"' in badge.text
    anonymous = httpx.AsyncClient(transport=client._transport, base_url="http://gw.test")  # noqa: SLF001
    assert (await anonymous.get("/notifications/badge")).status_code == 204


async def test_the_centre_lists_marks_read_and_opens_the_thing_itself(client, fake) -> None:  # noqa: ANN001
    csrf = await sign_in(client)
    page = await client.get("/notifications")
    assert page.status_code == 200 and "Lead &lt;pipes&gt;" in page.text and "<pipes>" not in page.text
    assert "1 unread" in page.text and "Mark all as read" in page.text
    assert 'href="/notifications/e1%3Aacc-flint%3Amy_questions/open"' in page.text
    # htmx: the item comes back read, with the header's count swapped out of band
    r = await client.post("/notifications/e1%3Aacc-flint%3Amy_questions/read",
                          headers={"HX-Request": "true", "X-CSRF-Token": csrf})
    assert r.status_code == 200 and "Mark as read" not in r.text and 'hx-swap-oob="true"' in r.text
    assert '<span class="count">' not in r.text
    r = await client.get("/notifications/e0%3Aacc-flint%3Aaccount/open")
    assert r.status_code == 303 and r.headers["location"] == "/"
    r = await client.get("/notifications/e1%3Aacc-flint%3Amy_questions/open")
    assert r.headers["location"] == "/requests/req-1"
    assert (await client.get("/notifications/nope/open")).status_code == 404
    fake.notices[0]["read"] = False
    r = await client.post("/notifications/read-all", data={"csrf_token": csrf})
    assert r.status_code == 303 and fake.unread() == 0


async def test_a_notice_linking_off_site_is_not_followed(client, fake) -> None:  # noqa: ANN001
    await sign_in(client)
    fake.notices[0]["link"] = "https://evil.example/phish"
    r = await client.get("/notifications/e1%3Aacc-flint%3Amy_questions/open")
    assert r.headers["location"] == "/notifications"


async def test_settings_save_and_a_refusal_names_the_field_without_losing_the_form(client, fake) -> None:  # noqa: ANN001
    csrf = await sign_in(client)
    page = await client.get("/notifications/settings")
    assert "Always emailed right away" in page.text and 'name="mode:my_questions"' in page.text
    r = await client.post("/notifications/settings", data={"csrf_token": csrf, "mode:my_questions": "daily_digest",
                                                           "digest_time": "07:30", "time_zone": "America/New_York"})
    assert r.status_code == 303 and fake.prefs["modes"] == {"my_questions": "daily_digest"}
    assert fake.prefs["digest_time"] == "07:30"
    r = await client.post("/notifications/settings", data={"csrf_token": csrf, "digest_time": "25:00"})
    assert r.status_code == 422 and 'id="digest_time" name="digest_time"' in r.text
    assert 'aria-invalid="true" aria-describedby="digest_time_error"' in r.text and "HH:MM" in r.text


async def test_unsubscribe_page_confirm_and_one_click_need_no_session(client, fake) -> None:  # noqa: ANN001
    page = await client.get("/unsubscribe", params={"token": "good-token"})
    assert page.status_code == 200 and "Stop these emails?" in page.text and "Your city" in page.text
    r = await client.post("/unsubscribe", data={"token": "good-token"})
    assert r.status_code == 200 and "You will no longer get these emails" in r.text
    r = await client.post("/unsubscribe?token=good-token", data={"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200 and r.text == "Unsubscribed."
    assert (await client.post("/unsubscribe?token=bad-token-here")).status_code == 404
    assert (await client.get("/unsubscribe")).status_code == 404


async def test_staff_see_failed_messages_retry_them_and_read_caught_mail(client, fake) -> None:  # noqa: ANN001
    csrf = await sign_in(client, "lee@nrn.example")
    page = await client.get("/staff/mail?state=failed")
    assert "451 mailbox busy" in page.text and "Send again" in page.text and 'Failed <span class="count">1</span>' in page.text
    r = await client.post("/staff/mail/m1/retry", data={"csrf_token": csrf, "back": "/staff/mail?state=failed"})
    assert r.status_code == 303 and fake.retried == ["m1"]
    caught = await client.get("/staff/mail/caught")
    assert "Call booked" in caught.text and "Calendar invitation" in caught.text
    one = await client.get("/staff/mail/caught/k1")
    assert "Hello &lt;Fran&gt;" in one.text and 'sandbox src="/staff/mail/caught/k1/html"' in one.text
    assert "invitation.ics" in one.text
    html = await client.get("/staff/mail/caught/k1/html")
    assert html.headers["content-security-policy"].startswith("sandbox; default-src 'none'")
    assert html.headers["x-frame-options"] == "SAMEORIGIN"
    attachment = await client.get("/staff/mail/caught/k1/attachments/0")
    assert attachment.content == b"BEGIN:VCALENDAR" and "invitation.ics" in attachment.headers["content-disposition"]


async def test_officials_cannot_open_the_staff_mail_pages(client) -> None:  # noqa: ANN001
    await sign_in(client)
    for path in ("/staff/mail", "/staff/mail/caught", "/staff/mail/caught/k1", "/staff/mail/caught/k1/html"):
        assert (await client.get(path)).status_code == 403, path


async def test_notifications_down_the_pages_still_render(fake) -> None:  # noqa: ANN001
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    app = create_app(Settings(cookie_secure=False, upstream_retries=0), verifier=verify,
                     transports={"accounts": httpx.MockTransport(accounts), "notifications": httpx.MockTransport(down),
                                 "requests311": httpx.MockTransport(lambda r: httpx.Response(503)),
                                 "library": httpx.MockTransport(lambda r: httpx.Response(503))})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as c:
        await sign_in(c)
        page = await c.get("/notifications")
        assert page.status_code == 200 and "cannot be shown right now" in page.text
        badge = await c.get("/notifications/badge")
        assert badge.status_code == 200 and 'class="count"' not in badge.text
