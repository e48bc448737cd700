from __future__ import annotations

import logging
import os

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field, SecretStr, ValidationError

from nrn_kit.http import Conflict, DomainError, health_router, install_problem_handlers
from nrn_kit import telemetry
from nrn_kit.settings import ServiceSettings


class SecretSettings(ServiceSettings):
    signing_key: SecretStr = SecretStr("development-only-signing-key")
    secret_fields: tuple[str, ...] = ("signing_key",)


def test_development_defaults_are_fine_outside_production():
    assert SecretSettings().signing_key.get_secret_value().startswith("development-only")


@pytest.mark.parametrize("value", ["development-only-signing-key", "", "changeme", "secret"])
def test_production_refuses_development_secrets(value):
    with pytest.raises(ValidationError, match="signing_key"):
        SecretSettings(environment="production", signing_key=SecretStr(value))


def test_production_accepts_a_real_secret():
    s = SecretSettings(environment="production", signing_key=SecretStr("k3y-from-the-vault-9f8a7c"))
    assert s.environment == "production"


def test_topic_prefix_isolates_topics_and_groups():
    s = ServiceSettings(service_name="library", topic_prefix="t1.")
    assert s.topic("nrn.requests311.v1") == "t1.nrn.requests311.v1"
    assert s.group("read-models") == "t1.library.read-models"
    assert s.source == "/nrn/library"


class Body(BaseModel):
    title: str = Field(min_length=3)
    pages: int


def make_app(checks=None) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(health_router(checks or {}))

    @app.post("/things")
    async def create(body: Body) -> dict:
        if body.title == "taken":
            raise Conflict("a thing with this title exists", field="title")
        if body.title == "rule":
            raise DomainError("pages must be even", field="pages")
        if body.title == "crash":
            raise RuntimeError("bug")
        return {"ok": True}

    return app


async def call(app: FastAPI, method: str, url: str, **kw) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.request(method, url, **kw)


async def test_invalid_input_is_a_problem_naming_the_field():
    r = await call(make_app(), "POST", "/things", json={"title": "ab", "pages": "x"})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert {e["field"] for e in body["errors"]} == {"title", "pages"}
    assert body["detail"].startswith(("title", "pages"))
    assert body["status"] == 422 and body["type"].endswith("invalid-input")


async def test_domain_errors_map_to_their_status_with_the_field():
    r = await call(make_app(), "POST", "/things", json={"title": "taken", "pages": 1})
    assert r.status_code == 409 and r.json()["field"] == "title"
    r = await call(make_app(), "POST", "/things", json={"title": "rule", "pages": 1})
    assert r.status_code == 422 and r.json()["detail"] == "pages must be even"


async def test_unknown_route_and_unexpected_errors_are_problems_too():
    r = await call(make_app(), "GET", "/nowhere")
    assert r.status_code == 404 and r.json()["title"] == "Not found"
    r = await call(make_app(), "POST", "/things", json={"title": "crash", "pages": 1})
    assert r.status_code == 500
    assert "bug" not in r.text, "internal details do not leak"


async def test_readiness_reports_each_failing_check():
    async def ok():
        return None

    async def down():
        raise ConnectionError("no route")

    r = await call(make_app({"db": ok, "broker": down}), "GET", "/health/ready")
    assert r.status_code == 503
    assert r.json()["checks"] == {"db": "ok", "broker": "failing: no route"}
    assert (await call(make_app(), "GET", "/health/live")).json() == {"status": "ok", "pid": os.getpid()}


@pytest.mark.parametrize(("level", "httpx_level"), [("INFO", logging.WARNING), ("DEBUG", logging.NOTSET)])
def test_logging_keeps_httpx_to_trouble_unless_debugging(monkeypatch, level, httpx_level):
    root = logging.getLogger()
    monkeypatch.setattr(telemetry, "_logging_configured", False)
    monkeypatch.setattr(root, "handlers", list(root.handlers))  # restored with the attribute
    monkeypatch.setattr(root, "level", root.level)
    httpx_logger = logging.getLogger("httpx")
    monkeypatch.setattr(httpx_logger, "level", logging.NOTSET)
    telemetry.configure_logging(ServiceSettings(service_name="t", log_level=level))
    assert httpx_logger.level == httpx_level
    assert logging.getLogger("pymongo").level == logging.WARNING
