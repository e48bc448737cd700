"""Sign-in safety: password policy and hashing, lockout, reset tokens, refresh tokens."""

from datetime import UTC, datetime, timedelta

import pytest

from accounts.domain.errors import DomainRuleError, TokenInvalid
from accounts.domain.security import (
    MAX_PASSWORD_LENGTH,
    LockoutPolicy,
    argon2_hasher,
    check_password_policy,
    check_refresh_token,
    LinkPurpose,
    check_link_token,
    hash_token,
    issue_link_token,
    issue_refresh_token,
    normalize_password,
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


@pytest.mark.parametrize("purpose", list(LinkPurpose))
def test_links_are_single_use_expiring_for_one_purpose_and_stored_only_as_a_hash(purpose: LinkPurpose) -> None:
    raw, record = issue_link_token(purpose, "acc-1", "jo@example.org", NOW, ttl=timedelta(hours=1))
    assert record.token_hash == hash_token(raw) and raw not in record.model_dump_json()
    assert check_link_token(record, purpose, NOW + timedelta(minutes=59)) is record
    used = record.model_copy(update={"used_at": NOW})
    other = next(p for p in LinkPurpose if p != purpose)
    for bad, when, as_purpose in ((used, NOW, purpose), (record, NOW + timedelta(hours=1), purpose),
                                  (None, NOW, purpose), (record, NOW, other)):
        with pytest.raises(TokenInvalid) as info:
            check_link_token(bad, as_purpose, when)
        assert info.value.field == "token"


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


def test_a_just_rotated_refresh_token_is_honoured_once_more_inside_the_grace_window() -> None:
    _, record = issue_refresh_token("acc-1", NOW, ttl=timedelta(days=14))
    grace = timedelta(seconds=30)
    used = record.model_copy(update={"used_at": NOW})
    inside = check_refresh_token(used, NOW + timedelta(seconds=30), grace)
    assert inside.ok and inside.grace and not inside.reuse
    # once only: a second extra use inside the window is refused, but not taken for theft
    again = check_refresh_token(used.model_copy(update={"grace_used_at": NOW}), NOW + timedelta(seconds=1), grace)
    assert not again.ok and not again.reuse
    # outside the window: reuse
    late = check_refresh_token(used, NOW + timedelta(seconds=31), grace)
    assert not late.ok and late.reuse
    # no window: every reuse is reuse
    assert check_refresh_token(used, NOW, timedelta(0)).reuse
    # a revoked family is never honoured
    assert not check_refresh_token(used.model_copy(update={"revoked_at": NOW}), NOW, grace).ok


# --- one password policy: used exactly as typed -------------------------------------------------

SPACED = " Abcdefghijk1 "


@pytest.mark.parametrize("password", [SPACED, "  leading spaces", "trailing spaces  ", "inner   spaces here",
                                      "\tA tab-led phrase", "correct horse battery staple"])
def test_spaces_are_part_of_the_password_never_trimmed(password: str) -> None:
    hasher = argon2_hasher(time_cost=1, memory_kib=8 * 1024)
    check_password_policy(password)
    hashed = hasher.hash(password)
    assert hasher.verify(password, hashed)
    assert not hasher.verify(password.replace(" ", ""), hashed)
    assert not hasher.verify(password + " ", hashed)
    if password != password.strip():
        assert not hasher.verify(password.strip(), hashed)


def test_nfc_nfd_and_compatibility_forms_are_one_password_on_set_and_check() -> None:
    hasher = argon2_hasher(time_cost=1, memory_kib=8 * 1024)
    nfc = "caf\u00e9 au lait pour deux"
    nfd = "cafe\u0301 au lait pour deux"
    hashed = hasher.hash(nfd)
    assert hasher.verify(nfc, hashed) and hasher.verify(nfd, hashed)
    fullwidth = "\uff21bcdefghijk1"  # a fullwidth A from an input method
    assert hasher.verify("Abcdefghijk1", hasher.hash(fullwidth))
    # different letters stay different
    assert not hasher.verify("cafe au lait pour deux", hashed)


def test_length_counts_characters_after_normalisation_and_nothing_is_truncated() -> None:
    # 11 decomposed letters are 22 code points but 11 characters: too short
    with pytest.raises(DomainRuleError, match="at least 12"):
        check_password_policy("e\u0301" * 5 + "abcdef")
    check_password_policy("é" * 4 + "abcdefgh")
    long = "x1 y2 z3 " * 28  # 252 characters
    check_password_policy(long)
    hasher = argon2_hasher(time_cost=1, memory_kib=8 * 1024)
    hashed = hasher.hash(long)
    assert not hasher.verify(long[:-1], hashed)  # the last character counts: no truncation
    with pytest.raises(DomainRuleError, match="at most"):
        check_password_policy("a1 " * (MAX_PASSWORD_LENGTH // 3 + 1))
    assert normalize_password(SPACED) == SPACED


def test_the_email_as_password_is_refused_in_any_case() -> None:
    with pytest.raises(DomainRuleError, match="email"):
        check_password_policy("JANE@flint.gov", email="jane@flint.gov")
