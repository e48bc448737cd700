"""City CSV import: parse and validate row by row.

A bad row is reported with its line number, the field and the reason, and never stops the
good rows. A blank cell means "this file has no figure for it" and leaves what is on record
untouched, so a file from one source (say, BLS unemployment) can update one indicator alone.
Rows are matched to cities by FIPS place code first, then by state and name, which makes
importing the same file twice a no-op.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from nrn_kit.csvio import CsvRowError, read_csv
from pydantic import BaseModel, ConfigDict

from . import events as ev
from .cities import US_STATES, City, Indicator, Indicators, city_id_for, explain_eligibility
from .emails import InvalidEmail, canonical_domain
from .errors import DomainRuleError
from .places import valid_zone, zone_at

REQUIRED_COLUMNS = ("name", "state")
INDICATOR_COLUMNS = {
    # prefix in the file -> (field on Indicators, allowed range, default year)
    "unemployment": ("unemployment_rate", (0.0, 100.0), None),
    "adult_poverty": ("adult_poverty_rate", (0.0, 100.0), None),
    "population_change": ("population_change_2000_2010", (-100.0, 1000.0), 2010),
}
KNOWN_COLUMNS = frozenset(
    {
        "name",
        "state",
        "state_fips",
        "fips_place_code",
        "geonames_id",
        "population",
        "population_year",
        "population_source",
        "official_email_domains",
        "latitude",
        "longitude",
        "time_zone",
        "unemployment_rate",
        "unemployment_year",
        "unemployment_source",
        "adult_poverty_rate",
        "adult_poverty_year",
        "adult_poverty_source",
        "population_change_2000_2010",
        "population_change_year",
        "population_change_source",
    }
)
MAX_ROWS = 50_000

# What each column holds, for the import page and its downloadable template (one source: a column
# added above without a line here fails a test).
COLUMN_HELP: dict[str, str] = {
    "name": "City name as the Census Bureau writes it (required)",
    "state": "Two-letter USPS state code, e.g. MI (required)",
    "state_fips": "Two-digit state FIPS code",
    "fips_place_code": "Seven-digit Census place code; rows are matched on it first, then on state and name",
    "geonames_id": "GeoNames id of the place",
    "population": "Residents, a whole number (required for a new city)",
    "population_year": "Year of the population figure",
    "population_source": "Where the population figure comes from",
    "unemployment_rate": "Unemployment rate in percent, e.g. 10.2 (BLS LAUS)",
    "unemployment_year": "Year of the unemployment rate (required with it)",
    "unemployment_source": "Source of the unemployment rate (required with it)",
    "adult_poverty_rate": "Share of adults in poverty in percent (Census ACS)",
    "adult_poverty_year": "Year of the poverty rate (required with it)",
    "adult_poverty_source": "Source of the poverty rate (required with it)",
    "population_change_2000_2010": "Population change 2000-2010 in percent; a loss is negative, e.g. -18.1",
    "population_change_year": "Year of the population change (2010 when left blank)",
    "population_change_source": "Source of the population change (required with it)",
    "official_email_domains": "The city's email domains, separated by ; (officials at them are verified "
                              "once they confirm their mailbox)",
    "latitude": "Latitude of the city in decimal degrees, e.g. 43.0125 (with longitude)",
    "longitude": "Longitude in decimal degrees, e.g. -83.6875 (west is negative)",
    "time_zone": "IANA time zone, e.g. America/Detroit (found from the coordinates when left blank)",
}
TEMPLATE_EXAMPLE: dict[str, str] = {
    "name": "Flint", "state": "MI", "state_fips": "26", "fips_place_code": "2629000", "population": "102434",
    "population_year": "2010", "population_source": "Census 2010", "unemployment_rate": "10.2",
    "unemployment_year": "2013", "unemployment_source": "BLS LAUS", "adult_poverty_rate": "41.2",
    "adult_poverty_year": "2012", "adult_poverty_source": "ACS 2008-2012", "population_change_2000_2010": "-18.1",
    "population_change_year": "2010", "population_change_source": "Census 2000 and 2010",
    "official_email_domains": "cityofflint.com", "latitude": "43.0125", "longitude": "-83.6875",
    "time_zone": "America/Detroit",
}


def template_csv() -> str:
    """The file to start from: every column in its usual order and one example row."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(COLUMN_HELP))
    writer.writerow([TEMPLATE_EXAMPLE.get(c, "") for c in COLUMN_HELP])
    return out.getvalue()


class CityRow(BaseModel):
    """A validated row: only the cells the file filled in are set (None = not supplied)."""

    model_config = ConfigDict(frozen=True)

    line: int
    city_id: str
    name: str
    state: str
    state_fips: str | None = None
    fips_place_code: str | None = None
    geonames_id: int | None = None
    population: int | None = None
    population_year: int | None = None
    population_source: str | None = None
    official_email_domains: tuple[str, ...] | None = None
    latitude: float | None = None
    longitude: float | None = None
    time_zone: str | None = None
    unemployment_rate: Indicator | None = None
    adult_poverty_rate: Indicator | None = None
    population_change_2000_2010: Indicator | None = None


