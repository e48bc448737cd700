"""Sending one delivery over HTTP: the address guard, bounded time, bounded reading.

The guard is an httpcore network backend: each new connection resolves the host name *then*, checks
every address it resolves to (``domain/addresses.py``), and connects to the address it checked — so
a DNS answer that changes between a check and the connection (DNS rebinding) cannot slip through.
TLS still verifies the certificate against the host name (httpcore passes it as the server name).
Every delivery also resolves and checks the name before it is sent (``GuardedBackend.check``), so a
name that now points inside is refused even when a kept-alive connection to the address checked
before could carry the request. No proxy from the environment, no redirects followed, no Unix sockets.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import httpcore
import httpx

from ..domain.addresses import refusal
from ..domain.schedule import Answer

Resolver = Callable[[str, int], Awaitable[list[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


class AddressRefused(httpcore.ConnectError):
    """The host resolves to an address deliveries may not reach."""


class GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, *, allow_loopback: bool, resolver: Resolver = system_resolver) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._allow_loopback = allow_loopback
        self._resolver = resolver
        self.connections = 0  # addresses actually connected to (tests count them)

    async def check(self, host: str, port: int, timeout: float | None = None) -> list[str]:
        """Resolve ``host`` now and return its addresses, or raise AddressRefused / ConnectError."""
        try:
            addresses = await asyncio.wait_for(self._resolver(host, port), timeout)
        except (OSError, TimeoutError) as exc:
            raise httpcore.ConnectError(f"{host} could not be resolved ({type(exc).__name__})") from exc
        if not addresses:
            raise httpcore.ConnectError(f"{host} resolves to no address")
        for address in addresses:
            why = refusal(address, allow_loopback=self._allow_loopback)
            if why:
                # every address must be allowed: a name that also points inside is refused whole
                raise AddressRefused(f"refused: {host} resolves to {address}, {why}")
        return addresses

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: Iterable | None = None) -> httpcore.AsyncNetworkStream:
        addresses = await self.check(host, port, timeout)
        self.connections += 1
        return await self._inner.connect_tcp(addresses[0], port, timeout=timeout, local_address=local_address,
                                             socket_options=socket_options)

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable | None = None) -> httpcore.AsyncNetworkStream:
        raise AddressRefused("refused: Unix sockets are never a webhook endpoint")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport on the guarded backend (its pool is rebuilt with the backend)."""

    def __init__(self, backend: GuardedBackend, *, limits: httpx.Limits) -> None:
        super().__init__(trust_env=False, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections, max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry, network_backend=backend,
        )


@dataclass(frozen=True)
class Limits:
    connect: float
    read: float
    total: float
    max_body: int
    excerpt: int


def client(backend: GuardedBackend, *, limits: Limits, connections: int) -> httpx.AsyncClient:
    """One endpoint's client: its own pool of ``connections`` (a hanging endpoint holds only its own)."""
    return httpx.AsyncClient(
        transport=GuardedTransport(backend, limits=httpx.Limits(max_connections=connections,
                                                                max_keepalive_connections=connections,
                                                                keepalive_expiry=5.0)),
        timeout=httpx.Timeout(limits.read, connect=limits.connect, write=limits.read, pool=limits.total),
        follow_redirects=False, trust_env=False,
    )


@dataclass(frozen=True)
class Sent:
    answer: Answer
    latency_ms: int
    excerpt: str | None


def _excerpt(raw: bytes, limit: int) -> str | None:
    if not raw or limit <= 0:
        return None
    text = raw[: limit * 4].decode("utf-8", errors="replace")[:limit]
    # the log shows it as text: no control characters from a partner's server
    return "".join(ch if ch.isprintable() or ch in "\n\t" else "\ufffd" for ch in text)


async def post(http: httpx.AsyncClient, backend: GuardedBackend, url: str, body: bytes, headers: dict[str, str],
               limits: Limits) -> Sent:
    """POST once; never raises for what the other side does. Reads at most ``max_body`` bytes of the answer."""
    started = time.perf_counter()
    status: int | None = None
    retry_after: str | None = None
    raw = b""
    error: str | None = None
    target = httpx.URL(url)
    try:
        async with asyncio.timeout(limits.total):
            try:
                await backend.check(target.host, target.port or (443 if target.scheme == "https" else 80),
                                    limits.connect)
            except httpcore.ConnectError as exc:
                raise httpx.ConnectError(str(exc)) from exc
            async with http.stream("POST", url, content=body, headers=headers) as response:
                status = response.status_code
                retry_after = response.headers.get("retry-after")
                async for chunk in response.aiter_raw():
                    raw += chunk
                    if len(raw) >= limits.max_body:
                        raw = raw[: limits.max_body]
                        break  # the rest is not read: leaving the block drops the connection
    except TimeoutError:
        error = f"no complete answer within {limits.total:g} s" if status is None else None
        if status is not None:
            error = None  # the status came; a body still trickling after the bound does not change it
    except AddressRefused as exc:
        error = str(exc)
    except httpx.ConnectTimeout:
        error = f"could not connect within {limits.connect:g} s"
    except httpx.ReadTimeout:
        error = f"no answer within {limits.read:g} s" if status is None else None
    except httpx.ConnectError as exc:
        error = str(exc) if str(exc).startswith("refused:") else f"could not connect ({exc or type(exc).__name__})"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:300] if status is None else None
    latency = int((time.perf_counter() - started) * 1000)
    return Sent(Answer(status, error if status is None else None, retry_after), latency, _excerpt(raw, limits.excerpt))
