"""Use cases of the accounts service.

Each is an async function over `Services` (the store and the collaborators built from
settings). Writes that raise events run in one transaction that also fills the outbox; the
domain decides, the handler loads, saves and emits.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib.resources import files
from typing import Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator
from pymongo.errors import DuplicateKeyError

from nrn_kit.auth import Forbidden
from nrn_kit.csvio import CsvRefused
from nrn_kit.mongo import Store, Tx, utcnow

from .adapters import AccountRepo, CityRepo, PartnerRepo, SecurityRepo
from .config import Settings
from .domain import people
from .domain.cities import City, grant_exception, revoke_exception
from .domain.city_csv import RowError, apply_row, parse_city_csv
from .domain.errors import (
    AccountLocked,
    AuthenticationFailed,
    Conflict,
    DomainRuleError,
    NotFound,
    TokenInvalid,
)
from .domain.people import Account, AccountKind, AccountStatus, Expertise, Partner, PartnerKind, StaffRole
from .domain.security import (
    LockoutPolicy,
    PasswordHasher,
    check_password_policy,
    check_refresh_token,
    consume_reset_token,
    hash_token,
    issue_refresh_token,
    issue_reset_token,
    locked_until,
    record_failure,
)
from .tokens import TokenClaims, TokenIssuer

IMPORT_BATCH = 100  # rows per transaction: small enough for the database, large enough to be quick


@dataclass
class Services:
    store: Store
    hasher: PasswordHasher
    issuer: TokenIssuer
    settings: Settings
    clock: Callable[[], datetime] = utcnow
    dummy_hash: str = ""
    lockout: LockoutPolicy = field(default_factory=LockoutPolicy)

    @property
    def db(self):  # noqa: ANN201
        return self.store.db


# --- commands ------------------------------------------------------------------------------

class SignUpOfficial(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=300)
    email: EmailStr
    phone: str | None = Field(None, max_length=40)
    city_id: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=1024)


class CreateStaff(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    title: str | None = Field(None, max_length=300)
    email: EmailStr
    phone: str | None = Field(None, max_length=40)
    roles: list[StaffRole] = Field(min_length=1)
    expertise: list[Expertise] = Field(default_factory=list)
    password: str | None = Field(None, max_length=1024)


class CreatePartner(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: PartnerKind
    website: str | None = Field(None, max_length=2000, pattern=r"^https?://\S+$")


class AddPartnerMember(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    title: str | None = Field(None, max_length=300)
    email: EmailStr
    phone: str | None = Field(None, max_length=40)
    password: str | None = Field(None, max_length=1024)


class GrantRole(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: StaffRole
    expertise: list[Expertise] = Field(default_factory=list)


class WithReason(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    reason: str = Field(min_length=1, max_length=5000)

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("a written reason is required")
        return v


# --- helpers -------------------------------------------------------------------------------


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(8)}"


async def _hash(svc: Services, password: str) -> str:
    # argon2 is deliberately slow: keep it off the event loop
    return await asyncio.to_thread(svc.hasher.hash, password)


async def _verify_password(svc: Services, password: str, hashed: str) -> bool:
    return await asyncio.to_thread(svc.hasher.verify, password, hashed)


def _emit_all(tx: Tx, *sources: Any) -> None:
    for source in sources:
        events = source.pull_events() if hasattr(source, "pull_events") else source
        for event in events:
            tx.emit(event)


async def _insert_account(tx: Tx, account: Account) -> None:
    try:
        await AccountRepo(tx.db, tx.session).insert(account)
    except DuplicateKeyError:
        raise Conflict(f"an account with the email {account.email} already exists", field="email") from None


async def active_actor(svc: Services, account_id: str, tx: Tx | None = None) -> Account:
    """The staff member behind a decision must still be active, whatever their token says."""
    repo = AccountRepo(tx.db, tx.session) if tx else AccountRepo(svc.db)
    actor = await repo.get(account_id)
    if actor is None or actor.status != AccountStatus.VERIFIED:
        raise Forbidden("the acting account is not active")
    return actor


async def _load_account(repo: AccountRepo, account_id: str) -> Account:
    account = await repo.get(account_id)
    if account is None:
        raise NotFound(f"no account {account_id}", field="account_id")
    return account


async def _load_city(repo: CityRepo, city_id: str, *, field: str = "city_id", status_404: bool = True) -> City:
    city = await repo.get(city_id)
    if city is None:
        if status_404:
            raise NotFound(f"no city {city_id}", field=field)
        raise DomainRuleError(f"unknown city {city_id!r}; pick one from GET /cities", field=field)
    return city


async def _ensure_email_free(svc: Services, email: str) -> None:
    # A quick check before the costly password hash; the unique index is the real guard.
    if await AccountRepo(svc.db).by_email(email) is not None:
        raise Conflict(f"an account with the email {email.strip().lower()} already exists", field="email")


# --- people --------------------------------------------------------------------------------


async def sign_up_official(svc: Services, cmd: SignUpOfficial) -> Account:
    check_password_policy(cmd.password, email=cmd.email)
    await _ensure_email_free(svc, cmd.email)
    await _load_city(CityRepo(svc.db), cmd.city_id, status_404=False)  # fail fast before hashing
    password_hash = await _hash(svc, cmd.password)
    now = svc.clock()

    async def fn(tx: Tx) -> Account:
        city = await _load_city(CityRepo(tx.db, tx.session), cmd.city_id, status_404=False)
        account = people.sign_up_official(
            account_id=new_id("acc"),
            name=cmd.name,
            title=cmd.title,
            email=cmd.email,
            phone=cmd.phone,
            city=city,
            password_hash=password_hash,
            now=now,
        )
        await _insert_account(tx, account)
        _emit_all(tx, account)
        return account

    return await svc.store.transaction(fn)


async def _setup_token(svc: Services, tx: Tx, account_id: str, now: datetime) -> str:
    raw, record = issue_reset_token(account_id, now, ttl=timedelta(hours=svc.settings.setup_token_ttl_hours))
    await SecurityRepo(tx.db, tx.session).insert_reset(record)
    return raw


async def create_staff(svc: Services, cmd: CreateStaff, *, by: str) -> tuple[Account, str | None]:
    if cmd.password is not None:
        check_password_policy(cmd.password, email=cmd.email)
    await _ensure_email_free(svc, cmd.email)
    password_hash = await _hash(svc, cmd.password) if cmd.password is not None else None
    now = svc.clock()

    async def fn(tx: Tx) -> tuple[Account, str | None]:
        await active_actor(svc, by, tx)
        account = people.create_staff(
            account_id=new_id("acc"),
            name=cmd.name,
            title=cmd.title,
            email=cmd.email,
            phone=cmd.phone,
            roles=cmd.roles,
            expertise=cmd.expertise,
            password_hash=password_hash,
            by=by,
            now=now,
        )
        await _insert_account(tx, account)
        _emit_all(tx, account)
        token = None if password_hash else await _setup_token(svc, tx, account.account_id, now)
        return account, token

    return await svc.store.transaction(fn)


async def create_partner(svc: Services, cmd: CreatePartner, *, by: str) -> Partner:
    now = svc.clock()

    async def fn(tx: Tx) -> Partner:
        await active_actor(svc, by, tx)
        partner = people.create_partner(
            partner_id=new_id("ptn"), name=cmd.name, kind=cmd.kind, website=cmd.website, by=by, now=now
        )
        await PartnerRepo(tx.db, tx.session).insert(partner)
        _emit_all(tx, partner)
        return partner

    return await svc.store.transaction(fn)


async def add_partner_member(
    svc: Services, partner_id: str, cmd: AddPartnerMember, *, by: str
) -> tuple[Account, str | None]:
    if cmd.password is not None:
        check_password_policy(cmd.password, email=cmd.email)
    await _ensure_email_free(svc, cmd.email)
    password_hash = await _hash(svc, cmd.password) if cmd.password is not None else None
    now = svc.clock()

    async def fn(tx: Tx) -> tuple[Account, str | None]:
        await active_actor(svc, by, tx)
        partner = await PartnerRepo(tx.db, tx.session).get(partner_id)
        if partner is None:
            raise NotFound(f"no partner {partner_id}", field="partner_id")
        account = people.add_partner_member(
            account_id=new_id("acc"),
            partner=partner,
            name=cmd.name,
            title=cmd.title,
            email=cmd.email,
            phone=cmd.phone,
            password_hash=password_hash,
            by=by,
            now=now,
        )
        await _insert_account(tx, account)
        _emit_all(tx, account)
        token = None if password_hash else await _setup_token(svc, tx, account.account_id, now)
        return account, token

    return await svc.store.transaction(fn)


async def verify_account(svc: Services, account_id: str, *, by: str) -> Account:
    now = svc.clock()

    async def fn(tx: Tx) -> Account:
        await active_actor(svc, by, tx)
        repo = AccountRepo(tx.db, tx.session)
        account = await _load_account(repo, account_id)
        city = await CityRepo(tx.db, tx.session).get(account.city_id) if account.city_id else None
        people.verify_account(account, by=by, at=now, city=city)
        await repo.save(account)
        _emit_all(tx, account)
        return account

    return await svc.store.transaction(fn)


async def _refuse_removing_last_admin(repo: AccountRepo, account: Account) -> None:
    if (
        account.kind == AccountKind.STAFF
        and account.status == AccountStatus.VERIFIED
        and StaffRole.ADMINISTRATOR in account.roles
        and await repo.count_active_admins() <= 1
    ):
        raise DomainRuleError("the network must keep at least one active administrator", field="account_id")


async def deactivate_account(svc: Services, account_id: str, cmd: WithReason, *, by: str) -> Account:
    now = svc.clock()

    async def fn(tx: Tx) -> Account:
        await active_actor(svc, by, tx)
        repo = AccountRepo(tx.db, tx.session)
        account = await _load_account(repo, account_id)
        await _refuse_removing_last_admin(repo, account)
        people.deactivate_account(account, by=by, reason=cmd.reason, at=now)
        await repo.save(account)
        await SecurityRepo(tx.db, tx.session).revoke_account_tokens(account.account_id, now)
        _emit_all(tx, account)
        return account

    return await svc.store.transaction(fn)


async def grant_role(svc: Services, account_id: str, cmd: GrantRole, *, by: str) -> Account:
    now = svc.clock()

    async def fn(tx: Tx) -> Account:
        await active_actor(svc, by, tx)
        repo = AccountRepo(tx.db, tx.session)
        account = await _load_account(repo, account_id)
        people.grant_role(account, cmd.role, expertise=cmd.expertise, by=by, at=now)
        await repo.save(account)
        _emit_all(tx, account)
        return account

    return await svc.store.transaction(fn)


async def revoke_role(svc: Services, account_id: str, role: StaffRole, *, by: str) -> Account:
    now = svc.clock()

    async def fn(tx: Tx) -> Account:
        await active_actor(svc, by, tx)
        repo = AccountRepo(tx.db, tx.session)
        account = await _load_account(repo, account_id)
        if role == StaffRole.ADMINISTRATOR and role in account.roles:
            await _refuse_removing_last_admin(repo, account)
        people.revoke_role(account, role, by=by, at=now)
        await repo.save(account)
        _emit_all(tx, account)
        return account

    return await svc.store.transaction(fn)


async def bootstrap_admin(svc: Services, email: str, password: str) -> Account | None:
    """Create the first administrator when no account has this email (idempotent, at every start)."""
    if await AccountRepo(svc.db).by_email(email) is not None:
        return None
    check_password_policy(password, email=email, field="NRN_BOOTSTRAP_ADMIN_PASSWORD")
    password_hash = await _hash(svc, password)
    now = svc.clock()

    async def fn(tx: Tx) -> Account:
        account_id = new_id("acc")
        account = people.create_staff(
            account_id=account_id,
            name="Administrator",
            title=None,
            email=email,
            phone=None,
            roles=[StaffRole.ADMINISTRATOR],
            expertise=[],
            password_hash=password_hash,
            by="system:bootstrap",
            now=now,
        )
        await _insert_account(tx, account)
        _emit_all(tx, account)
        return account

    try:
        return await svc.store.transaction(fn)
    except Conflict:  # another instance created it at the same moment
        return None


# --- cities --------------------------------------------------------------------------------


class RowReport(BaseModel):
    line: int
    city_id: str | None = None
    outcome: str
    changed: list[str] = Field(default_factory=list)
    errors: list[dict[str, str | None]] = Field(default_factory=list)


class ImportReport(BaseModel):
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    rows: list[RowReport] = Field(default_factory=list)
    file_errors: list[dict[str, Any]] = Field(default_factory=list)


def _failed(err: RowError) -> RowReport:
    return RowReport(line=err.line, outcome="failed", errors=[{"field": err.field, "reason": err.reason}])


async def import_cities(svc: Services, data: bytes, *, by: str | None = None) -> ImportReport:
    """Validate every row, apply the good ones in batches; importing the same file again is a no-op.

    Raises DomainRuleError (422, field ``file``, ``columns`` as written) when the file as a whole is
    refused (see ``nrn_kit.csvio``): nothing of it is applied.
    """
    try:
        parsed = parse_city_csv(data)
    except CsvRefused as refused:
        raise DomainRuleError(f"The file was not imported: {refused.reason}.", field="file",
                              extra={"columns": list(refused.columns)} if refused.columns else None) from None
    report = ImportReport()
    reports: list[RowReport] = []
    for err in parsed.errors:
        if err.line == 1:
            report.file_errors.append({"line": err.line, "field": err.field, "reason": err.reason})
        else:
            reports.append(_failed(err))
    now = svc.clock()
    for start in range(0, len(parsed.rows), IMPORT_BATCH):
        batch = parsed.rows[start : start + IMPORT_BATCH]

        async def fn(tx: Tx, batch=batch) -> list[RowReport]:
            repo = CityRepo(tx.db, tx.session)
            by_id, by_fips = await repo.get_many(
                [r.city_id for r in batch], [r.fips_place_code for r in batch if r.fips_place_code]
            )
            out: list[RowReport] = []
            changed: dict[str, City] = {}
            for row in batch:
                existing = (by_fips.get(row.fips_place_code) if row.fips_place_code else None) or by_id.get(
                    row.city_id
                )
                if existing is not None and existing.city_id != row.city_id:
                    row = row.model_copy(update={"city_id": existing.city_id})
                try:
                    outcome = apply_row(existing, row, now)
                except DomainRuleError as exc:
                    out.append(
                        RowReport(line=row.line, city_id=row.city_id, outcome="failed",
                                  errors=[{"field": exc.field, "reason": exc.detail}])
                    )
                    continue
                if outcome.outcome != "unchanged":
                    changed[outcome.city.city_id] = outcome.city
                    by_id[outcome.city.city_id] = outcome.city
                    for event in outcome.events:
                        tx.emit(event)
                out.append(
                    RowReport(line=row.line, city_id=outcome.city_id, outcome=outcome.outcome,
                              changed=list(outcome.changed))
                )
            await repo.save_many(list(changed.values()))
            return out

        reports.extend(await svc.store.transaction(fn))
    reports.sort(key=lambda r: r.line)
    report.rows = reports
    for r in reports:
        setattr(report, r.outcome, getattr(report, r.outcome) + 1)
    return report


async def change_exception(svc: Services, city_id: str, cmd: WithReason, *, grant: bool, by: str) -> City:
    now = svc.clock()

    async def fn(tx: Tx) -> City:
        await active_actor(svc, by, tx)
        repo = CityRepo(tx.db, tx.session)
        city = await _load_city(repo, city_id)
        change = grant_exception if grant else revoke_exception
        events = change(city, reason=cmd.reason, by=by, at=now)
        await repo.save(city)
        _emit_all(tx, events)
        return city

    return await svc.store.transaction(fn)


def starter_files(kind: str) -> list[bytes]:
    data = files("accounts") / "data"
    out = []
    if kind in ("real", "demo"):
        out.append((data / "us_cities.csv").read_bytes())
    if kind == "demo":
        out.append((data / "demo_indicators.csv").read_bytes())
    return out


# --- sign-in -------------------------------------------------------------------------------


class TokenPair(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    account_id: str


def claims_for(account: Account) -> TokenClaims:
    return TokenClaims(
        account_id=account.account_id,
        kind=str(account.kind),
        status=str(account.status),
        roles=tuple(str(r) for r in account.roles),
        expertise=tuple(str(e) for e in account.expertise),
        city_id=account.city_id,
        partner_id=account.partner_id,
    )


async def _issue_pair(svc: Services, repo: SecurityRepo, account: Account, now: datetime, family: str | None) -> TokenPair:
    access, expires_in = svc.issuer.issue(claims_for(account), now=now)
    ttl = svc.settings.refresh_token_ttl
    raw, record = issue_refresh_token(account.account_id, now, ttl, family_id=family)
    await repo.insert_refresh(record)
    return TokenPair(
        access_token=access,
        expires_in=expires_in,
        refresh_token=raw,
        refresh_expires_in=int(ttl.total_seconds()),
        account_id=account.account_id,
    )


INVALID_CREDENTIALS = "wrong email or password"


async def sign_in(svc: Services, email: str, password: str) -> TokenPair:
    email = email.strip().lower()
    now = svc.clock()
    security = SecurityRepo(svc.db)
    attempts = await security.get_attempts(email)
    until = locked_until(attempts, now)
    if until is not None:
        raise AccountLocked(
            "too many failed sign-ins; try again later or reset the password",
            field="username",
            extra={"retry_after": max(1, int((until - now).total_seconds()))},
        )
    account = await AccountRepo(svc.db).by_email(email)
    hashed = account.password_hash if account is not None and account.password_hash else svc.dummy_hash
    ok = await _verify_password(svc, password, hashed) and account is not None and account.password_hash is not None
    if not ok:
        await security.save_attempts(record_failure(attempts, email, now, svc.lockout), now)
        raise AuthenticationFailed(INVALID_CREDENTIALS, field="username")
    if account.status == AccountStatus.DEACTIVATED:
        raise Forbidden("the account is deactivated")
    if attempts is not None:
        await security.clear_attempts(email)
    return await _issue_pair(svc, security, account, now, family=None)


async def refresh(svc: Services, raw: str) -> TokenPair:
    now = svc.clock()
    token_hash = hash_token(raw)
    reuse_family: list[str] = []

    async def fn(tx: Tx) -> TokenPair | None:
        security = SecurityRepo(tx.db, tx.session)
        record = await security.get_refresh(token_hash)
        check = check_refresh_token(record, now)
        if check.reuse:
            reuse_family.append(record.family_id)
            return None
        if not check.ok:
            raise TokenInvalid(check.reason, field="refresh_token")
        if not await security.spend_refresh(token_hash, now):
            reuse_family.append(record.family_id)
            return None
        account = await AccountRepo(tx.db, tx.session).get(record.account_id)
        if account is None or account.status == AccountStatus.DEACTIVATED:
            raise TokenInvalid("the account is no longer active", field="refresh_token")
        return await _issue_pair(svc, security, account, now, family=record.family_id)

    try:
        pair = await svc.store.transaction(fn)
    except TokenInvalid as exc:
        raise AuthenticationFailed(exc.detail, field="refresh_token") from None
    if pair is None:
        # A spent token came back: whoever holds the family may be an attacker, so end it.
        await SecurityRepo(svc.db).revoke_family(reuse_family[0], now)
        raise AuthenticationFailed("refresh token already used; sign in again", field="refresh_token")
    return pair


async def sign_out(svc: Services, raw: str) -> None:
    security = SecurityRepo(svc.db)
    record = await security.get_refresh(hash_token(raw))
    if record is not None:
        await security.revoke_family(record.family_id, svc.clock())


async def request_password_reset(svc: Services, email: str) -> str | None:
    """Returns the raw token (for the mail, or the dev response); None when there is no such account."""
    account = await AccountRepo(svc.db).by_email(email)
    if account is None or account.status == AccountStatus.DEACTIVATED:
        return None
    raw, record = issue_reset_token(
        account.account_id, svc.clock(), ttl=timedelta(minutes=svc.settings.reset_token_ttl_minutes)
    )
    await SecurityRepo(svc.db).insert_reset(record)
    return raw


async def confirm_password_reset(svc: Services, raw: str, new_password: str) -> None:
    now = svc.clock()
    token_hash = hash_token(raw)
    record = await SecurityRepo(svc.db).get_reset(token_hash)
    consume_reset_token(record, now)  # raises when unknown, used or expired
    account = await AccountRepo(svc.db).get(record.account_id)
    if account is None or account.status == AccountStatus.DEACTIVATED:
        raise TokenInvalid("the password reset link is invalid, already used or expired", field="token")
    check_password_policy(new_password, email=account.email, field="new_password")
    password_hash = await _hash(svc, new_password)

    async def fn(tx: Tx) -> None:
        security = SecurityRepo(tx.db, tx.session)
        if not await security.spend_reset(token_hash, now):
            raise TokenInvalid("the password reset link is invalid, already used or expired", field="token")
        repo = AccountRepo(tx.db, tx.session)
        fresh = await _load_account(repo, account.account_id)
        fresh.password_hash = password_hash
        await repo.save(fresh)
        await security.revoke_account_tokens(fresh.account_id, now)
        await security.clear_attempts(fresh.email)

    await svc.store.transaction(fn)
