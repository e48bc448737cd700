"""Sign-in safety: password policy and hashing, lockout, reset tokens, refresh tokens."""

from datetime import UTC, datetime, timedelta

import pytest

from accounts.domain.errors import DomainRuleError, TokenInvalid
from accounts.domain.security import (
    LockoutPolicy,
    argon2_hasher,
    check_password_policy,
    check_refresh_token,
    consume_reset_token,
    hash_token,
    issue_refresh_token,
    issue_reset_token,
    locked_until,
    record_failure,
)

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
POLICY = LockoutPolicy(max_failures=5, window=timedelta(minutes=15), lock_for=timedelta(minutes=15))


def test_passwords_are_argon2_hashed_and_verified() -> None:
    hasher = argon2_hasher()
    hashed = hasher.hash("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert "correct horse" not in hashed
    assert hasher.verify("correct horse battery", hashed)
    assert not hasher.verify("correct horse batterY", hashed)


@pytest.mark.parametrize(
    ("password", "message"),
    [("short", "at least 12"), ("a" * 300, "at most"), ("abababababab", "4 different"), ("jane@flint.gov", "email")],
)
def test_password_policy(password: str, message: str) -> None:
    with pytest.raises(DomainRuleError, match=message) as info:
        check_password_policy(password, email="jane@flint.gov" if "@" in password else None)
    assert info.value.field == "password"


def test_five_failures_in_the_window_lock_for_fifteen_minutes() -> None:
    state = None
    for i in range(4):
        state = record_failure(state, "a@b.org", NOW + timedelta(minutes=i), POLICY)
        assert locked_until(state, NOW + timedelta(minutes=i)) is None
    state = record_failure(state, "a@b.org", NOW + timedelta(minutes=4), POLICY)
    assert state.failures == 5
    assert locked_until(state, NOW + timedelta(minutes=5)) == NOW + timedelta(minutes=19)
    # the lock lifts by itself
    assert locked_until(state, NOW + timedelta(minutes=19)) is None
    # and the next failure starts a fresh count
    state = record_failure(state, "a@b.org", NOW + timedelta(minutes=20), POLICY)
    assert state.failures == 1 and state.locked_until is None


def test_failures_spread_beyond_the_window_do_not_lock() -> None:
    state = None
    for i in range(10):
        state = record_failure(state, "a@b.org", NOW + timedelta(minutes=4 * i), POLICY)
        assert locked_until(state, NOW + timedelta(minutes=4 * i)) is None


def test_reset_token_is_single_use_expiring_and_stored_only_as_a_hash() -> None:
    raw, record = issue_reset_token("acc-1", NOW, ttl=timedelta(minutes=30))
    assert record.token_hash == hash_token(raw) and raw not in record.model_dump_json()
    used = consume_reset_token(record, NOW + timedelta(minutes=29))
    assert used.used_at == NOW + timedelta(minutes=29)
    with pytest.raises(TokenInvalid):
        consume_reset_token(used, NOW + timedelta(minutes=29))
    _, fresh = issue_reset_token("acc-1", NOW, ttl=timedelta(minutes=30))
    with pytest.raises(TokenInvalid):
        consume_reset_token(fresh, NOW + timedelta(minutes=30))
    with pytest.raises(TokenInvalid):
        consume_reset_token(None, NOW)


def test_refresh_tokens_rotate_and_reuse_is_detected() -> None:
    raw, record = issue_refresh_token("acc-1", NOW, ttl=timedelta(days=14))
    assert record.token_hash == hash_token(raw)
    assert check_refresh_token(record, NOW).ok
    _, successor = issue_refresh_token("acc-1", NOW, ttl=timedelta(days=14), family_id=record.family_id)
    assert successor.family_id == record.family_id
    used = record.model_copy(update={"used_at": NOW})
    check = check_refresh_token(used, NOW)
    assert not check.ok and check.reuse
    assert not check_refresh_token(record.model_copy(update={"revoked_at": NOW}), NOW).ok
    assert check_refresh_token(record, NOW + timedelta(days=14)).reason == "refresh token expired"
    assert check_refresh_token(None, NOW).reason == "unknown refresh token"
