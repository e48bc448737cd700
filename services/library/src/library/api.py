"""HTTP routes: parse → use case → response. Errors are problem details naming the field (kit handlers)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Header, Query, Response
from pydantic import BaseModel, Field

from nrn_contracts.values import MultiLine, SingleLine, Version
from nrn_kit.app import Runtime, get_runtime
from nrn_kit.auth import Principal, authorize, principal_dependency
from nrn_kit.http import DomainError
from nrn_kit.idempotency import IDEMPOTENT

from . import handlers
from .adapters import ASKED, PROGRAMS, RESOURCES
from .adapters import repository as repo
from .adapters.search_sync import rebuild
from .adapters import REVIEWS, SYNONYMS
from .domain.clearinghouse import (
    CityProfile, HelpKind, Program, ProgramContent, ProgramFilter, eligibility_reasons, filter_programs, is_open,
    limits, next_deadline,
)
from .domain.errors import InvalidInput, NotFound, SearchRefused
from .domain.resources import Change, Resource, ResourceContent
from .domain.review import REASON_MAX, Review, ReviewStatus
from .domain.synonyms import SynonymGroup, SynonymPhrases
from .domain.taxonomy import AGENCIES, AUDIENCES, RESOURCE_TYPES, STATUSES, TOPICS
from .search.documents import from_program, from_resource
from .search.index import (
    MAX_PAGE, MAX_PAGE_SIZE, Correction, EngineRefused, Expansion, Hit, SearchIndex, SearchPage, SearchRequest, Year,
)
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


VERSION_MAX = 2**31 - 1  # versions count edits; a number past 64 bits could not even be looked up


def expected_version(if_match: str | None, body_version: int | None = None) -> int:
    raw = if_match
    if raw is None and body_version is not None:
        if not 0 <= body_version <= VERSION_MAX:
            raise InvalidInput(f"version must be between 0 and {VERSION_MAX}", field="version")
        return body_version
    if raw is None:
        raise DomainError("send the version you are changing in an If-Match header", field="If-Match", status=428,
                          code="precondition-required", title="Precondition required")
    raw = raw.strip().removeprefix("W/").strip('"')
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput("If-Match must be the resource's version number", field="If-Match") from None
    if not 0 <= value <= VERSION_MAX:
        raise InvalidInput(f"If-Match must be a version between 0 and {VERSION_MAX}", field="If-Match")
    return value


async def _index_now(rt: Runtime, docs: list) -> None:
    """Read-your-writes on this replica; the change stream brings the same change to every other one."""
    await asyncio.to_thread(index_of(rt).upsert, docs)


# ------------------------------------------------------------------------------------------- search


@router.get("/search", response_model=SearchPage, tags=["search"])
async def search(
    rt: RuntimeDep,
    principal: OptionalPrincipal,
    q: Annotated[MultiLine, Query(max_length=10_000)] = "",
    type: Annotated[list[SingleLine], Query(max_length=20)] = [],  # noqa: A002, B006
    topic: Annotated[list[SingleLine], Query(max_length=20)] = [],  # noqa: B006
    source: Annotated[list[SingleLine], Query(max_length=20)] = [],  # noqa: B006
    agency: Annotated[list[SingleLine], Query(max_length=20)] = [],  # noqa: B006
    year: Annotated[list[Year], Query(max_length=50)] = [],  # noqa: B006 - bounded: 2**63 was a 500
    kind: Literal["resource", "program"] | None = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 10,
    sort: Literal["relevance", "newest"] = "relevance",
    include_unpublished: bool = False,
    facets: bool = True,
    snippets: bool = True,
    spell: bool = True,
) -> SearchPage:
    req = SearchRequest(q=q, type=type, topic=topic, source=source, agency=agency, year=year, kind=kind, page=page,
                        page_size=page_size, sort=sort, include_unpublished=include_unpublished, facets=facets,
                        snippets=snippets, spell=spell)
    return await run_search(rt, req, viewer_of(principal))


async def run_search(rt: Runtime, req: SearchRequest, viewer: Viewer) -> SearchPage:
    """The search, off the event loop; an engine that refuses even the plain query is a 422 naming `q`."""
    try:
        return await asyncio.to_thread(index_of(rt).search, req, viewer)
    except EngineRefused:
        raise SearchRefused("this search could not be run; try fewer or simpler words", field="q") from None


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
    text: MultiLine = Field(max_length=20_000)
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
                                q: Annotated[MultiLine, Query(max_length=20_000)] = "",
                                topic: Annotated[SingleLine | None, Query(max_length=64)] = None,
                                limit: Annotated[int, Query(ge=1, le=20)] = 5) -> SimilarOut:
    """The same look-up as POST /similar-questions, for callers that send the draft as `q`
    (requests311 asks this way); `topic` narrows to answers of that topic."""
    out = await similar_questions(SimilarIn(text=q, limit=20 if topic else limit), rt, principal)
    if topic:
        out.items = [h for h in out.items if topic in h.topics][:limit]
    return out


class HelpfulIn(BaseModel):
    resource_id: SingleLine = Field(min_length=1, max_length=128)


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
    # curators: the name of each account id in `history` (people are shown by name, never by id)
    actors: dict[str, str] | None = None


SYSTEM_ACTORS = {"system:requests311": "311 for Cities (automatic)", "system:engagements": "Direct assistance "
                 "(automatic)", "system:peer": "Peer network (automatic)", "system:library": "The library (automatic)"}


async def actor_names(rt: Runtime, ids: set[str]) -> dict[str, str]:
    """Account id → the person's name (or what a system actor is); never the id itself."""
    names = await repo.names_of(rt.db, ids)
    return {i: names.get(i) or SYSTEM_ACTORS.get(i) or "an NRN staff member" for i in ids if i}


