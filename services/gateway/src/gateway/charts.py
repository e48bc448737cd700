"""Server-rendered SVG charts for the staff metrics page.

No JavaScript, no chart library: an inline ``<svg role="img">`` with a title and a description for
screen readers (the page also shows each chart's numbers as a table, downloadable as CSV). Colours come
from attributes, never ``style``, so the CSP needs no 'unsafe-inline'.

What a reader needs of a chart, and what these guarantee: ticks at whole numbers for counts (never
"1.5 requests"), every bar labelled with its value and a zero bar still visible (a hairline with "0"),
category labels that never overlap (long ones go on a horizontal chart's left, months are thinned to
what fits), and a legend naming every series drawn.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

PALETTE = ("#0b4f8a", "#b35c00", "#1d6b34", "#7b2d8e", "#a3141e", "#00707a", "#5b5f00", "#4a5561")

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 22, 48
CHAR_W = 6.6  # average width of a 12 px label character, to know what fits


def scale(max_value: float, *, integer: bool = True, top: float | None = None) -> tuple[float, list[float]]:
    """The axis's top and its ticks (0 included): at most 6, at steps of 1, 2 or 5 × 10ⁿ; whole
    numbers for counts. `top` fixes the top (a percentage's 100)."""
    if top is not None:
        step = top / 4
        return top, [step * i for i in range(5)]
    if max_value <= 0:
        return 1.0, [0.0, 1.0]
    raw = max_value / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    if integer:
        step = max(1.0, math.ceil(step))
    count = math.ceil(max_value / step - 1e-9)
    return step * count, [step * i for i in range(count + 1)]


def _number(value: float, unit: str = "") -> str:
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    return f"{text}{unit}"


def _fit(label: str, width: float) -> str:
    """A label cut to the width it has (the whole label stays in the chart's title and table)."""
    room = max(3, int(width / CHAR_W))
    return label if len(label) <= room else label[: room - 1] + "…"


def _frame(chart_id: str, title: str, desc: str, body: list[str], height: int = HEIGHT) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def _empty(chart_id: str, title: str) -> Markup:
    return _frame(chart_id, title, "No data for these dates.", [
        f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">No data for these dates</text>'])


def _axes(top: float, ticks: Sequence[float], unit: str) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" stroke="#4a5561"/>',
        f'<line class="axis" x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}" stroke="#4a5561"/>',
    ]
    for v in ticks:
        y = HEIGHT - BOTTOM - plot_h * (v / top)
        if v:
            parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#e1e6eb"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(_number(v, unit))}</text>')
    return parts


def _x_labels(labels: Sequence[str], xs: Sequence[float], slot: float) -> list[str]:
    """Category labels under the x axis, thinned so that none overlaps the next."""
    widest = max((len(label) for label in labels), default=1) * CHAR_W + 8
    every = max(1, math.ceil(widest / max(slot, 1)))
    return [
        f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">{escape(label)}</text>'
        for i, (label, x) in enumerate(zip(labels, xs))
        if i % every == 0
    ]


def line_chart(chart_id: str, title: str, periods: Sequence[str], series: Mapping[str, Sequence[float]], *,
               unit: str = "", integer: bool = True) -> Markup:
    """One line per series over the same periods (e.g. requests per topic per month); the page draws
    the legend from `legend(series)`."""
    if not periods or not series:
        return _empty(chart_id, title)
    if len(periods) <= 3:
        # too few points for lines (equal values would hide each other): a bar per series in each period
        return grouped_bar_chart(chart_id, title, periods, series, unit=unit, integer=integer)
    top, ticks = scale(max((max(v) if v else 0) for v in series.values()), integer=integer)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = len(periods)
    slot = plot_w / n
    xs = [LEFT + slot * (i + 0.5) for i in range(n)]
    body = _axes(top, ticks, unit) + _x_labels(periods, xs, slot)
    for k, (name, values) in enumerate(series.items()):
        colour = PALETTE[k % len(PALETTE)]
        pts = [(xs[i], HEIGHT - BOTTOM - plot_h * (float(v) / top)) for i, v in enumerate(values[:n])]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        body.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2.5" points="{path}"><title>{escape(name)}</title></polyline>')
        for (x, y), v, period in zip(pts, values, periods):
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"><title>{escape(name)}, {escape(period)}: '
                f'{escape(_number(float(v), unit))}</title></circle>')
    desc = "; ".join(f"{name}: " + ", ".join(f"{p} {_number(float(v), unit)}" for p, v in zip(periods, vals))
                     for name, vals in series.items())
    return _frame(chart_id, title, desc, body)


def grouped_bar_chart(chart_id: str, title: str, periods: Sequence[str], series: Mapping[str, Sequence[float]], *,
                      unit: str = "", integer: bool = True) -> Markup:
    """One group per period, one bar per series in its legend colour, each labelled with its value."""
    top, ticks = scale(max((max(v) if v else 0) for v in series.values()), integer=integer)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n, k = len(periods), max(1, len(series))
    slot = plot_w / n
    bar_w = min(40.0, slot * 0.8 / k)
    xs = [LEFT + slot * (i + 0.5) for i in range(n)]
    body = _axes(top, ticks, unit) + _x_labels(periods, xs, slot)
    for j, (name, values) in enumerate(series.items()):
        colour = PALETTE[j % len(PALETTE)]
        for x, value, period in zip(xs, values, periods):
            bx = x - bar_w * k / 2 + bar_w * j
            h = max(plot_h * (min(float(value), top) / top), 1.5)
            body.append(f'<rect x="{bx:.1f}" y="{HEIGHT - BOTTOM - h:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
                        f'fill="{colour}"><title>{escape(name)}, {escape(period)}: {escape(_number(float(value), unit))}'
                        f"</title></rect>")
            if bar_w >= 14:
                body.append(f'<text x="{bx + bar_w / 2 - 1:.1f}" y="{HEIGHT - BOTTOM - h - 5:.1f}" text-anchor="middle">'
                            f"{escape(_number(float(value), unit))}</text>")
    desc = "; ".join(f"{name}: " + ", ".join(f"{p} {_number(float(v), unit)}" for p, v in zip(periods, vals))
                     for name, vals in series.items())
    return _frame(chart_id, title, desc, body)


def legend(names: Sequence[str]) -> list[tuple[str, str]]:
    """(name, colour) of every series, in the order they are drawn."""
    return [(name, PALETTE[k % len(PALETTE)]) for k, name in enumerate(names)]


def bar_chart(chart_id: str, title: str, bars: Sequence[tuple[str, float]], *, unit: str = "",
              y_max: float | None = None, integer: bool = True, colours: Sequence[int] | None = None) -> Markup:
    """Vertical bars, one per short label (months, a few measures), each labelled with its value; a zero
    bar is a hairline on the axis with "0" above it. `colours`: a palette index per bar (default all 0)."""
    if not bars:
        return _empty(chart_id, title)
    top, ticks = scale(max(v for _, v in bars), integer=integer, top=y_max)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = len(bars)
    slot = plot_w / n
    bar_w = min(56.0, max(4.0, slot * 0.6))
    xs = [LEFT + slot * (i + 0.5) for i in range(n)]
    body = _axes(top, ticks, unit) + _x_labels([_fit(label, slot * 1.9) for label, _ in bars], xs, slot)
    for i, ((label, value), x) in enumerate(zip(bars, xs)):
        h = max(plot_h * (min(float(value), top) / top), 1.5)  # a zero still shows as a hairline
        colour = PALETTE[(colours[i] if colours else 0) % len(PALETTE)]
        body.append(
            f'<rect x="{x - bar_w / 2:.1f}" y="{HEIGHT - BOTTOM - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{colour}">'
            f"<title>{escape(label)}: {escape(_number(float(value), unit))}</title></rect>")
        if slot >= 22:  # room for the value above the bar
            body.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM - h - 5:.1f}" text-anchor="middle">'
                        f"{escape(_number(float(value), unit))}</text>")
    desc = ", ".join(f"{label}: {_number(float(value), unit)}" for label, value in bars)
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


