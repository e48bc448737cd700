"""Sign-in safety rules: password policy, lockout, single-use links, rotating refresh tokens.

Tokens handed to people are random and opaque; only their SHA-256 is stored, so a copy of the
database does not let anyone sign in or reset a password.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel

from .errors import DomainRuleError, TokenInvalid

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256


# --- passwords: one policy, one place ---------------------------------------------------------
# A password is used exactly as typed (NIST SP 800-63B §3.1.1.2): spaces anywhere, any Unicode,
# never trimmed or truncated. The one transformation is the one NIST recommends for Unicode
# secrets: NFKC normalisation, applied the same way when the password is set and when it is
# checked (here, inside the hasher), so "é" typed precomposed on one keyboard and decomposed on
# another is one password, and so is a fullwidth "Ａ" from an input method and "A". Lengths count
# code points after normalisation.


def normalize_password(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password: str, hashed: str) -> bool: ...


class PolicyHasher:
    """Wraps a hasher so that every password is normalised (NFKC) before it is hashed or checked:
    no caller can hash a password any other way."""

    def __init__(self, inner: PasswordHasher) -> None:
        self._inner = inner

    def hash(self, password: str) -> str:
        return self._inner.hash(normalize_password(password))

    def verify(self, password: str, hashed: str) -> bool:
        return self._inner.verify(normalize_password(password), hashed)


# argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): ~50 ms a check here.
# The library default (64 MiB, 3 passes, 4 lanes) costs ~600 ms on a busy 2-core machine,
# which turns sign-in itself into a denial-of-service lever. Hashes carry their parameters,
# so changing these later still verifies old hashes.
ARGON2_TIME_COST = 2
ARGON2_MEMORY_KIB = 19 * 1024
ARGON2_PARALLELISM = 1


def argon2_hasher(
    *, time_cost: int = ARGON2_TIME_COST, memory_kib: int = ARGON2_MEMORY_KIB, parallelism: int = ARGON2_PARALLELISM
) -> PasswordHasher:
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    return PolicyHasher(
        PasswordHash((Argon2Hasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism),))
    )


# Verified against when the email is unknown, so an unknown email costs as long as a wrong
# password and response time does not reveal which emails have accounts.
_DUMMY_PASSWORD = "not-a-real-password-0000"


def dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash(_DUMMY_PASSWORD)


def check_password_policy(password: str, *, email: str | None = None, field: str = "password") -> None:
    """The rules a new password meets, on every path that sets one (official sign-up, staff and
    partner members, the bootstrap administrator, a reset link, a signed-in change). Raises
    DomainRuleError naming ``field``. ``email`` is the account's canonical address."""
    normalized = normalize_password(password)
    if len(normalized) < MIN_PASSWORD_LENGTH:
        raise DomainRuleError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters", field=field)
    if len(normalized) > MAX_PASSWORD_LENGTH:
        raise DomainRuleError(f"the password must have at most {MAX_PASSWORD_LENGTH} characters", field=field)
    if len(set(normalized)) < 4:
        raise DomainRuleError("the password must use at least 4 different characters", field=field)
    if email and normalized.strip().casefold() == email.strip().casefold():
        raise DomainRuleError("the password must not be the email address", field=field)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)


# --- lockout -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lock_for: timedelta = timedelta(minutes=15)


class LoginAttempts(BaseModel):
    """Failed sign-ins for one email; kept in the database so every instance sees the same lock."""

    email: str
    failures: int = 0
    first_failure_at: datetime | None = None
    locked_until: datetime | None = None


def locked_until(state: LoginAttempts | None, now: datetime) -> datetime | None:
    if state is not None and state.locked_until is not None and state.locked_until > now:
        return state.locked_until
    return None


def record_failure(state: LoginAttempts | None, email: str, now: datetime, policy: LockoutPolicy) -> LoginAttempts:
    if state is None or state.first_failure_at is None or now - state.first_failure_at > policy.window or (
        state.locked_until is not None and state.locked_until <= now
    ):
        state = LoginAttempts(email=email, failures=0, first_failure_at=now)
    failures = state.failures + 1
    locked = now + policy.lock_for if failures >= policy.max_failures else None
    return LoginAttempts(email=email, failures=failures, first_failure_at=state.first_failure_at, locked_until=locked)


