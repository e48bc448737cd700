"""Sign-in safety on the real database: lockout, throttles, refresh rotation and its grace window,
sign-out, password reset, keys."""

import asyncio

import jwt
import pytest

from accounts.config import Settings
from accounts.testing import RESET, latest_link, sent_links


async def _official(accounts, email: str = "jo@gmail.com", password: str = "first password 123") -> dict:  # noqa: ANN001
    admin = await accounts.admin()
    await accounts.import_csv(accounts.CITIES_CSV, admin)
    created = await accounts.http.post(
        "/accounts/officials",
        json={"name": "Jo", "title": "Mayor", "email": email, "city_id": "oh-youngstown", "password": password},
    )
    assert created.status_code == 201, created.text
    return created.json()


async def test_lockout_after_five_failures_and_the_same_answer_for_unknown_emails(accounts) -> None:  # noqa: ANN001
    await _official(accounts)
    unknown = await accounts.sign_in("nobody@gmail.com", "whatever password")
    wrong = await accounts.sign_in("jo@gmail.com", "wrong password 000")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json()["detail"] == wrong.json()["detail"] == "wrong email or password"
    assert wrong.headers["www-authenticate"] == "Bearer"
    for _ in range(4):
        assert (await accounts.sign_in("jo@gmail.com", "wrong password 000")).status_code == 401
    locked = await accounts.sign_in("jo@gmail.com", "first password 123")
    assert locked.status_code == 423
    assert 0 < int(locked.headers["retry-after"]) <= 15 * 60
    # the lock lives in the database: a fresh instance on the same data refuses too
    attempts = await accounts.runtime.db.login_attempts.find_one({"_id": "jo@gmail.com"})
    assert attempts["failures"] == 5 and attempts["locked_until"] is not None


async def test_only_failed_sign_ins_count_against_a_client(accounts_settings, start_accounts) -> None:  # noqa: ANN001
    async with start_accounts(accounts_settings(signin_failures_per_client="3/minute")) as accounts:
        await _official(accounts)
        city_hall = {"X-Forwarded-For": "203.0.113.9"}
        # a city hall behind one address: many successful sign-ins never count
        for _ in range(8):
            assert (await accounts.sign_in("jo@gmail.com", "first password 123", **city_hall)).status_code == 200
        statuses = [
            (await accounts.sign_in(f"u{i}@gmail.com", "some password 1", **city_hall)).status_code for i in range(3)
        ]
        assert statuses == [401, 401, 401]
        throttled = await accounts.sign_in("jo@gmail.com", "first password 123", **city_hall)
        assert throttled.status_code == 429
        body = throttled.json()
        assert throttled.headers["content-type"].startswith("application/problem+json")
        assert body["status"] == 429 and "failed sign-ins" in body["detail"]
        assert 0 < int(throttled.headers["retry-after"]) <= 60
        # another client is not affected
        other = await accounts.sign_in("jo@gmail.com", "first password 123", **{"X-Forwarded-For": "203.0.113.10"})
        assert other.status_code == 200


async def test_refresh_rotates_reuse_revokes_the_family_and_sign_out_ends_it(accounts_settings, start_accounts) -> None:  # noqa: ANN001
    async with start_accounts(accounts_settings(refresh_reuse_grace_seconds=0)) as accounts:
        await _official(accounts)
        first = (await accounts.sign_in("jo@gmail.com", "first password 123")).json()
        second = await accounts.http.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert second.status_code == 200
        second = second.json()
        assert second["refresh_token"] != first["refresh_token"] and second["access_token"]

        # the spent token comes back (stolen?): refused, and the whole family is revoked
        replay = await accounts.http.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert replay.status_code == 401
        assert (await accounts.http.post("/auth/refresh", json={"refresh_token": second["refresh_token"]})).status_code == 401

        # OAuth2 form grant works too; sign-out revokes
        fresh = (await accounts.sign_in("jo@gmail.com", "first password 123")).json()
        form = await accounts.http.post(
            "/auth/token", data={"grant_type": "refresh_token", "refresh_token": fresh["refresh_token"]}
        )
        assert form.status_code == 200
        out = await accounts.http.post("/auth/signout", json={"refresh_token": form.json()["refresh_token"]})
        assert out.status_code == 204
        after = await accounts.http.post("/auth/refresh", json={"refresh_token": form.json()["refresh_token"]})
        assert after.status_code == 401
        # only hashes are stored
        stored = await accounts.runtime.db.refresh_tokens.find().to_list(None)
        assert stored and all(first["refresh_token"] not in str(d) for d in stored)


