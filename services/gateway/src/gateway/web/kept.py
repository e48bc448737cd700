"""What a person typed survives a session that ended: a form sent with an expired session (or a page
left open so long that its CSRF token no longer matches) is kept in the new session, the person signs
in again and lands back on the form with its content. Passwords, CSRF tokens and idempotency keys are
never kept. The session is a signed cookie, so what is kept is bounded (``MAX_CHARS``)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request

KEPT = "kept_form"
NOT_KEPT = frozenset({"csrf_token", "password", "idempotency_key", "confirm_repeat"})
MAX_CHARS = 3_000  # a cookie holds about 4 KB; the local draft (static/app.js) keeps longer text
KEEP_FOR_S = 24 * 3600


def back_path(request: Request) -> str:
    """The page the form was on: the Referer when it is this site's, else the form's own path."""
    referer = request.headers.get("referer") or ""
    parts = urlsplit(referer)
    if referer and parts.netloc == request.url.netloc and parts.path.startswith("/") and not parts.path.startswith("//"):
        return parts.path
    return request.url.path


async def keep_form(request: Request) -> str | None:
    """Keep a form-encoded body's fields for the page it came from; returns that page, or None for
    a request that is not a form (htmx fragments, JSON)."""
    ctype = request.headers.get("content-type", "")
    if request.method != "POST" or not ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return None
    form = await request.form()
    fields: dict[str, str] = {}
    budget = MAX_CHARS
    for key, value in form.multi_items():
        if key in NOT_KEPT or not isinstance(value, str) or key in fields:
            continue
        fields[key] = value[:budget]
        budget -= len(fields[key])
        if budget <= 0:
            break
    path = back_path(request)
    request.session[KEPT] = {"path": path, "action": request.url.path, "fields": fields, "at": time.time()}
    return path


def take_kept(request: Request, path: str) -> dict[str, Any] | None:
    """The fields kept for ``path`` (once: they are removed), or None."""
    kept = request.session.get(KEPT)
    if not isinstance(kept, dict) or kept.get("path") != path or time.time() - float(kept.get("at", 0)) > KEEP_FOR_S:
        return None
    request.session.pop(KEPT, None)
    fields = kept.get("fields")
    return fields if isinstance(fields, dict) else None
