"""Sessions and credentials through the real gateway and accounts, over HTTP:

- concurrent page and htmx requests of one browser session whose access token has expired do not
  sign the person out (single-flight refresh in the gateway, grace window in accounts);
- passwords exactly as typed and one identity per address, through the public API and the pages;
- sign-in throttling: failures only, 429 problem details in the API;
- forgot password and mailbox confirmation through the API, never a token in an answer.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from itsdangerous import TimestampSigner

from gateway.config import DEV_SESSION_SECRET
from gateway.testing import ADMIN_EMAIL, ADMIN_PASSWORD, Platform, running_platform

SPACED = " Abcdefghijk1 "


def _session(cookie: str) -> dict:
    return json.loads(base64.b64decode(TimestampSigner(DEV_SESSION_SECRET).unsign(cookie)))


def _cookie(session: dict) -> str:
    return TimestampSigner(DEV_SESSION_SECRET).sign(base64.b64encode(json.dumps(session).encode())).decode()


def _expired_access_token(platform: Platform, token: str) -> str:
    """The same person's access token, issued an hour ago by accounts' own key: expired."""
    from accounts.tokens import TokenClaims

    claims = jwt.decode(token, options={"verify_signature": False})
    issuer = platform.apps["accounts"].state.runtime.state["services"].issuer
    expired, _ = issuer.issue(TokenClaims(
        account_id=claims["sub"], kind=claims["kind"], status=claims["status"], roles=tuple(claims["roles"]),
        expertise=tuple(claims["expertise"]), city_id=claims["city_id"], partner_id=claims["partner_id"],
    ), now=datetime.now(UTC) - timedelta(hours=1))
    return expired


async def _page_session(platform: Platform, email: str, password: str) -> tuple[httpx.AsyncClient, str]:
    browser = httpx.AsyncClient(base_url=platform.gateway, timeout=30.0)
    form = await browser.get("/signin")
    csrf = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    signed_in = await browser.post("/signin", data={"username": email, "password": password, "csrf_token": csrf})
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/", signed_in.text[:500]
    return browser, browser.cookies["nrn_session"]


async def test_concurrent_requests_with_an_expired_access_token_keep_the_session(platform: Platform) -> None:
    admin = await platform.admin()
    await platform.import_cities(admin)
    official, _ = await platform.verified_official(admin, "mi-flint")
    browser, cookie = await _page_session(platform, official["email"], official["password"])
    session = _session(cookie)
    session["token"] = _expired_access_token(platform, session["token"])
    stale = _cookie(session)

    # a few tabs and htmx fragments of one browser, all at once, all with the expired token
    requests = [("GET", "/", {}), ("GET", "/requests", {}), ("GET", "/requests/new", {}), ("GET", "/library", {}),
                ("GET", "/requests/similar?q=lead+service+lines", {"HX-Request": "true"}),
                ("GET", "/requests", {"HX-Request": "true"}), ("GET", "/", {}), ("GET", "/account/password", {})]

    async def one(method: str, path: str, headers: dict) -> httpx.Response:
        async with httpx.AsyncClient(base_url=platform.gateway, timeout=30.0,
                                     cookies={"nrn_session": stale}) as tab:
            return await tab.request(method, path, headers=headers)

    answers = await asyncio.gather(*(one(*r) for r in requests))
    for (_, path, _), answer in zip(requests, answers, strict=True):
        assert answer.status_code == 200, (path, answer.status_code, answer.headers.get("location"))
        assert "HX-Redirect" not in answer.headers, path
    # every answer carries a working session (the same new pair, shared by the single flight)
    renewed = {_session(a.cookies["nrn_session"])["refresh"] for a in answers if "nrn_session" in a.cookies}
    assert renewed and session["refresh"] not in renewed
    assert len(renewed) == 1
    for answer in answers[:2]:
        async with httpx.AsyncClient(base_url=platform.gateway, timeout=30.0,
                                     cookies={"nrn_session": answer.cookies["nrn_session"]}) as later:
            again = await later.get("/requests")
            assert again.status_code == 200 and "/signin" not in str(again.url)

    # a tab that still holds the old cookie a moment later is served too (the shared result)
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30.0, cookies={"nrn_session": stale}) as late_tab:
        assert (await late_tab.get("/requests")).status_code == 200
    await browser.aclose()


async def test_a_second_gateway_racing_for_the_same_session_is_covered_by_the_grace_window(platform: Platform) -> None:
    """Two gateway replicas do not share their single flight: accounts honours the just-rotated
    refresh token once more, so both replicas' requests keep the session."""
    admin = await platform.admin()
    await platform.import_cities(admin)
    official, _ = await platform.verified_official(admin, "mi-flint")
    browser, cookie = await _page_session(platform, official["email"], official["password"])
    session = _session(cookie)
    refresh = session["refresh"]
    accounts = httpx.AsyncClient(base_url=platform.urls["accounts"], timeout=30.0)
    # replica A and replica B each rotate the same token once
    both = await asyncio.gather(*(accounts.post("/auth/refresh", json={"refresh_token": refresh}) for _ in range(2)))
    assert [r.status_code for r in both] == [200, 200]
    await accounts.aclose()
    await browser.aclose()


