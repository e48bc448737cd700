"""Library, clearinghouse and curation pages."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from .. import library_limits as L
from ..clients import ServiceUnavailable, UpstreamError
from ..compose import Section, compose
from ..deps import MaybePageUser, PageUser, Svc
from ..problems import ProblemError
from .common import act, markdown, problem_text, see_other
from .render import render

router = APIRouter()
ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}")
RESOURCE_TYPES = ["guide", "toolkit", "case_study", "report", "webinar", "research", "policy_analysis",
                  "answered_question", "working_group_deliverable", "convening_material", "close_out_report"]
AGENCIES = ["HUD", "EDA", "DOT", "EPA", "USDA", "Treasury", "HHS", "NTIA", "DOE", "DOL", "FEMA", "SBA", "DOJ", "ED", "Other"]
TRANSITIONS = {"draft": ["submit", "archive"], "in_review": ["publish", "return", "archive"], "published": ["archive"],
               "archived": ["restore"]}


def _id(value: str) -> str:
    if not ID.fullmatch(value):
        raise ProblemError(404, "Not found", "No such item.")
    return value


def _token(user: Any) -> str | None:
    return user.token if user else None


async def _taxonomy(svc: Any) -> dict[str, Any]:
    try:
        return await svc.library.get_json("/taxonomy")
    except (UpstreamError, ServiceUnavailable):
        return {}


@router.get("/library")
async def library_search(request: Request, user: MaybePageUser, svc: Svc, q: str = "", type: str = "", topic: str = "",
                         page: int = 1) -> Response:
    page = min(max(page, 1), 100)
    params: list[tuple[str, Any]] = [("q", q[:L.SEARCH_Q_MAX]), ("page", page), ("page_size", 10), ("kind", "resource")]
    params += [("type", type)] if type else []
    params += [("topic", topic)] if topic else []
    result, error = {"hits": [], "total": 0, "facets": {}}, None
    try:
        result = await svc.library.get_json("/search", params=params, token=_token(user))
    except (UpstreamError, ServiceUnavailable) as exc:
        error = problem_text(exc)
    return render(request, "library/search.html", {"nav": "library", "q": q, "type": type, "topic": topic, "page": page,
                                                   "result": result, "error": error, "taxonomy": await _taxonomy(svc)})


@router.get("/library/{item_id}")
async def resource_page(request: Request, item_id: str, user: MaybePageUser, svc: Svc) -> Response:
    rid = _id(item_id)
    resource = await svc.library.get_json(f"/resources/{rid}", token=_token(user))

    async def related(_: None) -> Any:
        return await svc.library.get_json(f"/items/{rid}/related", params={"limit": 5}, token=_token(user))

    out = await compose([Section("related", "Related items", "library", related)], None, default_timeout=3.0)
    content = resource.get("content", {})
    return render(request, "library/resource.html", {
        "nav": "library", "r": resource, "c": content, "body_html": markdown(content.get("body")) if content.get("body") else None,
        "related": (out.sections.get("related") or {}).get("items", []),
    }, missing=out.missing)


@router.get("/clearinghouse")
async def clearinghouse(request: Request, user: MaybePageUser, svc: Svc, agency: str = "", topic: str = "",
                        mine: str = "", open_only: str = "", page: int = 1) -> Response:
    page = min(max(page, 1), 100)
    params: list[tuple[str, Any]] = [("page", page), ("page_size", 20)]
    params += [("agency", agency)] if agency else []
    params += [("topic", topic)] if topic else []
    params += [("open_only", "true")] if open_only else []
    can_filter_mine = bool(user and user.city_id)
    if mine and can_filter_mine:
        params.append(("eligible_for", "mine"))
    result, error = {"items": [], "total": 0}, None
    try:
        result = await svc.library.get_json("/clearinghouse/programs", params=params, token=_token(user))
    except (UpstreamError, ServiceUnavailable) as exc:
        error = problem_text(exc)
    return render(request, "library/clearinghouse.html", {
        "nav": "clearinghouse", "result": result, "error": error, "agency": agency, "topic": topic, "mine": mine,
        "open_only": open_only, "page": page, "agencies": AGENCIES, "taxonomy": await _taxonomy(svc),
        "can_filter_mine": can_filter_mine})


@router.get("/clearinghouse/{program_id}")
async def program_page(request: Request, program_id: str, user: MaybePageUser, svc: Svc) -> Response:
    params = {"city_id": "mine"} if user and user.city_id else None
    program = await svc.library.get_json(f"/clearinghouse/programs/{_id(program_id)}", params=params, token=_token(user))
    return render(request, "library/program.html", {"nav": "clearinghouse", "p": program, "c": program.get("content", {})})


# --- curation (staff) ------------------------------------------------------------------------------


def curator(user: Any) -> None:
    if not (user.can("library.curate") or user.can("clearinghouse.maintain")):
        raise ProblemError(403, "Forbidden", "Curation is for curators and administrators.")


def _content_from(form: Any) -> dict[str, Any]:
    def items(name: str) -> list[str]:
        return [t.strip() for t in str(form.get(name) or "").split(",") if t.strip()]

    content: dict[str, Any] = {
        "type": form.get("type") or None, "title": str(form.get("title") or "").strip() or None,
        "summary": str(form.get("summary") or "").strip() or None, "body": str(form.get("body") or "") or None,
        "link": str(form.get("link") or "").strip() or None, "topics": items("topics") or None,
        "source_organisation": str(form.get("source_organisation") or "").strip() or None,
        "tags": items("tags") or None, "audience": form.get("audience") or None,
    }
    return {k: v for k, v in content.items() if v is not None}


@router.get("/staff/curation")
async def curation(request: Request, user: PageUser, svc: Svc, status: str = "in_review") -> Response:
    curator(user)
    status = status if status in TRANSITIONS else "in_review"

    async def queue(_: None) -> Any:
        return await svc.library.get_json("/resources", params={"status": status, "page_size": 50}, token=user.token)

    async def programs(_: None) -> Any:
        return await svc.library.get_json("/clearinghouse/programs", params={"include_inactive": "true", "page_size": 50},
                                          token=user.token)

    out = await compose([Section("queue", "Curation queue", "library", queue),
                         Section("programs", "Clearinghouse", "library", programs)], None, default_timeout=5.0)
    return render(request, "library/curation.html", {
        "nav": "curation", "status": status, "statuses": list(TRANSITIONS), "queue": out.sections.get("queue") or {},
        "programs": out.sections.get("programs") or {}, "types": RESOURCE_TYPES, "agencies": AGENCIES,
        "taxonomy": await _taxonomy(svc), "can_curate": user.can("library.curate"),
        "can_maintain": user.can("clearinghouse.maintain")}, missing=out.missing)


@router.post("/staff/curation/resources")
async def create_resource(request: Request, user: PageUser, svc: Svc) -> Response:
    curator(user)
    form = await request.form()
    created, response = await act(request, svc.library, "POST", "/resources", token=user.token, json=_content_from(form),
                                  back="/staff/curation?status=draft", success="Draft created.")
    if created and created.get("resource_id"):
        return see_other(f"/staff/curation/resources/{created['resource_id']}")
    return response


@router.get("/staff/curation/resources/{resource_id}")
async def edit_resource_page(request: Request, resource_id: str, user: PageUser, svc: Svc) -> Response:
    curator(user)
    resource = await svc.library.get_json(f"/resources/{_id(resource_id)}", token=user.token)
    content = resource.get("content", {})
    return render(request, "library/edit.html", {
        "nav": "curation", "r": resource, "c": content, "types": RESOURCE_TYPES,
        "transitions": TRANSITIONS.get(resource.get("status", ""), []),
        "preview": markdown(content.get("body")) if content.get("body") else None})


@router.post("/staff/curation/resources/{resource_id}")
async def edit_resource(request: Request, resource_id: str, user: PageUser, svc: Svc) -> Response:
    curator(user)
    rid = _id(resource_id)
    form = await request.form()
    body = {**_content_from(form), "version": int(str(form.get("version") or "0") or 0)}
    _, response = await act(request, svc.library, "PATCH", f"/resources/{rid}", token=user.token, json=body,
                            back=f"/staff/curation/resources/{rid}", success="Saved.")
    return response


@router.post("/staff/curation/resources/{resource_id}/{transition}")
async def move_resource(request: Request, resource_id: str, transition: str, user: PageUser, svc: Svc) -> Response:
    curator(user)
    rid = _id(resource_id)
    if transition not in {t for ts in TRANSITIONS.values() for t in ts}:
        raise ProblemError(404, "Not found", "No such transition.")
    form = await request.form()
    body: dict[str, Any] = {"version": int(str(form.get("version") or "0") or 0)}
    if form.get("note"):
        body["note"] = str(form.get("note"))
    _, response = await act(request, svc.library, "POST", f"/resources/{rid}/{transition}", token=user.token, json=body,
                            back=f"/staff/curation/resources/{rid}", success=f"Done: {transition}.")
    return response


@router.post("/staff/clearinghouse")
async def create_program(request: Request, user: PageUser, svc: Svc) -> Response:
    curator(user)
    form = await request.form()
    content: dict[str, Any] = {"agency": form.get("agency"), "name": str(form.get("name") or "").strip(),
                               "summary": str(form.get("summary") or "").strip() or None,
                               "topics": [t.strip() for t in str(form.get("topics") or "").split(",") if t.strip()] or None,
                               "how_to_apply": str(form.get("how_to_apply") or "").strip() or None,
                               "url": str(form.get("url") or "").strip() or None,
                               "rolling": form.get("rolling") == "on"}
    help_given = [str(h) for h in form.getlist("help_given")]
    if help_given:
        content["help_given"] = help_given
    _, response = await act(request, svc.library, "POST", "/clearinghouse/programs", token=user.token,
                            json={k: v for k, v in content.items() if v is not None}, back="/staff/curation",
                            success="Programme added.")
    return response


@router.post("/staff/clearinghouse/{program_id}/retire")
async def retire_program(request: Request, program_id: str, user: PageUser, svc: Svc) -> Response:
    curator(user)
    _, response = await act(request, svc.library, "DELETE", f"/clearinghouse/programs/{_id(program_id)}", token=user.token,
                            back="/staff/curation", success="Programme retired.")
    return response


@router.post("/requests/similar/helpful")
async def similar_helpful(request: Request, user: PageUser, svc: Svc) -> Response:
    """htmx: "this answered my question" on a similar answer (counted by the library)."""
    form = await request.form()
    search_id, resource_id = str(form.get("search_id") or ""), str(form.get("resource_id") or "")
    if not (ID.fullmatch(search_id) and ID.fullmatch(resource_id)):
        raise ProblemError(422, "Invalid input", "search_id and resource_id are required.")
    try:
        await svc.library.post_json(f"/similar-questions/{search_id}/helpful", json={"resource_id": resource_id},
                                    token=user.token)
        text = "Thank you: we noted that this answered your question."
    except (UpstreamError, ServiceUnavailable) as exc:
        text = problem_text(exc)
    return render(request, "partials/helpful.html", {"text": text})
