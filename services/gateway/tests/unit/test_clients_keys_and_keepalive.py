"""Commands carry an Idempotency-Key and may then be retried; a pooled connection that the service
closed is retried on a fresh one when that is safe; the pool forgets idle connections before the
services do. The keep-alive tests talk to a real socket server, not a mock transport."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars

import httpx
import pytest

from gateway.clients import CircuitBreaker, RetryPolicy, ServiceClient, ServiceUnavailable, use_idempotency_key
from gateway.config import Settings


async def no_sleep(_: float) -> None:
    return None


def client_for(url: str, transport: httpx.AsyncBaseTransport | None = None, **kw) -> ServiceClient:  # noqa: ANN003
    return ServiceClient("svc", url, timeout=httpx.Timeout(5.0, connect=2.0), retry=RetryPolicy(retries=2, backoff=0.01),
                         breaker=CircuitBreaker("svc", failure_threshold=3), transport=transport, sleep=no_sleep, **kw)


def in_fresh_context(coro_fn):  # noqa: ANN001, ANN201
    """Each test sets the command key as a request would, without leaking it to the next test."""
    return contextvars.copy_context().run(asyncio.ensure_future, coro_fn())


async def test_a_command_carries_one_key_per_call_the_same_on_every_retry() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(503) if len(seen) < 3 else httpx.Response(201, json={"id": "r1"})

    async def run() -> None:
        use_idempotency_key("form-key-1", from_form=True)
        client = client_for("http://svc.test", httpx.MockTransport(handler))
        assert (await client.post_json("/requests", json={"title": "t"})) == {"id": "r1"}
        other = client_for("http://svc.test", httpx.MockTransport(lambda r: (seen.append(r), httpx.Response(200))[1]))
        await other.request("POST", "/auth/refresh", json={})
        await other.request("GET", "/requests")

    await in_fresh_context(run)
    keys = [r.headers.get("idempotency-key") for r in seen]
    assert keys[0] == keys[1] == keys[2] and keys[0] and keys[0] != "form-key-1"  # retried: it is keyed
    assert keys[3] and keys[3] != keys[0]  # another call of the same command: its own key
    assert keys[4] is None  # reads carry none


async def test_a_command_without_a_key_is_sent_once() -> None:
    seen: list[httpx.Request] = []
    client = client_for("http://svc.test", httpx.MockTransport(lambda r: (seen.append(r), httpx.Response(503))[1]))
    with pytest.raises(ServiceUnavailable):
        await client.request("POST", "/requests", json={})
    assert len(seen) == 1 and "idempotency-key" not in seen[0].headers


async def test_a_changed_form_under_a_reused_key_is_sent_as_a_new_command() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            return httpx.Response(422, json={"type": "https://x/problems/idempotency-key-reused", "title": "reused",
                                             "status": 422}, headers={"content-type": "application/problem+json"})
        return httpx.Response(201, json={"id": "r2"})

    async def run() -> None:
        use_idempotency_key("form-key-2", from_form=True)
        assert await client_for("http://svc.test", httpx.MockTransport(handler)).post_json("/requests", json={}) == {"id": "r2"}

    await in_fresh_context(run)
    assert len(seen) == 2 and seen[0].headers["idempotency-key"] != seen[1].headers["idempotency-key"]


async def test_an_api_clients_reused_key_is_its_422() -> None:
    from gateway.clients import UpstreamError

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"type": "https://x/problems/idempotency-key-reused", "title": "reused",
                                         "status": 422})

    async def run() -> None:
        use_idempotency_key("api-key", from_form=False)
        with pytest.raises(UpstreamError) as caught:
            await client_for("http://svc.test", httpx.MockTransport(handler)).post_json("/requests", json={})
        assert caught.value.status == 422

    await in_fresh_context(run)


async def test_uploads_keep_their_multipart_boundary_across_retries() -> None:
    bodies: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.read())
        return httpx.Response(503) if len(bodies) < 2 else httpx.Response(200, json={})

    async def run() -> None:
        use_idempotency_key("upload-key", from_form=True)
        await client_for("http://svc.test", httpx.MockTransport(handler)).request(
            "POST", "/cities/import", files={"file": ("c.csv", b"a,b\n", "text/csv")})

    await in_fresh_context(run)
    assert len(bodies) == 2 and bodies[0] == bodies[1]


# --- a real server that closes kept-alive connections ------------------------------------------------


@contextlib.asynccontextmanager
async def closing_server():  # noqa: ANN201
    """HTTP/1.1 over a socket: answers the first request on each connection with keep-alive, then
    closes the connection on the next request without answering (what a server whose idle timer
    fires as the request arrives does). Counts connections and requests answered."""
    stats = {"connections": 0, "answered": 0}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        stats["connections"] += 1
        served = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                if length:
                    await reader.readexactly(length)
                if served:
                    break  # the idle timer fired: close without answering
                served += 1
                stats["answered"] += 1
                body = b'{"ok":true}'
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                             + str(len(body)).encode() + b"\r\nconnection: keep-alive\r\n\r\n" + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}", stats


async def test_a_read_on_a_connection_the_server_closed_is_retried_on_a_fresh_one() -> None:
    async with closing_server() as (url, stats):
        client = client_for(url)
        try:
            for _ in range(4):
                assert await client.get_json("/x") == {"ok": True}
            assert stats["answered"] == 4
            assert client.breaker.state == "closed"  # a closed idle connection is not the service failing
        finally:
            await client.aclose()


async def test_a_keyed_command_on_a_closed_connection_is_retried_an_unkeyed_one_is_not() -> None:
    async with closing_server() as (url, stats):
        client = client_for(url)
        try:
            await client.get_json("/warm")  # leaves one kept-alive connection in the pool

            async def keyed() -> None:
                use_idempotency_key("k-1", from_form=False)
                assert await client.post_json("/requests", json={"a": 1}) == {"ok": True}

            await in_fresh_context(keyed)
            assert stats["answered"] == 2
            await client.get_json("/warm-again")
            with pytest.raises(ServiceUnavailable):
                await client.post_json("/requests", json={"a": 1})  # no key: not safe to send twice
        finally:
            await client.aclose()


def test_the_pool_forgets_idle_connections_before_the_services_do() -> None:
    # uvicorn (every service) closes an idle connection after 5 s; the gateway must let go first.
    settings = Settings()
    assert 0 < settings.upstream_keepalive_expiry < 5
    client = client_for("http://svc.test", keepalive_expiry=settings.upstream_keepalive_expiry)
    assert client.http._transport._pool._keepalive_expiry == settings.upstream_keepalive_expiry  # noqa: SLF001
