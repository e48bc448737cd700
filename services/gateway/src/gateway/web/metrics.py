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

TOP_TOPICS = 6


def topic_series(by_month: list[dict[str, Any]]) -> tuple[list[str], dict[str, list[float]]]:
    """Requests per topic per month of submission; the smaller topics folded into 'other'."""
    months = [str(m["month"]) for m in by_month]
    totals: Counter[str] = Counter()
    for m in by_month:
        totals.update(m.get("by_topic") or {})
    top = [t for t, _ in totals.most_common(TOP_TOPICS)]
    grid: dict[str, Counter[str]] = defaultdict(Counter)
    for m in by_month:
        for topic, n in (m.get("by_topic") or {}).items():
            grid[topic if topic in top else "other"][str(m["month"])] += n
    series = {t.replace("_", " "): [float(grid[t][mo]) for mo in months] for t in [*top, "other"] if grid[t]}
    return months, series


def on_time_by_month(by_month: list[dict[str, Any]]) -> list[tuple[str, float]]:
    """The share of decided service-level steps met, by month of submission."""
    return [(str(m["month"]), round(100.0 * m["on_time_rate"], 1)) for m in by_month
            if m.get("on_time_rate") is not None]


@router.get("/staff/metrics")
async def metrics_page(request: Request, user: PageUser, svc: Svc) -> Response:
    if not user.can("metrics.read"):
        raise ProblemError(403, "Forbidden", "Program metrics are for administrators and program managers.")

    async def totals(_: None) -> Any:
        return await svc.requests311.get_json("/metrics", token=user.token)

    async def levels(_: None) -> Any:
        return await svc.requests311.get_json("/service-levels", token=user.token)

    out = await compose([Section("totals", "Program totals", "requests311", totals),
                         Section("levels", "Service levels", "requests311", levels)],
                        None, default_timeout=5.0)
    m = out.sections.get("totals") or {}
    by_month = m.get("by_month") or []
    months, series = topic_series(by_month)
    on_time = on_time_by_month(by_month)
    memo_bars = [(label, float(m[key])) for label, key in (("Median calendar days", "median_days_to_memo"),
                                                           ("Median business days", "median_business_days_to_memo"))
                 if m.get(key) is not None]
    target = (out.sections.get("levels") or {}).get("memo_business_days")
    if target is not None:
        memo_bars.append(("Target (business days)", float(target)))
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
