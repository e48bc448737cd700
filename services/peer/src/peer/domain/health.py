"""Municipal health data: how a city compares with its peers, measure by measure.

A city's dashboard shows, for each measure the Peer Health Group chose: the city's latest value (with
its year and source), its trend over the years on record, and the median and range of its peer
cities' values **of the same year** — a peer without a value that year is left out, never filled in
from another year.

Peers are either the cities of the same population band (``population_band``; bands below) or the
member cities of the Peer Health Group (``peer_health_group``); the city itself is never its own peer.

**The flag rule.** With at least ``MIN_PEERS`` peer values, the city is flagged when its value lies
strictly outside the peers' interquartile range (below the first quartile or above the third; a value
equal to a quartile is inside). The direction of the measure says which side is which: below Q1 is
*better* when lower is better and *worse* when higher is better, and the other way round above Q3.
Quartiles are the "inclusive" linear interpolation between order statistics (Hyndman & Fan type 7:
R's default, NumPy's default, Excel's QUARTILE.INC), computed by :func:`quantile`. With fewer peer
values no flag is given ("too few peers to compare").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from .errors import InvalidInput
from .health_catalogue import CATALOGUE, DIRECTIONS, DOMAINS, GEOGRAPHIES, Measure

MIN_PEERS = 5
ILLUSTRATIVE_SOURCE = "illustrative demo value"
ILLUSTRATIVE_WORDS = "illustrative demo value, not evidence"
PeerSet = Literal["population_band", "peer_health_group"]
PEER_SETS: dict[str, str] = {"population_band": "Cities of a similar size",
                             "peer_health_group": "The Peer Health Group's cities"}
FlagKind = Literal["better", "worse", "within", "too_few_peers", "no_value"]

# Population bands (the city's population as accounts registered it). Bounds are inclusive below.
BANDS: tuple[tuple[int, int | None, str], ...] = (
    (0, 50_000, "under 50,000 people"),
    (50_000, 100_000, "50,000 to 99,999 people"),
    (100_000, 250_000, "100,000 to 249,999 people"),
    (250_000, 500_000, "250,000 to 499,999 people"),
    (500_000, None, "500,000 people or more"),
)


def band_of(population: int | None) -> tuple[int, int | None, str] | None:
    """The band a population falls in; None for a city whose population is unknown."""
    if population is None or population < 0:
        return None
    for lo, hi, label in BANDS:
        if population >= lo and (hi is None or population < hi):
            return lo, hi, label
    return None  # pragma: no cover - the last band is open


def is_illustrative(source: str) -> bool:
    return source.strip().casefold() == ILLUSTRATIVE_SOURCE


# ---------------------------------------------------------------------------- statistics


def quantile(ordered: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0 ≤ q ≤ 1) of values already sorted ascending, by linear interpolation
    between order statistics (type 7). Raises ValueError for no values."""
    if not ordered:
        raise ValueError("no values")
    position = (len(ordered) - 1) * q
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


@dataclass(frozen=True)
class PeerSummary:
    """The peers' values of one measure and one year: how many, median, quartiles and range."""

    year: int
    count: int
    median: float
    q1: float
    q3: float
    low: float
    high: float


def summarise(values: Iterable[float], year: int) -> PeerSummary | None:
    ordered = sorted(values)
    if not ordered:
        return None
    return PeerSummary(year=year, count=len(ordered), median=quantile(ordered, 0.5), q1=quantile(ordered, 0.25),
                       q3=quantile(ordered, 0.75), low=ordered[0], high=ordered[-1])


@dataclass(frozen=True)
class Flag:
    kind: FlagKind
    words: str


def flag(value: float | None, peers: PeerSummary | None, direction: str) -> Flag:
    """The flag of one measure (see the module's rule)."""
    if value is None:
        return Flag("no_value", "No value for the city yet")
    if peers is None or peers.count < MIN_PEERS:
        n = 0 if peers is None else peers.count
        return Flag("too_few_peers", f"Too few peer cities with a value that year to compare ({n}; "
                                     f"at least {MIN_PEERS} needed)")
    lower_is_better = direction == "lower_is_better"
    if value < peers.q1:
        side = "lower than"
        good = lower_is_better
    elif value > peers.q3:
        side = "higher than"
        good = not lower_is_better
    else:
        return Flag("within", "Within the middle half of its peers")
    better = "better" if good else "worse"
    return Flag(better, f"{better.capitalize()} than most peers: {side} three quarters of them")


# ---------------------------------------------------------------------------- values


