"""CSRF, rate limits and security headers."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Form, Request
from starlette.middleware.sessions import SessionMiddleware

from gateway.app import create_app
from gateway.config import Settings
from gateway.security import (
    CONTENT_SECURITY_POLICY,
    RateLimiter,
    RateLimitMiddleware,
    csrf_protect,
    csrf_token,
    wait_in_words,
)


async def refuse_tokens(token: str):
    from gateway.auth import InvalidToken

    raise InvalidToken("no tokens in this test")


def csrf_app() -> FastAPI:
    app = FastAPI()
    pages = APIRouter(dependencies=[Depends(csrf_protect)])

    @pages.get("/form")
    async def form(request: Request) -> dict:
        return {"token": csrf_token(request.session)}

    @pages.post("/form")
    async def submit(name: str = Form(...)) -> dict:
        return {"name": name}

    app.include_router(pages)
    app.add_middleware(SessionMiddleware, secret_key="test-secret", https_only=False)
    return app


@pytest.fixture
async def csrf_client():
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=csrf_app()), base_url="http://t") as client:
        yield client


async def test_form_without_token_is_refused(csrf_client: httpx.AsyncClient) -> None:
    await csrf_client.get("/form")
    response = await csrf_client.post("/form", data={"name": "x"})
    # not signed in: 401, which the app's handler turns into "sign in, then back to the kept form"
    assert response.status_code == 401


async def test_form_with_the_session_token_passes_and_the_route_still_reads_the_form(csrf_client) -> None:
    token = (await csrf_client.get("/form")).json()["token"]
    response = await csrf_client.post("/form", data={"name": "Flint", "csrf_token": token})
    assert response.status_code == 200 and response.json() == {"name": "Flint"}


async def test_htmx_header_token_passes(csrf_client) -> None:
    token = (await csrf_client.get("/form")).json()["token"]
    response = await csrf_client.post("/form", data={"name": "x"}, headers={"X-CSRF-Token": token})
    assert response.status_code == 200


async def test_token_of_another_session_is_refused(csrf_client) -> None:
    await csrf_client.get("/form")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=csrf_app()), base_url="http://t") as other:
        theirs = (await other.get("/form")).json()["token"]
    response = await csrf_client.post("/form", data={"name": "x", "csrf_token": theirs})
    assert response.status_code == 401  # refused; this bare test app has no signed-in session


async def test_write_limiter_allows_the_burst_then_refuses_with_a_wait() -> None:
    limiter = RateLimiter(3, 1.0)
    assert [(await limiter.take("a"))[0] for _ in range(4)] == [True, True, True, False]
    allowed, wait = await limiter.take("a")
    assert not allowed and 1.0 <= wait <= 3.0  # the window is capacity / refill = 3 s
    assert (await limiter.take("b"))[0]  # counted per client


@pytest.mark.parametrize(("seconds", "words"), [(3, "a few seconds"), (30, "about 30 seconds"), (60, "about a minute"),
                                                (89, "about a minute"), (240, "about 4 minutes"),
                                                (15 * 60, "about 15 minutes"), (3600, "about an hour"),
                                                (3 * 3600, "about 3 hours")])
def test_a_wait_in_words(seconds: int, words: str) -> None:
    assert wait_in_words(seconds) == words


async def test_rate_limit_middleware_limits_writes_not_reads_and_never_sign_in_by_itself() -> None:
    inner = FastAPI()

    @inner.post("/api/v1/auth/token")
    async def token() -> dict:
        return {}

    @inner.post("/api/v1/requests")
    async def write() -> dict:
        return {}

    @inner.get("/api/v1/requests")
    async def read() -> dict:
        return {}

    @inner.post("/requests/new")
    async def page_write() -> dict:
        return {}

    app = RateLimitMiddleware(inner, writes=RateLimiter(3, 1.0), page=lambda scope, wait: f"<p>wait {wait}</p>".encode())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert [(await client.post("/api/v1/requests")).status_code for _ in range(4)] == [200, 200, 200, 429]
        limited = await client.post("/api/v1/requests")
        assert limited.headers["content-type"] == "application/problem+json"
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json()["status"] == 429 and "try again in" in limited.json()["detail"]
        page = await client.post("/requests/new")
        assert page.status_code == 429 and page.headers["content-type"].startswith("text/html")
        assert [(await client.get("/api/v1/requests")).status_code for _ in range(10)] == [200] * 10


async def test_the_browser_gets_a_styled_page_with_the_wait_in_words() -> None:
    app = create_app(Settings(cookie_secure=False, write_rate_capacity=1, write_rate_refill=1 / 240),
                     verifier=refuse_tokens,
                     transports={name: httpx.MockTransport(lambda r: httpx.Response(503))
                                 for name in ("accounts", "requests311", "library")})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as client:
        await client.post("/signout")
        page = await client.post("/signout")
        assert page.status_code == 429
        assert "Try again in about 4 minutes" in page.text
        assert '<link rel="stylesheet"' in page.text and "site.css" in page.text
        assert page.headers["content-security-policy"]


@pytest.fixture
async def gateway_client():
    app = create_app(Settings(cookie_secure=True), verifier=refuse_tokens, transports={
        name: httpx.MockTransport(lambda r: httpx.Response(503)) for name in ("accounts", "requests311", "library")
    })
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://gw.test") as client:
        yield client


@pytest.mark.parametrize("path", ["/health/live", "/no/such/page", "/api/v1/no-such-route", "/static/site.css"])
async def test_security_headers_on_every_response(gateway_client, path: str) -> None:
    response = await gateway_client.get(path)
    h = response.headers
    assert h["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in h["content-security-policy"]
    assert "'unsafe-inline'" not in h["content-security-policy"]
    assert h["x-frame-options"] == "DENY"
    assert h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "max-age" in h["strict-transport-security"]


async def test_api_errors_are_problem_details(gateway_client) -> None:
    response = await gateway_client.get("/api/v1/no-such-route")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404


def test_production_refuses_development_session_secret_and_insecure_cookies() -> None:
    with pytest.raises(ValueError):
        Settings(environment="production")
    with pytest.raises(ValueError):
        Settings(environment="production", session_secret="x" * 40, cookie_secure=False)
    Settings(environment="production", session_secret="x" * 40)
