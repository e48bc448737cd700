"""The memo through the gateway, over a fake requests311 (httpx.MockTransport): the staff editor and
its preview warn, in words, of characters the PDF cannot print; staff download any version as a
PDF; hostile Markdown stays inert on every page; the memo's HTML keeps its own security policy."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.auth import InvalidToken, Principal
from gateway.config import Settings
from gateway.security import CONTENT_SECURITY_POLICY

EXPERT = Principal(account_id="acc-exp", kind="staff", roles=frozenset({"subject_matter_expert"}),
                   expertise=frozenset({"housing"}), city_id=None, status="verified", token="tok-exp")
FLINT = Principal(account_id="acc-flint", kind="official", roles=frozenset(), expertise=frozenset(),
                  city_id="mi-flint", status="verified", token="tok-flint")
TOKENS = {"expert": EXPERT, "flint": FLINT}
HOSTILE = "[x](javascript&#58;alert(1)) ![c](/etc/hostname) <img src=x onerror=alert(1)> [ok](https://nrn.example/a)"
UNPRINTABLE = [{"character": "\ue000", "code_point": "U+E000", "name": "Private-use character",
                "fields": ["memo", "recipient"]}]
MEMO_CSP = "default-src 'none'; style-src 'sha256-abc='; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
VERSION = {"number": 1, "body": f"# Memo\n\n{HOSTILE}", "state": "draft", "word_count": 900, "flags": [],
           "drafted_at": "2027-03-03T15:00:00+00:00", "review_comments": []}
VIEW = {"id": "req-1", "version": 5, "status": "memo_drafted", "title": "Lead lines", "city_id": "mi-flint",
        "city_name": "Flint", "state": "MI", "expert_id": "acc-exp", "memo_versions": [VERSION],
        "memo": {"version": 1, "body": f"# Memo\n\n{HOSTILE}", "word_count": 900,
                 "delivered_at": "2027-03-03T15:00:00+00:00"},
        "print_check": {"memo_version": 1, "unprintable_characters": UNPRINTABLE}, "actions": [],
        "timeline": [], "service_levels": [], "information_requests": [], "calls": [], "call_slots": []}


async def verify(token: str) -> Principal:
    for p in TOKENS.values():
        if p.token == token:
            return p
    raise InvalidToken("unknown")


@pytest.fixture
async def gateway() -> Any:
    asked: list[httpx.Request] = []

    def accounts(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/token":
            who = dict(x.split("=") for x in request.content.decode().split("&"))["password"]
            return httpx.Response(200, json={"access_token": TOKENS[who].token, "token_type": "bearer",
                                             "refresh_token": "r"})
        if request.url.path == "/me":
            return httpx.Response(200, json={"account_id": "acc-exp", "name": "Eve Expert", "kind": "staff"})
        return httpx.Response(404, json={"status": 404, "title": "Not found"})

    def requests311(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        path = request.url.path
        if path == "/requests/req-1":
            return httpx.Response(200, json=VIEW)
        if path == "/requests/req-1/memo/preview":
            return httpx.Response(200, json={"word_count": 3, "flags": ["too_short"], "missing_sections": [],
                                             "empty_sections": [], "html": "<p>ignored</p>",
                                             "unprintable_characters": UNPRINTABLE})
        if path == "/requests/req-1/memo.pdf":
            return httpx.Response(200, content=b"%PDF-1.7 memo", headers={
                "content-type": "application/pdf", "content-disposition": 'attachment; filename="nrn-memo.pdf"'})
        if path == "/requests/req-1/memo.html":
            return httpx.Response(200, text="<!doctype html><style>x</style>", headers={
                "content-type": "text/html; charset=utf-8", "content-security-policy": MEMO_CSP})
        return httpx.Response(404, json={"status": 404, "title": "Not found"})

    app = create_app(Settings(cookie_secure=False, upstream_retries=0), verifier=verify,
                     transports={"accounts": httpx.MockTransport(accounts),
                                 "requests311": httpx.MockTransport(requests311),
                                 "library": httpx.MockTransport(lambda r: httpx.Response(503))})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as client:
        client.asked = asked  # type: ignore[attr-defined]
        yield client


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


async def sign_in(client: httpx.AsyncClient, who: str) -> None:
    csrf = csrf_of((await client.get("/signin")).text)
    response = await client.post("/signin", data={"username": f"{who}@example.org", "password": who,
                                                   "csrf_token": csrf})
    assert response.status_code == 303


def _hrefs(html: str) -> list[str]:
    article = "".join(re.findall(r'<article class="memo"[^>]*>(.*?)</article>', html, re.S))
    return re.findall(r'href="([^"]*)"', article)


async def test_the_editor_warns_of_unprintable_characters_in_words(gateway) -> None:
    await sign_in(gateway, "expert")
    page = await gateway.get("/staff/requests/req-1/memo")
    assert page.status_code == 200
    html = page.text
    assert "Version 1 cannot be printed exactly." in html and "No font installed on the server can draw this character" in html
    assert "U+E000, private-use character" in html and "in the memo, the official&#39;s name" in html
    assert 'href="/staff/requests/req-1/memo.pdf?memo_version=1"' in html
    assert _hrefs(html) == ["https://nrn.example/a"] and "<img" not in html.split("<main", 1)[1]


async def test_the_preview_warns_and_stays_inert(gateway) -> None:
    await sign_in(gateway, "expert")
    csrf = csrf_of((await gateway.get("/staff/requests/req-1/memo")).text)
    response = await gateway.post("/staff/requests/req-1/memo/preview", data={"body": HOSTILE, "csrf_token": csrf})
    assert response.status_code == 200
    assert "Some characters cannot be printed." in response.text and "U+E000" in response.text
    assert _hrefs(response.text) == ["https://nrn.example/a"] and "<img" not in response.text


async def test_staff_download_any_version_as_the_city_would_receive_it(gateway) -> None:
    await sign_in(gateway, "expert")
    response = await gateway.get("/staff/requests/req-1/memo.pdf", params={"memo_version": 1})
    assert response.status_code == 200 and response.content == b"%PDF-1.7 memo"
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="nrn-memo.pdf"'
    asked = [r for r in gateway.asked if r.url.path.endswith("memo.pdf")][-1]
    assert asked.url.params["memo_version"] == "1" and asked.extensions["timeout"]["read"] == 30.0


async def test_the_officials_page_shows_the_memo_inert(gateway) -> None:
    await sign_in(gateway, "flint")
    page = await gateway.get("/requests/req-1")
    assert page.status_code == 200 and _hrefs(page.text) == ["https://nrn.example/a"]
    assert "print_check" not in page.text and "cannot be printed" not in page.text


async def test_the_memo_html_keeps_its_own_policy_through_the_api(gateway) -> None:
    token = {"Authorization": "Bearer tok-flint"}
    response = await gateway.get("/api/v1/requests/req-1/memo.html", headers=token)
    assert response.status_code == 200
    assert response.headers.get_list("content-security-policy") == [MEMO_CSP] != [CONTENT_SECURITY_POLICY]
    pdf = await gateway.get("/api/v1/requests/req-1/memo.pdf", headers=token)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert [r for r in gateway.asked if r.url.path.endswith("memo.pdf")][-1].extensions["timeout"]["read"] == 30.0
