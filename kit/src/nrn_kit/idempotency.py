"""``Idempotency-Key`` for commands over HTTP: a retry returns the first answer instead of acting twice.

Follows the IETF draft *The Idempotency-Key HTTP Header Field* (and Stripe's practice):

- A command route opts in with the dependency :data:`IDEMPOTENT` (``dependencies=[IDEMPOTENT]`` on
  the route or the router; safe methods pass through). :class:`IdempotencyMiddleware`, installed by
  :func:`nrn_kit.app.create_app`, sees the request body and the response.
- The first request with a key reserves it: one document in the service's ``idempotency``
  collection, ``_id`` = SHA-256 of (caller, key), holding a fingerprint of the request (method, path,
  query, body; JSON bodies canonicalised so key order and spacing do not matter) and a lease. The
  command's own transaction marks the reservation executed (:func:`mark_all_executed`, called by
  :class:`nrn_kit.mongo.Store`: one update for a group's keys), so a command commits at most once
  per key even when a reservation is taken over after its lease ran out.
- The answer (status, body, and the headers that matter: ``Content-Type``, ``Location``, ``ETag``,
  ``Content-Location``, ``Link``, ``Last-Modified``) is stored before it is sent, for
  ``idempotency_ttl_seconds`` (a day; a TTL index on ``expires_at`` removes it). A retry with the same
  key and the same request gets it back with ``Idempotent-Replayed: true``.
- The same key with a different request: 422 ``idempotency-key-reused``. While the first is still
  running, a retry waits up to ``idempotency_wait_seconds`` for its answer, then gets 409
  ``idempotency-key-in-progress`` with ``Retry-After``.
- An answer is kept when it is a success or when the command committed; a refusal that changed
  nothing (401, 403, 404, a validation or version error, a 5xx before the commit) frees the key so
  that the retry is judged afresh.
- The caller is the verified bearer's account (``sub``), or "anonymous" without a token, so one
  caller can never read another's stored answer.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import Response
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .http import Conflict, DomainError, problem

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
COLLECTION = "idempotency"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
KEY_MAX = 255
# Response headers that are part of the answer (the rest are the server's or the hop's).
STORED_HEADERS = ("content-type", "location", "etag", "content-location", "link", "last-modified")
_SCOPE_KEY = "nrn.idempotency"


def indexes() -> list[IndexModel]:
    """The collection's one index: expiry (the TTL monitor removes a record at its ``expires_at``)."""
    return [IndexModel([("expires_at", ASCENDING)], name="expires_ttl", expireAfterSeconds=0)]


class KeyReused(DomainError):
    status, code, title = 422, "idempotency-key-reused", "Idempotency-Key already used for another request"


class KeyInProgress(Conflict):
    code, title = "idempotency-key-in-progress", "A request with this Idempotency-Key is still running"


class OutcomeUnknown(Conflict):
    code, title = "idempotency-outcome-unknown", "The request was carried out but its answer was lost"


@dataclass
class Reservation:
    """The key this request holds while it runs."""

    id: str
    owner: str
    db: AsyncDatabase


@dataclass
class _Exchange:
    """What the middleware keeps for one request carrying a key."""

    body: bytearray = field(default_factory=bytearray)
    reservation: Reservation | None = None


class Replay(Exception):
    """Raised by the dependency to answer with the stored response (handled in :func:`install`)."""

    def __init__(self, record: dict[str, Any]) -> None:
        super().__init__("replay")
        self.record = record


_current: contextvars.ContextVar[Reservation | None] = contextvars.ContextVar("nrn_idempotency", default=None)


def current() -> Reservation | None:
    """The reservation of the request being handled in this context, if it carries a key."""
    return _current.get()


def taken_over() -> KeyInProgress:
    """The error of a command whose reservation another attempt took over (it outlived its lease)."""
    return KeyInProgress("another attempt with this Idempotency-Key took over; retry to get its answer", field=HEADER)


