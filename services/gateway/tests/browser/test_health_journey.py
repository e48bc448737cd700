"""The Peer Health Group's dashboards in a real browser: a program manager loads a CSV of health values
(bad rows reported by line, the good ones kept), reads Flint's dashboard against cities of a similar
size and publishes it; Flint's official, on a phone, first finds it not published, then reads it —
values with year and source, the trend with its text alternative, the peers' median and range, the
flags — and downloads it as CSV; another city's dashboard stays closed to them.
Screenshots at 1280 and 390 px go to artifacts/screenshots/health-*.png."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from gateway.testing import (
    DESKTOP, PHONE, STAFF_PASSWORD, Platform, eventually, new_page, peer_installed, sign_in,
)

pytestmark = [pytest.mark.integration, pytest.mark.browser,
              pytest.mark.skipif(not peer_installed(), reason="the peer service is not installed")]

# Six more cities of Flint's population band (100,000 to 249,999), so Flint has enough peers to compare.
MORE_CITIES = (
    "name,state,fips_place_code,population,population_year,population_source\n"
    "Dayton,OH,3921000,141527,2010,Census 2010\n"
    "Erie,PA,4224000,101786,2010,Census 2010\n"
    "Rockford,IL,1765000,152871,2010,Census 2010\n"
    "Lansing,MI,2646000,114297,2010,Census 2010\n"
    "South Bend,IN,1871000,101168,2010,Census 2010\n"
    "Waco,TX,4876000,124805,2010,Census 2010\n"
)
PEERS = [("Dayton", "OH"), ("Erie", "PA"), ("Rockford", "IL"), ("Lansing", "MI"), ("South Bend", "IN"),
         ("Waco", "TX"), ("Naperville", "IL")]
CITY_IDS = ["mi-flint", "oh-dayton", "pa-erie", "il-rockford", "mi-lansing", "in-south-bend", "tx-waco",
            "il-naperville"]


def health_csv() -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["city", "state", "measure", "year", "value", "source"])
    for year, step in ((2019, 0.0), (2020, 0.5), (2021, 1.0)):
        w.writerow(["Flint", "MI", "Obesity", year, 42 + step, "illustrative demo value"])
        w.writerow(["Flint", "MI", "Park access", year, 88 + step, "illustrative demo value"])
        w.writerow(["Flint", "MI", "Smoking", year, 21 - step, "illustrative demo value"])
        for i, (name, state) in enumerate(PEERS):
            w.writerow([name, state, "Obesity", year, 30 + i + step, "illustrative demo value"])
            w.writerow([name, state, "Park access", year, 60 + i, "illustrative demo value"])
            w.writerow([name, state, "Smoking", year, 17 + i * 0.5, "illustrative demo value"])
    w.writerow(["Flint", "MI", "Obesity", 2022, "", "illustrative demo value"])          # no value
    w.writerow(["Flint", "MI", "Obesity", 2023, "140", "illustrative demo value"])       # over 100 percent
    w.writerow(["Flint", "MI", "Smoking", 2022, "20", ""])                               # no source
    return out.getvalue().encode()


async def _both_widths(page, shots: Path, name: str) -> None:  # noqa: ANN001
    for width, size in ((1280, DESKTOP["viewport"]), (390, PHONE["viewport"])):
        await page.set_viewport_size(size)
        await page.screenshot(path=shots / f"health-{name}-{width}.png", full_page=True)


async def test_staff_load_health_values_and_a_city_reads_its_dashboard_on_a_phone(platform: Platform, browser,
                                                                                  shots) -> None:  # noqa: ANN001
    admin = await platform.admin()
    await platform.import_cities(admin)
    r = await platform.http.post("/api/v1/cities/import", headers=admin,
                                 files={"file": ("more.csv", MORE_CITIES.encode(), "text/csv")})
    assert r.status_code == 200, r.text
    pm = await platform.create_staff(admin, "Priya Manager", ["program_manager"])
    pm_api = await platform.auth(pm["email"], STAFF_PASSWORD)
    flint, flint_api = await platform.verified_official(admin, "mi-flint", "Fran Flint")
    problems: list[str] = []

    async def peer_knows_every_city() -> bool:  # peer learns the cities from accounts' events
        for cid in CITY_IDS:
            if (await platform.http.get(f"/api/v1/peer/cities/{cid}/overview", headers=pm_api)).status_code != 200:
                return False
        return True

    await eventually(peer_knows_every_city, timeout=60)

    # --- Flint's official looks before anything is published
    fran = await new_page(browser, platform, problems, **PHONE)
    await sign_in(fran, flint["email"], flint["password"])
    await fran.goto("/health-data")
    assert fran.url.endswith("/health-data/cities/mi-flint")
    assert "not published yet" in await fran.content(), await fran.inner_text("main")

    # --- staff load the CSV through the page
    staff = await new_page(browser, platform, problems, **DESKTOP)
    await sign_in(staff, pm["email"], STAFF_PASSWORD)
    await staff.goto("/convenings")
    await staff.get_by_role("link", name="Health data").click()
    await staff.get_by_label("CSV file").set_input_files(
        files=[{"name": "health-2019-2021.csv", "mimeType": "text/csv", "buffer": health_csv()}])
    await staff.get_by_role("button", name="Import").click()
    await staff.wait_for_load_state("networkidle")
    page = await staff.content()
    good = 3 * 3 * 8
    assert f"{good + 3} rows read: {good} new values, 0 changed, 0 unchanged, 3 refused." in page
    assert "Line 74 (value): the value is missing" in page
    assert "Line 75 (value): 140 is outside what Obesity can be" in page
    assert "Line 76 (source): every value needs its source" in page
    await _both_widths(staff, shots, "import-report")

    # importing the same file again changes nothing
    await staff.set_viewport_size(DESKTOP["viewport"])
    await staff.get_by_label("CSV file").set_input_files(
        files=[{"name": "health-2019-2021.csv", "mimeType": "text/csv", "buffer": health_csv()}])
    await staff.get_by_role("button", name="Import").click()
    await staff.wait_for_load_state("networkidle")
    assert f"0 new values, 0 changed, {good} unchanged, 3 refused." in await staff.content()

    # --- staff record the Peer Health Group's choice of measures
    await staff.get_by_role("link", name="The health measures and the ones the dashboards show").click()
    assert "Until the Peer Health Group chooses, the dashboards show every measure." in await staff.content()
    await _both_widths(staff, shots, "measures")
    await staff.set_viewport_size(DESKTOP["viewport"])
    boxes = staff.locator("input[name=measure_ids]")
    assert await boxes.count() == 36
    for i in range(36):
        await boxes.nth(i).set_checked(False)
    for name in ("Obesity", "Smoking", "Park access"):
        await staff.get_by_role("checkbox", name=name, exact=True).check()
    await staff.get_by_label("Note on the choice (optional)").fill("Chosen at the group's spring call.")
    await staff.get_by_role("button", name="Show the checked measures on every dashboard").click()
    await staff.wait_for_load_state("networkidle")
    assert "The dashboards now show 3 measures." in await staff.content()

    # --- staff read Flint's dashboard and publish it
    await staff.goto("/health-data")
    await staff.get_by_role("link", name="Flint, MI").click()
    board = await staff.inner_text("main")
    assert "Health dashboard: Flint, MI" in board and "Not published" in board
    assert "3 measures, latest values up to 2021: 1 better than most peers, 2 worse." in board
    assert "Compared with: Cities of a similar size (100,000 to 249,999 people), 7 cities." in board
    obesity = staff.get_by_role("row", name="Obesity")
    assert "43.0" in await obesity.inner_text() and "Worse than most peers" in await obesity.inner_text()
    parks = staff.get_by_role("row", name="Park access")
    assert "Better than most peers" in await parks.inner_text()
    assert await staff.get_by_role("img", name="Obesity, Flint, by year").count() == 1
    await staff.get_by_role("button", name="Publish to the city's officials").click()
    await staff.wait_for_load_state("networkidle")
    assert "Published: the city's officials see it now." in await staff.content()
    await _both_widths(staff, shots, "dashboard-staff")

    # --- Flint's official reads it on the phone and downloads it
    await fran.goto("/health-data")
    page = await fran.content()
    assert "Health dashboard: Flint, MI" in page
    assert "illustrative demo value, not evidence" in page
    assert "2019: 42.0 percent" in page  # the trend's text alternative says every value
    await fran.screenshot(path=shots / "health-dashboard-official-390.png", full_page=True)
    async with fran.expect_download() as info:
        await fran.get_by_role("link", name="Download the dashboard as CSV").click()
    download = await info.value
    rows = list(csv.DictReader(io.StringIO(Path(await download.path()).read_text())))
    latest = [r for r in rows if r["measure"] == "Obesity" and r["flag"]]
    assert latest[0]["year"] == "2021" and latest[0]["evidence"] == "illustrative demo value, not evidence"
    assert latest[0]["peer_count"] == "7"
    await fran.goto("/")  # the city's home: the health section in brief
    home = await fran.inner_text("main")
    assert "Health compared with peer cities" in home
    assert "1 of 3 measures better than most peers, 2 worse (Obesity, Smoking)" in home
    assert problems == []
    other = await fran.goto("/health-data/cities/oh-dayton")  # another city's: not found (the 404 is expected)
    assert other is not None and other.status == 404
    closed = await platform.http.get("/api/v1/health-data/cities/oh-dayton/dashboard", headers=flint_api)
    assert closed.status_code == 404
