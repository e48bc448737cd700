"""The health dashboard's arithmetic and its CSV reader, without a database.

Peer medians, quartiles and flags are checked against a plain reference computation (sorting and
indexing by hand, the textbook type-7 rule) over generated values, ties and missing years included."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nrn_kit.csvio import CsvRefused
from peer.domain.health import (
    MIN_PEERS,
    HealthValue,
    PeerSummary,
    band_of,
    build_dashboard,
    flag,
    quantile,
    summarise,
)
from peer.domain.health_catalogue import BY_ID, CATALOGUE, DOMAINS
from peer.domain.health_csv import parse_health_csv


def reference_quantile(values: list[float], q: float) -> float:
    """Type 7 written the long way: h = (n-1)q + 1 (1-based), then interpolate."""
    xs = sorted(values)
    h = (len(xs) - 1) * q + 1
    lo = int(math.floor(h))
    frac = h - lo
    if lo >= len(xs):
        return xs[-1]
    return xs[lo - 1] + frac * (xs[lo] - xs[lo - 1])


values_st = st.lists(st.integers(0, 50).map(lambda i: i / 2), min_size=1, max_size=40)  # many ties


@given(values_st)
def test_quartiles_and_median_match_the_reference(values: list[float]) -> None:
    s = summarise(values, 2021)
    assert s is not None and s.count == len(values)
    for got, q in ((s.q1, 0.25), (s.median, 0.5), (s.q3, 0.75)):
        assert math.isclose(got, reference_quantile(values, q), abs_tol=1e-9)
    assert (s.low, s.high) == (min(values), max(values))
    assert s.low <= s.q1 <= s.median <= s.q3 <= s.high


def test_median_of_an_even_count_and_of_ties() -> None:
    assert quantile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    s = summarise([5.0] * 6, 2020)
    assert s is not None and (s.q1, s.median, s.q3) == (5.0, 5.0, 5.0)
    assert flag(5.0, s, "lower_is_better").kind == "within"  # equal to both quartiles: inside
    assert summarise([], 2020) is None


def reference_flag(value: float | None, peers: list[float], direction: str) -> str:
    if value is None:
        return "no_value"
    if len(peers) < MIN_PEERS:
        return "too_few_peers"
    q1, q3 = reference_quantile(peers, 0.25), reference_quantile(peers, 0.75)
    if q1 <= value <= q3:
        return "within"
    low = value < q1
    good = low if direction == "lower_is_better" else not low
    return "better" if good else "worse"


@given(st.one_of(st.none(), st.integers(0, 50).map(lambda i: i / 2)), st.lists(st.integers(0, 50).map(
    lambda i: i / 2), max_size=20), st.sampled_from(["lower_is_better", "higher_is_better"]))
def test_the_flag_matches_the_reference_with_the_direction(value, peers, direction) -> None:  # noqa: ANN001
    s = summarise(peers, 2021)
    assert flag(value, s, direction).kind == reference_flag(value, peers, direction)


def test_direction_decides_better_or_worse() -> None:
    s = PeerSummary(year=2021, count=8, median=20, q1=15, q3=25, low=10, high=30)
    assert flag(10, s, "lower_is_better").kind == "better"
    assert flag(10, s, "higher_is_better").kind == "worse"
    assert flag(30, s, "lower_is_better").kind == "worse"
    assert flag(30, s, "higher_is_better").kind == "better"
    assert flag(15, s, "lower_is_better").kind == "within"
    few = PeerSummary(year=2021, count=MIN_PEERS - 1, median=20, q1=15, q3=25, low=10, high=30)
    assert flag(10, few, "lower_is_better").kind == "too_few_peers"
    assert "4" in flag(10, few, "lower_is_better").words


def test_peers_are_compared_in_the_citys_latest_year_and_missing_years_are_left_out() -> None:
    m = BY_ID["obesity"]
    city = [HealthValue("c", "obesity", y, v, "CDC PLACES") for y, v in ((2019, 30.0), (2021, 40.0))]
    peers = {("obesity", 2021): [20.0, 21, 22, 23, 24], ("obesity", 2020): [99.0] * 9}
    board = build_dashboard("c", [m], city, peers, peer_set="population_band", peer_city_ids=list("abcde"))
    (row,) = board.rows
    assert row.latest is not None and row.latest.year == 2021
    assert [v.year for v in row.trend] == [2019, 2021]
    assert row.peers is not None and row.peers.year == 2021 and row.peers.median == 22
    assert row.flag.kind == "worse"  # obesity: lower is better, and 40 is above the peers' Q3
    earlier = build_dashboard("c", [m], city, peers, peer_set="population_band", peer_city_ids=[], as_of=2020)
    assert earlier.rows[0].latest.year == 2019 and earlier.rows[0].peers is None  # no peer values in 2019
    assert earlier.rows[0].flag.kind == "too_few_peers"


def test_the_catalogue_is_36_complete_measures_in_five_domains() -> None:
    assert len(CATALOGUE) == 36
    assert {m.domain for m in CATALOGUE} == set(DOMAINS)
    for m in CATALOGUE:
        assert m.definition.strip() and m.unit.strip() and m.source.strip() and m.lo < m.hi
    assert band_of(75_000) is not None and band_of(None) is None


CITIES = {("Flint", "MI"): "city-flint", ("Gary", "IN"): "city-gary"}


def resolve(name: str, state: str, fips: str | None) -> str | None:
    return CITIES.get((name, state))


def test_a_csv_reports_each_bad_row_by_line_and_keeps_the_good() -> None:
    data = ("City,State,Measure,Year,Value,Source\n"
            "Flint,MI,Obesity,2021,41.2,CDC PLACES\n"
            "Flint,MI,Obesity,2021,41.2,CDC PLACES\n"      # 3: same city, measure, year
            "Flint,MI,Obesity,2021,,CDC PLACES\n"           # 4: no value
            "Flint,MI,obesity,2020,140,CDC PLACES\n"        # 5: over 100 percent
            "Flint,MI,Obesity,2019,40,\n"                   # 6: no source
            "Atlantis,MI,Obesity,2019,40,CDC PLACES\n"      # 7: unknown city
            "Gary,IN,Not a measure,2019,40,CDC PLACES\n"    # 8: unknown measure
            "Gary,IN,smoking,20x1,20,CDC PLACES\n"          # 9: year
            "Gary,IN,Smoking,2021,\"19.5\",illustrative demo value\n")
    parsed = parse_health_csv(data.encode(), {m.id: m for m in CATALOGUE}, resolve)
    assert parsed.rows == 9
    assert [(e.line, e.field) for e in parsed.errors] == [
        (3, None), (4, "value"), (5, "value"), (6, "source"), (7, "city"), (8, "measure"), (9, "year")]
    assert [(line, v.city_id, v.measure_id) for line, v in parsed.values] == [(2, "city-flint", "obesity"),
                                                                           (10, "city-gary", "smoking")]
    assert parsed.values[1][1].illustrative and not parsed.values[0][1].illustrative


def test_a_csv_with_two_columns_that_are_one_is_refused_whole() -> None:
    with pytest.raises(CsvRefused):
        parse_health_csv(b"city,state,measure,year,value,source,Source\n", {m.id: m for m in CATALOGUE}, resolve)
    with pytest.raises(CsvRefused):
        parse_health_csv(b"city,state,measure,year,value\nFlint,MI,Obesity,2021,4\n", {m.id: m for m in CATALOGUE},
                         resolve)
