"""The Peer Health Group's municipal health data — /api/v1/health-data routes with peer's own paths,
checked against the kit's matrix and peer's limits (``gateway.peer_limits``) before the call;
``tests/unit/test_peer_limits.py`` compares them with peer's, route by route.

No ``from __future__ import annotations``: FastAPI reads the body models from real annotations.
"""

from typing import Annotated, Literal

from fastapi import APIRouter, File, Path, Query, Request, UploadFile
from fastapi.responses import Response
from nrn_contracts.values import MultiLine, SingleLine
from pydantic import BaseModel, ConfigDict, Field

from .. import peer_limits as P
from ..deps import ApiUser, Svc, allow, require_city
from ..problems import ProblemError
from .forward import forward

router = APIRouter()
HEALTH = "peer: municipal health data"
PROBLEM = {"content": {"application/problem+json": {}}}
ERRORS = {401: {"description": "not signed in", **PROBLEM}, 403: {"description": "not allowed", **PROBLEM},
          404: {"description": "no such city (or not yours), or its dashboard is not published", **PROBLEM},
          409: {"description": "a rule refused it now; `rule` names it (e.g. nothing_to_publish, no_group)",
                **PROBLEM},
          413: {"description": "the file is too large", **PROBLEM},
          422: {"description": "invalid input; `field` names it", **PROBLEM},
          503: {"description": "the peer service is unavailable", **PROBLEM}}
