"""The administrators' desk: a pending official questioned, rejected with a reason, reactivated;
a staff account deactivated and reactivated; an official's contact card for whoever answers their
request; a CSV previewed (nothing written) before it is imported; the import's format and template."""

from nrn_contracts import decode

from accounts.domain.city_csv import COLUMN_HELP, KNOWN_COLUMNS, parse_city_csv, template_csv

OFFICIAL = {"name": "Pat Official", "title": "Deputy Mayor", "email": "pat@gmail.example", "phone": "810-555-0100",
            "city_id": "mi-flint", "password": "a long official password 1"}


async def _events(accounts) -> list[tuple[str, dict]]:  # noqa: ANN001
    docs = await accounts.runtime.db.outbox.find().sort("seq", 1).to_list(None)
    out = []
    for d in docs:
        ce, _ = decode(bytes(d["value"]))
        out.append((ce.type.split(".")[-2], ce.data if isinstance(ce.data, dict) else ce.data.model_dump(mode="json")))
    return out


async def _bearer(accounts, email: str, password: str) -> dict[str, str]:  # noqa: ANN001
    return {"Authorization": f"Bearer {await accounts.token(email, password)}"}


async def test_pending_officials_are_questioned_rejected_and_reactivated(accounts) -> None:  # noqa: ANN001
    admin = await accounts.admin()
    assert (await accounts.import_csv(accounts.CITIES_CSV, admin)).status_code == 200
    official = (await accounts.http.post("/accounts/officials", json=OFFICIAL)).json()
    aid = official["account_id"]
    staff = (await accounts.http.post("/accounts/staff", headers=admin, json={
        "name": "Erin Expert", "email": "erin@nrn.example", "roles": ["subject_matter_expert"],
        "expertise": ["housing"], "password": "a long staff password 1"})).json()["account"]
    expert = await _bearer(accounts, "erin@nrn.example", "a long staff password 1")

    # the contact card: staff answering a request may read it; an official may read only their own
    card = await accounts.http.get(f"/accounts/{aid}/contact", headers=expert)
    assert card.status_code == 200, card.text
    assert {k: card.json()[k] for k in ("name", "title", "email", "phone", "city_name")} == {
        "name": "Pat Official", "title": "Deputy Mayor", "email": "pat@gmail.example", "phone": "810-555-0100",
        "city_name": "Flint, MI"}
    assert card.json()["email_at_city_domain"] is False and "decisions" not in card.json()
    assert (await accounts.http.get(f"/accounts/{aid}", headers=expert)).status_code == 403  # not the whole record
    mine = await _bearer(accounts, OFFICIAL["email"], OFFICIAL["password"])
    assert (await accounts.http.get(f"/accounts/{aid}/contact", headers=mine)).status_code == 200
    assert (await accounts.http.get(f"/accounts/{staff['account_id']}/contact", headers=mine)).status_code == 403

    # asking for more keeps the account pending; only verifiers may ask; a blank message is refused
    ask = f"/accounts/{aid}/information-requests"
    assert (await accounts.http.post(ask, headers=expert, json={"message": "Who is your supervisor?"})).status_code == 403
    blank = await accounts.http.post(ask, headers=admin, json={"message": ""})
    assert blank.status_code == 422 and blank.json()["errors"][0]["field"] == "message"
    asked = await accounts.http.post(ask, headers=admin, json={"message": "Please send your city hall phone number."})
    assert asked.status_code == 200 and asked.json()["status"] == "pending"
    assert asked.json()["decisions"][-1]["action"] == "information_requested"

    # rejected with a reason: cannot sign in; the event carries what the official is told
    no_reason = await accounts.http.post(f"/accounts/{aid}/reject", headers=admin, json={"reason": " "})
    assert no_reason.status_code == 422
    rejected = await accounts.http.post(f"/accounts/{aid}/reject", headers=admin,
                                        json={"reason": "The city clerk says you do not work for Flint."})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert (await accounts.sign_in(OFFICIAL["email"], OFFICIAL["password"])).status_code == 403
    assert (await accounts.http.post(f"/accounts/{aid}/verify", headers=admin)).status_code == 409
    again = await accounts.http.post(f"/accounts/{aid}/reject", headers=admin, json={"reason": "twice"})
    assert again.status_code == 409
    listed = (await accounts.http.get("/accounts", params={"status": "rejected"}, headers=admin)).json()
    assert [a["account_id"] for a in listed["items"]] == [aid]

    # reactivated: pending again (it was never verified), may sign in, then be verified
    back = await accounts.http.post(f"/accounts/{aid}/reactivate", headers=admin, json={"reason": "Clerk confirmed"})
    assert back.status_code == 200 and back.json()["status"] == "pending"
    assert (await accounts.sign_in(OFFICIAL["email"], OFFICIAL["password"])).status_code == 200
    assert (await accounts.http.post(f"/accounts/{aid}/verify", headers=admin)).status_code == 200

    # a staff account deactivated, then reactivated verified (only administrators may)
    sid = staff["account_id"]
    await accounts.http.post(f"/accounts/{sid}/deactivate", headers=admin, json={"reason": "Left NRN"})
    assert (await accounts.sign_in("erin@nrn.example", "a long staff password 1")).status_code == 403
    assert (await accounts.http.post(f"/accounts/{sid}/reactivate", headers=mine)).status_code == 403
    up = await accounts.http.post(f"/accounts/{sid}/reactivate", headers=admin)
    assert up.status_code == 200 and up.json()["status"] == "verified" and up.json()["deactivation_reason"] is None
    assert (await accounts.http.post(f"/accounts/{sid}/reactivate", headers=admin)).status_code == 409
    assert (await accounts.sign_in("erin@nrn.example", "a long staff password 1")).status_code == 200

    decided = [(t, d) for t, d in await _events(accounts)
               if t in ("account_information_requested", "account_rejected", "account_reactivated")]
    assert [(t, d.get("status") or d.get("reason") or d.get("message")) for t, d in decided] == [
        ("account_information_requested", "Please send your city hall phone number."),
        ("account_rejected", "The city clerk says you do not work for Flint."),
        ("account_reactivated", "pending"),
        ("account_reactivated", "verified"),
    ]
    assert decided[1][1]["city_id"] == "mi-flint"


