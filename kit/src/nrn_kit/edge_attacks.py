"""Hostile HTTP clients for the edge's tests (kit, services, gateway): raw sockets on loopback only.

Each attack writes what a careless or malicious client would — a huge body, a huge header, a body or a
header one byte at a time — and reads whatever the server answers; :func:`answers_promptly` then checks
that the server still serves an ordinary request. Writes stop as soon as the server closes the
connection, so ``sent`` says how much the server let in before refusing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

CHUNK = 64 * 1024


@dataclass
class Answer:
    status: int | None  # None: the server closed without answering
    headers: dict[str, str]
    body: bytes
    sent: int  # bytes the client managed to write

    def json(self) -> dict:
        return json.loads(self.body)


def _address(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    assert parts.hostname in ("127.0.0.1", "localhost", "::1"), "attacks go to loopback only"
    return parts.hostname, parts.port or 80


async def _pieces(parts: Iterable[bytes] | AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    if hasattr(parts, "__aiter__"):
        async for part in parts:  # type: ignore[union-attr]
            yield part
    else:
        for part in parts:  # type: ignore[union-attr]
            yield part


async def send_raw(base_url: str, parts: Iterable[bytes] | AsyncIterator[bytes], *, timeout: float = 60.0) -> Answer:
    """Write ``parts`` (a request, possibly never-ending) and read the answer, at most ``timeout`` s."""
    host, port = _address(base_url)
    reader, writer = await asyncio.open_connection(host, port)
    sent = 0

    async def write() -> None:
        nonlocal sent
        with contextlib.suppress(ConnectionError, OSError):
            async for part in _pieces(parts):
                if writer.is_closing() or reader.at_eof():
                    return
                writer.write(part)
                await writer.drain()
                sent += len(part)

    async def read() -> bytes:
        data = b""
        with contextlib.suppress(ConnectionError, OSError):
            while chunk := await reader.read(CHUNK):
                data += chunk
                if _complete(data):
                    break
        return data

    writing = asyncio.create_task(write())
    try:
        data = await asyncio.wait_for(read(), timeout)
    finally:
        writing.cancel()
        with contextlib.suppress(BaseException):
            await writing
        writer.close()
        with contextlib.suppress(BaseException):
            await writer.wait_closed()
    return _parse(data, sent)


def _complete(data: bytes) -> bool:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False


def _parse(data: bytes, sent: int) -> Answer:
    if not data:
        return Answer(None, {}, b"", sent)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower().decode()] = value.strip().decode("latin-1")
    return Answer(status, headers, body, sent)


def request_head(method: str, path: str, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"] + [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def many_keys_json(keys: int) -> bytes:
    """A flat JSON object with ``keys`` keys (700,000 keys is about 13 MB)."""
    return b"{" + b",".join(b'"field_%07d":10' % i for i in range(keys)) + b"}"


def nested_json(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def chunked(body_parts: Iterable[bytes]) -> Iterable[bytes]:
    for part in body_parts:
        yield b"%x\r\n%s\r\n" % (len(part), part)
    yield b"0\r\n\r\n"


def endless(total: int, piece: bytes = b"a" * CHUNK) -> Iterable[bytes]:
    """``total`` bytes, generated as they are written (a 200 MiB body never sits in the client's memory)."""
    left = total
    while left > 0:
        yield piece[:left]
        left -= len(piece)


async def trickle(parts: Iterable[bytes], every: float) -> AsyncIterator[bytes]:
    """The parts one at a time, ``every`` seconds apart: a slowloris."""
    for part in parts:
        yield part
        await asyncio.sleep(every)


async def answers_promptly(base_url: str, path: str = "/health/live", *, within: float = 5.0) -> int:
    """The status of an ordinary GET, which must come within ``within`` seconds (a generous bound)."""
    async with httpx.AsyncClient(base_url=base_url) as client:
        response = await asyncio.wait_for(client.get(path), within)
    return response.status_code
