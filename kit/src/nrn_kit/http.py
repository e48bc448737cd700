"""HTTP conventions shared by every service: RFC 9457 problem details and health endpoints."""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .localtime import LocalTimeError
from .telemetry import current_trace_id

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://nationalresourcenetwork.org/problems/"


class DomainError(Exception):
    """A rule of the domain said no. Carries the HTTP status it maps to and, where one is to blame, the field."""

    status: int = 422
    code: str = "rule-violated"
    title: str = "The request breaks a rule"

    def __init__(self, detail: str, *, field: str | None = None, status: int | None = None,
                 code: str | None = None, title: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        if title is not None:
            self.title = title
        self.extra = extra


class NotFound(DomainError):
    status, code, title = 404, "not-found", "Not found"


class Conflict(DomainError):
    status, code, title = 409, "conflict", "Conflict"


class Forbidden(DomainError):
    status, code, title = 403, "forbidden", "Forbidden"


class Unauthorized(DomainError):
    status, code, title = 401, "unauthorized", "Not signed in"


def problem(status: int, title: str, detail: str, *, code: str = "about:blank", instance: str | None = None,
            **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {
        "type": code if code.startswith(("http", "about:")) else PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    trace_id = current_trace_id()
    if trace_id:
        body["trace_id"] = trace_id
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_path(loc: tuple | list) -> str:
    # ("body", "title") -> "title"; ("query", "page") -> "page"; nested keeps dots.
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form"}:
        parts = parts[1:] or parts
    return ".".join(parts)


MAX_ERRORS = 20  # listed in a 422; the count of the rest is given, the input is never echoed
MAX_MESSAGE = 300


def validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    """At most MAX_ERRORS of the errors, each {field, message, type}; pydantic's ``input`` (which can be
    the whole body) is left out and long messages and field paths are cut."""
    errors = exc.errors()
    out = [
        {"field": _field_path(err.get("loc", ()))[:MAX_MESSAGE], "message": str(err.get("msg", "invalid"))[:MAX_MESSAGE],
         "type": err.get("type", "")}
        for err in errors[:MAX_ERRORS]
    ]
    if len(errors) > MAX_ERRORS:
        out.append({"field": "", "message": f"… and {len(errors) - MAX_ERRORS:,} more errors", "type": "more_errors"})
    return out


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(exc)
        first = errors[0] if errors else {"field": "", "message": "invalid input"}
        return problem(422, "Invalid input", f"{first['field']}: {first['message']}", code="invalid-input",
                       instance=request.url.path, errors=errors)

    @app.exception_handler(LocalTimeError)
    async def _local_time(request: Request, exc: LocalTimeError) -> JSONResponse:
        return problem(422, exc.title, exc.detail, code=exc.code, instance=request.url.path, **exc.problem())

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        errors = [{"field": exc.field, "message": exc.detail}] if exc.field else None
        return problem(exc.status, exc.title, exc.detail, code=exc.code, instance=request.url.path,
                       field=exc.field, errors=errors, **exc.extra)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {404: "Not found", 405: "Method not allowed", 401: "Not signed in", 403: "Forbidden"}
        return problem(exc.status_code, titles.get(exc.status_code, "Request failed"), str(exc.detail),
                       instance=request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "Internal error", "An unexpected error occurred; it has been logged.",
                       instance=request.url.path)


Check = Callable[[], Awaitable[None]]


def health_router(checks: dict[str, Check]) -> APIRouter:
    """``/health/live`` answers while the process runs; ``/health/ready`` runs every check. Both name
    the process (``pid``), so a supervisor can tell its own child from whoever else holds the port."""
    router = APIRouter(tags=["health"])

    @router.get("/health/live")
    async def live() -> dict[str, str | int]:
        return {"status": "ok", "pid": os.getpid()}

    @router.get("/health/ready")
    async def ready() -> JSONResponse:
        results: dict[str, str] = {}
        ok = True
        for name, check in checks.items():
            try:
                await check()
                results[name] = "ok"
            except Exception as exc:  # noqa: BLE001 — a readiness probe reports, it does not raise
                ok = False
                results[name] = f"failing: {exc}"
        status = 200 if ok else 503
        return JSONResponse({"status": "ok" if ok else "unavailable", "checks": results, "pid": os.getpid()},
                            status_code=status)

    return router
