"""HTTP clients to the downstream services.

One shared ``httpx.AsyncClient`` per service, with connect and read timeouts, bounded
retries with backoff for idempotent methods only, and a circuit breaker per service so
that a dead service costs one fast failure instead of a timeout per request.

The caller's ``Authorization`` header travels with every call (services verify the
token themselves) and so does the W3C trace context.

Commands carry an ``Idempotency-Key`` (see :func:`use_idempotency_key`): the one an API client sent
or the one a page's form holds, derived per upstream call, so that retrying a command is safe. A
command with a key is retried like an idempotent method; one without is sent once.

Connections: the pool forgets an idle connection after ``upstream_keepalive_expiry`` seconds, shorter
than the services' own keep-alive (uvicorn closes an idle connection after 5 s), so the gateway
never sends on a connection the service is closing at the same moment. A call that still meets a
closed connection is retried when it is safe (idempotent method or keyed command).

Errors are typed so the API and the pages can decide what to show:
- ``UpstreamError``: the service answered 4xx; its status and problem body pass through.
- ``ServiceUnavailable``: the service could not be reached, timed out, answered 5xx, or its
  breaker is open. Composed views turn this into a missing section, single calls into 503/502.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from opentelemetry import propagate

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
IDEMPOTENCY_HEADER = "Idempotency-Key"
# Statuses that say "try again later", worth a retry of an idempotent call.
RETRYABLE_STATUSES = frozenset({502, 503, 504})

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
BreakerState = Literal["closed", "open", "half_open"]


class ServiceUnavailable(Exception):
    """The service could not give an answer (down, slow, 5xx, or breaker open). ``retry_after``: the
    service's own Retry-After (seconds or an HTTP date, as sent) when it answered 503 with one."""

    def __init__(self, service: str, reason: str, status: int | None = None, retry_after: str | None = None) -> None:
        super().__init__(f"{service}: {reason}")
        self.service = service
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


class UpstreamError(Exception):
    """The service answered with a 4xx: the caller's problem, passed through as is. ``retry_after``: the
    service's Retry-After header, as sent (a 409 "in progress" for a repeated Idempotency-Key, a 429)."""

    def __init__(self, service: str, status: int, body: Any, content_type: str | None,
                 retry_after: str | None = None) -> None:
        super().__init__(f"{service} answered {status}")
        self.service = service
        self.status = status
        self.body = body
        self.content_type = content_type
        self.retry_after = retry_after

    def problem(self) -> dict[str, Any]:
        """The body as an RFC 9457 problem, wrapping a non-problem body if needed."""
        if isinstance(self.body, dict) and ("title" in self.body or "type" in self.body):
            return {"status": self.status, **self.body}
        detail = self.body.get("detail") if isinstance(self.body, dict) else self.body
        return {
            "type": "about:blank",
            "title": httpx.codes.get_reason_phrase(self.status) or "Error",
            "status": self.status,
            "detail": detail if isinstance(detail, str) else None,
            **({"errors": detail} if isinstance(detail, list) else {}),
        }


@dataclass
class CircuitBreaker:
    """Open after ``failure_threshold`` consecutive failures; after ``reset_timeout``
    let one trial call through (half-open); its result closes or re-opens the circuit."""

    name: str
    failure_threshold: int = 5
    reset_timeout: float = 15.0
    clock: Clock = time.monotonic
    _failures: int = field(default=0, init=False)
    _opened_at: float | None = field(default=None, init=False)
    _trial_in_flight: bool = field(default=False, init=False)

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return "closed"
        if self.clock() - self._opened_at >= self.reset_timeout:
            return "half_open"
        return "open"

    def allow(self) -> bool:
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self._trial_in_flight:
            # Only one probe at a time: a crowd of probes to a sick service is what
            # the breaker exists to prevent.
            self._trial_in_flight = True
            return True
        return False

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial_in_flight = False

    def record_failure(self) -> None:
        was_trial = self._trial_in_flight
        self._trial_in_flight = False
        self._failures += 1
        if was_trial or self._failures >= self.failure_threshold:
            self._opened_at = self.clock()

    def release_trial(self) -> None:
        self._trial_in_flight = False

    def snapshot(self) -> dict[str, Any]:
        return {"service": self.name, "state": self.state, "consecutive_failures": self._failures}


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 2
    backoff: float = 0.05
    max_backoff: float = 1.0

    def delay(self, attempt: int) -> float:
        return min(self.backoff * (2**attempt), self.max_backoff)


