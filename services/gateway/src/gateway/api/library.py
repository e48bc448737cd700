"""Library, Q&A record and clearinghouse: /api/v1/library/…, /api/v1/clearinghouse/…

Reads work without a token (anonymous callers see published public items; the library
applies visibility itself); with one, the caller's token travels so officials and staff see
what they may."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import Field

from nrn_contracts.values import MultiLine, SingleLine

from ..auth import Principal
from ..deps import ApiUser, Svc, allow, api_principal_optional
from ..problems import ProblemError
from .. import library_limits as L
from . import models as m
from .forward import forward

router = APIRouter()
LIB, CUR, CH = "library", "staff: curation", "clearinghouse"
Year = Annotated[int, Field(ge=L.YEAR_MIN, le=L.YEAR_MAX)]
PROBLEM = {"content": {"application/problem+json": {}}}
ERRORS = {401: {"description": "not signed in", **PROBLEM}, 403: {"description": "not allowed", **PROBLEM},
          404: {"description": "not found or not visible", **PROBLEM}, 409: {"description": "stale version or rule", **PROBLEM},
          503: {"description": "the library is unavailable", **PROBLEM}}

MaybeUser = Annotated[Principal | None, Depends(api_principal_optional)]
# the library's own query limits (gateway.library_limits): it trims long filter values itself
Many = Annotated[list[SingleLine] | None, Query(max_length=L.SEARCH_FILTER_VALUES_MAX)]
Page = Annotated[int | None, Query(ge=1, le=L.PAGE_MAX)]
PageSize = Annotated[int | None, Query(ge=1, le=L.PAGE_SIZE_MAX)]
Transition = Literal["submit", "return", "publish", "archive", "restore"]


def _multi(**values: Any) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, list):
            out += [(key, v) for v in value]
        elif isinstance(value, bool):
            out.append((key, str(value).lower()))
        else:
            out.append((key, value))
    return out


@router.get("/library/search", tags=[LIB], summary="Search the library, the 311 record and the clearinghouse",
            responses=ERRORS)
async def search(
    request: Request, svc: Svc, user: MaybeUser,
    q: Annotated[MultiLine | None, Query(max_length=L.SEARCH_Q_MAX)] = None,
    type: Many = None, topic: Many = None, source: Many = None, agency: Many = None,
    year: Annotated[list[Year] | None, Query(max_length=L.SEARCH_YEARS_MAX)] = None,
    kind: Literal["resource", "program"] | None = None,
    page: Page = None, page_size: PageSize = None,
    sort: Literal["relevance", "newest"] | None = None,
    include_unpublished: bool | None = None,
    spell: bool | None = None,
) -> Response:
    """Ranked (BM25) with facets (`type`, `topic`, `source`, `agency`, `year`) and highlighted snippets.
    A word the index has never seen is searched as the nearest word it has (`corrections`), curated
    synonyms widen the query (`expansions`); `spell=false` searches exactly the words typed."""
    params = _multi(q=q, type=type, topic=topic, source=source, agency=agency, year=year, kind=kind, page=page,
                    page_size=page_size, sort=sort, include_unpublished=include_unpublished, spell=spell)
    return await forward(request, svc.library, "GET", "/search", principal=user, params=params)


@router.get("/library/taxonomy", tags=[LIB], summary="Topics, resource types, agencies, help kinds")
async def taxonomy(request: Request, svc: Svc) -> Response:
    return await forward(request, svc.library, "GET", "/taxonomy", principal=None)


@router.get("/library/resources/{resource_id}", tags=[LIB], summary="One resource", responses=ERRORS)
async def get_resource(request: Request, resource_id: m.Id, svc: Svc, user: MaybeUser) -> Response:
    return await forward(request, svc.library, "GET", f"/resources/{resource_id}", principal=user)


@router.get("/library/items/{item_id}/related", tags=[LIB], summary="Items like this one", responses=ERRORS)
async def related(request: Request, item_id: m.Id, svc: Svc, user: MaybeUser,
                  limit: Annotated[int | None, Query(ge=1, le=L.RELATED_LIMIT_MAX)] = None) -> Response:
    return await forward(request, svc.library, "GET", f"/items/{item_id}/related", principal=user, params={"limit": limit})


@router.get("/library/answers/{request_id}", tags=[LIB], summary="The published answer of a 311 question", responses=ERRORS)
async def answer(request: Request, request_id: m.Id, svc: Svc, user: MaybeUser) -> Response:
    return await forward(request, svc.library, "GET", f"/answers/{request_id}", principal=user)


@router.post("/library/similar-questions", tags=[LIB], summary="Answered questions like a draft question", responses=ERRORS)
async def similar_questions(request: Request, body: m.SimilarIn, svc: Svc, user: MaybeUser) -> Response:
    return await forward(request, svc.library, "POST", "/similar-questions", principal=user, json=body.out())


@router.post("/library/similar-questions/{search_id}/helpful", tags=[LIB],
             summary="Say a similar answer answered the question", responses=ERRORS)
async def helpful(request: Request, search_id: m.Id, body: m.HelpfulIn, svc: Svc, user: ApiUser) -> Response:
    return await forward(request, svc.library, "POST", f"/similar-questions/{search_id}/helpful", principal=user,
                         json=body.out())


# --- curation --------------------------------------------------------------------------------------


@router.get("/library/resources", tags=[CUR], summary="The curation queue", responses=ERRORS)
async def curation_queue(
    request: Request, svc: Svc, user: ApiUser,
    status: Literal["draft", "in_review", "published", "archived"] | None = None,
    type: SingleLine | None = None, topic: SingleLine | None = None,  # noqa: A002 - as the library takes them
    page: Page = None, page_size: PageSize = None,
) -> Response:
    allow(user, "library.curate")
    return await forward(request, svc.library, "GET", "/resources", principal=user,
                         params={"status": status, "type": type, "topic": topic, "page": page, "page_size": page_size})


@router.post("/library/resources", status_code=201, tags=[CUR], summary="Create a resource (draft)", responses=ERRORS)
async def create_resource(request: Request, body: m.ResourceContent, svc: Svc, user: ApiUser) -> Response:
    allow(user, "library.curate")
    return await forward(request, svc.library, "POST", "/resources", principal=user, json=body.out(),
                         location_prefix="/api/v1/library/resources/", location_id_field="resource_id")


@router.patch("/library/resources/{resource_id}", tags=[CUR], summary="Edit a resource", responses=ERRORS)
async def edit_resource(request: Request, resource_id: m.Id, body: m.ResourcePatch, svc: Svc, user: ApiUser) -> Response:
    allow(user, "library.curate")
    return await forward(request, svc.library, "PATCH", f"/resources/{resource_id}", principal=user, json=body.out())


@router.post("/library/resources/{resource_id}/{transition}", tags=[CUR],
             summary="Move a resource through curation (submit, return, publish, archive, restore)", responses=ERRORS)
async def transition(request: Request, resource_id: m.Id, transition: Transition, svc: Svc, user: ApiUser,
                     body: m.NoteBody | None = None) -> Response:
    allow(user, "library.curate")
    return await forward(request, svc.library, "POST", f"/resources/{resource_id}/{transition}", principal=user,
                         json=(body.out() if body else {}))


@router.get("/library/resources/{resource_id}/history", tags=[CUR], summary="A resource's change history", responses=ERRORS)
async def history(request: Request, resource_id: m.Id, svc: Svc, user: ApiUser) -> Response:
    allow(user, "library.curate")
    return await forward(request, svc.library, "GET", f"/resources/{resource_id}/history", principal=user)


@router.get("/library/reviews", tags=[CUR], summary="What waits for review before joining the public record",
            responses=ERRORS)
async def reviews(request: Request, svc: Svc, user: ApiUser,
                  status: Literal["pending", "approved", "rejected", "withdrawn"] | None = None,
                  page: Page = None, page_size: PageSize = None) -> Response:
    allow(user, "library.curate")
    return await forward(request, svc.library, "GET", "/reviews", principal=user,
                         params={"status": status, "page": page, "page_size": page_size})


@router.get("/library/reviews/{review_id}", tags=[CUR], summary="One review: the original and the redacted text",
            responses=ERRORS)
async def review(request: Request, review_id: m.Id, svc: Svc, user: ApiUser) -> Response:
    allow(user, "library.curate")
    return await forward(request, svc.library, "GET", f"/reviews/{review_id}", principal=user)


@router.patch("/library/reviews/{review_id}", tags=[CUR], summary="Edit the text a review would publish",
              responses=ERRORS)
async def edit_review(request: Request, review_id: m.Id, body: m.ReviewEdit, svc: Svc, user: ApiUser) -> Response:
    allow(user, "library.curate")
    return await forward(request, svc.library, "PATCH", f"/reviews/{review_id}", principal=user, json=body.out())


@router.post("/library/reviews/{review_id}/{decision}", tags=[CUR],
             summary="Approve (publish) or reject what waits for review", responses=ERRORS)
async def decide_review(request: Request, review_id: m.Id, decision: Literal["approve", "reject"], svc: Svc,
                        user: ApiUser, body: m.DecisionIn | None = None) -> Response:
    allow(user, "library.curate")
    return await forward(request, svc.library, "POST", f"/reviews/{review_id}/{decision}", principal=user,
                         json=(body.out() if body else {}))


@router.get("/library/synonyms", tags=[LIB], summary="The curated synonym groups searches use")
async def synonyms(request: Request, svc: Svc) -> Response:
    return await forward(request, svc.library, "GET", "/synonyms", principal=None)


@router.post("/library/synonyms", status_code=201, tags=[CUR], summary="Add a synonym group", responses=ERRORS)
async def create_synonyms(request: Request, body: m.SynonymPhrases, svc: Svc, user: ApiUser) -> Response:
    allow(user, "library.curate")
    return await forward(request, svc.library, "POST", "/synonyms", principal=user, json=body.out())


@router.put("/library/synonyms/{group_id}", tags=[CUR], summary="Change a synonym group", responses=ERRORS)
async def replace_synonyms(request: Request, group_id: m.Id, body: m.SynonymsIn, svc: Svc, user: ApiUser) -> Response:
    allow(user, "library.curate")
    return await forward(request, svc.library, "PUT", f"/synonyms/{group_id}", principal=user, json=body.out())


@router.delete("/library/synonyms/{group_id}", status_code=204, tags=[CUR], summary="Delete a synonym group",
               responses=ERRORS)
async def delete_synonyms(request: Request, group_id: m.Id, svc: Svc, user: ApiUser) -> Response:
    allow(user, "library.curate")
    return await forward(request, svc.library, "DELETE", f"/synonyms/{group_id}", principal=user)


# --- clearinghouse -----------------------------------------------------------------------------------


@router.get("/clearinghouse/programs", tags=[CH], summary="Federal technical-assistance programs", responses=ERRORS)
async def programs(
    request: Request, svc: Svc, user: MaybeUser,
    q: Annotated[MultiLine | None, Query(max_length=L.SEARCH_Q_MAX)] = None,
    agency: Many = None, topic: Many = None, help: Many = None,
    open_only: bool | None = None,
    eligible_for: Annotated[SingleLine | None, Query(max_length=L.CITY_ID_MAX)] = None,
    include_inactive: bool | None = None,
    page: Page = None, page_size: PageSize = None,
) -> Response:
    """`q`: keywords, best match first. `eligible_for` takes a city id, or `mine` for the signed-in
    official's city. An official may ask only about their own city."""
    if eligible_for and eligible_for != "mine" and user is not None and not user.may_see_city(eligible_for):
        raise ProblemError(404, "Not found", "No such city, or it is not yours.")
    params = _multi(q=q, agency=agency, topic=topic, help=help, open_only=open_only, eligible_for=eligible_for,
                    include_inactive=include_inactive, page=page, page_size=page_size)
    return await forward(request, svc.library, "GET", "/clearinghouse/programs", principal=user, params=params)


