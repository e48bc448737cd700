"""HTTP routes: parse → command → handler → response. The contract is in README.md ("HTTP API")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from nrn_contracts.values import MultiLine, SingleLine, Version
from nrn_kit.app import Runtime, get_runtime
from nrn_kit.auth import Principal, authorize, principal_dependency
from nrn_kit.idempotency import IDEMPOTENT

from . import handlers as h
from .adapters import mongo as repo
from .domain import catalogue, privacy
from .domain.agreements import FILTERS, view

router = APIRouter(dependencies=[IDEMPOTENT])

principal = principal_dependency(lambda request: request.app.state.runtime.verifier)
PrincipalDep = Annotated[Principal, Depends(principal)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]

# Text refuses control characters (nrn_contracts.values); which URLs, states, topics and event types are
# valid the handlers say.
_Pattern = Annotated[SingleLine, Field(min_length=1, max_length=200)]
_State = Annotated[SingleLine, Field(max_length=2)]
_Topic = Annotated[SingleLine, Field(max_length=64)]


def deps(runtime: Runtime) -> h.Deps:
    return runtime.state["deps"]


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    url: SingleLine = Field(min_length=1, max_length=2000, description="https://… where deliveries are POSTed")
    description: MultiLine | None = Field(None, max_length=500)
    event_types: list[_Pattern] = Field(min_length=1, max_length=100,
                                        description="types or patterns, e.g. org.nationalresourcenetwork.requests311.*")
    states: list[_State] = Field(default_factory=list, max_length=60)
    topics: list[_Topic] = Field(default_factory=list, max_length=20)


class EndpointPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    url: SingleLine | None = Field(None, min_length=1, max_length=2000)
    description: MultiLine | None = Field(None, max_length=500)
    event_types: list[_Pattern] | None = Field(None, min_length=1, max_length=100)
    states: list[_State] | None = Field(None, max_length=60)
    topics: list[_Topic] | None = Field(None, max_length=20)
    enabled: bool | None = None
    version: Version | None = Field(None, ge=1)


class RotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grace_hours: float | None = Field(None, ge=0, le=168,
                                      description="how long the previous secret keeps signing beside the new one")


class ReplayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: AwareDatetime = Field(description="every event received since then (ISO 8601 with its offset)")


class AgreementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_types: list[_Pattern] = Field(min_length=1, max_length=200)
    fields: dict[Annotated[SingleLine, Field(max_length=200)],
                 list[Annotated[SingleLine, Field(max_length=64)]]] | None = Field(
        None, description="per event type, the fields allowed (a type not named keeps every field)")
    personal_data: bool = Field(False, description="officials' personal data (names, e-mails, ids, their own words)")
    filters: list[Literal["state", "topic"]] = Field(default_factory=lambda: list(FILTERS))
    version: Version | None = Field(None, description="the version this change is based on")


def _now(runtime: Runtime) -> datetime:
    return deps(runtime).clock()


async def _endpoint_out(runtime: Runtime, endpoint, partner_id: str) -> dict[str, Any]:  # noqa: ANN001
    agreement = await h.get_agreement(deps(runtime), partner_id)
    return h.endpoint_view(endpoint, _now(runtime), agreement)


# ---------------------------------------------------------------------------------- catalogue


@router.get("/event-types", tags=["partners"])
async def event_types(p: PrincipalDep) -> list[dict[str, Any]]:
    """Every event type partners can receive, with its fields and which of them are personal."""
    out = []
    for event_type, cls in catalogue.partner_event_types().items():
        out.append({"type": event_type, "label": catalogue.label(event_type), "topic": cls.topic, "key": cls.key,
                    "fields": list(cls.model_fields), "personal": sorted(privacy.personal_fields(cls))})
    return out


# ---------------------------------------------------------------------------------- partners


@router.get("/partners", tags=["partners"])
async def partners(p: PrincipalDep, runtime: RuntimeDep) -> list[dict[str, Any]]:
    if p.is_partner:
        authorize(p, "webhook.read", partner_id=p.partner_id)
        return [x for x in await h.list_partners(deps(runtime)) if x["partner_id"] == p.partner_id]
    authorize(p, "webhook.read")
    return await h.list_partners(deps(runtime))


@router.get("/partners/{partner_id}", tags=["partners"])
async def partner(partner_id: str, p: PrincipalDep, runtime: RuntimeDep) -> dict[str, Any]:
    authorize(p, "webhook.read", partner_id=partner_id)
    d = deps(runtime)
    out = await h.get_partner(d, partner_id)
    agreement = await h.get_agreement(d, partner_id)
    out["agreement"] = view(agreement)
    out["endpoints"] = [h.endpoint_view(e, d.clock(), agreement) for e in await h.list_endpoints(d, partner_id)]
    return out


@router.get("/partners/{partner_id}/agreement", tags=["agreements"])
async def get_agreement(partner_id: str, p: PrincipalDep, runtime: RuntimeDep) -> dict[str, Any]:
    authorize(p, "webhook.read", partner_id=partner_id)
    await h.get_partner(deps(runtime), partner_id)
    return view(await h.get_agreement(deps(runtime), partner_id))


@router.put("/partners/{partner_id}/agreement", tags=["agreements"])
async def put_agreement(partner_id: str, body: AgreementIn, p: PrincipalDep, runtime: RuntimeDep) -> dict[str, Any]:
    authorize(p, "agreement.manage", partner_id=partner_id)
    agreement = await h.set_agreement(deps(runtime), partner_id, event_types=body.event_types, fields=body.fields,
                                      personal_data=body.personal_data, filters=list(body.filters),
                                      version=body.version, by=p.account_id)
    return view(agreement)


# ---------------------------------------------------------------------------------- endpoints


@router.get("/partners/{partner_id}/endpoints", tags=["endpoints"])
async def endpoints(partner_id: str, p: PrincipalDep, runtime: RuntimeDep) -> list[dict[str, Any]]:
    authorize(p, "webhook.read", partner_id=partner_id)
    d = deps(runtime)
    agreement = await h.get_agreement(d, partner_id)
    return [h.endpoint_view(e, d.clock(), agreement) for e in await h.list_endpoints(d, partner_id)]


@router.post("/partners/{partner_id}/endpoints", status_code=201, tags=["endpoints"])
async def register(partner_id: str, body: EndpointIn, p: PrincipalDep, runtime: RuntimeDep) -> dict[str, Any]:
    """The answer holds the signing secret: it is shown this once and never again."""
    authorize(p, "webhook.manage", partner_id=partner_id)
    endpoint, secret = await h.register_endpoint(
        deps(runtime), partner_id, url=body.url, description=body.description, event_types=body.event_types,
        states=body.states, topics=body.topics, by=p.account_id)
    return {**await _endpoint_out(runtime, endpoint, partner_id), "secret": secret}


@router.get("/partners/{partner_id}/endpoints/{endpoint_id}", tags=["endpoints"])
async def endpoint(partner_id: str, endpoint_id: str, p: PrincipalDep, runtime: RuntimeDep) -> dict[str, Any]:
    authorize(p, "webhook.read", partner_id=partner_id)
    return await _endpoint_out(runtime, await h.load_endpoint(deps(runtime), partner_id, endpoint_id), partner_id)


@router.patch("/partners/{partner_id}/endpoints/{endpoint_id}", tags=["endpoints"])
async def change(partner_id: str, endpoint_id: str, body: EndpointPatch, p: PrincipalDep,
                 runtime: RuntimeDep) -> dict[str, Any]:
    authorize(p, "webhook.manage", partner_id=partner_id)
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    saved = await h.update_endpoint(deps(runtime), partner_id, endpoint_id, changes=changes, version=body.version)
    return await _endpoint_out(runtime, saved, partner_id)


@router.delete("/partners/{partner_id}/endpoints/{endpoint_id}", status_code=204, tags=["endpoints"])
async def remove(partner_id: str, endpoint_id: str, p: PrincipalDep, runtime: RuntimeDep) -> None:
    authorize(p, "webhook.manage", partner_id=partner_id)
    await h.remove_endpoint(deps(runtime), partner_id, endpoint_id)


@router.post("/partners/{partner_id}/endpoints/{endpoint_id}/secret/rotate", tags=["endpoints"])
async def rotate(partner_id: str, endpoint_id: str, p: PrincipalDep, runtime: RuntimeDep,
                 body: RotateIn | None = None) -> dict[str, Any]:
    """A new secret (shown once); the previous one keeps signing beside it for ``grace_hours``."""
    authorize(p, "webhook.manage", partner_id=partner_id)
    endpoint, secret, until = await h.rotate_secret(deps(runtime), partner_id, endpoint_id,
                                                    grace_hours=body.grace_hours if body else None)
    return {**await _endpoint_out(runtime, endpoint, partner_id), "secret": secret, "previous_secret_until": until}


@router.post("/partners/{partner_id}/endpoints/{endpoint_id}/test", status_code=202, tags=["deliveries"])
async def test_event(partner_id: str, endpoint_id: str, p: PrincipalDep, runtime: RuntimeDep) -> dict[str, Any]:
    authorize(p, "webhook.manage", partner_id=partner_id)
    return repo.delivery_view(await h.send_test(deps(runtime), partner_id, endpoint_id, by=p.account_id))


@router.post("/partners/{partner_id}/endpoints/{endpoint_id}/replay", status_code=202, tags=["deliveries"])
async def replay_since(partner_id: str, endpoint_id: str, body: ReplayIn, p: PrincipalDep,
                       runtime: RuntimeDep) -> dict[str, Any]:
    authorize(p, "webhook.manage", partner_id=partner_id)
    return {"queued": await h.replay_since(deps(runtime), partner_id, endpoint_id, body.since)}


# ---------------------------------------------------------------------------------- the delivery log


@router.get("/partners/{partner_id}/endpoints/{endpoint_id}/deliveries", tags=["deliveries"])
async def deliveries(partner_id: str, endpoint_id: str, p: PrincipalDep, runtime: RuntimeDep,
                     state: Literal["pending", "sending", "succeeded", "failed", "cancelled"] | None = None,
                     limit: Annotated[int, Query(ge=1, le=200)] = 50,
                     before: AwareDatetime | None = None) -> dict[str, Any]:
    """Newest first; ``next_before`` pages on (pass it as ``before``)."""
    authorize(p, "webhook.read", partner_id=partner_id)
    docs = await h.list_deliveries(deps(runtime), partner_id, endpoint_id, state=state, limit=limit, before=before)
    items = [{**repo.delivery_view(d), "label": catalogue.label(d["event_type"])} for d in docs]
    return {"items": items, "next_before": docs[-1]["created_at"] if len(docs) == limit else None}


@router.get("/partners/{partner_id}/deliveries/{delivery_id}", tags=["deliveries"])
async def delivery(partner_id: str, delivery_id: str, p: PrincipalDep, runtime: RuntimeDep) -> dict[str, Any]:
    authorize(p, "webhook.read", partner_id=partner_id)
    doc, attempts = await h.get_delivery(deps(runtime), partner_id, delivery_id)
    return {**repo.delivery_view(doc), "label": catalogue.label(doc["event_type"]),
            "attempt_log": [repo.attempt_view(a) for a in attempts]}


@router.post("/partners/{partner_id}/deliveries/{delivery_id}/replay", status_code=202, tags=["deliveries"])
async def replay(partner_id: str, delivery_id: str, p: PrincipalDep, runtime: RuntimeDep) -> dict[str, Any]:
    authorize(p, "webhook.manage", partner_id=partner_id)
    return repo.delivery_view(await h.replay(deps(runtime), partner_id, delivery_id))
