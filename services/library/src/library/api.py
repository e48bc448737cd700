"""HTTP routes: parse → use case → response. Errors are problem details naming the field (kit handlers)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Header, Query, Response
from pydantic import BaseModel, Field

from nrn_kit.app import Runtime, get_runtime
from nrn_kit.auth import Principal, authorize, principal_dependency
from nrn_kit.http import DomainError
from nrn_kit.idempotency import IDEMPOTENT

from . import handlers
from .adapters import ASKED, PROGRAMS, RESOURCES
from .adapters import repository as repo
from .adapters.search_sync import rebuild
from .domain.clearinghouse import (
    CityProfile, HelpKind, Program, ProgramContent, ProgramFilter, eligibility_reasons, filter_programs, is_open,
    next_deadline,
)
from .domain.errors import InvalidInput, NotFound
from .domain.resources import Change, Resource, ResourceContent
from .domain.taxonomy import AGENCIES, AUDIENCES, RESOURCE_TYPES, STATUSES, TOPICS
from .search.documents import from_program, from_resource
from .search.index import MAX_PAGE, MAX_PAGE_SIZE, Hit, SearchIndex, SearchPage, SearchRequest
from .search.visibility import ANONYMOUS, Viewer

# Every command honours Idempotency-Key (safe methods pass through the dependency).
router = APIRouter(dependencies=[IDEMPOTENT])

_verifier = lambda request: request.app.state.runtime.verifier  # noqa: E731
OptionalPrincipal = Annotated[Principal | None, Depends(principal_dependency(_verifier, optional=True))]
RequiredPrincipal = Annotated[Principal, Depends(principal_dependency(_verifier))]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]

_KINDS = {"official": "official", "staff": "staff", "partner_member": "partner"}


def viewer_of(p: Principal | None) -> Viewer:
    if p is None:
        return ANONYMOUS
    return Viewer(kind=_KINDS.get(p.kind, "anonymous"), roles=p.roles, account_id=p.account_id, city_id=p.city_id,
                  verified=p.verified)


def index_of(rt: Runtime) -> SearchIndex:
    return rt.state["search"]


def expected_version(if_match: str | None, body_version: int | None = None) -> int:
    raw = if_match
    if raw is None and body_version is not None:
        return body_version
    if raw is None:
        raise DomainError("send the version you are changing in an If-Match header", field="If-Match", status=428,
                          code="precondition-required", title="Precondition required")
    raw = raw.strip().removeprefix("W/").strip('"')
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput("If-Match must be the resource's version number", field="If-Match") from None


async def _index_now(rt: Runtime, docs: list) -> None:
    """Read-your-writes on this replica; the change stream brings the same change to every other one."""
    await asyncio.to_thread(index_of(rt).upsert, docs)


# ------------------------------------------------------------------------------------------- search


@router.get("/search", response_model=SearchPage, tags=["search"])
async def search(
    rt: RuntimeDep,
    principal: OptionalPrincipal,
    q: Annotated[str, Query(max_length=10_000)] = "",
    type: Annotated[list[str], Query(max_length=20)] = [],  # noqa: A002, B006
    topic: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006
    source: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006
    agency: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006
    year: Annotated[list[int], Query(max_length=50)] = [],  # noqa: B006
    kind: Literal["resource", "program"] | None = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 10,
    sort: Literal["relevance", "newest"] = "relevance",
    include_unpublished: bool = False,
    facets: bool = True,
    snippets: bool = True,
) -> SearchPage:
    req = SearchRequest(q=q, type=type, topic=topic, source=source, agency=agency, year=year, kind=kind, page=page,
                        page_size=page_size, sort=sort, include_unpublished=include_unpublished, facets=facets,
                        snippets=snippets)
    return await asyncio.to_thread(index_of(rt).search, req, viewer_of(principal))


class ItemsOut(BaseModel):
    items: list[Hit]


@router.get("/items/{item_id}/related", response_model=ItemsOut, tags=["search"])
async def related(item_id: str, rt: RuntimeDep, principal: OptionalPrincipal,
                  limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 5) -> ItemsOut:
    items = await asyncio.to_thread(index_of(rt).related, item_id, viewer_of(principal), limit=limit)
    if items is None:
        raise NotFound(f"no visible item {item_id!r}", field="item_id")
    return ItemsOut(items=items)


class SimilarIn(BaseModel):
    text: str = Field(max_length=20_000)
    limit: int = Field(default=5, ge=1, le=20)


class SimilarOut(BaseModel):
    search_id: str | None
    items: list[Hit]


@router.post("/similar-questions", response_model=SimilarOut, tags=["search"])
async def similar_questions(body: SimilarIn, rt: RuntimeDep, principal: OptionalPrincipal) -> SimilarOut:
    viewer = viewer_of(principal)
    items = await asyncio.to_thread(index_of(rt).similar_questions, body.text, viewer, limit=body.limit)
    search_id = None
    if principal is not None and principal.is_official and principal.verified and principal.city_id:
        search_id = await handlers.record_similar_search(rt.store, official_id=principal.account_id,
                                                         city_id=principal.city_id, text=body.text,
                                                         result_ids=[h.id for h in items])
    return SimilarOut(search_id=search_id, items=items)


@router.get("/questions/similar", response_model=SimilarOut, tags=["search"])
async def similar_questions_get(rt: RuntimeDep, principal: OptionalPrincipal,
                                q: Annotated[str, Query(max_length=20_000)] = "",
                                topic: Annotated[str | None, Query(max_length=64)] = None,
                                limit: Annotated[int, Query(ge=1, le=20)] = 5) -> SimilarOut:
    """The same look-up as POST /similar-questions, for callers that send the draft as `q`
    (requests311 asks this way); `topic` narrows to answers of that topic."""
    out = await similar_questions(SimilarIn(text=q, limit=20 if topic else limit), rt, principal)
    if topic:
        out.items = [h for h in out.items if topic in h.topics][:limit]
    return out


class HelpfulIn(BaseModel):
    resource_id: str = Field(min_length=1, max_length=128)


@router.post("/similar-questions/{search_id}/helpful", tags=["search"])
async def answer_helped(search_id: str, body: HelpfulIn, rt: RuntimeDep, principal: RequiredPrincipal,
                        response: Response) -> dict[str, bool]:
    if not (principal.is_official and principal.verified):
        raise DomainError("only a verified official can say an answer helped", field="Authorization", status=403,
                          code="forbidden", title="Forbidden")
    recorded = await handlers.record_answer_helpful(rt.store, search_id, body.resource_id,
                                                    official_id=principal.account_id)
    response.status_code = 201 if recorded else 200
    return {"recorded": recorded}


@router.get("/taxonomy", tags=["meta"])
async def taxonomy() -> dict[str, list[str]]:
    from typing import get_args

    return {"topics": list(TOPICS), "resource_types": list(RESOURCE_TYPES), "agencies": list(AGENCIES),
            "help_kinds": list(get_args(HelpKind)), "statuses": list(STATUSES), "audiences": list(AUDIENCES)}


# ------------------------------------------------------------------------------------------- resources


class ResourceOut(BaseModel):
    resource_id: str
    content: ResourceContent
    status: str
    version: int
    created_at: Any
    updated_at: Any
    published_at: Any | None = None
    origin: dict[str, str] | None = None
    history: list[Change] | None = None


def resource_out(r: Resource, viewer: Viewer, response: Response | None = None) -> ResourceOut:
    if response is not None:
        response.headers["ETag"] = f'"{r.version}"'
    curator = viewer.can_curate
    return ResourceOut(resource_id=r.resource_id, content=r.content, status=r.status, version=r.version,
                       created_at=r.created_at, updated_at=r.updated_at, published_at=r.published_at,
                       origin=r.origin if curator else None, history=r.history if curator else None)


def _visible(r: Resource, viewer: Viewer) -> bool:
    if viewer.can_curate:
        return True
    return r.status == "published" and r.content.audience in viewer.audiences


def _curator(principal: Principal) -> Viewer:
    authorize(principal, "library.curate")
    return viewer_of(principal)


class Page(BaseModel):
    total: int
    page: int
    page_size: int
    items: list[Any]


@router.get("/resources", response_model=Page, tags=["resources"])
async def list_resources(
    rt: RuntimeDep, principal: RequiredPrincipal,
    status: Literal["draft", "in_review", "published", "archived"] | None = None,
    type: str | None = None,  # noqa: A002
    topic: str | None = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
) -> Page:
    viewer = _curator(principal)
    flt: dict[str, Any] = {}
    if status:
        flt["status"] = status
    if type:
        flt["content.type"] = type
    if topic:
        flt["content.topics"] = topic
    coll = rt.db[RESOURCES]
    total = await coll.count_documents(flt)
    cursor = coll.find(flt).sort("updated_at", -1).skip((page - 1) * page_size).limit(page_size)
    items = [resource_out(repo.resource_from_doc(d), viewer) async for d in cursor]
    return Page(total=total, page=page, page_size=page_size, items=items)


@router.post("/resources", response_model=ResourceOut, status_code=201, tags=["resources"])
async def create_resource(content: ResourceContent, rt: RuntimeDep, principal: RequiredPrincipal,
                          response: Response) -> ResourceOut:
    viewer = _curator(principal)
    r = await handlers.create_resource(rt.store, content, by=principal.account_id)
    await _index_now(rt, [from_resource(r)])
    return resource_out(r, viewer, response)


@router.get("/resources/{resource_id}", response_model=ResourceOut, response_model_exclude_none=True,
            tags=["resources"])
async def get_resource(resource_id: str, rt: RuntimeDep, principal: OptionalPrincipal,
                       response: Response) -> ResourceOut:
    viewer = viewer_of(principal)
    r = await repo.get_resource(rt.db, resource_id)
    if r is None or not _visible(r, viewer):
        raise NotFound(f"no resource {resource_id!r}", field="resource_id")
    return resource_out(r, viewer, response)


@router.get("/resources/{resource_id}/history", response_model=list[Change], tags=["resources"])
async def resource_history(resource_id: str, rt: RuntimeDep, principal: RequiredPrincipal) -> list[Change]:
    _curator(principal)
    return (await repo.require_resource(rt.db, resource_id)).history


@router.patch("/resources/{resource_id}", response_model=ResourceOut, tags=["resources"])
async def edit_resource(resource_id: str, rt: RuntimeDep, principal: RequiredPrincipal, response: Response,
                        changes: Annotated[dict[str, Any], Body()],
                        if_match: Annotated[str | None, Header()] = None) -> ResourceOut:
    viewer = _curator(principal)
    body_version = changes.pop("version", None)
    version = expected_version(if_match, body_version if isinstance(body_version, int) else None)
    r = await handlers.edit_resource(rt.store, resource_id, changes, by=principal.account_id,
                                     expected_version=version)
    await _index_now(rt, [from_resource(r)])
    return resource_out(r, viewer, response)


class NoteIn(BaseModel):
    note: str | None = Field(default=None, max_length=2_000)
    version: int | None = None


@router.post("/resources/{resource_id}/{action}", response_model=ResourceOut, tags=["resources"])
async def transition(resource_id: str, action: Literal["submit", "return", "publish", "archive", "restore"],
                     rt: RuntimeDep, principal: RequiredPrincipal, response: Response,
                     body: Annotated[NoteIn | None, Body()] = None,
                     if_match: Annotated[str | None, Header()] = None) -> ResourceOut:
    viewer = _curator(principal)
    version = expected_version(if_match, body.version if body else None)
    r = await handlers.transition_resource(rt.store, resource_id, action, by=principal.account_id,
                                           expected_version=version, note=body.note if body else None)
    await _index_now(rt, [from_resource(r)])
    return resource_out(r, viewer, response)


@router.get("/answers/{request_id}", response_model=ResourceOut, response_model_exclude_none=True,
            tags=["resources"])
async def answered_question(request_id: str, rt: RuntimeDep, principal: OptionalPrincipal,
                            response: Response) -> ResourceOut:
    r = await repo.get_resource(rt.db, f"qa-{request_id}")
    if r is None or r.status != "published":
        raise NotFound(f"no published answer for request {request_id!r}", field="request_id")
    return resource_out(r, viewer_of(principal), response)


@router.get("/questions/asked/{request_id}", tags=["resources"])
async def asked_question(request_id: str, rt: RuntimeDep, principal: RequiredPrincipal) -> dict[str, Any]:
    if not (principal.is_staff and principal.verified):
        raise DomainError("staff only", field="Authorization", status=403, code="forbidden", title="Forbidden")
    d = await rt.db[ASKED].find_one({"_id": request_id})
    if d is None:
        raise NotFound(f"no asked question {request_id!r}", field="request_id")
    d.pop("_id", None)
    return d


# ------------------------------------------------------------------------------------------- clearinghouse


class ProgramView(BaseModel):
    program_id: str
    content: ProgramContent
    active: bool
    version: int
    created_at: Any
    updated_at: Any
    next_deadline: date | None
    open: bool
    eligibility: dict[str, Any] | None = None


def program_view(p: Program, *, today: date, city: CityProfile | None = None,
                 response: Response | None = None) -> ProgramView:
    if response is not None:
        response.headers["ETag"] = f'"{p.version}"'
    elig = None
    if city is not None:
        reasons = eligibility_reasons(p.content, city)
        elig = {"city_id": city.city_id, "eligible": not reasons, "reasons": reasons}
    return ProgramView(program_id=p.program_id, content=p.content, active=p.active, version=p.version,
                       created_at=p.created_at, updated_at=p.updated_at,
                       next_deadline=next_deadline(p.content, today), open=is_open(p.content, today),
                       eligibility=elig)


async def _city_for(rt: Runtime, principal: Principal | None, city_id: str | None, field: str) -> CityProfile | None:
    if not city_id:
        return None
    if city_id == "mine":
        if principal is None or not principal.city_id:
            raise InvalidInput("'mine' needs a signed-in official with a city", field=field)
        city_id = principal.city_id
    city = await repo.get_city(rt.db, city_id)
    if city is None:
        raise NotFound(f"the library has not heard of city {city_id!r}", field=field)
    return city


def _maintainer(principal: Principal) -> None:
    authorize(principal, "clearinghouse.maintain")


@router.get("/clearinghouse/programs", response_model=Page, tags=["clearinghouse"])
async def list_programs(
    rt: RuntimeDep, principal: OptionalPrincipal,
    agency: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006
    topic: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006
    help: Annotated[list[str], Query(max_length=20)] = [],  # noqa: A002, B006
    open_only: bool = False,
    eligible_for: Annotated[str | None, Query(max_length=128)] = None,
    include_inactive: bool = False,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
) -> Page:
    if include_inactive:
        if principal is None:
            raise DomainError("include_inactive is for clearinghouse maintainers", field="include_inactive",
                              status=403, code="forbidden", title="Forbidden")
        _maintainer(principal)
    city = await _city_for(rt, principal, eligible_for, "eligible_for")
    flt = {} if include_inactive else {"active": True}
    programs = [repo.program_from_doc(d) async for d in rt.db[PROGRAMS].find(flt)]
    today = handlers.today()
    chosen = filter_programs(programs, ProgramFilter(agencies=agency, topics=topic, help_given=help,
                                                     open_only=open_only, include_inactive=include_inactive),
                             city=city, today=today)
    start = (page - 1) * page_size
    items = [program_view(p, today=today, city=city) for p in chosen[start:start + page_size]]
    return Page(total=len(chosen), page=page, page_size=page_size, items=items)


@router.get("/clearinghouse/programs/{program_id}", response_model=ProgramView, tags=["clearinghouse"])
async def get_program(program_id: str, rt: RuntimeDep, principal: OptionalPrincipal, response: Response,
                      city_id: Annotated[str | None, Query(max_length=128)] = None) -> ProgramView:
    p = await repo.require_program(rt.db, program_id)
    if not p.active and not (principal is not None and viewer_of(principal).can_curate):
        raise NotFound(f"no programme {program_id!r}", field="program_id")
    city = await _city_for(rt, principal, city_id, "city_id")
    return program_view(p, today=handlers.today(), city=city, response=response)


@router.post("/clearinghouse/programs", response_model=ProgramView, status_code=201, tags=["clearinghouse"])
async def create_program(content: ProgramContent, rt: RuntimeDep, principal: RequiredPrincipal,
                         response: Response) -> ProgramView:
    _maintainer(principal)
    p = await handlers.create_program(rt.store, content, by=principal.account_id)
    await _index_now(rt, [from_program(p)])
    return program_view(p, today=handlers.today(), response=response)


@router.patch("/clearinghouse/programs/{program_id}", response_model=ProgramView, tags=["clearinghouse"])
async def edit_program(program_id: str, rt: RuntimeDep, principal: RequiredPrincipal, response: Response,
                       changes: Annotated[dict[str, Any], Body()],
                       if_match: Annotated[str | None, Header()] = None) -> ProgramView:
    _maintainer(principal)
    body_version = changes.pop("version", None)
    version = expected_version(if_match, body_version if isinstance(body_version, int) else None)
    p = await handlers.edit_program(rt.store, program_id, changes, by=principal.account_id, expected_version=version)
    await _index_now(rt, [from_program(p)])
    return program_view(p, today=handlers.today(), response=response)


@router.delete("/clearinghouse/programs/{program_id}", status_code=204, tags=["clearinghouse"])
async def retire_program(program_id: str, rt: RuntimeDep, principal: RequiredPrincipal) -> Response:
    _maintainer(principal)
    p = await handlers.retire_program(rt.store, program_id, by=principal.account_id)
    await _index_now(rt, [from_program(p)])
    return Response(status_code=204)


# ------------------------------------------------------------------------------------------- operations


@router.post("/admin/search/rebuild", tags=["operations"])
async def rebuild_index(rt: RuntimeDep, principal: RequiredPrincipal) -> dict[str, int]:
    _curator(principal)
    return {"indexed": await rebuild(index_of(rt), rt.db)}
