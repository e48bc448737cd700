"""Staff work on the real database: city import, exceptions, staff, roles, partners — each decision recorded and published."""

from nrn_contracts import decode

from accounts.testing import CONFIRMATION, RESET, latest_link, sent_links


async def _outbox_types(accounts) -> list[str]:  # noqa: ANN001
    docs = await accounts.runtime.db.outbox.find().sort("seq", 1).to_list(None)
    return [decode(bytes(d["value"]))[0].type.split(".")[-2] for d in docs]


async def test_city_import_reports_rows_and_is_idempotent(accounts) -> None:  # noqa: ANN001
    admin = await accounts.admin()
    bad = accounts.CITIES_CSV + "Nowhere,XX,,1,2010,Census,,,,,,,,,\nGary,IN,,80294,2010,Census 2010,,,,,,,-21.9,Census,\n"
    first = await accounts.import_csv(bad, admin)
    assert first.status_code == 200, first.text
    report = first.json()
    assert (report["created"], report["failed"], report["unchanged"]) == (4, 1, 0)
    failed = next(r for r in report["rows"] if r["outcome"] == "failed")
    assert failed["line"] == 5 and failed["errors"][0]["field"] == "state"
    events_after_first = await _outbox_types(accounts)
    assert events_after_first.count("city_registered") == 4

    again = (await accounts.import_csv(bad, admin)).json()
    assert (again["created"], again["updated"], again["unchanged"], again["failed"]) == (0, 0, 4, 1)
    assert await _outbox_types(accounts) == events_after_first, "re-importing the same file emits nothing"

    # the registry answers filters and explains eligibility
    eligible = (await accounts.http.get("/cities", params={"eligible": "true"})).json()
    assert [c["city_id"] for c in eligible["items"]] == ["in-gary", "mi-flint", "oh-youngstown"]
    by_state = (await accounts.http.get("/cities", params={"state": "il"})).json()
    assert by_state["total"] == 1 and by_state["items"][0]["eligible"] is False
    by_name = (await accounts.http.get("/cities", params={"q": "youn"})).json()
    assert [c["name"] for c in by_name["items"]] == ["Youngstown"]
    paged = (await accounts.http.get("/cities", params={"limit": 2, "offset": 2})).json()
    assert paged["total"] == 4 and len(paged["items"]) == 2
    explained = (await accounts.http.get("/cities/oh-youngstown/eligibility")).json()
    assert explained["eligible"] and [r["passed"] for r in explained["reasons"]] == [True, False, True]
    # one call lists cities with their explanations (what each city's eligibility route says)
    plain = (await accounts.http.get("/cities", params={"q": "youn"})).json()["items"][0]
    assert "eligibility" not in plain, "without the option the summary stays as it was"
    listed = (await accounts.http.get("/cities", params={"with_eligibility": "true"})).json()
    assert listed["total"] == 4 and all(c["eligibility"]["reasons"] for c in listed["items"])
    youngstown = next(c for c in listed["items"] if c["city_id"] == "oh-youngstown")
    assert youngstown["eligibility"] == explained
    assert youngstown["eligible"] is explained["eligible"] and youngstown["eligibility_basis"] == explained["basis"]
    assert (await accounts.http.get("/cities/zz-nowhere")).status_code == 404

    # officials may not import
    anonymous = await accounts.import_csv(accounts.CITIES_CSV, {})
    assert anonymous.status_code == 401


