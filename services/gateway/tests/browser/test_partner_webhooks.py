"""A partner organization's administrator in a real browser: registers an endpoint (a real receiver on
loopback), copies the secret shown once, sends a test event and sees it delivered in the log; the
event catalogue. Screenshots at 1280 and 390 px in artifacts/screenshots/."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from gateway.testing import ADMIN_EMAIL, ADMIN_PASSWORD, DESKTOP, PHONE, Platform, eventually, new_page, sign_in
from nrn_cli.system import running_system
from partners.testing import receiver

pytestmark = [pytest.mark.integration, pytest.mark.browser]
PASSWORD = "partner-admin-password-1"


async def test_a_partner_administrator_registers_an_endpoint_and_sees_a_test_delivery(
        nrn_infra, test_id: str, browser, shots: Path) -> None:  # noqa: ANN001
    overrides = {"accounts": {"bootstrap_admin_email": ADMIN_EMAIL, "bootstrap_admin_password": ADMIN_PASSWORD,
                              "argon2_time_cost": 1, "argon2_memory_kib": 8 * 1024,
                              "signin_failures_per_client": "1000/minute"},
                 "partners": {"allow_loopback_endpoints": True, "dispatch_poll_seconds": 0.1},
                 "gateway": {"write_rate_capacity": 1000, "upstream_read_timeout": 15.0}}
    async with receiver() as rx, running_system(
            kafka_bootstrap_servers=nrn_infra.kafka_bootstrap_servers, mongodb_uri=nrn_infra.mongodb_uri,
            prefix=f"w{test_id}", names=("accounts", "partners", "gateway"), overrides=overrides) as system, \
            httpx.AsyncClient(base_url=system.urls["gateway"], timeout=30.0) as http:
        platform = Platform(urls=system.urls, gateway=system.urls["gateway"], http=http, apps=system.apps)
        admin = await platform.admin()
        r = await http.post("/api/v1/partners", json={"name": "U.S. Department of Housing and Urban Development",
                                                      "kind": "federal_agency"}, headers=admin)
        assert r.status_code == 201, r.text
        partner_id = r.json()["partner_id"]
        email = f"ada.{uuid.uuid4().hex[:6]}@hud.example"
        r = await http.post(f"/api/v1/partners/{partner_id}/members", headers=admin, json={
            "name": "Ada Analyst", "title": "Data lead", "email": email, "password": PASSWORD, "administrator": True})
        assert r.status_code == 201, r.text
        partner_api = await platform.auth(email, PASSWORD)

        async def partner_known() -> bool:
            return (await http.get(f"/api/v1/partners/{partner_id}/webhooks", headers=partner_api)).status_code == 200
        await eventually(partner_known)

        problems: list[str] = []
        page = await new_page(browser, platform, problems, **DESKTOP)
        await sign_in(page, email, PASSWORD)
        await page.get_by_role("link", name="Webhooks").click()
        await page.get_by_role("heading", name=re.compile("Webhooks of")).wait_for()
        await page.get_by_label("Address (HTTPS)").fill(rx.url("/nrn-hook"))
        await page.get_by_label("Description").fill("Grants desk feed")
        await page.screenshot(path=shots / "partner-01-webhooks-1280.png", full_page=True)
        await page.get_by_role("button", name="Register the endpoint").click()
        await page.get_by_role("heading", name="Endpoint registered").wait_for()
        secret = await page.get_by_label("Signing secret").input_value()
        assert secret.startswith("whsec_")
        await page.screenshot(path=shots / "partner-02-secret-1280.png", full_page=True)
        await page.get_by_role("link", name=re.compile("I have copied it")).click()
        await page.get_by_role("button", name="Send a test event").click()
        await page.get_by_text("Test event sent.").wait_for()

        async def delivered() -> bool:
            await page.reload()
            return await page.get_by_role("row").filter(has_text="Test event").filter(has_text="Delivered").count() == 1
        await eventually(delivered)
        [got] = rx.at("/nrn-hook")
        assert Webhook(secret).verify(got.body, got.headers)["type"].endswith("webhook_test.v1")
        await page.screenshot(path=shots / "partner-03-delivery-log-1280.png", full_page=True)
        await page.get_by_role("link", name="Test event").click()
        await page.get_by_role("heading", name="Test event").wait_for()
        assert "HTTP 200" in await page.content()
        await page.screenshot(path=shots / "partner-04-attempts-1280.png", full_page=True)

        phone = await new_page(browser, platform, problems, **PHONE)
        await sign_in(phone, email, PASSWORD)
        await phone.goto("/partner/webhooks")
        await phone.screenshot(path=shots / "partner-05-webhooks-390.png", full_page=True)
        await phone.get_by_role("link", name=re.compile("nrn-hook")).click()
        await phone.get_by_role("heading", name="Delivery log").wait_for()
        await phone.screenshot(path=shots / "partner-06-endpoint-390.png", full_page=True)
        await phone.goto("/events")
        await phone.get_by_role("heading", name="Event catalog").wait_for()
        await phone.screenshot(path=shots / "partner-07-catalogue-390.png")
        await page.goto("/events")
        await page.get_by_text("Question submitted", exact=False).first.click()
        await page.screenshot(path=shots / "partner-08-catalogue-1280.png")
        # NRN's administrator narrows the agreement: no filtering by topic any more
        staff = await new_page(browser, platform, problems, **DESKTOP)
        await sign_in(staff, ADMIN_EMAIL, ADMIN_PASSWORD)
        await staff.get_by_role("link", name="Partners").click()
        await staff.get_by_role("link", name=re.compile("Housing and Urban Development")).click()
        await staff.get_by_label("By topic").uncheck()
        await staff.get_by_role("button", name="Save the agreement").click()
        await staff.get_by_text("Agreement saved.").wait_for()
        assert not await staff.get_by_label("By topic").is_checked()
        await staff.screenshot(path=shots / "partner-09-staff-agreement-1280.png", full_page=True)
        staff_phone = await new_page(browser, platform, problems, **PHONE)
        await sign_in(staff_phone, ADMIN_EMAIL, ADMIN_PASSWORD)
        await staff_phone.goto(f"/staff/partners/{partner_id}")
        await staff_phone.screenshot(path=shots / "partner-10-staff-agreement-390.png", full_page=True)
        for p in (page, phone, staff, staff_phone):
            width = await p.evaluate("document.documentElement.scrollWidth")
            assert width <= (1280 if p in (page, staff) else 390), f"the page is {width}px wide"
        assert problems == []
