"""Pages and the composed API over fake services (httpx.MockTransport): CSRF on every form,
cookie flags, partial composition, city isolation at the door, no inline script or style."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.auth import InvalidToken, Principal
from gateway.config import Settings
from gateway.testing import walk_routes
from gateway.web.common import markdown, safe_next
from gateway.web.render import snippet

FLINT = Principal(account_id="acc-flint", kind="official", roles=frozenset(), expertise=frozenset(),
                  city_id="mi-flint", status="verified", token="tok-flint")
ADMIN = Principal(account_id="acc-admin", kind="staff", roles=frozenset({"administrator"}), expertise=frozenset(),
                  city_id=None, status="verified", token="tok-admin")
PRINCIPALS = {p.token: p for p in (FLINT, ADMIN)}

CITY = {"city_id": "mi-flint", "name": "Flint", "state": "MI", "population": 102434, "eligible": True,
        "eligibility_basis": "indicators",
        "eligibility": {"eligible": True, "summary": "Eligible", "reasons": [
            {"test": "unemployment_rate", "passed": True, "value": 10.2, "threshold": 9.0, "comparison": ">"}]}}
REQUEST = {"id": "req-1", "version": 3, "status": "submitted", "title": "Lead lines <b>now</b>", "topic": "finance_budgets",
           "city_id": "mi-flint", "question": "How?", "timeline": [], "actions": [], "submitted_at": "2026-01-05T15:00:00Z"}


async def verify(token: str) -> Principal:
    if token not in PRINCIPALS:
        raise InvalidToken("unknown")
    return PRINCIPALS[token]


def accounts(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == "/auth/token":
        form = dict(x.split("=") for x in request.content.decode().split("&"))
        if form.get("password") == "right":
            return httpx.Response(200, json={"access_token": "tok-flint", "token_type": "bearer", "refresh_token": "r1"})
        if form.get("password") == "admin":
            return httpx.Response(200, json={"access_token": "tok-admin", "token_type": "bearer", "refresh_token": "r2"})
        return httpx.Response(401, json={"status": 401, "title": "Not signed in", "detail": "wrong"})
    if path == "/cities/mi-flint":
        return httpx.Response(200, json=CITY)
    if path == "/cities/mi-flint/overview":
        me = {"account_id": "acc-flint", "name": "Fran", "status": "verified", "kind": "official"}
        return httpx.Response(200, json={"city": CITY, "account_holders": {"items": [me], "total": 1, "restricted": True}})
    if path.startswith("/cities/"):
        return httpx.Response(404, json={"status": 404, "title": "Not found", "detail": "no such city"})
    if path == "/cities":
        return httpx.Response(200, json={"items": [CITY], "total": 1, "limit": 200, "offset": 0})
    if path == "/me":
        return httpx.Response(200, json={"account_id": "acc-flint", "name": "Fran", "status": "verified", "kind": "official"})
    if path == "/accounts":
        return httpx.Response(200, json={"items": [], "total": 0})
    return httpx.Response(404, json={"status": 404, "title": "Not found"})


def requests311(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/requests":
        return httpx.Response(200, json={"items": [REQUEST], "next_cursor": None})
    if request.url.path == "/requests/req-1":
        return httpx.Response(200, json=REQUEST)
    if request.url.path == "/topics":
        return httpx.Response(200, json=[{"id": "finance_budgets", "label": "Finance and budgets"}])
    return httpx.Response(404, json={"status": 404, "title": "Not found"})


PEER_OVERVIEW = {
    "upcoming": [{"id": "cnv-1", "title": "NRN Annual Convening 2027", "starts_at": "2027-04-14T14:00:00Z", "timezone": "America/Chicago",
                  "venue": "Chattanooga Convention Center", "seats_left": 0, "registration_open": True,
                  "city_registrations": [{"name": "Pat Official", "status": "waitlisted", "hold_until": None}]}],
    "groups": [{"id": "psc", "kind": "steering_committee", "name": "Peer Steering Committee",
                "term_ends_on": "2027-03-31", "term_status": "ending_soon"}],
    "introductions_waiting": 1,
}


def _convening(cid: str, *, days: int, registration: dict | None) -> dict:
    """A convening ``days`` from now (negative: in the past), in Chicago, with the caller's registration."""
    from datetime import UTC, datetime, timedelta

    start = datetime.now(UTC) + timedelta(days=days)
    return {"id": cid, "kind": "annual_convening", "kind_label": "Annual convening", "title": f"Convening {cid}",
            "description": "", "timezone": "America/Chicago", "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=8)).isoformat(), "venue": "Convention Center", "address": "",
            "host_city": "", "capacity": 10, "per_city_limit": None, "seats_taken": 1, "seats_left": 9,
            "waitlist_length": 0, "registration_opens_at": (start - timedelta(days=40)).isoformat(),
            "registration_closes_at": (start - timedelta(days=2)).isoformat(), "status": "scheduled",
            "cancelled_reason": "", "sessions": [], "materials": [], "my_registration": registration}


