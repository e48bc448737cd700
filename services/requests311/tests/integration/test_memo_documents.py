"""The memo's documents over HTTP: preview, memo.html and memo.pdf, with hostile Markdown and text
no font covers, on the real broker and database."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import unicodedata

import pypdf

from requests311.render import MEMO_CSP
from requests311.testing import memo_body

from .test_lifecycle import submit

HOSTILE = ("[x](javascript&#58;alert(1)) [y](&#x6A;avascript:alert(1)) ![c](/etc/hostname) "
           "![t](https://example.org/tracker.png) <img src=x onerror=alert(1)> [ok](https://nrn.example/guide)")
UNCOVERED = "\ue000"  # a private-use character: no installed font draws it


def _text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(unicodedata.normalize("NFC", " ".join(p.extract_text() for p in reader.pages)).split())


async def _to_review(svc, body: str) -> tuple[str, int]:
    lead, expert = svc.staff("lead-1", "triage_lead"), svc.staff("exp-1", "subject_matter_expert")
    created = await submit(svc, title="Tiếng Việt and 中文: lead lines")
    rid, v = created["id"], created["version"]
    for path, who, extra in [("triage", lead, {"topic": "housing"}), ("assign", lead, {"expert_id": "exp-1"})]:
        r = await svc.http.post(f"/requests/{rid}/{path}", json={**extra, "version": v}, headers=who)
        assert r.status_code == 200, r.text
        v = r.json()["version"]
    r = await svc.http.post(f"/requests/{rid}/memo/drafts", json={"body": body, "version": v}, headers=expert)
    assert r.status_code == 201, r.text
    return rid, r.json()["version"]


async def test_staff_are_warned_of_unprintable_characters_before_delivery(svc):
    await svc.seed()
    expert, reviewer = svc.staff("exp-1", "subject_matter_expert"), svc.staff("rev-1", "reviewer")
    pm = svc.staff("pm-1", "program_manager")
    body = memo_body(900).replace("## Options", f"Budget line {UNCOVERED} and {HOSTILE}\n\n## Options")
    rid, v = await _to_review(svc, body)

    # the preview: safe HTML and the warning, before anything is saved
    r = await svc.http.post(f"/requests/{rid}/memo/preview", json={"body": body}, headers=expert)
    assert r.status_code == 200, r.text
    preview = r.json()
    assert preview["unprintable_characters"] == [
        {"character": UNCOVERED, "code_point": "U+E000", "name": "Private-use character", "fields": ["memo"]}]
    # refused links stay as text; every link that remains is to the web
    hrefs = re.findall(r'href="([^"]*)"', preview["html"])
    assert {"https://example.org/tracker.png", "https://nrn.example/guide"} <= set(hrefs)
    assert all(h.startswith("https://") for h in hrefs), hrefs
    assert "<img" not in preview["html"]

    # submit, approve, deliver: every staff answer carries the print check of the memo that would print
    for path, who in [("memo/submit", expert), ("memo/approve", reviewer), ("memo/deliver", pm)]:
        r = await svc.http.post(f"/requests/{rid}/{path}", json={"version": v}, headers=who)
        assert r.status_code == 200, (path, r.text)
        check = r.json()["print_check"]
        assert check["memo_version"] == 1 and [u["code_point"] for u in check["unprintable_characters"]] == ["U+E000"]
        v = r.json()["version"]
    # officials never see it (it is about the staff's printing)
    assert "print_check" not in (await svc.http.get(f"/requests/{rid}", headers=svc.official())).json()


async def test_memo_html_and_pdf_are_safe_self_contained_and_name_everyone(svc):
    await svc.seed()
    expert, reviewer = svc.staff("exp-1", "subject_matter_expert"), svc.staff("rev-1", "reviewer")
    body = memo_body(1_300).replace("## Options", f"{HOSTILE} हिन्दी में नगर पालिका, 한국어, 🏙\n\n## Options")
    rid, v = await _to_review(svc, body)
    for path, who in [("memo/submit", expert), ("memo/approve", reviewer), ("memo/deliver", expert)]:
        r = await svc.http.post(f"/requests/{rid}/{path}", json={"version": v}, headers=who)
        assert r.status_code == 200, (path, r.text)
        v = r.json()["version"]

    html = await svc.http.get(f"/requests/{rid}/memo.html", headers=svc.official())
    assert html.status_code == 200 and html.headers["content-security-policy"] == MEMO_CSP
    style = re.search(r"<style>(.*?)</style>", html.text, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in html.headers["content-security-policy"]
    hrefs = re.findall(r'href="([^"]*)"', html.text)
    assert hrefs and all(h.startswith(("https://", "http://", "mailto:")) for h in hrefs), hrefs
    assert "<img" not in html.text and "<script" not in html.text
    assert "Pat Official, City Manager, Flint, MI" in html.text and "Eve Expert, National Resource Network" in html.text
    # delivered on Monday 3 March 2025 at 09:00 New York time (the service's clock)
    assert "Delivered March 3, 2025 (Eastern time) · version 1" in html.text

    pdf = await svc.http.get(f"/requests/{rid}/memo.pdf", headers=svc.official())
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(pdf.content))
    text = _text(pdf.content)
    for expected in ("Flint, MI", "Pat Official, City Manager", "Eve Expert", "Tiếng Việt and 中文: lead lines",
                     "हिन्दी में नगर पालिका", "한국어", "Delivered March 3, 2025 (Eastern time)",
                     f"Page 1 of {len(reader.pages)}", f"Page {len(reader.pages)} of {len(reader.pages)}"):
        assert expected in text, expected
    assert "/StructTreeRoot" in reader.trailer["/Root"] and "## Short answer" not in text
