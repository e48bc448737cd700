"""Rendering pages: one Jinja2 environment, the context every page gets, flash messages."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from nrn_kit.localtime import us_date, us_datetime, zone_label

from ..compose import Missing
from ..security import csrf_token
from .navigation import nav_for

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    env = templates.env
    env.trim_blocks = True
    env.lstrip_blocks = True
    env.filters["when"] = _when
    env.filters["day"] = day
    env.filters["when_in"] = when_in
    env.filters["zone_name"] = zone_name
    env.filters["snippet"] = snippet
    env.filters["venue_time"] = venue_time
    env.filters["label"] = lambda v: str(v or "").replace("_", " ").capitalize()
    env.filters["missing_reason"] = missing_reason
    env.filters["topic_name"] = lambda value, labels: labels.get(value) or str(value or "").replace("_", " ").capitalize()
    env.globals["age"] = age
    # Every form's Idempotency-Key (deps.form_idempotency_key): a fresh one each time a form is drawn.
    env.globals["new_key"] = lambda: uuid.uuid4().hex
    return templates


# NRN works on US Eastern time; every time on a page says so.
EASTERN = ZoneInfo("America/New_York")


def _when(value: Any) -> str:
    """ISO timestamps as an unambiguous Eastern date-time ("Sun, Nov 7, 2027, 1:30 AM EST")."""
    return when_in(value, EASTERN) if value else ""


def age(value: Any, now: datetime | None = None) -> str:
    """How long ago, in the largest whole unit ("3 days", "5 hours", "12 minutes")."""
    at = _moment(value)
    if at is None:
        return ""
    seconds = max(0, int(((now or datetime.now(timezone.utc)) - at).total_seconds()))
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'' if n == 1 else 's'}"
    return "just now"


def venue_time(value: Any, zone: str | None) -> str:
    """An instant as a venue's wall clock with its zone's abbreviation ("Wed, Apr 14, 2027, 9:00 AM CDT"):
    a convening's times are the venue's, not NRN's Eastern time."""
    return when_in(value, zone) if value else ""


def _moment(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _zone(zone: Any) -> ZoneInfo:
    try:
        return ZoneInfo(str(zone)) if zone else EASTERN
    except (ZoneInfoNotFoundError, ValueError):
        return EASTERN


def when_in(value: Any, zone: Any = None) -> str:
    """An instant in a named IANA zone as people in the US read it: "Tue, Apr 14, 2026, 2:00 PM EDT"
    (the abbreviation says which side of a clock change it is on). Eastern when the zone is unknown."""
    moment = _moment(value)
    if moment is None:
        return str(value or "")
    return us_datetime(moment, _zone(zone))


def zone_name(zone: Any) -> str:
    """"Eastern time", "Central time"… for US zones; the IANA name otherwise."""
    return zone_label(_zone(zone))


def day(value: Any) -> str:
    """A calendar date (a deadline, a publication date) the way the site writes dates: "Tue, Apr 14, 2026"."""
    if not value:
        return ""
    try:
        d = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return us_date(d)


def snippet(hit: Any) -> Markup:
    """A search hit's snippet as HTML: its plain text escaped once, the matched words in <mark>.

    Built from the library's structured form (`snippet_text` and `highlights`, character offsets),
    so no markup from the text, the index or the library's own HTML can reach the page. A hit
    without them (an older library) shows its plain `summary`."""
    if not isinstance(hit, dict):
        return Markup(escape(str(hit or "")))
    text = str(hit.get("snippet_text") or "")
    if not text:
        return Markup(escape(str(hit.get("summary") or "")))
    out: list[str] = []
    pos = 0
    for pair in hit.get("highlights") or []:
        try:
            start, end = int(pair[0]), int(pair[1])
        except (TypeError, ValueError, IndexError):
            continue
        if not (pos <= start < end <= len(text)):
            continue
        out += [str(escape(text[pos:start])), "<mark>", str(escape(text[start:end])), "</mark>"]
        pos = end
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))


def missing_reason(missing: Missing) -> str:
    """Why part of a page could not be shown, in words (never the service's name or its status code)."""
    if missing.status in (401, 403):
        return "your roles do not include it"
    if missing.status == 404:
        return "it was not found"
    if missing.reason == "timed out":
        return "it took too long to answer"
    return "that part of the site is not answering"


def flash(request: Request, text: str, kind: str = "success") -> None:
    request.session.setdefault("flashes", []).append({"kind": kind, "text": text})


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    missing: list[Missing] | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    ctx: dict[str, Any] = dict(context or {})
    ctx.setdefault("user", getattr(request.state, "principal", None))
    # the signed-in person's name (escaped by the templates' autoescape), never the account id
    ctx.setdefault("user_name", getattr(request.state, "person_name", None) if ctx["user"] is not None else None)
    ctx.setdefault("nav", None)
    ctx.setdefault("person", getattr(request.state, "person", None) if ctx["user"] is not None else None)
    ctx["nav_items"] = nav_for(ctx["user"])
    ctx["csrf"] = csrf_token(request.session)
    ctx["flashes"] = request.session.pop("flashes", []) if "flashes" in request.session else []
    ctx["missing"] = missing or []
    templates: Jinja2Templates = request.app.state.templates
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code, headers=headers)
    # Pages carry personal data and a CSRF token: never cache them in shared caches.
    response.headers.setdefault("Cache-Control", "no-store")
    return response
