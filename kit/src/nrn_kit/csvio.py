"""One CSV reader for every import (cities now; health indicators and others later).

A spreadsheet's header is typed by people: ``Population``, `` population`` and ``population`` are
meant as one column. Matching is therefore done on a normalised name (Unicode NFKC, trimmed of
spaces and invisible format characters such as a byte-order mark, case-folded), and a header in
which two columns normalise to the same name is **refused** — naming both as written — because
taking either one silently drops the other's values. A blank column name is refused when a row
has a value under it, for the same reason (a trailing empty column from a spreadsheet is fine).

    table = read_csv(data, required=("name", "state"), max_rows=50_000)   # raises CsvRefused
    table.unknown(KNOWN)                 # names as written that the import does not use
    for row in table.rows():             # CsvRow(line, cells) or CsvRowError(line, column, reason)
        ...

Line numbers are physical lines of the file (a quoted cell may span several), so a person can
find the row in a text editor; blank lines are skipped and are not rows. Cells are trimmed.
A cell holding a control character other than tab and line breaks (NUL, ESC, …) is an error of
its row: such a value cannot be stored or shown safely.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["CsvRefused", "CsvRow", "CsvRowError", "CsvTable", "normalise_column", "read_csv"]

# C0 controls except tab, LF and CR; DEL; C1 controls. A quoted cell may hold line breaks.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class CsvRefused(ValueError):
    """The file as a whole cannot be imported; nothing of it is applied.

    ``reason`` is a sentence for a person; ``columns`` the header names involved, as written.
    """

    def __init__(self, reason: str, *, columns: tuple[str, ...] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.columns = columns
        self.line = 1


@dataclass(frozen=True)
class CsvRow:
    """A data row: ``cells`` maps each named column (normalised) to its trimmed text."""

    line: int
    cells: dict[str, str]


@dataclass(frozen=True)
class CsvRowError:
    """A row that could not be read; ``column`` is the normalised name at fault, when there is one."""

    line: int
    column: str | None
    reason: str


def _strip(name: str) -> str:
    # str.strip() knows Unicode spaces (NBSP included) but not format characters (BOM, zero-width).
    start, end = 0, len(name)
    while start < end and (name[start].isspace() or unicodedata.category(name[start]) == "Cf"):
        start += 1
    while end > start and (name[end - 1].isspace() or unicodedata.category(name[end - 1]) == "Cf"):
        end -= 1
    return name[start:end]


def normalise_column(name: str) -> str:
    """The name a column is matched by: NFKC, trimmed of spaces and format characters, case-folded."""
    return _strip(unicodedata.normalize("NFKC", name)).casefold()


def _shown(raw: str) -> str:
    return repr(raw) if raw != raw.strip() or not raw else f'"{raw}"'


@dataclass(frozen=True)
class CsvTable:
    """A CSV file whose header has been checked; iterate :meth:`rows` for the data."""

    columns: tuple[str, ...]  # normalised, "" for a blank name
    raw_columns: tuple[str, ...]  # as written in the file
    _reader: Any  # the csv reader: its line_num counts physical lines
    max_rows: int | None

    def unknown(self, known: Iterable[str]) -> list[str]:
        """Header names (as written, trimmed) whose normalised form is not in ``known``."""
        wanted = {normalise_column(k) for k in known}
        return [_strip(raw) for raw, col in zip(self.raw_columns, self.columns, strict=True)
                if col and col not in wanted]

    def rows(self) -> Iterator[CsvRow | CsvRowError]:
        """Each non-blank row, in order; at most ``max_rows`` (one error row says the rest was left)."""
        reader = self._reader
        count = 0
        while True:
            line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield CsvRowError(line, None, f"unreadable CSV row: {exc}")
                continue
            if not cells or not any(c.strip() for c in cells):
                continue  # blank lines are not rows
            count += 1
            if self.max_rows is not None and count > self.max_rows:
                yield CsvRowError(line, None, f"the file has more than {self.max_rows} rows; the rest is ignored")
                return
            if len(cells) != len(self.columns):
                yield CsvRowError(line, None, f"expected {len(self.columns)} cells, found {len(cells)}")
                continue
            yield self._row(line, cells)

    def _row(self, line: int, cells: list[str]) -> CsvRow | CsvRowError:
        out: dict[str, str] = {}
        for index, (column, value) in enumerate(zip(self.columns, cells, strict=True), start=1):
            value = value.strip()
            if not column:
                if value:
                    return CsvRowError(line, None, f"column {index} has no name in the header, but this row has "
                                                   f"a value in it ({value[:40]!r}); name the column or empty it")
                continue
            bad = _CONTROL.search(value)
            if bad:
                return CsvRowError(line, column, f"{column} contains a control character "
                                                 f"(U+{ord(bad.group()):04X}); remove it")
            out[column] = value
        return CsvRow(line, out)


def read_csv(data: bytes | str, *, required: Iterable[str] = (), max_rows: int | None = None) -> CsvTable:
    """Decode (UTF-8, with or without a byte-order mark), read and check the header.

    Raises :class:`CsvRefused` for: text that is not UTF-8, an empty file, an unreadable header,
    two columns with the same normalised name (both named as written), a missing required column.
    """
    if isinstance(data, bytes | bytearray | memoryview):
        try:
            text = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CsvRefused(f"the file is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                             "save it as “CSV UTF-8”") from None
    else:
        text = data.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise CsvRefused("the file is empty; expected a header row") from None
    except csv.Error as exc:
        raise CsvRefused(f"unreadable CSV header: {exc}") from None
    if not any(h.strip() for h in header):
        raise CsvRefused("the first line is blank; expected a header row with the column names")
    columns = tuple(normalise_column(h) for h in header)
    first: dict[str, int] = {}
    for index, column in enumerate(columns):
        if not column:
            continue
        if column in first:
            a, b = first[column], index
            raw = (header[a], header[b])
            same = "the same name" if header[a] == header[b] else "the same name once spaces and capitals are ignored"
            raise CsvRefused(
                f"columns {a + 1} ({_shown(header[a])}) and {b + 1} ({_shown(header[b])}) have {same}; "
                "keep one of them, so no value is silently dropped", columns=raw)
        first[column] = index
    missing = [r for r in required if normalise_column(r) not in first]
    if missing:
        raise CsvRefused(f"the header lacks required column(s): {', '.join(missing)}", columns=tuple(missing))
    return CsvTable(columns, tuple(header), reader, max_rows)