def hbar_chart(chart_id: str, title: str, bars: Sequence[tuple[str, float]], *, unit: str = "",
               integer: bool = True) -> Markup:
    """Horizontal bars for categories with long names (topics): the names on the left, each bar labelled
    with its value at its end; a zero bar is a hairline with "0"."""
    if not bars:
        return _empty(chart_id, title)
    row, label_w, top_pad = 26, 190, 8
    height = top_pad * 2 + row * len(bars) + 22
    top, ticks = scale(max(v for _, v in bars), integer=integer)
    plot_w = WIDTH - label_w - 60
    body = [f'<line class="axis" x1="{label_w}" y1="{top_pad}" x2="{label_w}" y2="{height - 22}" stroke="#4a5561"/>']
    for v in ticks:
        x = label_w + plot_w * (v / top)
        body.append(f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle">{escape(_number(v, unit))}</text>')
        if v:
            body.append(f'<line x1="{x:.1f}" y1="{top_pad}" x2="{x:.1f}" y2="{height - 22}" stroke="#e1e6eb"/>')
    for i, (label, value) in enumerate(bars):
        y = top_pad + row * i
        w = max(plot_w * (min(float(value), top) / top), 1.5)
        body.append(f'<text x="{label_w - 8}" y="{y + row / 2 + 4:.1f}" text-anchor="end">{escape(_fit(label, label_w - 12))}</text>')
        body.append(f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row - 8}" fill="{PALETTE[0]}">'
                    f"<title>{escape(label)}: {escape(_number(float(value), unit))}</title></rect>")
        body.append(f'<text x="{label_w + w + 6:.1f}" y="{y + row / 2 + 4:.1f}">{escape(_number(float(value), unit))}</text>')
    desc = ", ".join(f"{label}: {_number(float(value), unit)}" for label, value in bars)
    return _frame(chart_id, title, desc, body, height=height)
