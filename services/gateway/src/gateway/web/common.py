"""Helpers shared by the page routes: upstream calls that turn failures into messages,
safe redirects, Markdown rendering."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Query, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from nrn_contracts.values import MultiLine, SingleLine

from nrn_kit.html import render_markdown

from ..clients import ServiceClient, ServiceUnavailable, UpstreamError
from .render import flash


# Query parameters of the pages: text without control characters, numbers the services can take (a
# page's filter is refused with a 422 page rather than passed on to fail further in).
PageText = Annotated[SingleLine, Query(max_length=2_000)]
PageLines = Annotated[MultiLine, Query(max_length=20_000)]
PageNumber = Annotated[int, Query(ge=1, le=10_000)]
PageOffset = Annotated[int, Query(ge=0, le=1_000_000)]


def markdown(text: str | None) -> Markup:
    """Markdown from people (memos, library items, answers) as page HTML: the kit's one renderer
    and sanitiser (nrn_kit.html), so a page shows exactly what the memo's HTML and PDF show."""
    return Markup(render_markdown(text))


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths: an open redirect after sign-in is a phishing tool."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def problem_text(exc: UpstreamError | ServiceUnavailable) -> str:
    if isinstance(exc, ServiceUnavailable):
        return f"The {exc.service} service is not available right now. Please try again in a moment."
    body = exc.problem()
    detail = body.get("detail") or body.get("title") or "The request was refused."
    return str(detail)


def problem_field(exc: UpstreamError) -> str | None:
    body = exc.problem()
    field = body.get("field")
    if not field and isinstance(body.get("errors"), list) and body["errors"]:
        first = body["errors"][0]
        field = first.get("field") if isinstance(first, dict) else None
    return field


async def act(
    request: Request,
    client: ServiceClient,
    method: str,
    path: str,
    *,
    token: str,
    back: str,
    done: str | None = None,
    success: str | None = None,
    json: Any = None,
    files: Any = None,
) -> tuple[Any, Response]:
    """Do one staff or official action and redirect (POST → 303 → GET). A refusal or an
    unavailable service becomes a message on the page we return to, never an error page."""
    try:
        response = await client.request(method, path, token=token, json=json, files=files)
    except (UpstreamError, ServiceUnavailable) as exc:
        flash(request, problem_text(exc), "error")
        return None, see_other(back)
    if success:
        flash(request, success, "success")
    body = response.json() if response.content and "json" in response.headers.get("content-type", "") else None
    return body, see_other(done or back)


def version_of(form: Any) -> int | None:
    raw = form.get("version")
    try:
        return int(raw) if raw not in (None, "") else None
    except (TypeError, ValueError):
        return None
