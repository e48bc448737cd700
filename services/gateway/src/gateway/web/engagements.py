"""Direct technical assistance pages.

Officials: the city's applications (its history), the application form in NRN's three sections
(autosaved while typing; two officials of one city may edit at once: what only one changed merges,
a field both changed is shown side by side to choose from), attachments, the preview that lists
every missing or invalid field with a link to it, submission, partner confirmation, the engagement
(work plan comments and agreement, close-out consent, the 6-month check-in, peer context).

Staff: review queues, the review page (screen, assign reviewers, the rubric to score with its
anchors, conflicts, the decision with the engagement's terms), funding rounds and their waitlists,
engagements (overdue milestones and due check-ins flagged) and the engagement's management forms.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from nrn_kit.localtime import program_today

from .. import engagements_limits as E
from ..clients import ServiceUnavailable, UpstreamError
from ..compose import Section, compose
from ..deps import PageUser, Svc
from ..problems import ProblemError
from .common import PageText, act, markdown, problem_text, see_other, version_of
from .render import flash, render

router = APIRouter()
ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}")
BARRIERS = [("government_operations_budgets", "Government operations and budgets"),
            ("economic_development", "Economic development"), ("land_use", "Land use"),
            ("transportation", "Transportation"), ("workforce", "Workforce"),
            ("community_development", "Community development"), ("housing", "Housing"),
            ("public_safety", "Public safety")]
BARRIER_LABELS = dict(BARRIERS)
STATUS_LABELS = {
    "draft": "Draft", "submitted": "Submitted: eligibility check", "screened_out": "Did not pass the eligibility check",
    "in_review": "In review", "scored": "Reviewed: waiting for a decision", "waitlisted": "On the waitlist",
    "accepted": "Accepted", "declined": "Declined", "withdrawn": "Withdrawn",
    "opened": "Opened: assessment next", "assessed": "Assessed: work plan next", "planning": "Work plan proposed",
    "in_progress": "Under way", "closing": "Close-out report ready", "closed": "Closed", "cancelled": "Cancelled",
}
QUEUES = [("screening", "Eligibility check"), ("in_review", "In review"), ("awaiting_decision", "Awaiting decision"),
          ("waitlisted", "Waitlisted"), ("decided", "Decided"), ("mine", "Assigned to me")]
ENGAGEMENT_VIEWS = [("active", "Active"), ("overdue", "Overdue milestones"), ("check_in_due", "Check-ins due"),
                    ("closing", "Close-out pending"), ("closed", "Closed")]
CONSENTS = [("named", "Yes, with our city's name"), ("anonymous", "Yes, without naming our city"),
            ("none", "No, keep it private")]


def _id(value: str) -> str:
    if not ID.fullmatch(value):
        raise ProblemError(404, "Not found", "No such item.")
    return value


def staff_only(user: Any) -> None:
    if not user.is_staff:
        raise ProblemError(403, "Forbidden", "This page is for NRN staff.")


def officials_only(user: Any) -> None:
    if user.is_staff:
        raise ProblemError(403, "Forbidden", "This page is for city officials.")


def _globals() -> dict[str, Any]:
    return {"barriers": BARRIERS, "barrier_labels": BARRIER_LABELS, "status_labels": STATUS_LABELS,
            "limits": E.page_limits(), "consents": CONSENTS, "months": list(range(E.TIMELINE_MONTHS[0],
                                                                                  E.TIMELINE_MONTHS[1] + 1))}


def dollars_to_cents(text: str) -> int | None:
    """"250,000" or "$250,000.50" → integer cents (Decimal, never a float); None when unreadable."""
    cleaned = (text or "").replace(",", "").replace("$", "").strip()
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        return None
    if amount != amount.quantize(Decimal("0.01")) or amount < 0:
        return None
    return int(amount * 100)


def _lines(text: Any) -> list[str]:
    return [line.strip() for line in str(text or "").splitlines() if line.strip()]


def _text(form: Any, name: str) -> str | None:
    value = str(form.get(name) or "").strip()
    return value or None


# --- the application form: page fields ↔ the service's body ---------------------------------------------------


def form_to_body(form: Any, *, show_exception: bool) -> dict[str, Any]:
    """The whole form as a draft save. Every field is sent: the service merges by field against the
    version the page was loaded at, so fields this person did not touch keep others' changes."""
    population_raw = str(form.get("background.population") or "").replace(",", "").strip()
    months = str(form.get("project_management.timeline_months") or "").strip()
    chosen = set(form.getlist("barrier"))
    body: dict[str, Any] = {
        "background": {
            "lead_official_name": _text(form, "background.lead_official_name"),
            "lead_official_title": _text(form, "background.lead_official_title"),
            "population": int(population_raw) if population_raw.isdigit() else (population_raw or None),
            "sponsor_name": _text(form, "background.sponsor_name"),
            "sponsor_title": _text(form, "background.sponsor_title"),
            "sponsor_commitment": _text(form, "background.sponsor_commitment"),
            "stakeholders": _lines(form.get("background.stakeholders")) or None,
        },
        "economic_challenges": {"barriers": {
            b: (str(form.get(f"economic_challenges.barriers.{b}") or "").strip() if b in chosen else None)
            for b, _ in BARRIERS}},
        "project_management": {
            "manager_name": _text(form, "project_management.manager_name"),
            "manager_title": _text(form, "project_management.manager_title"),
            "manager_email": _text(form, "project_management.manager_email"),
            "timeline_months": int(months) if months.isdigit() else None,
            "desired_start": _text(form, "project_management.desired_start"),
            "local_match": _text(form, "project_management.local_match"),
            "local_match_source": _text(form, "project_management.local_match_source"),
            "hardship_reason": _text(form, "project_management.hardship_reason"),
        },
        "regional": {"partner_city_ids": [c for c in form.getlist("regional.partner_city_ids") if ID.fullmatch(c)][
            :E.PARTNERS_MAX] or None},
        "peer_connections": form.get("peer_connections") == "yes",
    }
    if show_exception:
        body["exception_request"] = _text(form, "exception_request")
    return body


