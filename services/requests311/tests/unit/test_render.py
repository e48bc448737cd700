"""The memo as a document: what its header says, the policy that lets its one stylesheet apply
anywhere, and the PDF made from it (every printed field in every script, page numbers, tags,
images that are never loaded, characters no font covers named before delivery)."""

from __future__ import annotations

import base64
import hashlib
import http.server
import io
import re
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pypdf
import pytest
from weasyprint.urls import URLFetcher

from requests311.render import MEMO_CSP, MemoDocument, memo_html_document, memo_pdf, unprintable
from requests311.testing import memo_body

# 02:30 UTC on 4 March is still 3 March in New York (and 18:30 on 3 March in Los Angeles)
DELIVERED = datetime(2027, 3, 4, 2, 30, tzinfo=UTC)

DOC = MemoDocument(title="How do we fund lead service line replacement?", city_name="Flint", state="MI",
                   body_markdown=memo_body(900), version=2, delivered_at=DELIVERED, recipient_name="Pat Official",
                   recipient_title="City Manager", expert_name="Eve Expert")

# Every printed field carries the scripts a city may write in (issue 17's example first).
SCRIPTS = ["Tiếng Việt and 中文", "Łódź Ærøskøbing Straße", "Đà Nẵng", "城市规划", "日本語のかな", "한국어 도시",
           "हिन्दी में नगर पालिका", "العربية مدينة", "🏙 👍🏽"]


def _text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(unicodedata.normalize("NFC", " ".join(p.extract_text() for p in reader.pages)).split())


def _main(document: str) -> str:
    return document.split("<main>", 1)[1].split("</main>", 1)[0]


# ---------------------------------------------------------------------------- the HTML document


def test_the_header_names_the_city_and_state_the_official_the_expert_and_the_eastern_date() -> None:
    doc = memo_html_document(DOC)
    assert "<dt>City</dt><dd><span class=\"place\">Flint, MI</span></dd>" in doc
    assert "<dt>For</dt><dd>Pat Official, City Manager, Flint, MI</dd>" in doc
    assert "<dt>From</dt><dd>Eve Expert, National Resource Network</dd>" in doc
    assert "<dt>Date</dt><dd>Delivered March 3, 2027 (Eastern time) · version 2</dd>" in doc
    assert '<html lang="en">' in doc and "<title>How do we fund lead service line replacement? — memo for Flint, MI" in doc


def test_the_time_zone_is_a_parameter_and_drafts_say_so() -> None:
    assert "Delivered March 3, 2027 (Pacific time)" in memo_html_document(replace(DOC, timezone="America/Los_Angeles"))
    assert "Delivered March 4, 2027 (Europe/Paris)" in memo_html_document(replace(DOC, timezone="Europe/Paris"))
    assert "Draft, not yet delivered · version 2" in memo_html_document(replace(DOC, delivered_at=None))


def test_an_unknown_official_is_not_invented() -> None:
    doc = memo_html_document(replace(DOC, recipient_name="", recipient_title="", expert_name=""))
    assert "<dt>For</dt><dd>City officials of Flint, MI</dd>" in doc
    assert "<dt>From</dt><dd>National Resource Network</dd>" in doc


def test_every_header_field_is_escaped() -> None:
    evil = '<img src=x onerror=alert(1)>"'
    doc = memo_html_document(replace(DOC, title=evil, city_name=evil, recipient_name=evil, recipient_title=evil,
                                     expert_name=evil))
    assert "<img" not in doc and doc.count("&lt;img src=x onerror=alert(1)&gt;&quot;") >= 5


def test_the_policy_allows_exactly_the_documents_stylesheet() -> None:
    doc = memo_html_document(DOC)
    styles = re.findall(r"<style>(.*?)</style>", doc, re.S)
    assert len(styles) == 1
    digest = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in MEMO_CSP and "default-src 'none'" in MEMO_CSP
    # the same policy travels inside the file, so a saved copy keeps it
    meta = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', doc)
    assert meta and f"'sha256-{digest}'" in meta.group(1)
    assert "<script" not in doc and " style=" not in doc and "<link" not in doc


