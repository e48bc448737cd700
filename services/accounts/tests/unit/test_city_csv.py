"""City CSV import: row-by-row validation with line numbers, and idempotent application."""

from datetime import UTC, datetime
from importlib.resources import files

import pytest

from accounts.domain.cities import ILLUSTRATIVE_SOURCE, City
from accounts.domain.city_csv import apply_row, parse_city_csv
from accounts.domain.errors import DomainRuleError
from nrn_kit.csvio import CsvRefused
from nrn_contracts.events.accounts import CityEligibilityDetermined, CityIndicatorsUpdated, CityRegistered

NOW = datetime(2026, 3, 1, tzinfo=UTC)

HEADER = (
    "name,state,fips_place_code,population,population_year,population_source,"
    "unemployment_rate,unemployment_year,unemployment_source,"
    "adult_poverty_rate,adult_poverty_year,adult_poverty_source,"
    "population_change_2000_2010,population_change_source,official_email_domains\n"
)
GOOD = (
    HEADER
    + "Flint,MI,2629000,102434,2010,Census 2010,10.2,2013,BLS LAUS,41.2,2012,ACS 2008-2012,-18.1,Census 2000/2010,cityofflint.com\n"
    + "Naperville,IL,1751622,141853,2010,Census 2010,5.1,2013,BLS LAUS,4.1,2012,ACS 2008-2012,5.8,Census 2000/2010,\n"
)


def test_good_file_parses_every_row() -> None:
    parsed = parse_city_csv(GOOD.encode())
    assert parsed.errors == []
    flint, naperville = parsed.rows
    assert (flint.line, flint.city_id, flint.fips_place_code, flint.state_fips) == (2, "mi-flint", "2629000", "26")
    assert flint.unemployment_rate is not None and flint.unemployment_rate.value == 10.2
    assert flint.population_change_2000_2010 is not None and flint.population_change_2000_2010.year == 2010
    assert flint.official_email_domains == ("cityofflint.com",)
    assert naperville.line == 3 and naperville.official_email_domains is None


BAD_ROWS = [
    ("Nowhere,XX,,1000,2010,Census,,,,,,,,,", "state", "not a US state"),
    (",MI,,1000,2010,Census,,,,,,,,,", "name", "missing"),
    ("Flint,MI,26290,1000,2010,Census,,,,,,,,,", "fips_place_code", "7-digit"),
    ("Flint,MI,,lots,2010,Census,,,,,,,,,", "population", "whole number"),
    ("Flint,MI,,1000,2010,Census,abc,2013,BLS,,,,,,", "unemployment_rate", "not a number"),
    ("Flint,MI,,1000,2010,Census,101,2013,BLS,,,,,,", "unemployment_rate", "outside"),
    ("Flint,MI,,1000,2010,Census,10,,BLS,,,,,,", "unemployment_year", "year"),
    ("Flint,MI,,1000,2010,Census,10,2013,,,,,,,", "unemployment_source", "source"),
    ("Flint,MI,,1000,2010,Census,,2013,BLS,,,,,,", "unemployment_rate", "value is missing"),
    ("Flint,MI,,1000,2010,,,,,,,,,,", "population_source", "source"),
    ("Flint,MI,,1000,2010,Census,,,,,,,,,not a domain", "official_email_domains", "not a domain"),
    ("Flint,MI,,1000", None, "expected 15 cells"),
]


@pytest.mark.parametrize(("row", "field", "reason"), BAD_ROWS)
def test_a_bad_row_is_reported_with_line_field_and_reason_and_good_rows_survive(row, field, reason) -> None:
    text = GOOD + row + "\n" + "Gary,IN,1827000,80294,2010,Census 2010,,,,,,,-21.9,Census 2000/2010,\n"
    parsed = parse_city_csv(text.encode())
    assert [r.name for r in parsed.rows] == ["Flint", "Naperville", "Gary"]
    assert len(parsed.errors) == 1
    error = parsed.errors[0]
    assert error.line == 4
    assert error.field == field
    assert reason in error.reason


