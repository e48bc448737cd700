"""The peer network in a real browser, as NRN staff and two city officials use it.

Staff schedule a convening (one place, in Central time) through the form; Flint's official
registers and gets the place, Youngstown's joins the waitlist as number 1; Flint cancels, the place
is held for Youngstown, who confirms it; staff see the check-in list and publish the slides to the
library, where a search finds them. A working group's deliverable is drafted by a member official,
sent for review, approved by a program manager and found in library search.
Screenshots at 1280 and 390 px go to artifacts/screenshots/peer-*.png."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.testing import (
    DESKTOP, PHONE, STAFF_PASSWORD, Platform, eventually, library_installed, new_page, peer_installed, sign_in,
)

pytestmark = [pytest.mark.integration, pytest.mark.browser,
              pytest.mark.skipif(not (library_installed() and peer_installed()),
                                 reason="the library and peer services are not installed")]


async def _both_widths(page, shots: Path, name: str) -> None:  # noqa: ANN001
    for width, size in ((1280, DESKTOP["viewport"]), (390, PHONE["viewport"])):
        await page.set_viewport_size(size)
        await page.screenshot(path=shots / f"peer-{name}-{width}.png", full_page=True)
    await page.set_viewport_size(DESKTOP["viewport"])


async def _peer_knows(platform: Platform, headers: dict[str, str], city_id: str) -> None:
    """peer learns cities and people from accounts' events: wait until it names this city."""
    async def known() -> bool:
        r = await platform.http.get(f"/api/v1/peer/cities/{city_id}/overview", headers=headers)
        return r.status_code == 200

    await eventually(known)


