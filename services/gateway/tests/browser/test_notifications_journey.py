"""Notices in the pages, in a real browser: an official's unread count appears without reloading
after a staff member acts in another session, and the notice leads to the request; the centre,
the settings, and staff's messages and caught mail. Screenshots at 1280 and 390 px."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.testing import ADMIN_EMAIL, ADMIN_PASSWORD, OFFICIAL_PASSWORD, eventually, running_platform, shoot

from .test_journey import DESKTOP, new_page, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.browser]

TITLE = "How do we fund lead service line replacement?"


@pytest.fixture
async def quick_platform(nrn_infra, test_id: str):  # noqa: ANN001, ANN201
    # the header asks for the count every 2 s here (20 s in use), so the test waits little
    async with running_platform(nrn_infra.kafka_bootstrap_servers, nrn_infra.mongodb_uri, f"n{test_id}",
                                gateway_overrides={"notice_poll_seconds": 2}) as p:
        yield p



async def test_the_unread_count_appears_after_staff_act_and_the_notice_leads_to_the_request(
        quick_platform, browser, shots: Path) -> None:  # noqa: ANN001
    platform = quick_platform
    problems: list[str] = []
    admin = await platform.admin()
    await platform.import_cities(admin)
    lead = await platform.create_staff(admin, "Lee Lead", ["triage_lead", "program_manager"])
    account, official_api = await platform.verified_official(admin, "mi-flint", "Olive Official")
    await platform.city_known_to_requests311(official_api, "mi-flint")
    created = await platform.submit(official_api, TITLE)
    request_id = created["id"]

    # --- the official's session: the receipt is there; they read everything ----------------------
    official = await new_page(browser, platform, problems, **DESKTOP)
    await sign_in(official, account["email"], OFFICIAL_PASSWORD)
    await official.goto("/notifications")
    await official.get_by_role("link", name=re.compile("We received your question")).wait_for(timeout=30_000)
    bell = official.locator("#notice-bell")
    await bell.locator(".count").wait_for()
    await shoot(official, shots, "n1-notification-centre")
    await official.get_by_role("button", name="Mark all as read").click()
    await official.get_by_text("No notifications yet").or_(official.locator(".notice-item")).first.wait_for()
    await bell.locator(".count").wait_for(state="detached")
    await official.goto(f"/requests/{request_id}")  # the official looks at their request, and waits
    assert await bell.locator(".count").count() == 0

    # --- staff, in another session, ask the city for more information --------------------------------
    staff = await new_page(browser, platform, problems, **DESKTOP)
    await sign_in(staff, lead["email"], lead["password"])
    await staff.goto(f"/staff/requests/{request_id}")
    await staff.get_by_text("Ask the city for more information").click()
    await staff.get_by_label("Question to the city").fill("What is the city's annual capital budget for water?")
    await staff.get_by_role("button", name="Send").click()
    await staff.get_by_text(re.compile("asked", re.I)).first.wait_for()

    # --- the official's open page shows the count without a reload -----------------------------------
    url_before = official.url
    await bell.locator(".count").wait_for(timeout=60_000)
    assert official.url == url_before and (await bell.inner_text()).startswith("Notifications")
    assert await bell.locator(".count").inner_text() == "1"
    await official.screenshot(path=shots / "n2-unread-count-appeared.png")
    await bell.click()
    notice = official.get_by_role("link", name=re.compile("NRN asked for more information"))
    await notice.click()
    await official.wait_for_url(re.compile(rf"/requests/{request_id}$"))
    await official.get_by_role("heading", name=TITLE).wait_for()
    await official.goto("/notifications")
    assert await official.locator(".notice-item.unread").count() == 0  # opening it marked it read

    # --- settings -----------------------------------------------------------------------------------
    await official.goto("/notifications/settings")
    await official.get_by_role("group", name="Your city's questions").get_by_label("One email a day").check()
    await official.get_by_label("Time of day").fill("07:30")
    await shoot(official, shots, "n3-notification-settings")
    await official.get_by_role("button", name="Save settings").click()
    await official.get_by_text("Your notification settings are saved.").wait_for()
    assert await official.get_by_role("group", name="Your city's questions").get_by_label(
        "One email a day").is_checked()

    # --- staff: what was sent, and what the catcher caught ---------------------------------------------
    async def mailed() -> bool:
        return any("more information" in str(r.message["Subject"]) for r in platform.smtp.received)

    await eventually(mailed)
    admin_page = await new_page(browser, platform, problems, **DESKTOP)
    await sign_in(admin_page, ADMIN_EMAIL, ADMIN_PASSWORD)
    await admin_page.goto("/staff/mail")
    await admin_page.get_by_role("cell", name=re.compile("NRN needs more information")).first.wait_for()
    await shoot(admin_page, shots, "n4-staff-messages-sent")
    await admin_page.goto("/staff/mail/caught")
    await admin_page.get_by_role("link", name=re.compile("NRN needs more information")).first.click()
    await admin_page.get_by_role("heading", name=re.compile("NRN needs more information")).wait_for()
    frame = admin_page.frame_locator("iframe.mail-frame")
    await frame.get_by_text("What is the city's annual capital budget for water?").wait_for()
    await shoot(admin_page, shots, "n5-caught-message")
    assert "List-Unsubscribe" in await admin_page.locator("table.headers").text_content()
    assert not problems, problems
