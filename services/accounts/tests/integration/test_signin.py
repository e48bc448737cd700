"""Sign-in safety on the real database: lockout, rate limits, refresh rotation, sign-out, password reset, keys."""

import jwt
import pytest

from accounts.config import Settings


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


async def test_sign_in_is_rate_limited_per_client(accounts_settings, start_accounts) -> None:  # noqa: ANN001
    async with start_accounts(accounts_settings(signin_rate_per_client_per_minute=3)) as accounts:
        statuses = [
            (await accounts.sign_in(f"u{i}@gmail.com", "some password 1", **{"X-Forwarded-For": "203.0.113.9"})).status_code
            for i in range(4)
        ]
        assert statuses == [401, 401, 401, 429]
        # another client is not affected
        other = await accounts.sign_in("u9@gmail.com", "some password 1", **{"X-Forwarded-For": "203.0.113.10"})
        assert other.status_code == 401


async def test_refresh_rotates_reuse_revokes_the_family_and_sign_out_ends_it(accounts) -> None:  # noqa: ANN001
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


async def test_password_reset_is_single_use(accounts) -> None:  # noqa: ANN001
    await _official(accounts)
    session = (await accounts.sign_in("jo@gmail.com", "first password 123")).json()
    unknown = await accounts.http.post("/auth/password-reset", json={"email": "nobody@gmail.com"})
    assert unknown.status_code == 202 and "reset_token" not in unknown.json()
    requested = await accounts.http.post("/auth/password-reset", json={"email": "jo@gmail.com"})
    assert requested.status_code == 202
    token = requested.json()["reset_token"]

    weak = await accounts.http.post("/auth/password-reset/confirm", json={"token": token, "new_password": "short"})
    assert weak.status_code == 422 and weak.json()["field"] == "new_password"
    ok = await accounts.http.post(
        "/auth/password-reset/confirm", json={"token": token, "new_password": "second password 456"}
    )
    assert ok.status_code == 204
    again = await accounts.http.post(
        "/auth/password-reset/confirm", json={"token": token, "new_password": "third password 789"}
    )
    assert again.status_code == 400 and again.json()["field"] == "token"

    assert (await accounts.sign_in("jo@gmail.com", "first password 123")).status_code == 401
    assert (await accounts.sign_in("jo@gmail.com", "second password 456")).status_code == 200
    # sessions from before the reset are over
    old = await accounts.http.post("/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert old.status_code == 401


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
    with pytest.raises(ValueError, match="EXPOSE_RESET_TOKENS"):
        Settings(environment="production", token_signing_key="-----BEGIN PRIVATE KEY-----x", expose_reset_tokens=True)
