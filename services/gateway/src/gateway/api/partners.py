"""Partner webhook subscriptions: /api/v1/partners/… (services/partners), and the event catalogue.

A partner's administrators act for their own organization only (the kit's matrix, checked here
before any upstream call and again by partners); NRN administrators set what an agreement allows."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from nrn_contracts.values import MultiLine, SingleLine, Version

from ..deps import ApiUser, Svc, allow
from ..web.catalogue import catalogue
from .forward import forward
from .models import Id  # ids travel into upstream URLs: letters, digits and a few separators

router = APIRouter()
TAG = "partner webhooks"
PROBLEM = {"content": {"application/problem+json": {}}}
ERRORS = {401: {"description": "not signed in", **PROBLEM}, 403: {"description": "not your organization", **PROBLEM},
          404: {"description": "not found", **PROBLEM}, 409: {"description": "disabled or changed meanwhile", **PROBLEM},
          422: {"description": "invalid input, the field named", **PROBLEM},
          503: {"description": "the partners service is unavailable", **PROBLEM}}

Pattern = Annotated[SingleLine, Field(min_length=1, max_length=200)]
State = Annotated[SingleLine, Field(max_length=2)]
Topic = Annotated[SingleLine, Field(max_length=64)]


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: SingleLine = Field(min_length=1, max_length=2000, description="https://… where deliveries are POSTed")
    description: MultiLine | None = Field(None, max_length=500)
    event_types: list[Pattern] = Field(min_length=1, max_length=100,
                                       description="types or patterns, e.g. org.nationalresourcenetwork.requests311.*")
    states: list[State] = Field(default_factory=list, max_length=60)
    topics: list[Topic] = Field(default_factory=list, max_length=20)


class EndpointPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: SingleLine | None = Field(None, min_length=1, max_length=2000)
    description: MultiLine | None = Field(None, max_length=500)
    event_types: list[Pattern] | None = Field(None, min_length=1, max_length=100)
    states: list[State] | None = Field(None, max_length=60)
    topics: list[Topic] | None = Field(None, max_length=20)
    enabled: bool | None = None
    version: Version | None = Field(None, ge=1)


class RotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grace_hours: float | None = Field(None, ge=0, le=168)


class ReplayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    since: AwareDatetime


class AgreementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    event_types: list[Pattern] = Field(min_length=1, max_length=200)
    fields: dict[Annotated[SingleLine, Field(max_length=200)],
                 list[Annotated[SingleLine, Field(max_length=64)]]] | None = None
    personal_data: bool = False
    filters: list[Literal["state", "topic"]] = Field(default_factory=lambda: ["state", "topic"])
    version: Version | None = None


def _body(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude_unset=True)


@router.get("/events/catalogue", tags=["events"], summary="Every topic and event type, its fields and key")
async def event_catalogue() -> dict[str, Any]:
    """The event catalogue as JSON (the same as the /events page), generated from the contracts."""
    return catalogue()


@router.get("/partners/event-types", tags=[TAG], responses=ERRORS)
async def event_types(request: Request, svc: Svc, user: ApiUser) -> Response:
    return await forward(request, svc.partners, "GET", "/event-types", principal=user)


@router.get("/partners/{partner_id}/webhooks", tags=[TAG], responses=ERRORS,
            summary="The organization, its agreement and its endpoints")
async def partner(partner_id: Id, request: Request, svc: Svc, user: ApiUser) -> Response:
    allow(user, "webhook.read", partner_id=partner_id)
    return await forward(request, svc.partners, "GET", f"/partners/{partner_id}", principal=user)


@router.get("/partners/{partner_id}/agreement", tags=[TAG], responses=ERRORS)
async def agreement(partner_id: Id, request: Request, svc: Svc, user: ApiUser) -> Response:
    allow(user, "webhook.read", partner_id=partner_id)
    return await forward(request, svc.partners, "GET", f"/partners/{partner_id}/agreement", principal=user)


@router.put("/partners/{partner_id}/agreement", tags=[TAG], responses=ERRORS)
async def set_agreement(partner_id: Id, body: AgreementIn, request: Request, svc: Svc, user: ApiUser) -> Response:
    allow(user, "agreement.manage", partner_id=partner_id)
    return await forward(request, svc.partners, "PUT", f"/partners/{partner_id}/agreement", principal=user,
                         json=_body(body))


@router.get("/partners/{partner_id}/endpoints", tags=[TAG], responses=ERRORS)
async def endpoints(partner_id: Id, request: Request, svc: Svc, user: ApiUser) -> Response:
    allow(user, "webhook.read", partner_id=partner_id)
    return await forward(request, svc.partners, "GET", f"/partners/{partner_id}/endpoints", principal=user)


@router.post("/partners/{partner_id}/endpoints", status_code=201, tags=[TAG], responses=ERRORS,
             summary="Register an endpoint (the answer holds its signing secret, shown once)")
async def register(partner_id: Id, body: EndpointIn, request: Request, svc: Svc, user: ApiUser) -> Response:
    allow(user, "webhook.manage", partner_id=partner_id)
    return await forward(request, svc.partners, "POST", f"/partners/{partner_id}/endpoints", principal=user,
                         json=_body(body), location_prefix=f"/api/v1/partners/{partner_id}/endpoints/")


@router.get("/partners/{partner_id}/endpoints/{endpoint_id}", tags=[TAG], responses=ERRORS)
async def endpoint(partner_id: Id, endpoint_id: Id, request: Request, svc: Svc, user: ApiUser) -> Response:
    allow(user, "webhook.read", partner_id=partner_id)
    return await forward(request, svc.partners, "GET", f"/partners/{partner_id}/endpoints/{endpoint_id}",
                         principal=user)


@router.patch("/partners/{partner_id}/endpoints/{endpoint_id}", tags=[TAG], responses=ERRORS)
async def change(partner_id: Id, endpoint_id: Id, body: EndpointPatch, request: Request, svc: Svc,
                 user: ApiUser) -> Response:
    allow(user, "webhook.manage", partner_id=partner_id)
    return await forward(request, svc.partners, "PATCH", f"/partners/{partner_id}/endpoints/{endpoint_id}",
                         principal=user, json=_body(body))


@router.delete("/partners/{partner_id}/endpoints/{endpoint_id}", status_code=204, tags=[TAG], responses=ERRORS)
async def remove(partner_id: Id, endpoint_id: Id, request: Request, svc: Svc, user: ApiUser) -> Response:
    allow(user, "webhook.manage", partner_id=partner_id)
    return await forward(request, svc.partners, "DELETE", f"/partners/{partner_id}/endpoints/{endpoint_id}",
                         principal=user)


@router.post("/partners/{partner_id}/endpoints/{endpoint_id}/secret/rotate", tags=[TAG], responses=ERRORS)
async def rotate(partner_id: Id, endpoint_id: Id, request: Request, svc: Svc, user: ApiUser,
                 body: RotateIn | None = None) -> Response:
    allow(user, "webhook.manage", partner_id=partner_id)
    return await forward(request, svc.partners, "POST",
                         f"/partners/{partner_id}/endpoints/{endpoint_id}/secret/rotate", principal=user,
                         json=_body(body) if body else {})


@router.post("/partners/{partner_id}/endpoints/{endpoint_id}/test", status_code=202, tags=[TAG], responses=ERRORS)
async def test_event(partner_id: Id, endpoint_id: Id, request: Request, svc: Svc, user: ApiUser) -> Response:
    allow(user, "webhook.manage", partner_id=partner_id)
    return await forward(request, svc.partners, "POST", f"/partners/{partner_id}/endpoints/{endpoint_id}/test",
                         principal=user)


@router.post("/partners/{partner_id}/endpoints/{endpoint_id}/replay", status_code=202, tags=[TAG], responses=ERRORS)
async def replay_since(partner_id: Id, endpoint_id: Id, body: ReplayIn, request: Request, svc: Svc,
                       user: ApiUser) -> Response:
    allow(user, "webhook.manage", partner_id=partner_id)
    return await forward(request, svc.partners, "POST", f"/partners/{partner_id}/endpoints/{endpoint_id}/replay",
                         principal=user, json=_body(body))


@router.get("/partners/{partner_id}/endpoints/{endpoint_id}/deliveries", tags=[TAG], responses=ERRORS)
async def deliveries(partner_id: Id, endpoint_id: Id, request: Request, svc: Svc, user: ApiUser,
                     state: Literal["pending", "sending", "succeeded", "failed", "cancelled"] | None = None,
                     limit: Annotated[int, Query(ge=1, le=200)] = 50,
                     before: AwareDatetime | None = None) -> Response:
    allow(user, "webhook.read", partner_id=partner_id)
    params = {"state": state, "limit": limit, "before": before.isoformat() if before else None}
    return await forward(request, svc.partners, "GET",
                         f"/partners/{partner_id}/endpoints/{endpoint_id}/deliveries", principal=user, params=params)


@router.get("/partners/{partner_id}/deliveries/{delivery_id}", tags=[TAG], responses=ERRORS)
async def delivery(partner_id: Id, delivery_id: Id, request: Request, svc: Svc, user: ApiUser) -> Response:
    allow(user, "webhook.read", partner_id=partner_id)
    return await forward(request, svc.partners, "GET", f"/partners/{partner_id}/deliveries/{delivery_id}",
                         principal=user)


@router.post("/partners/{partner_id}/deliveries/{delivery_id}/replay", status_code=202, tags=[TAG], responses=ERRORS)
async def replay(partner_id: Id, delivery_id: Id, request: Request, svc: Svc, user: ApiUser) -> Response:
    allow(user, "webhook.manage", partner_id=partner_id)
    return await forward(request, svc.partners, "POST", f"/partners/{partner_id}/deliveries/{delivery_id}/replay",
                         principal=user)
