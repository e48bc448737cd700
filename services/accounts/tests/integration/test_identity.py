"""Identity classes on the real database and broker, over HTTP:

- passwords are used exactly as typed on every path that sets or checks one;
- one e-mail address is one identity, whichever way it is typed, from sign-up through sign-in,
  the lockout and a password reset;
- an unconfirmed address earns no trust: the official-domain rule verifies only after the
  mailbox is confirmed with a single-use link, which travels only on nrn.accounts.security.v1.
"""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaConsumer

from accounts.testing import CONFIRMATION, RESET, latest_link
from nrn_contracts import decode
from nrn_contracts.topics import ACCOUNTS_SECURITY_TOPIC

SPACED = " Abcdefghijk1 "


async def _cities(accounts) -> dict[str, str]:  # noqa: ANN001
    admin = await accounts.admin()
    assert (await accounts.import_csv(accounts.CITIES_CSV, admin)).status_code == 200
    return admin


def _signup(email: str, password: str, city_id: str = "oh-youngstown") -> dict:
    return {"name": "Jo Official", "title": "Clerk", "email": email, "city_id": city_id, "password": password}


async def _set_password_by_link(accounts, email: str, new_password: str) -> None:  # noqa: ANN001
    token = await accounts.eventually(lambda: latest_link(accounts.runtime.db, email, RESET))
    done = await accounts.http.post("/auth/password-reset/confirm", json={"token": token, "new_password": new_password})
    assert done.status_code == 204, done.text


# --- 4. passwords used exactly as typed --------------------------------------------------------------


async def test_a_password_with_spaces_works_on_every_path_that_sets_or_checks_one(accounts) -> None:  # noqa: ANN001
    admin = await _cities(accounts)

    # official sign-up
    assert (await accounts.http.post("/accounts/officials", json=_signup("jo@gmail.com", SPACED))).status_code == 201
    # staff creation
    staff = await accounts.http.post("/accounts/staff", headers=admin, json={
        "name": "Sam", "email": "sam@nrn.example", "roles": ["reviewer"], "password": SPACED})
    assert staff.status_code == 201, staff.text
    # partner member
    partner = (await accounts.http.post("/partners", headers=admin, json={"name": "HUD", "kind": "federal_agency"})).json()
    member = await accounts.http.post(f"/partners/{partner['partner_id']}/members", headers=admin,
                                      json={"name": "Pat", "email": "pat@hud.example", "password": SPACED})
    assert member.status_code == 201, member.text
    for email in ("jo@gmail.com", "sam@nrn.example", "pat@hud.example"):
        assert (await accounts.sign_in(email, SPACED)).status_code == 200, email
        assert (await accounts.sign_in(email, SPACED.strip())).status_code == 401, email

    # reset confirmation (a setup link for a staff member created without a password)
    created = await accounts.http.post("/accounts/staff", headers=admin, json={
        "name": "Ro", "email": "ro@nrn.example", "roles": ["curator"]})
    assert created.status_code == 201
    await _set_password_by_link(accounts, "ro@nrn.example", SPACED)
    assert (await accounts.sign_in("ro@nrn.example", SPACED)).status_code == 200
    assert (await accounts.sign_in("ro@nrn.example", "Abcdefghijk1 ")).status_code == 401

    # a signed-in change, from the spaced password to another with spaces inside and around
    bearer = {"Authorization": f"Bearer {await accounts.token('jo@gmail.com', SPACED)}"}
    changed = await accounts.http.post("/me/password", headers=bearer,
                                       json={"current_password": SPACED, "new_password": "\tnew  pass phrase 7 "})
    assert changed.status_code == 200, changed.text
    assert (await accounts.sign_in("jo@gmail.com", "\tnew  pass phrase 7 ")).status_code == 200
    assert (await accounts.sign_in("jo@gmail.com", "new pass phrase 7")).status_code == 401


async def test_the_bootstrap_administrator_password_is_used_as_typed(accounts_settings, start_accounts) -> None:  # noqa: ANN001
    async with start_accounts(accounts_settings(bootstrap_admin_email="Boss@Example.ORG",
                                                bootstrap_admin_password=SPACED)) as accounts:
        assert (await accounts.sign_in("boss@example.org", SPACED)).status_code == 200
        assert (await accounts.sign_in("BOSS@example.org", SPACED.strip())).status_code == 401


@pytest.mark.parametrize(
    ("set_as", "typed"),
    [
        ("caf\u00e9 au lait pour deux", "cafe\u0301 au lait pour deux"),  # NFC set, NFD typed
        ("cafe\u0301 au lait pour deux", "caf\u00e9 au lait pour deux"),  # NFD set, NFC typed
        ("\uff21bcdefghijk 1", "Abcdefghijk 1"),  # fullwidth from an input method
        ("\u00a0non-breaking space pass", " non-breaking space pass"),  # NFKC: NBSP is a space
    ],
)
async def test_unicode_forms_of_one_password_are_one_password(accounts, set_as: str, typed: str) -> None:  # noqa: ANN001
    await _cities(accounts)
    email = f"u{uuid.uuid4().hex[:6]}@gmail.com"
    assert (await accounts.http.post("/accounts/officials", json=_signup(email, set_as))).status_code == 201
    assert (await accounts.sign_in(email, typed)).status_code == 200
    assert (await accounts.sign_in(email, set_as)).status_code == 200


