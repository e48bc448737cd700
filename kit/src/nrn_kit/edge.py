"""The edge: what one anonymous request may make a server hold — memory or time — before any rule runs.

Two parts, used by every service (``nrn_kit.app.create_app``) and by the gateway:

* :class:`EdgeGuard`, an ASGI middleware. It reads a request's body itself, before the app sees it:
  at most ``max_body_bytes`` (413 at once when ``Content-Length`` says more; a route may allow more,
  e.g. a CSV upload), within ``body_timeout`` seconds in all (an upload route: as much longer as its
  limit is larger, :meth:`EdgeLimits.body_deadline`) and ``body_idle_timeout`` between two chunks
  (408: a slow body is a slowloris too), and for JSON at most ``max_json_depth`` levels of
  nesting and ``max_json_keys`` keys in all (413), checked on the bytes at C speed before any parser
  builds the object. The app then gets the body as one chunk.
* :class:`GuardedHttpToolsProtocol`, uvicorn's httptools protocol with what it lacks: a request head
  (request line and headers) of at most ``max_header_bytes`` (431; 414 for the URL alone), read
  within ``header_timeout`` seconds of the connection or of the request's first byte (408; an idle
  connection that never sends a byte is closed). :func:`nrn_kit.serving.server_config` wires it in,
  for ``nrn up``, the Dockerfiles and the tests alike.

Every refusal is RFC 9457 problem details (``application/problem+json``) that says the limit and never
repeats what was sent, and closes the connection (the rest of an oversized body is never read).
Pages of the gateway get the same as a small HTML page (``html_paths``).
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from html import escape
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PROBLEM_BASE = "https://nationalresourcenetwork.org/problems/"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class EdgeLimits:
    """The limits; :meth:`from_settings` reads them from a ``ServiceSettings`` (``HTTP_*`` variables)."""

    max_body_bytes: int = 1024 * 1024
    # route → a larger body limit for an upload: a path, or a template with {name} segments
    # ("/applications/{application_id}/attachments")
    upload_routes: Mapping[str, int] = field(default_factory=dict)
    max_header_bytes: int = 32 * 1024
    max_json_depth: int = 32
    max_json_keys: int = 10_000
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    body_idle_timeout: float = 10.0

    @classmethod
    def from_settings(cls, settings: Any, upload_routes: Mapping[str, int] | None = None) -> EdgeLimits:
        return cls(
            max_body_bytes=settings.http_max_body_bytes,
            upload_routes={**getattr(settings, "http_upload_routes", {}), **(upload_routes or {})},
            max_header_bytes=settings.http_max_header_bytes,
            max_json_depth=settings.http_max_json_depth,
            max_json_keys=settings.http_max_json_keys,
            header_timeout=settings.http_header_timeout,
            body_timeout=settings.http_body_timeout,
            body_idle_timeout=settings.http_body_idle_timeout,
        )

    def body_limit(self, path: str) -> int:
        allowed = self.max_body_bytes
        for pattern, limit in _route_patterns(tuple(self.upload_routes.items())):
            if limit > allowed and pattern.fullmatch(path):
                allowed = limit
        return allowed

    def body_deadline(self, limit: int) -> float:
        """Seconds a body of at most ``limit`` bytes may take in all: ``body_timeout`` for an ordinary
        body, and for an upload route the same least rate (``max_body_bytes / body_timeout``, 34 KiB/s
        with the defaults) — a 5 MiB CSV from a slow uplink is not a slowloris, a stalled one is
        (``body_idle_timeout`` between two parts cuts it whatever the route)."""
        return self.body_timeout * max(1.0, limit / self.max_body_bytes)


@functools.lru_cache(maxsize=64)
def _route_patterns(routes: tuple[tuple[str, int], ...]) -> list[tuple[re.Pattern[str], int]]:
    # a {name} segment matches one path segment, as in the app's own routes
    return [(re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(route))), limit) for route, limit in routes]


def problem_document(status: int, title: str, detail: str, code: str) -> dict[str, Any]:
    return {"type": PROBLEM_BASE + code, "title": title, "status": status, "detail": detail}


def _bytes(n: int) -> str:
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MiB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024} KiB"
    return f"{n:,} bytes"


# --- JSON shape, on the bytes -----------------------------------------------------------------------

# A JSON string, possessive so that no input backtracks: its contents cannot hold brackets or colons
# that count. What is left outside strings: brackets for depth, colons for keys (one per key).
_JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_DEPTH_STEP = [0] * 256
_DEPTH_STEP[ord("[")] = _DEPTH_STEP[ord("{")] = 1
_DEPTH_STEP[ord("]")] = _DEPTH_STEP[ord("}")] = -1


def json_shape(body: bytes) -> tuple[int, int]:
    """(deepest nesting, number of object keys) of a JSON text, without parsing it. Linear and at C
    speed (a regular expression and ``bytes.translate``); for text that is not JSON the figures are
    what the brackets and colons outside strings say, and the parser refuses it afterwards."""
    bare = _JSON_STRING.sub(b"", body)
    keys = bare.count(b":")
    brackets = bare.translate(None, _NOT_BRACKETS)
    depth = max(itertools.accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0)
    return depth, keys


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


# --- the middleware ---------------------------------------------------------------------------------


class Refused(Exception):
    def __init__(self, status: int, title: str, detail: str, code: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.code = status, title, detail, code


Renderer = Callable[[Scope, dict[str, Any]], tuple[bytes, bytes]]  # → (content type, body)


def html_page(problem: dict[str, Any]) -> tuple[bytes, bytes]:
    """A small page in the site's style for people (the gateway's pages)."""
    title, detail = escape(problem["title"]), escape(problem["detail"])
    page = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><title>{title} · SC2 National Resource Network</title>'
            f'<link rel="stylesheet" href="/static/site.css"></head><body><main id="main" class="container">'
            f"<h1>{title}</h1><p>{detail}</p><p><a href=\"/\">Go to the home page</a>.</p></main></body></html>")
    return b"text/html; charset=utf-8", page.encode()


class EdgeGuard:
    """ASGI middleware: the body limits, the body read timeouts and the JSON shape limits (see module)."""

    def __init__(self, app: ASGIApp, *, limits: EdgeLimits,
                 html_paths: Callable[[str], bool] | None = None) -> None:
        self.app = app
        self.limits = limits
        self.html_paths = html_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k: v for k, v in scope.get("headers", ())}
        length_header = headers.get(b"content-length")
        has_body = length_header not in (None, b"0") or b"transfer-encoding" in headers
        if not has_body and scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        try:
            body = await self._read_body(scope, receive, length_header)
            if body and _is_json(headers.get(b"content-type", b"").decode("latin-1")):
                self._check_json(body)
        except Refused as refused:
            await self._refuse(scope, send, refused)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read_body(self, scope: Scope, receive: Receive, length_header: bytes | None) -> bytes:
        limit = self.limits.body_limit(scope["path"])
        too_large = Refused(413, "Request body too large",
                            f"The request body is larger than {_bytes(limit)}, the most this address takes.",
                            "request-body-too-large")
        if length_header is not None:
            try:
                declared = int(length_header)
            except ValueError:
                raise Refused(400, "Bad request", "Content-Length is not a number.", "bad-content-length") from None
            if declared > limit:
                raise too_large
        chunks: list[bytes] = []
        size = 0
        loop = asyncio.get_running_loop()
        allowed_time = self.limits.body_deadline(limit)
        deadline = loop.time() + allowed_time
        while True:
            wait = min(self.limits.body_idle_timeout, deadline - loop.time())
            try:
                if wait <= 0:
                    raise TimeoutError
                message = await asyncio.wait_for(receive(), wait)
            except TimeoutError:
                raise Refused(408, "Request timeout",
                              f"The request body did not arrive in time (at most {allowed_time:.3g} s in all, "
                              f"{self.limits.body_idle_timeout:g} s between two parts).", "request-timeout") from None
            if message["type"] == "http.disconnect":
                raise Refused(400, "Bad request", "The client went away before sending the body.", "client-gone")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _check_json(self, body: bytes) -> None:
        limits = self.limits
        if body.count(b":") <= limits.max_json_keys and \
                body.count(b"[") + body.count(b"{") <= limits.max_json_depth:
            return  # cannot exceed either limit, whatever the strings hold: the usual body costs two counts
        depth, keys = json_shape(body)
        if depth > self.limits.max_json_depth:
            raise Refused(413, "JSON nested too deeply",
                          f"The JSON is nested deeper than {self.limits.max_json_depth} levels.", "json-too-deep")
        if keys > self.limits.max_json_keys:
            raise Refused(413, "Too many JSON keys",
                          f"The JSON has more than {self.limits.max_json_keys:,} keys in all.", "json-too-many-keys")

    async def _refuse(self, scope: Scope, send: Send, refused: Refused) -> None:
        problem = problem_document(refused.status, refused.title, refused.detail, refused.code)
        problem["instance"] = scope["path"][:200]
        if self.html_paths is not None and self.html_paths(scope["path"]):
            ctype, body = html_page(problem)
        else:
            ctype, body = b"application/problem+json", json.dumps(problem).encode()
        # The rest of an oversized or slow body is never read: the connection closes after the answer.
        await send({"type": "http.response.start", "status": refused.status,
                    "headers": [(b"content-type", ctype), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


def _replay(body: bytes, receive: Receive) -> Callable[[], Awaitable[Message]]:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: the disconnect, whenever it comes

    return replay


# --- the server protocol ----------------------------------------------------------------------------

try:
    import httptools
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - uvicorn[standard] brings httptools
    HttpToolsProtocol = None  # type: ignore[assignment,misc]

# One read of the event loop's transport may carry the start of the body with the end of the head.
_READ_SLACK = 256 * 1024
# A refusal sent while the client is still sending (413 on Content-Length, 408 mid-body, 431 mid-head):
# closing at once with its bytes unread makes the kernel answer with a reset, and a client still
# writing then often loses the refusal it was sent (httpx: ReadError). So the server half-closes
# (FIN after the answer) and reads and drops what keeps coming for at most this long and this much,
# as nginx's lingering close does; then it closes for good.
LINGER_SECONDS = 2.0
LINGER_MAX_BYTES = 8 * 1024 * 1024


class _HeadRefused(Exception):
    def __init__(self, status: int, title: str, detail: str, code: str) -> None:
        super().__init__(detail)
        self.args4 = (status, title, detail, code)


if HttpToolsProtocol is not None:

    class GuardedHttpToolsProtocol(HttpToolsProtocol):  # type: ignore[misc,valid-type]
        """uvicorn's httptools protocol with a bounded request head and a deadline for reading it.

        ``limits`` is set on a subclass made by :func:`protocol_for` (uvicorn builds protocols itself).
        """

        limits: EdgeLimits = EdgeLimits()

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            self._raw_transport = transport
            self._lingering = False
            self._linger_left = 0
            self._linger_timer: asyncio.TimerHandle | None = None
            super().connection_made(_LingeringTransport(transport, self))  # type: ignore[arg-type]
            self._head_bytes = 0
            self._head_exact = 0
            self._head_begun = False
            self._closed_by_us = False
            self._head_timer: asyncio.TimerHandle | None = None
            self._start_head_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_head_timer()
            if self._linger_timer is not None:
                self._linger_timer.cancel()
                self._linger_timer = None
            super().connection_lost(exc)

        def _close(self) -> None:
            """Close the connection; linger first (see ``LINGER_SECONDS``) when the client is still sending."""
            raw = self._raw_transport
            if self._lingering or raw.is_closing():
                return
            cycle = self.cycle
            still_sending = self._closed_by_us or (cycle is not None and cycle.more_body and not cycle.disconnected)
            if not still_sending or not raw.can_write_eof():
                raw.close()
                return
            self._lingering = True
            self._linger_left = LINGER_MAX_BYTES
            raw.write_eof()  # after what is buffered: the answer, then FIN
            raw.resume_reading()
            self._linger_timer = self.loop.call_later(LINGER_SECONDS, raw.close)

        def _start_head_timer(self) -> None:
            self._stop_head_timer()
            self._head_timer = self.loop.call_later(self.limits.header_timeout, self._head_timed_out)

        def _stop_head_timer(self) -> None:
            timer = getattr(self, "_head_timer", None)
            if timer is not None:
                timer.cancel()
                self._head_timer = None

        def _head_timed_out(self) -> None:
            self._head_timer = None
            if self.transport.is_closing():
                return
            if not self._head_begun:
                self.transport.close()  # a connection that never started a request: nothing to answer
                return
            self._refuse(408, "Request timeout",
                         f"The request's header did not arrive within {self.limits.header_timeout:g} s.",
                         "request-timeout")

        def _refuse(self, status: int, title: str, detail: str, code: str) -> None:
            self._stop_head_timer()
            if self._closed_by_us or self.transport.is_closing():
                return
            self._closed_by_us = True
            body = json.dumps(problem_document(status, title, detail, code)).encode()
            head = [f"HTTP/1.1 {status} {title}\r\n".encode()]
            for name, value in self.server_state.default_headers:
                head += [name, b": ", value, b"\r\n"]
            head += [b"content-type: application/problem+json\r\n",
                     b"content-length: " + str(len(body)).encode() + b"\r\n", b"connection: close\r\n\r\n"]
            self.transport.write(b"".join(head) + body)
            self.transport.close()

        def data_received(self, data: bytes) -> None:
            if self._lingering:  # the rest of a refused request: dropped, up to a bound
                self._linger_left -= len(data)
                if self._linger_left <= 0:
                    self._raw_transport.close()
                return
            if self._closed_by_us:
                return
            if self._head_timer is not None:  # reading a head: bound what it may hold
                self._head_begun = True
                self._head_bytes += len(data)
                if self._head_bytes > self.limits.max_header_bytes + _READ_SLACK:
                    self._refuse(431, "Request header fields too large",
                                 f"The request's header is larger than {_bytes(self.limits.max_header_bytes)}.",
                                 "request-header-too-large")
                    return
            self._unset_keepalive_if_required()
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserUpgrade:
                if self._should_upgrade():
                    self.handle_websocket_upgrade()
                else:
                    self._unsupported_upgrade_warning()
            except httptools.HttpParserError as exc:
                if isinstance(exc.__context__, _HeadRefused):
                    self._refuse(*exc.__context__.args4)
                    return
                msg = "Invalid HTTP request received."
                self.logger.warning(msg)
                self.send_400_response(msg)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._head_exact = 0
            self._head_bytes = 0
            if self._head_timer is None:  # a keep-alive connection's next request: its head has a deadline too
                self._start_head_timer()
            self._head_begun = True

        def on_url(self, url: bytes) -> None:
            self._count(len(url), url=True)
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._count(len(name) + len(value) + 4)
            super().on_header(name, value)

        def _count(self, n: int, *, url: bool = False) -> None:
            self._head_exact += n
            if self._head_exact > self.limits.max_header_bytes:
                if url:
                    raise _HeadRefused(414, "URI too long",
                                       f"The request's URL is longer than {_bytes(self.limits.max_header_bytes)}.",
                                       "uri-too-long")
                raise _HeadRefused(431, "Request header fields too large",
                                   f"The request's header is larger than {_bytes(self.limits.max_header_bytes)}.",
                                   "request-header-too-large")

        def on_headers_complete(self) -> None:
            self._stop_head_timer()
            self._head_begun = False
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._head_begun = False


    class _LingeringTransport:
        """The connection as uvicorn sees it: :meth:`close` lingers while the client is still sending
        (``GuardedHttpToolsProtocol._close``), and a lingering connection counts as closing."""

        def __init__(self, transport: asyncio.Transport, protocol: GuardedHttpToolsProtocol) -> None:
            self._transport = transport
            self._protocol = protocol

        def __getattr__(self, name: str) -> Any:
            return getattr(self._transport, name)

        def close(self) -> None:
            self._protocol._close()

        def is_closing(self) -> bool:
            return self._protocol._lingering or self._transport.is_closing()


def protocol_for(limits: EdgeLimits) -> type:
    """The guarded protocol class bound to ``limits`` (uvicorn's ``http=`` setting)."""
    if HttpToolsProtocol is None:  # pragma: no cover
        raise RuntimeError("httptools is not installed (uvicorn[standard])")
    return type("GuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,), {"limits": limits})