async def test_exception_grant_and_revoke_with_history(accounts) -> None:  # noqa: ANN001
    admin = await accounts.admin()
    await accounts.import_csv(accounts.CITIES_CSV, admin)
    no_reason = await accounts.http.post("/cities/il-naperville/exception", json={"reason": "  "}, headers=admin)
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"

    granted = await accounts.http.post(
        "/cities/il-naperville/exception", json={"reason": "Major employer closed in 2015"}, headers=admin
    )
    assert granted.status_code == 200, granted.text
    city = granted.json()
    assert city["eligible"] and city["eligibility_basis"] == "exception"
    assert city["eligibility"]["exception"]["reason"] == "Major employer closed in 2015"
    twice = await accounts.http.post("/cities/il-naperville/exception", json={"reason": "again"}, headers=admin)
    assert twice.status_code == 409

    # an official can now sign up for the city
    signup = await accounts.http.post(
        "/accounts/officials",
        json={"name": "N", "title": "Clerk", "email": "n@gmail.com", "city_id": "il-naperville",
              "password": "naperville pw 12"},
    )
    assert signup.status_code == 201

    revoked = await accounts.http.post(
        "/cities/il-naperville/exception/revoke", json={"reason": "Recovered"}, headers=admin
    )
    assert revoked.status_code == 200
    history = revoked.json()["exception_history"]
    assert [h["action"] for h in history] == ["granted", "revoked"]
    assert all(h["by"] and h["at"] for h in history)
    assert not revoked.json()["eligible"]
    # verification of that official is now refused with the reason
    verify = await accounts.http.post(f"/accounts/{signup.json()['account_id']}/verify", headers=admin)
    assert verify.status_code == 422 and verify.json()["field"] == "city_id"
    types = await _outbox_types(accounts)
    assert "eligibility_exception_granted" in types and "eligibility_exception_revoked" in types