def _only(body: dict[str, Any], paths: set[str], keep: bool) -> dict[str, Any]:
    """The body with only (keep) or without (not keep) the given field paths."""
    out: dict[str, Any] = {}
    for key, value in body.items():
        if isinstance(value, dict) and key != "version":
            if key == "economic_challenges":
                inner = {b: v for b, v in value["barriers"].items()
                         if (f"economic_challenges.barriers.{b}" in paths) == keep}
                if inner:
                    out[key] = {"barriers": inner}
                continue
            inner = {k: v for k, v in value.items() if (f"{key}.{k}" in paths) == keep}
            if inner:
                out[key] = inner
        elif (key in paths) == keep:
            out[key] = value
    return out


def flat_value(app: dict[str, Any], path: str) -> Any:
    form = app.get("form") or {}
    if path.startswith("economic_challenges.barriers."):
        return ((form.get("economic_challenges") or {}).get("barriers") or {}).get(path.rsplit(".", 1)[1])
    if "." in path:
        section, name = path.split(".", 1)
        return (form.get(section) or {}).get(name)
    return form.get(path)


def values_of(app: dict[str, Any] | None = None, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every field path → its value, from a stored application or from what was typed (a save body)."""
    source = {"form": body} if body is not None else (app or {})
    return {path: flat_value(source, path) for path in _field_paths()}


def shown(value: Any, path: str) -> str:
    """A field's value as a person reads it (in the merge panel)."""
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if path == "project_management.local_match":
        return {"commit": "The city commits its 25% match", "hardship": "Hardship request"}.get(value, value)
    return str(value)


async def _cities(svc: Any, user: Any) -> list[dict[str, Any]]:
    try:
        return await svc.engagements.get_json("/cities", token=user.token)
    except (UpstreamError, ServiceUnavailable):
        return []


async def _edit_context(request: Request, user: Any, svc: Any, app: dict[str, Any], **extra: Any) -> dict[str, Any]:
    cities = [c for c in await _cities(svc, user) if c["city_id"] != app["city_id"]]
    own = next((c for c in await _cities(svc, user) if c["city_id"] == app["city_id"]), None)
    typed = extra.pop("typed", None)
    return {"nav": "assistance", "a": app, "cities": cities, "show_exception": bool(own and not own["eligible"]) or
            bool((app.get("form") or {}).get("exception_request")), "conflicts": [], "field_errors": {},
            "values": values_of(app, typed), **_globals(), **extra}


async def _load(svc: Any, user: Any, app_id: str) -> dict[str, Any]:
    app = await svc.engagements.get_json(f"/applications/{_id(app_id)}", token=user.token)
    partners = {p.get("city_id") for p in app.get("partner_cities") or []}
    if not user.is_staff and not (user.may_see_city(app.get("city_id")) or user.city_id in partners):
        raise ProblemError(404, "Not found", "No such application, or it is not your city's.")
    return app


# --- officials: applications ---------------------------------------------------------------------------------


@router.get("/applications")
async def my_applications(request: Request, user: PageUser, svc: Svc) -> Response:
    if user.is_staff:
        return see_other("/staff/applications")
    page, error = {"items": []}, None
    try:
        page = await svc.engagements.get_json("/applications", token=user.token)
    except (UpstreamError, ServiceUnavailable) as exc:
        error = problem_text(exc)
    items = page.get("items", [])
    own = [a for a in items if a["city_id"] == user.city_id]
    partner = [a for a in items if a["city_id"] != user.city_id]
    in_play = any(a["status"] not in ("accepted", "declined", "withdrawn") for a in own)
    return render(request, "engagements/applications.html", {
        "nav": "assistance", "own": own, "partner": partner, "can_apply": not in_play and error is None,
        "error": error, **_globals()})


@router.post("/applications/new")
async def start_application(request: Request, user: PageUser, svc: Svc) -> Response:
    officials_only(user)
    created, response = await act(request, svc.engagements, "POST", "/applications", token=user.token,
                                  back="/applications")
    return see_other(f"/applications/{created['id']}/edit") if created else response


@router.get("/applications/{app_id}/edit")
async def edit_application(request: Request, app_id: str, user: PageUser, svc: Svc) -> Response:
    app = await _load(svc, user, app_id)
    if "edit" not in (app.get("actions") or []):
        return see_other(f"/applications/{app['id']}")
    return render(request, "engagements/edit.html", await _edit_context(request, user, svc, app))


async def _save(request: Request, user: Any, svc: Any, app_id: str, body: dict[str, Any], version: int | None
                ) -> tuple[dict[str, Any] | None, list[dict[str, Any]], dict[str, str], str | None]:
    """Save; on a conflict, save the rest at once (same base version: others' changes still merge)
    and hand back the conflicting fields to choose from. Returns (app, conflicts, field errors, error)."""
    path = f"/applications/{_id(app_id)}"
    try:
        saved = await svc.engagements.send_json("PATCH", path, token=user.token, json={**body, "version": version})
        return saved, [], {}, None
    except UpstreamError as exc:
        problem = exc.problem()
        if exc.status == 409 and problem.get("rule") == "someone_else_changed_this":
            conflicts = problem.get("conflicts") or []
            rest = _only(body, {c["field"] for c in conflicts}, keep=False)
            saved = None
            if rest:
                try:
                    saved = await svc.engagements.send_json("PATCH", path, token=user.token,
                                                            json={**rest, "version": version})
                except UpstreamError as again:
                    return None, conflicts, {}, problem_text(again)
            return saved, conflicts, {}, None
        if exc.status == 422:
            errors = {e.get("field", ""): e.get("message", "") for e in problem.get("errors") or [] if isinstance(e, dict)}
            return None, [], errors, "Some fields could not be saved: see the messages beside them."
        return None, [], {}, problem_text(exc)
    except ServiceUnavailable as exc:
        return None, [], {}, problem_text(exc)


def _conflict_view(conflicts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**c, "theirs_text": shown(c.get("theirs"), c["field"]), "yours_text": shown(c.get("yours"), c["field"])}
            for c in conflicts]


