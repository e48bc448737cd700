"""The pro bono talent network in a real browser, every role on its own pages: a program manager enrolls a
partner organization; the administrator makes one of its members the organization's pro bono coordinator
on the account page; another member registers as a volunteer and the coordinator confirms them (on a phone); Flint's official posts a project; the program manager opens it and offers the
volunteer the suggestions page ranks first, with its reasons; the city accepts without seeing the volunteer's
contact details, the volunteer accepts on a phone and logs hours; the city then sees the email and phone,
approves the hours and records the outcome; the council's totals show them.
Screenshots at 1280 and 390 px go to artifacts/screenshots/probono-*.png."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from nrn_kit.localtime import program_today

from gateway.testing import (ADMIN_EMAIL, ADMIN_PASSWORD, DESKTOP, PHONE, STAFF_PASSWORD, Platform, eventually, new_page,
                             peer_installed, sign_in)

pytestmark = [pytest.mark.integration, pytest.mark.browser,
              pytest.mark.skipif(not peer_installed(), reason="the peer service is not installed")]
PASSWORD = "a long volunteer passphrase 42"


async def _both_widths(page, shots: Path, name: str) -> None:  # noqa: ANN001
    for width, size in ((1280, DESKTOP["viewport"]), (390, PHONE["viewport"])):
        await page.set_viewport_size(size)
        await page.screenshot(path=shots / f"probono-{name}-{width}.png", full_page=True)


async def test_volunteer_registers_is_matched_accepts_logs_hours_and_the_city_approves(platform: Platform, browser,
                                                                                      shots) -> None:  # noqa: ANN001
    admin = await platform.admin()
    await platform.import_cities(admin)
    pm = await platform.create_staff(admin, "Priya Manager", ["program_manager"])
    flint, _ = await platform.verified_official(admin, "mi-flint", "Fran Flint")
    r = await platform.http.post("/api/v1/partners", headers=admin,
                                 json={"name": "Great Lakes Analytics", "kind": "consortium_member"})
    assert r.status_code == 201, r.text
    partner_id = r.json()["partner_id"]
    people = {}
    for who, name in (("vera", "Vera Volunteer"), ("cole", "Cole Coordinator")):
        email = f"{who}.{uuid.uuid4().hex[:6]}@greatlakes.example"
        r = await platform.http.post(f"/api/v1/partners/{partner_id}/members", headers=admin,
                                     json={"name": name, "title": "Senior Analyst", "email": email,
                                           "password": PASSWORD})
        assert r.status_code == 201, r.text
        people[who] = (email, r.json()["account"]["account_id"])
    problems: list[str] = []
    today = program_today()

    # --- the administrator makes Cole the organization's coordinator on his account page
    boss = await new_page(browser, platform, problems, **DESKTOP)
    await sign_in(boss, ADMIN_EMAIL, ADMIN_PASSWORD)
    boss.on("dialog", lambda dialog: dialog.accept())
    await boss.goto(f"/staff/accounts/{people['cole'][1]}")
    offered = await boss.get_by_label("Grant a role").locator("option").all_inner_texts()
    assert offered == ["Choose a role…", "Partner administrator (webhooks)",
                       "Pro bono coordinator (confirms the organization's volunteers)"], offered  # no staff roles
    await boss.get_by_label("Grant a role").select_option(label="Pro bono coordinator (confirms the organization's volunteers)")
    await _both_widths(boss, shots, "grant-coordinator")
    await boss.set_viewport_size(DESKTOP["viewport"])
    await boss.get_by_role("button", name="Grant the role").click()
    await boss.wait_for_load_state("networkidle")
    roles = boss.locator("ul.roles")
    assert "Pro bono coordinator" in await roles.inner_text(), await roles.inner_text()
    main = await boss.inner_text("main")
    assert "probono" not in main.lower() and "Great Lakes Analytics" in main  # his organization, by name
    offered = await boss.get_by_label("Grant a role").locator("option").all_inner_texts()
    assert offered == ["Choose a role…", "Partner administrator (webhooks)"], offered  # not the role he holds
    await _both_widths(boss, shots, "coordinator-granted")

    # --- staff enroll the organization (peer learns of the partner from accounts' events)
    staff = await new_page(browser, platform, problems, **DESKTOP)
    await sign_in(staff, pm["email"], STAFF_PASSWORD)

    async def partner_offered() -> bool:
        await staff.goto("/probono")
        return await staff.get_by_role("option", name="Great Lakes Analytics").count() == 1

    await eventually(partner_offered, timeout=60)
    await staff.get_by_label("Kind").select_option("company")
    await staff.get_by_role("button", name="Enroll the organization").click()
    await staff.wait_for_load_state("networkidle")
    assert "The organization joined the talent network" in await staff.content()

    # --- the volunteer registers
    vera = await new_page(browser, platform, problems, **DESKTOP)
    await sign_in(vera, people["vera"][0], PASSWORD)
    await vera.goto("/convenings")
    await vera.get_by_role("link", name="Pro bono").click()
    await vera.get_by_label("Your job title").fill("Senior Data Analyst")
    for skill in ("Data and analytics", "Blight and vacant property"):
        await vera.get_by_role("checkbox", name=skill).check()
    await vera.get_by_label("Hours a month you can give").fill("20")
    await vera.get_by_label("Available from").fill(str(today - timedelta(days=30)))
    await vera.get_by_label("Available until").fill(str(today + timedelta(days=180)))
    await vera.get_by_label("City you are based in").fill("Detroit")
    await vera.get_by_role("textbox", name="State").fill("MI")
    await vera.get_by_label("Experience a city should know about").fill("Mapped 40,000 vacant lots for Detroit.")
    await vera.get_by_label("Phone").fill("313-555-0142")
    await _both_widths(vera, shots, "volunteer-register")
    await vera.set_viewport_size(DESKTOP["viewport"])
    await vera.get_by_role("button", name="Register").click()
    await vera.wait_for_load_state("networkidle")
    assert "Your organization's pro bono coordinator confirms you next." in await vera.content()
    assert "Waiting for your organization's coordinator" in await vera.inner_text("main")

    # --- the coordinator confirms on a phone
    cole = await new_page(browser, platform, problems, **PHONE)
    await sign_in(cole, people["cole"][0], PASSWORD)
    await cole.goto("/probono")
    await cole.get_by_role("button", name="Confirm Vera Volunteer").click()
    await cole.wait_for_load_state("networkidle")
    assert "Confirmed: the volunteer can now be matched" in await cole.content()

    # --- Flint posts a project
    fran = await new_page(browser, platform, problems, **DESKTOP)
    await sign_in(fran, flint["email"], flint["password"])
    await fran.goto("/cities/mi-flint")  # the city dashboard's section, before any project: what to do next
    section = fran.locator("section", has=fran.get_by_role("heading", name="Pro bono projects"))
    assert "No pro bono projects yet" in await section.inner_text()
    assert await section.get_by_role("link", name="Post a project").get_attribute("href") == "/probono/projects/new"
    await fran.goto("/probono")
    await fran.get_by_role("link", name="Post a project").click()
    await fran.get_by_label("Department").fill("Planning and Development")
    await fran.get_by_label("Project title").fill("Vacant lot inventory")
    await fran.get_by_label("The problem to solve").fill("Map every vacant lot on the north side with its owner.")
    for skill in ("Data and analytics", "Blight and vacant property", "Legal"):
        await fran.get_by_role("checkbox", name=skill).check()
    await fran.get_by_label("Hours of help needed in all").fill("40")
    await fran.get_by_label("Starts", exact=True).fill(str(today - timedelta(days=7)))
    await fran.get_by_label("Ends", exact=True).fill(str(today + timedelta(days=83)))
    await fran.get_by_role("radio", name="Remote or on site").check()
    await fran.get_by_label("What has to be done on site, and where").fill("Walk the north side lots once.")
    await _both_widths(fran, shots, "project-form")
    await fran.set_viewport_size(DESKTOP["viewport"])
    await fran.get_by_role("button", name="Post the project").click()
    await fran.wait_for_load_state("networkidle")
    assert "Waiting for NRN's review" in await fran.inner_text("main")
    project_url = fran.url

    # --- staff open it and offer the volunteer the suggestions rank first
    await staff.goto("/probono")
    await staff.get_by_role("link", name="Vacant lot inventory").first.click()
    await staff.get_by_role("button", name="Open for matching").click()
    await staff.wait_for_load_state("networkidle")
    main = await staff.inner_text("main")
    assert "Opened: volunteers can now be matched to it." in main
    assert "Has 2 of the 3 skills needed: Blight and vacant property and Data and analytics (not Legal)" in main
    assert "Can work on site: based in Detroit, MI" in main
    await _both_widths(staff, shots, "suggestions")
    await staff.set_viewport_size(DESKTOP["viewport"])
    await staff.get_by_label("Hours to agree").fill("10")
    await staff.get_by_role("button", name="Offer the project to Vera Volunteer").click()
    await staff.wait_for_load_state("networkidle")
    assert "Offered. The volunteer and the city are asked to accept." in await staff.content()

    # --- the city accepts, without the contact details yet
    await fran.goto(project_url)
    main = await fran.inner_text("main")
    assert "Vera Volunteer" in main and "313-555-0142" not in main and people["vera"][0] not in main
    await fran.get_by_role("button", name="Accept Vera Volunteer").click()
    await fran.wait_for_load_state("networkidle")
    assert "313-555-0142" not in await fran.inner_text("main")

    # --- the volunteer accepts on a phone and logs hours
    await vera.set_viewport_size(PHONE["viewport"])
    await vera.goto("/probono")
    assert "Why you were suggested" in await vera.inner_text("main")
    await vera.get_by_role("button", name="Accept the match").click()
    await vera.wait_for_load_state("networkidle")
    await vera.get_by_label("Day worked").fill(str(today - timedelta(days=1)))
    await vera.get_by_label("Hours", exact=True).fill("12")
    await vera.get_by_label("What you did").fill("Mapped ward 1")
    await vera.get_by_role("button", name="Log hours").click()
    await vera.wait_for_load_state("networkidle")
    assert "beyond the 10 hours agreed" in await vera.content()  # refused with the reason, nothing logged
    await vera.get_by_label("Day worked").fill(str(today - timedelta(days=1)))
    await vera.get_by_label("Hours", exact=True).fill("6.5")
    await vera.get_by_label("What you did").fill("Mapped ward 1")
    await vera.get_by_role("button", name="Log hours").click()
    await vera.wait_for_load_state("networkidle")
    assert "Hours logged. The city approves them next." in await vera.content()
    await _both_widths(vera, shots, "volunteer-matches")

    # --- the city sees the contact details, approves the hours and records the outcome
    await fran.goto(project_url)
    main = await fran.inner_text("main")
    assert people["vera"][0] in main and "313-555-0142" in main
    await fran.get_by_role("button", name="Approve 6.5 hours").click()
    await fran.wait_for_load_state("networkidle")
    assert "Hours approved." in await fran.content()

    # --- the city dashboard's section has the real figures, for the city and for staff
    for who, name in ((fran, "city"), (staff, "staff")):
        await who.goto("/cities/mi-flint")
        section = who.locator("section", has=who.get_by_role("heading", name="Pro bono projects"))
        text = " ".join((await section.inner_text()).split())
        assert "Projects: Under way 1" in text, text
        assert "1 volunteer at work on" in text and "(1 match accepted by both)" in text, text
        assert "Hours delivered: 6.5, of which 6.5 approved." in text, text
        await section.get_by_role("link", name="Vacant lot inventory").wait_for()
        await section.scroll_into_view_if_needed()
        await _both_widths(who, shots, f"dashboard-{name}")
        await who.set_viewport_size(DESKTOP["viewport"])
    await fran.goto(project_url)
    await fran.get_by_label("What the project achieved").fill("All 1,200 north side lots mapped with owners.")
    await fran.get_by_role("button", name="Complete the project").click()
    await fran.wait_for_load_state("networkidle")
    assert "The outcome is recorded." in await fran.content()
    await _both_widths(fran, shots, "project-city")

    await staff.goto("/probono/council")
    main = await staff.inner_text("main")
    assert "Great Lakes Analytics" in main and "Flint, MI" in main and "6.5" in main
    await _both_widths(staff, shots, "council")
    assert problems == []