async def test_passwords_and_addresses_through_the_public_api(platform: Platform) -> None:
    admin = await platform.admin()
    await platform.import_cities(admin)
    local = f"e\u0301{uuid.uuid4().hex[:6]}"
    signed_up = await platform.http.post("/api/v1/accounts", json={
        "name": "Émile Official", "title": "Clerk", "email": f"{local}@Example.org", "city_id": "mi-flint",
        "password": SPACED})
    assert signed_up.status_code == 201, signed_up.text
    assert signed_up.json()["email"] == f"\u00e9{local[2:]}@example.org"
    assert "token" not in signed_up.text
    nfc = f"\u00c9{local[2:]}@EXAMPLE.ORG"
    ok = await platform.http.post("/api/v1/auth/token", data={"username": nfc, "password": SPACED})
    assert ok.status_code == 200, ok.text
    trimmed = await platform.http.post("/api/v1/auth/token", data={"username": nfc, "password": SPACED.strip()})
    assert trimmed.status_code == 401

    # forgot password, under yet another spelling; the answer never carries the link
    asked = await platform.http.post("/api/v1/auth/password-reset", json={"email": f"{local}@example.ORG"})
    assert asked.status_code == 202 and "token" not in asked.text
    token = await platform.link(signed_up.json()["email"], "reset")
    done = await platform.http.post("/api/v1/auth/password-reset/confirm",
                                    json={"token": token, "new_password": "  new passphrase  "})
    assert done.status_code == 204, done.text
    assert (await platform.http.post("/api/v1/auth/token",
                                     data={"username": nfc, "password": "  new passphrase  "})).status_code == 200

    # mailbox confirmation and a signed-in change through the API
    confirm = await platform.link(signed_up.json()["email"], "confirm")
    confirmed = await platform.http.post("/api/v1/auth/confirm-email", json={"token": confirm})
    assert confirmed.status_code == 200 and confirmed.json()["mailbox_confirmed"] is True
    bearer = {"Authorization": f"Bearer {(await platform.http.post('/api/v1/auth/token', data={'username': nfc, 'password': '  new passphrase  '})).json()['access_token']}"}
    changed = await platform.http.post("/api/v1/me/password", headers=bearer,
                                       json={"current_password": "  new passphrase  ", "new_password": SPACED})
    assert changed.status_code == 200, changed.text
    assert (await platform.http.post("/api/v1/auth/token", data={"username": nfc, "password": SPACED})).status_code == 200


async def test_sign_in_throttling_counts_failures_only_and_answers_429_problems(nrn_infra, test_id: str) -> None:  # noqa: ANN001
    async with running_platform(nrn_infra.kafka_bootstrap_servers, nrn_infra.mongodb_uri, f"t{test_id}",
                                accounts_overrides={"signin_failures_per_client": "3/minute"}) as platform:
        # the administrator signs in again and again: successes never count
        for _ in range(6):
            assert (await platform.http.post("/api/v1/auth/token",
                                             data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD})).status_code == 200
        for i in range(3):
            wrong = await platform.http.post("/api/v1/auth/token", data={"username": f"x{i}@example.org", "password": "no no no no no"})
            assert wrong.status_code == 401
        throttled = await platform.http.post("/api/v1/auth/token", data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        assert throttled.status_code == 429
        assert throttled.headers["content-type"].startswith("application/problem+json")
        assert 0 < int(throttled.headers["retry-after"]) <= 60
        assert throttled.json()["status"] == 429 and throttled.json()["retry_after"] > 0


async def test_confirming_at_the_city_domain_renews_a_signed_in_session_at_once(platform: Platform) -> None:
    admin = await platform.admin()
    await platform.import_cities(admin)
    domains = "name,state,official_email_domains\nFlint,MI,cityofflint.com\n"
    assert (await platform.http.post("/api/v1/cities/import", headers=admin,
                                     files={"file": ("d.csv", domains.encode(), "text/csv")})).status_code == 200
    email = f"kim.{uuid.uuid4().hex[:6]}@CityOfFlint.com"
    created = await platform.http.post("/api/v1/accounts", json={
        "name": "Kim Official", "title": "Clerk", "email": email, "city_id": "mi-flint", "password": SPACED})
    assert created.status_code == 201 and created.json()["status"] == "pending"
    browser, cookie = await _page_session(platform, email, SPACED)
    assert jwt.decode(_session(cookie)["token"], options={"verify_signature": False})["status"] == "pending"
    token = await platform.link(email, "confirm")
    page = await browser.get("/confirm-email", params={"token": token})
    csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    done = await browser.post("/confirm-email", data={"token": token, "csrf_token": csrf})
    assert done.status_code == 200 and "Your account is verified too" in done.text
    claims = jwt.decode(_session(browser.cookies["nrn_session"])["token"], options={"verify_signature": False})
    assert claims["status"] == "verified"
    await browser.aclose()


@pytest.mark.parametrize("path", ["/auth/password-reset", "/auth/confirm-email/resend"])
async def test_link_requests_answer_alike_for_every_address(platform: Platform, path: str) -> None:
    known = await platform.http.post(f"/api/v1{path}", json={"email": ADMIN_EMAIL})
    unknown = await platform.http.post(f"/api/v1{path}", json={"email": "nobody.at.all@example.org"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
