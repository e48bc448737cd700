"""A day of each NRN staff role in a real browser, on one platform for the module (gateway.testing's staff
desk: one person per role, a verified official of Gary, IN on Central time). The API only sets the scene
(questions at some status); each person then works through the pages:

- triage lead: lands on "New"; searches the queue; triages a question as urgent (its clocks shorten);
  assigns the expert who covers the topic, then reassigns to another with a reason; the queue sorted
  by urgency puts it first, flagged;
- subject-matter expert: lands on "Assigned to me"; the reviewer's comments on the returned memo are
  pinned above the editor, the actions stay in view, the memo is sent again; offers call times in the
  city's zone (Central, with NRN's Eastern beside them); the official books one in their own page;
- program manager: lands on the memos in review; approves one; service levels on the question; metrics
  for a range of months with a table downloaded as CSV;
- curator: lands on the curation queue; creates a resource and publishes it; reads and approves a
  delivered answer in the public-record review queue;
- administrator: lands on the accounts waiting for verification; creates a staff account; refuses a
  pending official's sign-up with a reason; previews a city CSV (one row failing) and imports it.

Screenshots at 1280 and 390 px: artifacts/screenshots/staff-<role>-NN-<what>-<width>.png.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest

from gateway.testing import (DESK_CITY, DESKTOP, Desk, eventually, library_installed, memo_text, new_page, running_platform,
                             shoot, sign_in, staff_desk)

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CENTRAL = ZoneInfo("America/Chicago")
EASTERN = ZoneInfo("America/New_York")
TAG = uuid.uuid4().hex[:4]  # this run's questions, whatever else the queue holds


@pytest.fixture(scope="module")
async def desk(nrn_infra) -> AsyncIterator[Desk]:  # noqa: ANN001
    async with running_platform(nrn_infra.kafka_bootstrap_servers, nrn_infra.mongodb_uri,
                                f"roles{uuid.uuid4().hex[:6]}") as platform:
        yield await staff_desk(platform)


def shot(role: str, n: int, what: str) -> str:
    return f"staff-{role}-{n:02d}-{what}"


async def flashed(page, text: str) -> None:  # noqa: ANN001
    """The page's success message (a refusal would show instead: it is named in the failure)."""
    try:
        await page.get_by_text(text).first.wait_for(timeout=15_000)
    except Exception as exc:  # noqa: BLE001 - the page's own message says why
        errors = await page.locator(".notice.error, .flash.error, [role=alert]").all_inner_texts()
        raise AssertionError(f"expected {text!r} on {page.url}; the page says {errors}") from exc


def business_day(days_ahead: int = 3) -> date:
    """A weekday at least `days_ahead` days from now that is not a US federal holiday."""
    day = datetime.now(CENTRAL).date() + timedelta(days=days_ahead)
    us = holidays.US(years=range(day.year, day.year + 2))
    while day.weekday() >= 5 or day in us:
        day += timedelta(days=1)
    return day


