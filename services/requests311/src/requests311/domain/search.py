"""Keyword search of the staff queue: the words of a request kept as index terms.

Staff search by what they remember of a question — a word of its title, the city, the reference, the
expert. MongoDB's `$text` is not available on every database this runs on, and a `$regex` scan reads the
whole collection, so each request stores its normalised words (`search_terms`, a multikey index) and a
search asks for documents holding every word typed. Words are compared without case or accents, and a
trailing plural "s" is dropped on both sides ("lines" finds "line").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

MAX_TERMS = 400
_WORD = re.compile(r"[0-9a-z]+")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def words(text: str) -> list[str]:
    """The searchable words of `text`, in order, without repeats (a reference "NRN-2026-00123" gives
    nrn, 2026, 00123 and 123, so it is found with or without its zeros)."""
    out: dict[str, None] = {}
    for word in _WORD.findall(_fold(text)):
        out[_stem(word)] = None
        if word.isdigit() and word.lstrip("0") and word.lstrip("0") != word:
            out[word.lstrip("0")] = None
    return list(out)


def terms(parts: Iterable[str | None]) -> list[str]:
    """Index terms of a request from its texts (title, question, city, reference, expert, …)."""
    out: dict[str, None] = {}
    for part in parts:
        for word in words(part or ""):
            out[word] = None
            if len(out) >= MAX_TERMS:
                return list(out)
    return list(out)