# --- 5. one address, one identity ----------------------------------------------------------------------

SPELLINGS = [
    # (sign up as, then sign in, collide and reset with these)
    ("e\u0301@example.org", ["\u00e9@example.org", "E\u0301@EXAMPLE.ORG", "\u00c9@Example.org"]),
    ("jo@xn--bcher-kva.example", ["jo@b\u00fccher.example", "JO@B\u00dcCHER.EXAMPLE", "jo@bu\u0308cher.example"]),
    ("\uff4a\uff41\uff4e\uff45@example.org", ["jane@example.org", "Jane@EXAMPLE.org", "\uff2a\uff21\uff2e\uff25@example.org"]),
    ("Stra\u00dfe@example.org", ["strasse@example.org", "STRASSE@EXAMPLE.ORG"]),
]


@pytest.mark.parametrize(("signed_up_as", "others"), SPELLINGS)
async def test_every_spelling_of_an_address_is_the_same_account(accounts, signed_up_as: str, others: list[str]) -> None:  # noqa: ANN001
    admin = await _cities(accounts)
    created = await accounts.http.post("/accounts/officials", json=_signup(signed_up_as, "first password 123"))
    assert created.status_code == 201, created.text
    account = created.json()
    assert created.headers["location"] == f"/accounts/{account['account_id']}"
    for spelling in others:
        # sign-in
        assert (await accounts.sign_in(spelling, "first password 123")).status_code == 200, spelling
        # no second account, for an official or for staff
        dup = await accounts.http.post("/accounts/officials", json=_signup(spelling, "first password 123"))
        assert dup.status_code == 409 and dup.json()["field"] == "email", spelling
        staff = await accounts.http.post("/accounts/staff", headers=admin,
                                         json={"name": "X", "email": spelling, "roles": ["reviewer"]})
        assert staff.status_code == 409, spelling

    # the lockout counts failures under every spelling together
    for spelling in (others * 5)[:5]:
        assert (await accounts.sign_in(spelling, "wrong password 000")).status_code == 401
    assert (await accounts.sign_in(signed_up_as, "first password 123")).status_code == 423

    # a reset asked for under another spelling reaches the account
    await accounts.http.post("/auth/password-reset", json={"email": others[-1]})
    await _set_password_by_link(accounts, signed_up_as, "second password 456")
    assert (await accounts.sign_in(others[0], "second password 456")).status_code == 200
    me = await accounts.http.get(f"/accounts/{account['account_id']}", headers=admin)
    assert me.json()["email"] == account["email"]


async def test_a_partner_member_and_the_bootstrap_admin_use_the_canonical_form(accounts_settings, start_accounts) -> None:  # noqa: ANN001
    async with start_accounts(accounts_settings()) as accounts:
        admin = await accounts.admin()
        partner = (await accounts.http.post("/partners", headers=admin, json={"name": "HUD", "kind": "federal_agency"})).json()
        first = await accounts.http.post(f"/partners/{partner['partner_id']}/members", headers=admin,
                                         json={"name": "Pat", "email": "Pat@HUD.example", "password": "partner pass 1 2"})
        assert first.status_code == 201 and first.json()["account"]["email"] == "pat@hud.example"
        again = await accounts.http.post(f"/partners/{partner['partner_id']}/members", headers=admin,
                                         json={"name": "Pat", "email": "\uff30\uff41\uff54@hud.example"})
        assert again.status_code == 409
    # the bootstrap administrator typed another way is the same account: nothing new at start
    async with start_accounts(accounts_settings(bootstrap_admin_email=accounts.ADMIN_EMAIL.upper())) as again:
        listed = (await again.http.get("/accounts", params={"role": "administrator"}, headers=await again.admin())).json()
        assert listed["total"] == 1


async def test_an_address_that_is_no_address_is_refused_naming_the_field(accounts) -> None:  # noqa: ANN001
    await _cities(accounts)
    for bad in ("not an address", "jo@localhost", "jo@", "a b@example.org"):
        r = await accounts.http.post("/accounts/officials", json=_signup(bad, "first password 123"))
        assert r.status_code == 422, bad
        assert any("email" in str(e.get("field")) for e in r.json()["errors"]), r.text
        # sign-in answers as for a wrong password
        assert (await accounts.sign_in(bad, "first password 123")).status_code == 401


# --- 6. no trust from an unconfirmed address -----------------------------------------------------------