def resource_out(r: Resource, viewer: Viewer, response: Response | None = None,
                 actors: dict[str, str] | None = None) -> ResourceOut:
    if response is not None:
        response.headers["ETag"] = f'"{r.version}"'
    curator = viewer.can_curate
    return ResourceOut(resource_id=r.resource_id, content=r.content, status=r.status, version=r.version,
                       created_at=r.created_at, updated_at=r.updated_at, published_at=r.published_at,
                       origin=r.origin if curator else None, history=r.history if curator else None,
                       actors=actors if curator else None)


async def curator_view(rt: Runtime, r: Resource, viewer: Viewer, response: Response | None = None) -> ResourceOut:
    actors = await actor_names(rt, {h.by for h in r.history}) if viewer.can_curate else None
    return resource_out(r, viewer, response, actors)


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


class ProgramSearch(BaseModel):
    """How a keyword search of the clearinghouse was run (corrections and synonyms, as in /search)."""

    searched: str
    corrections: list[Correction] = Field(default_factory=list)
    expansions: list[Expansion] = Field(default_factory=list)


class ProgramPage(Page):
    search: ProgramSearch | None = None


@router.get("/resources", response_model=Page, tags=["resources"])
async def list_resources(
    rt: RuntimeDep, principal: RequiredPrincipal,
    status: Literal["draft", "in_review", "published", "archived"] | None = None,
    type: SingleLine | None = None,  # noqa: A002
    topic: SingleLine | None = None,
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
    return await curator_view(rt, r, viewer, response)


@router.get("/resources/{resource_id}", response_model=ResourceOut, response_model_exclude_none=True,
            tags=["resources"])
async def get_resource(resource_id: str, rt: RuntimeDep, principal: OptionalPrincipal,
                       response: Response) -> ResourceOut:
    viewer = viewer_of(principal)
    r = await repo.get_resource(rt.db, resource_id)
    if r is None or not _visible(r, viewer):
        raise NotFound(f"no resource {resource_id!r}", field="resource_id")
    return await curator_view(rt, r, viewer, response)


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
    return await curator_view(rt, r, viewer, response)


class NoteIn(BaseModel):
    note: MultiLine | None = Field(default=None, max_length=2_000)
    version: Version | None = None


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
    return await curator_view(rt, r, viewer, response)


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


# ------------------------------------------------------------------------------------------- review queue


class ReviewOut(Review):
    # the name of each account id in `history` and `decided_by` (never shown as an id)
    actors: dict[str, str] = Field(default_factory=dict)


async def review_out(rt: Runtime, r: Review, response: Response | None = None) -> ReviewOut:
    if response is not None:
        response.headers["ETag"] = f'"{r.version}"'
    ids = {h.by for h in r.history} | ({r.decided_by} if r.decided_by else set())
    return ReviewOut(**r.model_dump(), actors=await actor_names(rt, ids))


@router.get("/reviews", response_model=Page, tags=["review queue"])
async def list_reviews(rt: RuntimeDep, principal: RequiredPrincipal, status: ReviewStatus = "pending",
                       page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
                       page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20) -> Page:
    """What waits for a curator before it may join the public record (oldest first), or what was decided
    (newest first)."""
    _curator(principal)
    coll = rt.db[REVIEWS]
    flt = {"status": status}
    total = await coll.count_documents(flt)
    order = 1 if status == "pending" else -1
    cursor = coll.find(flt).sort("updated_at", order).skip((page - 1) * page_size).limit(page_size)
    items = [await review_out(rt, repo.review_from_doc(d)) async for d in cursor]
    return Page(total=total, page=page, page_size=page_size, items=items)


@router.get("/reviews/{review_id}", response_model=ReviewOut, tags=["review queue"])
async def get_review(review_id: str, rt: RuntimeDep, principal: RequiredPrincipal, response: Response) -> ReviewOut:
    _curator(principal)
    return await review_out(rt, await repo.require_review(rt.db, review_id), response)


@router.patch("/reviews/{review_id}", response_model=ReviewOut, tags=["review queue"])
async def edit_review(review_id: str, rt: RuntimeDep, principal: RequiredPrincipal, response: Response,
                      changes: Annotated[dict[str, Any], Body()],
                      if_match: Annotated[str | None, Header()] = None) -> ReviewOut:
    """Edit the text that will be published (title, question, summary, body, tags) before approving it."""
    _curator(principal)
    body_version = changes.pop("version", None)
    version = expected_version(if_match, body_version if isinstance(body_version, int) else None)
    r = await handlers.edit_review(rt.store, review_id, changes, by=principal.account_id, expected_version=version)
    return await review_out(rt, r, response)


class DecisionIn(BaseModel):
    reason: MultiLine | None = Field(default=None, max_length=REASON_MAX)
    version: Version | None = None


@router.post("/reviews/{review_id}/{decision}", response_model=ReviewOut, tags=["review queue"])
async def decide_review(review_id: str, decision: Literal["approve", "reject"], rt: RuntimeDep,
                        principal: RequiredPrincipal, response: Response,
                        body: Annotated[DecisionIn | None, Body()] = None,
                        if_match: Annotated[str | None, Header()] = None) -> ReviewOut:
    """Approve: the reviewed text is published and announced. Reject: nothing is published."""
    _curator(principal)
    version = expected_version(if_match, body.version if body else None)
    r, resource = await handlers.decide_review(rt.store, review_id, approve=decision == "approve",
                                               by=principal.account_id, expected_version=version,
                                               reason=body.reason if body else None)
    if resource is not None:
        await _index_now(rt, [from_resource(resource)])
    return await review_out(rt, r, response)


# ------------------------------------------------------------------------------------------- synonyms


class SynonymsOut(BaseModel):
    items: list[SynonymGroup]


@router.get("/synonyms", response_model=SynonymsOut, tags=["search"])
async def list_synonyms(rt: RuntimeDep) -> SynonymsOut:
    """The curated synonym groups that searches use (public: the search page says when one widened a query)."""
    docs = [SynonymGroup.model_validate(d) async for d in rt.db[SYNONYMS].find({}).sort("updated_at", -1)]
    return SynonymsOut(items=docs)


class SynonymsIn(SynonymPhrases):
    version: Version | None = None


@router.post("/synonyms", response_model=SynonymGroup, status_code=201, tags=["search"])
async def create_synonyms(body: SynonymPhrases, rt: RuntimeDep, principal: RequiredPrincipal) -> SynonymGroup:
    _curator(principal)
    return await handlers.save_synonyms(rt.store, None, body, by=principal.account_id, expected_version=None)


@router.put("/synonyms/{group_id}", response_model=SynonymGroup, tags=["search"])
async def replace_synonyms(group_id: str, body: SynonymsIn, rt: RuntimeDep, principal: RequiredPrincipal,
                           if_match: Annotated[str | None, Header()] = None) -> SynonymGroup:
    _curator(principal)
    version = expected_version(if_match, body.version)
    return await handlers.save_synonyms(rt.store, group_id, SynonymPhrases(phrases=body.phrases),
                                        by=principal.account_id, expected_version=version)


@router.delete("/synonyms/{group_id}", status_code=204, tags=["search"])
async def delete_synonyms(group_id: str, rt: RuntimeDep, principal: RequiredPrincipal) -> Response:
    _curator(principal)
    await handlers.delete_synonyms(rt.store, group_id)
    return Response(status_code=204)


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
    # why a city may not qualify, in plain sentences (empty: any city may apply)
    limits: list[str] = Field(default_factory=list)
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
                       limits=limits(p.content), eligibility=elig)


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


