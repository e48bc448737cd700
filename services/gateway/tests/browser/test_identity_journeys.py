"""Identity journeys in a real browser: forgot password → reset → sign in; a confirmation link that
works once and is then refused; the styled wait page of a throttled sign-in; the staff
verification queue saying whether an address is at the city's domain and whether its mailbox is
confirmed. Screenshots at 1280 and 390 px in artifacts/screenshots/."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from gateway.testing import ADMIN_EMAIL, ADMIN_PASSWORD, DESKTOP, PHONE, Platform, choose_city, new_page, running_platform, \
    shoot, sign_in



pytestmark = [pytest.mark.integration, pytest.mark.browser]

SPACED = " Abcdefghijk1 "
YOUNGSTOWN_DOMAIN = "name,state,official_email_domains\nYoungstown,OH,youngstownohio.gov\n"


def unexpected(problems: list[str]) -> list[str]:
    """Problems other than the browser's note on a page answered 4xx on purpose (a form shown again
    with its errors is 400, a used link 400, a throttled sign-in 429); a missing asset or a 5xx
    is still recorded by its response."""
    return [p for p in problems if not re.fullmatch(r"console error: Failed to load resource: the server responded "
                                                    r"with a status of 4\d\d \(.*\)", p)]



async def test_forgot_password_then_reset_then_sign_in(platform: Platform, browser, shots: Path) -> None:  # noqa: ANN001
    problems: list[str] = []
    admin = await platform.admin()
    await platform.import_cities(admin)
    official = await platform.sign_up_official("mi-flint", "Dana Reset")
    page = await new_page(browser, platform, problems, **DESKTOP)

    await page.goto("/signin")
    await page.get_by_role("link", name="Forgot password?").click()
    await page.get_by_role("heading", name="Forgot your password?").wait_for()
    await page.get_by_label("Email address").fill(official["email"].upper())
    await page.get_by_role("button", name="Send me a link").click()
    await page.get_by_role("heading", name="Check your email").wait_for()
    assert "works once, for 1 hour" in await page.content()
    await shoot(page, shots, "20-forgot-password-sent")

    # the same answer for an address without an account
    await page.goto("/forgot-password")
    await page.get_by_label("Email address").fill("nobody.here@example.org")
    await page.get_by_role("button", name="Send me a link").click()
    await page.get_by_role("heading", name="Check your email").wait_for()

    token = await platform.link(official["email"], "reset")
    await page.goto(f"/reset-password?token={token}")
    await page.get_by_role("heading", name="Choose a new password").wait_for()
    await page.get_by_label("New password", exact=True).fill(SPACED)
    await page.get_by_label("Type the new password again").fill(SPACED.strip())
    await page.get_by_role("button", name="Save the new password").click()
    await page.get_by_text("The two passwords are not the same").wait_for()
    await page.get_by_label("New password", exact=True).fill(SPACED)
    await page.get_by_label("Type the new password again").fill(SPACED)
    await shoot(page, shots, "21-reset-password")
    await page.get_by_role("button", name="Save the new password").click()
    await page.get_by_text("Your password has been changed. Sign in with your new password.").wait_for()

    await sign_in(page, official["email"], SPACED)
    assert "/signin" not in page.url
    await page.get_by_role("button", name=re.compile("Sign out")).wait_for()

    # the link worked once: now it is refused with a way to ask again
    await page.goto(f"/reset-password?token={token}")
    await page.get_by_role("heading", name="This link no longer works").wait_for()
    await page.get_by_role("link", name="Send me a new link").wait_for()
    await shoot(page, shots, "22-reset-link-used")
    assert unexpected(problems) == [], problems


async def test_confirmation_link_once_then_refused_and_the_staff_queue(platform: Platform, browser, shots: Path) -> None:  # noqa: ANN001
    problems: list[str] = []
    admin = await platform.admin()
    await platform.import_cities(admin)
    domain = await platform.http.post("/api/v1/cities/import", headers=admin,
                                      files={"file": ("domains.csv", YOUNGSTOWN_DOMAIN.encode(), "text/csv")})
    assert domain.status_code == 200, domain.text
    tag = uuid.uuid4().hex[:6]
    at_domain = f"Pat.Clerk.{tag}@YoungstownOhio.gov"

    # an official signs up on a phone with an address at the city's domain
    phone = await new_page(browser, platform, problems, **PHONE)
    await phone.goto("/signup")
    await phone.get_by_label("Full name").fill("Pat Clerk")
    await phone.get_by_label("Your title or role").fill("City Clerk")
    await phone.get_by_label("Work email address").fill(at_domain)
    await choose_city(phone, "Your city", "Youngs", "Youngstown, OH")
    await phone.get_by_label("Password").fill(SPACED)
    await phone.get_by_role("button", name="Create account").click()
    # signed in at once, on the city's page, with where they stand
    await phone.get_by_role("heading", name="Your account is waiting for verification").wait_for()
    content = await phone.content()
    assert "confirming it verifies your account at once" in content and "Youngstown, OH" in content
    await shoot(phone, shots, "23-signup-check-mail")

    # a second official with a personal address, who has not confirmed it
    personal = await platform.sign_up_official("oh-youngstown", "Robin Personal")

    # staff see, in words, which address is at the city's domain and which mailbox is confirmed
    staff = await new_page(browser, platform, problems, **DESKTOP)
    await sign_in(staff, ADMIN_EMAIL, ADMIN_PASSWORD)
    await staff.goto("/staff/accounts?status=pending&kind=official")
    pat_row = staff.get_by_role("row").filter(has_text=at_domain.lower())
    robin_row = staff.get_by_role("row").filter(has_text=personal["email"])
    assert "At the city's registered domain" in await pat_row.inner_text()
    assert "Not confirmed yet" in await pat_row.inner_text()
    assert "Personal or other address" in await robin_row.inner_text()
    assert "Not confirmed yet" in await robin_row.inner_text()
    assert "Waiting for verification" in await robin_row.inner_text()
    assert "Youngstown, OH" in await robin_row.inner_text()
    await shoot(staff, shots, "24-staff-queue-unconfirmed")

    # the confirmation link, once
    token = await platform.link(at_domain, "confirm")
    await phone.goto(f"/confirm-email?token={token}")
    await phone.get_by_role("heading", name="Confirm your email address").wait_for()
    await shoot(phone, shots, "25-confirm-email")
    await phone.get_by_role("button", name="Confirm my email address").click()
    await phone.get_by_role("heading", name="Email address confirmed").wait_for()
    assert "Your account is verified too" in await phone.content()
    await shoot(phone, shots, "26-email-confirmed")
    # … then refused, with a way to ask again
    await phone.goto(f"/confirm-email?token={token}")
    await phone.get_by_role("heading", name="This link no longer works").wait_for()
    await phone.get_by_role("link", name="Send me a new link").wait_for()
    await shoot(phone, shots, "27-confirm-link-used")

    # the queue now: Pat verified by the domain rule, confirmed; Robin still waiting
    await staff.goto("/staff/accounts?status=&kind=official")
    pat_row = staff.get_by_role("row").filter(has_text=at_domain.lower())
    assert "Confirmed" in await pat_row.inner_text() and "Verified" in await pat_row.inner_text()
    await shoot(staff, shots, "28-staff-queue-confirmed")
    assert unexpected(problems) == [], problems


async def test_a_throttled_sign_in_shows_the_wait_in_words(nrn_infra, test_id: str, browser, shots: Path) -> None:  # noqa: ANN001
    problems: list[str] = []
    async with running_platform(nrn_infra.kafka_bootstrap_servers, nrn_infra.mongodb_uri, f"w{test_id}",
                                accounts_overrides={"signin_failures_per_client": "3/4 minutes"}) as platform:
        page = await new_page(browser, platform, problems, **DESKTOP)
        # a city hall signs in as often as it needs: successes never count
        for _ in range(4):
            await sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)
            await page.get_by_role("button", name=re.compile("Sign out")).click()
        for attempt in range(3):
            await sign_in(page, ADMIN_EMAIL, f"not the password {attempt}")
            await page.get_by_text("That email and password do not match an account.").wait_for()
        await sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)
        await page.get_by_role("heading", name="Too many failed sign-ins").wait_for()
        text = await page.locator("main").inner_text()
        assert re.search(r"Try again in about (4 minutes|3 minutes)", text), text
        await page.get_by_role("link", name="Forgot your password?").wait_for()
        await shoot(page, shots, "29-signin-throttled")
    assert unexpected(problems) == [], problems