async def test_a_city_file_is_previewed_before_anything_is_written(accounts) -> None:  # noqa: ANN001
    admin = await accounts.admin()
    fmt = (await accounts.http.get("/cities/import/format")).json()
    assert [c["name"] for c in fmt["columns"] if c["required"]] == ["name", "state"]
    assert {c["name"] for c in fmt["columns"]} == set(KNOWN_COLUMNS)
    assert not parse_city_csv(fmt["template_csv"]).errors  # the template imports as it is

    before = await accounts.runtime.db.outbox.count_documents({})
    csv = accounts.CITIES_CSV + "Nowhere,XX,,1,2010,Census,,,,,,,,,\n"
    preview = await accounts.http.post("/cities/import", params={"dry_run": "true"}, headers=admin,
                                       files={"file": ("cities.csv", csv.encode(), "text/csv")})
    assert preview.status_code == 200, preview.text
    report = preview.json()
    assert report["dry_run"] and (report["created"], report["failed"]) == (3, 1)
    failed = next(r for r in report["rows"] if r["outcome"] == "failed")
    assert (failed["line"], failed["city"], failed["errors"][0]["field"]) == (5, "Nowhere, XX", "state")
    created = [r["city"] for r in report["rows"] if r["outcome"] == "created"]
    assert created == ["Flint, MI", "Naperville, IL", "Youngstown, OH"]
    assert (await accounts.http.get("/cities")).json()["total"] == 0, "a preview writes nothing"
    assert await accounts.runtime.db.outbox.count_documents({}) == before, "and publishes nothing"

    done = (await accounts.import_csv(csv, admin)).json()
    assert not done["dry_run"] and (done["created"], done["failed"]) == (3, 1)
    preview_again = (await accounts.http.post("/cities/import", params={"dry_run": "true"}, headers=admin,
                                              files={"file": ("cities.csv", csv.encode(), "text/csv")})).json()
    assert (preview_again["unchanged"], preview_again["created"]) == (3, 0)


def test_every_import_column_is_explained_and_in_the_template() -> None:
    assert set(COLUMN_HELP) == set(KNOWN_COLUMNS)
    assert template_csv().splitlines()[0].split(",") == list(COLUMN_HELP)