@router.post("/applications/{app_id}/autosave")
async def autosave(request: Request, app_id: str, user: PageUser, svc: Svc) -> Response:
    """htmx: save while typing. Returns the save status, the new version, the fields others saved
    meanwhile (swapped in place), and the merge panel when someone else changed the same field."""
    form = await request.form()
    body = form_to_body(form, show_exception=form.get("show_exception") == "yes")
    saved, conflicts, errors, error = await _save(request, user, svc, app_id, body, version_of(form))
    merged_paths = [p for m in (saved or {}).get("merged") or [] for p in m.get("fields", [])]
    # fields in error are drawn again with what was typed and the message; merged ones with the new value
    swap = merged_paths + [p for p in errors if p in _field_paths()]
    return render(request, "engagements/partials/autosave.html", {
        "a": saved, "conflicts": _conflict_view(conflicts), "field_errors": errors, "error": error,
        "merged": (saved or {}).get("merged") or [], "merged_paths": swap, "app_id": _id(app_id), **_globals(),
        "values": values_of(body=body) if errors else values_of(saved),
        "cities": [c for c in await _cities(svc, user) if c["city_id"] != (saved or {}).get("city_id")],
        "show_exception": form.get("show_exception") == "yes"})


@router.post("/applications/{app_id}/edit")
async def save_application(request: Request, app_id: str, user: PageUser, svc: Svc) -> Response:
    """Without scripts (or "Save and preview"): save the whole form, then go on or show what to fix."""
    form = await request.form()
    body = form_to_body(form, show_exception=form.get("show_exception") == "yes")
    saved, conflicts, errors, error = await _save(request, user, svc, app_id, body, version_of(form))
    if saved is not None and not conflicts and not errors:
        if saved.get("merged"):
            names = ", ".join(sorted({m["by_name"] for m in saved["merged"] if m.get("by_name")}))
            flash(request, f"Saved. {names or 'Someone else'} also changed this application; their changes are kept.",
                  "success")
        else:
            flash(request, "Your draft is saved.", "success")
        return see_other(f"/applications/{_id(app_id)}" if form.get("next") == "preview"
                         else f"/applications/{_id(app_id)}/edit")
    app = saved or await _load(svc, user, app_id)
    if error and not conflicts:
        flash(request, error, "error")
    ctx = await _edit_context(request, user, svc, app, conflicts=_conflict_view(conflicts), field_errors=errors,
                              typed=body if errors else None)
    return render(request, "engagements/edit.html", ctx, status_code=409 if conflicts else 422)


