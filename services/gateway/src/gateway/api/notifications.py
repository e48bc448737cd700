"""Notices and notification preferences: /api/v1/notices…, /api/v1/notification-preferences.

One's own notices only (the notifications service answers for the token's account)."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from nrn_contracts.values import SingleLine

from ..deps import ApiUser, Svc
from .forward import forward

router = APIRouter()
TAG = "notifications"
PROBLEM = {"content": {"application/problem+json": {}}}
ERRORS = {401: {"description": "not signed in", **PROBLEM}, 404: {"description": "not found", **PROBLEM},
          422: {"description": "invalid input, naming the field", **PROBLEM},
          503: {"description": "notifications are unavailable", **PROBLEM}}
NoticeId = Annotated[str, Path(min_length=1, max_length=600)]
Mode = Literal["email_now", "daily_digest", "in_page"]


class PreferencesIn(BaseModel):
    """What to change; what is left out stays as it is."""

    model_config = ConfigDict(extra="forbid")
    modes: dict[Annotated[SingleLine, Field(max_length=64)], Mode] | None = Field(
        default=None, max_length=50, description="kind of notice (see GET) → how to receive it")
    digest_time: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
                                    description="HH:MM, 24-hour, in time_zone: when the daily digest comes")
    time_zone: SingleLine | None = Field(default=None, max_length=64, description="IANA zone, e.g. America/Chicago")


@router.get("/notices", tags=[TAG], summary="My notices, newest first", responses=ERRORS)
async def notices(request: Request, svc: Svc, user: ApiUser, limit: Annotated[int, Query(ge=1, le=100)] = 20,
                  cursor: Annotated[SingleLine | None, Query(max_length=500)] = None, unread: bool = False) -> Response:
    params = {"limit": limit, "cursor": cursor, "unread": "true" if unread else None}
    return await forward(request, svc.notifications, "GET", "/notices", principal=user, params=params)


@router.get("/notices/unread-count", tags=[TAG], summary="How many of my notices are unread", responses=ERRORS)
async def unread_count(request: Request, svc: Svc, user: ApiUser) -> Response:
    return await forward(request, svc.notifications, "GET", "/notices/unread-count", principal=user)


@router.post("/notices/read-all", tags=[TAG], summary="Mark all my notices as read", responses=ERRORS)
async def read_all(request: Request, svc: Svc, user: ApiUser) -> Response:
    return await forward(request, svc.notifications, "POST", "/notices/read-all", principal=user)


@router.post("/notices/{notice_id}/read", tags=[TAG], summary="Mark one of my notices as read", responses=ERRORS)
async def read_one(request: Request, notice_id: NoticeId, svc: Svc, user: ApiUser) -> Response:
    return await forward(request, svc.notifications, "POST", f"/notices/{quote(notice_id, safe='')}/read",
                         principal=user)


@router.get("/notification-preferences", tags=[TAG], summary="How I receive each kind of notice", responses=ERRORS)
async def preferences(request: Request, svc: Svc, user: ApiUser) -> Response:
    return await forward(request, svc.notifications, "GET", "/preferences", principal=user)


@router.put("/notification-preferences", tags=[TAG], summary="Change how I receive notices", responses=ERRORS)
async def set_preferences(request: Request, body: PreferencesIn, svc: Svc, user: ApiUser) -> Response:
    return await forward(request, svc.notifications, "PUT", "/preferences", principal=user,
                         json=body.model_dump(exclude_none=True))