ATTENDED = {"id": "reg-1", "status": "confirmed", "position": None, "hold_until": None, "attended": True,
            "promoted": False, "feedback": None}


PROBONO_SUMMARY = {
    "projects": [{"id": "prj-1", "title": "Vacant lot inventory", "department": "Planning", "status": "active",
                  "status_label": "Under way"},
                 {"id": "prj-2", "title": "Budget guide", "department": "Finance", "status": "submitted",
                  "status_label": "Waiting for NRN's review"}],
    "projects_total": 2, "by_status": [{"status": "submitted", "label": "Waiting for NRN's review", "count": 1},
                                       {"status": "active", "label": "Under way", "count": 1}],
    "matches_accepted": 2, "volunteers_engaged": 2, "matches_waiting": 1, "hours_logged": 10.5,
    "hours_waiting": 4.5, "hours_approved": 6.0, "waiting": []}


def peer(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/cities/mi-flint/overview":
        return httpx.Response(200, json=PEER_OVERVIEW)
    if request.url.path == "/health-data/cities/mi-flint/summary":
        return httpx.Response(200, json={"published": False})
    if request.url.path == "/probono/cities/mi-flint/summary":
        return httpx.Response(200, json=PROBONO_SUMMARY)
    if request.url.path == "/convenings/past":
        return httpx.Response(200, json=_convening("past", days=-3, registration=ATTENDED))
    if request.url.path == "/convenings/closed":
        return httpx.Response(200, json=_convening("closed", days=1, registration=None))
    return httpx.Response(404, json={"status": 404, "title": "Not found"})


def engagements(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/cities/mi-flint/summary":
        return httpx.Response(200, json={"applications": [], "engagements": [], "can_apply": True})
    return httpx.Response(404, json={"status": 404, "title": "Not found"})


def library_down(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("refused", request=request)


def make_app(transports: dict[str, httpx.BaseTransport] | None = None, **settings: Any):  # noqa: ANN201
    """The gateway over the fake services above; a test swaps in its own transport for any of them."""
    values = {"cookie_secure": False, "upstream_retries": 0, "section_timeout": 2.0, **settings}
    return create_app(Settings(**values), verifier=verify, transports={
        "accounts": httpx.MockTransport(accounts), "requests311": httpx.MockTransport(requests311),
        "library": httpx.MockTransport(library_down), "peer": httpx.MockTransport(peer),
        "engagements": httpx.MockTransport(engagements), **(transports or {})})


def header_of(response: httpx.Response) -> str:
    return response.text.split('<header class="site-header">', 1)[1].split("</header>", 1)[0]


@pytest.fixture
async def client():  # noqa: ANN201
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app()), base_url="http://gw.test") as c:
        yield c


async def csrf_of(client: httpx.AsyncClient, path: str = "/signin") -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', (await client.get(path)).text).group(1)


async def sign_in(client: httpx.AsyncClient) -> None:
    token = await csrf_of(client)
    response = await client.post("/signin", data={"username": "fran@example.org", "password": "right", "csrf_token": token})
    assert response.status_code == 303


async def test_every_page_form_refuses_a_request_without_the_csrf_token() -> None:
    # more page forms than the default write budget per client: a bucket that does not run dry here
    app = make_app(write_rate_capacity=1000)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as client:
        await sign_in(client)
        posts = [path for path, methods in walk_routes(app) if "POST" in methods and not path.startswith("/api/")]
        assert len(posts) >= 20
        for path in posts:
            concrete = re.sub(r"\{\w+\}", "x1", path)
            response = await client.post(concrete, data={"anything": "1"})
            if path in CSRF_EXEMPT:
                # no session is used: without a valid signed token it does nothing
                assert response.status_code == 404, f"{path} answered {response.status_code} without its token"
                continue
            # refused, never acted on: the typed fields are kept and the person is sent back to the form
            # (its page had expired) instead of reading an error about tokens (web/kept.py)
            assert response.status_code == 303, f"{path} answered {response.status_code} without a CSRF token"
            assert response.headers["location"] == concrete, path
        kept = await client.get("/requests/new")
        assert "CSRF" not in kept.text


# A mail client's one-click unsubscribe (RFC 8058) POSTs with no session and no CSRF token: the
# link's signed token is the key, and it can only turn e-mail off.
CSRF_EXEMPT = {"/unsubscribe"}


async def test_sign_in_sets_a_signed_http_only_same_site_cookie_and_rotates_csrf() -> None:
    app = make_app(cookie_secure=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://gw.test") as client:
        before = await csrf_of(client)
        response = await client.post("/signin", data={"username": "a@b.org", "password": "right", "csrf_token": before})
        assert response.status_code == 303
        cookie = response.headers["set-cookie"].lower()
        assert "nrn_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie and "secure" in cookie
        after = await csrf_of(client, "/requests/new")
        assert after != before


async def test_wrong_password_is_an_accessible_error_not_a_crash(client) -> None:
    token = await csrf_of(client)
    response = await client.post("/signin", data={"username": "a@b.org", "password": "wrong", "csrf_token": token})
    assert response.status_code == 400
    assert 'role="alert"' in response.text and 'aria-invalid="true"' in response.text


async def test_signed_out_pages_redirect_to_sign_in(client) -> None:
    response = await client.get("/requests/new")
    assert response.status_code == 303 and response.headers["location"] == "/signin?next=/requests/new"


async def test_dashboard_page_renders_the_rest_when_the_library_is_down(client) -> None:
    await sign_in(client)
    response = await client.get("/")
    assert response.status_code == 200
    html = response.text
    assert "Flint" in html and "Lead lines &lt;b&gt;now&lt;/b&gt;" in html  # titles escaped
    assert "Part of this page is not available right now" in html
    assert "Recommended resources could not be loaded" in html


async def test_the_dashboard_shows_the_citys_peer_network(client) -> None:
    await sign_in(client)
    html = (await client.get("/")).text
    section = html.split('id="sec-peer"', 1)[1].split("</section>", 1)[0]
    assert "NRN Annual Convening 2027" in section and "Pat Official: on the waitlist" in section
    assert "Wed, Apr 14, 2027, 9:00 AM CDT" in section  # the venue's time, not Eastern
    assert "Term ends Wed, Mar 31, 2027" in section
    assert "1 peer introduction waiting for your city's answer" in section
    assert "cnv-1" not in section.replace('href="/convenings/cnv-1"', "")  # ids only in links
    from html import unescape

    probono = unescape(" ".join(html.split('id="sec-probono"', 1)[1].split("</section>", 1)[0].split()))
    assert "Waiting for NRN's review <strong>1</strong> · Under way <strong>1</strong>" in probono
    assert "<strong>2</strong> volunteers at work on your projects (2 matches accepted by both)" in probono
    assert "<strong>1</strong> volunteer offered, waiting for your answer" in probono
    assert "Hours delivered: <strong>10.5</strong>, of which <strong>6</strong> approved and 4.5 waiting" in probono
    assert 'href="/probono/projects/prj-1"' in probono and "submitted" not in probono and "active" not in probono


async def test_an_attendee_is_asked_for_feedback_after_the_end_and_nobody_registers_after_the_window(client) -> None:
    await sign_in(client)
    past = (await client.get("/convenings/past")).text
    assert "How was it?" in past and 'name="rating"' in past and "Send my feedback" in past
    assert "Cancel my registration" not in past
    closed = (await client.get("/convenings/closed")).text
    assert "Registration closed on" in closed and "Register</button>" not in closed


async def test_staff_change_a_convening_in_the_venues_time_and_its_sessions_keep_their_ids() -> None:
    sent: list[dict] = []
    existing = _convening("edit", days=30, registration=None)
    existing["sessions"] = [{"id": "opening", "title": "Opening plenary", "starts_at": existing["starts_at"],
                             "ends_at": existing["ends_at"], "speakers": ["Mayor"], "track": "Plenary"}]

    def peer_edit(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            import json
            sent.append(json.loads(request.content))
            return httpx.Response(200, json=existing)
        return httpx.Response(200, json=existing)

    app = make_app({"peer": httpx.MockTransport(peer_edit)})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as client:
        token = await csrf_of(client)
        await client.post("/signin", data={"username": "a@nrn.example", "password": "admin", "csrf_token": token})
        page = (await client.get("/staff/convenings/edit/edit")).text
        from datetime import datetime
        from zoneinfo import ZoneInfo
        local = datetime.fromisoformat(existing["starts_at"]).astimezone(ZoneInfo("America/Chicago"))
        assert f'value="{local:%Y-%m-%dT%H:%M}"' in page  # the venue's wall clock, not UTC
        assert 'name="s0_id" value="opening"' in page and "Save the changes" in page
        form = dict(re.findall(r'name="([a-z0-9_]+)"[^>]*value="([^"]*)"', page))
        form.update(capacity="20", csrf_token=re.search(r'name="csrf_token" value="([^"]+)"', page).group(1))
        response = await client.post("/staff/convenings/edit/edit", data=form)
        assert response.status_code == 303 and response.headers["location"] == "/staff/convenings/edit"
    (body,) = sent
    assert body["capacity"] == 20 and body["starts_at"] == f"{local:%Y-%m-%dT%H:%M}"
    assert [s["id"] for s in body["sessions"]] == ["opening"] and body["sessions"][0]["speakers"] == ["Mayor"]


async def test_dashboard_api_returns_parts_with_partial_marker_never_500(client) -> None:
    response = await client.get("/api/v1/cities/mi-flint/dashboard", headers={"Authorization": "Bearer tok-flint"})
    assert response.status_code == 200
    body = response.json()
    assert body["partial"] is True
    assert [m["section"] for m in body["missing"]] == ["resources"]
    assert body["sections"]["city"]["name"] == "Flint"
    assert body["sections"]["requests"]["items"][0]["id"] == "req-1"


async def test_an_official_cannot_open_another_citys_dashboard(client) -> None:
    headers = {"Authorization": "Bearer tok-flint"}
    assert (await client.get("/api/v1/cities/oh-youngstown/dashboard", headers=headers)).status_code == 404
    assert (await client.get("/api/v1/requests", params={"city_id": "oh-youngstown"}, headers=headers)).status_code == 404
    await sign_in(client)
    assert (await client.get("/cities/oh-youngstown")).status_code == 404


async def test_staff_see_any_city_and_an_unknown_city_is_404(client) -> None:
    headers = {"Authorization": "Bearer tok-admin"}
    assert (await client.get("/api/v1/cities/mi-flint/dashboard", headers=headers)).status_code == 200
    assert (await client.get("/api/v1/cities/zz-nowhere/dashboard", headers=headers)).status_code == 404


async def test_a_down_service_is_a_503_problem_for_single_calls(client) -> None:
    response = await client.get("/api/v1/library/search", params={"q": "x"})
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["service"] == "library"


async def test_similar_questions_never_fail_the_asker(client) -> None:
    response = await client.get("/api/v1/requests/similar", params={"q": "lead lines"},
                                headers={"Authorization": "Bearer tok-flint"})
    assert response.status_code == 200 and response.json()["skipped"] is True


async def test_pages_carry_no_inline_script_or_style(client) -> None:
    await sign_in(client)
    for path in ("/", "/requests/new", "/requests", "/requests/req-1", "/signup", "/library", "/clearinghouse"):
        html = (await client.get(path)).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"\sstyle=", html), path
        assert not re.search(r"\son[a-z]+=", html), path
        assert '<a class="skip-link" href="#main">' in html and '<main id="main"' in html


async def test_the_ask_form_takes_its_lengths_from_requests311s_limits(client) -> None:
    """gateway.requests311_limits (compared with requests311 in test_requests311_limits)."""
    from gateway import requests311_limits as R

    await sign_in(client)
    token = await csrf_of(client, "/requests/new")
    refused = await client.post("/requests/new", data={"csrf_token": token, "question": "How?"})
    assert refused.status_code == 400
    for html in ((await client.get("/requests/new")).text, refused.text):
        found = dict(re.findall(r'id="(\w+)" name="\w+"[^>]*?maxlength="(\d+)"', html))
        assert found == {name: str(limit) for name, limit in R.page_limits().items()}


def test_safe_next_refuses_other_sites() -> None:
    for bad in ("https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)", ""):
        assert safe_next(bad) == "/"
    assert safe_next("/requests/req-1") == "/requests/req-1"


def test_markdown_escapes_raw_html_and_snippets_keep_only_the_highlight() -> None:
    html = str(markdown("# T\n<script>alert(1)</script>\n[x](javascript:alert(1))"))
    assert "<script>" not in html and "&lt;script&gt;" in html and 'href="javascript' not in html
    # the structured snippet: plain text escaped once, the matched words in <mark>, nothing else
    hit = {"snippet_text": "a land <img src=x onerror=alert(1)> & the city's bank", "highlights": [[2, 6], [49, 53]]}
    assert str(snippet(hit)) == ("a <mark>land</mark> &lt;img src=x onerror=alert(1)&gt; &amp; the city&#39;s "
                                 "<mark>bank</mark>")
    # ranges that do not fit the text are ignored, never trusted
    assert str(snippet({"snippet_text": "abc", "highlights": [[2, 9], [-1, 1], ["x", 2]]})) == "abc"
    # no structured snippet: the plain summary, escaped
    assert str(snippet({"summary": "<b>x</b>"})) == "&lt;b&gt;x&lt;/b&gt;"


async def test_a_page_of_cities_with_their_reasons_costs_one_call_to_accounts() -> None:
    calls: list[httpx.Request] = []
    reasons = CITY["eligibility"]
    cities = [{**CITY, "city_id": f"mi-c{i}", "name": f"City {i}"} for i in range(25)]

    def counting(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if request.url.path == "/cities":
            with_reasons = request.url.params.get("with_eligibility") == "true"
            items = [c if with_reasons else {k: v for k, v in c.items() if k != "eligibility"} for c in cities]
            return httpx.Response(200, json={"items": items, "total": 25, "limit": 25, "offset": 0})
        if request.url.path.endswith("/eligibility"):
            return httpx.Response(200, json=reasons)
        return httpx.Response(404, json={"status": 404, "title": "Not found"})

    app = make_app({"accounts": httpx.MockTransport(counting)})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as client:
        response = await client.get("/api/v1/cities", params={"eligible": "true", "limit": 25})
    assert response.status_code == 200
    body = response.json()
    assert [r.url.path for r in calls] == ["/cities"], "one upstream call for the whole page"
    assert calls[0].url.params["with_eligibility"] == "true" and calls[0].url.params["eligible"] == "true"
    assert len(body["items"]) == 25 and all(c["eligibility"]["reasons"] for c in body["items"])
    assert body["partial"] is False and body["missing"] == []


async def test_the_header_shows_the_persons_name_escaped_and_asks_accounts_once_per_session() -> None:
    me_calls: list[str] = []

    def accounts_named(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/me":
            me_calls.append(request.headers.get("authorization", ""))
            return httpx.Response(200, json={"account_id": "acc-flint", "name": "Fran <i>O'Neil</i>",
                                             "status": "verified", "kind": "official"})
        return accounts(request)

    app = make_app({"accounts": httpx.MockTransport(accounts_named)})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as client:
        await sign_in(client)
        header_calls = []
        for path in ("/requests", "/library", "/requests/new"):
            response = await client.get(path)
            assert response.status_code == 200
            header = header_of(response)
            assert "Signed in as <strong>Fran &lt;i&gt;O&#39;Neil&lt;/i&gt;</strong>" in header
            assert "acc-flint" not in header and "<i>" not in header
            header_calls.append(len(me_calls))
            csp = response.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert header_calls == [1, 1, 1], "the name is fetched once and kept in the session"
    assert me_calls == ["Bearer tok-flint"]


async def test_the_header_does_without_the_name_when_accounts_is_down() -> None:
    def accounts_no_me(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/me":
            return httpx.Response(503, json={"status": 503, "title": "Unavailable"})
        return accounts(request)

    app = make_app({"accounts": httpx.MockTransport(accounts_no_me)})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as client:
        await sign_in(client)
        response = await client.get("/requests")
    assert response.status_code == 200
    header = header_of(response)
    assert "Signed in as" not in header and "acc-flint" not in header and "Sign out" in header


async def test_the_dashboard_asks_accounts_once_and_shares_the_resources_between_viewers() -> None:
    calls: list[str] = []

    def counting(service, handler):  # noqa: ANN001, ANN202
        def send(request: httpx.Request) -> httpx.Response:
            calls.append(f"{service} {request.url.path}")
            return handler(request)
        return httpx.MockTransport(send)

    def library(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/clearinghouse/programs":
            return httpx.Response(200, json={"items": [{"program_id": "p1"}], "total": 1})
        return httpx.Response(200, json={"hits": [{"id": "r1", "title": "Land banks"}], "total": 1})

    app = make_app({"accounts": counting("accounts", accounts), "requests311": counting("requests311", requests311),
                    "library": counting("library", library)})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as client:
        for _ in range(3):
            response = await client.get("/api/v1/cities/mi-flint/dashboard", headers={"Authorization": "Bearer tok-flint"})
            assert response.status_code == 200
            body = response.json()
            assert body["partial"] is False
            assert body["sections"]["city"]["name"] == "Flint"
            assert body["sections"]["account_holders"]["restricted"] is True
            assert body["sections"]["resources"]["items"][0]["id"] == "r1"
    assert calls.count("accounts /cities/mi-flint/overview") == 3 and not any(c.startswith("accounts /me") for c in calls)
    assert calls.count("requests311 /requests") == 3
    # the same for every verified official of the city for DASHBOARD_SHARED_TTL seconds
    assert calls.count("library /clearinghouse/programs") == 1 and calls.count("library /search") == 1
