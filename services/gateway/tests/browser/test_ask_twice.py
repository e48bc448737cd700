"""An official sends a question, presses Back and sends it again: one question. The same text sent
again from a fresh form says "you asked this a minute ago" instead of making a second one. Real
Chromium, real services; screenshots at 1280 and 390 px go to artifacts/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.testing import ADMIN_EMAIL, ADMIN_PASSWORD, OFFICIAL_PASSWORD, Platform

from .test_journey import DESKTOP, PHONE, new_page, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.browser]

TITLE = "Can we pool our street-light purchase with the county?"
QUESTION = "The county buys LED fixtures in bulk. Can a city join its contract, and what paperwork does that need?"


async def questions(platform: Platform, headers: dict[str, str]) -> list[dict]:
    response = await platform.http.get("/api/v1/requests", params={"city_id": "mi-flint"}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def fill_question(page, title: str = TITLE, question: str = QUESTION) -> None:  # noqa: ANN001
    await page.get_by_label("Your question in one line").fill(title)
    await page.get_by_label("The question in detail").fill(question)
    await page.get_by_label("Topic").select_option("finance_budgets")
    await page.get_by_label("No, keep it private").check()  # the consent question starts empty


@pytest.mark.parametrize(("size", "options"), [("desktop", DESKTOP), ("phone", PHONE)])
async def test_back_and_send_again_makes_one_question(platform: Platform, browser, shots: Path, size: str,
                                                      options: dict) -> None:  # noqa: ANN001
    problems: list[str] = []
    admin = await platform.auth(ADMIN_EMAIL, ADMIN_PASSWORD)
    await platform.import_cities(admin)
    account, api = await platform.verified_official(admin, "mi-flint")
    await platform.city_known_to_requests311(api, "mi-flint")

    page = await new_page(browser, platform, problems, **options)
    await sign_in(page, account["email"], OFFICIAL_PASSWORD)
    await page.goto("/requests/new")
    await fill_question(page)
    await page.get_by_role("button", name="Send the question").click()
    await page.get_by_role("heading", name=TITLE).wait_for()
    first_url = page.url

    # Back to the form (the browser keeps what was typed) and send it again.
    await page.go_back()
    await page.get_by_label("Your question in one line").wait_for()
    assert await page.get_by_label("Your question in one line").input_value() == TITLE
    await page.get_by_role("button", name="Send the question").click()
    await page.get_by_role("heading", name=TITLE).wait_for()
    assert page.url == first_url  # the same question, not a second one
    assert [q["title"] for q in await questions(platform, api)] == [TITLE]

    # Back, change the question and send: a new question, not a refusal of a reused key.
    await page.go_back()
    await page.get_by_label("Your question in one line").fill("Can we also pool the maintenance contract?")
    await page.get_by_role("button", name="Send the question").click()
    await page.get_by_role("heading", name="Can we also pool the maintenance contract?").wait_for()
    assert len(await questions(platform, api)) == 2

    # A fresh form with the first text again: told, not duplicated.
    await page.goto("/requests/new")
    await fill_question(page)
    await page.get_by_role("button", name="Send the question").click()
    notice = page.get_by_role("status").filter(has_text="You asked this")
    await notice.wait_for()
    assert re.search(r"You asked this (a moment|a minute|\d+ minutes) ago", await notice.inner_text())
    link = notice.get_by_role("link", name=re.compile("see that question"))
    assert first_url.endswith(await link.get_attribute("href"))
    await page.screenshot(path=shots / f"ask-again-notice-{size}.png", full_page=True)
    assert len(await questions(platform, api)) == 2

    # Meaning it: the notice's form sends it as another question.
    await page.get_by_role("button", name="Send the question").click()
    await page.get_by_role("heading", name=TITLE).wait_for()
    assert page.url != first_url
    assert len(await questions(platform, api)) == 3
    assert not problems, problems
