"""The notification centre, its unread count in the header, notification settings, unsubscribing,
and for staff the messages sent (with retry) and, in development, the mail the catcher caught.

Everything comes from the notifications service. The header's count is its own small request
(htmx, every ``NOTICE_POLL_SECONDS``), so no page waits for it and a page still renders when
notifications is down.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ..clients import ServiceUnavailable, UpstreamError
from ..deps import MaybePageUser, PageUser, Svc, require_staff
from ..problems import ProblemError
from .common import MaybePageText, PageOffset, safe_next, see_other
from .render import flash, render

router = APIRouter()
# Unsubscribing needs no session and no CSRF token: the signed token in the link is the key, and a
# mail client's one-click POST (RFC 8058) carries nothing else. It only ever turns e-mail off.
public_router = APIRouter(include_in_schema=False)

UNAVAILABLE = "Your notifications cannot be shown right now. Please try again in a moment."


def _htmx(request: Request) -> bool:
    return bool(request.headers.get("hx-request"))


def _poll(request: Request) -> int:
    return request.app.state.settings.notice_poll_seconds


# ---------------------------------------------------------------------------- the header's count


@router.get("/notifications/badge")
async def badge(request: Request, user: MaybePageUser, svc: Svc) -> Response:
    """htmx fragment: the header's link to the notification centre with the unread count."""
    if user is None:
        return Response(status_code=204)
    try:
        unread = (await svc.notifications.get_json("/notices/unread-count", token=user.token))["unread"]
    except (UpstreamError, ServiceUnavailable, KeyError, TypeError):
        unread = None
    return render(request, "partials/notice_badge.html", {"unread": unread, "poll": _poll(request)})


# ---------------------------------------------------------------------------- the notification centre


async def _page(request: Request, user: Any, svc: Svc, cursor: str | None, unread_only: bool) -> dict[str, Any]:
    params = {"limit": 20, "cursor": cursor or None, "unread": "true" if unread_only else None}
    try:
        page = await svc.notifications.get_json("/notices", token=user.token, params=params)
        return {"items": page["items"], "unread": page["unread"], "next_cursor": page.get("next_cursor"), "error": None}
    except (UpstreamError, ServiceUnavailable):
        return {"items": [], "unread": None, "next_cursor": None, "error": UNAVAILABLE}


@router.get("/notifications")
async def centre(request: Request, user: PageUser, svc: Svc, cursor: MaybePageText = None,
                 show: MaybePageText = None) -> Response:
    unread_only = show == "unread"
    page = await _page(request, user, svc, cursor, unread_only)
    return render(request, "notifications/centre.html", {
        "nav": "notifications", **page, "show": "unread" if unread_only else "all", "cursor": cursor,
        "poll": _poll(request)})


@router.get("/notifications/list")
async def centre_list(request: Request, user: PageUser, svc: Svc, show: MaybePageText = None) -> Response:
    """htmx fragment: the list again (polled while the centre is open, so new notices appear)."""
    unread_only = show == "unread"
    page = await _page(request, user, svc, None, unread_only)
    return render(request, "partials/notice_list.html", {**page, "show": "unread" if unread_only else "all",
                                                         "cursor": None, "poll": _poll(request)})


@router.post("/notifications/read-all")
async def read_all(request: Request, user: PageUser, svc: Svc) -> Response:
    try:
        await svc.notifications.post_json("/notices/read-all", token=user.token)
    except (UpstreamError, ServiceUnavailable):
        flash(request, "The notifications could not be marked as read. Please try again.", "error")
        return see_other("/notifications")
    if _htmx(request):
        page = await _page(request, user, svc, None, False)
        return render(request, "partials/notice_list.html", {**page, "show": "all", "cursor": None,
                                                             "poll": _poll(request), "oob_badge": True})
    flash(request, "All notifications are marked as read.")
    return see_other("/notifications")


@router.post("/notifications/{notice_id}/read")
async def read_one(request: Request, notice_id: str, user: PageUser, svc: Svc) -> Response:
    try:
        notice = await svc.notifications.post_json(f"/notices/{quote(notice_id, safe='')}/read", token=user.token)
    except UpstreamError as exc:
        if exc.status == 404:
            raise ProblemError(404, "Not found", "No such notification.") from exc
        raise
    except ServiceUnavailable:
        flash(request, "The notification could not be marked as read. Please try again.", "error")
        return see_other("/notifications")
    if _htmx(request):
        return render(request, "partials/notice_item.html", {"n": notice, "unread": notice.get("unread"),
                                                             "poll": _poll(request), "oob_badge": True})
    return see_other("/notifications")