async def test_triage_lead_day(desk: Desk, browser, shots: Path) -> None:  # noqa: ANN001
    problems: list[str] = []
    title = f"How do we staff a winter warming center? {TAG}"
    await desk.ask(f"Which broadband grants fit a city of 80,000? {TAG}", topic="broadband")
    await desk.ask(title, topic="finance_budgets")
    page = await new_page(browser, desk.platform, problems, **DESKTOP)
    page.on("dialog", lambda d: d.accept())

    # lands on what is new, the tab marked
    await sign_in(page, desk.lead.email, desk.lead.password)
    assert page.url.endswith("/staff/queue?queue=new"), page.url
    current = page.get_by_role("navigation", name="Queues").locator("[aria-current=page]")
    assert (await current.inner_text()).startswith("New")
    assert await page.get_by_role("link", name=title).count() == 1
    await shoot(page, shots, shot("triage-lead", 1, "landing-new"))

    # keyword search
    await page.get_by_label("Search", exact=True).fill("warming center")
    await page.get_by_role("button", name="Search").click()
    rows = page.locator("table.queue tbody tr")
    await page.get_by_text("matching").first.wait_for()
    assert await rows.count() == 1 and title in await rows.first.inner_text()
    await shoot(page, shots, shot("triage-lead", 2, "search"))

    # triage as urgent: the topic from the list, the urgency with its clocks, the requester to call
    await page.get_by_role("link", name=title).click()
    requester = await page.locator("aside.requester").inner_text()
    assert "Olive Official" in requester and "219-555-0142" in requester and "Gary, IN" in requester
    await page.locator("#t-topic").select_option(label="Housing")
    await page.get_by_role("radio", name=re.compile("^Urgent")).check()
    await page.get_by_label(re.compile("Note for the team")).fill("Council votes on the shelter budget Friday.")
    await page.get_by_role("button", name="Triage", exact=True).click()
    await flashed(page, "Triaged.")
    meta = await page.locator("p.meta").inner_text()
    assert "Urgent" in meta and "Housing" in meta
    levels = await page.locator("ul.clocks").inner_text()
    assert "Acknowledge" in levels and "Memo" in levels

    # assign: the expert covering the topic is offered first, with the workload of each
    choices = page.get_by_role("group", name=re.compile("Every active expert"))
    first = choices.locator(".choice").first
    assert "Erin Expert" in await first.inner_text() and "Covers Housing" in await first.inner_text()
    assert "Bo Broadband" in await choices.inner_text()
    await shoot(page, shots, shot("triage-lead", 3, "triaged-assign"))
    await page.get_by_role("button", name="Assign", exact=True).click()
    await flashed(page, "Expert assigned.")
    assert "expert: Erin Expert" in await page.locator("p.meta").inner_text()

    # reassign, with the reason kept and named in the timeline
    await page.get_by_text("Reassign to another expert").click()
    await page.get_by_role("radio", name=re.compile("Bo Broadband")).check()
    await page.get_by_label(re.compile("^Why")).first.fill("Erin is at capacity this week; Bo ran Gary's shelter grant.")
    await page.get_by_role("button", name="Reassign").click()
    await flashed(page, "Expert assigned.")
    assert "expert: Bo Broadband" in await page.locator("p.meta").inner_text()
    timeline = await page.locator("ol.timeline").inner_text()
    assert "Lee Lead" in timeline and "Bo Broadband" in timeline
    assert "NRN staff ·" not in timeline.split("Olive Official")[0], "every staff entry names who acted"
    await shoot(page, shots, shot("triage-lead", 4, "reassigned"))

    # the queue, most urgent first: the urgent question leads, flagged
    await page.goto("/staff/queue?queue=all&sort=urgency")
    first_row = page.locator("table.queue tbody tr").first
    assert title in await first_row.inner_text() and "Urgent" in await first_row.inner_text()
    assert "urgent" in (await first_row.get_attribute("class") or "")
    await shoot(page, shots, shot("triage-lead", 5, "queue-by-urgency"))
    assert problems == []


