"""Safety of the front door: CSRF, rate limits, security headers.

Sessions themselves are Starlette's signed cookie (itsdangerous), configured in the app
factory: HttpOnly always, Secure unless turned off for local http, SameSite=Lax.
"""

from __future__ import annotations

import json
import math
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .problems import ProblemError, problem_body

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
CSRF_SESSION_KEY = "csrf"

Clock = Callable[[], float]


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
        raise ProblemError(403, "CSRF check failed", "The form has expired or did not come from this site. Reload the page and try again.")


# --- Rate limits: token buckets per client ----------------------------------------------------


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """A token bucket per key: ``capacity`` requests at once, refilled at ``refill`` per second.

    In memory, per process: enough for one gateway replica; several replicas each allow
    their own share, which is the usual trade for not needing a shared store.
    """

    def __init__(self, capacity: float, refill: float, *, clock: Clock = time.monotonic, max_keys: int = 50_000) -> None:
        if capacity < 1 or refill <= 0:
            raise ValueError("capacity must be >= 1 and refill > 0")
        self.capacity = capacity
        self.refill = refill
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, key: str, cost: float = 1.0) -> tuple[bool, float]:
        """Spend ``cost`` tokens; return (allowed, seconds until it would be allowed)."""
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(self.capacity, now)
            self._buckets[key] = bucket
            if len(self._buckets) > self.max_keys:
                # Oldest-touched keys go first; a forgotten key simply starts full again.
                self._buckets.popitem(last=False)
        else:
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.refill)
            bucket.updated = now
            self._buckets.move_to_end(key)
        if bucket.tokens >= cost:
            bucket.tokens -= cost
            return True, 0.0
        return False, (cost - bucket.tokens) / self.refill


SIGNIN_ROUTES = frozenset({("POST", "/api/v1/auth/token"), ("POST", "/signin")})


def client_key(scope: Scope, trust_forwarded_for: bool) -> str:
    if trust_forwarded_for:
        for name, value in scope.get("headers", []):
            if name == b"x-forwarded-for":
                return value.decode("latin-1").split(",")[0].strip()
    client = scope.get("client")
    return client[0] if client else "unknown"


class RateLimitMiddleware:
    """Sign-in and writes are limited per client; reads are not (they are cheap to serve
    and already bounded by the services' own capacity)."""

    def __init__(self, app: ASGIApp, *, signin: RateLimiter, writes: RateLimiter, trust_forwarded_for: bool = False) -> None:
        self.app = app
        self.signin = signin
        self.writes = writes
        self.trust_forwarded_for = trust_forwarded_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE_METHODS:
            await self.app(scope, receive, send)
            return
        key = client_key(scope, self.trust_forwarded_for)
        limiter = self.signin if (scope["method"], scope["path"]) in SIGNIN_ROUTES else self.writes
        allowed, wait = limiter.take(key)
        if allowed:
            await self.app(scope, receive, send)
            return
        retry_after = str(max(1, math.ceil(wait)))
        if scope["path"].startswith("/api/"):
            body = json.dumps(
                problem_body(429, "Too many requests", f"Slow down: try again in {retry_after} s.")
            ).encode()
            ctype = b"application/problem+json"
        else:
            body = f"Too many requests. Please wait {retry_after} seconds and try again.".encode()
            ctype = b"text/plain; charset=utf-8"
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [(b"content-type", ctype), (b"retry-after", retry_after.encode()), (b"content-length", str(len(body)).encode())],
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