async def mark_all_executed(reservations: list[Reservation], session: AsyncClientSession) -> list[int]:
    """Inside a (group's) transaction: mark every reservation executed, in one update per database.

    Returns the positions in ``reservations`` of those another attempt has taken over (not marked;
    the caller aborts, or fails those commands and runs the others again), in order; [] when all
    were marked. Owners are random per attempt, so ``_id`` in the ids and ``owner`` in the owners
    matches exactly the reservations still held.
    """
    by_db: dict[int, list[int]] = {}
    for position, reservation in enumerate(reservations):
        by_db.setdefault(id(reservation.db), []).append(position)
    missing: list[int] = []
    now = datetime.now(UTC)
    for positions in by_db.values():
        held = [reservations[p] for p in positions]
        collection = held[0].db[COLLECTION]
        ids = list({r.id for r in held})
        result = await collection.update_many(
            {"_id": {"$in": ids}, "owner": {"$in": [r.owner for r in held]}},
            {"$set": {"executed_at": now}}, session=session)
        if result.matched_count == len(held):
            continue
        owners = {d["_id"]: d.get("owner") async for d in collection.find({"_id": {"$in": ids}}, {"owner": 1},
                                                                          session=session)}
        missing.extend(p for p in positions if owners.get(reservations[p].id) != reservations[p].owner)
    return sorted(missing)


def _canonical_body(body: bytes, content_type: str) -> bytes:
    if "json" in content_type and body:
        try:
            return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
        except ValueError:
            pass
    return body


def fingerprint(method: str, path: str, query: str, body: bytes, content_type: str = "") -> str:
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), query.encode(), _canonical_body(body, content_type)):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def valid_key(key: str) -> bool:
    """1 to 255 visible ASCII characters."""
    return 0 < len(key) <= KEY_MAX and all(0x20 < ord(c) < 0x7F for c in key)


async def _caller(request: Request) -> str | None:
    """The verified bearer's account id, "anonymous" without a token, None if the token is bad
    (the route's own authentication answers that, and nothing is reserved)."""
    principal = getattr(request.state, "principal", None)
    if principal is not None:
        return principal.account_id
    header = request.headers.get("authorization")
    if not header:
        return "anonymous"
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        principal = await request.app.state.runtime.verifier.verify(token.strip())
    except Exception:  # noqa: BLE001 — an unverifiable token is the route's 401 to give
        return None
    return principal.account_id


KEY_DESCRIPTION = ("Makes a retry safe: the first answer to a command with this key is kept for a day and "
                   "given back to a retry of the same request (with `Idempotent-Replayed: true`); the same key "
                   "with a different request is refused with 422. Use a fresh UUID per command.")


async def idempotency_key(
    request: Request,
    key: Annotated[str | None, Header(alias=HEADER, description=KEY_DESCRIPTION)] = None,
) -> None:
    """The dependency behind :data:`IDEMPOTENT`: reserve the key, or answer from what it stored."""
    if request.method not in UNSAFE_METHODS or key is None:
        return
    if not valid_key(key):
        raise DomainError(f"{HEADER} must be 1 to {KEY_MAX} visible ASCII characters (a UUID is typical)",
                          field=HEADER, code="invalid-input", title="Invalid input")
    exchange: _Exchange | None = request.scope.get(_SCOPE_KEY)
    if exchange is None:  # the middleware is not installed: fail loudly rather than act twice
        raise RuntimeError("IdempotencyMiddleware is not installed on this app")
    try:
        await request.body()  # a route without a body parameter has not read it; the middleware keeps it
    except RuntimeError:
        pass  # already streamed (a form or an upload): the middleware kept it as it passed
    caller = await _caller(request)
    if caller is None:
        return
    runtime = request.app.state.runtime
    settings = runtime.settings
    db: AsyncDatabase = runtime.db
    record_id = hashlib.sha256(f"{caller}\0{key}".encode()).hexdigest()
    print_ = fingerprint(request.method, request.url.path, request.url.query, bytes(exchange.body),
                         request.headers.get("content-type", ""))
    owner = uuid.uuid4().hex
    lease = timedelta(seconds=settings.idempotency_lease_seconds)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.idempotency_wait_seconds
    delay = 0.02
    while True:
        now = datetime.now(UTC)
        try:
            await db[COLLECTION].insert_one({
                "_id": record_id, "fingerprint": print_, "owner": owner, "state": "in_progress",
                "method": request.method, "path": request.url.path,
                "created_at": now, "lease_until": now + lease,
                "expires_at": now + timedelta(seconds=settings.idempotency_ttl_seconds),
            })
            break
        except DuplicateKeyError:
            pass
        existing = await db[COLLECTION].find_one({"_id": record_id})
        if existing is None:
            continue  # freed (or expired) in between: try to reserve again
        if existing.get("fingerprint") != print_:
            raise KeyReused(f"This {HEADER} was already used for a different request "
                            f"({existing.get('method')} {existing.get('path')}); send a new key for a new request",
                            field=HEADER)
        if existing.get("state") == "done":
            raise Replay(existing)
        lease_over = existing["lease_until"] <= now
        if lease_over and existing.get("executed_at"):
            raise OutcomeUnknown("The request with this key was carried out, but its answer was not recorded "
                                 "(the server stopped); read the resource to see the result", field=HEADER)
        if lease_over:
            taken = await db[COLLECTION].update_one(
                {"_id": record_id, "owner": existing["owner"], "executed_at": {"$exists": False}},
                {"$set": {"owner": owner, "lease_until": now + lease}})
            if taken.modified_count:
                break
            continue
        if loop.time() >= deadline:
            raise KeyInProgress("A request with this key is still being processed; retry in a moment to get its answer",
                                field=HEADER)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.25)
    reservation = Reservation(record_id, owner, db)
    exchange.reservation = reservation
    _current.set(reservation)


