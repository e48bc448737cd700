"""Pages for NRN staff who look after people and cities: the verification queue and accounts (verify,
ask for more, reject, create staff, roles, deactivate, reactivate), the city registry, its CSV import
(columns listed, a template, a preview before anything is written) and eligibility exceptions."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..auth import Principal
from ..clients import ServiceUnavailable, UpstreamError
from ..deps import PageUser, Svc, allow
from ..problems import ProblemError
from .common import PageOffset, PageText, problem_field, problem_text, see_other
from .render import flash, render
from .staff import _id, _typed, staff_only

router = APIRouter()

ROLES = [("program_manager", "Program manager"), ("triage_lead", "Triage lead"),
         ("subject_matter_expert", "Subject-matter expert"), ("reviewer", "Memo reviewer"), ("curator", "Curator"),
         ("administrator", "Administrator")]
# a partner member's roles: their organization's webhooks, and confirming its pro bono volunteers
PARTNER_ROLES = [("partner_administrator", "Partner administrator (webhooks)"),
                 ("probono_coordinator", "Pro bono coordinator (confirms the organization's volunteers)")]
ROLES_BY_KIND = {"staff": ROLES, "partner_member": PARTNER_ROLES}
ROLE_WORDS = dict(ROLES + PARTNER_ROLES)
STATUS_WORDS = {"pending": "Waiting for verification", "verified": "Verified", "deactivated": "Deactivated",
                "rejected": "Sign-up refused"}
KIND_WORDS = {"official": "City official", "staff": "NRN staff", "partner_member": "Partner organization member"}
DECISION_WORDS = {"registered": "Signed up", "created": "Account created", "verified": "Verified",
                  "mailbox_confirmed": "Mailbox confirmed", "deactivated": "Deactivated", "reactivated": "Reactivated",
                  "rejected": "Sign-up refused", "information_requested": "Asked for more information",
                  "role_granted": "Role granted", "role_revoked": "Role revoked", "password_changed": "Password changed"}


async def _topics(svc: Any, user: Principal) -> list[dict[str, str]]:
    try:
        return await svc.requests311.get_json("/topics", token=user.token)
    except (UpstreamError, ServiceUnavailable):
        return []


def _words_context() -> dict[str, Any]:
    return {"status_words": STATUS_WORDS, "kind_words": KIND_WORDS, "role_words": ROLE_WORDS,
            "decision_words": DECISION_WORDS}


# --- accounts ----------------------------------------------------------------------------------------------


@router.get("/staff/accounts")
async def accounts_page(request: Request, user: PageUser, svc: Svc, status: PageText = "pending", kind: PageText = "",
                        q: PageText = "", offset: PageOffset = 0) -> Response:
    staff_only(user)
    allow(user, "account.read")
    status = status if status in (*STATUS_WORDS, "") else "pending"
    params = {"status": status or None, "kind": kind if kind in KIND_WORDS else None,
              "q": q[:100] or None, "limit": 50, "offset": max(0, offset)}
    page, error = {"items": [], "total": 0}, None
    try:
        page = await svc.accounts.get_json("/accounts", params=params, token=user.token)
    except (UpstreamError, ServiceUnavailable) as exc:
        error = problem_text(exc)
    return render(request, "staff/accounts.html", {
        "nav": "accounts", "page": page, "error": error, "status": status, "kind": kind, "q": q,
        "can_verify": user.can("account.verify"), "can_manage": user.can("account.manage"), **_words_context()})


@router.get("/staff/accounts/new")
async def new_staff_form(request: Request, user: PageUser, svc: Svc) -> Response:
    staff_only(user)
    allow(user, "account.manage")
    return await _new_staff_page(request, user, svc)


async def _new_staff_page(request: Request, user: Principal, svc: Any, *, kept: dict[str, Any] | None = None,
                          status_code: int = 200) -> Response:
    return render(request, "staff/account_new.html", {
        "nav": "accounts", "roles": ROLES, "topics": await _topics(svc, user), "kept": kept or {}},
        status_code=status_code)


@router.post("/staff/accounts/new")
async def create_staff(request: Request, user: PageUser, svc: Svc) -> Response:
    staff_only(user)
    allow(user, "account.manage")
    form = await request.form()
    roles = [r for r in form.getlist("roles") if r in ROLE_WORDS]
    expertise = [str(e) for e in form.getlist("expertise") if str(e).strip()]
    payload: dict[str, Any] = {"name": str(form.get("name") or "").strip(), "email": str(form.get("email") or "").strip(),
                               "roles": roles}
    for key in ("title", "phone"):
        if str(form.get(key) or "").strip():
            payload[key] = str(form.get(key)).strip()
    if "subject_matter_expert" in roles:
        payload["expertise"] = expertise
    try:
        response = await svc.accounts.request("POST", "/accounts/staff", token=user.token, json=payload)
    except (UpstreamError, ServiceUnavailable) as exc:
        flash(request, problem_text(exc), "error")
        kept = {"typed": _typed(form), "field": problem_field(exc) if isinstance(exc, UpstreamError) else None}
        return await _new_staff_page(request, user, svc, kept=kept,
                                     status_code=exc.status if isinstance(exc, UpstreamError) else 503)
    account = response.json()["account"]
    flash(request, f"{account['name']} can now sign in: we emailed them a link to set their password.", "success")
    return see_other(f"/staff/accounts/{account['account_id']}")


async def _account_page(request: Request, user: Principal, svc: Any, aid: str, *, kept: dict[str, Any] | None = None,
                        status_code: int = 200) -> Response:
    account = await svc.accounts.get_json(f"/accounts/{aid}", token=user.token)
    topics = await _topics(svc, user)
    organization = None
    if account.get("partner_id"):
        try:
            organization = (await svc.accounts.get_json(f"/partners/{account['partner_id']}", token=user.token))["name"]
        except (UpstreamError, ServiceUnavailable):
            organization = None  # the page still serves; the line then says "their organization"
    # a role held is not offered again, except subject-matter expert: granting it again changes the areas
    held = set(account.get("roles") or [])
    roles = [(key, label) for key, label in ROLES_BY_KIND.get(account.get("kind"), [])
             if key not in held or key == "subject_matter_expert"]
    return render(request, "staff/account.html", {
        "nav": "accounts", "a": account, "roles": roles, "topics": topics, "organization": organization,
        "kept": kept or {},
        "can": {a: user.can(a) for a in ("account.verify", "account.manage", "role.grant")},
        "topic_labels": {t["id"]: t["label"] for t in topics}, **_words_context()}, status_code=status_code)


@router.get("/staff/accounts/{account_id}")
async def account_page(request: Request, account_id: str, user: PageUser, svc: Svc) -> Response:
    staff_only(user)
    allow(user, "account.read")
    return await _account_page(request, user, svc, _id(account_id))


# account page actions: name → (method, accounts path suffix, payload from the form, permission, message)
ACCOUNT_ACTIONS: dict[str, tuple[str, str, Any, str, str]] = {
    "verify": ("POST", "verify", lambda f: None, "account.verify", "Account verified."),
    "ask": ("POST", "information-requests", lambda f: {"message": str(f.get("message") or "")}, "account.verify",
            "We emailed them your question; the account stays waiting for verification."),
    "reject": ("POST", "reject", lambda f: {"reason": str(f.get("reason") or "")}, "account.verify",
               "Sign-up refused; we emailed them the reason."),
    "deactivate": ("POST", "deactivate", lambda f: {"reason": str(f.get("reason") or "")}, "account.manage",
                   "Account deactivated."),
    "reactivate": ("POST", "reactivate", lambda f: {"reason": str(f.get("reason") or "").strip() or None},
                   "account.manage", "Account reactivated."),
    "grant": ("POST", "roles", lambda f: {"role": str(f.get("role") or ""), **(
        {"expertise": [str(e) for e in f.getlist("expertise") if str(e).strip()]}
        if f.get("role") == "subject_matter_expert" else {})}, "role.grant", "Role granted."),
}


@router.post("/staff/accounts/{account_id}/{action}")
async def account_action(request: Request, account_id: str, action: str, user: PageUser, svc: Svc) -> Response:
    staff_only(user)
    aid = _id(account_id)
    if action not in ACCOUNT_ACTIONS:
        raise ProblemError(404, "Not found", "No such action.")
    method, suffix, build, permission, message = ACCOUNT_ACTIONS[action]
    allow(user, permission)
    form = await request.form()
    back = str(form.get("back") or "")
    try:
        await svc.accounts.request(method, f"/accounts/{aid}/{suffix}", token=user.token, json=build(form))
    except (UpstreamError, ServiceUnavailable) as exc:
        flash(request, problem_text(exc), "error")
        return await _account_page(request, user, svc, aid, kept={"action": action, "typed": _typed(form)},
                                   status_code=exc.status if isinstance(exc, UpstreamError) else 503)
    flash(request, message, "success")
    return see_other(back if back.startswith("/staff/accounts") else f"/staff/accounts/{aid}")


@router.post("/staff/accounts/{account_id}/roles/{role}/revoke")
async def revoke_role(request: Request, account_id: str, role: str, user: PageUser, svc: Svc) -> Response:
    staff_only(user)
    allow(user, "role.grant")
    aid = _id(account_id)
    if role not in ROLE_WORDS:
        raise ProblemError(404, "Not found", "No such role.")
    try:
        await svc.accounts.request("DELETE", f"/accounts/{aid}/roles/{role}", token=user.token)
    except (UpstreamError, ServiceUnavailable) as exc:
        flash(request, problem_text(exc), "error")
        return see_other(f"/staff/accounts/{aid}")
    flash(request, f"Role revoked: {ROLE_WORDS[role]}.", "success")
    return see_other(f"/staff/accounts/{aid}")


# --- cities ------------------------------------------------------------------------------------------------


async def _import_format(svc: Any) -> dict[str, Any]:
    try:
        return await svc.accounts.get_json("/cities/import/format")
    except (UpstreamError, ServiceUnavailable):
        return {"columns": [], "template_csv": ""}


@router.get("/staff/cities")
async def cities_page(request: Request, user: PageUser, svc: Svc, eligible: PageText = "", state: PageText = "",
                      q: PageText = "", offset: PageOffset = 0) -> Response:
    staff_only(user)
    return await _cities_page(request, user, svc, eligible=eligible, state=state, q=q, offset=offset)


async def _cities_page(request: Request, user: Principal, svc: Any, *, eligible: str = "", state: str = "",
                       q: str = "", offset: int = 0, status_code: int = 200) -> Response:
    params = {"eligible": eligible if eligible in ("true", "false") else None, "state": state.upper()[:2] or None,
              "q": q[:100] or None, "limit": 50, "offset": max(0, offset)}
    page, error = {"items": [], "total": 0}, None
    try:
        page = await svc.accounts.get_json("/cities", params=params, token=user.token)
    except (UpstreamError, ServiceUnavailable) as exc:
        error = problem_text(exc)
    report = request.session.pop("import_report", None)
    exceptions, exceptions_error = None, None
    if user.can("eligibility.exception"):  # cities that fail every test and asked for an exception
        try:
            exceptions = (await svc.accounts.get_json("/exception-requests", params={"status": "open", "limit": 100},
                                                      token=user.token)).get("items", [])
        except (UpstreamError, ServiceUnavailable) as exc:
            exceptions_error = problem_text(exc)
    return render(request, "staff/cities.html", {
        "nav": "cities", "page": page, "error": error, "eligible": eligible, "state": state, "q": q,
        "offset": max(0, offset), "report": report, "can_import": user.can("city.import"),
        "can_except": user.can("eligibility.exception"), "exceptions": exceptions,
        "exceptions_error": exceptions_error,
        "format": await _import_format(svc) if user.can("city.import") else {}}, status_code=status_code)


@router.post("/staff/exception-requests/{request_id}/decline")
async def decline_exception_request(request: Request, request_id: str, user: PageUser, svc: Svc) -> Response:
    staff_only(user)
    allow(user, "eligibility.exception")
    form = await request.form()
    try:
        await svc.accounts.request("POST", f"/exception-requests/{_id(request_id)}/decline", token=user.token,
                                   json={"reason": str(form.get("reason") or "")})
    except (UpstreamError, ServiceUnavailable) as exc:
        flash(request, problem_text(exc), "error")
        return await _cities_page(request, user, svc, status_code=exc.status if isinstance(exc, UpstreamError) else 503)
    flash(request, "The exception request is declined.", "success")
    return see_other("/staff/cities")


@router.get("/staff/cities/import/template.csv")
async def import_template(user: PageUser, svc: Svc) -> Response:
    """The file to start an import from: every column accounts reads, with one example row."""
    staff_only(user)
    allow(user, "city.import")
    fmt = await svc.accounts.get_json("/cities/import/format")
    return Response(fmt.get("template_csv", ""), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="nrn-cities-template.csv"', "Cache-Control": "no-store"})


def _report(report: dict[str, Any]) -> dict[str, Any]:
    """The import's report as the page shows it: counts, then each row that needs attention in words."""
    rows = []
    for row in report.get("rows") or []:
        if row.get("outcome") == "failed":
            rows.append({"line": row.get("line"), "city": row.get("city"),
                         "problems": [_problem(e) for e in row.get("errors") or []]})
    changes = [{"line": r.get("line"), "city": r.get("city"), "outcome": r.get("outcome"),
                "changed": [str(c).replace("_", " ") for c in r.get("changed") or []]}
               for r in report.get("rows") or [] if r.get("outcome") in ("created", "updated")]
    return {k: report.get(k) or 0 for k in ("created", "updated", "unchanged", "failed")} | {
        "rows": rows[:50], "more_failed": max(0, len(rows) - 50), "changes": changes[:200],
        "more_changes": max(0, len(changes) - 200),
        "file_errors": [_problem(e) for e in (report.get("file_errors") or [])[:10]]}