def test_state_and_fips_must_agree_when_both_are_given() -> None:
    text = "name,state,state_fips,fips_place_code,population,population_source\nFlint,MI,26,3929000,1,Census\n"
    parsed = parse_city_csv(text)
    assert parsed.rows == []
    assert parsed.errors[0].field == "fips_place_code" and parsed.errors[0].line == 2


def test_duplicate_rows_in_one_file_are_reported_against_the_first() -> None:
    text = GOOD + "flint,mi,,102434,2010,Census 2010,,,,,,,,,\n"
    parsed = parse_city_csv(text)
    assert len(parsed.rows) == 2
    assert parsed.errors[0].line == 4 and "line 2" in parsed.errors[0].reason


def test_line_numbers_count_physical_lines_with_quoted_newlines_and_blank_lines() -> None:
    text = HEADER + '"Flint\n",MI,,1,2010,"Census\n2010",,,,,,,,,\n\n' + "Gary,XX,,1,2010,C,,,,,,,,,\n"
    parsed = parse_city_csv(text)
    assert parsed.errors[0].line == 6  # header 1, Flint spans 2-4, blank 5


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"city,population\nFlint,1\n", "required column"),
        (b"\xff\xfe\x00n", "UTF-8"),
    ],
)
def test_an_unusable_file_is_refused_whole(data: bytes, reason: str) -> None:
    with pytest.raises(CsvRefused) as caught:
        parse_city_csv(data)
    assert caught.value.line == 1 and reason in caught.value.reason


@pytest.mark.parametrize(
    ("header", "columns"),
    [
        ("name,state,population,population_source, Population", ("population", " Population")),  # the field report
        ("name,state,population,population_source,population", ("population", "population")),
        ("name,State,population,population_source,STATE", ("State", "STATE")),
        ("\ufeffname,state,population,population_source,Name", ("name", "Name")),
        ("name,state,unemployment_rate,unemployment_year,unemployment_source,Unemployment_Rate ",
         ("unemployment_rate", "Unemployment_Rate ")),
    ],
)
def test_columns_that_collide_after_trimming_and_case_folding_refuse_the_file(header: str, columns) -> None:
    row = ",".join(["Flint", "MI"] + ["1"] * (header.count(",") - 1))
    with pytest.raises(CsvRefused) as caught:
        parse_city_csv(f"{header}\n{row}\n".encode())
    assert caught.value.columns == columns
    assert all(repr(c) in caught.value.reason or f'"{c}"' in caught.value.reason for c in columns)


def test_a_value_under_a_nameless_column_fails_its_row() -> None:
    parsed = parse_city_csv("name,state,population,population_source,\nGary,IN,80294,Census,\nFlint,MI,1,C,x\n")
    assert [r.name for r in parsed.rows] == ["Gary"]
    assert parsed.errors[0].line == 3 and "no name" in parsed.errors[0].reason


@pytest.mark.parametrize(("column", "value"), [("geonames_id", "9223372036854775808"), ("population", "1" + "0" * 30),
                                               ("unemployment_year", "99999999999999999999")])
def test_numbers_past_what_is_stored_fail_their_row_by_field(column: str, value: str) -> None:
    header = "name,state,population,population_source,unemployment_rate,unemployment_source,unemployment_year,geonames_id"
    cells = {"population": "1000", "geonames_id": "", "unemployment_year": "2013"} | {column: value}
    text = (f"{header}\nGary,IN,{cells['population']},Census,9.5,BLS,{cells['unemployment_year']},{cells['geonames_id']}\n")
    parsed = parse_city_csv(text)
    assert parsed.rows == [] and (parsed.errors[0].line, parsed.errors[0].field) == (2, column)


def test_a_city_name_with_a_control_character_fails_its_row() -> None:
    parsed = parse_city_csv("name,state,population,population_source\nFl\x00int,MI,1,Census\nGary,IN,2,Census\n")
    assert [r.name for r in parsed.rows] == ["Gary"]
    assert (parsed.errors[0].line, parsed.errors[0].field) == (2, "name")


