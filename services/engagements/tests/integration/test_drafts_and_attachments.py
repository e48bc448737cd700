"""Drafts saved by two officials of one city (merged field by field, or a clear conflict), and
attachments in GridFS: types from the content, size limits, downloads, and no orphans."""

from engagements.adapters.files import AttachmentStore
from engagements.testing import complete_form, tiny_pdf, tiny_png


async def test_two_officials_autosaving_merge_and_a_real_conflict_names_who_and_what(svc):
    olive, oscar = svc.official("off-1"), svc.official("off-2")
    app = await svc.ok(await svc.http.post("/applications", headers=olive), 201)
    aid, base = app["id"], app["version"]
    # Olive saves the background; Oscar, who opened the same version, saves project management
    await svc.ok(await svc.http.patch(f"/applications/{aid}", headers=olive, json={
        "version": base, "background": {"sponsor_name": "Karen Weaver", "sponsor_title": "Mayor"}}))
    merged = await svc.ok(await svc.http.patch(f"/applications/{aid}", headers=oscar, json={
        "version": base, "project_management": {"timeline_months": 9}}))
    assert merged["merged"][0]["by_name"] == "Olive Official"
    assert merged["merged"][0]["labels"] == ["Executive sponsor's name", "Executive sponsor's title"]
    assert merged["form"]["background"]["sponsor_name"] == "Karen Weaver"
    assert merged["form"]["project_management"]["timeline_months"] == 9
    # Oscar's page still holds the old sponsor title and changes it: a conflict, nothing saved
    conflict = await svc.http.patch(f"/applications/{aid}", headers=oscar, json={
        "version": base, "background": {"sponsor_title": "City manager"}, "peer_connections": True})
    assert conflict.status_code == 409
    body = conflict.json()
    assert body["rule"] == "someone_else_changed_this" and body["current_version"] == merged["version"]
    assert body["conflicts"] == [{"field": "background.sponsor_title", "label": "Executive sponsor's title",
                                  "anchor": "f-background-sponsor_title", "yours": "City manager", "theirs": "Mayor",
                                  "by_name": "Olive Official", "at": body["conflicts"][0]["at"]}]
    assert "Olive Official changed Executive sponsor's title" in body["detail"]
    now = await svc.ok(await svc.http.get(f"/applications/{aid}", headers=olive))
    assert now["version"] == merged["version"] and now["form"]["peer_connections"] is False
    # a save with If-Match instead of a body version, and without either
    ok = await svc.http.patch(f"/applications/{aid}", headers={**oscar, "If-Match": f'"{now["version"]}"'},
                              json={"background": {"sponsor_title": "City manager"}})
    assert ok.status_code == 200 and ok.headers["etag"] == f'"{now["version"] + 1}"'
    missing = await svc.http.patch(f"/applications/{aid}", headers=oscar, json={"peer_connections": True})
    assert missing.status_code == 428 and missing.json()["rule"] == "version_required"


async def test_invalid_saves_name_the_field_and_lose_nothing(svc):
    olive = svc.official("off-1")
    app = await svc.ok(await svc.http.post("/applications", headers=olive), 201)
    aid = app["id"]
    for body, field in (({"project_management": {"timeline_months": 24}}, "project_management.timeline_months"),
                        ({"project_management": {"manager_email": "jordan at city"}}, "project_management.manager_email"),
                        ({"economic_challenges": {"barriers": {"broadband": "x"}}}, "economic_challenges.barriers"),
                        ({"background": {"population": -5}}, "background.population"),
                        ({"background": {"favourite": "x"}}, "background.favourite"),
                        ({"regional": {"partner_city_ids": ["../x"]}}, "regional.partner_city_ids.0")):
        response = await svc.http.patch(f"/applications/{aid}", headers=olive, json={**body, "version": app["version"]})
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"].startswith(field), (field, response.json())
    assert (await svc.ok(await svc.http.get(f"/applications/{aid}", headers=olive)))["version"] == app["version"]


async def test_one_application_in_play_per_city_and_a_reapplication_links_the_history(svc):
    olive = svc.official("off-1")
    first = await svc.ok(await svc.http.post("/applications", headers=olive), 201)
    again = await svc.http.post("/applications", headers=svc.official("off-2"))
    assert again.status_code == 409 and again.json()["rule"] == "one_open_application_per_city"
    await svc.ok(await svc.http.post(f"/applications/{first['id']}/withdraw", headers=olive,
                                     json={"version": first["version"], "reason": "Starting over."}))
    svc.clock.advance(days=3)
    second = await svc.ok(await svc.http.post("/applications", headers=olive), 201)
    assert second["previous_application_id"] == first["id"]
    history = await svc.ok(await svc.http.get("/applications", headers=olive))
    assert [a["id"] for a in history["items"]] == [second["id"], first["id"]]
    assert [a["status"] for a in history["items"]] == ["draft", "withdrawn"]


