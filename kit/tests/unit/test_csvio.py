"""The shared CSV reader: headers that collide once normalised are refused, naming both columns."""

from __future__ import annotations

import pytest

from nrn_kit.csvio import CsvRefused, CsvRow, CsvRowError, normalise_column, read_csv


def _refusal(data: bytes | str, **kw) -> CsvRefused:
    with pytest.raises(CsvRefused) as caught:
        read_csv(data, **kw)
    return caught.value


def test_the_field_report_header_is_refused_naming_both_population_columns() -> None:
    refused = _refusal("name,state,population,population_source, Population\nFlint,MI,1,Census,2\n")
    assert refused.columns == ("population", " Population")
    assert "columns 3 (\"population\") and 5 (' Population')" in refused.reason
    assert "once spaces and capitals are ignored" in refused.reason


@pytest.mark.parametrize(
    ("header", "columns"),
    [
        ("name,state,population,population", ("population", "population")),  # identical twice
        ("name,state,Population,POPULATION", ("Population", "POPULATION")),  # case
        ("name,state,population\t,population", ("population\t", "population")),  # tab
        ("name,state,population,\u00a0population\u00a0", ("population", "\u00a0population\u00a0")),  # no-break space
        ("name,state,population,\u200bpopulation", ("population", "\u200bpopulation")),  # zero-width space
        ("name,state,population,ｐｏｐｕｌａｔｉｏｎ", ("population", "ｐｏｐｕｌａｔｉｏｎ")),  # full-width letters
        ("name,state,STRASSE,straße", ("STRASSE", "straße")),  # full case folding
        ('name,state,"population ","population"', ("population ", "population")),  # quoted
        ("\ufeffname,state,Name", ("name", "Name")),  # the first column after a byte-order mark
    ],
)
def test_every_header_that_collides_after_normalising_is_refused(header: str, columns: tuple[str, str]) -> None:
    refused = _refusal(header + "\n")
    assert refused.columns == columns
    assert refused.line == 1


def test_a_collision_is_refused_even_when_both_columns_are_unknown_to_the_import() -> None:
    assert _refusal("name,state,mayor,Mayor\n").columns == ("mayor", "Mayor")


def test_a_byte_order_mark_is_not_part_of_the_first_column() -> None:
    table = read_csv("\ufeffname,state\nFlint,MI\n".encode(), required=("name",))
    assert table.columns == ("name", "state")
    table = read_csv(b"\xef\xbb\xbfname,state\nFlint,MI\n", required=("name",))
    assert [r.cells for r in table.rows()] == [{"name": "Flint", "state": "MI"}]


def test_names_are_matched_in_their_normalised_form() -> None:
    table = read_csv(" Name ,STATE\nFlint , MI\n", required=("name", "state"))
    assert table.columns == ("name", "state")
    assert table.raw_columns == (" Name ", "STATE")
    assert [r.cells for r in table.rows()] == [{"name": "Flint", "state": "MI"}]
    assert normalise_column("\ufeff Population\u200b ") == "population"


def test_unknown_columns_are_listed_as_written() -> None:
    table = read_csv("name,state, Mayor \n")
    assert table.unknown(["name", "STATE"]) == ["Mayor"]


def test_a_blank_header_column_is_fine_while_it_stays_empty() -> None:
    table = read_csv("name,state,\nFlint,MI,\nGary,IN,  \n")
    assert [r.cells for r in table.rows()] == [{"name": "Flint", "state": "MI"}, {"name": "Gary", "state": "IN"}]


def test_a_value_under_a_blank_header_is_an_error_of_its_row_never_dropped() -> None:
    rows = list(read_csv("name,state,,\nFlint,MI,,\nGary,IN,,80294\n").rows())
    assert isinstance(rows[0], CsvRow)
    error = rows[1]
    assert isinstance(error, CsvRowError) and error.line == 3
    assert "column 4 has no name" in error.reason and "80294" in error.reason


@pytest.mark.parametrize("data", ["", b"", "\ufeff", "\n\n", ",,\n"])
def test_a_file_without_a_header_is_refused(data: str | bytes) -> None:
    assert "header" in _refusal(data).reason


def test_text_that_is_not_utf8_is_refused() -> None:
    assert "not UTF-8" in _refusal(b"name,state\nM\xfcnster,XX\n").reason


def test_a_missing_required_column_is_refused() -> None:
    refused = _refusal("city,population\n", required=("name", "state"))
    assert "name, state" in refused.reason and refused.columns == ("name", "state")


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f", "\x85", "\x0b"])
def test_a_cell_with_a_control_character_is_an_error_of_its_row(char: str) -> None:
    rows = list(read_csv(f"name,state\nFl{char}int,MI\nGary,IN\n").rows())
    error = rows[0]
    assert isinstance(error, CsvRowError) and error.column == "name" and "control character" in error.reason
    assert isinstance(rows[1], CsvRow)


def test_tabs_and_line_breaks_inside_a_quoted_cell_are_text() -> None:
    [row] = list(read_csv('name,note\nFlint,"one\tline\nanother"\n').rows())
    assert isinstance(row, CsvRow) and row.cells["note"] == "one\tline\nanother"


def test_rows_carry_physical_line_numbers_and_the_cell_count_is_checked() -> None:
    rows = list(read_csv('name,state\n"Fl\nint",MI\n\nGary\n').rows())
    assert [(type(r).__name__, r.line) for r in rows] == [("CsvRow", 2), ("CsvRowError", 5)]
    assert "expected 2 cells, found 1" in rows[1].reason


def test_rows_past_the_limit_are_reported_once() -> None:
    rows = list(read_csv("name\na\nb\nc\nd\n", max_rows=2).rows())
    assert [type(r).__name__ for r in rows] == ["CsvRow", "CsvRow", "CsvRowError"]
    assert "more than 2 rows" in rows[-1].reason