async def test_the_official_domain_verifies_only_after_the_mailbox_is_confirmed(accounts) -> None:  # noqa: ANN001
    admin = await _cities(accounts)
    created = await accounts.http.post("/accounts/officials", json=_signup("Jane@CityOfFlint.com", "first password 123",
                                                                          city_id="mi-flint"))
    assert created.status_code == 201
    jane = created.json()
    assert jane["status"] == "pending" and jane["mailbox_confirmed"] is False
    assert jane["email_at_city_domain"] is True
    # a pending official cannot act for the city: their token says pending
    assert (await accounts.http.get("/me", headers={
        "Authorization": f"Bearer {await accounts.token('jane@cityofflint.com', 'first password 123')}"})).json()["status"] == "pending"

    queue = (await accounts.http.get("/accounts", params={"status": "pending"}, headers=admin)).json()["items"]
    listed = next(a for a in queue if a["account_id"] == jane["account_id"])
    assert (listed["email_at_city_domain"], listed["mailbox_confirmed"]) == (True, False)

    token = await latest_link(accounts.runtime.db, "jane@cityofflint.com", CONFIRMATION)
    assert token and token not in created.text
    assert (await accounts.http.post("/auth/confirm-email/check", json={"token": token})).status_code == 200
    confirmed = await accounts.http.post("/auth/confirm-email", json={"token": token})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json() == {"account_id": jane["account_id"], "email": "jane@cityofflint.com",
                                "status": "verified", "mailbox_confirmed": True}
    record = (await accounts.http.get(f"/accounts/{jane['account_id']}", headers=admin)).json()
    assert record["verified_by"] == "system:official-email-domain" and record["mailbox_confirmed"]
    assert [d["action"] for d in record["decisions"]] == ["registered", "mailbox_confirmed", "verified"]

    # once only
    again = await accounts.http.post("/auth/confirm-email", json={"token": token})
    assert again.status_code == 400 and again.json()["field"] == "token"
    # and a confirmed mailbox gets no new link
    await accounts.http.post("/auth/confirm-email/resend", json={"email": "jane@cityofflint.com"})
    assert await latest_link(accounts.runtime.db, "jane@cityofflint.com", CONFIRMATION) == token


async def test_a_personal_address_stays_pending_for_staff_after_confirmation(accounts) -> None:  # noqa: ANN001
    admin = await _cities(accounts)
    created = (await accounts.http.post("/accounts/officials",
                                        json=_signup("jane@gmail.com", "first password 123", city_id="mi-flint"))).json()
    assert created["email_at_city_domain"] is False
    # "send the link again": a new link, the old one stops working
    first = await latest_link(accounts.runtime.db, "jane@gmail.com", CONFIRMATION)
    assert (await accounts.http.post("/auth/confirm-email/resend", json={"email": "JANE@gmail.com"})).status_code == 202
    second = await accounts.eventually(
        lambda: _newer(accounts, "jane@gmail.com", first))
    assert (await accounts.http.post("/auth/confirm-email", json={"token": first})).status_code == 400
    assert (await accounts.http.post("/auth/confirm-email", json={"token": second})).json()["status"] == "pending"
    record = (await accounts.http.get(f"/accounts/{created['account_id']}", headers=admin)).json()
    assert record["status"] == "pending" and record["mailbox_confirmed"] is True


async def _newer(accounts, email: str, old: str) -> str | None:  # noqa: ANN001
    token = await latest_link(accounts.runtime.db, email, CONFIRMATION)
    return token if token != old else None


async def test_links_travel_only_on_the_security_topic(accounts, nrn_infra) -> None:  # noqa: ANN001
    await _cities(accounts)
    created = (await accounts.http.post("/accounts/officials", json=_signup("kim@gmail.com", "first password 123"))).json()
    settings = accounts.app.state.runtime.settings
    consumer = AIOKafkaConsumer(settings.topic(ACCOUNTS_SECURITY_TOPIC), settings.topic("nrn.accounts.v1"),
                                bootstrap_servers=nrn_infra.kafka_bootstrap_servers, auto_offset_reset="earliest",
                                group_id=f"probe-{uuid.uuid4().hex[:8]}", enable_auto_commit=False)
    await consumer.start()
    try:
        seen: dict[str, list] = {}

        async def link_seen() -> bool:
            batches = await consumer.getmany(timeout_ms=200)
            for tp, records in batches.items():
                for record in records:
                    _, event = decode(record.value)
                    seen.setdefault(tp.topic, []).append(event)
            security = seen.get(settings.topic(ACCOUNTS_SECURITY_TOPIC), [])
            return any(getattr(e, "account_id", None) == created["account_id"] for e in security)

        await accounts.eventually(link_seen)
        [link] = [e for e in seen[settings.topic(ACCOUNTS_SECURITY_TOPIC)] if e.account_id == created["account_id"]]
        assert isinstance(link, CONFIRMATION) and link.email == "kim@gmail.com"
        public = seen.get(settings.topic("nrn.accounts.v1"), [])
        assert not any(isinstance(e, (CONFIRMATION, RESET)) for e in public)
        assert all(link.token not in e.model_dump_json() for e in public)
    finally:
        await consumer.stop()