def _problem(error: dict[str, Any]) -> str:
    """"population: 'abc' is not a whole number", or the reason alone when no column is at fault."""
    field, reason = error.get("field"), str(error.get("reason") or error.get("message") or "a problem")
    return f"{str(field).replace('_', ' ')}: {reason}" if field else reason[:1].upper() + reason[1:]


def _max_csv(request: Request) -> int:
    return request.app.state.settings.max_import_bytes


async def _read_csv(request: Request, form: Any) -> bytes | None:
    upload = form.get("file")
    if upload is not None and not isinstance(upload, str) and upload.filename:
        return await upload.read(_max_csv(request) + 1)
    text = form.get("csv_text")
    return str(text).encode() if isinstance(text, str) and text else None


@router.post("/staff/cities/import/preview")
async def import_preview(request: Request, user: PageUser, svc: Svc) -> Response:
    """What the file would change (accounts' dry run): nothing is written until "Import" is pressed."""
    staff_only(user)
    allow(user, "city.import")
    form = await request.form()
    content = await _read_csv(request, form)
    if not content:
        flash(request, "Choose a CSV file to preview.", "error")
        return await _cities_page(request, user, svc, status_code=422)
    if len(content) > _max_csv(request):
        flash(request, f"The file is larger than {_max_csv(request) // (1024 * 1024)} MiB.", "error")
        return await _cities_page(request, user, svc, status_code=413)
    try:
        response = await svc.accounts.request("POST", "/cities/import", token=user.token, params={"dry_run": "true"},
                                              files={"file": ("cities.csv", content, "text/csv")},
                                              timeout=request.app.state.settings.import_read_timeout)
    except (UpstreamError, ServiceUnavailable) as exc:
        flash(request, "The file was not read: " + problem_text(exc), "error")
        return await _cities_page(request, user, svc, status_code=exc.status if isinstance(exc, UpstreamError) else 503)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("utf-8", errors="replace")
    return render(request, "staff/cities_preview.html", {
        "nav": "cities", "report": _report(response.json()), "csv_text": text,
        "digest": hashlib.sha256(content).hexdigest()[:12]})