async def test_staff_roles_partners_and_the_authorisation_of_staff_actions(accounts) -> None:  # noqa: ANN001
    admin = await accounts.admin()
    created = await accounts.http.post(
        "/accounts/staff",
        json={"name": "Sam Expert", "email": "sam@nrn.example", "roles": ["subject_matter_expert"],
              "expertise": ["housing", "finance_budgets"]},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    sam = created.json()["account"]
    assert created.json()["link_sent"] == "password_setup" and "token" not in created.text
    assert sam["status"] == "verified" and sam["expertise"] == ["finance_budgets", "housing"]
    assert sam["mailbox_confirmed"] is False
    [setup] = await sent_links(accounts.runtime.db, "sam@nrn.example", RESET)
    assert setup["purpose"] == "setup"
    setup_token = setup["token"]
    set_pw = await accounts.http.post(
        "/auth/password-reset/confirm", json={"token": setup_token, "new_password": "sam's own password"}
    )
    assert set_pw.status_code == 204
    # following the setup link proves the mailbox
    assert (await accounts.http.get(f"/accounts/{sam['account_id']}", headers=admin)).json()["mailbox_confirmed"]
    sam_headers = {"Authorization": f"Bearer {await accounts.token('sam@nrn.example', 'sam' + chr(39) + 's own password')}"}

    # an expert may not grant roles, list accounts or verify
    for method, path, body in [
        ("POST", f"/accounts/{sam['account_id']}/roles", {"role": "administrator"}),
        ("GET", "/accounts", None),
        ("POST", "/accounts/staff", {"name": "x", "email": "x@nrn.example", "roles": ["reviewer"]}),
    ]:
        r = await accounts.http.request(method, path, json=body, headers=sam_headers)
        assert r.status_code == 403, (path, r.text)

    granted = await accounts.http.post(
        f"/accounts/{sam['account_id']}/roles", json={"role": "reviewer"}, headers=admin
    )
    assert granted.status_code == 200 and granted.json()["roles"] == ["reviewer", "subject_matter_expert"]
    dup = await accounts.http.post(f"/accounts/{sam['account_id']}/roles", json={"role": "reviewer"}, headers=admin)
    assert dup.status_code == 409
    revoked = await accounts.http.delete(f"/accounts/{sam['account_id']}/roles/reviewer", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["roles"] == ["subject_matter_expert"]
    decisions = revoked.json()["decisions"]
    assert [d["action"] for d in decisions][-2:] == ["role_granted", "role_revoked"]

    # the last administrator cannot be removed
    admin_id = (await accounts.http.get("/me", headers=admin)).json()["account_id"]
    last = await accounts.http.delete(f"/accounts/{admin_id}/roles/administrator", headers=admin)
    assert last.status_code == 422 and "at least one active administrator" in last.json()["detail"]

    listed = (await accounts.http.get("/accounts", params={"role": "subject_matter_expert"}, headers=admin)).json()
    assert [a["email"] for a in listed["items"]] == ["sam@nrn.example"]
    by_expertise = (await accounts.http.get("/accounts", params={"expertise": "housing"}, headers=admin)).json()
    assert by_expertise["total"] == 1

    partner = await accounts.http.post(
        "/partners", json={"name": "HUD", "kind": "federal_agency", "website": "https://hud.example"}, headers=admin
    )
    assert partner.status_code == 201
    pid = partner.json()["partner_id"]
    member = await accounts.http.post(
        f"/partners/{pid}/members",
        json={"name": "Pat", "email": "pat@hud.example", "password": "partner password 1"},
        headers=admin,
    )
    assert member.status_code == 201 and member.json()["link_sent"] == "mailbox_confirmation"
    assert await latest_link(accounts.runtime.db, "pat@hud.example", CONFIRMATION)
    detail = (await accounts.http.get(f"/partners/{pid}", headers=admin)).json()
    assert [m["email"] for m in detail["members"]] == ["pat@hud.example"]

    # deactivation ends sign-in
    gone = await accounts.http.post(
        f"/accounts/{member.json()['account']['account_id']}/deactivate", json={"reason": "Left HUD"}, headers=admin
    )
    assert gone.status_code == 200 and gone.json()["status"] == "deactivated"
    assert (await accounts.sign_in("pat@hud.example", "partner password 1")).status_code == 403

    types = await _outbox_types(accounts)
    for expected in ("role_granted", "role_revoked", "partner_registered", "account_deactivated", "account_verified"):
        assert expected in types


async def test_city_overview_gives_the_city_and_its_account_holders_in_one_call(accounts) -> None:  # noqa: ANN001
    admin = await accounts.admin()
    await accounts.import_csv(accounts.CITIES_CSV, admin)
    signup = {"title": "Clerk", "city_id": "oh-youngstown", "password": "a long official password 1"}
    for name in ("Ada", "Bo"):
        created = await accounts.http.post("/accounts/officials", json={**signup, "name": name, "email": f"{name}@gmail.com"})
        assert created.status_code == 201, created.text

    staff = (await accounts.http.get("/cities/oh-youngstown/overview", headers=admin)).json()
    assert staff["city"] == (await accounts.http.get("/cities/oh-youngstown")).json()
    listed = (await accounts.http.get("/accounts", params={"city_id": "oh-youngstown", "kind": "official"}, headers=admin)).json()
    holders = staff["account_holders"]
    assert holders["restricted"] is False and holders["total"] == listed["total"] == 2
    assert holders["items"] == listed["items"]

    token = await accounts.token("Ada@gmail.com", signup["password"])
    own = (await accounts.http.get("/cities/oh-youngstown/overview", headers={"Authorization": f"Bearer {token}"})).json()
    me = (await accounts.http.get("/me", headers={"Authorization": f"Bearer {token}"})).json()
    assert own["account_holders"] == {"items": [me], "total": 1, "restricted": True}, "an official sees only themself"
    assert (await accounts.http.get("/cities/oh-youngstown/overview")).status_code == 401
    assert (await accounts.http.get("/cities/zz-nowhere/overview", headers=admin)).status_code == 404


async def test_a_file_whose_columns_collide_once_normalised_is_refused_and_nothing_applied(accounts) -> None:  # noqa: ANN001
    admin = await accounts.admin()
    await accounts.import_csv(accounts.CITIES_CSV, admin)
    before = await accounts.runtime.db.outbox.count_documents({})
    # the field report: the second population column would silently replace the first
    text = "name,state,population,population_source, Population\nFlint,MI,99999,Census 2020,102434\n"
    response = await accounts.import_csv(text, admin)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["field"] == "file" and problem["columns"] == ["population", " Population"]
    assert "columns 3" in problem["detail"] and "and 5" in problem["detail"]
    assert (await accounts.http.get("/cities/mi-flint")).json()["population"] == 102434
    assert await accounts.runtime.db.outbox.count_documents({}) == before, "a refused file changes nothing"
