"""Browser tests: Python Playwright driving Debian's Chromium (no browser download)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.testing import Platform, running_platform

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[4] / "artifacts" / "screenshots"


@pytest.fixture
async def platform(nrn_infra, test_id: str) -> AsyncIterator[Platform]:  # noqa: ANN001
    async with running_platform(nrn_infra.kafka_bootstrap_servers, nrn_infra.mongodb_uri, f"b{test_id}") as p:
        yield p


@pytest.fixture
async def browser():  # noqa: ANN201
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: the project's setup installs Debian's chromium (apt-get install -y chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
def shots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