async def test_convening_waitlist_promotion_materials_and_a_deliverable(platform: Platform, browser, shots) -> None:  # noqa: ANN001
    admin = await platform.admin()
    await platform.import_cities(admin)
    pm = await platform.create_staff(admin, "Priya Manager", ["program_manager", "curator"])
    flint, flint_api = await platform.verified_official(admin, "mi-flint", "Fran Flint")
    youngstown, youngstown_api = await platform.verified_official(admin, "oh-youngstown", "Yolanda Young")
    problems: list[str] = []

    # --- staff schedule a convening through the form, in the venue's time
    staff = await new_page(browser, platform, problems, **DESKTOP)
    await sign_in(staff, pm["email"], STAFF_PASSWORD)
    await staff.goto("/staff/convenings/new")
    central = ZoneInfo("America/Chicago")
    now = datetime.now(UTC).astimezone(central)
    day = (now + timedelta(days=45)).date()
    await staff.get_by_label("Title", exact=True).fill("NRN Annual Convening 2027")
    await staff.get_by_label("Description").fill("Two days of peer learning for city leaders in Chattanooga.")
    await staff.get_by_label("Venue", exact=True).fill("Chattanooga Convention Center")
    await staff.get_by_label("Address").fill("1150 Carter St, Chattanooga, TN")
    await staff.get_by_label("The venue's time zone").select_option("America/Chicago")
    await staff.get_by_label("Starts", exact=True).fill(f"{day}T08:30")
    await staff.get_by_label("Ends", exact=True).fill(f"{day}T17:00")
    await staff.get_by_label("Places").fill("1")
    await staff.get_by_label("Most people from one city").fill("2")
    await staff.get_by_label("Registration opens").fill((now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    await staff.get_by_label("Registration closes").fill((now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"))
    await staff.get_by_label("Session 1 title").fill("Opening plenary")
    await staff.locator("#s0_date").fill(str(day))
    await staff.locator("#s0_start").fill("09:00")
    await staff.locator("#s0_end").fill("10:00")
    await staff.locator("#s0_speakers").fill("Mayor of Chattanooga; NRN director")
    await staff.get_by_label("Session 2 title").fill("Broadband roundtable")
    await staff.locator("#s1_date").fill(str(day))
    await staff.locator("#s1_start").fill("10:30")
    await staff.locator("#s1_end").fill("12:00")
    await _both_widths(staff, shots, "schedule")
    await staff.get_by_role("button", name="Schedule the convening").click()
    await staff.wait_for_load_state("networkidle")
    assert "The convening is scheduled" in await staff.content()
    cid = staff.url.rstrip("/").rsplit("/", 1)[-1]

    # --- two officials register: one place, so the second joins the waitlist
    await _peer_knows(platform, flint_api, "mi-flint")
    fran = await new_page(browser, platform, problems, **DESKTOP)
    await sign_in(fran, flint["email"], flint["password"])
    await fran.goto("/convenings")
    await fran.get_by_role("link", name="NRN Annual Convening 2027").click()
    body = await fran.content()
    assert "9:00 AM C" in body  # the agenda in the venue's (Central) time
    await fran.get_by_label("Dietary needs").fill("Vegetarian")
    await fran.get_by_label("Opening plenary").check()
    await fran.get_by_role("button", name="Register").click()
    await fran.wait_for_load_state("networkidle")
    assert "You are registered." in await fran.content()

    await _peer_knows(platform, youngstown_api, "oh-youngstown")
    yolanda = await new_page(browser, platform, problems, **DESKTOP)
    await sign_in(yolanda, youngstown["email"], youngstown["password"])
    await yolanda.goto(f"/convenings/{cid}")
    await yolanda.get_by_role("button", name="Join the waitlist").click()
    await yolanda.wait_for_load_state("networkidle")
    assert "number 1 on the waitlist" in await yolanda.content()
    await _both_widths(yolanda, shots, "waitlisted")

    # --- a cancellation promotes the waitlisted official, who confirms the held place
    await fran.goto(f"/convenings/{cid}")
    await fran.get_by_role("button", name="Cancel my registration").click()
    await fran.wait_for_load_state("networkidle")
    assert "The registration is cancelled." in await fran.content()
    await yolanda.goto(f"/convenings/{cid}")
    assert "A place is held for you until" in await yolanda.content()
    await _both_widths(yolanda, shots, "offered")
    await yolanda.get_by_role("button", name="Confirm my place").click()
    await yolanda.wait_for_load_state("networkidle")
    assert "Your place is confirmed." in await yolanda.content()
    await yolanda.goto("/")
    dashboard = await yolanda.content()
    assert "Peer network" in dashboard and "Yolanda Young: registered" in dashboard
    await _both_widths(yolanda, shots, "dashboard")

    # --- staff: the check-in list, then the slides published to the library
    await staff.goto(f"/staff/convenings/{cid}")
    checkin = await staff.content()
    assert "Yolanda Young" in checkin and "Youngstown, OH" in checkin and "cancelled by the registrant" in checkin
    await _both_widths(staff, shots, "checkin")
    await staff.get_by_label("Kind", exact=True).select_option("slides")
    await staff.get_by_label("Title", exact=True).fill("Opening plenary slides: what peer cities learned")
    await staff.get_by_label("Summary", exact=True).fill("Slides from the opening plenary in Chattanooga.")
    await staff.get_by_label("Text (Markdown)").fill("## Lessons\n\nStart with the data; share it with residents.")
    await staff.get_by_role("button", name="Publish to the library").click()
    await staff.wait_for_load_state("networkidle")
    assert "Published to the library." in await staff.content()

    async def found(query: str, title: str) -> bool:
        await fran.goto(f"/library?q={query}")
        return title in await fran.content()

    await eventually(lambda: found("plenary slides", "Opening plenary slides: what peer cities learned"))
    await _both_widths(fran, shots, "material-in-library")

    # --- a working group's deliverable: drafted by a member official, approved, found in the library
    r = await platform.http.post("/api/v1/groups", headers=await platform.auth(pm["email"], STAFF_PASSWORD),
                                 json={"name": "Broadband Working Group", "topics": ["broadband"],
                                       "purpose": "Close the digital divide with practical steps any city can take."})
    assert r.status_code == 201, r.text
    gid = r.json()["id"]
    # staff add Flint by its name (nobody types a city or account reference); its officials become choices
    await staff.goto(f"/groups/{gid}")
    await staff.get_by_label("New member").select_option(label="Flint, MI")
    await staff.get_by_role("button", name="Add the member").click()
    await staff.wait_for_load_state("networkidle")
    assert "Member added." in await staff.content()
    officials = staff.locator("#member optgroup[label='Officials of member cities'] option")
    assert "(Flint, MI)" in " ".join(await officials.all_inner_texts())
    assert await staff.locator("#member option", has_text="Flint, MI").count() == len(await officials.all())
    await _both_widths(staff, shots, "group-add-member")
    await fran.goto(f"/groups/{gid}")
    await fran.get_by_text("Start a deliverable").click()
    await fran.get_by_label("Title", exact=True).fill("Practical resource guide to broadband")
    await fran.get_by_label("Summary", exact=True).fill("Steps a city can take to close its digital divide.")
    await fran.get_by_label("First draft (Markdown)").fill("# Broadband guide\n\n1. Map coverage by block.\n"
                                                          "2. Apply for federal digital equity grants.")
    await fran.get_by_role("button", name="Start the deliverable").click()
    await fran.wait_for_load_state("networkidle")
    await fran.get_by_role("button", name="Send draft 1 for review").click()
    await fran.wait_for_load_state("networkidle")
    assert "Sent for review." in await fran.content()

    await staff.goto(fran.url)
    await _both_widths(staff, shots, "deliverable-review")
    await staff.get_by_role("button", name="Approve and publish to the library").click()
    await staff.wait_for_load_state("networkidle")
    assert "Approved: it is published to the library." in await staff.content()
    await eventually(lambda: found("broadband guide", "Practical resource guide to broadband"))
    await _both_widths(fran, shots, "deliverable-in-library")
    assert problems == []


async def test_an_introduction_offered_from_a_suggestion_and_answered_by_both_cities(platform: Platform, browser,
                                                                                     shots) -> None:  # noqa: ANN001
    """Both cities asked 311 questions about land use this year: staff see them suggested with that
    reason, offer the introduction; Flint accepts sharing its contact, Youngstown accepts sharing its
    questions only; each sees only what the other shared. The steering committee flags a term ending."""
    admin = await platform.admin()
    await platform.import_cities(admin)
    pm = await platform.create_staff(admin, "Priya Manager", ["program_manager"])
    pm_api = await platform.auth(pm["email"], STAFF_PASSWORD)
    flint, flint_api = await platform.verified_official(admin, "mi-flint", "Fran Flint")
    youngstown, youngstown_api = await platform.verified_official(admin, "oh-youngstown", "Yolanda Young")
    for headers, city, title in ((flint_api, "mi-flint", "What can we do with 900 tax-foreclosed lots?"),
                                 (youngstown_api, "oh-youngstown", "How do side-lot programs work?")):
        await platform.city_known_to_requests311(headers, city)
        await platform.submit(headers, title, topic="land_use")

    async def suggested() -> bool:
        r = await platform.http.get("/api/v1/introductions/suggestions", headers=pm_api)
        return r.status_code == 200 and any({s["city"], s["other_city"]} == {"Flint, MI", "Youngstown, OH"}
                                            for s in r.json())

    await eventually(suggested)
    problems: list[str] = []
    staff = await new_page(browser, platform, problems, **DESKTOP)
    await sign_in(staff, pm["email"], STAFF_PASSWORD)
    await staff.goto("/introductions")
    page = await staff.content()
    year = datetime.now(UTC).year
    assert f"Both asked 311 questions about land use and vacant property in {year}" in page
    await _both_widths(staff, shots, "suggestions")
    await staff.get_by_role("button", name="Offer the introduction between Flint, MI and Youngstown, OH").click()
    await staff.wait_for_load_state("networkidle")
    assert "Introduction offered to both cities." in await staff.content()

    fran = await new_page(browser, platform, problems, **DESKTOP)
    await sign_in(fran, flint["email"], flint["password"])
    await fran.goto("/introductions")
    assert "Youngstown, OH" in await fran.content()
    await _both_widths(fran, shots, "introduction-offered")
    await fran.get_by_role("button", name="Accept the introduction").click()  # contact is ticked by default
    await fran.wait_for_load_state("networkidle")
    assert "You accepted the introduction." in await fran.content()

    yolanda = await new_page(browser, platform, problems, **DESKTOP)
    await sign_in(yolanda, youngstown["email"], youngstown["password"])
    await yolanda.goto("/introductions")
    assert "Flint, MI has accepted." in await yolanda.content()
    await yolanda.get_by_label("Our contact: the name, title and email of the official who accepts").uncheck()
    await yolanda.get_by_label("The subjects of our 311 questions").check()
    await yolanda.get_by_role("button", name="Accept the introduction").click()
    await yolanda.wait_for_load_state("networkidle")
    seen_by_youngstown = await yolanda.content()
    assert "Both cities accepted" in seen_by_youngstown and "Fran Flint" in seen_by_youngstown
    await _both_widths(yolanda, shots, "introduction-accepted")
    await fran.goto("/introductions")
    seen_by_flint = await fran.content()
    assert "How do side-lot programs work?" in seen_by_flint and "Yolanda Young" not in seen_by_flint

    # the steering committee: a member city's term ending within the notice period is flagged
    sc = await platform.http.post("/api/v1/groups", headers=pm_api, json={
        "kind": "steering_committee", "name": "Peer Steering Committee", "purpose": "City representatives."})
    assert sc.status_code == 201, sc.text
    today = datetime.now(UTC).date()
    for city, days in (("mi-flint", 30), ("oh-youngstown", 600)):
        r = await platform.http.post(f"/api/v1/groups/{sc.json()['id']}/members", headers=pm_api, json={
            "member_kind": "city", "member_id": city, "term_starts_on": str(today - timedelta(days=700)),
            "term_ends_on": str(today + timedelta(days=days))})
        assert r.status_code == 200, r.text
    await fran.goto(f"/groups/{sc.json()['id']}")
    assert "Term ending soon" in await fran.content()
    await _both_widths(fran, shots, "steering-committee")
    assert problems == []
