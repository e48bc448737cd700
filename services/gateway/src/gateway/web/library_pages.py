"""Library, clearinghouse and curation pages.

Readers search the library (snippets with the matched words highlighted; a corrected spelling or a
synonym is said, never silently applied; "Ask NRN this question" opens the ask form filled in),
read resources and answered questions, and search the clearinghouse. Curators review what would
join the public record (original and redacted text side by side), create and edit resources and
programmes with every field the library takes, and keep the synonym list. A form the library
refuses is shown again with what was typed and the field to fix.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from .. import library_limits as L
from ..clients import ServiceUnavailable, UpstreamError
from ..compose import Section, compose
from ..deps import MaybePageUser, PageUser, Svc
from ..problems import ProblemError
from .common import PageLines, PageNumber, PageText, markdown, problem_text, see_other
from .render import flash, render

router = APIRouter()
ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}")
RESOURCE_TYPES = ["guide", "toolkit", "case_study", "report", "webinar", "research", "policy_analysis",
                  "answered_question", "working_group_deliverable", "convening_material", "close_out_report"]
# types that arrive from other services' events (through the review queue), never created by hand
EVENT_BORN = {"answered_question", "working_group_deliverable", "convening_material", "close_out_report"}
AGENCIES = ["HUD", "EDA", "DOT", "EPA", "USDA", "Treasury", "HHS", "NTIA", "DOE", "DOL", "FEMA", "SBA", "DOJ", "ED",
            "Other"]
HELP_KINDS = [("technical_assistance", "Technical assistance"), ("planning", "Planning"),
              ("capacity_building", "Capacity building"), ("grants", "Grants"), ("loans", "Loans"),
              ("financing", "Financing"), ("data_tools", "Data and tools"), ("training", "Training"),
              ("peer_learning", "Peer learning"), ("expert_staff", "Expert staff")]
ENTITY_KINDS = [("city", "Cities"), ("county", "Counties"), ("tribe", "Tribal governments"), ("state", "States"),
                ("nonprofit", "Nonprofit organizations"), ("regional_body", "Regional bodies"),
                ("utility", "Utilities"), ("school_district", "School districts")]
AUDIENCES = [("public", "Everyone (public)"), ("officials", "Verified city officials"), ("staff", "NRN staff only")]
TRANSITIONS = {"draft": ["submit", "archive"], "in_review": ["publish", "return", "archive"], "published": ["archive"],
               "archived": ["restore"]}
TRANSITION_WORDS = {"submit": ("Send for review", "Sent for review."), "publish": ("Publish", "Published."),
                    "return": ("Return to draft", "Returned to draft."), "archive": ("Archive", "Archived."),
                    "restore": ("Restore as a draft", "Restored as a draft.")}
STATUS_WORDS = {"draft": "Drafts", "in_review": "In review", "published": "Published", "archived": "Archived"}
REVIEW_STATUSES = {"pending": "Waiting for review", "approved": "Approved", "rejected": "Rejected",
                   "withdrawn": "Consent withdrawn"}
SOURCE_WORDS = {"requests311": "311 answer", "engagements": "Engagement close-out report", "peer": "Convening material"}
REVIEW_FIELDS = [("title", "Title"), ("question", "Question"), ("summary", "Summary"), ("body", "Text (Markdown)")]
REDACTION_WORDS = {"name": ("name", "names"), "email": ("email address", "email addresses"),
                   "phone": ("phone number", "phone numbers"), "address": ("street address", "street addresses"),
                   "street": ("street name", "street names"), "zip": ("ZIP code", "ZIP codes"),
                   "city": ("mention of the city", "mentions of the city"),
                   "website": ("city web address", "city web addresses")}
DEFAULT_SOURCE = "SC2 National Resource Network"
DEADLINE_ROWS = 3  # empty deadline rows a programme form offers


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


def _field_errors(exc: UpstreamError | ServiceUnavailable) -> dict[str, str]:
    """The library's refusal as {field: message} for the form (the first part of a dotted field names the
    form field; "_form" for what belongs to no field)."""
    if isinstance(exc, ServiceUnavailable):
        return {"_form": problem_text(exc)}
    body = exc.problem()
    errors: dict[str, str] = {}
    for e in body.get("errors") or []:
        if isinstance(e, dict) and e.get("field"):
            name = str(e["field"]).split(".")[0] or "_form"  # "eligibility.min_population" → the fieldset
            errors.setdefault(name, _sentence(str(e.get("message") or "Not accepted.")))
    if not errors:
        field = str(body.get("field") or "").split(".")[0]
        errors[field if field and field not in ("version", "If-Match") else "_form"] = problem_text(exc)
    if "version" in errors or "If-Match" in errors:
        errors["_form"] = "Someone changed this while you were editing. Your text is kept below; save it again."
    return errors


def _sentence(message: str) -> str:
    message = message.removeprefix("Value error, ")
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


# --- reading -------------------------------------------------------------------------------------------


def _ask_link(user: Any, q: str) -> str | None:
    """Where "Ask NRN this question" goes: the ask form with the search filled in (through sign-in for a
    visitor); None for staff, who do not ask."""
    if user is not None and getattr(user, "is_staff", False):
        return None
    target = "/requests/new?" + urlencode({"title": q[:L.RESOURCE_TITLE_MAX]})
    return target if user is not None else "/signin?" + urlencode({"next": target})


@router.get("/library")
async def library_search(request: Request, user: MaybePageUser, svc: Svc, q: PageLines = "",
                         type: PageText = "", topic: PageText = "", page: PageNumber = 1,  # noqa: A002
                         exact: PageText = "") -> Response:
    page = min(max(page, 1), L.PAGE_MAX)
    q = q[:L.SEARCH_Q_MAX]
    params: list[tuple[str, Any]] = [("q", q), ("page", page), ("page_size", 10), ("kind", "resource")]
    params += [("type", type[:200])] if type else []
    params += [("topic", topic[:200])] if topic else []
    params += [("spell", "false")] if exact else []
    result: dict[str, Any] = {"hits": [], "total": 0, "facets": {}}
    error = None
    try:
        result = await svc.library.get_json("/search", params=params, token=_token(user))
    except (UpstreamError, ServiceUnavailable) as exc:
        error = problem_text(exc)
    base = {"q": q, "type": type, "topic": topic}
    return render(request, "library/search.html", {
        "nav": "library", "q": q, "type": type, "topic": topic, "page": page, "exact": bool(exact),
        "result": result, "error": error, "taxonomy": await _taxonomy(svc),
        "ask": _ask_link(user, q) if q.strip() else None,
        "exact_url": "/library?" + urlencode({**base, "exact": "1"}),
        "page_url": lambda n: "/library?" + urlencode({**base, "page": n, **({"exact": "1"} if exact else {})}),
    })


def _norm(text: str | None) -> str:
    return " ".join(re.sub(r"[*_`>#\[\]()]", " ", text or "").lower().split())


_H1 = re.compile(r"\A\s*#\s+(.+?)\s*(?:\n|\Z)")
_SECTION = re.compile(r"^##\s+(.+?)\s*$", re.MULTILINE)


def reading_parts(content: dict[str, Any]) -> dict[str, Any]:
    """What the page shows so that nothing is said twice: the body without a first heading that repeats
    the title, and the summary or question only when the body does not already hold them (a memo
    has its own "Question" and "Short answer" sections)."""
    body = content.get("body") or ""
    title = content.get("title") or ""
    m = _H1.match(body)
    if m and _norm(m.group(1)) == _norm(title):
        body = body[m.end():]
    sections = {_norm(s) for s in _SECTION.findall(body)}
    plain = _norm(body)
    summary, question = content.get("summary") or "", content.get("question") or ""
    show_summary = bool(summary) and not ({"short answer", "summary"} & sections) and _norm(summary) not in plain
    show_question = bool(question) and not ({"question", "the question"} & sections) and _norm(question) not in plain
    return {"body_html": markdown(body) if body.strip() else None, "show_summary": show_summary,
            "show_question": show_question}


@router.get("/library/{item_id}")
async def resource_page(request: Request, item_id: str, user: MaybePageUser, svc: Svc) -> Response:
    rid = _id(item_id)
    resource = await svc.library.get_json(f"/resources/{rid}", token=_token(user))

    async def related(_: None) -> Any:
        return await svc.library.get_json(f"/items/{rid}/related", params={"limit": 5}, token=_token(user))

    out = await compose([Section("related", "Related items", "library", related)], None, default_timeout=3.0)
    content = resource.get("content", {})
    return render(request, "library/resource.html", {
        "nav": "library", "r": resource, "c": content, **reading_parts(content),
        "related": (out.sections.get("related") or {}).get("items", []),
    }, missing=out.missing)


@router.get("/clearinghouse")
async def clearinghouse(request: Request, user: MaybePageUser, svc: Svc, q: PageLines = "", agency: PageText = "",
                        topic: PageText = "", mine: PageText = "", open_only: PageText = "",
                        page: PageNumber = 1) -> Response:
    page = min(max(page, 1), L.PAGE_MAX)
    q = q[:L.SEARCH_Q_MAX]
    params: list[tuple[str, Any]] = [("page", page), ("page_size", 20)]
    params += [("q", q)] if q.strip() else []
    params += [("agency", agency[:200])] if agency else []
    params += [("topic", topic[:200])] if topic else []
    params += [("open_only", "true")] if open_only else []
    can_filter_mine = bool(user and user.city_id)
    if mine and can_filter_mine:
        params.append(("eligible_for", "mine"))
    result: dict[str, Any] = {"items": [], "total": 0}
    error = None
    try:
        result = await svc.library.get_json("/clearinghouse/programs", params=params, token=_token(user))
    except (UpstreamError, ServiceUnavailable) as exc:
        error = problem_text(exc)
    base = {k: v for k, v in {"q": q, "agency": agency, "topic": topic, "mine": mine, "open_only": open_only}.items()
            if v}
    return render(request, "library/clearinghouse.html", {
        "nav": "clearinghouse", "result": result, "error": error, "q": q, "agency": agency, "topic": topic,
        "mine": mine, "open_only": open_only, "page": page, "agencies": AGENCIES, "taxonomy": await _taxonomy(svc),
        "can_filter_mine": can_filter_mine,
        "page_url": lambda n: "/clearinghouse?" + urlencode({**base, "page": n})})


@router.get("/clearinghouse/{program_id}")
async def program_page(request: Request, program_id: str, user: MaybePageUser, svc: Svc) -> Response:
    params = {"city_id": "mine"} if user and user.city_id else None
    program = await svc.library.get_json(f"/clearinghouse/programs/{_id(program_id)}", params=params,
                                         token=_token(user))
    return render(request, "library/program.html", {"nav": "clearinghouse", "p": program,
                                                    "c": program.get("content", {}), "help_kinds": dict(HELP_KINDS)})


# --- curation (staff) ----------------------------------------------------------------------------------


def curator(user: Any) -> None:
    if not (user.can("library.curate") or user.can("clearinghouse.maintain")):
        raise ProblemError(403, "Forbidden", "Curation is for curators and administrators.")


def _only(user: Any, action: str) -> None:
    if not user.can(action):
        raise ProblemError(403, "Forbidden", "This part of curation is for curators and administrators.")


async def _pending_count(svc: Any, user: Any) -> int | None:
    try:
        page = await svc.library.get_json("/reviews", params={"status": "pending", "page_size": 1}, token=user.token)
    except (UpstreamError, ServiceUnavailable):
        return None
    return page.get("total")


async def _curation_ctx(svc: Any, user: Any, tab: str) -> dict[str, Any]:
    return {"nav": "curation", "tab": tab, "pending_reviews": await _pending_count(svc, user),
            "can_curate": user.can("library.curate"), "can_maintain": user.can("clearinghouse.maintain")}


def _lines(value: Any) -> list[str]:
    """A list typed one entry per line (or separated by commas)."""
    return [t.strip() for t in re.split(r"[\n,]", str(value or "")) if t.strip()]


def resource_content_from(form: Any, *, editing: bool) -> dict[str, Any]:
    """The library's ResourceContent from the resource form. Editing sends every field (so a cleared field
    is cleared); creating leaves out what was left empty."""
    def text(name: str) -> str | None:
        value = str(form.get(name) or "").strip()
        return value or None

    content: dict[str, Any] = {
        "type": text("type"), "title": text("title"), "summary": text("summary") or "",
        "body": str(form.get("body") or "") or None, "link": text("link"),
        "topics": [str(t) for t in form.getlist("topics")], "source_organisation": text("source_organisation"),
        "authors": _lines(form.get("authors")), "publication_date": text("publication_date"),
        "related_cities": _lines(form.get("related_cities")), "tags": _lines(form.get("tags")),
        "audience": text("audience"), "agency": text("agency"),
    }
    if editing:
        return {k: v for k, v in content.items() if not (k in ("type", "title", "source_organisation", "audience")
                                                         and v is None)}
    return {k: v for k, v in content.items() if v not in (None, [], "")}


def _resource_values(form: Any) -> dict[str, Any]:
    """What was typed, to show the form again."""
    values = {k: str(form.get(k) or "") for k in ("type", "title", "summary", "body", "link", "source_organisation",
                                                   "authors", "publication_date", "related_cities", "tags",
                                                   "audience", "agency")}
    values["topics"] = [str(t) for t in form.getlist("topics")]
    return values


def _resource_values_of(content: dict[str, Any]) -> dict[str, Any]:
    values = {k: content.get(k) or "" for k in ("type", "title", "summary", "body", "link", "source_organisation",
                                                "publication_date", "audience", "agency")}
    for k in ("authors", "related_cities"):
        values[k] = "\n".join(content.get(k) or [])
    values["tags"] = ", ".join(content.get("tags") or [])
    values["topics"] = list(content.get("topics") or [])
    return values


async def _resource_form(request: Request, svc: Any, user: Any, *, values: dict[str, Any], errors: dict[str, str],
                         resource: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    types = [t for t in RESOURCE_TYPES if t not in EVENT_BORN or t == values.get("type")]
    ctx = await _curation_ctx(svc, user, "resources")
    content = (resource or {}).get("content") or {}
    return render(request, "library/resource_form.html", {
        **ctx, "r": resource, "values": values, "errors": errors, "types": types, "audiences": AUDIENCES,
        "taxonomy": await _taxonomy(svc), "limits": L,
        "transitions": [(t, *TRANSITION_WORDS[t]) for t in TRANSITIONS.get((resource or {}).get("status", ""), [])],
        "preview": markdown(content.get("body")) if content.get("body") else None,
    }, status_code=status_code)


@router.get("/staff/curation")
async def curation(request: Request, user: PageUser, svc: Svc, status: PageText = "in_review") -> Response:
    curator(user)
    if not user.can("library.curate"):
        return see_other("/staff/curation/programs")
    status = status if status in TRANSITIONS else "in_review"
    queue, error = {}, None
    try:
        queue = await svc.library.get_json("/resources", params={"status": status, "page_size": 50},
                                           token=user.token)
    except (UpstreamError, ServiceUnavailable) as exc:
        error = problem_text(exc)
    return render(request, "library/curation.html", {
        **await _curation_ctx(svc, user, "resources"), "status": status, "statuses": STATUS_WORDS, "queue": queue,
        "error": error})


@router.get("/staff/curation/resources/new")
async def new_resource_page(request: Request, user: PageUser, svc: Svc) -> Response:
    _only(user, "library.curate")
    return await _resource_form(request, svc, user, errors={}, values={
        "type": "guide", "audience": "public", "source_organisation": DEFAULT_SOURCE, "topics": []})


@router.post("/staff/curation/resources")
async def create_resource(request: Request, user: PageUser, svc: Svc) -> Response:
    _only(user, "library.curate")
    form = await request.form()
    try:
        created = await svc.library.post_json("/resources", json=resource_content_from(form, editing=False),
                                              token=user.token)
    except (UpstreamError, ServiceUnavailable) as exc:
        return await _resource_form(request, svc, user, values=_resource_values(form), errors=_field_errors(exc),
                                    status_code=422 if isinstance(exc, UpstreamError) else 503)
    flash(request, "Draft created. Send it for review when it is ready.", "success")
    return see_other(f"/staff/curation/resources/{created['resource_id']}")


@router.get("/staff/curation/resources/{resource_id}")
async def edit_resource_page(request: Request, resource_id: str, user: PageUser, svc: Svc) -> Response:
    _only(user, "library.curate")
    resource = await svc.library.get_json(f"/resources/{_id(resource_id)}", token=user.token)
    return await _resource_form(request, svc, user, values=_resource_values_of(resource.get("content") or {}),
                                errors={}, resource=resource)


@router.post("/staff/curation/resources/{resource_id}")
async def edit_resource(request: Request, resource_id: str, user: PageUser, svc: Svc) -> Response:
    _only(user, "library.curate")
    rid = _id(resource_id)
    form = await request.form()
    body = {**resource_content_from(form, editing=True), "version": _version(form)}
    try:
        await svc.library.request("PATCH", f"/resources/{rid}", json=body, token=user.token)
    except (UpstreamError, ServiceUnavailable) as exc:
        resource = await svc.library.get_json(f"/resources/{rid}", token=user.token)
        return await _resource_form(request, svc, user, values=_resource_values(form), errors=_field_errors(exc),
                                    resource=resource, status_code=422 if isinstance(exc, UpstreamError) else 503)
    flash(request, "Saved.", "success")
    return see_other(f"/staff/curation/resources/{rid}")


def _version(form: Any) -> int:
    try:
        return max(0, min(int(str(form.get("version") or "0")), 2**31))
    except ValueError:
        return 0


@router.post("/staff/curation/resources/{resource_id}/{transition}")
async def move_resource(request: Request, resource_id: str, transition: str, user: PageUser, svc: Svc) -> Response:
    _only(user, "library.curate")
    rid = _id(resource_id)
    if transition not in TRANSITION_WORDS:
        raise ProblemError(404, "Not found", "No such step.")
    form = await request.form()
    body: dict[str, Any] = {"version": _version(form)}
    if str(form.get("note") or "").strip():
        body["note"] = str(form.get("note"))[:L.NOTE_MAX]
    try:
        await svc.library.post_json(f"/resources/{rid}/{transition}", json=body, token=user.token)
        flash(request, TRANSITION_WORDS[transition][1], "success")
    except (UpstreamError, ServiceUnavailable) as exc:
        flash(request, problem_text(exc), "error")
    return see_other(f"/staff/curation/resources/{rid}")


# --- the review queue ------------------------------------------------------------------------------------


@router.get("/staff/curation/reviews")
async def reviews_page(request: Request, user: PageUser, svc: Svc, status: PageText = "pending") -> Response:
    _only(user, "library.curate")
    status = status if status in REVIEW_STATUSES else "pending"
    page, error = {}, None
    try:
        page = await svc.library.get_json("/reviews", params={"status": status, "page_size": 50}, token=user.token)
    except (UpstreamError, ServiceUnavailable) as exc:
        error = problem_text(exc)
    return render(request, "library/reviews.html", {
        **await _curation_ctx(svc, user, "reviews"), "status": status, "statuses": REVIEW_STATUSES, "page": page,
        "error": error, "sources": SOURCE_WORDS})


def _redactions(counts: dict[str, int]) -> str:
    parts = []
    for kind, n in sorted((counts or {}).items(), key=lambda kv: -kv[1]):
        one, many = REDACTION_WORDS.get(kind, (kind.replace("_", " "), kind.replace("_", " ")))
        parts.append(f"{n} {one if n == 1 else many}")
    return ", ".join(parts)


async def _review_page(request: Request, svc: Any, user: Any, review: dict[str, Any], *,
                       values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                       status_code: int = 200) -> Response:
    content = review.get("content") or {}
    values = values if values is not None else {k: str(content.get(k) or "") for k, _ in REVIEW_FIELDS}
    fields = [(k, label) for k, label in REVIEW_FIELDS
              if content.get(k) or (review.get("original") or {}).get(k) or values.get(k)]
    return render(request, "library/review.html", {
        **await _curation_ctx(svc, user, "reviews"), "rv": review, "values": values, "errors": errors or {},
        "fields": fields, "sources": SOURCE_WORDS, "statuses": REVIEW_STATUSES,
        "redactions": _redactions(review.get("redactions") or {}), "actors": review.get("actors") or {},
        "preview": markdown(values.get("body")) if values.get("body") else None, "limits": L,
    }, status_code=status_code)


@router.get("/staff/curation/reviews/{review_id}")
async def review_page(request: Request, review_id: str, user: PageUser, svc: Svc) -> Response:
    _only(user, "library.curate")
    review = await svc.library.get_json(f"/reviews/{_id(review_id)}", token=user.token)
    return await _review_page(request, svc, user, review)


def _review_changes(form: Any, review: dict[str, Any]) -> dict[str, str]:
    content = review.get("content") or {}
    changes: dict[str, str] = {}
    for k, _ in REVIEW_FIELDS:
        if k not in form:
            continue
        value = str(form.get(k) or "")
        if value.strip() != str(content.get(k) or "").strip():
            changes[k] = value
    return changes


@router.post("/staff/curation/reviews/{review_id}/{action}")
async def review_action(request: Request, review_id: str, action: str, user: PageUser, svc: Svc) -> Response:
    """save (the edited text), approve (save, then publish) or reject (with a reason)."""
    _only(user, "library.curate")
    rid = _id(review_id)
    if action not in ("save", "approve", "reject"):
        raise ProblemError(404, "Not found", "No such step.")
    form = await request.form()
    review = await svc.library.get_json(f"/reviews/{rid}", token=user.token)
    values = {k: str(form.get(k) or "") for k, _ in REVIEW_FIELDS if k in form} or None
    version = _version(form)
    try:
        if action in ("save", "approve"):
            changes = _review_changes(form, review)
            if changes:
                saved = (await svc.library.request("PATCH", f"/reviews/{rid}", json={**changes, "version": version},
                                                   token=user.token)).json()
                version = saved["version"]
        if action == "save":
            flash(request, "Your changes are saved. Nothing is published until you approve.", "success")
        else:
            body: dict[str, Any] = {"version": version}
            reason = str(form.get("reason") or "").strip()
            if reason:
                body["reason"] = reason[:L.REVIEW_REASON_MAX]
            await svc.library.post_json(f"/reviews/{rid}/{action}", json=body, token=user.token)
            flash(request, "Approved: it is now part of the public record." if action == "approve" else
                  "Rejected: nothing was published.", "success")
            return see_other("/staff/curation/reviews")
    except (UpstreamError, ServiceUnavailable) as exc:
        fresh = await svc.library.get_json(f"/reviews/{rid}", token=user.token)
        return await _review_page(request, svc, user, fresh, values=values, errors=_field_errors(exc),
                                  status_code=422 if isinstance(exc, UpstreamError) else 503)
    return see_other(f"/staff/curation/reviews/{rid}")


# --- synonyms --------------------------------------------------------------------------------------------


async def _synonyms_page(request: Request, svc: Any, user: Any, *, errors: dict[str, str] | None = None,
                         typed: dict[str, str] | None = None, status_code: int = 200) -> Response:
    groups, error = [], None
    try:
        groups = (await svc.library.get_json("/synonyms", token=user.token)).get("items", [])
    except (UpstreamError, ServiceUnavailable) as exc:
        error = problem_text(exc)
    return render(request, "library/synonyms.html", {
        **await _curation_ctx(svc, user, "synonyms"), "groups": groups, "error": error, "errors": errors or {},
        "typed": typed or {}}, status_code=status_code)


@router.get("/staff/curation/synonyms")
async def synonyms_page(request: Request, user: PageUser, svc: Svc) -> Response:
    _only(user, "library.curate")
    return await _synonyms_page(request, svc, user)


@router.post("/staff/curation/synonyms")
async def save_synonyms(request: Request, user: PageUser, svc: Svc) -> Response:
    """Add a group (no group_id) or change one; `delete` set removes it."""
    _only(user, "library.curate")
    form = await request.form()
    group_id = str(form.get("group_id") or "")
    phrases = _lines(form.get("phrases"))
    key = group_id or "new"
    try:
        if group_id and form.get("delete"):
            await svc.library.request("DELETE", f"/synonyms/{_id(group_id)}", token=user.token)
            flash(request, "Synonym group deleted.", "success")
        elif group_id:
            await svc.library.request("PUT", f"/synonyms/{_id(group_id)}",
                                      json={"phrases": phrases, "version": _version(form)}, token=user.token)
            flash(request, "Synonyms saved. Searches use them within a moment.", "success")
        else:
            await svc.library.post_json("/synonyms", json={"phrases": phrases}, token=user.token)
            flash(request, "Synonym group added. Searches use it within a moment.", "success")
    except (UpstreamError, ServiceUnavailable) as exc:
        message = "; ".join(_field_errors(exc).values())
        return await _synonyms_page(request, svc, user, errors={key: message},
                                    typed={key: str(form.get("phrases") or "")},
                                    status_code=422 if isinstance(exc, UpstreamError) else 503)
    return see_other("/staff/curation/synonyms")


# --- clearinghouse programmes ------------------------------------------------------------------------------


def _int(form: Any, name: str, errors: dict[str, str]) -> int | None:
    raw = str(form.get(name) or "").replace(",", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 10 or int(raw) > L.PROGRAM_POPULATION_MAX:
        errors[name] = f"Enter a whole number of residents up to {L.PROGRAM_POPULATION_MAX:,}."
        return None
    return int(raw)


def program_content_from(form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The library's ProgramContent from the programme form, and the errors the page can tell by itself
    (a number that is not one)."""
    errors: dict[str, str] = {}

    def text(name: str) -> str | None:
        value = str(form.get(name) or "").strip()
        return value or None

    deadlines = []
    for i in range(len(form.getlist("deadline_label"))):
        label = str(form.getlist("deadline_label")[i] or "").strip()
        due = str((form.getlist("deadline_due") + [""] * 99)[i] or "").strip()
        if label or due:
            deadlines.append({"label": label or "Deadline", "due": due})
    content: dict[str, Any] = {
        "agency": text("agency"), "sub_agency": text("sub_agency"), "name": text("name"), "summary": text("summary"),
        "help_given": [str(h) for h in form.getlist("help_given")], "help_details": text("help_details") or "",
        "topics": [str(t) for t in form.getlist("topics")],
        "eligibility": {
            "entity_kinds": [str(k) for k in form.getlist("entity_kinds")],
            "min_population": _int(form, "min_population", errors),
            "max_population": _int(form, "max_population", errors),
            "states": [s.upper() for s in _lines(form.get("states"))],
            "requires_distress": form.get("requires_distress") is not None,
            "rural_only": form.get("rural_only") is not None,
            "notes": text("eligibility_notes") or "",
        },
        "how_to_apply": text("how_to_apply"), "rolling": form.get("rolling") is not None, "deadlines": deadlines,
        "url": text("url"), "contact": text("contact"), "tags": _lines(form.get("tags")),
    }
    return {k: v for k, v in content.items() if v is not None}, errors