@router.get("/notifications/{notice_id}/open")
async def open_notice(request: Request, notice_id: str, user: PageUser, svc: Svc) -> Response:
    """Follow a notice to the thing itself, marking it read on the way."""
    try:
        notice = await svc.notifications.post_json(f"/notices/{quote(notice_id, safe='')}/read", token=user.token)
    except UpstreamError as exc:
        if exc.status == 404:
            raise ProblemError(404, "Not found", "No such notification.") from exc
        raise
    return see_other(safe_next(notice.get("link"), "/notifications"))


# ---------------------------------------------------------------------------- settings


@router.get("/notifications/settings")
async def settings_page(request: Request, user: PageUser, svc: Svc) -> Response:
    try:
        prefs = await svc.notifications.get_json("/preferences", token=user.token)
    except (UpstreamError, ServiceUnavailable):
        return render(request, "notifications/settings.html", {"nav": "notifications", "prefs": None,
                                                               "error": UNAVAILABLE}, status_code=503)
    return render(request, "notifications/settings.html", {"nav": "notifications", "prefs": prefs, "error": None})


@router.post("/notifications/settings")
async def save_settings(request: Request, user: PageUser, svc: Svc) -> Response:
    form = await request.form()
    modes = {key[5:]: str(value) for key, value in form.multi_items() if key.startswith("mode:")}
    body = {"modes": modes, "digest_time": str(form.get("digest_time") or "") or None,
            "time_zone": str(form.get("time_zone") or "") or None}
    try:
        await svc.notifications.send_json("PUT", "/preferences", token=user.token, json=body)
    except UpstreamError as exc:
        problem = exc.problem()
        prefs = await svc.notifications.get_json("/preferences", token=user.token)
        return render(request, "notifications/settings.html", {
            "nav": "notifications", "prefs": prefs, "error": problem.get("detail") or "Those settings were refused.",
            "field": problem.get("field")}, status_code=exc.status)
    except ServiceUnavailable:
        flash(request, "Your settings could not be saved right now. Please try again in a moment.", "error")
        return see_other("/notifications/settings")
    flash(request, "Your notification settings are saved.")
    return see_other("/notifications/settings")


# ---------------------------------------------------------------------------- unsubscribe (public)


def _token(value: Any) -> str:
    token = str(value or "")
    if not token or len(token) > 1_000:
        raise ProblemError(404, "Not found", "This unsubscribe link is not valid. Change what you receive in your "
                                             "notification settings instead.")
    return token


@public_router.get("/unsubscribe")
async def unsubscribe_page(request: Request, svc: Svc, token: MaybePageText = None) -> Response:
    token = _token(token)
    try:
        about = await svc.notifications.get_json(f"/unsubscribe/{quote(token, safe='')}")
    except UpstreamError as exc:
        raise ProblemError(404, "Not found", "This unsubscribe link is not valid. Change what you receive in your "
                                             "notification settings instead.") from exc
    return render(request, "notifications/unsubscribe.html", {"about": about, "token": token, "done": False})


@public_router.post("/unsubscribe")
async def unsubscribe(request: Request, svc: Svc, token: MaybePageText = None) -> Response:
    form = await request.form()
    token = _token(token or form.get("token"))
    try:
        about = await svc.notifications.post_json(f"/unsubscribe/{quote(token, safe='')}")
    except UpstreamError as exc:
        raise ProblemError(404, "Not found", "This unsubscribe link is not valid.") from exc
    if form.get("List-Unsubscribe") == "One-Click":
        return Response(status_code=200, content="Unsubscribed.", media_type="text/plain")  # a mail client
    return render(request, "notifications/unsubscribe.html", {"about": about, "token": token, "done": True})


# ---------------------------------------------------------------------------- staff: messages sent, and caught


STATE_LABELS = {"pending": "Waiting to be sent", "sending": "Being sent", "sent": "Sent", "failed": "Failed",
                "parked": "Held: the message could not be written"}


