"""The Peer Health Group's pages: a city's health dashboard (each chosen measure with the city's value,
its trend, its peers' median and range and the flag; downloadable as CSV), the measure catalogue where
the group chooses what the dashboards show, and the staff page that imports values from CSV, names the
group and publishes dashboards. Officials see their own city's dashboard once staff published it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from .. import peer_limits as P
from ..charts import sparkline
from ..clients import ServiceUnavailable, UpstreamError
from ..deps import PageUser, Svc, allow, require_city
from ..problems import ProblemError
from .common import PageText, act, problem_text, see_other
from .render import flash, render
from .staff import _id, staff_only

router = APIRouter()
PEER_SETS = ("population_band", "peer_health_group")
FLAG_WORDS = {"better": "Better than most peers", "worse": "Worse than most peers",
              "within": "Within the middle half", "too_few_peers": "Too few peers to compare",
              "no_value": "No value yet"}


def _ctx(**kw: Any) -> dict[str, Any]:
    return {"nav": "peer", "sub": "health", "flag_words": FLAG_WORDS, "spark": sparkline, **kw}


async def _get(svc: Svc, user: PageUser, path: str, **params: Any) -> tuple[Any, str | None]:
    try:
        return await svc.peer.get_json(path, params=params or None, token=user.token), None
    except UpstreamError as exc:
        if exc.status in (403, 404):
            raise ProblemError(404, "Not found", problem_text(exc)) from exc
        return None, problem_text(exc)
    except ServiceUnavailable as exc:
        return None, problem_text(exc)


@router.get("/health-data")
async def home(request: Request, user: PageUser, svc: Svc) -> Response:
    """Staff: imports, cities and publication. An official goes to their city's dashboard."""
    if user.kind == "official" and user.city_id:
        return see_other(f"/health-data/cities/{user.city_id}")
    staff_only(user)
    allow(user, "health.manage")
    cities, error = await _get(svc, user, "/health-data/cities")
    imports, _ = await _get(svc, user, "/health-data/imports")
    catalogue, _ = await _get(svc, user, "/health-data/measures")
    groups, _ = await _get(svc, user, "/groups")
    report = request.session.pop("health_import_report", None)
    return render(request, "health/staff.html", _ctx(
        cities=cities or [], imports=imports or [], catalogue=catalogue or {}, groups=groups or [], error=error,
        report=report, max_mib=P.HEALTH_IMPORT_MAX_BYTES // (1024 * 1024)))


@router.post("/health-data/import")
async def import_values(request: Request, user: PageUser, svc: Svc) -> Response:
    staff_only(user)
    form = await request.form()
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        flash(request, "Choose a CSV file to import.", "error")
        return see_other("/health-data")
    content = await upload.read(P.HEALTH_IMPORT_MAX_BYTES + 1)
    if len(content) > P.HEALTH_IMPORT_MAX_BYTES:
        flash(request, f"The file is larger than {P.HEALTH_IMPORT_MAX_BYTES // (1024 * 1024)} MiB.", "error")
        return see_other("/health-data")
    report, response = await act(request, svc.peer, "POST", "/health-data/imports", token=user.token, back="/health-data",
                                 files={"file": (upload.filename or "health.csv", content, "text/csv")},
                                 timeout=request.app.state.settings.import_read_timeout)
    if report is not None:
        # Kept small in the session cookie: the counts and the first rows that need attention.
        request.session["health_import_report"] = {
            k: report.get(k) for k in ("rows", "created", "updated", "unchanged", "failed")} | {
            "errors": (report.get("errors") or [])[:25], "more": max(0, len(report.get("errors") or []) - 25)}
    return response


@router.post("/health-data/group")
async def name_group(request: Request, user: PageUser, svc: Svc) -> Response:
    staff_only(user)
    form = await request.form()
    _, response = await act(request, svc.peer, "PUT", "/health-data/group", token=user.token, back="/health-data",
                            success="The Peer Health Group is named.",
                            json={"group_id": str(form.get("group_id") or "")})
    return response


@router.post("/health-data/cities/{city_id}/publish")
async def publish(request: Request, city_id: str, user: PageUser, svc: Svc) -> Response:
    staff_only(user)
    cid = _id(city_id)
    form = await request.form()
    peer_set = str(form.get("peer_set") or "population_band")
    _, response = await act(request, svc.peer, "POST", f"/health-data/cities/{cid}/publish", token=user.token,
                            back=f"/health-data/cities/{cid}", success="Published: the city's officials see it now.",
                            json={"peer_set": peer_set if peer_set in PEER_SETS else "population_band"})
    return response


@router.get("/health-data/measures")
async def measures(request: Request, user: PageUser, svc: Svc) -> Response:
    """The catalogue: every measure with its definition, unit, direction, source and geography; the
    Peer Health Group's member cities (and staff) choose the ones the dashboards show."""
    allow(user, "health.catalogue")
    catalogue, error = await _get(svc, user, "/health-data/measures")
    return render(request, "health/measures.html", _ctx(catalogue=catalogue or {}, error=error,
                                                        note_max=P.COMMENT_MAX))


@router.post("/health-data/measures")
async def choose(request: Request, user: PageUser, svc: Svc) -> Response:
    form = await request.form()
    ids = [str(v) for v in form.getlist("measure_ids")][:P.MEASURE_IDS_MAX]
    if not ids:
        flash(request, "Choose at least one measure.", "error")
        return see_other("/health-data/measures")
    _, response = await act(request, svc.peer, "PUT", "/health-data/selection", token=user.token,
                            back="/health-data/measures", success=f"The dashboards now show {len(ids)} measures.",
                            json={"measure_ids": ids, "note": str(form.get("note") or "")})
    return response


def _peer_set(value: str | None) -> str:
    return value if value in PEER_SETS else "population_band"


@router.get("/health-data/cities/{city_id}")
async def dashboard(request: Request, city_id: str, user: PageUser, svc: Svc, peers: PageText = "population_band") -> Response:
    cid = _id(city_id)
    require_city(user, cid)  # another city's: 404, its existence not even confirmed
    allow(user, "health.read", city_id=cid)
    board, error = await _get(svc, user, f"/health-data/cities/{cid}/dashboard", peers=_peer_set(peers))
    for d in (board or {}).get("domains", []):
        for r in d["rows"]:
            r["trend_points"] = [(v["year"], v["value"]) for v in r["trend"]]
            r["band"] = (r["peers"]["q1"], r["peers"]["q3"]) if r["peers"] else None
    return render(request, "health/dashboard.html", _ctx(board=board, error=error, city_id=cid,
                                                         peer_set=_peer_set(peers)))


@router.get("/health-data/cities/{city_id}/dashboard.csv")
async def dashboard_csv(request: Request, city_id: str, user: PageUser, svc: Svc,
                        peers: PageText = "population_band") -> Response:
    cid = _id(city_id)
    require_city(user, cid)  # another city's: 404, its existence not even confirmed
    allow(user, "health.read", city_id=cid)
    try:
        upstream = await svc.peer.request("GET", f"/health-data/cities/{cid}/dashboard.csv",
                                          params={"peers": _peer_set(peers)}, token=user.token)
    except UpstreamError as exc:
        raise ProblemError(404, "Not found", problem_text(exc)) from exc
    return Response(upstream.content, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": upstream.headers.get("content-disposition", 'attachment; filename="health.csv"')})