@router.get("/clearinghouse/programs", response_model=ProgramPage, tags=["clearinghouse"])
async def list_programs(
    rt: RuntimeDep, principal: OptionalPrincipal,
    q: Annotated[MultiLine, Query(max_length=10_000)] = "",
    agency: Annotated[list[SingleLine], Query(max_length=20)] = [],  # noqa: B006
    topic: Annotated[list[SingleLine], Query(max_length=20)] = [],  # noqa: B006
    help: Annotated[list[SingleLine], Query(max_length=20)] = [],  # noqa: A002, B006
    open_only: bool = False,
    eligible_for: Annotated[SingleLine | None, Query(max_length=128)] = None,
    include_inactive: bool = False,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
) -> ProgramPage:
    """Programmes by filters, soonest deadline first; with `q`, those matching the keywords, best match first
    (the same ranked search as /search, corrections and synonyms included)."""
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
    how = None
    if q.strip():
        ranked, how = await _program_matches(rt, q, viewer_of(principal), include_inactive)
        chosen = sorted((p for p in chosen if p.program_id in ranked), key=lambda p: ranked[p.program_id])
    start = (page - 1) * page_size
    items = [program_view(p, today=today, city=city) for p in chosen[start:start + page_size]]
    return ProgramPage(total=len(chosen), page=page, page_size=page_size, items=items, search=how)


async def _program_matches(rt: Runtime, q: str, viewer: Viewer,
                           include_inactive: bool) -> tuple[dict[str, int], ProgramSearch]:
    """Programme id → rank for every programme matching `q` (the clearinghouse is small: a few pages at most)."""
    ranked: dict[str, int] = {}
    how = None
    for page in range(1, MAX_PAGE + 1):
        res = await run_search(rt, SearchRequest(q=q, kind="program", page=page, page_size=MAX_PAGE_SIZE,
                                                 facets=False, snippets=False,
                                                 include_unpublished=include_inactive), viewer)
        how = how or ProgramSearch(searched=res.searched, corrections=res.corrections, expansions=res.expansions)
        for h in res.hits:
            ranked.setdefault(h.id, len(ranked))
        if page * MAX_PAGE_SIZE >= res.total:
            break
    return ranked, how or ProgramSearch(searched=q)


@router.get("/clearinghouse/programs/{program_id}", response_model=ProgramView, tags=["clearinghouse"])
async def get_program(program_id: str, rt: RuntimeDep, principal: OptionalPrincipal, response: Response,
                      city_id: Annotated[SingleLine | None, Query(max_length=128)] = None) -> ProgramView:
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