@dataclass(frozen=True)
class RowError:
    line: int
    field: str | None
    reason: str
    city: str | None = None  # the row's name and state as written, to find it in the file


@dataclass
class ParsedFile:
    rows: list[CityRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


class _RowInvalid(Exception):
    def __init__(self, field: str | None, reason: str) -> None:
        self.field = field
        self.reason = reason


def _indicator_value_column(prefix: str) -> str:
    return "population_change_2000_2010" if prefix == "population_change" else f"{prefix}_rate"


def _int(cells: dict[str, str], name: str, *, lo: int | None = None, hi: int | None = None) -> int | None:
    raw = cells.get(name, "")
    if raw == "":
        return None
    try:
        value = int(raw.replace(",", "").replace("_", ""))
    except ValueError:
        raise _RowInvalid(name, f"{raw!r} is not a whole number") from None
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise _RowInvalid(name, f"{value} is outside {lo}..{hi}")
    return value


def _float(cells: dict[str, str], name: str, lo: float, hi: float) -> float | None:
    raw = cells.get(name, "").rstrip("%").strip()
    if raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise _RowInvalid(name, f"{raw!r} is not a number") from None
    if value != value or not (lo <= value <= hi):  # NaN or out of range
        raise _RowInvalid(name, f"{raw} is outside {lo:g}..{hi:g} (percent)")
    return value


def _indicator(cells: dict[str, str], prefix: str) -> Indicator | None:
    _, (lo, hi), default_year = INDICATOR_COLUMNS[prefix]
    value_col = _indicator_value_column(prefix)
    value = _float(cells, value_col, lo, hi)
    year = _int(cells, f"{prefix}_year", lo=1900, hi=2100)
    source = cells.get(f"{prefix}_source", "")
    if value is None:
        if year is not None or source:
            raise _RowInvalid(value_col, "a year or source is given but the value is missing")
        return None
    year = year if year is not None else default_year
    if year is None:
        raise _RowInvalid(f"{prefix}_year", f"{value_col} needs the year of the figure")
    if not source:
        raise _RowInvalid(f"{prefix}_source", f"{value_col} needs the source of the figure")
    return Indicator(value=value, year=year, source=source)


def _row(line: int, cells: dict[str, str]) -> CityRow:
    name = cells.get("name", "")
    if not name:
        raise _RowInvalid("name", "the city name is missing")
    if len(name) > 120:
        raise _RowInvalid("name", "the city name is longer than 120 characters")
    state = cells.get("state", "").upper()
    if state not in US_STATES:
        raise _RowInvalid("state", f"{cells.get('state', '')!r} is not a US state code (two letters, e.g. MI)")
    state_fips = cells.get("state_fips") or None
    if state_fips is not None and not re.fullmatch(r"\d{2}", state_fips):
        raise _RowInvalid("state_fips", f"{state_fips!r} is not a two-digit state FIPS code")
    fips = cells.get("fips_place_code") or None
    if fips is not None:
        if not re.fullmatch(r"\d{7}", fips):
            raise _RowInvalid("fips_place_code", f"{fips!r} is not a 7-digit FIPS place code (state + place)")
        if state_fips is not None and fips[:2] != state_fips:
            raise _RowInvalid("fips_place_code", f"{fips} does not start with the state FIPS code {state_fips}")
        state_fips = state_fips or fips[:2]
    domains_raw = cells.get("official_email_domains", "")
    domains: tuple[str, ...] | None = None
    if domains_raw:
        parts = []
        for d in (d.strip().lstrip("@") for d in re.split(r"[;\s]+", domains_raw) if d.strip()):
            # the same canonical form as people's addresses (IDNA, case folded), so they compare
            try:
                parts.append(canonical_domain(d))
            except InvalidEmail:
                raise _RowInvalid("official_email_domains", f"{d!r} is not a domain name") from None
        domains = tuple(sorted(set(parts)))
    population = _int(cells, "population", lo=0, hi=50_000_000)
    population_year = _int(cells, "population_year", lo=1900, hi=2100)
    population_source = cells.get("population_source") or None
    if population is not None and population_source is None:
        raise _RowInvalid("population_source", "population needs the source of the figure")
    latitude = _float(cells, "latitude", -90.0, 90.0)
    longitude = _float(cells, "longitude", -180.0, 180.0)
    if (latitude is None) != (longitude is None):
        raise _RowInvalid("longitude" if longitude is None else "latitude", "give both latitude and longitude, or neither")
    zone = cells.get("time_zone") or None
    if zone is not None:
        if not valid_zone(zone):
            raise _RowInvalid("time_zone", f"{zone!r} is not an IANA time zone name (for example America/Detroit)")
    elif latitude is not None and longitude is not None:
        zone = zone_at(latitude, longitude)
    return CityRow(
        line=line,
        city_id=city_id_for(state, name),
        name=name,
        state=state,
        state_fips=state_fips,
        fips_place_code=fips,
        geonames_id=_int(cells, "geonames_id", lo=1, hi=2**31 - 1),
        population=population,
        population_year=population_year if population is not None else None,
        population_source=population_source if population is not None else None,
        official_email_domains=domains,
        latitude=latitude,
        longitude=longitude,
        time_zone=zone,
        unemployment_rate=_indicator(cells, "unemployment"),
        adult_poverty_rate=_indicator(cells, "adult_poverty"),
        population_change_2000_2010=_indicator(cells, "population_change"),
    )


def parse_city_csv(data: bytes | str) -> ParsedFile:
    """Validate every row; bad rows are reported, never raised.

    Raises :class:`nrn_kit.csvio.CsvRefused` when the file as a whole cannot be read: not UTF-8,
    empty, two columns that are one once spaces and capitals are ignored, a required column missing.
    """
    table = read_csv(data, required=REQUIRED_COLUMNS, max_rows=MAX_ROWS)
    out = ParsedFile()
    unknown = table.unknown(KNOWN_COLUMNS)
    if unknown:
        out.errors.append(RowError(1, None, f"unknown column(s) ignored: {', '.join(unknown)}"))
    seen: dict[str, int] = {}
    for item in table.rows():
        if isinstance(item, CsvRowError):
            out.errors.append(RowError(item.line, item.column, item.reason))
            continue
        label = ", ".join(v for v in (item.cells.get("name"), item.cells.get("state")) if v) or None
        try:
            row = _row(item.line, item.cells)
        except _RowInvalid as bad:
            out.errors.append(RowError(item.line, bad.field, bad.reason, label))
            continue
        keys = [k for k in (row.fips_place_code, row.city_id) if k]
        dup = next((seen[k] for k in keys if k in seen), None)
        if dup is not None:
            out.errors.append(RowError(item.line, None, f"the same city as line {dup}", label))
            continue
        for k in keys:
            seen[k] = item.line
        out.rows.append(row)
    return out


# --- applying a row ------------------------------------------------------------------------


@dataclass
class RowOutcome:
    line: int
    city_id: str
    outcome: str  # "created" | "updated" | "unchanged"
    city: City
    events: list = field(default_factory=list)
    changed: tuple[str, ...] = ()


def _merged_indicators(current: Indicators, row: CityRow) -> Indicators:
    return Indicators(
        unemployment_rate=row.unemployment_rate or current.unemployment_rate,
        adult_poverty_rate=row.adult_poverty_rate or current.adult_poverty_rate,
        population_change_2000_2010=row.population_change_2000_2010 or current.population_change_2000_2010,
    )


def apply_row(existing: City | None, row: CityRow, now: datetime) -> RowOutcome:
    """Create or update one city from a validated row; the same row twice changes nothing.

    Raises DomainRuleError when the row cannot register a new city (it lacks a population).
    """
    if existing is None:
        if row.population is None:
            raise DomainRuleError("population is needed to register a new city", field="population")
        city = City(
            city_id=row.city_id,
            name=row.name,
            state=row.state,
            state_fips=row.state_fips,
            fips_place_code=row.fips_place_code,
            geonames_id=row.geonames_id,
            population=row.population,
            population_year=row.population_year,
            population_source=row.population_source,
            indicators=_merged_indicators(Indicators(), row),
            official_email_domains=list(row.official_email_domains or ()),
            latitude=row.latitude,
            longitude=row.longitude,
            time_zone=row.time_zone,
            registered_at=now,
            updated_at=now,
        )
        events = [ev.city_registered(city)]
        if city.indicators != Indicators():
            events.append(ev.city_indicators_updated(city))
        events.append(ev.city_eligibility_determined(city))
        return RowOutcome(row.line, city.city_id, "created", city, events)

    city = existing.model_copy(deep=True)
    updates: dict = {}
    for name in ("state_fips", "fips_place_code", "geonames_id", "population", "population_year", "population_source",
                 "latitude", "longitude", "time_zone"):
        value = getattr(row, name)
        if value is not None and value != getattr(city, name):
            updates[name] = value
    if "population" in updates and row.population_year is None and city.population_year is not None:
        updates["population_year"] = None  # the old year belongs to the old figure
    if row.official_email_domains is not None and list(row.official_email_domains) != city.official_email_domains:
        updates["official_email_domains"] = list(row.official_email_domains)
    indicators = _merged_indicators(city.indicators, row)
    if indicators != city.indicators:
        updates["indicators"] = indicators
    if not updates:
        return RowOutcome(row.line, city.city_id, "unchanged", existing)
    before = explain_eligibility(city)
    for name, value in updates.items():
        setattr(city, name, value)
    city.updated_at = now
    events: list = []
    if "time_zone" in updates:
        # CityRegistered is the city's card (name, state, zone): consumers keep the latest one
        events.append(ev.city_registered(city))
    if "indicators" in updates:
        events.append(ev.city_indicators_updated(city))
    after = explain_eligibility(city)
    if "indicators" in updates or after.eligible != before.eligible:
        events.append(ev.city_eligibility_determined(city))
    return RowOutcome(row.line, city.city_id, "updated", city, events, tuple(sorted(updates)))
