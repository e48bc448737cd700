"""The gateway's one wiring point: settings → clients → security → routes.

``create_app`` builds everything from settings (never at import). Tests pass fake
transports (``httpx.MockTransport``), a token verifier and a clock.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
import swagger_ui_bundle
from nrn_kit.edge import EdgeGuard, EdgeLimits
from nrn_kit.http import DomainError, health_router, validation_errors
from nrn_kit.idempotency import document_header
from nrn_kit.metrics import ServiceMetrics
from nrn_kit.telemetry import instrument_app, note_failure, setup_telemetry
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from . import peer_limits
from .auth import TokenVerifier
from .cache import TtlCache
from .clients import Clock, ServiceUnavailable, UpstreamError, build_services
from .config import Settings
from .dashboard import default_sections
from .engagements_limits import ATTACHMENT_MAX_BYTES
from .problems import ProblemError, problem_body, problem_response
from .security import FormExpired, RateLimiter, RateLimitMiddleware, SecurityHeadersMiddleware, wait_in_words
from .web.kept import keep_form
from .web.common import SERVICE_WORDS, words
from .web.render import make_templates, render

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
API_PREFIX = "/api/v1"
IMPORT_ROUTES = (f"{API_PREFIX}/cities/import", "/staff/cities/import")  # the CSV uploads
# an application's attachments (engagements' ATTACHMENT_MAX_BYTES), by the API and by the page
ATTACHMENT_ROUTES = (f"{API_PREFIX}/applications/{{application_id}}/attachments", "/applications/{app_id}/attachments")
# the Peer Health Group's CSV of health values (peer's HEALTH_IMPORT_MAX_BYTES), by the API and by the page
HEALTH_IMPORT_ROUTES = (f"{API_PREFIX}/health-data/imports", "/health-data/import")
MULTIPART_SLACK = 64 * 1024  # the multipart envelope around an upload of max_import_bytes

TITLES = {400: "Bad request", 401: "Not signed in", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
          409: "Conflict", 413: "Too large", 415: "Unsupported media type", 422: "Invalid input",
          429: "Too many requests", 502: "Bad gateway", 503: "Service unavailable"}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error(request: Request, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    """One error, two audiences: problem+json for the API, an error page for people."""
    status = int(body.get("status", 500))
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"} if _is_api(request) else headers
    if _is_api(request):
        body.setdefault("instance", request.url.path)
        return problem_response(body, headers)
    if status == 401:
        # A person whose session has expired goes to the sign-in page, then back.
        from fastapi.responses import RedirectResponse

        request.session.pop("token", None)
        kept = request.session.get("kept_form")
        # a form sent after the session ended was kept (web/kept.py): back to its page after signing in
        back = kept.get("path") if isinstance(kept, dict) and request.method != "GET" else None
        if request.method == "GET":
            target = "/signin?next=" + request.url.path
        else:
            target = "/signin?next=" + back if back else "/signin"
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    return render(
        request,
        "error.html",
        {"status": status, "title": body.get("title", "Error"), "detail": page_detail(status, body)},
        status_code=status,
        headers=headers,
    )


def page_detail(status: int, body: dict[str, Any]) -> str | None:
    """What an error page says: never a service's name, a role or permission code, or an id."""
    if status == 403:
        return "Your account does not have the role this page needs. If it should, ask an administrator."
    if status == 404:
        return "There is nothing here, or it is not something your account can see."
    if status in (502, 503, 504):
        part = SERVICE_WORDS.get(str(body.get("service") or ""), "")
        return (f"The {part} part of the site" if part else "This part of the site") + (
            " is not available right now. Please try again shortly.")
    detail = body.get("detail")
    return words(str(detail)) if detail else None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> Response:
        if exc.body.get("status") == 401 and not _is_api(request) and request.method == "POST":
            await keep_form(request)  # signed out while typing: nothing typed is lost
        return _error(request, dict(exc.body))

    @app.exception_handler(FormExpired)
    async def _expired(request: Request, exc: FormExpired) -> Response:
        from fastapi.responses import RedirectResponse

        return RedirectResponse(exc.path, status_code=303)

    @app.exception_handler(UpstreamError)
    async def _upstream(request: Request, exc: UpstreamError) -> Response:
        # A service's 4xx is the caller's problem: status and problem body pass through.
        body = exc.problem()
        body.setdefault("service", exc.service)
        # When to try again (a 409 for a command still in progress, a 429): the service's header as
        # sent, else the seconds its problem body gives.
        retry_after = exc.retry_after or body.get("retry_after")
        if isinstance(retry_after, int | float):
            retry_after = str(int(retry_after))
        return _error(request, body, {"Retry-After": retry_after} if isinstance(retry_after, str) else None)

    @app.exception_handler(ServiceUnavailable)
    async def _unavailable(request: Request, exc: ServiceUnavailable) -> Response:
        note_failure(request, f"{exc.service} unavailable: {exc.reason}")  # in the failed-request log line
        status = 502 if exc.status and exc.status not in (502, 503, 504) else 503
        body = problem_body(
            status,
            TITLES[status],
            f"The {exc.service} service is not available right now ({exc.reason}). Please try again shortly.",
            service=exc.service,
        )
        return _error(request, body, {"Retry-After": exc.retry_after or "5"})

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        # The kit's authorisation errors (Forbidden, Unauthorized) and any other rule.
        body = problem_body(exc.status, exc.title, exc.detail, field=exc.field)
        return _error(request, body)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = validation_errors(exc)
        first = errors[0] if errors else {"field": "", "message": "invalid input"}
        body = problem_body(422, "Invalid input", f"{first['field']}: {first['message']}", errors=errors)
        return _error(request, body)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        body = problem_body(exc.status_code, TITLES.get(exc.status_code, "Request failed"), str(exc.detail))
        return _error(request, body, dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        body = problem_body(500, "Internal error", "An unexpected error occurred; it has been logged.")
        return _error(request, body)


def create_app(
    settings: Settings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    clock: Clock = time.monotonic,
) -> FastAPI:
    settings = settings or Settings()
    # Before the clients exist: the kit instruments httpx (trace context on every upstream call).
    setup_telemetry(settings)
    services = build_services(settings, transports=transports, clock=clock)
    metrics = ServiceMetrics(settings)  # GET /metrics on METRICS_PORT, never on the public port
    if verifier is None:
        from .tokens import jwks_verifier

        verifier = jwks_verifier(settings, services.accounts)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        metrics.serve()
        try:
            yield
        finally:
            await services.aclose()
            metrics.close()

    app = FastAPI(
        title="SC2 National Resource Network — public API",
        version="1.0.0",
        description=(
            "The versioned JSON API of the National Resource Network. Authenticate with "
            "`POST /api/v1/auth/token` (OAuth2 password form) and send `Authorization: Bearer <token>`. "
            "Errors are RFC 9457 problem details. Composed views carry `partial` and `missing` "
            "when a service could not answer."
        ),
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # /api/docs is our own page: Swagger UI's shipped assets, no CDN, no inline script
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.services = services
    app.state.metrics = metrics
    app.state.verifier = verifier
    app.state.templates = make_templates()
    app.state.sections = default_sections()
    app.state.shared = TtlCache(settings.dashboard_shared_ttl) if settings.dashboard_shared_ttl > 0 else None
    # single-flight refresh of page sessions (deps.rotate_refresh): concurrent requests of one session share it
    app.state.refreshes = TtlCache(settings.refresh_share_seconds, clock=clock)

    install_error_handlers(app)

    from .api.routes import router as api_router
    from .web.notifications_pages import public_router as unsubscribe_router
    from .web.pages import router as web_router

    app.include_router(api_router, prefix=API_PREFIX)
    document_header(app)  # Idempotency-Key on the commands of the OpenAPI document, not on reads
    app.include_router(web_router)
    app.include_router(unsubscribe_router)  # no CSRF: the link's signed token is the key (RFC 8058)

    # Ready needs nothing downstream: a gateway with a service down still serves partial
    # pages, and pulling it out of rotation would turn one outage into a total one.
    app.include_router(health_router({}), include_in_schema=False)

    @app.get("/health/upstreams", include_in_schema=False)
    async def upstreams() -> dict[str, Any]:
        return {"breakers": [c.breaker.snapshot() for c in services.all()]}
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    # Swagger UI as the swagger-ui-bundle wheel ships it (the page and its starter script are ours)
    app.mount("/api/docs/assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="swagger")

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        from fastapi.responses import RedirectResponse

        return RedirectResponse("/static/favicon.svg", status_code=301)

    # Middleware: the last added runs first. Headers wrap everything (429s included).
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.session_secret.get_secret_value(),
        session_cookie=settings.session_cookie,
        max_age=settings.session_max_age,
        same_site="lax",
        https_only=settings.cookie_secure,
    )
    def throttled_page(scope: Any, retry_after: int) -> bytes:
        # Outside the session middleware: the page has no session, so no personal header or CSRF.
        request = Request({**scope, "app": app, "router": app.router})
        return app.state.templates.get_template("too_many.html").render(
            request=request, user=None, user_name=None, csrf="", flashes=[], missing=[], nav=None,
            title="Too many changes at once", wait=wait_in_words(retry_after),
            reason="This address has sent a lot of changes in a short time.",
        ).encode()

    # The edge's limits (body size per route, JSON shape, slow bodies) before sessions and routes;
    # after the rate limit, so a client over its budget does not even get its body read.
    uploads = {path: settings.max_import_bytes + MULTIPART_SLACK for path in IMPORT_ROUTES} | {
        path: ATTACHMENT_MAX_BYTES + MULTIPART_SLACK for path in ATTACHMENT_ROUTES} | {
        path: peer_limits.HEALTH_IMPORT_MAX_BYTES + MULTIPART_SLACK for path in HEALTH_IMPORT_ROUTES}
    app.add_middleware(EdgeGuard, limits=EdgeLimits.from_settings(settings, uploads),
                       html_paths=lambda path: not path.startswith("/api/"))
    app.add_middleware(
        RateLimitMiddleware,
        writes=RateLimiter(settings.write_rate_capacity, settings.write_rate_refill,
                           storage_uri=settings.rate_limit_storage_uri),
        trust_forwarded_for=settings.trust_forwarded_for,
        page=throttled_page,
    )
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.cookie_secure)
    # The incoming request's trace context becomes the current span's parent, so the
    # services' spans join the caller's trace.
    instrument_app(app, metrics)
    return app


def main() -> None:  # pragma: no cover - process entry point
    import uvicorn

    from nrn_kit.serving import server_config

    settings = Settings()
    uvicorn.Server(server_config(create_app(settings), settings=settings, host=settings.http_host,
                                 port=settings.http_port, proxy_headers=settings.trust_forwarded_for)).run()