async def test_concurrent_refreshes_of_one_session_inside_the_grace_window(accounts) -> None:  # noqa: ANN001
    """Two requests of one browser session refresh at once: both get a pair, the family lives on.
    A third use inside the window is refused without ending the session; reuse after the window
    revokes the family."""
    await _official(accounts)
    pair = (await accounts.sign_in("jo@gmail.com", "first password 123")).json()
    both = await asyncio.gather(*(accounts.http.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
                                  for _ in range(2)))
    assert [r.status_code for r in both] == [200, 200], [r.text for r in both]
    a, b = (r.json() for r in both)
    assert a["refresh_token"] != b["refresh_token"]
    third = await accounts.http.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert third.status_code == 401
    # neither successor was revoked by the burst
    assert (await accounts.http.post("/auth/refresh", json={"refresh_token": a["refresh_token"]})).status_code == 200

    # after the window, the spent token coming back is theft: the family ends
    svc = accounts.runtime.state["services"]
    real_clock = svc.clock
    svc.clock = lambda: real_clock() + __import__("datetime").timedelta(seconds=svc.settings.refresh_reuse_grace_seconds + 1)
    try:
        late = await accounts.http.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        assert late.status_code == 401
        assert (await accounts.http.post("/auth/refresh", json={"refresh_token": b["refresh_token"]})).status_code == 401
    finally:
        svc.clock = real_clock