async def test_subject_matter_expert_day(desk: Desk, browser, shots: Path) -> None:  # noqa: ANN001
    problems: list[str] = []
    title = f"How should we pay for lead service line replacement? {TAG}"
    rid = await desk.to_status(title, "memo_returned")
    page = await new_page(browser, desk.platform, problems, **DESKTOP)

    # lands on "Assigned to me"
    await sign_in(page, desk.expert.email, desk.expert.password)
    assert page.url.endswith("/staff/queue?queue=mine"), page.url
    current = page.get_by_role("navigation", name="Queues").locator("[aria-current=page]")
    assert (await current.inner_text()).startswith("Assigned to me")
    row = page.locator("table.queue tbody tr").filter(has_text=title)
    assert "Memo returned" in await row.inner_text()
    await shoot(page, shots, shot("expert", 1, "assigned-to-me"))

    # the returned memo: the reviewer's comments pinned above the editor
    await page.get_by_role("link", name=title).click()
    await page.get_by_role("link", name="Write the memo").click()
    returned = page.get_by_role("region", name=re.compile("The reviewer returned version"))
    comments = await returned.inner_text()
    assert "Add an example from a Midwestern city" in comments and "Pat Manager" in comments
    editor = page.get_by_label("Memo (Markdown)")
    assert (await returned.bounding_box())["y"] < (await editor.bounding_box())["y"]
    await editor.fill(memo_text() + "\nMilwaukee, a Midwestern city of Flint's size, shared costs with owners "
                                    "through the state program office in Lansing.\n")
    # the actions stay in view while the long memo scrolls by
    await page.mouse.wheel(0, 1200)
    send = page.get_by_role("button", name="Send for review")
    box = await send.bounding_box()
    assert box and 0 <= box["y"] and box["y"] + box["height"] <= DESKTOP["viewport"]["height"], box
    await shoot(page, shots, shot("expert", 2, "returned-memo"))
    await send.click()
    await flashed(page, "Memo sent for review.")
    await shoot(page, shots, shot("expert", 3, "resent"))

    # the reviewer approves and delivers (the program manager's pages are walked in their own day)
    await desk.act(desk.pm, rid, "memo/approve", {})
    await desk.act(desk.pm, rid, "memo/deliver", {})

    # offer call times in the city's zone (Central), NRN's Eastern beside them
    day = business_day()
    await page.goto(f"/staff/requests/{rid}")
    zone = page.get_by_label("The times below are in")
    assert "the city's time" in (await zone.locator("option:checked").inner_text())
    await page.get_by_label("Time 1", exact=True).fill(f"{day.isoformat()}T10:00")
    await page.get_by_label("Time 2", exact=True).fill(f"{day.isoformat()}T14:30")
    await page.get_by_label("How to join").fill("Video: https://meet.example.org/nrn-gary")
    await page.get_by_role("button", name="Offer these times").click()
    await flashed(page, "Call slots offered to the city.")
    offered = await page.locator("ul.slots").inner_text()
    ten = datetime.combine(day, datetime.min.time(), CENTRAL).replace(hour=10)
    assert f"10:00 AM {ten.tzname()}" in offered and f"11:00 AM {ten.astimezone(EASTERN).tzname()}" in offered, offered
    assert "On offer" in offered
    await shoot(page, shots, shot("expert", 4, "times-offered"))

    # the official books the first time in their own page
    official = await new_page(browser, desk.platform, problems, **DESKTOP)
    await sign_in(official, desk.official.email, desk.official.password)
    await official.goto(f"/requests/{rid}")
    await official.get_by_role("button", name="Book this call").first.click()
    await official.get_by_text("Your call is booked.").wait_for()
    await shoot(official, shots, shot("expert", 5, "official-books"))
    await official.context.close()

    await page.reload()
    booked = await page.locator(".booked").inner_text()
    assert f"10:00 AM {ten.tzname()}" in booked and "meet.example.org/nrn-gary" in booked, booked
    await shoot(page, shots, shot("expert", 6, "call-booked"))
    assert problems == []


