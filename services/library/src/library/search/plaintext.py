"""Markdown → plain text, for what the search index stores and shows in snippets.

The index keeps text as a reader sees it, never the Markdown source: a snippet must not show
`> **Note.**` or `[link](https://…)`, and entities such as `&gt;` are decoded once here, so the
one escaping that happens when a snippet becomes HTML is the only one. Link targets and images
are dropped (their text or alt text stays); raw HTML in Markdown is text, as the pages render it.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.token import Token

_md = MarkdownIt("commonmark", {"html": False}).enable("table")

# block tokens after which the text breaks into a new paragraph or line
_BLOCK_ENDS = {"paragraph_close", "heading_close", "list_item_close", "blockquote_close", "tr_close"}


def _inline(children: list[Token] | None) -> str:
    out: list[str] = []
    for t in children or []:
        if t.type in ("text", "code_inline", "html_inline"):
            out.append(t.content)
        elif t.type == "image":
            out.append(_inline(t.children) or t.content)
        elif t.type in ("softbreak", "hardbreak"):
            out.append(" " if t.type == "softbreak" else "\n")
    return "".join(out)


def markdown_to_text(source: str | None) -> str:
    """The readable text of a Markdown document: paragraphs separated by blank lines, no markup."""
    if not source or not source.strip():
        return ""
    parts: list[str] = []
    current: list[str] = []
    for t in _md.parse(source):
        if t.type == "inline":
            current.append(_inline(t.children))
        elif t.type in ("fence", "code_block", "html_block"):
            current.append(t.content.rstrip("\n"))
        if t.type in _BLOCK_ENDS or t.type in ("fence", "code_block", "html_block", "hr"):
            text = " ".join(x for x in current if x.strip()).strip()
            if text:
                parts.append(text)
            current = []
    tail = " ".join(x for x in current if x.strip()).strip()
    if tail:
        parts.append(tail)
    return "\n\n".join(parts)
