"""Sign-in safety rules: password policy, lockout, single-use reset tokens, rotating refresh tokens.

Tokens handed to people are random and opaque; only their SHA-256 is stored, so a copy of the
database does not let anyone sign in or reset a password.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from pydantic import BaseModel

from .errors import DomainRuleError, TokenInvalid

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password: str, hashed: str) -> bool: ...


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

    return PasswordHash((Argon2Hasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism),))


# Verified against when the email is unknown, so an unknown email costs as long as a wrong
# password and response time does not reveal which emails have accounts.
_DUMMY_PASSWORD = "not-a-real-password-0000"


def dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash(_DUMMY_PASSWORD)


def check_password_policy(password: str, *, email: str | None = None, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainRuleError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters", field=field)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise DomainRuleError(f"the password must have at most {MAX_PASSWORD_LENGTH} characters", field=field)
    if len(set(password)) < 4:
        raise DomainRuleError("the password must use at least 4 different characters", field=field)
    if email and password.strip().lower() == email.strip().lower():
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


# --- password reset ------------------------------------------------------------------------


class ResetToken(BaseModel):
    token_hash: str
    account_id: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


def issue_reset_token(account_id: str, now: datetime, ttl: timedelta = timedelta(minutes=30)) -> tuple[str, ResetToken]:
    raw = new_opaque_token()
    return raw, ResetToken(token_hash=hash_token(raw), account_id=account_id, created_at=now, expires_at=now + ttl)


def consume_reset_token(record: ResetToken | None, now: datetime) -> ResetToken:
    """Single use: a used or expired token fails the same way as an unknown one."""
    if record is None or record.used_at is not None or record.expires_at <= now:
        raise TokenInvalid("the password reset link is invalid, already used or expired", field="token")
    return record.model_copy(update={"used_at": now})


# --- refresh tokens ------------------------------------------------------------------------


class RefreshToken(BaseModel):
    token_hash: str
    account_id: str
    family_id: str
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
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
    reason: str = ""


def check_refresh_token(record: RefreshToken | None, now: datetime) -> RefreshCheck:
    if record is None:
        return RefreshCheck(ok=False, reason="unknown refresh token")
    if record.revoked_at is not None:
        return RefreshCheck(ok=False, reason="refresh token revoked")
    if record.used_at is not None:
        return RefreshCheck(ok=False, reuse=True, reason="refresh token already used")
    if record.expires_at <= now:
        return RefreshCheck(ok=False, reason="refresh token expired")
    return RefreshCheck(ok=True)