@router.post("/applications/{app_id}/resolve")
async def resolve_conflicts(request: Request, app_id: str, user: PageUser, svc: Svc) -> Response:
    """The merge panel's choice: for each field both changed, keep theirs or use mine (saved on the
    current version, so it is final)."""
    form = await request.form()
    app = await _load(svc, user, app_id)
    body: dict[str, Any] = {}
    chosen = []
    for key in form:
        if not key.startswith("choice:"):
            continue
        path = key.removeprefix("choice:")
        if form.get(key) != "mine" or path not in {f for f in _field_paths()}:
            continue
        raw = str(form.get(f"mine:{path}") or "")
        value: Any = raw or None
        if path in ("background.stakeholders", "regional.partner_city_ids"):
            value = [v for v in raw.split("\n") if v.strip()] or None
        elif path in ("background.population", "project_management.timeline_months"):
            value = int(raw) if raw.isdigit() else None
        elif path == "peer_connections":
            value = raw == "True"
        elif path.startswith("economic_challenges.barriers."):
            value = raw if raw != "None" else None
        chosen.append(path)
        _set(body, path, value)
    if not chosen:
        flash(request, "Kept the other person's version of those fields.", "success")
        return see_other(f"/applications/{app['id']}/edit")
    _, response = await act(request, svc.engagements, "PATCH", f"/applications/{app['id']}", token=user.token,
                            json={**body, "version": app["version"]}, back=f"/applications/{app['id']}/edit",
                            success="Your version of those fields is saved.")
    return response


def _field_paths() -> list[str]:
    fields = ["background.lead_official_name", "background.lead_official_title", "background.population",
              "background.sponsor_name", "background.sponsor_title", "background.sponsor_commitment",
              "background.stakeholders", "project_management.manager_name", "project_management.manager_title",
              "project_management.manager_email", "project_management.timeline_months",
              "project_management.desired_start", "project_management.local_match",
              "project_management.local_match_source", "project_management.hardship_reason",
              "regional.partner_city_ids", "peer_connections", "exception_request"]
    return fields + [f"economic_challenges.barriers.{b}" for b, _ in BARRIERS]


def _set(body: dict[str, Any], path: str, value: Any) -> None:
    if path.startswith("economic_challenges.barriers."):
        body.setdefault("economic_challenges", {}).setdefault("barriers", {})[path.rsplit(".", 1)[1]] = value
    elif "." in path:
        section, name = path.split(".", 1)
        body.setdefault(section, {})[name] = value
    else:
        body[path] = value


@router.post("/applications/{app_id}/attachments")
async def upload(request: Request, app_id: str, user: PageUser, svc: Svc) -> Response:
    form = await request.form()
    upload_file = form.get("file")
    back = f"/applications/{_id(app_id)}/edit#attachments"
    if upload_file is None or not hasattr(upload_file, "read") or not upload_file.filename:
        flash(request, "Choose a file to attach.", "error")
        return see_other(back)
    data = await upload_file.read(E.ATTACHMENT_MAX_BYTES + 1)
    kind = str(form.get("kind") or "other")
    # Adding a file touches none of the form's fields: it goes on whatever version is current (the
    # page's is stale after any autosave), reloaded when someone saved in between.
    for attempt in range(3):
        current = await _load(svc, user, app_id)
        try:
            await svc.engagements.request("POST", f"/applications/{_id(app_id)}/attachments", token=user.token,
                                          data={"kind": kind, "version": str(current["version"])},
                                          files={"file": (upload_file.filename, data, upload_file.content_type
                                                          or "application/octet-stream")})
            break
        except UpstreamError as exc:
            if exc.problem().get("rule") == "version_mismatch" and attempt < 2:
                continue
            flash(request, f"The file was not attached: {problem_text(exc)}", "error")
            return see_other(back)
        except ServiceUnavailable as exc:
            flash(request, f"The file was not attached: {problem_text(exc)}", "error")
            return see_other(back)
    flash(request, f"Attached {upload_file.filename}.", "success")
    return see_other(back)


