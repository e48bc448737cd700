"""The library in a real browser, as its readers and its curator use it.

Reader: a search shows snippets with the matched words highlighted (no Markdown, no entities); a
misspelled word is searched as the nearest known word and the page says which; a search with no
answer offers "Ask NRN this question", which opens the ask form filled in, its consent question
unanswered; the clearinghouse has keyword search and says who can apply.
Curator: creates a resource through the form and publishes it; approves one answer from the review
queue (original and redacted text side by side) and rejects another.
Screenshots at 1280 and 390 px go to artifacts/screenshots/library-*.png."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.testing import DESKTOP, PHONE, Platform, eventually, library_installed, new_page, sign_in



pytestmark = [pytest.mark.integration, pytest.mark.browser,
              pytest.mark.skipif(not library_installed(), reason="the library service is not installed")]

GUIDE = ("> **NRN demo content.** The platform's guide to *land banks*: how a city acquires vacant property, "
         "clears title & returns lots to use.\n\n## Steps\n\n1. Inventory tax-foreclosed parcels.\n"
         "2. Replace lead service lines before resale.\n")


async def _published_guide(platform: Platform, curator: dict[str, str]) -> str:
    r = await platform.http.post("/api/v1/library/resources", headers=curator, json={
        "type": "guide", "title": "Land bank start-up guide", "topics": ["housing", "land_use"],
        "source_organisation": "NRN demo content", "summary": "Acquire, hold and return vacant lots.",
        "body": GUIDE})
    assert r.status_code == 201, r.text
    rid, version = r.json()["resource_id"], r.json()["version"]
    for step in ("submit", "publish"):
        r = await platform.http.post(f"/api/v1/library/resources/{rid}/{step}", headers=curator,
                                     json={"version": version})
        assert r.status_code == 200, r.text
        version = r.json()["version"]
    return rid


async def _program(platform: Platform, curator: dict[str, str]) -> None:
    r = await platform.http.post("/api/v1/clearinghouse/programs", headers=curator, json={
        "agency": "EPA", "name": "Brownfields Assessment Grants", "summary": "Money to assess contaminated sites.",
        "help_given": ["grants", "technical_assistance"], "topics": ["land_use"],
        "how_to_apply": "Apply through the regional office.",
        "eligibility": {"min_population": 50_000, "states": ["MI", "OH"]},
        "deadlines": [{"label": "Applications", "due": "2031-11-14"}]})
    assert r.status_code == 201, r.text


async def _answers_arrive(platform: Platform, n: int) -> list[str]:
    from nrn_contracts import encode, envelope, kafka_headers
    from nrn_contracts.events import requests311 as r311
    from nrn_kit.kafka import make_producer

    settings = platform.apps["library"].state.runtime.settings
    producer = make_producer(settings)
    await producer.start()
    titles = []
    try:
        for i in range(n):
            title = f"How can Flint pay for a land bank? ({i + 1})"
            event = r311.MemoDelivered(
                request_id=f"req-b-{uuid.uuid4().hex[:8]}", city_id="mi-flint", topic="housing", title=title,
                question="Flint has 4,000 vacant homes. How did other cities pay to start a land bank?",
                short_answer="Start with county tax-foreclosure revenue and a state grant.",
                memo_markdown=("## Short answer\nStart with tax-foreclosure revenue.\n\n## Options\nCall José Núñez "
                               "(josé@cityofflint.com, 810‑555‑0142) at 1101 S. Saginaw Street in Flint."),
                consent_to_publish="anonymous", delivered_at=datetime.now(UTC))
            ce = envelope(event, source="/nrn/requests311")
            await producer.send_and_wait(settings.topic(type(event).topic), encode(ce),
                                         key=event.aggregate_id().encode(), headers=kafka_headers(ce))
            titles.append(title)
    finally:
        await producer.stop()
    return titles


async def test_a_reader_searches_and_asks_and_a_curator_publishes(platform: Platform, browser, shots: Path) -> None:  # noqa: ANN001
    problems: list[str] = []
    admin = await platform.admin()
    await platform.import_cities(admin)
    cur_account = await platform.create_staff(admin, "Cora Curator", ["curator"])
    curator_api = await platform.auth(cur_account["email"], cur_account["password"])
    official_account, _ = await platform.verified_official(admin, "mi-flint", "Olivia Official")
    await _published_guide(platform, curator_api)
    await _program(platform, curator_api)

    for width, options in (("1280", DESKTOP), ("390", PHONE)):
        reader = await new_page(browser, platform, problems, **options)

        async def indexed() -> bool:
            await reader.goto("/library?q=land+bank")
            return await reader.locator("ul.results mark").count() > 0

        await eventually(indexed)
        first = reader.locator("ul.results li").first
        assert await first.locator("mark").first.inner_text() in ("land", "bank", "banks")
        snippet = await first.inner_text()
        assert "**" not in snippet and "&gt;" not in snippet and "&#x27;" not in snippet and "&amp;" not in snippet
        await reader.screenshot(path=shots / f"library-search-{width}.png", full_page=True)

        # a misspelling: searched as the nearest word, and said so
        await reader.goto("/library?q=vacnat")
        status = reader.get_by_role("status").filter(has_text="instead")
        await status.wait_for()
        text = await status.inner_text()
        assert "vacnat" in text and "vacant" in text
        assert await reader.get_by_role("link", name=re.compile("Search only for")).count() == 1
        await reader.screenshot(path=shots / f"library-corrected-{width}.png", full_page=True)

        # the clearinghouse by keyword, with who can apply and the deadline as a date
        await reader.goto("/clearinghouse")
        await reader.get_by_label("Keywords").fill("brownfields")
        await reader.get_by_role("button", name="Search").click()
        await reader.get_by_role("link", name="Brownfields Assessment Grants").wait_for()
        listing = await reader.locator("ul.results").inner_text()
        assert "Fri, Nov 14, 2031" in listing and "Only for places in Michigan or Ohio." in listing
        await reader.screenshot(path=shots / f"library-clearinghouse-{width}.png", full_page=True)
        await reader.context.close()

    # an official finds nothing and asks NRN, the form filled in and consent left to them
    official = await new_page(browser, platform, problems, **PHONE)
    await sign_in(official, official_account["email"], official_account["password"])
    await official.goto("/library?q=" + "stormwater utility fee credits")
    await official.get_by_role("heading", name="No answer in the library yet").wait_for()
    await official.screenshot(path=shots / "library-no-results-390.png", full_page=True)
    await official.get_by_role("link", name="Ask NRN this question").click()
    await official.get_by_role("heading", name="Ask a question").wait_for()
    assert await official.get_by_label("Your question in one line").input_value() == "stormwater utility fee credits"
    for label in ("Yes, with our city's name", "Yes, without naming our city", "No, keep it private"):
        assert not await official.get_by_label(label).is_checked()
    await official.screenshot(path=shots / "library-ask-prefilled-390.png", full_page=True)

    # the curator creates a resource through the form, then publishes it
    for width, options in (("1280", DESKTOP), ("390", PHONE)):
        staff = await new_page(browser, platform, problems, **options)
        await sign_in(staff, cur_account["email"], cur_account["password"])
        await staff.goto("/staff/curation/resources/new")
        title = f"Vacant lot greening toolkit ({width})"
        await staff.get_by_label("Title").fill(title)
        await staff.get_by_label("Type").select_option("toolkit")
        await staff.get_by_label("Housing").check()
        await staff.get_by_label("Text (Markdown)").fill("Turn vacant lots into **community gardens**.")
        assert await staff.get_by_label("Source organization").input_value() == "SC2 National Resource Network"
        await staff.screenshot(path=shots / f"library-curator-new-{width}.png", full_page=True)
        await staff.get_by_role("button", name="Create draft").click()
        await staff.get_by_text("Draft created.").wait_for()
        await staff.get_by_role("button", name="Send for review").click()
        await staff.get_by_text("Sent for review.").wait_for()
        await staff.get_by_role("button", name="Publish").click()
        await staff.get_by_text("Published.").wait_for()
        assert "by Cora Curator" in await staff.locator("ol.timeline").inner_text()
        await staff.screenshot(path=shots / f"library-curator-published-{width}.png", full_page=True)
        await staff.context.close()

    # the review queue: approve one answer, reject the other
    titles = await _answers_arrive(platform, 2)
    staff = await new_page(browser, platform, problems, **DESKTOP)
    await sign_in(staff, cur_account["email"], cur_account["password"])

    async def queued() -> bool:
        await staff.goto("/staff/curation/reviews")
        return await staff.get_by_role("link", name=titles[1].replace("Flint", "[city]")).count() > 0

    await eventually(queued)
    await staff.screenshot(path=shots / "library-review-queue-1280.png", full_page=True)
    await staff.get_by_role("link", name=titles[0].replace("Flint", "[city]")).click()
    original = await staff.locator(".original-text").first.inner_text()
    assert "Flint" in original
    published = await staff.get_by_label("Text (Markdown): to be published").input_value()
    for secret in ("José Núñez", "josé@cityofflint.com", "810‑555‑0142", "Saginaw", "Flint"):
        assert secret not in published
    await staff.screenshot(path=shots / "library-review-1280.png", full_page=True)
    phone = await new_page(browser, platform, problems, **PHONE)
    await sign_in(phone, cur_account["email"], cur_account["password"])
    await phone.goto(staff.url)
    await phone.screenshot(path=shots / "library-review-390.png", full_page=True)
    await staff.get_by_label("Title: to be published").fill("How can a city pay for a land bank?")
    staff.once("dialog", lambda d: d.accept())
    await staff.get_by_role("button", name="Approve and publish").click()
    await staff.get_by_text("Approved: it is now part of the public record.").wait_for()
    await staff.get_by_role("link", name=titles[1].replace("Flint", "[city]")).click()
    await staff.get_by_label("Why it should not be published").fill("Names the city's street in the options.")
    await staff.get_by_role("button", name="Reject").click()
    await staff.get_by_text("Rejected: nothing was published.").wait_for()
    await staff.goto("/staff/curation/reviews?status=approved")
    assert "Cora Curator" in await staff.locator("table").inner_text()

    async def public() -> bool:
        await staff.goto("/library?q=land+bank+pay")
        return await staff.get_by_role("link", name="How can a city pay for a land bank?").count() > 0

    await eventually(public)
    await staff.get_by_role("link", name="How can a city pay for a land bank?").click()
    page_text = await staff.locator("main").inner_text()
    assert page_text.count("Start with tax-foreclosure revenue") == 1  # the summary is not repeated
    await staff.screenshot(path=shots / "library-answer-1280.png", full_page=True)
    assert problems == []