def _program_values(form: Any) -> dict[str, Any]:
    values: dict[str, Any] = {k: str(form.get(k) or "") for k in (
        "agency", "sub_agency", "name", "summary", "help_details", "min_population", "max_population", "states",
        "eligibility_notes", "how_to_apply", "url", "contact", "tags")}
    for k in ("help_given", "topics", "entity_kinds"):
        values[k] = [str(v) for v in form.getlist(k)]
    for k in ("requires_distress", "rural_only", "rolling"):
        values[k] = form.get(k) is not None
    values["deadlines"] = [{"label": lbl, "due": due} for lbl, due in
                           zip(form.getlist("deadline_label"), form.getlist("deadline_due")) if lbl or due]
    return values


def _program_values_of(c: dict[str, Any]) -> dict[str, Any]:
    e = c.get("eligibility") or {}
    return {
        "agency": c.get("agency") or "", "sub_agency": c.get("sub_agency") or "", "name": c.get("name") or "",
        "summary": c.get("summary") or "", "help_details": c.get("help_details") or "",
        "help_given": list(c.get("help_given") or []), "topics": list(c.get("topics") or []),
        "entity_kinds": list(e.get("entity_kinds") or []),
        "min_population": "" if e.get("min_population") is None else str(e["min_population"]),
        "max_population": "" if e.get("max_population") is None else str(e["max_population"]),
        "states": ", ".join(e.get("states") or []), "requires_distress": bool(e.get("requires_distress")),
        "rural_only": bool(e.get("rural_only")), "eligibility_notes": e.get("notes") or "",
        "how_to_apply": c.get("how_to_apply") or "", "rolling": bool(c.get("rolling")),
        "deadlines": list(c.get("deadlines") or []), "url": c.get("url") or "", "contact": c.get("contact") or "",
        "tags": ", ".join(c.get("tags") or []),
    }


