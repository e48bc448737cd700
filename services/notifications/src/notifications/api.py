"""HTTP routes: parse → handler → response. The contract is in README.md ("HTTP API")."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from nrn_contracts.values import SingleLine
from nrn_kit.app import Runtime, get_runtime
from nrn_kit.auth import ADMINISTRATOR, Principal, principal_dependency
from nrn_kit.http import DomainError, Forbidden, NotFound

from . import handlers as h
from .adapters import maildir

router = APIRouter()

principal = principal_dependency(lambda request: request.app.state.runtime.verifier)
PrincipalDep = Annotated[Principal, Depends(principal)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def deps(runtime: Runtime) -> h.Deps:
    return runtime.state["deps"]


def signed_in(p: Principal) -> None:
    if p.status == "deactivated":
        raise Forbidden("the account is deactivated")


def staff_only(p: Principal) -> None:
    if not (p.is_staff and p.verified):
        raise Forbidden("only NRN staff may see this")


def _cursor(value: tuple[datetime, str] | None) -> str | None:
    if value is None:
        return None
    return base64.urlsafe_b64encode(json.dumps([value[0].isoformat(), value[1]]).encode()).decode().rstrip("=")


def _uncursor(text: str | None) -> tuple[datetime, str] | None:
    if not text:
        return None
    try:
        at, key = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        return datetime.fromisoformat(at), str(key)
    except (ValueError, TypeError) as exc:
        raise DomainError("the cursor is not one this service gave", field="cursor", status=422,
                          code="invalid-input", title="Invalid input") from exc


# ---------------------------------------------------------------------------- in-page notices


@router.get("/notices")
async def list_notices(p: PrincipalDep, runtime: RuntimeDep, limit: Annotated[int, Query(ge=1, le=100)] = 20,
                       cursor: Annotated[SingleLine | None, Query(max_length=500)] = None,
                       unread: bool = False) -> dict[str, Any]:
    signed_in(p)
    d = deps(runtime)
    items, nxt = await h.list_notices(d, p.account_id, limit=limit, before=_uncursor(cursor), unread_only=unread)
    return {"items": items, "unread": await h.unread_count(d, p.account_id), "next_cursor": _cursor(nxt)}


@router.get("/notices/unread-count")
async def unread_count(p: PrincipalDep, runtime: RuntimeDep) -> dict[str, int]:
    signed_in(p)
    return {"unread": await h.unread_count(deps(runtime), p.account_id)}


@router.post("/notices/read-all")
async def read_all(p: PrincipalDep, runtime: RuntimeDep) -> dict[str, int]:
    signed_in(p)
    marked = await h.mark_all_read(deps(runtime), p.account_id)
    return {"marked": marked, "unread": 0}


@router.post("/notices/{notice_id}/read")
async def read_one(notice_id: Annotated[str, Path(max_length=600)], p: PrincipalDep,
                   runtime: RuntimeDep) -> dict[str, Any]:
    signed_in(p)
    d = deps(runtime)
    notice = await h.mark_read(d, p.account_id, notice_id)
    return {**notice, "unread": await h.unread_count(d, p.account_id)}


# ---------------------------------------------------------------------------- preferences


class PreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Text refuses control characters (nrn_contracts.values); which kinds, modes, times and zones are valid
    # the handler says, with the person's own kinds of notice in the message.
    modes: dict[Annotated[SingleLine, Field(max_length=64)],
                Annotated[SingleLine, Field(max_length=32)]] | None = Field(
        default=None, max_length=50, description="kind of notice → email_now | daily_digest | in_page")
    digest_time: SingleLine | None = Field(default=None, max_length=5, description="HH:MM, 24-hour, in time_zone")
    time_zone: SingleLine | None = Field(default=None, max_length=64, description="IANA zone, e.g. America/Chicago")


@router.get("/preferences")
async def get_preferences(p: PrincipalDep, runtime: RuntimeDep) -> dict[str, Any]:
    signed_in(p)
    return await h.get_preferences(deps(runtime), p.account_id, kind=p.kind, roles=p.roles)


@router.put("/preferences")
async def put_preferences(body: PreferencesIn, p: PrincipalDep, runtime: RuntimeDep) -> dict[str, Any]:
    signed_in(p)
    return await h.set_preferences(deps(runtime), p.account_id, kind=p.kind, roles=p.roles, modes=body.modes,
                                   digest_time=body.digest_time, time_zone=body.time_zone)


# ---------------------------------------------------------------------------- unsubscribe (the token is the key)

Token = Annotated[str, Path(min_length=10, max_length=1_000)]


@router.get("/unsubscribe/{token}")
async def describe_unsubscribe(token: Token, runtime: RuntimeDep) -> dict[str, Any]:
    return await h.describe_unsubscribe(deps(runtime), token)


@router.post("/unsubscribe/{token}")
async def unsubscribe(token: Token, runtime: RuntimeDep) -> dict[str, Any]:
    return await h.unsubscribe(deps(runtime), token)


# ---------------------------------------------------------------------------- staff: messages sent and failed


@router.get("/admin/mail")
async def list_mail(p: PrincipalDep, runtime: RuntimeDep,
                    state: Annotated[str | None, Query(pattern="^(pending|sending|sent|failed|parked)$")] = None,
                    limit: Annotated[int, Query(ge=1, le=200)] = 50,
                    cursor: Annotated[SingleLine | None, Query(max_length=500)] = None) -> dict[str, Any]:
    staff_only(p)
    items, counts, nxt = await h.list_mail(deps(runtime), state=state, limit=limit, before=_uncursor(cursor))
    return {"items": items, "counts": counts, "next_cursor": _cursor(nxt)}


@router.post("/admin/mail/{mail_id}/retry")
async def retry_mail(mail_id: Annotated[str, Path(max_length=600)], p: PrincipalDep,
                     runtime: RuntimeDep) -> dict[str, Any]:
    staff_only(p)
    view = await h.retry_mail(deps(runtime), mail_id)
    sender = runtime.state.get("sender")
    if sender is not None:
        sender.wake()
    return view


@router.post("/admin/schedule/run")
async def run_schedule(p: PrincipalDep, runtime: RuntimeDep) -> dict[str, int]:
    """Build the digests and follow-up reminders that are due now (the scheduler does it every minute)."""
    if not p.has_role(ADMINISTRATOR) or not p.verified:
        raise Forbidden("only an administrator may run the schedule by hand")
    d = deps(runtime)
    return {"digests": await h.send_digests(d, limit=runtime.settings.schedule_batch),
            "follow_ups": await h.follow_ups_due(d, limit=runtime.settings.schedule_batch)}


# ---------------------------------------------------------------------------- development: the caught mail


def _caught_dir(runtime: Runtime) -> str:
    folder = runtime.settings.caught_mail_dir
    if not folder:
        raise NotFound("no development mail catcher here: messages go to the configured mail server")
    return folder


@router.get("/caught-mail")
async def caught_mail(p: PrincipalDep, runtime: RuntimeDep, limit: Annotated[int, Query(ge=1, le=200)] = 50,
                      offset: Annotated[int, Query(ge=0, le=100_000)] = 0) -> dict[str, Any]:
    staff_only(p)
    items, total = maildir.list_caught(_caught_dir(runtime), limit=limit, offset=offset)
    # the same Message-ID caught twice is one message handed over twice (see sender.py)
    return {"items": [maildir.summary(c) for c in items], "total": total}


@router.get("/caught-mail/{key}")
async def caught_message(key: Annotated[str, Path(max_length=300)], p: PrincipalDep,
                         runtime: RuntimeDep) -> dict[str, Any]:
    staff_only(p)
    caught = maildir.get_caught(_caught_dir(runtime), key)
    if caught is None:
        raise NotFound("no such caught message")
    return maildir.detail(caught)


@router.get("/caught-mail/{key}/attachments/{index}")
async def caught_attachment(key: Annotated[str, Path(max_length=300)], index: Annotated[int, Path(ge=0, le=1000)],
                            p: PrincipalDep, runtime: RuntimeDep) -> Response:
    staff_only(p)
    caught = maildir.get_caught(_caught_dir(runtime), key)
    found = maildir.attachment(caught, index) if caught is not None else None
    if found is None:
        raise NotFound("no such attachment")
    filename, content_type, payload = found
    safe = "".join(ch for ch in filename if ch.isalnum() or ch in "._-") or "attachment"
    return Response(payload, media_type=content_type,
                    headers={"Content-Disposition": f'attachment; filename="{safe}"',
                             "X-Content-Type-Options": "nosniff"})

