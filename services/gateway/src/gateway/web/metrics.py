"""Program metrics for staff, with server-rendered SVG charts."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..charts import bar_chart, line_chart
from ..compose import Section, compose
from ..deps import PageUser, Svc
from ..problems import ProblemError
from .render import render

router = APIRouter()

MAX_REQUESTS = 2000  # the time series reads request summaries page by page, up to this many
TOP_TOPICS = 6


async def _all_requests(svc: Any, token: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while len(items) < MAX_REQUESTS:
        page = await svc.requests311.get_json("/requests", params={"limit": 100, "cursor": cursor}, token=token)
        items.extend(page.get("items", []))
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return items


def topic_series(items: list[dict[str, Any]]) -> tuple[list[str], dict[str, list[float]]]:
    """Requests per topic per month of submission; the smaller topics folded into 'other'."""
    months = sorted({str(i.get("submitted_at", ""))[:7] for i in items if i.get("submitted_at")})
    totals = Counter(i.get("topic") or "other" for i in items)
    top = [t for t, _ in totals.most_common(TOP_TOPICS)]
    grid: dict[str, Counter[str]] = defaultdict(Counter)
    for i in items:
        if not i.get("submitted_at"):
            continue
        topic = i.get("topic") or "other"
        grid[topic if topic in top else "other"][str(i["submitted_at"])[:7]] += 1
    series = {t.replace("_", " "): [float(grid[t][m]) for m in months] for t in [*top, "other"] if grid[t]}
    return months, series


def on_time_by_month(items: list[dict[str, Any]]) -> list[tuple[str, float]]:
    per: dict[str, list[bool]] = defaultdict(list)
    for i in items:
        if i.get("submitted_at") and i.get("sla_status"):
            per[str(i["submitted_at"])[:7]].append(i["sla_status"] == "on_time")
    return [(m, round(100.0 * sum(v) / len(v), 1)) for m, v in sorted(per.items())]


@router.get("/staff/metrics")
async def metrics_page(request: Request, user: PageUser, svc: Svc) -> Response:
    if not user.can("metrics.read"):
        raise ProblemError(403, "Forbidden", "Program metrics are for administrators and program managers.")

    async def totals(_: None) -> Any:
        return await svc.requests311.get_json("/metrics", token=user.token)

    async def requests(_: None) -> Any:
        return await _all_requests(svc, user.token)

    out = await compose([Section("totals", "Program totals", "requests311", totals),
                         Section("series", "Requests over time", "requests311", requests, timeout=10.0)],
                        None, default_timeout=5.0)
    m = out.sections.get("totals") or {}
    items = out.sections.get("series") or []
    months, series = topic_series(items)
    on_time = on_time_by_month(items)
    memo_bars = [(label, float(m[key])) for label, key in (("Median calendar days", "median_days_to_memo"),
                                                           ("Median business days", "median_business_days_to_memo"))
                 if m.get(key) is not None]
    memo_bars.append(("Target (business days)", 10.0))
    by_topic = sorted(((str(k).replace("_", " "), float(v)) for k, v in (m.get("by_topic") or {}).items()),
                      key=lambda kv: -kv[1])
    return render(request, "staff/metrics.html", {
        "nav": "metrics", "m": m, "months": months, "series": series, "on_time": on_time, "memo_bars": memo_bars,
        "by_topic": by_topic,
        "chart_topics": line_chart("c-topics", "Requests by topic per month", months, series),
        "chart_memo": bar_chart("c-memo", "Time to memo", memo_bars, unit=" d"),
        "chart_on_time": bar_chart("c-ontime", "On-time rate by month of submission", on_time, unit="%", y_max=100.0),
        "chart_by_topic": bar_chart("c-bytopic", "All requests by topic", by_topic),
    }, missing=out.missing)