async def _program_form(request: Request, svc: Any, user: Any, *, values: dict[str, Any], errors: dict[str, str],
                        program: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    return render(request, "library/program_form.html", {
        **await _curation_ctx(svc, user, "programs"), "p": program, "values": values, "errors": errors,
        "agencies": AGENCIES, "help_kinds": HELP_KINDS, "entity_kinds": ENTITY_KINDS,
        "taxonomy": await _taxonomy(svc), "deadline_rows": DEADLINE_ROWS, "limits": L,
    }, status_code=status_code)


@router.get("/staff/curation/programs")
async def programs_page(request: Request, user: PageUser, svc: Svc) -> Response:
    _only(user, "clearinghouse.maintain")
    programs, error = {}, None
    try:
        programs = await svc.library.get_json("/clearinghouse/programs", params={"include_inactive": "true",
                                                                                 "page_size": 50}, token=user.token)
    except (UpstreamError, ServiceUnavailable) as exc:
        error = problem_text(exc)
    return render(request, "library/programs.html", {**await _curation_ctx(svc, user, "programs"),
                                                      "programs": programs, "error": error})


@router.get("/staff/curation/programs/new")
async def new_program_page(request: Request, user: PageUser, svc: Svc) -> Response:
    _only(user, "clearinghouse.maintain")
    return await _program_form(request, svc, user, errors={}, values={
        "agency": "HUD", "entity_kinds": ["city"], "help_given": [], "topics": [], "deadlines": []})


@router.post("/staff/curation/programs")
async def create_program(request: Request, user: PageUser, svc: Svc) -> Response:
    _only(user, "clearinghouse.maintain")
    form = await request.form()
    content, errors = program_content_from(form)
    if not errors:
        try:
            created = await svc.library.post_json("/clearinghouse/programs", json=content, token=user.token)
        except (UpstreamError, ServiceUnavailable) as exc:
            errors = _field_errors(exc)
        else:
            flash(request, "Program added to the clearinghouse.", "success")
            return see_other(f"/staff/curation/programs/{created['program_id']}")
    return await _program_form(request, svc, user, values=_program_values(form), errors=errors, status_code=422)


@router.get("/staff/curation/programs/{program_id}")
async def edit_program_page(request: Request, program_id: str, user: PageUser, svc: Svc) -> Response:
    _only(user, "clearinghouse.maintain")
    program = await svc.library.get_json(f"/clearinghouse/programs/{_id(program_id)}", token=user.token)
    return await _program_form(request, svc, user, values=_program_values_of(program.get("content") or {}),
                               errors={}, program=program)


@router.post("/staff/curation/programs/{program_id}")
async def edit_program(request: Request, program_id: str, user: PageUser, svc: Svc) -> Response:
    _only(user, "clearinghouse.maintain")
    pid = _id(program_id)
    form = await request.form()
    content, errors = program_content_from(form)
    if not errors:
        try:
            await svc.library.request("PATCH", f"/clearinghouse/programs/{pid}",
                                      json={**content, "version": _version(form)}, token=user.token)
        except (UpstreamError, ServiceUnavailable) as exc:
            errors = _field_errors(exc)
        else:
            flash(request, "Program saved.", "success")
            return see_other(f"/staff/curation/programs/{pid}")
    program = await svc.library.get_json(f"/clearinghouse/programs/{pid}", token=user.token)
    return await _program_form(request, svc, user, values=_program_values(form), errors=errors, program=program,
                               status_code=422)


@router.post("/staff/curation/programs/{program_id}/retire")
async def retire_program(request: Request, program_id: str, user: PageUser, svc: Svc) -> Response:
    _only(user, "clearinghouse.maintain")
    try:
        await svc.library.request("DELETE", f"/clearinghouse/programs/{_id(program_id)}", token=user.token)
        flash(request, "Program retired: it no longer appears in the clearinghouse.", "success")
    except (UpstreamError, ServiceUnavailable) as exc:
        flash(request, problem_text(exc), "error")
    return see_other("/staff/curation/programs")


# --- the ask page's "Already answered?" panel --------------------------------------------------------------


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
