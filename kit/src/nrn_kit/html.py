"""Markdown and user text to HTML that is safe to show, save, embed or print: one renderer and one
sanitiser for every service and page (memos, library resources, the public record of answered
questions, close-out reports, convening material).

Two layers, because either alone has let links through elsewhere:

1. ``markdown-it-py`` in CommonMark mode with tables and strikethrough; raw HTML in the text is
   shown as text, never interpreted.
2. ``nh3`` (the binding to the Ammonia crate) cleans the *rendered* HTML against an allow-list of
   tags, attributes and URL schemes. Ammonia parses the HTML as a browser does, so a scheme is
   checked after entity decoding and after the tab, newline and control characters a browser
   ignores are dropped (``javascript&#58;``, ``&#x6A;avascript:``, ``java\\tscript:`` and upper
   case are all the same ``javascript:`` to it). Allowed: ``http``, ``https``, ``mailto`` and
   relative URLs. Checking the Markdown text instead never works: there are too many spellings.

Images are never embedded. Rendering must read nothing from disk or the network (a ``src`` is a
request the reader's browser or the PDF renderer would make, to an address the writer chose), so
``![alt](https://…)`` becomes a link named by its alt text that the reader can choose to open, and
an image at any other address (``/etc/hostname``, ``data:``, ``file:``) becomes its alt text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})

ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "em", "strong", "s", "del", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
})
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {"a": {"href", "title"}, "ol": {"start"}}
# table column alignment travels as a class (a style attribute would need 'unsafe-inline' in the CSP)
ALIGN_CLASSES = frozenset({"align-left", "align-center", "align-right"})

_RULES: dict[str, Any] = dict(
    tags=set(ALLOWED_TAGS),
    # script and style are dropped with their content, not kept as text
    clean_content_tags={"script", "style"},
    attributes=ALLOWED_ATTRIBUTES,
    allowed_classes={"th": set(ALIGN_CLASSES), "td": set(ALIGN_CLASSES)},
    url_schemes=set(ALLOWED_URL_SCHEMES),
    link_rel="noopener noreferrer nofollow",
    strip_comments=True,
)
_cleaner = nh3.Cleaner(**_RULES)
# A document that leaves the platform (a downloaded HTML file, a PDF) has no base to resolve a
# relative link against: such links would point nowhere, so they lose their href (the text stays).
_standalone_cleaner = nh3.Cleaner(**_RULES, url_relative="deny")

_ABSOLUTE_WEB = re.compile(r"^https?://", re.IGNORECASE)
_ALIGN = re.compile(r"text-align:\s*(left|center|right)")


def sanitize_html(fragment: str, *, standalone: bool = False) -> str:
    """An HTML fragment reduced to the allow-list: tags above, ``href``/``title`` on links,
    ``start`` on ordered lists, alignment classes on table cells, and only http(s), mailto and
    relative URLs (``standalone=True``: no relative URLs, for documents read off the platform).
    Everything else (``<img>``, ``<svg>``, ``<iframe>``, event handlers, ``style``) is removed;
    ``<script>`` and ``<style>`` with their content."""
    return (_standalone_cleaner if standalone else _cleaner).clean(fragment)


def _inside_link(tokens: Sequence[Token], idx: int) -> bool:
    depth = 0
    for token in tokens[:idx]:
        if token.type == "link_open":
            depth += 1
        elif token.type == "link_close":
            depth -= 1
    return depth > 0


def _image(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env).strip()
    src = str(token.attrGet("src") or "")
    if _ABSOLUTE_WEB.match(src) and not _inside_link(tokens, idx):
        return f'<a href="{html.escape(src)}">{html.escape(alt or "image")}</a>'
    return html.escape(alt)


def _alignment_as_class(state: Any) -> None:
    for token in state.tokens:
        if token.type in ("th_open", "td_open") and token.attrs.get("style"):
            found = _ALIGN.search(str(token.attrs.pop("style")))
            if found:
                token.attrSet("class", f"align-{found.group(1)}")


_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"])
_md.add_render_rule("image", _image)
_md.core.ruler.push("alignment_as_class", _alignment_as_class)


def render_markdown(text: str | None, *, standalone: bool = False) -> str:
    """Markdown (CommonMark, tables, strikethrough) → a sanitised HTML fragment. Raw HTML in the
    text is shown as text; images become links or alt text (module docstring); the result has
    passed :func:`sanitize_html` (``standalone`` as there). ``None`` or empty gives ``""``."""
    if not text:
        return ""
    return sanitize_html(_md.render(text), standalone=standalone)
