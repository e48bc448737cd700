"""One anonymous request must not stall the gateway or a service: each attack of the field report against
the real platform on loopback (gateway and services, each behind the kit's edge), then an ordinary
request answered promptly (a generous 5 s bound, no timing beyond it)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from gateway.testing import Platform, running_platform
from nrn_kit.edge import EdgeGuard
from nrn_kit.edge_attacks import (
    answers_promptly,
    chunked,
    endless,
    many_keys_json,
    nested_json,
    request_head,
    send_raw,
    trickle,
)

pytestmark = pytest.mark.integration
MiB = 1024 * 1024


@pytest.fixture
async def platform(nrn_infra, test_id: str) -> AsyncIterator[Platform]:  # noqa: ANN001
    timeouts = {"http_header_timeout": 1.0, "http_body_timeout": 2.0, "http_body_idle_timeout": 1.0}
    async with running_platform(nrn_infra.kafka_bootstrap_servers, nrn_infra.mongodb_uri, f"e{test_id}",
                                gateway_overrides=timeouts) as p:
        yield p


@pytest.fixture
async def platform_as_deployed(nrn_infra, test_id: str) -> AsyncIterator[Platform]:  # noqa: ANN001
    """The edge's own timeouts. Here every service shares one event loop, and another service's busy
    second (a search index sync, a consumer's batch) stalls the gateway too: at the attack tests' 1 s idle
    timeout it would cut an honest upload with a 408; deployed, each service has its own process."""
    async with running_platform(nrn_infra.kafka_bootstrap_servers, nrn_infra.mongodb_uri, f"u{test_id}") as p:
        yield p


def problem_of(answer, status: int) -> dict:  # noqa: ANN001
    assert answer.status == status, (answer.status, answer.body[:300])
    assert answer.headers["content-type"] == "application/problem+json"
    assert len(answer.body) < 1_000, "a refusal never repeats what was sent"
    return answer.json()


def json_post(path: str, length: int | None = None) -> bytes:
    headers = {"Content-Type": "application/json"}
    headers.update({"Content-Length": str(length)} if length is not None else {"Transfer-Encoding": "chunked"})
    return request_head("POST", path, headers)


async def still_serving(p: Platform) -> None:
    assert await answers_promptly(p.gateway, "/health/live") == 200
    assert await answers_promptly(p.gateway, "/api/v1/cities?limit=1") == 200  # through to accounts and back
    assert await answers_promptly(p.gateway, "/signin") == 200


async def test_each_attack_on_the_gateway_is_refused_and_the_gateway_keeps_answering(platform: Platform) -> None:
    p = platform
    # the field report: 13 MB, 700,000 keys, anonymously, to sign-up
    body = many_keys_json(700_000)
    answer = await send_raw(p.gateway, [json_post("/api/v1/accounts", len(body)), body])
    assert "1 MiB" in problem_of(answer, 413)["detail"]
    await still_serving(p)
    # the same without a length, and 200 MiB streamed: cut at the limit, never read to the end
    answer = await send_raw(p.gateway, [json_post("/api/v1/accounts"), *chunked([body])])
    problem_of(answer, 413)
    answer = await send_raw(p.gateway, [json_post("/api/v1/requests"), *chunked(endless(200 * MiB))])
    problem_of(answer, 413)
    assert answer.sent < 100 * MiB
    await still_serving(p)
    # a 100 MiB header
    answer = await send_raw(p.gateway, [b"GET /api/v1/cities HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ",
                                        *endless(100 * MiB)])
    problem_of(answer, 431)
    await still_serving(p)
    # deeply nested JSON under the size limit
    body = nested_json(200_000)
    answer = await send_raw(p.gateway, [json_post("/api/v1/accounts", len(body)), body])
    assert "nested" in problem_of(answer, 413)["detail"]
    await still_serving(p)


async def test_slow_clients_are_cut_and_do_not_stall_the_gateway(platform: Platform) -> None:
    p = platform
    slow_body = [json_post("/api/v1/accounts", 500)] + [b" "] * 500
    slow_head = [bytes([b]) for b in request_head("GET", "/api/v1/cities")]
    attackers = [asyncio.create_task(send_raw(p.gateway, trickle(parts, every=0.2), timeout=30))
                 for parts in [slow_body] * 10 + [slow_head] * 10]
    await asyncio.sleep(0.3)
    await still_serving(p)
    answers = await asyncio.gather(*attackers)
    assert [a.status for a in answers] == [408] * 20
    assert "body" in answers[0].json()["detail"] and "header" in answers[-1].json()["detail"]


async def test_a_page_gets_its_refusal_as_a_page(platform: Platform) -> None:
    body = b"csrf_token=x&email=" + b"a" * (2 * MiB)
    answer = await send_raw(platform.gateway, [request_head("POST", "/signin", {
        "Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(len(body))}), body])
    assert answer.status == 413 and answer.headers["content-type"].startswith("text/html")
    assert b"Request body too large" in answer.body and b"/static/site.css" in answer.body


async def test_each_upload_near_its_limit_goes_through_the_gateway_and_its_service(
        platform_as_deployed: Platform) -> None:
    """Every upload route takes a body near its limit at both edges (the gateway's and the service's) and is
    answered; a body that is not an upload is still refused at 1 MiB, and the client reads that refusal
    (the edge's lingering close). The uploads are cheap to parse (blank lines, one long cell): a fast test."""
    p = platform_as_deployed
    admin = await p.admin()
    csv = b"name,state\n" + b"\n" * (3 * MiB)  # 3 MiB of blank lines: a valid file with no rows
    response = await p.http.post("/api/v1/cities/import", headers=admin,
                                 files={"file": ("cities.csv", csv, "text/csv")})
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 0
    # the health values' CSV, 9.5 MiB of its 10: one row whose source is too long, reported, not refused
    csv = b"city,state,measure,year,value,source\nFlint,MI,obesity,2024,1,\"" + b"s" * (19 * MiB // 2) + b"\"\n"
    response = await p.http.post("/api/v1/health-data/imports", headers=admin,
                                 files={"file": ("health.csv", csv, "text/csv")})
    assert response.status_code == 200, response.text
    assert response.json()["failed"] == 1
    # an attachment, 9.9 MiB of its 10: through both edges to engagements, which has no such application
    await p.import_cities(admin)
    _, official = await p.verified_official(admin, "mi-flint")
    response = await p.http.post("/api/v1/applications/app-none/attachments", headers=official,
                                 data={"kind": "budget"},
                                 files={"file": ("budget.pdf", b"%PDF-1.7\n" + b"x" * (99 * MiB // 10), "application/pdf")})
    assert response.status_code == 404, response.text
    response = await p.http.post("/api/v1/library/similar-questions", headers=admin,
                                 json={"text": "x" * (3 * MiB)})
    assert response.status_code == 413


async def test_every_service_has_the_same_edge(platform: Platform) -> None:
    p = platform
    for name, app in p.apps.items():
        assert any(m.cls is EdgeGuard for m in app.user_middleware), name
    for name, url in p.urls.items():
        if name == "gateway":
            continue
        body = many_keys_json(700_000)
        problem_of(await send_raw(url, [json_post("/anything", len(body)), body]), 413)
        problem_of(await send_raw(url, [b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ",
                                        *endless(100 * MiB)]), 431)
        problem_of(await send_raw(url, [json_post("/anything", 400_000), nested_json(200_000)]), 413)
        assert await answers_promptly(url, "/health/live") == 200, name


async def test_values_the_platform_cannot_hold_are_422_naming_the_field(platform: Platform) -> None:
    """The field reports of class 13, through the gateway and at the services directly."""
    p = platform
    admin = await p.admin()
    await p.import_cities(admin)
    _, official = await p.verified_official(admin, "mi-flint")

    def field_of(response) -> str:  # noqa: ANN001
        body = response.json()
        return body.get("field") or body["errors"][0]["field"]

    # a year past 64 bits was a 502 (the library failed with a 500)
    for url in (f"{p.gateway}/api/v1/library/search", f"{p.urls['library']}/search"):
        response = await p.http.get(url, params={"year": "9223372036854775808"})
        assert response.status_code == 422 and field_of(response).startswith("year"), response.text
    # a version past 64 bits
    response = await p.http.put("/api/v1/requests/req-x/consent", headers=official,
                                json={"consent": "named", "version": 2**64})
    assert response.status_code == 422 and field_of(response) == "version", response.text
    # NUL and other control characters in a question's title and an account's name
    for title in ("Lead\x00lines", "Lead\x1b[31mlines", "Lead\nlines"):
        response = await p.http.post("/api/v1/requests", headers=official, json={
            "title": title, "question": "How do we pay for it?", "topic": "housing"})
        assert response.status_code == 422 and field_of(response) == "title", response.text
    response = await p.http.post(f"{p.urls['requests311']}/requests", headers=official, json={
        "title": "Lead\x00lines", "question": "How?", "topic": "housing"})
    assert response.status_code == 422 and field_of(response) == "title", response.text
    response = await p.http.post("/api/v1/accounts", json={
        "name": "Pat\x00Official", "title": "Clerk", "email": "pat.nul@example.org", "city_id": "mi-flint",
        "password": "a long passphrase 42"})
    assert response.status_code == 422 and field_of(response) == "name", response.text
    # multi-line text keeps its line breaks and tabs
    await p.city_known_to_requests311(official, "mi-flint")
    response = await p.http.post("/api/v1/requests", headers=official, json={
        "title": "Lead lines", "question": "How do we pay for it?\n\n\tWith what?", "topic": "housing"})
    assert response.status_code == 201, response.text