# --- single-use links (password reset and setup, mailbox confirmation) ----------------------


class LinkPurpose(StrEnum):
    PASSWORD_RESET = "password_reset"  # "Forgot password?", or a new account's password setup
    MAILBOX_CONFIRMATION = "mailbox_confirmation"


_LINK_REFUSED = {
    LinkPurpose.PASSWORD_RESET: "the password reset link is invalid, already used or expired",
    LinkPurpose.MAILBOX_CONFIRMATION: "the confirmation link is invalid, already used or expired",
}


class LinkToken(BaseModel):
    """A link secret e-mailed to ``email``: only its SHA-256 is kept; it works once, until ``expires_at``."""

    token_hash: str
    purpose: LinkPurpose
    account_id: str
    email: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


def issue_link_token(
    purpose: LinkPurpose, account_id: str, email: str, now: datetime, ttl: timedelta
) -> tuple[str, LinkToken]:
    """The raw secret (for the e-mail, never stored) and the record to store."""
    raw = new_opaque_token()
    record = LinkToken(
        token_hash=hash_token(raw), purpose=purpose, account_id=account_id, email=email, created_at=now,
        expires_at=now + ttl,
    )
    return raw, record


def check_link_token(record: LinkToken | None, purpose: LinkPurpose, now: datetime) -> LinkToken:
    """Single use: a used, expired or unknown token, or one made for another purpose, fails alike
    (TokenInvalid on the field ``token``)."""
    if record is None or record.purpose != purpose or record.used_at is not None or record.expires_at <= now:
        raise TokenInvalid(_LINK_REFUSED[purpose], field="token")
    return record


# --- refresh tokens ------------------------------------------------------------------------


class RefreshToken(BaseModel):
    token_hash: str
    account_id: str
    family_id: str
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    # set when the token was honoured once more inside the grace window after its rotation
    grace_used_at: datetime | None = None
    revoked_at: datetime | None = None


def issue_refresh_token(
    account_id: str, now: datetime, ttl: timedelta, family_id: str | None = None
) -> tuple[str, RefreshToken]:
    raw = new_opaque_token()
    record = RefreshToken(
        token_hash=hash_token(raw),
        account_id=account_id,
        family_id=family_id or secrets.token_hex(12),
        issued_at=now,
        expires_at=now + ttl,
    )
    return raw, record


@dataclass(frozen=True)
class RefreshCheck:
    ok: bool
    reuse: bool = False  # a rotated-away token came back: someone else may hold the family
    grace: bool = False  # ok, as the one extra use allowed just after the rotation
    reason: str = ""


def check_refresh_token(record: RefreshToken | None, now: datetime, grace: timedelta = timedelta(0)) -> RefreshCheck:
    """Whether a refresh token may be exchanged now.

    Rotation spends a token on use. Several requests of one browser session that find the access
    token expired at the same moment all present the same refresh token; the first rotates it.
    So that the others do not sign the person out, a just-spent token is honoured **once more**
    within ``grace`` of its rotation (a new pair in the same family); a further use inside the
    window is refused without consequence. Reuse after the window is treated as theft: the caller
    revokes the whole family."""
    if record is None:
        return RefreshCheck(ok=False, reason="unknown refresh token")
    if record.revoked_at is not None:
        return RefreshCheck(ok=False, reason="refresh token revoked")
    if record.expires_at <= now:
        return RefreshCheck(ok=False, reason="refresh token expired")
    if record.used_at is not None:
        if grace > timedelta(0) and now - record.used_at <= grace:
            if record.grace_used_at is None:
                return RefreshCheck(ok=True, grace=True)
            # a third request of the same burst: refused, but it is no sign of theft
            return RefreshCheck(ok=False, reason="refresh token already used")
        return RefreshCheck(ok=False, reuse=True, reason="refresh token already used")
    return RefreshCheck(ok=True)