CityId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$")]
MeasureId = Annotated[str, Path(pattern=P.MEASURE_ID_PATTERN)]
PeerSet = Literal["population_band", "peer_health_group"]
Year = Annotated[int | None, Query(ge=1900, le=2100)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class MeasureBody(Body):
    domain: Literal["health_outcomes", "health_behaviors", "clinical_care", "social_economic", "physical_environment"]
    name: SingleLine = Field(min_length=2, max_length=P.NAME_MAX)
    definition: MultiLine = Field(min_length=10, max_length=P.SUMMARY_MAX)
    unit: SingleLine = Field(min_length=1, max_length=P.UNIT_MAX)
    direction: Literal["higher_is_better", "lower_is_better"]
    source: SingleLine = Field(min_length=2, max_length=P.SOURCE_MAX)
    geography: Literal["city", "county"] = "city"
    lo: float = Field(0.0, ge=-1e9, le=1e9, allow_inf_nan=False)
    hi: float = Field(100.0, ge=-1e9, le=1e9, allow_inf_nan=False)
    decimals: int = Field(1, ge=0, le=4)


class GroupBody(Body):
    group_id: SingleLine = Field(min_length=1, max_length=P.ID_MAX)


class SelectionBody(Body):
    measure_ids: list[Annotated[str, Field(pattern=P.MEASURE_ID_PATTERN)]] = Field(min_length=1,
                                                                                  max_length=P.MEASURE_IDS_MAX)
    note: MultiLine = Field("", max_length=P.COMMENT_MAX)


class PublishBody(Body):
    peer_set: PeerSet = "population_band"


async def _go(request: Request, svc: Svc, user: ApiUser, method: str, path: str, **kw) -> Response:  # noqa: ANN003
    return await forward(request, svc.peer, method, path, principal=user, **kw)


def _json(body: BaseModel) -> dict:
    return body.model_dump(mode="json", exclude_unset=True)


@router.get("/health-data/measures", tags=[HEALTH], summary="The health measures and the ones the dashboards show",
            responses=ERRORS)
async def catalogue(request: Request, user: ApiUser, svc: Svc) -> Response:
    allow(user, "health.catalogue")
    return await _go(request, svc, user, "GET", "/health-data/measures")


@router.put("/health-data/measures/{measure_id}", tags=[HEALTH], summary="Staff define or revise a measure",
            responses=ERRORS)
async def define(request: Request, measure_id: MeasureId, body: MeasureBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "health.manage")
    return await _go(request, svc, user, "PUT", f"/health-data/measures/{measure_id}", json=_json(body))


@router.put("/health-data/group", tags=[HEALTH], summary="Staff name the working group that is the Peer Health Group",
            responses=ERRORS)
async def name_group(request: Request, body: GroupBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "health.manage")
    return await _go(request, svc, user, "PUT", "/health-data/group", json=_json(body))


@router.put("/health-data/selection", tags=[HEALTH], summary="The Peer Health Group chooses the measures shown",
            responses=ERRORS)
async def choose(request: Request, body: SelectionBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "health.choose")
    return await _go(request, svc, user, "PUT", "/health-data/selection", json=_json(body))


@router.post("/health-data/imports", tags=[HEALTH], responses=ERRORS,
             summary="Import values from CSV (multipart `file`: city, state, measure, year, value, source)")
async def import_values(request: Request, user: ApiUser, svc: Svc, file: Annotated[UploadFile, File()]) -> Response:
    allow(user, "health.manage")
    content = await file.read(P.HEALTH_IMPORT_MAX_BYTES + 1)
    if len(content) > P.HEALTH_IMPORT_MAX_BYTES:
        raise ProblemError(413, "Too large", f"file: at most {P.HEALTH_IMPORT_MAX_BYTES // (1024 * 1024)} MiB",
                           field="file")
    files = {"file": (file.filename or "health.csv", content, file.content_type or "text/csv")}
    return await _go(request, svc, user, "POST", "/health-data/imports", files=files,
                     timeout=request.app.state.settings.import_read_timeout)


@router.get("/health-data/imports", tags=[HEALTH], summary="The latest imports that changed something",
            responses=ERRORS)
async def imports(request: Request, user: ApiUser, svc: Svc) -> Response:
    allow(user, "health.manage")
    return await _go(request, svc, user, "GET", "/health-data/imports")


@router.get("/health-data/cities", tags=[HEALTH], summary="Cities with values, and whether each is published",
            responses=ERRORS)
async def cities(request: Request, user: ApiUser, svc: Svc) -> Response:
    allow(user, "health.manage")
    return await _go(request, svc, user, "GET", "/health-data/cities")


@router.get("/health-data/cities/{city_id}/dashboard", tags=[HEALTH], summary="A city's health dashboard",
            responses=ERRORS)
async def dashboard(request: Request, city_id: CityId, user: ApiUser, svc: Svc, peers: PeerSet = "population_band",
                    as_of: Year = None) -> Response:
    require_city(user, city_id)  # another city's: 404, its existence not even confirmed
    allow(user, "health.read", city_id=city_id)
    params = {"peers": peers} | ({"as_of": as_of} if as_of is not None else {})
    return await _go(request, svc, user, "GET", f"/health-data/cities/{city_id}/dashboard", params=params)


@router.get("/health-data/cities/{city_id}/dashboard.csv", tags=[HEALTH], summary="A city's health dashboard as CSV",
            responses=ERRORS)
async def dashboard_csv(request: Request, city_id: CityId, user: ApiUser, svc: Svc,
                        peers: PeerSet = "population_band") -> Response:
    require_city(user, city_id)  # another city's: 404, its existence not even confirmed
    allow(user, "health.read", city_id=city_id)
    return await _go(request, svc, user, "GET", f"/health-data/cities/{city_id}/dashboard.csv", params={"peers": peers})


@router.post("/health-data/cities/{city_id}/publish", tags=[HEALTH], summary="Staff publish a city's dashboard",
             responses=ERRORS)
async def publish(request: Request, city_id: CityId, body: PublishBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "health.manage")
    return await _go(request, svc, user, "POST", f"/health-data/cities/{city_id}/publish", json=_json(body))


@router.get("/health-data/cities/{city_id}/summary", tags=[HEALTH], summary="The Health section of the city dashboard",
            responses=ERRORS)
async def summary(request: Request, city_id: CityId, user: ApiUser, svc: Svc) -> Response:
    require_city(user, city_id)  # another city's: 404, its existence not even confirmed
    allow(user, "health.read", city_id=city_id)
    return await _go(request, svc, user, "GET", f"/health-data/cities/{city_id}/summary")
