"""Helpers shared by the page routes: upstream calls that turn failures into messages,
safe redirects, Markdown rendering."""

from __future__ import annotations

import re
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
MaybePageText = Annotated[SingleLine | None, Query(max_length=2_000)]
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


# What a part of the site is called for people (a page never names a service).
SERVICE_WORDS = {"accounts": "accounts and cities", "requests311": "311 questions", "library": "library",
                 "notifications": "notifications", "engagements": "direct assistance", "peer": "peer network",
                 "partners": "partner connections"}
_CODE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def words(text: str) -> str:
    """A service's sentence as a person reads it: codes such as memo_in_review or duplicate_of in words."""
    return _CODE.sub(lambda m: m.group(0).replace("_", " "), text)


def problem_text(exc: UpstreamError | ServiceUnavailable) -> str:
    """A refusal in one plain sentence: never a service name, a role or permission code, or an id."""
    if isinstance(exc, ServiceUnavailable):
        part = SERVICE_WORDS.get(exc.service, "this part of the site")
        return f"The {part} part of the site is not available right now. Please try again in a moment."
    body = exc.problem()
    rule = str(body.get("rule") or body.get("code") or "")
    if exc.status in (401, 403):
        return ("Your account does not have the role this needs. If it should, ask an administrator."
                if exc.status == 403 else "Please sign in again.")
    if exc.status == 404:
        return "That item no longer exists, or it is not one you can see."
    if rule in ("version_mismatch", "version-mismatch"):
        return ("Someone else changed this while you had it open. The page now shows the latest; "
                "check it and try again.")
    detail = str(body.get("detail") or body.get("title") or "The request was refused.")
    detail = words(detail)
    return detail[:1].upper() + detail[1:]


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
    timeout: float | None = None,
) -> tuple[Any, Response]:
    """Do one staff or official action and redirect (POST → 303 → GET). A refusal or an
    unavailable service becomes a message on the page we return to, never an error page."""
    try:
        response = await client.request(method, path, token=token, json=json, files=files, timeout=timeout)
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