@dataclass
class HealthValue:
    """One value: a city's figure for a measure in a year, with the source it came from."""

    city_id: str
    measure_id: str
    year: int
    value: float
    source: str
    note: str = ""
    import_id: str = ""
    loaded_at: datetime | None = None

    @property
    def id(self) -> str:
        return value_id(self.city_id, self.measure_id, self.year)

    @property
    def illustrative(self) -> bool:
        return is_illustrative(self.source)

    def same_as(self, other: HealthValue) -> bool:
        return (self.value, self.source.strip(), self.note.strip()) == (other.value, other.source.strip(),
                                                                       other.note.strip())

    def to_document(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["_id"] = self.id
        doc["illustrative"] = self.illustrative
        return doc

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> HealthValue:
        return cls(city_id=doc["city_id"], measure_id=doc["measure_id"], year=doc["year"], value=doc["value"],
                   source=doc["source"], note=doc.get("note") or "", import_id=doc.get("import_id") or "",
                   loaded_at=doc.get("loaded_at"))


def value_id(city_id: str, measure_id: str, year: int) -> str:
    return f"{city_id}|{measure_id}|{year}"


# ---------------------------------------------------------------------------- measures


def measure_document(m: Measure, *, by: str | None, at: datetime) -> dict[str, Any]:
    doc = asdict(m)
    doc["_id"] = doc.pop("id")
    doc.update(defined_by=by, defined_at=at)
    return doc


def measure_from(doc: Mapping[str, Any]) -> Measure:
    return Measure(id=doc["_id"], **{k: doc[k] for k in Measure.__dataclass_fields__ if k != "id" and k in doc})


def check_measure(m: Measure) -> None:
    """A measure staff define must be complete and coherent (the shipped ones are)."""
    if m.domain not in DOMAINS:
        raise InvalidInput("unknown_domain", "choose one of the five domains", field="domain")
    if m.direction not in DIRECTIONS:
        raise InvalidInput("unknown_direction", "say whether higher or lower is better", field="direction")
    if m.geography not in GEOGRAPHIES:
        raise InvalidInput("unknown_geography", "say whether it is measured for the city or its county",
                           field="geography")
    if not (math.isfinite(m.lo) and math.isfinite(m.hi)) or m.lo >= m.hi:
        raise InvalidInput("range_inverted", "the lowest accepted value must be below the highest", field="hi")
    for name in ("name", "definition", "unit", "source"):
        if not getattr(m, name).strip():
            raise InvalidInput("blank", f"the {name} is required", field=name)


def describe(m: Measure) -> dict[str, Any]:
    """A measure as pages show it: words for the codes."""
    return {"id": m.id, "domain": m.domain, "domain_label": DOMAINS[m.domain], "name": m.name,
            "definition": m.definition, "unit": m.unit, "direction": m.direction,
            "direction_label": DIRECTIONS[m.direction], "source": m.source, "geography": m.geography,
            "geography_label": GEOGRAPHIES[m.geography], "lo": m.lo, "hi": m.hi, "decimals": m.decimals}


def ordered_measures(measures: Iterable[Measure]) -> list[Measure]:
    """Domains in the catalogue's order, then the catalogue's order (staff's own measures last)."""
    rank = {m.id: i for i, m in enumerate(CATALOGUE)}
    domains = list(DOMAINS)
    return sorted(measures, key=lambda m: (domains.index(m.domain), rank.get(m.id, len(rank)), m.name))


# ---------------------------------------------------------------------------- the dashboard


@dataclass
class MeasureRow:
    measure: Measure
    latest: HealthValue | None
    trend: list[HealthValue]
    peers: PeerSummary | None
    flag: Flag


@dataclass
class Dashboard:
    city_id: str
    peer_set: str
    peer_city_ids: list[str]
    rows: list[MeasureRow] = field(default_factory=list)

    @property
    def latest_year(self) -> int | None:
        years = [r.latest.year for r in self.rows if r.latest]
        return max(years) if years else None

    @property
    def values_shown(self) -> int:
        return sum(len(r.trend) for r in self.rows)

    @property
    def illustrative(self) -> bool:
        return any(v.illustrative for r in self.rows for v in r.trend)

    def count(self, kind: str) -> int:
        return sum(1 for r in self.rows if r.flag.kind == kind)


def build_dashboard(city_id: str, measures: Sequence[Measure], city_values: Iterable[HealthValue],
                    peer_values: Mapping[tuple[str, int], Iterable[float]], *, peer_set: str,
                    peer_city_ids: list[str], as_of: int | None = None) -> Dashboard:
    """The dashboard from the city's values and its peers' values keyed by (measure, year).

    ``as_of`` (a year) hides later years. The latest value is the city's most recent year on record;
    its peers are compared in that same year."""
    by_measure: dict[str, list[HealthValue]] = {}
    for v in city_values:
        if as_of is None or v.year <= as_of:
            by_measure.setdefault(v.measure_id, []).append(v)
    board = Dashboard(city_id=city_id, peer_set=peer_set, peer_city_ids=peer_city_ids)
    for m in measures:
        trend = sorted(by_measure.get(m.id, []), key=lambda v: v.year)
        latest = trend[-1] if trend else None
        peers = summarise(peer_values.get((m.id, latest.year), ()), latest.year) if latest else None
        board.rows.append(MeasureRow(m, latest, trend, peers, flag(latest.value if latest else None, peers,
                                                                    m.direction)))
    return board


def latest_years(values: Iterable[HealthValue], as_of: int | None = None) -> dict[str, int]:
    """Each measure's latest year among ``values`` (at most ``as_of``)."""
    out: dict[str, int] = {}
    for v in values:
        if as_of is not None and v.year > as_of:
            continue
        if v.year > out.get(v.measure_id, -1):
            out[v.measure_id] = v.year
    return out


def fmt(value: float | None, decimals: int) -> str:
    """A value as pages and the CSV write it: the measure's decimals, thousands separated."""
    if value is None:
        return ""
    return f"{value:,.{decimals}f}"