@dataclass(frozen=True)
class CommandKey:
    """The Idempotency-Key of the command being handled, and where it came from."""

    key: str
    from_form: bool  # a page's hidden field: a changed form under the same key is a new command

    def for_call(self, service: str, method: str, path: str) -> str:
        # One key per upstream call, the same on every retry of the same command: a command that
        # makes two calls (or renews the session's token first) never reuses one key for both.
        return hashlib.sha256(f"{self.key}\0{service}\0{method}\0{path}".encode()).hexdigest()


_command_key: contextvars.ContextVar[CommandKey | None] = contextvars.ContextVar("gateway_command_key", default=None)


def use_idempotency_key(key: str | None, *, from_form: bool) -> None:
    """Send ``key`` (derived per call) with every command made while handling this request."""
    _command_key.set(CommandKey(key, from_form) if key else None)


def _key_reused(response: httpx.Response) -> bool:
    body = _decode(response)
    return response.status_code == 422 and isinstance(body, dict) and str(body.get("type", "")).endswith(
        "idempotency-key-reused")


def _decode(response: httpx.Response) -> Any:
    ctype = response.headers.get("content-type", "")
    if "json" in ctype:
        try:
            return response.json()
        except ValueError:
            return response.text
    return response.text


class ServiceClient:
    """The one client of one downstream service."""

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        timeout: httpx.Timeout,
        retry: RetryPolicy,
        breaker: CircuitBreaker,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        max_connections: int = 100,
        keepalive_expiry: float = 4.0,
    ) -> None:
        self.name = name
        self.retry = retry
        self.breaker = breaker
        self._sleep = sleep
        self.http = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout,
            transport=transport,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections,
                                keepalive_expiry=keepalive_expiry),
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """Send one call; return the 2xx/3xx response or raise UpstreamError / ServiceUnavailable."""
        method = method.upper()
        send_headers: dict[str, str] = dict(headers or {})
        if token:
            send_headers["Authorization"] = f"Bearer {token}"
        # Trace context of the current span (the incoming request's when FastAPI is
        # instrumented) so one trace spans gateway and services.
        propagate.inject(send_headers)
        if params is not None and not isinstance(params, list):
            params = {k: v for k, v in params.items() if v is not None}
        command_key = _command_key.get() if method in UNSAFE_METHODS else None
        if command_key is not None and not any(k.lower() == "idempotency-key" for k in send_headers):
            send_headers[IDEMPOTENCY_HEADER] = command_key.for_call(self.name, method, path)
        keyed = any(k.lower() == "idempotency-key" for k in send_headers)
        if keyed and files is not None and "Content-Type" not in send_headers:
            # The same multipart boundary on every retry, so the service sees the same request.
            key = next(v for k, v in send_headers.items() if k.lower() == "idempotency-key")
            boundary = hashlib.sha256(key.encode()).hexdigest()[:32]
            send_headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        attempts = 1 + (self.retry.retries if method in IDEMPOTENT_METHODS or keyed else 0)
        extra: dict[str, Any] = {}
        if timeout is not None:
            extra["timeout"] = httpx.Timeout(timeout, connect=min(timeout, self.http.timeout.connect or timeout))
        last: ServiceUnavailable | None = None
        attempt = -1
        while (attempt := attempt + 1) < attempts:
            if not self.breaker.allow():
                raise ServiceUnavailable(self.name, "circuit open")
            try:
                response = await self.http.request(
                    method, path, params=params, json=json, data=data, files=files, headers=send_headers, **extra
                )
            except asyncio.CancelledError:
                # The caller gave up (a section timeout): free a half-open probe slot
                # so the breaker cannot be left waiting for an answer that never comes.
                self.breaker.release_trial()
                raise
            except httpx.TimeoutException as exc:
                self.breaker.record_failure()
                last = ServiceUnavailable(self.name, f"timed out ({type(exc).__name__})")
            except httpx.RemoteProtocolError as exc:
                # Most often a pooled connection the service closed as we reused it: says nothing
                # of the service's health, and a fresh connection at once is the cure.
                self.breaker.release_trial()
                last = ServiceUnavailable(self.name, f"unreachable ({type(exc).__name__})")
                continue
            except httpx.TransportError as exc:
                self.breaker.record_failure()
                last = ServiceUnavailable(self.name, f"unreachable ({type(exc).__name__})")
            else:
                if response.status_code >= 500:
                    self.breaker.record_failure()
                    last = ServiceUnavailable(
                        self.name, f"answered {response.status_code}", status=response.status_code,
                        retry_after=response.headers.get("retry-after"),
                    )
                    if response.status_code not in RETRYABLE_STATUSES:
                        raise last
                else:
                    self.breaker.record_success()
                    if command_key is not None and command_key.from_form and _key_reused(response):
                        # The person went Back, changed the form and sent it: a new command.
                        send_headers[IDEMPOTENCY_HEADER] = uuid.uuid4().hex
                        command_key = None
                        attempts += 1
                        continue
                    if response.status_code >= 400:
                        raise UpstreamError(
                            self.name, response.status_code, _decode(response), response.headers.get("content-type"),
                            retry_after=response.headers.get("retry-after"),
                        )
                    return response
            if attempt + 1 < attempts:
                await self._sleep(self.retry.delay(attempt))
        assert last is not None
        raise last

    async def get_json(self, path: str, **kw: Any) -> Any:
        return _decode(await self.request("GET", path, **kw))

    async def post_json(self, path: str, **kw: Any) -> Any:
        return _decode(await self.request("POST", path, **kw))

    async def send_json(self, method: str, path: str, **kw: Any) -> Any:
        response = await self.request(method, path, **kw)
        return None if response.status_code == 204 else _decode(response)


