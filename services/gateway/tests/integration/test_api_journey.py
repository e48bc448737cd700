"""The public API over real HTTP: sign-up → verification → question → staff work → memo → call."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pypdf
import pytest

from gateway.testing import Platform, eventually, memo_text
from requests311.render import MEMO_CSP

pytestmark = pytest.mark.integration


async def test_signup_verify_ask_and_compose(platform: Platform, spans) -> None:  # noqa: ANN001
    http = platform.http
    admin = await platform.admin()
    await platform.import_cities(admin)

    cities = (await http.get("/api/v1/cities", params={"eligible": "true"})).json()
    ids = {c["city_id"] for c in cities["items"]}
    assert {"mi-flint", "oh-youngstown"} <= ids and "il-naperville" not in ids
    flint = next(c for c in cities["items"] if c["city_id"] == "mi-flint")
    assert flint["eligibility"]["eligible"] is True
    assert {r["test"] for r in flint["eligibility"]["reasons"]} == {
        "unemployment_rate", "adult_poverty_rate", "population_change_2000_2010"}
    assert cities["partial"] is False

    account = await platform.sign_up_official("mi-flint")
    assert account["status"] == "pending"
    verified = await http.post(f"/api/v1/accounts/{account['account_id']}/verify", headers=admin)
    assert verified.status_code == 200 and verified.json()["status"] == "verified"
    official = await platform.auth(account["email"], account["password"])

    me = (await http.get("/api/v1/me", headers=official)).json()
    assert me["account_id"] == account["account_id"] and me["city_id"] == "mi-flint"
    assert me["city"]["name"] == "Flint" and me["partial"] is False

    await platform.city_known_to_requests311(official, "mi-flint")
    created = await eventually(lambda: _submit(platform, official))
    request_id = created["id"]

    mine = (await http.get("/api/v1/requests", headers=official)).json()
    assert [r["id"] for r in mine["items"]] == [request_id]
    spans.clear()
    one = await http.get(f"/api/v1/requests/{request_id}", headers=official)
    assert one.status_code == 200 and one.json()["timeline"]
    assert one.headers["etag"]
    # One trace from the gateway's server span through its client call into requests311.
    finished = spans.get_finished_spans()
    routes = {s.attributes.get("http.route"): s for s in finished if s.attributes and s.attributes.get("http.route")}
    assert {"/api/v1/requests/{request_id}", "/requests/{request_id}"} <= set(routes)
    assert (routes["/api/v1/requests/{request_id}"].context.trace_id == routes["/requests/{request_id}"].context.trace_id)

    dashboard = (await http.get("/api/v1/cities/mi-flint/dashboard", headers=official)).json()
    assert dashboard["sections"]["city"]["name"] == "Flint"
    assert [r["id"] for r in dashboard["sections"]["requests"]["items"]] == [request_id]
    assert dashboard["sections"]["account_holders"]["items"][0]["account_id"] == account["account_id"]
    if "library" not in platform.urls:
        # The library is down (not running): the rest still comes, marked partial.
        assert dashboard["partial"] is True
        assert [m["section"] for m in dashboard["missing"]] == ["resources"]


async def _submit(platform: Platform, official: dict[str, str]) -> dict | None:
    response = await platform.http.post("/api/v1/requests", headers=official, json={
        "title": "How do we fund lead service line replacement?",
        "question": "Our city has 20,000 lead service lines. Which federal and state programs can pay for replacement?",
        "topic": "finance_budgets", "urgency": "soon", "consent": "anonymous"})
    if response.status_code == 422 and "city" in response.text:
        return None  # requests311 has not heard of the city yet
    assert response.status_code == 201, response.text
    assert response.headers["location"].startswith("/api/v1/requests/")
    return response.json()


async def test_staff_work_a_request_to_a_delivered_memo_and_a_booked_call(platform: Platform) -> None:
    http = platform.http
    admin = await platform.admin()
    await platform.import_cities(admin)
    lead = await platform.create_staff(admin, "Lee Lead", ["triage_lead", "program_manager", "reviewer"])
    expert = await platform.create_staff(admin, "Erin Expert", ["subject_matter_expert"], ["finance_budgets"])
    lead_h = await platform.auth(lead["email"], lead["password"])
    expert_h = await platform.auth(expert["email"], expert["password"])
    _, official = await platform.verified_official(admin, "mi-flint")
    await platform.city_known_to_requests311(official, "mi-flint")
    request = await eventually(lambda: _submit(platform, official))
    rid = request["id"]

    async def act(headers, suffix, body, expect=200):
        # Events from other services (the library publishing the answer) also move the
        # version on: a 409 version_mismatch means "reload and retry", as any client does.
        for _ in range(5):
            current = (await http.get(f"/api/v1/requests/{rid}", headers=headers)).json()
            response = await http.post(f"/api/v1/requests/{rid}/{suffix}", headers=headers,
                                       json={**body, "version": current["version"]})
            if not (response.status_code == 409 and response.json().get("rule") == "version_mismatch"):
                break
        assert response.status_code == expect, f"{suffix}: {response.status_code} {response.text}"
        return response.json()

    await act(lead_h, "triage", {"topic": "finance_budgets", "urgency": "soon"})

    async def expert_known():
        response = await http.get(f"/api/v1/requests/{rid}/expert-suggestions", headers=lead_h)
        return [e for e in response.json() if e["expert_id"] == expert["account_id"]] if response.status_code == 200 else None

    await eventually(expert_known)
    await act(lead_h, "assign", {"expert_id": expert["account_id"]})
    template = (await http.get(f"/api/v1/requests/{rid}/memo/template", headers=expert_h)).json()["body"]
    assert "Short answer" in template
    preview = await http.post(f"/api/v1/requests/{rid}/memo/preview", headers=expert_h, json={"body": memo_text()})
    assert preview.status_code == 200 and preview.json()["missing_sections"] == []
    await act(expert_h, "memo/drafts", {"body": memo_text()}, expect=201)
    await act(expert_h, "memo/submit", {})
    await act(lead_h, "memo/approve", {})
    await act(lead_h, "memo/deliver", {})
    official_view = (await http.get(f"/api/v1/requests/{rid}", headers=official)).json()
    assert official_view["memo"]["body"]
    pdf = await http.get(f"/api/v1/requests/{rid}/memo.pdf", headers=official)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # the printed memo names the city with its state, the official who asked and the expert
    text = " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages).split())
    assert "Pat Official" in text and "Erin Expert" in text and "Flint, MI" in text and "Page 1 of " in text
    page = await http.get(f"/api/v1/requests/{rid}/memo.html", headers=official)
    assert page.status_code == 200 and page.headers["content-security-policy"] == MEMO_CSP
    starts = (datetime.now(timezone.utc) + timedelta(days=3)).replace(microsecond=0).isoformat()
    offered = await act(expert_h, "call-slots", {"slots": [{"starts_at": starts, "duration_minutes": 30}],
                                                 "outside_business_hours_confirmed": True})
    slot_id = (await http.get(f"/api/v1/requests/{rid}", headers=official)).json()["call_slots"][0]["id"]
    assert offered
    await act(official, "call/schedule", {"slot_id": slot_id})
    assert (await http.get(f"/api/v1/requests/{rid}", headers=official)).json()["status"] == "call_scheduled"