@router.post("/staff/cities/import")
async def import_cities(request: Request, user: PageUser, svc: Svc) -> Response:
    """Import the file (as previewed); the report shows at the top of the cities page."""
    staff_only(user)
    allow(user, "city.import")
    form = await request.form()
    content = await _read_csv(request, form)
    if not content:
        flash(request, "Choose a CSV file to import.", "error")
        return await _cities_page(request, user, svc, status_code=422)
    if len(content) > _max_csv(request):
        flash(request, f"The file is larger than {_max_csv(request) // (1024 * 1024)} MiB.", "error")
        return await _cities_page(request, user, svc, status_code=413)
    try:
        response = await svc.accounts.request("POST", "/cities/import", token=user.token,
                                              files={"file": ("cities.csv", content, "text/csv")},
                                              timeout=request.app.state.settings.import_read_timeout)
    except (UpstreamError, ServiceUnavailable) as exc:
        flash(request, "Nothing was imported: " + problem_text(exc), "error")
        return await _cities_page(request, user, svc, status_code=exc.status if isinstance(exc, UpstreamError) else 503)
    report = _report(response.json())
    # kept small in the session cookie: the counts and the first rows that need attention
    request.session["import_report"] = report | {"rows": report["rows"][:10], "changes": [],
                                                 "more_failed": report["more_failed"] + max(0, len(report["rows"]) - 10)}
    return see_other("/staff/cities#import-h")


