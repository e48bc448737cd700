"""Every library and clearinghouse curation form, submitted exactly as the rendered page offers it
(its fields parsed from the real page: gateway.testing_forms), is accepted by the library.

The blocker this guards against: the "new resource" form lacked `source_organisation`, which the
library requires, so every submit failed and lost what was typed. Each form is sent twice: with
only what it marks as required (a hurried curator) and with every field filled. The library's
acceptance is checked through the library itself, not the page's word for it.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from gateway.testing import Platform, eventually, library_installed
from gateway.testing_forms import accepted, form_to, post_forms, submit
from gateway.testing_forms import signed_in as _signed_in

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not library_installed(), reason="the library service is not installed")]


async def signed_in(platform: Platform, email: str, password: str) -> httpx.AsyncClient:
    return await _signed_in(platform.gateway, email, password)


async def test_every_curation_form_is_accepted_as_offered(platform: Platform) -> None:
    admin = await platform.admin()
    curator = await platform.create_staff(admin, "Cora Curator", ["curator"])
    client = await signed_in(platform, curator["email"], curator["password"])
    try:
        await _resources(client, platform, admin)
        await _programs(client)
        await _synonyms(client)
        await _reviews(client, platform)
    finally:
        await client.aclose()


async def _resources(client: httpx.AsyncClient, platform: Platform, admin: dict[str, str]) -> None:
    created: list[str] = []
    for minimal in (True, False):
        page = await client.get("/staff/curation/resources/new")
        form = form_to(page.text, "/staff/curation/resources")
        # the library requires these: the form must offer them (the blocker's field among them)
        assert {"title", "type", "topics", "source_organisation", "body", "link"} <= form.field_names()
        target = await accepted(client, await submit(client, form, minimal=minimal,
                                                     values={"body": "How land banks work, step by step."}),
                                f"new resource ({'required fields' if minimal else 'every field'})")
        rid = target.rsplit("/", 1)[-1]
        created.append(rid)
        stored = await platform.http.get(f"/api/v1/library/resources/{rid}", headers=admin)
        assert stored.status_code == 200 and stored.json()["status"] == "draft", stored.text
    # the full form's optional fields arrived as typed
    full = (await platform.http.get(f"/api/v1/library/resources/{created[1]}", headers=admin)).json()["content"]
    assert full["link"] == "https://example.org/resource" and full["publication_date"] and full["authors"]

    # the edit page: every form on it, as offered, through to publication
    rid = created[0]
    for _ in range(4):
        page = await client.get(f"/staff/curation/resources/{rid}")
        edit = form_to(page.text, f"/staff/curation/resources/{rid}")
        await accepted(client, await submit(client, edit, minimal=True), "edit resource, unchanged")
        page = await client.get(f"/staff/curation/resources/{rid}")
        steps = [f for f in post_forms(page.text) if f.action.startswith(f"/staff/curation/resources/{rid}/")
                 and not f.action.endswith(("/archive", "/return"))]
        if not steps:
            break
        await accepted(client, await submit(client, steps[0]), f"resource step {steps[0].action}")
    status = (await platform.http.get(f"/api/v1/library/resources/{rid}", headers=admin)).json()["status"]
    assert status == "published"
    # archive, then restore: the remaining steps as offered
    for step in ("archive", "restore"):
        page = await client.get(f"/staff/curation/resources/{rid}")
        await accepted(client, await submit(client, form_to(page.text, f"/staff/curation/resources/{rid}/{step}")),
                       f"resource {step}")


async def _programs(client: httpx.AsyncClient) -> None:
    for minimal in (True, False):
        page = await client.get("/staff/curation/programs/new")
        form = form_to(page.text, "/staff/curation/programs")
        values = {} if minimal else {"min_population": "20000", "max_population": "500000"}
        target = await accepted(client, await submit(client, form, minimal=minimal, values=values),
                                f"new program ({'required fields' if minimal else 'every field'})")
        pid = target.rsplit("/", 1)[-1]
        page = await client.get(f"/staff/curation/programs/{pid}")
        await accepted(client, await submit(client, form_to(page.text, f"/staff/curation/programs/{pid}"),
                                            minimal=True), "edit program, unchanged")
        program = (await client.get(f"/api/v1/clearinghouse/programs/{pid}")).json()
        if not minimal:
            assert program["content"]["eligibility"]["states"] == ["MI", "OH"]
            assert program["content"]["deadlines"] and program["limits"]
    page = await client.get("/staff/curation/programs")
    retire = [f for f in post_forms(page.text) if f.action.endswith("/retire")]
    assert retire
    await accepted(client, await submit(client, retire[0]), "retire program")


async def _synonyms(client: httpx.AsyncClient) -> None:
    page = await client.get("/staff/curation/synonyms")
    add = [f for f in post_forms(page.text) if "group_id" not in f.field_names()][0]
    await accepted(client, await submit(client, add, values={"phrases": "rehab, rehabilitation"}), "add synonyms")
    page = await client.get("/staff/curation/synonyms")
    group = [f for f in post_forms(page.text) if "group_id" in f.field_names()][0]
    await accepted(client, await submit(client, group, button="Save"), "save synonyms as offered")
    page = await client.get("/staff/curation/synonyms")
    group = [f for f in post_forms(page.text) if "group_id" in f.field_names()][0]
    await accepted(client, await submit(client, group, button="Delete"), "delete synonyms")


async def _reviews(client: httpx.AsyncClient, platform: Platform) -> None:
    """Two consented answers arrive from requests311's events; one is edited and approved, one rejected."""
    from nrn_contracts import encode, envelope, kafka_headers
    from nrn_contracts.events import requests311 as r311
    from nrn_kit.kafka import make_producer

    settings = platform.apps["library"].state.runtime.settings
    producer = make_producer(settings)
    await producer.start()
    try:
        for n in (1, 2):
            event = r311.MemoDelivered(
                request_id=f"req-form-{n}-{uuid.uuid4().hex[:6]}", city_id="mi-flint", topic="housing",
                title=f"Can a city start a land bank? ({n})", question="Can we start a land bank for vacant homes?",
                short_answer="Yes, by ordinance.", memo_markdown="## Short answer\nYes. Call José Núñez at 810‑555‑0142.",
                consent_to_publish="anonymous", delivered_at=datetime.now(UTC))
            ce = envelope(event, source="/nrn/requests311")
            await producer.send_and_wait(settings.topic(type(event).topic), encode(ce),
                                         key=event.aggregate_id().encode(), headers=kafka_headers(ce))
    finally:
        await producer.stop()

    async def two_waiting() -> list[str] | None:
        page = await client.get("/staff/curation/reviews")
        ids = re.findall(r'href="/staff/curation/reviews/(rv-[0-9a-f]+)"', page.text)
        return ids if len(ids) >= 2 else None

    first, second = (await eventually(two_waiting))[:2]
    page = await client.get(f"/staff/curation/reviews/{first}")
    assert "José Núñez" in page.text  # the original, side by side, for the curator only
    form = form_to(page.text, f"/staff/curation/reviews/{first}/save")
    await accepted(client, await submit(client, form, values={"title": "Starting a land bank"}), "save review")
    page = await client.get(f"/staff/curation/reviews/{first}")
    form = form_to(page.text, f"/staff/curation/reviews/{first}/save")
    await accepted(client, await submit(client, form, button="Approve and publish"), "approve review")
    page = await client.get(f"/staff/curation/reviews/{second}")
    reject = form_to(page.text, f"/staff/curation/reviews/{second}/reject")
    await accepted(client, await submit(client, reject, minimal=True), "reject review")

    approved = (await client.get("/staff/curation/reviews?status=approved")).text
    assert "Starting a land bank" in approved and "Cora Curator" in approved
    rejected = (await client.get("/staff/curation/reviews?status=rejected")).text
    assert second in rejected