async def test_program_manager_day(desk: Desk, browser, shots: Path) -> None:  # noqa: ANN001
    problems: list[str] = []
    title = f"Can we refinance our pension obligation bonds? {TAG}"
    await desk.to_status(title, "memo_in_review")
    page = await new_page(browser, desk.platform, problems, **DESKTOP)

    # the memo reviewer's landing: what waits for review; approved and delivered to the city
    await sign_in(page, desk.pm.email, desk.pm.password)
    assert page.url.endswith("/staff/queue?queue=in_review"), page.url
    await shoot(page, shots, shot("program-manager", 1, "landing-in-review"))
    await page.get_by_role("link", name=title).click()
    await page.get_by_role("link", name="Review the memo").click()
    await page.get_by_role("button", name="Approve").click()
    await flashed(page, "Memo approved.")
    await page.get_by_role("button", name="Deliver the memo to the city").click()
    await flashed(page, "Memo delivered to the city.")
    if "/memo" in page.url:
        await page.get_by_role("link", name="Back to the question").click()
    levels = await page.locator("ul.clocks").inner_text()
    assert re.search(r"Memo: done", levels) and "Acknowledge" in levels, levels
    await shoot(page, shots, shot("program-manager", 2, "service-levels"))

    # what is about to be late
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="311 queue").click()
    await page.get_by_role("navigation", name="Queues").get_by_role("link", name=re.compile("Due soon")).click()
    await page.wait_for_url(re.compile("queue=due_soon"))
    await shoot(page, shots, shot("program-manager", 3, "due-soon"))

    # metrics for a range of months, every table as CSV
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Metrics").click()
    month = datetime.now(EASTERN).strftime("%Y-%m")
    await page.get_by_label("From", exact=True).select_option(month)
    await page.get_by_label("To", exact=True).select_option(month)
    await page.get_by_role("button", name="Show these months").click()
    await page.get_by_role("heading", name="Questions asked per month").wait_for()
    assert "asked in these months" in await page.locator(".grid").inner_text()
    section = page.get_by_role("region", name="Questions asked per month")
    await section.get_by_text("The numbers").click()
    async with page.expect_download() as download_info:
        await section.get_by_role("link", name="Download this table (CSV)").click()
    rows = list(csv.reader(io.StringIO(Path(await (await download_info.value).path()).read_text("utf-8-sig"))))
    assert len(rows) >= 2 and len(rows[0]) == 3, rows
    assert rows[-1][0] == month and int(rows[-1][1]) >= 1 and int(rows[-1][2]) >= 1, rows  # the question just delivered
    await shoot(page, shots, shot("program-manager", 4, "metrics"))
    assert problems == []


@pytest.mark.skipif(not library_installed(), reason="the library service is not installed")
async def test_curator_day(desk: Desk, browser, shots: Path) -> None:  # noqa: ANN001
    problems: list[str] = []
    answer = f"What did other cities pay for demolition contracts? {TAG}"
    await desk.to_status(answer, "memo_delivered", topic="housing")  # the city agreed to publish, unnamed
    page = await new_page(browser, desk.platform, problems, **DESKTOP)
    page.on("dialog", lambda d: d.accept())

    await sign_in(page, desk.curator.email, desk.curator.password)
    assert page.url.endswith("/staff/curation"), page.url
    await shoot(page, shots, shot("curator", 1, "landing"))

    # a resource created and published
    await page.get_by_role("link", name="New resource").click()
    title = f"Demolition bid template for small cities {TAG}"
    await page.get_by_label("Title").fill(title)
    await page.get_by_label("Type").select_option("toolkit")
    await page.get_by_label("Housing").check()
    await page.get_by_label("Text (Markdown)").fill("A bid template with **unit prices** per structure, and "
                                                    "the asbestos survey it needs first.")
    await page.get_by_role("button", name="Create draft").click()
    await flashed(page, "Draft created.")
    await page.get_by_role("button", name="Send for review").click()
    await flashed(page, "Sent for review.")
    await page.get_by_role("button", name="Publish").click()
    await flashed(page, "Published.")
    assert "by Cora Curator" in await page.locator("ol.timeline").inner_text()
    await shoot(page, shots, shot("curator", 2, "published"))

    # the public-record review queue: the delivered answer waits there
    async def queued() -> bool:
        await page.goto("/staff/curation/reviews")
        return await page.get_by_role("link", name=answer).count() > 0

    await eventually(queued)
    await shoot(page, shots, shot("curator", 3, "review-queue"))
    await page.get_by_role("link", name=answer).click()
    await shoot(page, shots, shot("curator", 4, "review"))
    await page.get_by_role("button", name="Approve and publish").click()
    await flashed(page, "Approved: it is now part of the public record.")
    assert problems == []


