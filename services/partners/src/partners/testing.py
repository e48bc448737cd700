"""A real HTTP receiver on loopback for tests, benchmarks and the verification example's test: it records
every request and answers as told per path (status, headers, body, delay, or hanging until closed)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.responses import Response

from nrn_kit.serving import serve_app


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0
    hang: bool = False  # never answer (until the receiver stops)


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.replies: dict[str, list[Reply]] = {}
        self.default: dict[str, Reply] = {}
        self.base_url = ""
        # when set, decides the reply to each request first (None: the queued replies decide)
        self.decide: Callable[[Received], Reply | None] | None = None
        self._release = asyncio.Event()
        app = FastAPI()

        @app.post("/{path:path}")
        async def hook(path: str, request: Request) -> Response:
            body = await request.body()
            got = Received("/" + path, {k.lower(): v for k, v in request.headers.items()}, body)
            self.received.append(got)
            reply = self.decide(got) if self.decide is not None else None
            if reply is None:
                queue = self.replies.get("/" + path)
                reply = queue.pop(0) if queue else self.default.get("/" + path, Reply())
            if reply.hang:
                await self._release.wait()
            if reply.delay:
                await asyncio.sleep(reply.delay)
            return Response(reply.body, status_code=reply.status, headers=reply.headers)

        self.app = app

    def url(self, path: str) -> str:
        return self.base_url + path

    def respond(self, path: str, *replies: Reply, then: Reply | None = None) -> None:
        """Answer the next requests to ``path`` with ``replies`` in order, then with ``then`` (default 200)."""
        self.replies[path] = list(replies)
        if then is not None:
            self.default[path] = then

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    def release(self) -> None:
        self._release.set()


@contextlib.asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    async with serve_app(r.app) as url:
        r.base_url = url
        try:
            yield r
        finally:
            r.release()
