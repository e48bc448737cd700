"""Program metrics for staff: server-rendered SVG charts over a range of months, each with its table of
numbers and that table as a CSV download."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..charts import bar_chart, hbar_chart, legend, line_chart
from ..compose import Section, compose
from ..deps import PageUser, Svc
from ..problems import ProblemError
from .common import PageText
from .render import render

router = APIRouter()

TOP_TOPICS = 6
MONTH = re.compile(r"\d{4}-\d{2}")
TABLES = {"submitted": "Questions and memos by month", "topics-by-month": "Questions per topic per month",
          "on-time": "On-time rate by month", "time-to-memo": "Time to memo", "by-topic": "Questions by topic"}


def topic_series(by_month: list[dict[str, Any]], names: dict[str, str]) -> tuple[list[str], dict[str, list[float]]]:
    """Questions per topic per month of submission; the smaller topics folded into "Other topics"."""
    months = [str(m["month"]) for m in by_month]
    totals: Counter[str] = Counter()
    for m in by_month:
        totals.update(m.get("by_topic") or {})
    top = [t for t, _ in totals.most_common(TOP_TOPICS)]
    grid: dict[str, Counter[str]] = defaultdict(Counter)
    for m in by_month:
        for topic, n in (m.get("by_topic") or {}).items():
            grid[topic if topic in top else "~other"][str(m["month"])] += n
    label = {**names, "~other": "Other topics"}
    series = {label.get(t, t.replace("_", " ").capitalize()): [float(grid[t][mo]) for mo in months]
              for t in [*top, "~other"] if grid[t]}
    return months, series


def on_time_by_month(by_month: list[dict[str, Any]]) -> list[tuple[str, float]]:
    """The share of decided service-level steps met, by month of submission."""
    return [(str(m["month"]), round(100.0 * m["on_time_rate"], 1)) for m in by_month
            if m.get("on_time_rate") is not None]


def month_words(month: str) -> str:
    """"2026-10" → "Oct 2026"."""
    names = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    try:
        year, number = month.split("-")
        return f"{names[int(number) - 1]} {year}"
    except (ValueError, IndexError):
        return month


async def _figures(user: Any, svc: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, str], list[Any]]:
    async def totals(_: None) -> Any:
        return await svc.requests311.get_json("/metrics", token=user.token)

    async def levels(_: None) -> Any:
        return await svc.requests311.get_json("/service-levels", token=user.token)

    async def topics(_: None) -> Any:
        return await svc.requests311.get_json("/topics", token=user.token)

    out = await compose([Section("totals", "Program totals", "requests311", totals),
                         Section("levels", "Service levels", "requests311", levels),
                         Section("topics", "Topic names", "requests311", topics)],
                        None, default_timeout=5.0)
    names = {t["id"]: t["label"] for t in out.sections.get("topics") or []}
    return out.sections.get("totals") or {}, out.sections.get("levels") or {}, names, out.missing


def _tables(m: dict[str, Any], levels: dict[str, Any], names: dict[str, str], start: str, end: str
            ) -> dict[str, Any]:
    """Every table the page shows, for the months from `start` to `end` (inclusive)."""
    by_month = [x for x in m.get("by_month") or [] if start <= str(x.get("month")) <= end]
    months, series = topic_series(by_month, names)
    topic_totals: Counter[str] = Counter()
    for x in by_month:
        topic_totals.update(x.get("by_topic") or {})
    memo_bars = [(label, float(m[key])) for label, key in (("Median calendar days", "median_days_to_memo"),
                                                           ("Median business days", "median_business_days_to_memo"))
                 if m.get(key) is not None]
    target = levels.get("memo_business_days")
    if target is not None:
        memo_bars.append(("Target (business days)", float(target)))
    return {
        "by_month": by_month, "months": months, "series": series,
        "submitted": [(str(x["month"]), int(x.get("submitted") or 0), int(x.get("memos_delivered") or 0))
                      for x in by_month],
        "on_time": [(str(x["month"]), int(x.get("steps_decided") or 0), int(x.get("steps_on_time") or 0),
                     None if x.get("on_time_rate") is None else round(100.0 * x["on_time_rate"], 1))
                    for x in by_month],
        "memo_bars": memo_bars,
        # every topic of the taxonomy, a topic with no question included: its zero is a fact too
        "by_topic": sorted(((names.get(t, t.replace("_", " ").capitalize()), float(topic_totals.get(t, 0)))
                            for t in (names or topic_totals)), key=lambda kv: (-kv[1], kv[0])),
    }


def _range(m: dict[str, Any], start: str, end: str) -> tuple[list[str], str, str]:
    available = sorted({str(x.get("month")) for x in m.get("by_month") or [] if MONTH.fullmatch(str(x.get("month")))})
    if not available:
        return [], "", ""
    end = end if end in available else available[-1]
    start = start if start in available and start <= end else available[max(0, available.index(end) - 11)]
    return available, start, end


@router.get("/staff/metrics")
async def metrics_page(request: Request, user: PageUser, svc: Svc, start: PageText = "", end: PageText = "") -> Response:
    if not user.can("metrics.read"):
        raise ProblemError(403, "Forbidden", "Program metrics are for administrators and program managers.")
    m, levels, names, missing = await _figures(user, svc)
    available, start, end = _range(m, start, end)
    t = _tables(m, levels, names, start, end)
    on_time = [(month_words(mo), rate) for mo, _, _, rate in t["on_time"] if rate is not None]
    in_range = {"submitted": sum(s for _, s, _ in t["submitted"]), "memos": sum(d for _, _, d in t["submitted"]),
                "decided": sum(d for _, d, _, _ in t["on_time"]), "on_time": sum(o for _, _, o, _ in t["on_time"])}
    series_months = [month_words(mo) for mo in t["months"]]
    return render(request, "staff/metrics.html", {
        "nav": "metrics", "m": m, "t": t, "in_range": in_range, "available": available, "start": start, "end": end,
        "month_words": month_words, "tables": TABLES, "legend": legend(list(t["series"])),
        "series_months": series_months,
        "chart_topics": line_chart("c-topics", "Questions per topic per month", series_months, t["series"]),
        "chart_submitted": bar_chart("c-submitted", "Questions asked per month",
                                     [(month_words(mo), float(s)) for mo, s, _ in t["submitted"]]),
        "chart_memo": bar_chart("c-memo", "Time to memo", t["memo_bars"], unit=" d", integer=False,
                                colours=[1 if label.startswith("Target") else 0 for label, _ in t["memo_bars"]]),
        "chart_on_time": bar_chart("c-ontime", "On-time rate by month of submission", on_time, unit="%", y_max=100.0),
        "chart_by_topic": hbar_chart("c-bytopic", "Questions by topic", t["by_topic"]),
    }, missing=missing)


@router.get("/staff/metrics/{table}.csv")
async def metrics_csv(table: str, user: PageUser, svc: Svc, start: PageText = "", end: PageText = "") -> Response:
    """One of the page's tables as CSV, for the same months."""
    if not user.can("metrics.read"):
        raise ProblemError(403, "Forbidden", "Program metrics are for administrators and program managers.")
    if table not in TABLES:
        raise ProblemError(404, "Not found", "No such table.")
    m, levels, names, _ = await _figures(user, svc)
    _, start, end = _range(m, start, end)
    t = _tables(m, levels, names, start, end)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    if table == "submitted":
        w.writerow(["month", "questions asked", "memos delivered"])
        w.writerows(t["submitted"])
    elif table == "topics-by-month":
        w.writerow(["topic", *t["months"]])
        w.writerows([name, *(int(v) for v in values)] for name, values in t["series"].items())
    elif table == "on-time":
        w.writerow(["month", "steps decided", "steps on time", "on-time rate (%)"])
        w.writerows([mo, d, o, "" if r is None else r] for mo, d, o, r in t["on_time"])
    elif table == "time-to-memo":
        w.writerow(["measure", "days (all time)"])
        w.writerows(t["memo_bars"])
    else:
        w.writerow(["topic", "questions"])
        w.writerows((name, int(v)) for name, v in t["by_topic"])
    name = f"nrn-{table}-{start}-to-{end}.csv" if start else f"nrn-{table}.csv"
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
