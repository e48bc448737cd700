"""Safety of the front door: CSRF, rate limits, security headers.

Sessions themselves are Starlette's signed cookie (itsdangerous), configured in the app
factory: HttpOnly always, Secure unless turned off for local http, SameSite=Lax.
"""

from __future__ import annotations

import json
import math
import secrets
import time
from collections.abc import Callable
from typing import Any

from fastapi import Request
from limits import RateLimitItemPerSecond
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .problems import ProblemError, problem_body

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
CSRF_SESSION_KEY = "csrf"

# --- CSRF: a synchroniser token bound to the session -------------------------------------------


def csrf_token(session: dict[str, Any]) -> str:
    """The session's CSRF token, created on first use."""
    token = session.get(CSRF_SESSION_KEY)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        session[CSRF_SESSION_KEY] = token
    return token


def rotate_csrf_token(session: dict[str, Any]) -> str:
    """A new token, e.g. on sign-in, so a token seen before sign-in is worthless after."""
    session[CSRF_SESSION_KEY] = secrets.token_urlsafe(32)
    return session[CSRF_SESSION_KEY]


def csrf_matches(session: dict[str, Any], sent: str | None) -> bool:
    expected = session.get(CSRF_SESSION_KEY)
    if not isinstance(expected, str) or not sent:
        return False
    return secrets.compare_digest(expected.encode(), sent.encode())


async def csrf_protect(request: Request) -> None:
    """Router dependency for every page route: unsafe methods need the session's token,
    in the ``X-CSRF-Token`` header (htmx, see app.js) or the ``csrf_token`` form field."""
    if request.method not in UNSAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()  # cached by Starlette: the route reads it again for free
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not csrf_matches(request.session, sent):
        # Mostly a page left open until its session ended: keep what was typed, and after signing in
        # (or at once, when still signed in) the person is back on the form with it.
        from .web.kept import keep_form

        back = await keep_form(request)
        if back is not None and not request.session.get("token"):
            raise ProblemError(401, "Not signed in", "Your session ended. Sign in again: what you typed is kept.")
        if back is not None:
            raise FormExpired(back)
        raise ProblemError(403, "Form expired", "This page has expired or did not come from this site. Reload the page and try again.")


class FormExpired(Exception):
    """A form whose page had expired: its fields are kept; the person is sent back to ``path``."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


# --- Rate limits: writes per client, with the `limits` library -------------------------------


class RateLimiter:
    """``capacity`` requests per client within ``capacity / refill`` seconds (a moving window of
    the `limits` library: the same burst and sustained rate as a token bucket of that capacity
    and refill). Counters live in ``storage_uri`` (``async+memory://``: this process; a shared
    store `limits` speaks, such as ``async+redis://…``, spreads them over replicas)."""

    def __init__(self, capacity: float, refill: float, *, storage_uri: str = "async+memory://") -> None:
        if capacity < 1 or refill <= 0:
            raise ValueError("capacity must be >= 1 and refill > 0")
        self.item = RateLimitItemPerSecond(int(capacity), max(1, math.ceil(capacity / refill)))
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))

    async def take(self, key: str) -> tuple[bool, float]:
        """Count one request; return (allowed, seconds until one would be allowed)."""
        if await self._limiter.hit(self.item, "writes", key):
            return True, 0.0
        stats = await self._limiter.get_window_stats(self.item, "writes", key)
        return False, max(1.0, stats.reset_time - time.time())


def client_key(scope: Scope, trust_forwarded_for: bool) -> str:
    if trust_forwarded_for:
        for name, value in scope.get("headers", []):
            if name == b"x-forwarded-for":
                return value.decode("latin-1").split(",")[0].strip()
    client = scope.get("client")
    return client[0] if client else "unknown"


def wait_in_words(seconds: float) -> str:
    """A wait as people say it: "about 4 minutes", "about a minute", "a few seconds"."""
    seconds = max(0, math.ceil(seconds))
    if seconds < 45:
        return "a few seconds" if seconds < 10 else f"about {round(seconds / 5) * 5 or 10} seconds"
    minutes = round(seconds / 60)
    if minutes <= 1:
        return "about a minute"
    if minutes < 55:
        return f"about {minutes} minutes"
    hours = round(seconds / 3600)
    return "about an hour" if hours <= 1 else f"about {hours} hours"


class RateLimitMiddleware:
    """Writes (unsafe methods) are limited per client; reads are not (they are cheap to serve and
    already bounded by the services' own capacity). Sign-in is not limited here: accounts throttles
    failed sign-ins, and successes must never lock out a city hall behind one address. A refusal
    is a 429 with ``Retry-After``: problem details for the API, a page with the wait in words for
    people."""

    def __init__(self, app: ASGIApp, *, writes: RateLimiter, trust_forwarded_for: bool = False,
                 page: Callable[[Scope, int], bytes] | None = None) -> None:
        self.app = app
        self.writes = writes
        self.trust_forwarded_for = trust_forwarded_for
        self.page = page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE_METHODS:
            await self.app(scope, receive, send)
            return
        allowed, wait = await self.writes.take(client_key(scope, self.trust_forwarded_for))
        if allowed:
            await self.app(scope, receive, send)
            return
        retry_after = max(1, math.ceil(wait))
        if scope["path"].startswith("/api/") or self.page is None:
            body = json.dumps(problem_body(
                429, "Too many requests", f"Too many changes from this address: try again in {wait_in_words(retry_after)} "
                f"({retry_after} s).")).encode()
            ctype = b"application/problem+json"
        else:
            body = self.page(scope, retry_after)
            ctype = b"text/html; charset=utf-8"
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [(b"content-type", ctype), (b"retry-after", str(retry_after).encode()),
                            (b"cache-control", b"no-store"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


# --- Security headers --------------------------------------------------------------------------

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.extra = ((b"strict-transport-security", b"max-age=31536000; includeSubDomains"),) if hsts else ()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                headers = list(message.get("headers", []))
                headers += [h for h in SECURITY_HEADERS + self.extra if h[0] not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