# ---------------------------------------------------------------------------- the PDF


@pytest.fixture(scope="module")
def scripted_pdf() -> bytes:
    """A memo whose every printed field is in every script."""
    all_scripts = " · ".join(SCRIPTS)
    doc = replace(DOC, title=f"Question {all_scripts}", city_name=f"City {all_scripts}",
                  recipient_name=f"Official {all_scripts}", recipient_title=f"Title {all_scripts}",
                  expert_name=f"Expert {all_scripts}",
                  body_markdown=memo_body(1_400).replace("## Short answer\n", f"## Short answer\n\nBody {all_scripts}\n"))
    import asyncio

    return asyncio.run(memo_pdf(doc))


@pytest.mark.parametrize("field", ["Question", "City", "Official", "Title", "Expert", "Body"])
def test_every_script_survives_in_every_printed_field(scripted_pdf: bytes, field: str) -> None:
    text = _text(scripted_pdf)
    for sample in SCRIPTS:
        assert f"{field} {sample}" in text or f"{sample}" in text.split(f"{field} ", 1)[1], (field, sample)


def test_pages_are_numbered_and_the_pdf_is_tagged(scripted_pdf: bytes) -> None:
    reader = pypdf.PdfReader(io.BytesIO(scripted_pdf))
    pages = len(reader.pages)
    assert pages >= 2
    texts = [" ".join(p.extract_text().split()) for p in reader.pages]
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {pages}" in text
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and bool(root["/MarkInfo"]["/Marked"]) and root["/Lang"] == "en"
    assert reader.metadata.title.startswith("Question ")


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's API)
        self.seen.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def web() -> Iterator[str]:
    _Recorder.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_images_in_any_field_are_never_loaded_and_the_memo_still_lays_out(web: str, tmp_path: Path) -> None:
    sentinel = tmp_path / "hostname"
    sentinel.write_text("secret-host-name")
    asked: list[str] = []

    class Recording(URLFetcher):
        def fetch(self, url: str, headers: object = None) -> object:
            asked.append(url)
            raise ValueError("refused")

    images = (f"![c]({sentinel}) ![d](file://{sentinel}) ![e]({web}/chart.png) ![f](/etc/hostname) "
              f'<img src="{web}/raw.png"> [![g]({web}/in-link.png)]({web}/report)')
    doc = replace(DOC, title=f"Title ![t]({sentinel})", recipient_name=f"![n]({web}/name.png)",
                  body_markdown=memo_body(900).replace("## Options", f"{images}\n\n## Options"))
    pdf = await memo_pdf(doc, url_fetcher=Recording())
    text = _text(pdf)
    assert asked == [] and _Recorder.seen == [] and "secret-host-name" not in text
    # laid out as a memo, not dumped as Markdown: headings are headings, the alt text and the link remain
    assert "Short answer" in text and "## Short answer" not in text and "Options, with examples" in text
    assert f"{web}/chart.png" not in text and " e " in f" {text} "
    html = _main(memo_html_document(doc))
    urls = re.findall(r'<[a-z]+ [^>]*?(?:href|src)="([^"]*)"', html)
    assert "<img " not in html and f"{web}/chart.png" in urls and not any(str(sentinel) in u for u in urls)


# ---------------------------------------------------------------------------- what cannot be printed


def test_characters_no_font_covers_are_listed_with_their_fields() -> None:
    doc = replace(DOC, title="Budget \ue000", expert_name="Eve \ue000", body_markdown=memo_body(900) + "\n\n\ue001")
    found = unprintable(doc)
    assert [(u["character"], u["fields"]) for u in found] == [("\ue000", ["title", "expert"]), ("\ue001", ["memo"])]
    assert found[0]["code_point"] == "U+E000" and found[0]["name"] == "Private-use character"
    assert unprintable(replace(DOC, body_markdown=" ".join(SCRIPTS))) == []
