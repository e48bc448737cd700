"""Issue 17, class 1: no renderer of the platform emits an active link or loads a resource,
whatever spelling the Markdown uses. One corpus, every renderer:

- the kit's ``render_markdown`` (what every service uses),
- the gateway's page filter (the official's memo, the staff editor's preview and versions, library
  resources and the public record of answered questions, the curator's preview),
- requests311's memo document (``memo.html`` and the PDF's source), body and header fields,
- the memo PDF itself (its link annotations and images).

A URL is judged as a browser would read it: entities decoded (the HTML parser does it), tab and
newline removed, leading control characters and spaces stripped, scheme case-folded.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser

import pypdf
import pytest

from gateway.web.common import markdown as gateway_markdown
from nrn_kit.html import ALLOWED_URL_SCHEMES, render_markdown
from requests311.render import MemoDocument, memo_html_document, memo_pdf

CORPUS = [
    # entity-encoded schemes (the field example first)
    "[x](javascript&#58;alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](&#x6A;avascript:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](&#0000106avascript:alert(1))",
    "[x](&#x6a&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3a;alert(1))",
    # white space and control characters inside or before the scheme, upper case
    "[x](java\tscript:alert(1))",
    "[x](java&#9;script:alert(1))",
    "[x](java&#x0A;script:alert(1))",
    "[x](java&#13;script:alert(1))",
    "[x](&#1;javascript:alert(1))",
    "[x]( javascript:alert(1))",
    "[x](<java script:alert(1)>)",
    "[x](JaVaScRiPt:alert(1))",
    "[x](JAVASCRIPT&#58;alert(1))",
    # other dangerous schemes
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](DATA:text/html,<script>alert(1)</script>)",
    "[x](vbscript:msgbox(1))",
    "[x](file:///etc/passwd)",
    # images (src) of every kind
    "![c](/etc/hostname)",
    "![c](file:///etc/hostname)",
    "![c](https://example.org/tracker.png)",
    "![c](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![c](javascript&#58;alert(1))",
    "![c][img]\n\n[img]: /etc/hostname",
    # autolinks
    "<javascript:alert(1)>",
    "<JAVASCRIPT:alert(1)>",
    "<vbscript:msgbox(1)>",
    "<data:text/html,hi>",
    # reference-style links
    "[x][r]\n\n[r]: javascript&#58;alert(1)",
    "[x][r]\n\n[r]: <&#x6A;avascript:alert(1)>",
    "[r]\n\n[r]: java&#9;script:alert(1) \"t\"",
    # raw HTML: links, images, svg, frames, event handlers, styles, forms
    '<a href="javascript:alert(1)">a</a>',
    '<a href="&#x6A;avascript&#58;alert(1)">a</a>',
    "<img src=x onerror=alert(1)>",
    '<img src="/etc/hostname">',
    "<svg onload=alert(1)><script>alert(1)</script></svg>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<p onclick="alert(1)" style="background:url(javascript:alert(1))">x</p>',
    '<details open ontoggle="alert(1)">x</details>',
    '<form action="javascript:alert(1)"><button>x</button></form>',
    "<script>alert(1)</script>",
    '<base href="https://evil.example/">',
    # nested and mixed
    "[![c](https://example.org/i.png)](javascript:alert(1))",
    "[<img src=x onerror=alert(1)>](https://example.org)",
    "**[x](javascript:alert(1))**",
    "| a |\n|---|\n| [x](javascript&#58;alert(1)) |",
    "> [x](&#x6A;avascript:alert(1))",
]

GOOD = "[site](https://nrn.example/a?b=1&c=2) [mail](mailto:help@nrn.example) [here](/library/r1) <https://nrn.example/auto>"

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_ACTIVE_TAGS = {"img", "svg", "iframe", "script", "style", "object", "embed", "form", "base", "link", "meta", "math",
                "video", "audio", "source", "picture", "frame", "frameset", "input", "button"}
_URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "srcset", "background"}


def browser_scheme(value: str) -> str | None:
    """The scheme a browser sees in an attribute value (already entity-decoded by the parser)."""
    cleaned = re.sub(r"[\t\n\r]", "", value).lstrip("".join(chr(c) for c in range(0x21)))
    found = _SCHEME.match(cleaned)
    return found.group(1).lower() if found else None


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))


def assert_inert(fragment: str) -> list[str]:
    """Fails on any active element, event handler, style or URL outside http(s)/mailto/relative;
    returns the URLs found."""
    parser = _Elements()
    parser.feed(fragment)
    urls = []
    for tag, attrs in parser.elements:
        assert tag not in _ACTIVE_TAGS, (tag, fragment)
        for name, value in attrs:
            assert not name.startswith("on") and name not in {"style", "srcdoc"}, (name, fragment)
            if name in _URL_ATTRIBUTES:
                assert name == "href", (name, fragment)
                scheme = browser_scheme(value or "")
                assert scheme is None or scheme in ALLOWED_URL_SCHEMES, (value, fragment)
                urls.append(value or "")
    return urls


DOC = MemoDocument(title="Memo", city_name="Flint", state="MI", body_markdown="", version=1,
                   delivered_at=datetime(2027, 3, 3, 15, 0, tzinfo=UTC), recipient_name="Pat Official",
                   expert_name="Eve Expert")


def _memo_body(text: str) -> str:
    return memo_html_document(replace(DOC, body_markdown=text)).split("<main>", 1)[1].split("</main>", 1)[0]


def _memo_header(text: str) -> str:
    # header fields are plain text: the whole header must stay inert whatever they contain
    doc = memo_html_document(replace(DOC, title=text, city_name=text, recipient_name=text, expert_name=text))
    return doc.split("<body>", 1)[1].split("<main>", 1)[0]


RENDERERS: dict[str, Callable[[str], str]] = {
    "kit render_markdown": render_markdown,
    "gateway pages": lambda text: str(gateway_markdown(text)),
    "requests311 memo body": _memo_body,
    "requests311 memo header": _memo_header,
}


@pytest.mark.parametrize("renderer", RENDERERS)
@pytest.mark.parametrize("text", CORPUS)
def test_no_renderer_emits_an_active_link_or_resource(renderer: str, text: str) -> None:
    urls = assert_inert(RENDERERS[renderer](text))
    assert all(browser_scheme(u) in (None, "http", "https", "mailto") for u in urls)


@pytest.mark.parametrize("renderer", [r for r in RENDERERS if r != "requests311 memo header"])
def test_safe_links_still_work_in_every_renderer(renderer: str) -> None:
    urls = assert_inert(RENDERERS[renderer](GOOD))
    # the memo document is read off the platform (a saved file, the PDF): a relative link would point nowhere
    relative = [] if renderer == "requests311 memo body" else ["/library/r1"]
    assert urls == ["https://nrn.example/a?b=1&c=2", "mailto:help@nrn.example", *relative, "https://nrn.example/auto"]


def test_the_memo_pdf_has_no_active_link_and_no_image() -> None:
    body = "\n\n".join(CORPUS + [GOOD])
    pdf = asyncio.run(memo_pdf(replace(DOC, body_markdown=body, title="\n".join(CORPUS))))
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    uris = []
    for page in reader.pages:
        assert not any(x.get_object().get("/Subtype") == "/Image"
                       for x in (page["/Resources"].get("/XObject") or {}).values())
        for annot in page.get("/Annots") or []:
            action = annot.get_object().get("/A") or {}
            if "/URI" in action:
                uris.append(str(action["/URI"]))
            assert action.get("/S") in (None, "/URI", "/GoTo"), action
    # only absolute http(s) and mailto links: a PDF has no base for a relative one
    assert uris and all(browser_scheme(u) in ("http", "https", "mailto") for u in uris), uris
    assert "https://nrn.example/a?b=1&c=2" in uris and "mailto:help@nrn.example" in uris
