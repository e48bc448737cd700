"""A query language that cannot fail: whatever a person types becomes a valid query.

Supported: plain words (ranked, most must match), "quoted phrases" (must match as a phrase),
-word and -"phrase" (must not match). Everything else — operators, brackets, field prefixes,
wildcards, control characters, any unicode — is treated as text or dropped. The result is
built with tantivy's query objects, never with its string parser, so no input can be a
syntax error.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

MAX_QUERY_CHARS = 512
MAX_TERMS = 24
MAX_PHRASES = 6
MAX_PHRASE_WORDS = 12

_PHRASE_RE = re.compile(r'(-?)"([^"]*)"?')
# a leading "-" negates only at the start of a word ("-toolkit"), not inside one ("e-mail")
_WORD_RE = re.compile(r"(?:(?<!\S)(-))?([^\W_]+(?:['’][^\W_]+)*)", re.UNICODE)
_OPERATORS = {"AND", "OR", "NOT", "&&", "||", "TO"}


@dataclass
class ParsedQuery:
    terms: list[str] = field(default_factory=list)          # words as typed (not yet analyzed)
    phrases: list[list[str]] = field(default_factory=list)  # each a list of words
    excluded_terms: list[str] = field(default_factory=list)
    excluded_phrases: list[list[str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.terms or self.phrases)


def normalise(text: str | None) -> str:
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)[: MAX_QUERY_CHARS * 2]
    # drop control and format characters (zero-width joiners, bidi overrides, NULs)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    text = text.replace("“", '"').replace("”", '"').replace("„", '"')
    return text[:MAX_QUERY_CHARS]


def _words(text: str) -> list[str]:
    return [m.group(2) for m in _WORD_RE.finditer(text) if m.group(2) not in _OPERATORS]


def parse(text: str | None) -> ParsedQuery:
    text = normalise(text)
    q = ParsedQuery()
    rest: list[str] = []
    pos = 0
    for m in _PHRASE_RE.finditer(text):
        rest.append(text[pos:m.start()])
        pos = m.end()
        words = _words(m.group(2))[:MAX_PHRASE_WORDS]
        if not words:
            continue
        negate = m.group(1) == "-"
        if len(words) == 1:
            (q.excluded_terms if negate else q.terms).append(words[0])
        else:
            (q.excluded_phrases if negate else q.phrases).append(words)
    rest.append(text[pos:])
    for m in _WORD_RE.finditer(" ".join(rest)):
        word = m.group(2)
        if word in _OPERATORS:
            continue
        (q.excluded_terms if m.group(1) == "-" else q.terms).append(word)
    q.terms = list(dict.fromkeys(q.terms))[:MAX_TERMS]
    q.phrases = q.phrases[:MAX_PHRASES]
    q.excluded_terms = list(dict.fromkeys(q.excluded_terms))[:MAX_TERMS]
    q.excluded_phrases = q.excluded_phrases[:MAX_PHRASES]
    # a query made only of exclusions matches nothing useful: treat the words as wanted instead
    if q.empty and (q.excluded_terms or q.excluded_phrases):
        q.terms, q.phrases = q.excluded_terms, q.excluded_phrases
        q.excluded_terms, q.excluded_phrases = [], []
    return q
