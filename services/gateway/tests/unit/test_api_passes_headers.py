"""What a client needs from a service's answer passes through the gateway's API: Location on 201, and
Retry-After on a 409 "in progress" (a repeated Idempotency-Key, ``nrn_kit.idempotency``), a 429 and a 503.
And a CSV import waits for its answer as long as the import may take (``IMPORT_READ_TIMEOUT``), not the
5 s of an ordinary call, after which the gateway would retry into the import still in progress."""

from __future__ import annotations

import httpx
import pytest

from gateway.app import create_app
from gateway.auth import InvalidToken, Principal
from gateway.config import Settings

FLINT = Principal(account_id="acc-flint", kind="official", roles=frozenset(), expertise=frozenset(),
                  city_id="mi-flint", status="verified", token="tok-flint")
ADMIN = Principal(account_id="acc-admin", kind="staff", roles=frozenset({"administrator"}), expertise=frozenset(),
                  city_id=None, status="verified", token="tok-admin")
QUESTION = {"title": "How do we fund lead service line replacement?", "question": "Which programs pay for it?",
            "topic": "finance_budgets"}
IN_PROGRESS = {"type": "https://nationalresourcenetwork.org/problems/idempotency-key-in-progress",
               "title": "Request in progress", "status": 409,
               "detail": "A request with this Idempotency-Key is still being handled; retry shortly."}


async def verify(token: str) -> Principal:
    for principal in (FLINT, ADMIN):
        if token == principal.token:
            return principal
    raise InvalidToken("unknown")


def answering(response: httpx.Response) -> httpx.AsyncClient:
    app = create_app(Settings(cookie_secure=False, upstream_retries=0), verifier=verify,
                     transports={"requests311": httpx.MockTransport(lambda request: response)})
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test",
                             headers={"Authorization": f"Bearer {FLINT.token}", "Idempotency-Key": "k-1"})


async def test_a_201_carries_the_location_in_the_gateways_url_space() -> None:
    created = httpx.Response(201, json={"id": "req-9"}, headers={"Location": "/requests/req-9"})
    async with answering(created) as client:
        response = await client.post("/api/v1/requests", json=QUESTION)
    assert response.status_code == 201 and response.headers["location"] == "/api/v1/requests/req-9"


@pytest.mark.parametrize(("status", "body", "retry_after"), [
    (409, IN_PROGRESS, "1"),
    (429, {"title": "Too many requests", "status": 429, "detail": "Try again in a minute."}, "60"),
    (409, IN_PROGRESS, "Wed, 02 Dec 2026 15:00:00 GMT"),  # an HTTP date passes as sent
])
async def test_a_services_retry_after_on_a_4xx_reaches_the_client(status: int, body: dict, retry_after: str) -> None:
    refused = httpx.Response(status, json=body, headers={"Retry-After": retry_after,
                                                         "Content-Type": "application/problem+json"})
    async with answering(refused) as client:
        response = await client.post("/api/v1/requests", json=QUESTION)
    assert response.status_code == status
    assert response.headers["retry-after"] == retry_after
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == body["title"]


async def test_a_services_own_retry_after_on_a_503_wins_over_the_gateways_default() -> None:
    async with answering(httpx.Response(503, headers={"Retry-After": "30"})) as client:
        response = await client.post("/api/v1/requests", json=QUESTION)
    assert response.status_code == 503 and response.headers["retry-after"] == "30"
    async with answering(httpx.Response(503)) as client:
        response = await client.post("/api/v1/requests", json=QUESTION)
    assert response.status_code == 503 and response.headers["retry-after"] == "5"


@pytest.mark.parametrize(("service", "path"), [("accounts", "/api/v1/cities/import"),
                                               ("peer", "/api/v1/health-data/imports")])
async def test_an_import_waits_for_its_answer_as_long_as_an_import_may_take(service: str, path: str) -> None:
    timeouts: list[dict] = []

    def imported(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"])
        return httpx.Response(200, json={"created": 0})

    settings = Settings(cookie_secure=False, upstream_retries=0, import_read_timeout=90.0)
    app = create_app(settings, verifier=verify, transports={service: httpx.MockTransport(imported)})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test",
                                 headers={"Authorization": f"Bearer {ADMIN.token}"}) as client:
        response = await client.post(path, files={"file": ("file.csv", b"city,state\n", "text/csv")})
    assert response.status_code == 200, response.text
    assert timeouts[-1]["read"] == 90.0 and timeouts[-1]["connect"] == settings.upstream_connect_timeout