async def test_password_reset_is_single_use_and_answers_alike_for_every_address(accounts) -> None:  # noqa: ANN001
    await _official(accounts)
    session = (await accounts.sign_in("jo@gmail.com", "first password 123")).json()
    unknown = await accounts.http.post("/auth/password-reset", json={"email": "nobody@gmail.com"})
    junk = await accounts.http.post("/auth/password-reset", json={"email": "not an address"})
    requested = await accounts.http.post("/auth/password-reset", json={"email": "JO@gmail.com"})
    assert unknown.status_code == junk.status_code == requested.status_code == 202
    assert unknown.json() == junk.json() == requested.json() == {"status": "accepted"}
    assert "token" not in requested.text

    token = await accounts.eventually(lambda: latest_link(accounts.runtime.db, "jo@gmail.com", RESET))
    [link] = await sent_links(accounts.runtime.db, "jo@gmail.com", RESET)
    assert link["purpose"] == "reset"
    assert await sent_links(accounts.runtime.db, "nobody@gmail.com", RESET) == []
    check = await accounts.http.post("/auth/password-reset/check", json={"token": token})
    assert check.status_code == 200 and check.json()["valid"] is True

    weak = await accounts.http.post("/auth/password-reset/confirm", json={"token": token, "new_password": "short"})
    assert weak.status_code == 422 and weak.json()["field"] == "new_password"
    ok = await accounts.http.post(
        "/auth/password-reset/confirm", json={"token": token, "new_password": " second password 456 "}
    )
    assert ok.status_code == 204
    again = await accounts.http.post(
        "/auth/password-reset/confirm", json={"token": token, "new_password": "third password 789"}
    )
    assert again.status_code == 400 and again.json()["field"] == "token"
    assert (await accounts.http.post("/auth/password-reset/check", json={"token": token})).status_code == 400

    assert (await accounts.sign_in("jo@gmail.com", "first password 123")).status_code == 401
    assert (await accounts.sign_in("jo@gmail.com", "second password 456")).status_code == 401  # not trimmed
    assert (await accounts.sign_in("jo@gmail.com", " second password 456 ")).status_code == 200
    # sessions from before the reset are over; the change is published; the link proved the mailbox
    old = await accounts.http.post("/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert old.status_code == 401
    types = [d["type"] for d in await accounts.runtime.db.outbox.find().to_list(None)]
    assert any(t.endswith("password_changed.v1") for t in types)
    assert any(t.endswith("mailbox_confirmed.v1") for t in types)


async def test_a_newer_reset_link_retires_the_older_one(accounts) -> None:  # noqa: ANN001
    await _official(accounts)
    db = accounts.runtime.db
    await accounts.http.post("/auth/password-reset", json={"email": "jo@gmail.com"})
    first = await accounts.eventually(lambda: latest_link(db, "jo@gmail.com", RESET))
    await accounts.http.post("/auth/password-reset", json={"email": "jo@gmail.com"})

    async def second() -> str | None:
        links = await sent_links(db, "jo@gmail.com", RESET)
        return links[-1]["token"] if len(links) == 2 else None

    newer = await accounts.eventually(second)
    assert (await accounts.http.post("/auth/password-reset/check", json={"token": first})).status_code == 400
    assert (await accounts.http.post("/auth/password-reset/check", json={"token": newer})).status_code == 200


async def test_link_requests_are_throttled_alike_for_every_address(accounts_settings, start_accounts) -> None:  # noqa: ANN001
    async with start_accounts(accounts_settings(link_requests_per_address="2/hour")) as accounts:
        await _official(accounts)
        for email in ("jo@gmail.com", "nobody@gmail.com"):
            codes = [(await accounts.http.post("/auth/password-reset", json={"email": email})).status_code
                     for _ in range(3)]
            assert codes == [202, 202, 429], email
        resend = await accounts.http.post("/auth/confirm-email/resend", json={"email": "JO@gmail.com"})
        assert resend.status_code == 429 and resend.json()["field"] == "email"
        assert int(resend.headers["retry-after"]) > 0


async def test_a_signed_in_password_change(accounts) -> None:  # noqa: ANN001
    await _official(accounts)
    pair = (await accounts.sign_in("jo@gmail.com", "first password 123")).json()
    other_browser = (await accounts.sign_in("jo@gmail.com", "first password 123")).json()
    bearer = {"Authorization": f"Bearer {pair['access_token']}"}
    wrong = await accounts.http.post("/me/password", headers=bearer,
                                     json={"current_password": "first password 12", "new_password": "x new password 9"})
    assert wrong.status_code == 422 and wrong.json()["field"] == "current_password"
    weak = await accounts.http.post("/me/password", headers=bearer,
                                    json={"current_password": "first password 123", "new_password": "aaaa"})
    assert weak.status_code == 422 and weak.json()["field"] == "new_password"
    changed = await accounts.http.post("/me/password", headers=bearer,
                                       json={"current_password": "first password 123", "new_password": " Abcdefghijk1 "})
    assert changed.status_code == 200 and changed.json()["refresh_token"]
    assert (await accounts.http.post("/auth/refresh", json={"refresh_token": other_browser["refresh_token"]})).status_code == 401
    assert (await accounts.http.post("/auth/refresh", json={"refresh_token": changed.json()["refresh_token"]})).status_code == 200
    assert (await accounts.sign_in("jo@gmail.com", " Abcdefghijk1 ")).status_code == 200
    assert (await accounts.sign_in("jo@gmail.com", "Abcdefghijk1")).status_code == 401


async def test_development_key_survives_a_restart(accounts_settings, start_accounts) -> None:  # noqa: ANN001
    settings = accounts_settings()
    async with start_accounts(settings) as first:
        token = await first.token(first.ADMIN_EMAIL, first.ADMIN_PASSWORD)
        jwks_before = (await first.http.get("/.well-known/jwks.json")).json()
    async with start_accounts(settings) as second:
        jwks_after = (await second.http.get("/.well-known/jwks.json")).json()
        assert jwks_after == jwks_before
        assert jwt.get_unverified_header(token)["kid"] == jwks_after["keys"][0]["kid"]
        me = await second.http.get("/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200 and me.json()["email"] == second.ADMIN_EMAIL


def test_production_refuses_to_start_without_a_signing_key() -> None:
    with pytest.raises(ValueError, match="token_signing_key"):
        Settings(environment="production")


def test_rates_are_checked_at_start() -> None:
    with pytest.raises(ValueError, match="not a rate"):
        Settings(signin_failures_per_client="lots")