@router.get("/staff/mail")
async def outbox(request: Request, user: PageUser, svc: Svc, state: MaybePageText = None,
                 cursor: MaybePageText = None) -> Response:
    require_staff(user)
    state = state if state in STATE_LABELS else None
    params = {"state": state, "cursor": cursor or None, "limit": 50}
    try:
        page = await svc.notifications.get_json("/admin/mail", token=user.token, params=params)
        error = None
    except (UpstreamError, ServiceUnavailable):
        page, error = {"items": [], "counts": {}, "next_cursor": None}, "The list of messages cannot be shown right now."
    return render(request, "notifications/outbox.html", {
        "nav": "mail", "page": page, "state": state, "labels": STATE_LABELS, "error": error,
        "catcher": request.app.state.settings.environment != "production"})


@router.post("/staff/mail/{mail_id}/retry")
async def retry(request: Request, mail_id: str, user: PageUser, svc: Svc) -> Response:
    require_staff(user)
    form = await request.form()
    back = safe_next(str(form.get("back") or ""), "/staff/mail?state=failed")
    try:
        await svc.notifications.post_json(f"/admin/mail/{quote(mail_id, safe='')}/retry", token=user.token)
    except UpstreamError as exc:
        flash(request, str(exc.problem().get("detail") or "The message cannot be sent again."), "error")
        return see_other(back)
    except ServiceUnavailable:
        flash(request, "The message could not be sent again right now. Please try again in a moment.", "error")
        return see_other(back)
    flash(request, "The message will be sent again in a moment.")
    return see_other(back)


async def _caught(svc: Svc, user: Any, path: str, **kw: Any) -> Any:
    try:
        return await svc.notifications.get_json(path, token=user.token, **kw)
    except UpstreamError as exc:
        if exc.status == 404:
            raise ProblemError(404, "Not found", "There is no development mail catcher here, or no such message: "
                                                 "messages go to the configured mail server.") from exc
        raise


@router.get("/staff/mail/caught")
async def caught(request: Request, user: PageUser, svc: Svc, offset: PageOffset = 0) -> Response:
    require_staff(user)
    offset = max(0, min(offset, 100_000))
    page = await _caught(svc, user, "/caught-mail", params={"limit": 50, "offset": offset})
    seen: dict[str, int] = {}
    for item in page["items"]:
        seen[item["message_id"]] = seen.get(item["message_id"], 0) + 1
    return render(request, "notifications/caught.html", {"nav": "mail", "page": page, "offset": offset,
                                                         "repeats": seen})


@router.get("/staff/mail/caught/{key}")
async def caught_message(request: Request, key: str, user: PageUser, svc: Svc) -> Response:
    require_staff(user)
    message = await _caught(svc, user, f"/caught-mail/{quote(key, safe='')}")
    return render(request, "notifications/caught_message.html", {"nav": "mail", "m": message})


# The HTML part, shown in a sandboxed frame: no script, no form, nothing fetched from anywhere.
FRAME_POLICY = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                "frame-ancestors 'self'; base-uri 'none'; form-action 'none'")


@router.get("/staff/mail/caught/{key}/html")
async def caught_html(request: Request, key: str, user: PageUser, svc: Svc) -> Response:
    require_staff(user)
    message = await _caught(svc, user, f"/caught-mail/{quote(key, safe='')}")
    return HTMLResponse(message.get("html") or "<p>This message has no HTML part.</p>", headers={
        "Content-Security-Policy": FRAME_POLICY, "X-Frame-Options": "SAMEORIGIN", "Cache-Control": "no-store"})


@router.get("/staff/mail/caught/{key}/attachments/{index}")
async def caught_attachment(request: Request, key: str, index: int, user: PageUser, svc: Svc) -> Response:
    require_staff(user)
    try:
        response = await svc.notifications.request("GET", f"/caught-mail/{quote(key, safe='')}/attachments/{index}",
                                                   token=user.token)
    except UpstreamError as exc:
        raise ProblemError(404, "Not found", "No such attachment.") from exc
    return Response(response.content, media_type=response.headers.get("content-type", "application/octet-stream"),
                    headers={"Content-Disposition": response.headers.get("content-disposition", "attachment"),
                             "Cache-Control": "no-store"})
