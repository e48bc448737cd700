"""The memo: its sections, parsed from Markdown, and the word-count flag (2–3 pages ≈ 800–1,800 words)."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel

MIN_WORDS = 800
MAX_WORDS = 1_800
MAX_MEMO_CHARS = 100_000  # a hard limit: beyond this the draft is refused, not flagged


class Section(StrEnum):
    question = "question"
    short_answer = "short_answer"
    options = "options"
    resources = "resources"
    next_steps = "next_steps"


# heading text (lower-case, punctuation stripped) → section; first match by prefix wins
_HEADINGS: list[tuple[str, Section]] = [
    ("the question", Section.question),
    ("question", Section.question),
    ("short answer", Section.short_answer),
    ("the short answer", Section.short_answer),
    ("answer in brief", Section.short_answer),
    ("options", Section.options),
    ("the options", Section.options),
    ("resources", Section.resources),
    ("further resources", Section.resources),
    ("next steps", Section.next_steps),
    ("recommended next steps", Section.next_steps),
]

SECTION_TITLES: dict[Section, str] = {
    Section.question: "Question",
    Section.short_answer: "Short answer",
    Section.options: "Options, with examples from other cities",
    Section.resources: "Resources",
    Section.next_steps: "Next steps",
}

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")
_WORD = re.compile(r"[A-Za-z0-9\u00C0-\u024F]+(?:['’\-.][A-Za-z0-9\u00C0-\u024F]+)*")
_URL = re.compile(r"https?://\S+|\]\([^)]*\)")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")


class MemoCheck(BaseModel):
    """What a reviewer needs to see about a draft; flags never refuse a draft."""

    word_count: int
    sections: dict[Section, str]  # section → its Markdown body
    missing_sections: list[Section]
    empty_sections: list[Section]
    flags: list[str]

    @property
    def length_flagged(self) -> bool:
        return "too_short" in self.flags or "too_long" in self.flags

    @property
    def complete(self) -> bool:
        return not self.missing_sections and not self.empty_sections


def count_words(markdown_text: str) -> int:
    """Words as a reader counts them: link targets and markup do not count."""
    return len(_WORD.findall(_URL.sub(" ", markdown_text)))


def _classify(heading: str) -> Section | None:
    norm = re.sub(r"[^a-z0-9 ]+", " ", heading.lower())
    norm = re.sub(r"\s+", " ", norm).strip()
    norm = re.sub(r"^\d+ ", "", norm)  # "1. Question"
    for prefix, section in _HEADINGS:
        if norm == prefix or norm.startswith(prefix + " "):
            return section
    return None


def parse_sections(markdown_text: str) -> dict[Section, str]:
    sections: dict[Section, list[str]] = {}
    current: Section | None = None
    in_fence = False
    for line in markdown_text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        m = None if in_fence else _HEADING.match(line)
        if m:
            found = _classify(m.group(2))
            if found is not None and found not in sections:
                current = found
                sections[current] = []
                continue
            if found is None and len(m.group(1)) <= 2:
                # an unrecognised top-level heading ends the section; deeper headings stay inside it
                current = None
                continue
        if current is not None:
            sections[current].append(line)
    return {s: "\n".join(lines).strip() for s, lines in sections.items()}


def check(markdown_text: str) -> MemoCheck:
    words = count_words(markdown_text)
    sections = parse_sections(markdown_text)
    missing = [s for s in Section if s not in sections]
    empty = [s for s in Section if s in sections and count_words(sections[s]) == 0]
    flags: list[str] = []
    if words < MIN_WORDS:
        flags.append("too_short")
    if words > MAX_WORDS:
        flags.append("too_long")
    flags += [f"missing_section:{s.value}" for s in missing]
    flags += [f"empty_section:{s.value}" for s in empty]
    return MemoCheck(
        word_count=words, sections=sections, missing_sections=missing, empty_sections=empty, flags=flags
    )


def template(title: str, question: str) -> str:
    """A skeleton an expert can start from: every section heading, the question filled in."""
    parts = [f"# {title}", ""]
    for section, heading in SECTION_TITLES.items():
        parts += [f"## {heading}", "", question if section is Section.question else "", ""]
    return "\n".join(parts)