async def test_administrator_day(desk: Desk, browser, shots: Path) -> None:  # noqa: ANN001
    problems: list[str] = []
    pending = await desk.platform.sign_up_official(DESK_CITY, f"Quinn Pending {TAG}")
    page = await new_page(browser, desk.platform, problems, **DESKTOP)
    page.on("dialog", lambda d: d.accept())

    # lands on the sign-ups waiting for verification
    await sign_in(page, desk.admin.email, desk.admin.password)
    assert page.url.endswith("/staff/accounts?status=pending"), page.url
    row = page.locator("table.accounts tbody tr").filter(has_text=pending["email"])
    assert "Personal or other address" in await row.inner_text()
    await shoot(page, shots, shot("administrator", 1, "landing-pending"))

    # a staff account created (no role chosen for them)
    await page.get_by_role("link", name="Create a staff account").click()
    assert not await page.get_by_role("checkbox", checked=True).count(), "no role is chosen by default"
    email = f"rory.researcher.{TAG}@nrn.example"
    await page.get_by_label("Full name").fill("Rory Researcher")
    await page.get_by_label(re.compile("^Job title")).fill("Research associate")
    await page.get_by_label("Work email address").fill(email)
    await page.get_by_label("Subject-matter expert").check()
    await page.get_by_label("Economic development").check()
    await shoot(page, shots, shot("administrator", 2, "new-staff"))
    await page.get_by_role("button", name="Create the account").click()
    await flashed(page, "Rory Researcher can now sign in")
    await shoot(page, shots, shot("administrator", 3, "staff-created"))

    # a pending official refused, with the reason
    await page.goto("/staff/accounts?status=pending")
    await page.get_by_role("link", name=f"Ask or refuse Quinn Pending {TAG}").click()
    await page.get_by_text("Refuse this sign-up").click()
    await page.get_by_label(re.compile(r"^Reason \(emailed")).fill("Gary's city hall has no one of that name; a personal address.")
    await page.get_by_role("button", name="Refuse the sign-up").click()
    await page.get_by_text("Sign-up refused").first.wait_for()
    decisions = await page.locator("ol.timeline").inner_text()
    assert "Sign-up refused: Gary's city hall has no one of that name" in decisions, decisions
    assert await page.get_by_role("heading", name="Verify this sign-up").count() == 0
    await shoot(page, shots, shot("administrator", 4, "sign-up-refused"))

    # a city CSV previewed (one row failing, said as a warning), then imported
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Cities").click()
    await page.get_by_text("Import city data from a CSV file").click()
    data = ("name,state,population,population_year,population_source,time_zone\n"
            "Camden,NJ,77344,2010,Census 2010,America/New_York\n"
            "Gary,IN,80300,2010,Census 2010 (corrected),America/Chicago\n"
            "Nowhere,ZZ,12,2010,Census 2010,America/Chicago\n")
    await page.get_by_label("CSV file").set_input_files(
        {"name": "cities.csv", "mimeType": "text/csv", "buffer": data.encode()})
    await page.get_by_role("button", name="Preview the changes").click()
    await page.get_by_role("heading", name="What this file would change").wait_for()
    report = page.locator("#import-report")
    text = " ".join((await report.inner_text()).split())
    assert "would create 1, update 1" in text and "1 row would fail" in text and "Nowhere" in text, text
    assert "None" not in text and "warning" in (await report.get_attribute("class") or "")
    await shoot(page, shots, shot("administrator", 5, "import-preview"))
    await page.get_by_role("button", name=re.compile(r"Import 2 changes")).click()
    await page.locator("#import-report").wait_for()
    text = " ".join((await page.locator("#import-report").inner_text()).split())
    assert "Imported: 1 created, 1 updated" in text, text
    await shoot(page, shots, shot("administrator", 6, "imported"))
    assert problems == []