@router.post("/applications/{app_id}/attachments/{file_id}/remove")
async def remove_attachment(request: Request, app_id: str, file_id: str, user: PageUser, svc: Svc) -> Response:
    current = await _load(svc, user, app_id)  # removing a file touches no field: the current version
    _, response = await act(request, svc.engagements, "DELETE",
                            f"/applications/{_id(app_id)}/attachments/{_id(file_id)}?version={current['version']}",
                            token=user.token, back=f"/applications/{_id(app_id)}/edit#attachments",
                            success="The attachment is removed.")
    return response


@router.get("/applications/{app_id}/attachments/{file_id}")
async def download(request: Request, app_id: str, file_id: str, user: PageUser, svc: Svc) -> Response:
    upstream = await svc.engagements.request("GET", f"/applications/{_id(app_id)}/attachments/{_id(file_id)}",
                                             token=user.token)
    return Response(upstream.content, media_type=upstream.headers.get("content-type"), headers={
        "Content-Disposition": upstream.headers.get("content-disposition", "attachment"),
        "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})


@router.get("/applications/{app_id}")
async def application_page(request: Request, app_id: str, user: PageUser, svc: Svc) -> Response:
    if user.is_staff:
        return see_other(f"/staff/applications/{_id(app_id)}")
    app = await _load(svc, user, app_id)
    return render(request, "engagements/application.html", {"nav": "assistance", "a": app, "errors": [],
                                                             **_globals()})


@router.post("/applications/{app_id}/submit")
async def submit(request: Request, app_id: str, user: PageUser, svc: Svc) -> Response:
    form = await request.form()
    try:
        await svc.engagements.send_json("POST", f"/applications/{_id(app_id)}/submit", token=user.token,
                                        json={"version": version_of(form)})
    except UpstreamError as exc:
        problem = exc.problem()
        if problem.get("rule") == "application_incomplete":
            app = await _load(svc, user, app_id)
            return render(request, "engagements/application.html", {
                "nav": "assistance", "a": app, "errors": problem.get("errors") or [], **_globals()}, status_code=422)
        flash(request, problem_text(exc), "error")
        return see_other(f"/applications/{_id(app_id)}")
    except ServiceUnavailable as exc:
        flash(request, problem_text(exc), "error")
        return see_other(f"/applications/{_id(app_id)}")
    flash(request, "Your application is submitted. NRN checks eligibility first; you will see each step here.",
          "success")
    return see_other(f"/applications/{_id(app_id)}")


@router.post("/applications/{app_id}/withdraw")
async def withdraw(request: Request, app_id: str, user: PageUser, svc: Svc) -> Response:
    form = await request.form()
    _, response = await act(request, svc.engagements, "POST", f"/applications/{_id(app_id)}/withdraw",
                            token=user.token, json={"version": version_of(form), "reason": str(form.get("reason") or "")},
                            back=f"/applications/{_id(app_id)}", success="The application is withdrawn.")
    return response


@router.post("/applications/{app_id}/confirm")
async def confirm_partnership(request: Request, app_id: str, user: PageUser, svc: Svc) -> Response:
    form = await request.form()
    _, response = await act(request, svc.engagements, "POST", f"/applications/{_id(app_id)}/partner-confirmation",
                            token=user.token, json={"version": version_of(form)}, back=f"/applications/{_id(app_id)}",
                            success="Your city's partnership is confirmed.")
    return response


# --- staff: review ----------------------------------------------------------------------------------------------


@router.get("/staff/applications")
async def review_queue(request: Request, user: PageUser, svc: Svc, queue: PageText = "") -> Response:
    staff_only(user)
    managing = user.has_role("program_manager") or user.has_role("triage_lead") or user.has_role("administrator")
    if queue not in dict(QUEUES):
        queue = "screening" if managing else "mine"
    if not managing:
        queue = "mine"
    page, error = {"items": [], "counts": {}}, None
    try:
        page = await svc.engagements.get_json("/applications", params={"queue": queue, "limit": 100}, token=user.token)
    except (UpstreamError, ServiceUnavailable) as exc:
        error = problem_text(exc)
    return render(request, "engagements/staff_queue.html", {
        "nav": "applications", "queues": QUEUES if managing else [("mine", "Assigned to me")], "current": queue,
        "items": page.get("items", []), "counts": page.get("counts") or {}, "error": error, **_globals()})


@router.get("/staff/applications/{app_id}")
async def review_page(request: Request, app_id: str, user: PageUser, svc: Svc) -> Response:
    staff_only(user)
    app = await _load(svc, user, app_id)

    async def reviewers(_: None) -> Any:
        return await svc.engagements.get_json("/staff", params={"role": "reviewer"}, token=user.token)

    async def rounds(_: None) -> Any:
        return await svc.engagements.get_json("/rounds", token=user.token)

    async def history(_: None) -> Any:
        return await svc.engagements.get_json("/applications", params={"city_id": app["city_id"]}, token=user.token)

    sections = [Section("history", "The city's applications", "engagements", history)]
    if "assign_reviewer" in app.get("actions", []):
        sections.append(Section("reviewers", "Reviewers", "engagements", reviewers))
    if any(a in app.get("actions", []) for a in ("accept", "waitlist")):
        sections.append(Section("rounds", "Funding rounds", "engagements", rounds))
    out = await compose(sections, None, default_timeout=5.0)
    assigned = {r["reviewer_id"] for r in app.get("reviews") or []}
    return render(request, "engagements/staff_application.html", {
        "nav": "applications", "a": app, "reviewers": [r for r in out.sections.get("reviewers") or []
                                                        if r["id"] not in assigned],
        "rounds": out.sections.get("rounds") or [], "history": [h for h in (out.sections.get("history") or {})
                                                               .get("items", []) if h["id"] != app["id"]],
        "today": program_today().isoformat(), **_globals()}, missing=out.missing)


@router.post("/staff/applications/{app_id}/{step}")
async def review_step(request: Request, app_id: str, step: str, user: PageUser, svc: Svc) -> Response:
    staff_only(user)
    form = await request.form()
    back = f"/staff/applications/{_id(app_id)}"
    body: dict[str, Any] = {"version": version_of(form)}
    if step == "screen":
        body.update(outcome=str(form.get("outcome") or ""), note=str(form.get("note") or ""))
        success = "Screened."
    elif step == "reviewers":
        body["reviewer_id"] = str(form.get("reviewer_id") or "")
        success = "Reviewer assigned."
    elif step == "conflict":
        body["reason"] = str(form.get("reason") or "")
        _, response = await act(request, svc.engagements, "POST", f"/applications/{_id(app_id)}/conflict",
                                token=user.token, json=body, back=back, done="/staff/applications",
                                success="You stepped aside: the application is no longer shown to you.")
        return response
    elif step == "scores":
        scores: dict[str, int] = {}
        for key in form:
            if key.startswith("score:") and str(form.get(key)).isdigit():
                scores[key.removeprefix("score:")] = int(str(form.get(key)))
        body.update(scores=scores, overall=str(form.get("overall") or ""),
                    comments={k.removeprefix("comment:"): str(v) for k, v in form.items()
                              if k.startswith("comment:") and str(v).strip()})
        success = "Your score is submitted. The other reviewers' scores are now shown."
    elif step == "decision":
        decision = str(form.get("decision") or "")
        body.update(decision=decision, reason=str(form.get("reason") or ""))
        if decision in ("accept", "waitlist"):
            cents = dollars_to_cents(str(form.get("budget") or ""))
            if cents is None:
                flash(request, "Enter the budget in dollars, for example 250,000.", "error")
                return see_other(back + "#decide")
            months = str(form.get("duration_months") or "")
            body["terms"] = {"title": str(form.get("title") or ""), "scope": str(form.get("scope") or ""),
                             "budget_cents": cents, "duration_months": int(months) if months.isdigit() else 0,
                             "starts_on": str(form.get("starts_on") or ""),
                             "hardship_accepted": form.get("hardship_accepted") == "yes"}
            if form.get("round_id"):
                body["round_id"] = str(form.get("round_id"))
        success = {"accept": "Accepted: the engagement is open.", "waitlist": "Put on the waitlist.",
                   "decline": "Declined; the city sees your reason."}.get(decision, "Decided.")
    else:
        raise ProblemError(404, "Not found", "No such action.")
    try:
        await svc.engagements.send_json("POST", f"/applications/{_id(app_id)}/{step}", token=user.token, json=body)
    except UpstreamError as exc:
        problem = exc.problem()
        if problem.get("rule") == "round_at_capacity":
            flash(request, f"Not accepted: {problem.get('detail')}", "error")
        else:
            flash(request, problem_text(exc), "error")
        return see_other(back)
    except ServiceUnavailable as exc:
        flash(request, problem_text(exc), "error")
        return see_other(back)
    flash(request, success, "success")
    return see_other(back)


# --- staff: funding rounds ---------------------------------------------------------------------------------------


@router.get("/staff/rounds")
async def rounds_page(request: Request, user: PageUser, svc: Svc) -> Response:
    staff_only(user)
    rounds, error = [], None
    try:
        rounds = await svc.engagements.get_json("/rounds", token=user.token)
    except (UpstreamError, ServiceUnavailable) as exc:
        error = problem_text(exc)
    waitlists: dict[str, Any] = {}
    for r in rounds:
        if r.get("waitlisted"):
            try:
                waitlists[r["id"]] = await svc.engagements.get_json(f"/rounds/{r['id']}/waitlist", token=user.token)
            except (UpstreamError, ServiceUnavailable):
                waitlists[r["id"]] = []
    return render(request, "engagements/rounds.html", {"nav": "applications", "rounds": rounds, "waitlists": waitlists,
                                                        "error": error, "can_manage": user.can("round.manage"),
                                                        **_globals()})


@router.post("/staff/rounds")
async def create_round(request: Request, user: PageUser, svc: Svc) -> Response:
    staff_only(user)
    form = await request.form()
    capacity = str(form.get("capacity") or "")
    body = {"name": str(form.get("name") or ""), "opens_on": str(form.get("opens_on") or ""),
            "capacity": int(capacity) if capacity.isdigit() else 0}
    if form.get("closes_on"):
        body["closes_on"] = str(form.get("closes_on"))
    _, response = await act(request, svc.engagements, "POST", "/rounds", token=user.token, json=body,
                            back="/staff/rounds", success="The funding round is open.")
    return response


@router.post("/staff/rounds/{round_id}/capacity")
async def change_capacity(request: Request, round_id: str, user: PageUser, svc: Svc) -> Response:
    staff_only(user)
    form = await request.form()
    capacity = str(form.get("capacity") or "")
    body, response = await act(request, svc.engagements, "PATCH", f"/rounds/{_id(round_id)}", token=user.token,
                               json={"capacity": int(capacity) if capacity.isdigit() else -1}, back="/staff/rounds")
    if body is not None:
        promoted = len(body.get("promoted") or [])
        flash(request, f"Capacity is now {body['capacity']}." + (
            f" {promoted} application{'s' if promoted != 1 else ''} promoted from the waitlist." if promoted else ""),
            "success")
    return response


# --- engagements ------------------------------------------------------------------------------------------------


@router.get("/staff/engagements")
async def engagements_list(request: Request, user: PageUser, svc: Svc, view: PageText = "active") -> Response:
    staff_only(user)
    view = view if view in dict(ENGAGEMENT_VIEWS) else "active"
    page, error = {"items": [], "counts": {}}, None
    try:
        page = await svc.engagements.get_json("/engagements", params={"view": view, "limit": 100}, token=user.token)
    except (UpstreamError, ServiceUnavailable) as exc:
        error = problem_text(exc)
    return render(request, "engagements/staff_engagements.html", {
        "nav": "engagements", "views": ENGAGEMENT_VIEWS, "current": view, "items": page.get("items", []),
        "counts": page.get("counts") or {}, "error": error, **_globals()})


async def _engagement(svc: Any, user: Any, engagement_id: str) -> dict[str, Any]:
    e = await svc.engagements.get_json(f"/engagements/{_id(engagement_id)}", token=user.token)
    if not user.may_see_city(e.get("city_id")):
        raise ProblemError(404, "Not found", "No such engagement, or it is not your city's.")
    return e


@router.get("/engagements/{engagement_id}")
@router.get("/staff/engagements/{engagement_id}")
async def engagement_page(request: Request, engagement_id: str, user: PageUser, svc: Svc) -> Response:
    e = await _engagement(svc, user, engagement_id)

    async def peer(_: None) -> Any:
        return await svc.engagements.get_json(f"/engagements/{e['id']}/peer-context", token=user.token)

    async def staff(_: None) -> Any:
        return await svc.engagements.get_json("/staff", token=user.token)

    sections = [Section("peer", "Peer context", "engagements", peer)]
    if user.is_staff and "set_team" in e.get("actions", []):
        sections.append(Section("staff", "NRN staff", "engagements", staff))
    out = await compose(sections, None, default_timeout=5.0)
    return render(request, "engagements/engagement.html", {
        "nav": "engagements" if user.is_staff else "assistance", "e": e, "peer": out.sections.get("peer"),
        "staff": out.sections.get("staff") or [], "report_html": markdown((e.get("close_out") or {}).get("final_report")),
        "base": "/staff/engagements" if user.is_staff else "/engagements", "today": program_today().isoformat(),
        **_globals()}, missing=out.missing)


def _engagement_body(step: str, form: Any) -> tuple[str, str, dict[str, Any], str]:
    """(method, service path suffix, body, success message) for an engagement form."""
    body: dict[str, Any] = {"version": version_of(form)}
    if step == "team":
        team = []
        for member_id in form.getlist("member_id"):
            if member_id and ID.fullmatch(member_id):
                team.append({"member_id": member_id, "role": str(form.get(f"role:{member_id}") or "Team member")})
        for i in range(3):
            name = str(form.get(f"partner_name_{i}") or "").strip()
            if name:
                team.append({"name": name, "role": str(form.get(f"partner_role_{i}") or "Partner expert"),
                             "kind": "partner_expert", "organization": str(form.get(f"partner_org_{i}") or "")})
        body["team"] = team
        return "PUT", "team", body, "The team is saved."
    if step == "assessment":
        findings = [{"barrier": b, "findings": str(form.get(f"findings:{b}") or "").strip()}
                    for b in form.getlist("barrier") if b in BARRIER_LABELS]
        body.update(visited_on=str(form.get("visited_on") or ""), barriers=findings,
                    strengths=_lines(form.get("strengths")), summary=str(form.get("summary") or ""))
        return "POST", "assessment", body, "The assessment is recorded."
    if step == "work-plan":
        milestones = []
        for i in range(E.MILESTONES_MAX):
            title = str(form.get(f"m{i}_title") or "").strip()
            if not title:
                continue
            item = {"title": title, "owner": str(form.get(f"m{i}_owner") or "").strip(),
                    "due_on": str(form.get(f"m{i}_due_on") or ""), "description": str(form.get(f"m{i}_description") or "")}
            if form.get(f"m{i}_id"):
                item["id"] = str(form.get(f"m{i}_id"))
            milestones.append(item)
        body["milestones"] = milestones
        return "POST", "work-plan", body, "The work plan is proposed; the city comments, then agrees."
    if step == "comment":
        body["text"] = str(form.get("text") or "")
        if form.get("milestone_id"):
            body["milestone_id"] = str(form.get("milestone_id"))
        return "POST", "work-plan/comments", body, "Your comment is sent to the NRN team."
    if step == "agree":
        plan = str(form.get("plan_version") or "")
        body["plan_version"] = int(plan) if plan.isdigit() else 0
        return "POST", "work-plan/agreement", body, "You agreed the work plan: the work starts."
    if step.startswith("milestone:"):
        body["note"] = str(form.get("note") or "")
        return "POST", f"milestones/{_id(step.removeprefix('milestone:'))}/complete", body, "Milestone completed."
    if step == "update":
        body.update(health=str(form.get("health") or ""), text=str(form.get("text") or ""))
        return "POST", "updates", body, "Update posted."
    if step == "risk":
        body.update(description=str(form.get("description") or ""), likelihood=str(form.get("likelihood") or ""),
                    impact=str(form.get("impact") or ""), mitigation=str(form.get("mitigation") or ""),
                    status=str(form.get("status") or "open"))
        if form.get("risk_id"):
            body["risk_id"] = str(form.get("risk_id"))
        return "POST", "risks", body, "Risk recorded."
    if step == "partner":
        body.update(name=str(form.get("name") or ""), organization=str(form.get("organization") or ""),
                    role=str(form.get("role") or ""))
        return "POST", "partners", body, "Partner recorded."
    if step == "close-out":
        outcomes = [{"milestone_id": mid, "result": str(form.get(f"result:{mid}") or ""),
                     "note": str(form.get(f"note:{mid}") or "")}
                    for mid in form.getlist("milestone_id") if form.get(f"result:{mid}")]
        body.update(outcome=str(form.get("outcome") or "completed"), outcomes=outcomes,
                    final_report=str(form.get("final_report") or ""))
        return "POST", "close-out", body, "The close-out report is ready for the city to confirm."
    if step == "cancel":
        body["reason"] = str(form.get("reason") or "")
        return "POST", "cancel", body, "The engagement is cancelled; its place went to the waitlist."
    if step == "confirm":
        body["consent"] = str(form.get("consent") or "")
        return "POST", "close-out/confirmation", body, "Thank you: the engagement is closed."
    if step == "check-in":
        body["notes"] = str(form.get("notes") or "")
        return "POST", "check-in", body, "The 6-month check-in is recorded."
    raise ProblemError(404, "Not found", "No such action.")


@router.post("/engagements/{engagement_id}/{step}")
@router.post("/staff/engagements/{engagement_id}/{step}")
async def engagement_step(request: Request, engagement_id: str, step: str, user: PageUser, svc: Svc) -> Response:
    form = await request.form()
    if step == "milestone" and form.get("milestone_id"):
        step = f"milestone:{form.get('milestone_id')}"
    method, suffix, body, success = _engagement_body(step, form)
    base = "/staff/engagements" if user.is_staff else "/engagements"
    _, response = await act(request, svc.engagements, method, f"/engagements/{_id(engagement_id)}/{suffix}",
                            token=user.token, json=body, back=f"{base}/{_id(engagement_id)}", success=success)
    return response
