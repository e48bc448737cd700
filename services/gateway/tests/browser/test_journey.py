"""The whole 311 journey through the pages, in a real browser: an official signs up, staff
verify them, the official asks, staff triage, assign, write, review and deliver the memo, the
official reads it, downloads it and books the call. Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import pypdf
import pytest
from nrn_kit.localtime import program_today

from gateway.testing import ADMIN_EMAIL, ADMIN_PASSWORD, DESKTOP, PHONE, Platform, choose_city, eventually, memo_text, \
    new_page, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.browser]

# What experts paste into memos: many scripts, a link whose scheme hides behind an entity, an image
# on the server's disk, and (the first time) a private-use character no font can print.
SCRIPTS = ("Names as the city writes them: Tiếng Việt and 中文, 日本語, 한국어, हिन्दी, العربية, Łódź 🏙. "
           "[Open the form](javascript&#58;alert(1)) ![host](/etc/hostname)")
PASTED = SCRIPTS + " Budget line \ue000 from a spreadsheet."


def next_clock_changes() -> tuple[str, str]:
    """The next spring-forward and fall-back Sundays in the US (second Sunday of March, first of November)
    at least two days ahead, as YYYY-MM-DD."""
    today = program_today()

    def sunday(year: int, month: int, nth: int) -> date:
        first = date(year, month, 1)
        return first + timedelta(days=(6 - first.weekday()) % 7 + 7 * (nth - 1))

    def upcoming(month: int, nth: int) -> str:
        day = sunday(today.year, month, nth)
        if day <= today + timedelta(days=2):
            day = sunday(today.year + 1, month, nth)
        return day.isoformat()

    return upcoming(3, 2), upcoming(11, 1)


async def test_the_whole_journey_through_the_pages(platform: Platform, browser, shots: Path) -> None:  # noqa: ANN001
    problems: list[str] = []
    admin = await platform.admin()
    await platform.import_cities(admin)
    lead = await platform.create_staff(admin, "Lee Lead", ["triage_lead", "program_manager", "reviewer"])
    expert = await platform.create_staff(admin, "Erin Expert", ["subject_matter_expert"], ["finance_budgets"])

    # --- the official signs up (on a phone) --------------------------------------------------------
    official = await new_page(browser, platform, problems, **PHONE)
    email = f"pat.official.{uuid.uuid4().hex[:6]}@example.org"
    password = "a long official passphrase 42"
    await official.goto("/signup")
    await official.get_by_label("Full name").fill("Pat Official")
    await official.get_by_label("Your title or role").fill("Deputy Mayor")
    await official.get_by_label("Work email address").fill(email)
    await choose_city(official, "Your city", "Fli", "Flint, MI")
    await official.get_by_label("Password").fill(password)
    await official.screenshot(path=shots / "01-signup-phone.png", full_page=True)
    await official.get_by_role("button", name="Create account").click()
    await official.get_by_role("heading", name="Your account is waiting for verification").wait_for()

    # --- staff verify the account ------------------------------------------------------------------
    staff = await new_page(browser, platform, problems, **DESKTOP)
    await sign_in(staff, ADMIN_EMAIL, ADMIN_PASSWORD)
    await staff.goto("/staff/accounts?status=pending")
    row = staff.get_by_role("row").filter(has_text=email)
    await staff.screenshot(path=shots / "02-staff-accounts.png", full_page=True)
    await row.get_by_role("button", name=re.compile("Verify")).click()
    await staff.get_by_text("Account verified.").wait_for()

    # --- the official asks a question ----------------------------------------------------------------
    await sign_in(official, email, password)
    await official.get_by_role("heading", level=1, name=re.compile("Flint")).wait_for()
    await official.screenshot(path=shots / "03-official-dashboard-phone.png", full_page=True)
    official_api = await platform.auth(email, password)
    await platform.city_known_to_requests311(official_api, "mi-flint")
    await official.goto("/requests/new")
    await official.get_by_label("Your question in one line").fill("How do we fund lead service line replacement?")
    await official.get_by_label("The question in detail").fill(
        "Our city has about 20,000 lead service lines. Which federal and state programs can pay for replacing them?")
    await official.wait_for_load_state("networkidle")  # the similar-questions fragment (htmx) arrives
    await official.get_by_label("Topic").select_option("finance_budgets")
    await official.get_by_label("Yes, without naming our city").check()  # the consent question starts empty
    await official.screenshot(path=shots / "04-ask-phone.png", full_page=True)
    await official.get_by_role("button", name="Send the question").click()
    await official.get_by_role("heading", name="How do we fund lead service line replacement?").wait_for()
    request_id = official.url.rstrip("/").rsplit("/", 1)[-1]

    # --- staff triage and assign ----------------------------------------------------------------------
    await sign_in(staff, lead["email"], lead["password"])
    await staff.goto("/staff/queue?queue=new")
    await staff.get_by_role("link", name="How do we fund lead service line replacement?").click()
    await staff.get_by_role("button", name="Triage").click()
    await staff.get_by_text("Triaged.").wait_for()

    async def expert_offered() -> bool:
        await staff.goto(f"/staff/requests/{request_id}")
        return await staff.get_by_label(re.compile("Erin Expert")).count() > 0

    await eventually(expert_offered)  # requests311 learns experts from accounts' events
    await staff.screenshot(path=shots / "05-triage.png", full_page=True)
    await staff.get_by_label(re.compile("Erin Expert")).check()
    await staff.get_by_role("button", name="Assign").click()
    await staff.get_by_text("Expert assigned.").wait_for()

    # --- the expert writes the memo, with preview -------------------------------------------------------
    writer = await new_page(browser, platform, problems, **DESKTOP)
    await sign_in(writer, expert["email"], expert["password"])
    await writer.goto(f"/staff/requests/{request_id}/memo")
    # A first attempt pastes a character no font on the server can print: the preview says so, in words.
    await writer.get_by_label("Memo (Markdown)").fill(memo_text().replace("## Options", f"{PASTED}\n\n## Options"))
    warning = writer.locator("#memo-preview").get_by_text("Some characters cannot be printed.")
    await warning.wait_for()
    assert "U+E000, private-use character in the memo" in " ".join((await writer.locator("#memo-preview").inner_text()).split())
    await writer.screenshot(path=shots / "06-memo-editor-unprintable.png", full_page=True)
    await writer.set_viewport_size(PHONE["viewport"])
    await writer.screenshot(path=shots / "06-memo-editor-unprintable-phone.png", full_page=True)
    await writer.set_viewport_size(DESKTOP["viewport"])
    # The expert replaces it; the many scripts and the link that is refused stay, and print.
    await writer.get_by_label("Memo (Markdown)").fill(memo_text().replace("## Options", f"{SCRIPTS}\n\n## Options"))
    # The preview (htmx, after a pause in typing) shows the typed memo, not the template.
    await writer.locator("#memo-preview").get_by_text(re.compile("Flint asked how to pay")).first.wait_for()
    await warning.wait_for(state="detached")
    assert "Too short" not in await writer.locator("#memo-preview").inner_text()
    assert await writer.locator("#memo-preview a[href^='javascript' i]").count() == 0
    await writer.screenshot(path=shots / "06-memo-editor.png", full_page=True)
    await writer.get_by_role("button", name="Save draft").click()
    await writer.get_by_text("Memo draft saved.").wait_for()
    await writer.get_by_role("button", name="Send for review").click()
    await writer.get_by_text("Memo sent for review.").wait_for()

    # --- review, approval, delivery, call slots ----------------------------------------------------------
    await staff.goto(f"/staff/requests/{request_id}/memo")
    await staff.get_by_role("button", name="Approve").click()
    await staff.get_by_text("Memo approved.").wait_for()
    await staff.get_by_role("button", name="Deliver the memo to the city").click()
    await staff.get_by_text("Memo delivered to the city.").wait_for()
    slot = (datetime.now() + timedelta(days=4)).replace(hour=14, minute=0, second=0, microsecond=0)
    while slot.weekday() >= 5:  # a weekday afternoon: within the city's business hours
        slot += timedelta(days=1)
    gap, twice = next_clock_changes()

    # The first slot is typed inside the spring-forward gap: refused, saying what the clocks do, the form kept.
    await staff.goto(f"/staff/requests/{request_id}")
    await staff.get_by_label("Time 1").fill(f"{gap}T02:30")
    await staff.get_by_label("Time 2").fill(slot.strftime("%Y-%m-%dT%H:%M"))
    await staff.get_by_role("button", name="Offer these times").click()
    await staff.get_by_text("does not exist in Eastern time").wait_for()
    assert await staff.get_by_label("Time 2").input_value() == slot.strftime("%Y-%m-%dT%H:%M")
    await staff.screenshot(path=shots / "07a-slot-that-does-not-exist.png", full_page=True)
    # Then 1:30 AM on the night the clocks go back: the page asks which of the two is meant.
    await staff.get_by_label("Time 1").fill(f"{twice}T01:30")
    await staff.get_by_role("button", name="Offer these times").click()
    await staff.get_by_text("Which one?").wait_for()
    await staff.screenshot(path=shots / "07b-slot-which-one.png", full_page=True)
    await staff.set_viewport_size(PHONE["viewport"])
    await staff.screenshot(path=shots / "07b-slot-which-one-phone.png", full_page=True)
    await staff.set_viewport_size(DESKTOP["viewport"])
    await staff.get_by_label(re.compile(r"1:30 AM EST .*the second time")).check()
    await staff.get_by_role("button", name="Offer these times").click()
    # 1:30 AM on a Sunday is outside the city's business hours: offered only once confirmed, the choice kept
    await staff.get_by_text("outside the city's business hours").first.wait_for()
    assert await staff.get_by_label("Time 1").input_value() == f"{twice}T01:30"
    await staff.screenshot(path=shots / "07c-slot-outside-hours.png", full_page=True)
    await staff.get_by_label("Yes, offer these times outside the city's business hours").check()
    await staff.get_by_role("button", name="Offer these times").click()
    await staff.get_by_text("Call slots offered to the city.").wait_for()
    # (offered while the library published the answer in the background: no "reload and retry" any more)

    # --- the official reads, downloads and books ---------------------------------------------------------
    await official.goto(f"/requests/{request_id}")
    await official.get_by_role("heading", name="The memo").wait_for()
    assert "Short answer" in await official.locator("article.memo").inner_text()
    assert "1:30 AM EST" in await official.content(), "the slot on the night the clocks go back names its hour"
    async with official.expect_download() as download_info:
        await official.get_by_role("link", name="Download the memo (PDF)").click()
    download = await download_info.value
    pdf = await download.path()
    assert pdf is not None and Path(pdf).read_bytes().startswith(b"%PDF")
    text = " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(pdf).pages).split())
    for expected in ("Flint, MI", "Pat Official", "Erin Expert", "Tiếng Việt and 中文", "한국어", "Page 1 of"):
        assert expected in text, expected
    memo = official.locator("article.memo")
    assert "Tiếng Việt and 中文" in await memo.inner_text()
    assert await memo.locator("a[href^='javascript' i], img").count() == 0
    await official.screenshot(path=shots / "07-memo-and-slots-phone.png", full_page=True)
    await official.set_viewport_size(DESKTOP["viewport"])
    await official.screenshot(path=shots / "07-memo-and-slots.png", full_page=True)
    await official.set_viewport_size(PHONE["viewport"])

    async def book() -> bool:
        await official.goto(f"/requests/{request_id}")
        await official.get_by_role("button", name="Book this call").click()
        await official.wait_for_load_state("networkidle")
        return await official.get_by_text("Your call is booked.").count() > 0

    await eventually(book, timeout=60)
    assert "Call scheduled" in await official.content()
    await official.screenshot(path=shots / "08-call-booked-phone.png", full_page=True)

    # --- a few more pages, for the record ------------------------------------------------------------
    await sign_in(staff, ADMIN_EMAIL, ADMIN_PASSWORD)
    for path, name in (("/staff/metrics", "09-metrics.png"), ("/staff/cities", "10-cities.png"),
                       ("/cities/mi-flint", "11-city-dashboard-staff.png"), ("/library", "12-library.png"),
                       ("/clearinghouse", "13-clearinghouse.png"), ("/staff/queue?queue=all", "14-queue.png")):
        response = await staff.goto(path)
        assert response is not None and response.status == 200, path
        await staff.screenshot(path=shots / name, full_page=True)

    assert problems == [], "\n".join(problems)
