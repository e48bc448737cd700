"""The edge against hostile clients, on a real uvicorn server on loopback: each attack is refused with
its status and problem details, and an ordinary request is answered promptly right after."""

from __future__ import annotations

import asyncio
import json

import pytest
from fastapi import FastAPI, Request
from pydantic import BaseModel, ConfigDict

from nrn_kit.edge import EdgeGuard, EdgeLimits, json_shape
from nrn_kit.edge_attacks import (
    answers_promptly,
    chunked,
    endless,
    many_keys_json,
    nested_json,
    request_head,
    send_raw,
    trickle,
)
from nrn_kit.http import install_problem_handlers
from nrn_kit.serving import serve_app
from nrn_kit.settings import ServiceSettings

MiB = 1024 * 1024
UPLOAD = "/upload"


class Signup(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str


def make_app(**overrides) -> FastAPI:
    settings = ServiceSettings(http_header_timeout=1.0, http_body_timeout=2.0, http_body_idle_timeout=1.0,
                               **overrides)
    app = FastAPI()
    app.state.settings = settings
    install_problem_handlers(app)
    seen: list[int] = []
    app.state.seen = seen

    @app.post("/accounts")
    async def signup(body: Signup) -> dict:
        return {"name": body.name}

    @app.post(UPLOAD)
    async def upload(request: Request) -> dict:
        data = await request.body()
        seen.append(len(data))
        return {"bytes": len(data)}

    @app.get("/health/live")
    async def live() -> dict:
        return {"status": "ok"}

    app.add_middleware(EdgeGuard, limits=EdgeLimits.from_settings(settings, {UPLOAD: 4 * MiB}))
    return app


@pytest.fixture
async def server():
    app = make_app()
    async with serve_app(app) as url:
        yield url, app


def assert_problem(answer, status: int) -> dict:
    assert answer.status == status, (answer.status, answer.body[:300])
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["status"] == status and problem["title"] and problem["detail"]
    assert len(answer.body) < 1_000, "a refusal never repeats what was sent"
    return problem


async def test_a_13_mb_object_with_700000_keys_is_refused_at_once_without_being_read(server) -> None:
    url, _ = server
    body = many_keys_json(700_000)
    assert len(body) > 13 * 1_000_000
    answer = await send_raw(url, [request_head("POST", "/accounts", {
        "Content-Type": "application/json", "Content-Length": str(len(body))}), body])
    problem = assert_problem(answer, 413)
    assert "1 MiB" in problem["detail"] and answer.headers["connection"] == "close"
    assert await answers_promptly(url) == 200


async def test_the_same_object_sent_without_a_length_is_cut_at_the_limit(server) -> None:
    url, _ = server
    body = many_keys_json(700_000)
    parts = chunked(body[i:i + 64 * 1024] for i in range(0, len(body), 64 * 1024))
    answer = await send_raw(url, [request_head("POST", "/accounts", {
        "Content-Type": "application/json", "Transfer-Encoding": "chunked"}), *parts])
    assert_problem(answer, 413)
    assert await answers_promptly(url) == 200


async def test_a_200_mib_body_streamed_is_refused_after_the_limit_and_not_read_to_the_end(server) -> None:
    url, app = server
    answer = await send_raw(url, [request_head("POST", "/accounts", {
        "Content-Type": "application/json", "Transfer-Encoding": "chunked"}), *chunked(endless(200 * MiB))])
    assert_problem(answer, 413)
    assert answer.sent < 100 * MiB, f"the server read on: {answer.sent} bytes written"
    assert await answers_promptly(url) == 200


async def test_a_100_mib_header_is_refused_with_431(server) -> None:
    url, _ = server
    head = b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: "
    answer = await send_raw(url, [head, *endless(100 * MiB)])
    problem = assert_problem(answer, 431)
    assert "32 KiB" in problem["detail"]
    assert answer.sent < 100 * MiB
    assert await answers_promptly(url) == 200


async def test_many_headers_adding_up_past_the_limit_are_refused_too(server) -> None:
    url, _ = server
    headers = {f"X-H{i}": "v" * 100 for i in range(400)}  # 400 small headers, ~44 KB
    assert_problem(await send_raw(url, [request_head("GET", "/health/live", headers)]), 431)


async def test_a_url_past_the_limit_is_refused_with_414(server) -> None:
    url, _ = server
    assert_problem(await send_raw(url, [request_head("GET", "/health/live?q=" + "a" * 40_000)]), 414)


@pytest.mark.parametrize(("body", "title"), [
    (nested_json(100_000), "nested"),
    (b'{"a":' * 33 + b"1" + b"}" * 33, "nested"),
    (many_keys_json(10_001), "keys"),
])
async def test_deep_or_wide_json_under_the_size_limit_is_refused(server, body: bytes, title: str) -> None:
    url, _ = server
    answer = await send_raw(url, [request_head("POST", "/accounts", {
        "Content-Type": "application/json", "Content-Length": str(len(body))}), body])
    assert title in assert_problem(answer, 413)["title"].lower() + assert_problem(answer, 413)["detail"].lower()
    assert await answers_promptly(url) == 200


def test_json_shape_ignores_what_strings_hold() -> None:
    assert json_shape(b'{"a": "[[[{{{:::", "b": [1, {"c": "\\"]:"}]}') == (3, 3)
    assert json_shape(b"[]") == (1, 0) and json_shape(b"1") == (0, 0)
    assert json_shape(b'"unterminated [[[') == (3, 0)


async def test_a_slow_body_is_cut_with_408(server) -> None:
    url, _ = server
    parts = trickle([request_head("POST", "/accounts", {"Content-Type": "application/json",
                                                         "Content-Length": "100"})] + [b" "] * 100, every=0.3)
    answer = await send_raw(url, parts, timeout=20)
    assert "body" in assert_problem(answer, 408)["detail"]
    assert await answers_promptly(url) == 200


async def test_a_body_that_stops_is_cut_after_the_idle_timeout(server) -> None:
    url, _ = server
    head = request_head("POST", "/accounts", {"Content-Type": "application/json", "Content-Length": "100"})

    async def stall():  # noqa: ANN202
        yield head + b'{"name": '
        await asyncio.sleep(30)

    assert_problem(await send_raw(url, stall(), timeout=20), 408)


async def test_a_slow_header_is_cut_with_408(server) -> None:
    url, _ = server
    answer = await send_raw(url, trickle([bytes([b]) for b in request_head("GET", "/health/live")], every=0.3),
                            timeout=20)
    assert "header" in assert_problem(answer, 408)["detail"]


async def test_a_connection_that_never_sends_a_byte_is_closed(server) -> None:
    url, _ = server

    async def silence():  # noqa: ANN202
        await asyncio.sleep(30)
        yield b""

    answer = await send_raw(url, silence(), timeout=20)
    assert answer.status is None


async def test_many_slow_clients_at_once_do_not_stall_an_ordinary_request(server) -> None:
    url, _ = server
    head = request_head("POST", "/accounts", {"Content-Type": "application/json", "Content-Length": "1000"})
    attackers = [asyncio.create_task(send_raw(url, trickle([head] + [b" "] * 1000, every=0.2), timeout=20))
                 for _ in range(50)]
    await asyncio.sleep(0.3)
    assert await answers_promptly(url) == 200
    answers = await asyncio.gather(*attackers)
    assert {a.status for a in answers} == {408}


async def test_an_upload_route_takes_more_than_the_default_and_others_do_not(server) -> None:
    url, app = server
    body = b"x" * (3 * MiB)
    answer = await send_raw(url, [request_head("POST", UPLOAD, {"Content-Length": str(len(body))}), body])
    assert answer.status == 200 and json.loads(answer.body) == {"bytes": 3 * MiB}
    body = b"x" * (5 * MiB)
    answer = await send_raw(url, [request_head("POST", UPLOAD, {"Content-Length": str(len(body))}), body])
    assert "4 MiB" in assert_problem(answer, 413)["detail"]
    assert app.state.seen == [3 * MiB]


async def test_a_refusal_while_the_client_is_still_sending_reaches_it_and_the_rest_is_dropped(server) -> None:
    """A 413 on Content-Length leaves the body unread: the server half-closes after the answer and drops what
    keeps coming (a while, a bounded amount), so a client that writes its whole body before reading — as
    httpx does — reads the refusal instead of a connection reset."""
    url, _ = server
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    body = b"x" * (3 * MiB)
    writer.write(request_head("POST", "/accounts", {"Content-Type": "application/json",
                                                    "Content-Length": str(len(body))}) + body[:64 * 1024])
    await writer.drain()
    answer = await asyncio.wait_for(reader.readuntil(b"}"), 10)  # the problem document ends the answer
    assert b" 413 " in answer.split(b"\r\n", 1)[0] and b"connection: close" in answer.lower()
    for start in range(64 * 1024, len(body), 64 * 1024):  # the rest of the body still goes through
        writer.write(body[start:start + 64 * 1024])
        await writer.drain()
    assert await asyncio.wait_for(reader.read(), 10) == b""  # then the server's FIN, no reset
    writer.close()
    assert await answers_promptly(url) == 200


def test_an_upload_route_gets_as_much_longer_for_its_body_as_its_limit_is_larger() -> None:
    limits = EdgeLimits(max_body_bytes=MiB, body_timeout=30.0, upload_routes={UPLOAD: 5 * MiB})
    assert limits.body_deadline(limits.body_limit("/accounts")) == 30.0
    assert limits.body_deadline(limits.body_limit(UPLOAD)) == 150.0


async def test_a_422_lists_a_few_errors_and_never_echoes_the_input(server) -> None:
    url, _ = server
    body = json.dumps({"name": "Pat", **{f"extra{i}": "x" * 50 for i in range(5_000)}}).encode()
    answer = await send_raw(url, [request_head("POST", "/accounts", {
        "Content-Type": "application/json", "Content-Length": str(len(body))}), body])
    assert answer.status == 422
    problem = answer.json()
    assert len(problem["errors"]) == 21 and "4,980 more" in problem["errors"][-1]["message"]
    assert len(answer.body) < 5_000 and b"xxxxxxxxxx" not in answer.body


async def test_an_ordinary_request_still_passes(server) -> None:
    url, _ = server
    body = b'{"name": "Pat Official"}'
    answer = await send_raw(url, [request_head("POST", "/accounts", {
        "Content-Type": "application/json", "Content-Length": str(len(body))}), body])
    assert answer.status == 200 and answer.json() == {"name": "Pat Official"}


def test_an_upload_route_may_be_a_template_with_one_segment_per_name() -> None:
    limits = EdgeLimits(upload_routes={"/applications/{application_id}/attachments": 10 * MiB})
    assert limits.body_limit("/applications/app-1/attachments") == 10 * MiB
    assert limits.body_limit("/applications/app-1/x/attachments") == MiB
    assert limits.body_limit("/applications/attachments") == MiB
