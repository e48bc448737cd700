"""The delivered memo as a standalone HTML document and as a PDF.

Memos are written by staff but read by officials in a browser, so raw HTML in the
Markdown is escaped and only http(s), mailto and relative links survive.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from pathlib import Path
from xml.etree.ElementTree import Element

import markdown
from fpdf import FPDF
from markdown.treeprocessors import Treeprocessor

_SAFE_URL = re.compile(r"^(https?:|mailto:|#|/|[^:]*$)", re.IGNORECASE)
_EXTERNAL_LINKLESS = re.compile(r'<a(?![^>]*href="(?:https?:|mailto:))[^>]*>(.*?)</a>', re.DOTALL)
_FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu")]


class _SafeLinks(Treeprocessor):
    def run(self, root: Element) -> None:
        for el in root.iter():
            for attr in ("href", "src"):
                value = el.get(attr)
                if value is not None and not _SAFE_URL.match(value.strip()):
                    del el.attrib[attr]


class _SafeLinksExtension(markdown.Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (markdown's API)
        md.treeprocessors.register(_SafeLinks(md), "safe_links", 0)
        # raw HTML blocks and inline tags are shown as text, never interpreted
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")


def markdown_to_html(text: str) -> str:
    return markdown.markdown(text, extensions=["extra", "sane_lists", _SafeLinksExtension()],
                             output_format="html")


_CSS = """
body { font-family: Georgia, 'Times New Roman', serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.55; color: #1d1d1f; }
header { border-bottom: 2px solid #1f4e79; margin-bottom: 1.5rem; }
header p { color: #555; margin: .2rem 0; font-family: Arial, sans-serif; font-size: .9rem; }
h1, h2, h3 { font-family: Arial, sans-serif; color: #1f4e79; }
a { color: #1f4e79; }
@media print { body { margin: 0; } }
"""


def memo_html_document(*, title: str, city_name: str, body_markdown: str, version: int,
                       delivered_at: datetime | None) -> str:
    when = delivered_at.date().isoformat() if delivered_at else "draft"
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<header><p>National Resource Network — 311 for Cities</p>"
        f"<p>Memo for {html.escape(city_name)} · version {version} · {when}</p></header>"
        f"<main>{markdown_to_html(body_markdown)}</main></body></html>\n"
    )


def _font(pdf: FPDF) -> str:
    for d in _FONT_DIRS:
        regular, bold = d / "DejaVuSans.ttf", d / "DejaVuSans-Bold.ttf"
        if not (regular.exists() and bold.exists()):
            continue
        # the Debian "core" package has no oblique faces: italics then print upright, still legible
        oblique = d / "DejaVuSans-Oblique.ttf"
        bold_oblique = d / "DejaVuSans-BoldOblique.ttf"
        pdf.add_font("DejaVu", "", str(regular))
        pdf.add_font("DejaVu", "B", str(bold))
        pdf.add_font("DejaVu", "I", str(oblique if oblique.exists() else regular))
        pdf.add_font("DejaVu", "BI", str(bold_oblique if bold_oblique.exists() else bold))
        return "DejaVu"
    return "helvetica"


_LATIN1_SUBS = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "--",
                "\u2026": "...", "\u2022": "*", "\u00a0": " "}


def _latin1(text: str) -> str:
    for k, v in _LATIN1_SUBS.items():
        text = text.replace(k, v)
    return text.encode("latin-1", "replace").decode("latin-1")


def memo_pdf(*, title: str, city_name: str, body_markdown: str, version: int,
             delivered_at: datetime | None) -> bytes:
    """A printable PDF of the memo. Uses DejaVu when installed (full Unicode), else Helvetica (Latin-1)."""
    pdf = FPDF(format="Letter")
    pdf.set_margins(22, 20, 22)
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_title(title)
    pdf.set_author("National Resource Network")
    pdf.add_page()
    family = _font(pdf)
    clean = (lambda s: s) if family == "DejaVu" else _latin1
    when = delivered_at.date().isoformat() if delivered_at else "draft"
    pdf.set_font(family, size=9)
    pdf.cell(0, 5, clean(f"National Resource Network - 311 for Cities · {city_name} · version {version} · {when}"),
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(family, size=11)
    # fpdf2 treats "#name" links as PDF destinations that do not exist here: keep only external links
    body = _EXTERNAL_LINKLESS.sub(r"\1", markdown_to_html(clean(body_markdown)))
    try:
        pdf.write_html(body, font_family=family)
        return bytes(pdf.output())
    except Exception:  # noqa: BLE001 - markup fpdf2 cannot lay out still yields a readable PDF
        return _plain_pdf(family_text=clean(body_markdown), header=clean(f"{city_name} · version {version}"))


def _plain_pdf(*, family_text: str, header: str) -> bytes:
    pdf = FPDF(format="Letter")
    pdf.set_margins(22, 20, 22)
    pdf.add_page()
    family = _font(pdf)
    text = family_text if family == "DejaVu" else _latin1(family_text)
    pdf.set_font(family, size=10)
    pdf.multi_cell(0, 5, (header if family == "DejaVu" else _latin1(header)) + "\n\n" + text)
    return bytes(pdf.output())
