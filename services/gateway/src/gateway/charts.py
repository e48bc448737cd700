"""Server-rendered SVG charts for the staff metrics page.

No JavaScript, no chart library: an inline ``<svg role="img">`` with a title and a
description for screen readers (the page also shows each chart's numbers as a table).
Colours come from attributes, never ``style``, so the CSP needs no 'unsafe-inline'.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

PALETTE = ("#0b4f8a", "#b35c00", "#1d6b34", "#7b2d8e", "#a3141e", "#00707a", "#5b5f00", "#4a5561")

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 16, 48


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if value <= step:
            return float(step)
    return float(value)


def _frame(chart_id: str, title: str, desc: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def _axes(y_max: float, unit: str) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" stroke="#4a5561"/>',
        f'<line class="axis" x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}" stroke="#4a5561"/>',
    ]
    for i in range(5):
        v = y_max * i / 4
        y = HEIGHT - BOTTOM - plot_h * i / 4
        label = f"{v:g}{unit}"
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#e1e6eb"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(label)}</text>')
    return parts


def _x_labels(labels: Sequence[str], xs: Sequence[float]) -> list[str]:
    # Thin the labels so they never overlap on a narrow chart.
    every = max(1, len(labels) // 8 + (1 if len(labels) % 8 else 0))
    return [
        f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">{escape(label)}</text>'
        for i, (label, x) in enumerate(zip(labels, xs))
        if i % every == 0
    ]


def line_chart(
    chart_id: str, title: str, periods: Sequence[str], series: Mapping[str, Sequence[float]], *, unit: str = ""
) -> Markup:
    """One line per series over the same periods (e.g. requests per topic per month)."""
    if not periods or not series:
        return _frame(chart_id, title, "No data yet.", [
            f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">No data yet</text>'
        ])
    y_max = _nice_max(max((max(v) if v else 0) for v in series.values()))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = len(periods)
    xs = [LEFT + (plot_w * (i + 0.5) / n) for i in range(n)]
    body = _axes(y_max, unit) + _x_labels(periods, xs)
    for k, (name, values) in enumerate(series.items()):
        colour = PALETTE[k % len(PALETTE)]
        pts = [(xs[i], HEIGHT - BOTTOM - plot_h * (float(v) / y_max)) for i, v in enumerate(values[:n])]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        body.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2.5" points="{path}"><title>{escape(name)}</title></polyline>')
        for (x, y), v, period in zip(pts, values, periods):
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"><title>{escape(name)}, {escape(period)}: {v:g}{escape(unit)}</title></circle>'
            )
    desc = "; ".join(f"{name}: " + ", ".join(f"{p} {v:g}" for p, v in zip(periods, vals)) for name, vals in series.items())
    return _frame(chart_id, title, desc, body)


def bar_chart(chart_id: str, title: str, bars: Sequence[tuple[str, float]], *, unit: str = "", y_max: float | None = None) -> Markup:
    """Vertical bars, one per label (e.g. days to memo per month, on-time rate per month)."""
    if not bars:
        return _frame(chart_id, title, "No data yet.", [
            f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">No data yet</text>'
        ])
    top = y_max if y_max is not None else _nice_max(max(v for _, v in bars))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = len(bars)
    slot = plot_w / n
    bar_w = min(56.0, max(4.0, slot * 0.6))
    xs = [LEFT + slot * (i + 0.5) for i in range(n)]
    body = _axes(top, unit) + _x_labels([label for label, _ in bars], xs)
    for (label, value), x in zip(bars, xs):
        h = plot_h * (min(float(value), top) / top)
        body.append(
            f'<rect x="{x - bar_w / 2:.1f}" y="{HEIGHT - BOTTOM - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{PALETTE[0]}">'
            f"<title>{escape(label)}: {value:g}{escape(unit)}</title></rect>"
        )
    desc = ", ".join(f"{label}: {value:g}{unit}" for label, value in bars)
    return _frame(chart_id, title, desc, body)


def sparkline(chart_id: str, title: str, points: Sequence[tuple[int, float]], *, unit: str = "",
              band: tuple[float, float] | None = None, decimals: int = 1) -> Markup:
    """A small trend line of one measure over the years (``points``: (year, value), ascending), for a
    table cell; ``band`` (low, high) shades the peers' middle half of the latest year. Its title and
    description say every value in words, so a screen reader reads the trend the eye sees."""
    w, h, pad = 132, 36, 4
    desc = "; ".join(f"{year}: {value:,.{decimals}f} {unit}".rstrip() for year, value in points) or "No values yet."
    if band:
        desc += f". Peers' middle half in the latest year: {band[0]:,.{decimals}f} to {band[1]:,.{decimals}f}."
    body: list[str] = []
    values = [v for _, v in points] + (list(band) if band else [])
    if points:
        lo, hi = min(values), max(values)
        span = (hi - lo) or 1.0
        years = [y for y, _ in points]
        y0, y1 = min(years), max(years)

        def x(year: int) -> float:
            return pad + (w - 2 * pad) * ((year - y0) / (y1 - y0) if y1 > y0 else 0.5)

        def y(value: float) -> float:
            return h - pad - (h - 2 * pad) * ((value - lo) / span)

        if band:
            top, bottom = y(band[1]), y(band[0])
            body.append(f'<rect x="0" y="{top:.1f}" width="{w}" height="{max(bottom - top, 1):.1f}" fill="#dfe8f1"/>')
        path = " ".join(f"{x(yr):.1f},{y(v):.1f}" for yr, v in points)
        body.append(f'<polyline fill="none" stroke="{PALETTE[0]}" stroke-width="2" points="{path}"/>')
        last_year, last = points[-1]
        body.append(f'<circle cx="{x(last_year):.1f}" cy="{y(last):.1f}" r="3" fill="{PALETTE[0]}"/>')
    return Markup(
        f'<svg class="spark" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}</desc>'
        + "".join(body) + "</svg>")