IDEMPOTENT = Depends(idempotency_key)


def _replay_response(record: dict[str, Any]) -> Response:
    headers = {name: value for name, value in record.get("headers", [])}
    headers[REPLAYED_HEADER] = "true"
    return Response(bytes(record.get("body") or b""), status_code=record["status"], headers=headers)


def install(app: FastAPI) -> None:
    """Add the middleware and the replay handler to a service's app (done by ``create_app``)."""

    @app.exception_handler(Replay)
    async def _replay(request: Request, exc: Replay) -> Response:
        return _replay_response(exc.record)

    @app.exception_handler(KeyInProgress)
    async def _in_progress(request: Request, exc: KeyInProgress) -> Response:
        response = problem(exc.status, exc.title, exc.detail, code=exc.code, instance=request.url.path,
                           field=exc.field)
        response.headers["Retry-After"] = "1"
        return response

    app.add_middleware(IdempotencyMiddleware)
    document_header(app)


def document_header(app: FastAPI) -> None:
    """The dependency names the header, so routers that attach it to every route would document it
    on reads too: keep it on the commands only."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        for operations in schema.get("paths", {}).values():
            for method, operation in operations.items():
                if method.upper() not in UNSAFE_METHODS and isinstance(operation, dict) and "parameters" in operation:
                    operation["parameters"] = [p for p in operation["parameters"] if p.get("name") != HEADER]
                    if not operation["parameters"]:
                        del operation["parameters"]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _keep(status: int) -> bool:
    # A success is the answer (so is whatever a committed command answered: see _finish). A refusal
    # that changed nothing frees the key, so the retry is judged afresh (the caller may have fixed it).
    return 200 <= status < 400


class IdempotencyMiddleware:
    """Sees the body of keyed commands (for the fingerprint) and stores their answer before sending it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE_METHODS or not any(
                name == b"idempotency-key" for name, _ in scope.get("headers", ())):
            await self.app(scope, receive, send)
            return
        exchange = _Exchange()
        scope[_SCOPE_KEY] = exchange

        async def receive_and_keep() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                exchange.body.extend(message.get("body", b""))
            return message

        start: Message | None = None
        chunks: list[bytes] = []

        async def send_after_storing(message: Message) -> None:
            nonlocal start
            if exchange.reservation is None:
                await send(message)
                return
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                assert start is not None
                await _finish(exchange.reservation, start, b"".join(chunks))
                exchange.reservation = None
                await send(start)
                await send({"type": "http.response.body", "body": b"".join(chunks)})
                return
            await send(message)

        try:
            await self.app(scope, receive_and_keep, send_after_storing)
        except BaseException:
            if exchange.reservation is not None:
                await _release(exchange.reservation)
            raise


async def _finish(reservation: Reservation, start: Message, body: bytes) -> None:
    status = int(start["status"])
    headers = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in start.get("headers", [])
               if k.decode("latin-1").lower() in STORED_HEADERS]
    collection = reservation.db[COLLECTION]
    try:
        if not _keep(status):
            freed = await collection.delete_one(
                {"_id": reservation.id, "owner": reservation.owner, "executed_at": {"$exists": False}})
            if freed.deleted_count:
                return
            # It committed after all (a failure after the transaction): keep what it answered.
        await collection.update_one(
            {"_id": reservation.id, "owner": reservation.owner},
            {"$set": {"state": "done", "status": status, "headers": headers, "body": body,
                      "completed_at": datetime.now(UTC)}})
    except Exception:  # noqa: BLE001 — the answer still goes out; a retry then waits out the lease
        log.exception("could not record the answer of an Idempotency-Key request")


async def _release(reservation: Reservation) -> None:
    try:
        await reservation.db[COLLECTION].delete_one(
            {"_id": reservation.id, "owner": reservation.owner, "executed_at": {"$exists": False}})
    except Exception:  # noqa: BLE001
        log.exception("could not free an Idempotency-Key after a failure")
