"""The memo as a standalone HTML document and as a tagged PDF made from that same document.

- The body is Markdown from staff, rendered and sanitised by the kit (``nrn_kit.html``): the
  page, the HTML download and the PDF show the same HTML, except that the standalone document
  keeps no relative links (off the platform they point nowhere; their text stays). Images are
  never embedded (a link or their alt text instead), nothing is fetched while rendering.
- The document carries its whole stylesheet in one ``<style>`` element, allowed by hash in its
  Content-Security-Policy (``MEMO_CSP``, sent as a header and repeated in a ``<meta>`` so a saved
  copy keeps it): it looks the same opened from the service, through the gateway or from disk.
- The PDF is WeasyPrint on that document (``nrn_kit.pdf``): PDF/UA tags, font fallback through
  fontconfig, "Page n of m", the header naming the city with its state, the official it is for
  and the expert who wrote it, and the date in the program's time zone (US Eastern by default).
- ``unprintable`` lists the characters of every printed field that no installed font can draw,
  so staff are warned before delivery instead of finding a gap in the city's copy.
"""

from __future__ import annotations

import base64
import hashlib
import html
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from nrn_kit.html import render_markdown
from nrn_kit.pdf import render_pdf, unprintable_characters

PROGRAM = "National Resource Network · 311 for Cities"
DEFAULT_TIMEZONE = "America/New_York"
_ZONE_NAMES = {"America/New_York": "Eastern time", "America/Chicago": "Central time",
               "America/Denver": "Mountain time", "America/Phoenix": "Mountain time",
               "America/Los_Angeles": "Pacific time", "America/Anchorage": "Alaska time",
               "Pacific/Honolulu": "Hawaii time"}

_CSS = """
@page { size: Letter; margin: 22mm 20mm 20mm;
  @top-left { content: "National Resource Network \\00B7  311 for Cities"; font: 8pt "Noto Sans", "DejaVu Sans", sans-serif; color: #555; }
  @top-right { content: string(place); font: 8pt "Noto Sans", "DejaVu Sans", sans-serif; color: #555; }
  @bottom-center { content: "Page " counter(page) " of " counter(pages); font: 8pt "Noto Sans", "DejaVu Sans", sans-serif; color: #555; } }
@page :first { @top-left { content: none; } @top-right { content: none; } }
html { color: #1d1d1f; background: #fff; }
body { font-family: "Noto Serif", "DejaVu Serif", Georgia, "Times New Roman", serif; line-height: 1.55;
  max-width: 46rem; margin: 2rem auto; padding: 0 1rem; }
header { border-bottom: 2px solid #1f4e79; margin-bottom: 1.5rem; padding-bottom: .6rem; }
.program { font-family: "Noto Sans", "DejaVu Sans", Arial, sans-serif; font-size: .85rem; color: #555; margin: 0 0 .6rem; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: 0;
  font-family: "Noto Sans", "DejaVu Sans", Arial, sans-serif; font-size: .92rem; }
.meta dt { font-weight: bold; color: #1f4e79; }
.meta dd { margin: 0; }
.place { string-set: place "Memo for " content(); }
h1, h2, h3, h4 { font-family: "Noto Sans", "DejaVu Sans", Arial, sans-serif; color: #1f4e79; line-height: 1.25;
  break-after: avoid; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 1.6rem; } h3 { font-size: 1.05rem; }
a { color: #1f4e79; }
blockquote { border-left: 3px solid #c8d3de; margin: 1rem 0; padding: 0 1rem; color: #333; }
pre, code { font-family: "Noto Sans Mono", "DejaVu Sans Mono", monospace; font-size: .9em; }
pre { background: #f4f6f8; padding: .6rem .8rem; white-space: pre-wrap; overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #c8d3de; padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { background: #eef2f6; }
.align-right { text-align: right; } .align-center { text-align: center; }
main { overflow-wrap: break-word; }
footer { margin-top: 2rem; border-top: 1px solid #c8d3de; padding-top: .5rem; font-size: .8rem; color: #555;
  font-family: "Noto Sans", "DejaVu Sans", Arial, sans-serif; }
@media print { body { margin: 0; padding: 0; max-width: none; } }
""".strip()

_STYLE_HASH = base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()
# Exactly the one stylesheet above; no script, image, font, frame, form or base of any kind.
MEMO_CSP = (f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'")
# a <meta> policy cannot carry frame-ancestors
_META_CSP = f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; base-uri 'none'; form-action 'none'"


@dataclass(frozen=True)
class MemoDocument:
    """What a printed memo shows. Every text field here reaches the PDF (see ``fields``)."""

    title: str
    city_name: str
    state: str  # USPS code, e.g. "MI"
    body_markdown: str
    version: int
    delivered_at: datetime | None
    recipient_name: str = ""  # the official who asked; "" when requests311 has not heard their name
    recipient_title: str = ""
    expert_name: str = ""
    timezone: str = DEFAULT_TIMEZONE

    @property
    def place(self) -> str:
        return f"{self.city_name}, {self.state}" if self.state else self.city_name

    def fields(self) -> dict[str, str]:
        """Printed field → its text, for the font check (names as staff know the fields)."""
        return {"title": self.title, "city": self.place, "recipient": self.recipient_name,
                "recipient_title": self.recipient_title, "expert": self.expert_name, "memo": self.body_markdown}


def _date(moment: datetime, zone: str) -> str:
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local:%B} {local.day}, {local:%Y} ({_ZONE_NAMES.get(zone, zone)})"


def memo_html_document(doc: MemoDocument) -> str:
    """The memo as one self-contained HTML document (UTF-8, ``lang="en"``, styles inline by hash)."""
    e = html.escape
    recipient = ", ".join(p for p in (doc.recipient_name, doc.recipient_title) if p)
    when = (f"Delivered {_date(doc.delivered_at, doc.timezone)}" if doc.delivered_at
            else "Draft, not yet delivered")
    rows = [("City", f'<span class="place">{e(doc.place)}</span>')]
    rows.append(("For", e(f"{recipient}, {doc.place}" if recipient else f"City officials of {doc.place}")))
    rows.append(("From", e(f"{doc.expert_name}, National Resource Network" if doc.expert_name
                           else "National Resource Network")))
    rows.append(("Subject", e(doc.title)))
    rows.append(("Date", e(f"{when} · version {doc.version}")))
    meta = "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in rows)
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_META_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(doc.title)} — memo for {e(doc.place)}</title>"
        '<meta name="author" content="National Resource Network">'
        f"<style>{_CSS}</style></head><body>"
        f'<header><p class="program">{PROGRAM}</p><dl class="meta">{meta}</dl></header>'
        f"<main>{render_markdown(doc.body_markdown, standalone=True)}</main>"
        "<footer>Prepared by the National Resource Network for the city named above. "
        "Links in this memo open the sources it cites.</footer>"
        "</body></html>\n"
    )


async def memo_pdf(doc: MemoDocument, *, url_fetcher: Any = None) -> bytes:
    """The memo document as a tagged PDF, rendered off the event loop."""
    return await render_pdf(memo_html_document(doc), url_fetcher=url_fetcher)


def unprintable(doc: MemoDocument) -> list[dict[str, Any]]:
    """``[{character, code_point, name, fields}]``: what no installed font can draw, in any printed field."""
    return [u.as_dict() for u in unprintable_characters(doc.fields())]