@dataclass
class Services:
    """The gateway's clients, one per downstream service."""

    accounts: ServiceClient
    requests311: ServiceClient
    library: ServiceClient
    peer: ServiceClient
    partners: ServiceClient
    engagements: ServiceClient
    notifications: ServiceClient

    def all(self) -> list[ServiceClient]:
        return [self.accounts, self.requests311, self.library, self.peer, self.partners, self.engagements,
                self.notifications]

    async def aclose(self) -> None:
        await asyncio.gather(*(c.aclose() for c in self.all()), return_exceptions=True)


def build_services(
    settings: Any,
    *,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    clock: Clock = time.monotonic,
) -> Services:
    """Build the clients from settings (called from the app factory, never at import)."""
    transports = transports or {}
    timeout = httpx.Timeout(
        settings.upstream_read_timeout, connect=settings.upstream_connect_timeout
    )
    retry = RetryPolicy(retries=settings.upstream_retries, backoff=settings.upstream_backoff)

    def make(name: str, url: str) -> ServiceClient:
        return ServiceClient(
            name,
            url,
            timeout=timeout,
            retry=retry,
            breaker=CircuitBreaker(
                name,
                failure_threshold=settings.breaker_failure_threshold,
                reset_timeout=settings.breaker_reset_timeout,
                clock=clock,
            ),
            transport=transports.get(name),
            keepalive_expiry=settings.upstream_keepalive_expiry,
        )

    return Services(
        accounts=make("accounts", settings.accounts_url),
        requests311=make("requests311", settings.requests311_url),
        library=make("library", settings.library_url),
        peer=make("peer", settings.peer_url),
        partners=make("partners", settings.partners_url),
        engagements=make("engagements", settings.engagements_url),
        notifications=make("notifications", settings.notifications_url),
    )