@router.get("/clearinghouse/programs/{program_id}", tags=[CH], summary="One program (with a city's eligibility)",
            responses=ERRORS)
async def program(request: Request, program_id: m.Id, svc: Svc, user: MaybeUser,
                  city_id: Annotated[SingleLine | None, Query(max_length=L.CITY_ID_MAX)] = None) -> Response:
    if city_id and city_id != "mine" and user is not None and not user.may_see_city(city_id):
        raise ProblemError(404, "Not found", "No such city, or it is not yours.")
    return await forward(request, svc.library, "GET", f"/clearinghouse/programs/{program_id}", principal=user,
                         params={"city_id": city_id})


@router.post("/clearinghouse/programs", status_code=201, tags=[CH], summary="Add a program (staff)", responses=ERRORS)
async def create_program(request: Request, body: m.ProgramContent, svc: Svc, user: ApiUser) -> Response:
    allow(user, "clearinghouse.maintain")
    return await forward(request, svc.library, "POST", "/clearinghouse/programs", principal=user, json=body.out(),
                         location_prefix="/api/v1/clearinghouse/programs/", location_id_field="program_id")


@router.patch("/clearinghouse/programs/{program_id}", tags=[CH], summary="Edit a program (staff)", responses=ERRORS)
async def edit_program(request: Request, program_id: m.Id, body: m.ProgramPatch, svc: Svc, user: ApiUser) -> Response:
    allow(user, "clearinghouse.maintain")
    return await forward(request, svc.library, "PATCH", f"/clearinghouse/programs/{program_id}", principal=user,
                         json=body.out())


@router.delete("/clearinghouse/programs/{program_id}", status_code=204, tags=[CH], summary="Retire a program (staff)",
               responses=ERRORS)
async def retire_program(request: Request, program_id: m.Id, svc: Svc, user: ApiUser) -> Response:
    allow(user, "clearinghouse.maintain")
    return await forward(request, svc.library, "DELETE", f"/clearinghouse/programs/{program_id}", principal=user)