def test_unknown_columns_are_reported_but_do_not_stop_the_import() -> None:
    parsed = parse_city_csv("name,state,population,population_source,mayor\nGary,IN,80294,Census,Someone\n")
    assert len(parsed.rows) == 1
    assert "mayor" in parsed.errors[0].reason


def _apply_all(text: str, db: dict[str, City]) -> list[str]:
    outcomes = []
    for row in parse_city_csv(text).rows:
        out = apply_row(db.get(row.city_id), row, NOW)
        db[out.city_id] = out.city
        outcomes.append((out.outcome, [type(e).__name__ for e in out.events]))
    return outcomes


def test_importing_the_same_file_twice_changes_nothing() -> None:
    db: dict[str, City] = {}
    first = _apply_all(GOOD, db)
    assert first == [
        ("created", ["CityRegistered", "CityIndicatorsUpdated", "CityEligibilityDetermined"]),
        ("created", ["CityRegistered", "CityIndicatorsUpdated", "CityEligibilityDetermined"]),
    ]
    snapshot = {k: v.model_dump() for k, v in db.items()}
    assert _apply_all(GOOD, db) == [("unchanged", []), ("unchanged", [])]
    assert {k: v.model_dump() for k, v in db.items()} == snapshot


def test_a_partial_file_updates_only_what_it_has_and_redetermines_eligibility() -> None:
    db: dict[str, City] = {}
    _apply_all(GOOD, db)
    # a newer unemployment figure for Naperville alone; everything else is kept
    update = "name,state,unemployment_rate,unemployment_year,unemployment_source\nNaperville,IL,9.5,2014,BLS LAUS\n"
    [(outcome, names)] = _apply_all(update, db)
    assert outcome == "updated" and names == ["CityIndicatorsUpdated", "CityEligibilityDetermined"]
    naperville = db["il-naperville"]
    assert naperville.indicators.unemployment_rate.value == 9.5
    assert naperville.indicators.adult_poverty_rate.value == 4.1
    assert naperville.population == 141853


def test_rows_are_matched_by_fips_code_before_name() -> None:
    db: dict[str, City] = {}
    _apply_all(GOOD, db)
    row = parse_city_csv("name,state,fips_place_code\nFlint,MI,2629000\n").rows[0]
    out = apply_row(db["mi-flint"], row, NOW)
    assert out.outcome == "unchanged"


def test_a_new_city_needs_a_population() -> None:
    row = parse_city_csv("name,state\nGary,IN\n").rows[0]
    with pytest.raises(DomainRuleError) as info:
        apply_row(None, row, NOW)
    assert info.value.field == "population"


def test_new_city_events_carry_the_registry_facts() -> None:
    row = parse_city_csv(GOOD).rows[0]
    out = apply_row(None, row, NOW)
    registered, indicators, eligibility = out.events
    assert isinstance(registered, CityRegistered)
    assert (registered.city_id, registered.fips, registered.population) == ("mi-flint", "2629000", 102434)
    assert isinstance(indicators, CityIndicatorsUpdated) and indicators.adult_poverty_rate.value == 41.2
    assert isinstance(eligibility, CityEligibilityDetermined) and eligibility.eligible


def test_shipped_starter_data_is_real_and_demo_indicators_are_marked_illustrative() -> None:
    data = files("accounts") / "data"
    cities = parse_city_csv((data / "us_cities.csv").read_bytes())
    assert cities.errors == []
    assert len(cities.rows) > 1000
    assert all(r.population is not None and r.population >= 30_000 for r in cities.rows)
    by_id = {r.city_id: r for r in cities.rows}
    assert by_id["mi-detroit"].population > 500_000 and by_id["mi-detroit"].state_fips == "26"
    demo = parse_city_csv((data / "demo_indicators.csv").read_bytes())
    assert demo.errors == [] and len(demo.rows) == len(cities.rows)
    for r in demo.rows:
        for ind in (r.unemployment_rate, r.adult_poverty_rate, r.population_change_2000_2010):
            assert ind is not None and ind.source == ILLUSTRATIVE_SOURCE
