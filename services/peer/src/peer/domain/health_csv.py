"""Health values from CSV, validated row by row: a bad row is reported with its line, the column and
the reason, and never stops the good rows.

One row is one value (long format), columns in any order, matched trimmed and case-folded by the kit's
one CSV reader (``nrn_kit.csvio``, which refuses a header where two columns are one once spaces and
capitals are ignored):

    city,state,measure,year,value,source[,fips][,note]
    Flint,MI,Obesity,2021,41.2,CDC PLACES 2023 release

``measure`` is the measure's name as the catalogue writes it ("Obesity") or its short name
("obesity"); ``city`` and ``state`` name a city the network knows (``fips``, the 7-digit Census place
code, is used first when given). Every value needs its year and its source; the source
"illustrative demo value" marks a made-up figure, shown everywhere as "illustrative demo value, not
evidence". A value outside what the measure can be (a percentage above 100) is refused. The same city,
measure and year twice in one file is refused on its second line.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from nrn_kit.csvio import CsvRowError, read_csv

from .health import HealthValue
from .health_catalogue import Measure
from .limits import HEALTH_NOTE_MAX as NOTE_MAX
from .limits import SOURCE_MAX

REQUIRED = ("city", "state", "measure", "year", "value", "source")
KNOWN = frozenset({*REQUIRED, "fips", "note"})
MAX_ROWS = 200_000
YEARS = (1900, 2100)

Resolve = Callable[[str, str, str | None], str | None]  # (city, state, fips) → city_id or None


@dataclass(frozen=True)
class RowError:
    line: int
    field: str | None
    reason: str


@dataclass
class ParsedFile:
    values: list[tuple[int, HealthValue]] = field(default_factory=list)  # (line, value)
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0


class _Bad(Exception):
    def __init__(self, field: str | None, reason: str) -> None:
        self.field, self.reason = field, reason


def _number(raw: str, m: Measure) -> float:
    text = raw.replace(",", "").replace("\u00a0", "").strip()
    if text.endswith("%"):
        text = text[:-1].strip()
    try:
        value = float(text)
    except ValueError:
        raise _Bad("value", f"{raw!r} is not a number") from None
    if not math.isfinite(value):
        raise _Bad("value", f"{raw!r} is not a number")
    if not (m.lo <= value <= m.hi):
        raise _Bad("value", f"{raw} is outside what {m.name} can be ({m.lo:g} to {m.hi:g} {m.unit})")
    return value


def _year(raw: str) -> int:
    if not re.fullmatch(r"\d{4}", raw):
        raise _Bad("year", f"{raw!r} is not a year (four digits, e.g. 2021)")
    year = int(raw)
    if not (YEARS[0] <= year <= YEARS[1]):
        raise _Bad("year", f"{year} is outside {YEARS[0]}–{YEARS[1]}")
    return year


def parse_health_csv(data: bytes | str, measures: Mapping[str, Measure], resolve: Resolve) -> ParsedFile:
    """Validate every row; bad rows are reported, never raised.

    Raises :class:`nrn_kit.csvio.CsvRefused` when the file as a whole cannot be read (not UTF-8, empty,
    two columns that are one once trimmed and case-folded, a required column missing)."""
    table = read_csv(data, required=REQUIRED, max_rows=MAX_ROWS)
    by_name = {m.name.casefold(): m for m in measures.values()} | {k.casefold(): m for k, m in measures.items()}
    out = ParsedFile()
    unknown = table.unknown(KNOWN)
    if unknown:
        out.errors.append(RowError(1, None, f"unknown column(s) ignored: {', '.join(unknown)}"))
    seen: dict[str, int] = {}
    for item in table.rows():
        out.rows += 1
        if isinstance(item, CsvRowError):
            out.errors.append(RowError(item.line, item.column, item.reason))
            continue
        cells = item.cells
        try:
            measure = by_name.get(cells.get("measure", "").casefold())
            if measure is None:
                raise _Bad("measure", f"{cells.get('measure', '')!r} is not one of the health measures")
            year = _year(cells.get("year", ""))
            value = _number(cells.get("value", ""), measure) if cells.get("value") else None
            if value is None:
                raise _Bad("value", "the value is missing")
            source = cells.get("source", "")
            if not source:
                raise _Bad("source", "every value needs its source (where the figure comes from)")
            if len(source) > SOURCE_MAX:
                raise _Bad("source", f"the source is longer than {SOURCE_MAX} characters")
            note = cells.get("note", "")
            if len(note) > NOTE_MAX:
                raise _Bad("note", f"the note is longer than {NOTE_MAX} characters")
            name, state = cells.get("city", ""), cells.get("state", "").upper()
            fips = cells.get("fips") or None
            if not name:
                raise _Bad("city", "the city is missing")
            if not re.fullmatch(r"[A-Z]{2}", state):
                raise _Bad("state", f"{cells.get('state', '')!r} is not a state code (two letters, e.g. MI)")
            if fips is not None and not re.fullmatch(r"\d{7}", fips):
                raise _Bad("fips", f"{fips!r} is not a 7-digit Census place code")
            city_id = resolve(name, state, fips)
            if city_id is None:
                raise _Bad("city", f"no city named {name}, {state} is known to the network")
        except _Bad as bad:
            out.errors.append(RowError(item.line, bad.field, bad.reason))
            continue
        v = HealthValue(city_id=city_id, measure_id=measure.id, year=year, value=value, source=source, note=note)
        if v.id in seen:
            out.errors.append(RowError(item.line, None, f"the same city, measure and year as line {seen[v.id]}"))
            continue
        seen[v.id] = item.line
        out.values.append((item.line, v))
    return out