async def test_attachments_are_checked_by_content_stored_in_gridfs_and_downloaded(svc):
    olive = svc.official("off-1")
    app = await svc.ok(await svc.http.post("/applications", headers=olive), 201)
    aid = app["id"]

    async def upload(name: str, data: bytes, ctype: str, kind: str = "budget", version: int | None = None):
        return await svc.http.post(f"/applications/{aid}/attachments", headers=olive, data={
            "kind": kind, "version": str(version if version is not None else app["version"])},
            files={"file": (name, data, ctype)})

    exe = await upload("budget.pdf", b"MZ\x90\x00" + b"\x00" * 500, "application/pdf")
    assert exe.status_code == 422 and exe.json()["field"] == "file" and exe.json()["rule"] == "file_type_not_accepted"
    html = await upload("letter.pdf", b"<html><script>alert(1)</script></html>", "application/pdf")
    assert html.status_code == 422
    big = await upload("big.pdf", tiny_pdf() + b"0" * (10 * 1024 * 1024), "application/pdf")
    assert big.status_code == 422 and big.json()["rule"] == "file_too_large"
    assert await svc.db["attachments.files"].count_documents({}) == 0  # nothing refused was stored

    png = await upload("budget.exe", tiny_png(), "application/octet-stream")
    assert png.status_code == 201, png.text
    app = png.json()
    stored = app["attachments"][0]
    assert (stored["filename"], stored["content_type"], stored["kind_label"]) == ("budget.png", "image/png", "Budget")
    got = await svc.http.get(f"/applications/{aid}/attachments/{stored['id']}", headers=olive)
    assert got.status_code == 200 and got.content == tiny_png() and got.headers["content-type"] == "image/png"
    assert got.headers["x-content-type-options"] == "nosniff" and "attachment;" in got.headers["content-disposition"]
    other = await svc.http.get(f"/applications/{aid}/attachments/{stored['id']}", headers=svc.official("off-4"))
    assert other.status_code == 404
    stale = await upload("letter.pdf", tiny_pdf(), "application/pdf", kind="sponsor_letter", version=1)
    assert stale.status_code == 409
    assert await svc.db["attachments.files"].count_documents({}) == 1  # the refused upload was deleted again

    removed = await svc.http.delete(f"/applications/{aid}/attachments/{stored['id']}", headers=olive,
                                    params={"version": app["version"]})
    assert removed.status_code == 200 and removed.json()["attachments"] == []
    assert await svc.db["attachments.files"].count_documents({}) == 0
    assert await svc.db["attachments.chunks"].count_documents({}) == 0


async def test_a_file_a_crash_left_unreferenced_is_swept(svc):
    store = AttachmentStore(svc.db)
    orphan = await store.put(tiny_pdf(), filename="x.pdf", content_type="application/pdf", application_id="app-gone",
                             uploaded_by="off-1")
    kept = await svc.draft()
    kept_id = kept["attachments"][0]["id"]
    assert await store.sweep_orphans(svc.clock.now) == 0  # younger than an hour: an upload may be saving now
    removed = await store.sweep_orphans(svc.clock.now.replace(year=2100))
    assert removed == 1
    ids = {str(f["_id"]) async for f in svc.db["attachments.files"].find({})}
    assert ids == {kept_id} and orphan.id not in ids


async def test_preview_lists_what_submission_still_needs_and_submit_names_every_field(svc):
    olive = svc.official("off-1")
    app = await svc.ok(await svc.http.post("/applications", headers=olive), 201)
    form = complete_form(svc.clock.now.date())
    form["background"].pop("stakeholders")
    form["project_management"]["local_match"] = "hardship"
    app = await svc.ok(await svc.http.patch(f"/applications/{app['id']}", headers=olive,
                                            json={**form, "version": app["version"]}))
    preview = [p["field"] for p in app["problems"]]
    assert preview == ["background.stakeholders", "project_management.hardship_reason", "attachments.sponsor_letter"]
    refused = await svc.http.post(f"/applications/{app['id']}/submit", headers=olive, json={"version": app["version"]})
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == preview
    assert refused.json()["errors"][1] == {
        "field": "project_management.hardship_reason", "label": "Reason for the hardship request",
        "message": "Give the reason for the hardship request.", "anchor": "f-project_management-hardship_reason",
        "section": "Project management"}


async def test_a_regional_application_waits_for_its_partner_city_to_confirm(svc):
    olive, paula, gail = svc.official("off-1"), svc.official("off-3"), svc.official("off-4")
    app = await svc.draft("off-1", regional={"partner_city_ids": ["city-saginaw"]})
    refused = await svc.http.post(f"/applications/{app['id']}/submit", headers=olive, json={"version": app["version"]})
    assert refused.status_code == 422
    assert [e["message"] for e in refused.json()["errors"]] == [
        "Saginaw, MI has not confirmed yet: one of its officials must confirm."]
    # Saginaw's official sees the application naming the city, and confirms; Gary's sees nothing
    listed = await svc.ok(await svc.http.get("/applications", headers=paula))
    assert [a["id"] for a in listed["items"]] == [app["id"]]
    assert (await svc.http.get(f"/applications/{app['id']}", headers=gail)).status_code == 404
    seen = await svc.ok(await svc.http.get(f"/applications/{app['id']}", headers=paula))
    assert seen["is_partner_city"] and seen["actions"] == ["confirm_partnership"]
    edit = await svc.http.patch(f"/applications/{app['id']}", headers=paula, json={"version": seen["version"],
                                                                                 "peer_connections": False})
    assert edit.status_code == 403
    confirmed = await svc.ok(await svc.http.post(f"/applications/{app['id']}/partner-confirmation", headers=paula,
                                                 json={"version": seen["version"]}))
    assert confirmed["partner_cities"] == [{"city_id": "city-saginaw", "name": "Saginaw, MI", "confirmed": True}]
    submitted = await svc.ok(await svc.http.post(f"/applications/{app['id']}/submit", headers=olive,
                                                 json={"version": confirmed["version"]}))
    assert submitted["status"] == "submitted"
    assert await svc.read_topic(app["id"], 2) == ["application_drafted", "application_submitted"]