@router.get("/staff/cities/{city_id}")
async def city_admin(request: Request, city_id: str, user: PageUser, svc: Svc) -> Response:
    staff_only(user)
    return await _city_page(request, user, svc, _id(city_id))


async def _city_page(request: Request, user: Principal, svc: Any, cid: str, *, kept: dict[str, Any] | None = None,
                     status_code: int = 200) -> Response:
    city = await svc.accounts.get_json(f"/cities/{cid}", token=user.token)
    deciders = [h.get("by") for h in city.get("exception_history") or [] if h.get("by")]
    names: dict[str, str] = {}
    if deciders and user.can("account.contact"):
        try:
            names = await svc.accounts.get_json("/people/names", params=[("ids", i) for i in deciders], token=user.token)
        except (UpstreamError, ServiceUnavailable):
            names = {}
    return render(request, "staff/city.html", {"nav": "cities", "city": city, "names": names, "kept": kept or {},
                                               "can_except": user.can("eligibility.exception")},
                  status_code=status_code)


@router.post("/staff/cities/{city_id}/exception")
async def grant_exception(request: Request, city_id: str, user: PageUser, svc: Svc) -> Response:
    staff_only(user)
    allow(user, "eligibility.exception")
    cid = _id(city_id)
    form = await request.form()
    revoke = form.get("revoke") == "1"
    path = f"/cities/{cid}/exception/revoke" if revoke else f"/cities/{cid}/exception"
    try:
        await svc.accounts.request("POST", path, token=user.token, json={"reason": str(form.get("reason") or "")})
    except (UpstreamError, ServiceUnavailable) as exc:
        flash(request, problem_text(exc), "error")
        return await _city_page(request, user, svc, cid, kept={"typed": _typed(form)},
                                status_code=exc.status if isinstance(exc, UpstreamError) else 503)
    flash(request, "Exception revoked." if revoke else "Exception granted.", "success")
    return see_other(f"/staff/cities/{cid}")
