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
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator
from pymongo.errors import DuplicateKeyError

from nrn_contracts.values import MultiLine, SingleLine
from nrn_kit.auth import Forbidden
from nrn_kit.csvio import CsvRefused
from nrn_kit.mongo import Store, Tx, utcnow

from .adapters import AccountRepo, CityRepo, ExceptionRequestRepo, PartnerRepo, SecurityRepo
from .config import Settings
from .domain import people
from .domain import events as ev
from .domain.cities import City, grant_exception, revoke_exception
from .domain.city_csv import RowError, apply_row, parse_city_csv
from .domain.emails import InvalidEmail, canonical_email, throttle_key
from .domain.exception_requests import ExceptionRequest, NewExceptionRequest, request_exception
from .domain.places import section_of
from .domain.errors import (
    AccountLocked,
    AuthenticationFailed,
    Conflict,
    DomainRuleError,
    NotFound,
    TokenInvalid,
)
from .domain.people import Account, AccountKind, AccountStatus, Expertise, Partner, PartnerKind, PartnerRole, StaffRole
from .domain.security import (
    LinkPurpose,
    LockoutPolicy,
    PasswordHasher,
    check_link_token,
    check_password_policy,
    check_refresh_token,
    hash_token,
    issue_link_token,
    issue_refresh_token,
    locked_until,
    record_failure,
)
from .throttle import SIGNIN_FAILURES_PER_CLIENT, Throttle
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
    throttle: Throttle | None = None

    @property
    def db(self):  # noqa: ANN201
        return self.store.db


# --- commands ------------------------------------------------------------------------------


def _canonical(value: str) -> str:
    try:
        return canonical_email(value)
    except InvalidEmail as exc:
        raise ValueError(f"not a valid email address: {exc}") from None


# Every address a command takes is stored and compared in its one canonical form (domain.emails).
Email = Annotated[str, Field(min_length=3, max_length=320), AfterValidator(_canonical)]
# Used exactly as typed: never trimmed, whatever the model's str_strip_whitespace (the policy and
# the NFKC normalisation live in domain.security, applied when the password is set or checked).
Password = Annotated[str, StringConstraints(strip_whitespace=False, min_length=1, max_length=1024)]


class SignUpOfficial(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: SingleLine = Field(min_length=1, max_length=200)
    title: SingleLine = Field(min_length=1, max_length=300)
    email: Email
    phone: SingleLine | None = Field(None, max_length=40)
    city_id: SingleLine = Field(min_length=1, max_length=128)
    password: Password


class CreateStaff(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: SingleLine = Field(min_length=1, max_length=200)
    title: SingleLine | None = Field(None, max_length=300)
    email: Email
    phone: SingleLine | None = Field(None, max_length=40)
    roles: list[StaffRole] = Field(min_length=1)
    expertise: list[Expertise] = Field(default_factory=list)
    password: Password | None = None


class CreatePartner(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: SingleLine = Field(min_length=1, max_length=200)
    kind: PartnerKind
    website: SingleLine | None = Field(None, max_length=2000, pattern=r"^https?://\S+$")


class AddPartnerMember(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: SingleLine = Field(min_length=1, max_length=200)
    title: SingleLine | None = Field(None, max_length=300)
    email: Email
    phone: SingleLine | None = Field(None, max_length=40)
    password: Password | None = None
    # the organization's webhook subscriptions (services/partners) are managed by its administrators
    administrator: bool = False


class GrantRole(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: StaffRole | PartnerRole
    expertise: list[Expertise] = Field(default_factory=list)


class WithReason(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    reason: MultiLine = Field(min_length=1, max_length=5000)

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
        if events:
            _emit_latest_state(tx, source)


def _emit_latest_state(tx: Tx, source: Any) -> None:
    """A changed city or account: its whole current state on its compacted topic, in the same transaction."""
    if isinstance(source, Account):
        tx.emit(ev.account_state(source, utcnow()))
    elif isinstance(source, City):
        tx.emit(ev.city_state(source, utcnow()))


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
    """``email`` is canonical. A quick check before the costly password hash; the unique index
    on the canonical address is the real guard."""
    if await AccountRepo(svc.db).by_email(email) is not None:
        raise Conflict(f"an account with the email {email} already exists", field="email")


async def _send_link(svc: Services, tx: Tx, account: Account, purpose: LinkPurpose, now: datetime, *,
                     setup: bool = False) -> None:
    """Issue a single-use link for ``account`` and emit the event notifications e-mails it from
    (on nrn.accounts.security.v1, the only place the raw secret goes). An older link of the same
    purpose stops working: only the latest one sent does."""
    settings = svc.settings
    if purpose == LinkPurpose.MAILBOX_CONFIRMATION:
        ttl = timedelta(hours=settings.mailbox_token_ttl_hours)
    elif setup:
        ttl = timedelta(hours=settings.setup_token_ttl_hours)
    else:
        ttl = timedelta(minutes=settings.reset_token_ttl_minutes)
    raw, record = issue_link_token(purpose, account.account_id, account.email, now, ttl)
    security = SecurityRepo(tx.db, tx.session)
    await security.retire_links(account.account_id, purpose, now)
    await security.insert_link(record)
    if purpose == LinkPurpose.MAILBOX_CONFIRMATION:
        tx.emit(ev.mailbox_confirmation_requested(account, token=raw, expires_at=record.expires_at))
    else:
        tx.emit(ev.password_reset_requested(account, token=raw, expires_at=record.expires_at,
                                            purpose="setup" if setup else "reset"))


# --- people --------------------------------------------------------------------------------


async def sign_up_official(svc: Services, cmd: SignUpOfficial) -> Account:
    section = section_of(cmd.city_id)
    if section is not None:  # an official of La Jolla is an official of San Diego
        cmd = cmd.model_copy(update={"city_id": section.city_id})
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
        await _send_link(svc, tx, account, LinkPurpose.MAILBOX_CONFIRMATION, now)
        return account

    return await svc.store.transaction(fn)


async def _first_link(svc: Services, tx: Tx, account: Account, now: datetime) -> None:
    """A new staff or partner member account: without a password, a link to set one (which also
    proves the mailbox); with one, a link to confirm the mailbox."""
    if account.password_hash is None:
        await _send_link(svc, tx, account, LinkPurpose.PASSWORD_RESET, now, setup=True)
    else:
        await _send_link(svc, tx, account, LinkPurpose.MAILBOX_CONFIRMATION, now)


async def create_staff(svc: Services, cmd: CreateStaff, *, by: str) -> Account:
    if cmd.password is not None:
        check_password_policy(cmd.password, email=cmd.email)
    await _ensure_email_free(svc, cmd.email)
    password_hash = await _hash(svc, cmd.password) if cmd.password is not None else None
    now = svc.clock()

    async def fn(tx: Tx) -> Account:
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
        await _first_link(svc, tx, account, now)
        return account

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


async def add_partner_member(svc: Services, partner_id: str, cmd: AddPartnerMember, *, by: str) -> Account:
    if cmd.password is not None:
        check_password_policy(cmd.password, email=cmd.email)
    await _ensure_email_free(svc, cmd.email)
    password_hash = await _hash(svc, cmd.password) if cmd.password is not None else None
    now = svc.clock()

    async def fn(tx: Tx) -> Account:
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
            administrator=cmd.administrator,
        )
        await _insert_account(tx, account)
        _emit_all(tx, account)
        await _first_link(svc, tx, account, now)
        return account

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


class WithMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: MultiLine = Field(min_length=1, max_length=5_000)


class OptionalReason(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: MultiLine | None = Field(None, max_length=5_000)


async def _decide(svc: Services, account_id: str, by: str, decide: Callable[[Account, datetime], None], *,
                  revoke_tokens: bool = False) -> Account:
    """One staff decision on an account, in a transaction with its events."""
    now = svc.clock()

    async def fn(tx: Tx) -> Account:
        await active_actor(svc, by, tx)
        repo = AccountRepo(tx.db, tx.session)
        account = await _load_account(repo, account_id)
        decide(account, now)
        await repo.save(account)
        if revoke_tokens:
            await SecurityRepo(tx.db, tx.session).revoke_account_tokens(account.account_id, now)
        _emit_all(tx, account)
        return account

    return await svc.store.transaction(fn)


async def reject_account(svc: Services, account_id: str, cmd: WithReason, *, by: str) -> Account:
    return await _decide(svc, account_id, by, lambda a, now: people.reject_account(a, by=by, reason=cmd.reason, at=now),
                         revoke_tokens=True)


async def request_account_information(svc: Services, account_id: str, cmd: WithMessage, *, by: str) -> Account:
    return await _decide(svc, account_id, by,
                         lambda a, now: people.request_information(a, by=by, message=cmd.message, at=now))


async def reactivate_account(svc: Services, account_id: str, cmd: OptionalReason, *, by: str) -> Account:
    return await _decide(svc, account_id, by,
                         lambda a, now: people.reactivate_account(a, by=by, reason=cmd.reason, at=now))


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


async def revoke_role(svc: Services, account_id: str, role: StaffRole | PartnerRole, *, by: str) -> Account:
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
    """Create the first administrator when no account has this email (idempotent, at every start).
    ``email`` is put in canonical form here too, whoever calls."""
    email = canonical_email(email)
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
    city: str | None = None  # the row's name and state as written
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
    dry_run: bool = False  # a preview: nothing was written


def _failed(err: RowError) -> RowReport:
    return RowReport(line=err.line, city=err.city, outcome="failed", errors=[{"field": err.field, "reason": err.reason}])


async def import_cities(svc: Services, data: bytes, *, by: str | None = None, dry_run: bool = False) -> ImportReport:
    """Validate every row, apply the good ones in batches; importing the same file again is a no-op.
    With ``dry_run`` the report says what would change (the same outcomes, fields and errors) and
    nothing is written or published.

    Raises DomainRuleError (422, field ``file``, ``columns`` as written) when the file as a whole is
    refused (see ``nrn_kit.csvio``): nothing of it is applied.
    """
    try:
        # A file of up to 5 MiB is millions of lines for the csv module: seconds of CPU, in a worker
        # thread so that the service keeps answering everyone else (sign-ins, token checks) meanwhile.
        parsed = await asyncio.to_thread(parse_city_csv, data)
    except CsvRefused as refused:
        raise DomainRuleError(f"The file was not imported: {refused.reason}.", field="file",
                              extra={"columns": list(refused.columns)} if refused.columns else None) from None
    report = ImportReport(dry_run=dry_run)
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
                        RowReport(line=row.line, city_id=row.city_id, city=f"{row.name}, {row.state}", outcome="failed",
                                  errors=[{"field": exc.field, "reason": exc.detail}])
                    )
                    continue
                if outcome.outcome != "unchanged":
                    changed[outcome.city.city_id] = outcome.city
                    by_id[outcome.city.city_id] = outcome.city
                    if not dry_run:  # a preview publishes nothing, its city's latest state included
                        for event in outcome.events:
                            tx.emit(event)
                        if outcome.events:
                            _emit_latest_state(tx, outcome.city)
                out.append(
                    RowReport(line=row.line, city_id=outcome.city_id, city=f"{row.name}, {row.state}",
                              outcome=outcome.outcome, changed=list(outcome.changed))
                )
            if not dry_run:
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
        if events:
            _emit_latest_state(tx, city)
        if grant:  # the grant answers every open request of the city
            requests = ExceptionRequestRepo(tx.db, tx.session)
            for open_request in await requests.open_for(city_id):
                open_request.granted(reason=cmd.reason, by=by, at=now)
                await requests.save(open_request)
        return city

    return await svc.store.transaction(fn)


# --- exception requests --------------------------------------------------------------------


async def ask_for_exception(svc: Services, city_id: str, cmd: NewExceptionRequest) -> ExceptionRequest:
    """Record the request (once per city and e-mail address while open: asking again answers the first)."""
    now = svc.clock()

    async def fn(tx: Tx) -> ExceptionRequest:
        cities = CityRepo(tx.db, tx.session)
        city = await _load_city(cities, city_id)
        lead = await _load_city(cities, cmd.lead_city_id, field="lead_city_id", status_404=False) \
            if cmd.lead_city_id else None
        requests = ExceptionRequestRepo(tx.db, tx.session)
        already = await requests.open_for(city.city_id, cmd.email.strip().lower())
        if already:
            return already[0]
        request = request_exception(exception_request_id=new_id("exr"), city=city, name=cmd.name, email=cmd.email,
                                    title=cmd.title, reason=cmd.reason, lead_city=lead, now=now)
        await requests.save(request)
        _emit_all(tx, request)
        return request

    return await svc.store.transaction(fn)


async def decline_exception_request(svc: Services, request_id: str, cmd: WithReason, *, by: str) -> ExceptionRequest:
    now = svc.clock()

    async def fn(tx: Tx) -> ExceptionRequest:
        await active_actor(svc, by, tx)
        requests = ExceptionRequestRepo(tx.db, tx.session)
        request = await requests.get(request_id)
        if request is None:
            raise NotFound(f"no exception request {request_id}", field="exception_request_id")
        request.decline(reason=cmd.reason, by=by, at=now)
        await requests.save(request)
        _emit_all(tx, request)
        return request

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


class RateLimited(DomainRuleError):
    status = 429
    title = "Too many attempts"


def _throttled(detail: str, wait: int, field: str | None = None) -> RateLimited:
    return RateLimited(detail, field=field, extra={"retry_after": wait})


async def sign_in(svc: Services, email: str, password: str, *, client: str = "unknown") -> TokenPair:
    """Password sign-in. Only failures count against anyone: per account the lockout (423 after
    ``LOCKOUT_MAX_FAILURES`` in the window, kept in the database), per client address the
    ``SIGNIN_FAILURES_PER_CLIENT`` throttle (429). A success never counts and clears the account's
    failures. A wrong password and an unknown address answer alike (401) and cost alike (argon2)."""
    throttle = svc.throttle
    if throttle is not None and (wait := await throttle.wait(SIGNIN_FAILURES_PER_CLIENT, client)) is not None:
        raise _throttled("too many failed sign-ins from this network; wait before trying again", wait)
    try:
        key = canonical_email(email)
        known = True
    except InvalidEmail:
        key, known = throttle_key(email), False
    now = svc.clock()
    security = SecurityRepo(svc.db)
    attempts = await security.get_attempts(key)
    until = locked_until(attempts, now)
    if until is not None:
        raise AccountLocked(
            "too many failed sign-ins; try again later or reset the password",
            field="username",
            extra={"retry_after": max(1, int((until - now).total_seconds()))},
        )
    account = await AccountRepo(svc.db).by_email(key) if known else None
    hashed = account.password_hash if account is not None and account.password_hash else svc.dummy_hash
    ok = await _verify_password(svc, password, hashed) and account is not None and account.password_hash is not None
    if not ok:
        await security.save_attempts(record_failure(attempts, key, now, svc.lockout), now)
        if throttle is not None:
            await throttle.hit(SIGNIN_FAILURES_PER_CLIENT, client)
        raise AuthenticationFailed(INVALID_CREDENTIALS, field="username")
    if account.status == AccountStatus.DEACTIVATED:
        raise Forbidden("the account is deactivated")
    if account.status == AccountStatus.REJECTED:
        raise Forbidden("this sign-up was not accepted; the email we sent says why and whom to contact")
    if attempts is not None:
        await security.clear_attempts(key)
    return await _issue_pair(svc, security, account, now, family=None)


async def refresh(svc: Services, raw: str) -> TokenPair:
    """Rotate a refresh token: a new pair in the same family, the old token spent. A token spent
    less than ``REFRESH_REUSE_GRACE_SECONDS`` ago is honoured once more (concurrent requests of one
    session); any other reuse revokes the family (401)."""
    now = svc.clock()
    token_hash = hash_token(raw)
    grace = timedelta(seconds=svc.settings.refresh_reuse_grace_seconds)
    reuse_family: list[str] = []

    async def fn(tx: Tx) -> TokenPair | None:
        security = SecurityRepo(tx.db, tx.session)
        record = await security.get_refresh(token_hash)
        check = check_refresh_token(record, now, grace)
        if check.reuse:
            reuse_family.append(record.family_id)
            return None
        if not check.ok:
            raise TokenInvalid(check.reason, field="refresh_token")
        spent = await (security.spend_refresh_grace(token_hash, now) if check.grace
                       else security.spend_refresh(token_hash, now))
        if not spent:
            reuse_family.append(record.family_id)
            return None
        account = await AccountRepo(tx.db, tx.session).get(record.account_id)
        if account is None or not account.active:
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


# --- links: mailbox confirmation, password reset ---------------------------------------------


async def _active_by_email(svc: Services, email: str) -> Account | None:
    try:
        key = canonical_email(email)
    except InvalidEmail:
        return None
    account = await AccountRepo(svc.db).by_email(key)
    return account if account is not None and account.active else None


async def request_password_reset(svc: Services, email: str) -> None:
    """Emit PasswordResetRequested (a 1-hour link) for an existing, active account; for any other
    address nothing happens. The API answers alike either way and runs this after answering."""
    account = await _active_by_email(svc, email)
    if account is None:
        return
    now = svc.clock()

    async def fn(tx: Tx) -> None:
        await _send_link(svc, tx, account, LinkPurpose.PASSWORD_RESET, now)

    await svc.store.transaction(fn)


async def resend_confirmation(svc: Services, email: str) -> None:
    """Emit MailboxConfirmationRequested again (a new 48-hour link; the older one stops working)
    for an active account whose mailbox is not confirmed yet; otherwise nothing happens. The API
    answers alike either way and runs this after answering."""
    account = await _active_by_email(svc, email)
    if account is None or account.email_confirmed_at is not None:
        return
    now = svc.clock()

    async def fn(tx: Tx) -> None:
        await _send_link(svc, tx, account, LinkPurpose.MAILBOX_CONFIRMATION, now)

    await svc.store.transaction(fn)


async def link_status(svc: Services, raw: str, purpose: LinkPurpose) -> datetime:
    """When a link still works, its expiry; else TokenInvalid (so a page can say so before the
    person types a new password). Spends nothing."""
    record = await SecurityRepo(svc.db).get_link(hash_token(raw))
    return check_link_token(record, purpose, svc.clock()).expires_at


async def _spend_link(tx: Tx, raw: str, purpose: LinkPurpose, now: datetime) -> tuple[Account, City | None]:
    """Inside a transaction: spend a link once and load its account (and an official's city).
    Refused alike (TokenInvalid) when unknown, used, expired, for another purpose or another
    address than the account has now, or when the account is deactivated."""
    security = SecurityRepo(tx.db, tx.session)
    record = check_link_token(await security.get_link(hash_token(raw)), purpose, now)
    if not await security.spend_link(record.token_hash, now):
        check_link_token(None, purpose, now)  # raced: someone spent it first
    account = await AccountRepo(tx.db, tx.session).get(record.account_id)
    if account is None or not account.active or account.email != record.email:
        check_link_token(None, purpose, now)
    city = await CityRepo(tx.db, tx.session).get(account.city_id) if account.city_id else None
    return account, city


async def confirm_mailbox(svc: Services, raw: str) -> Account:
    """Follow a confirmation link: MailboxConfirmed, and for an official at the city's official
    domain, AccountVerified by that rule. 400 (field ``token``) when the link does not work."""
    now = svc.clock()

    async def fn(tx: Tx) -> Account:
        account, city = await _spend_link(tx, raw, LinkPurpose.MAILBOX_CONFIRMATION, now)
        people.confirm_mailbox(account, at=now, city=city)
        await AccountRepo(tx.db, tx.session).save(account)
        _emit_all(tx, account)
        return account

    return await svc.store.transaction(fn)


async def confirm_password_reset(svc: Services, raw: str, new_password: str) -> None:
    """Set a new password from a reset or setup link (once). The policy is checked before the link
    is spent, so a refused password leaves the link usable. Every refresh token of the account is
    revoked, its failed sign-ins cleared; the link proves the mailbox too (MailboxConfirmed, and
    the official-domain rule); PasswordChanged is emitted."""
    now = svc.clock()
    record = check_link_token(await SecurityRepo(svc.db).get_link(hash_token(raw)), LinkPurpose.PASSWORD_RESET, now)
    check_password_policy(new_password, email=record.email, field="new_password")
    password_hash = await _hash(svc, new_password)

    async def fn(tx: Tx) -> None:
        account, city = await _spend_link(tx, raw, LinkPurpose.PASSWORD_RESET, now)
        account.password_hash = password_hash
        people.confirm_mailbox(account, at=now, city=city)
        account._events.append(ev.password_changed(account, via="reset_link", at=now))
        await AccountRepo(tx.db, tx.session).save(account)
        security = SecurityRepo(tx.db, tx.session)
        await security.revoke_account_tokens(account.account_id, now)
        await security.clear_attempts(account.email)
        _emit_all(tx, account)

    await svc.store.transaction(fn)


async def change_password(svc: Services, account_id: str, current_password: str, new_password: str) -> TokenPair:
    """A signed-in person changes their password. The current one must be right (a wrong one
    counts toward the lockout like a failed sign-in: 422 on ``current_password``). Every refresh
    token of the account is revoked (other browsers are signed out) and a new pair returned for
    this session; PasswordChanged is emitted."""
    now = svc.clock()
    account = await AccountRepo(svc.db).get(account_id)
    if account is None or not account.active:
        raise AuthenticationFailed("the account no longer exists or is deactivated")
    security = SecurityRepo(svc.db)
    attempts = await security.get_attempts(account.email)
    until = locked_until(attempts, now)
    if until is not None:
        raise AccountLocked("too many failed attempts; try again later or reset the password",
                            field="current_password",
                            extra={"retry_after": max(1, int((until - now).total_seconds()))})
    if not account.password_hash or not await _verify_password(svc, current_password, account.password_hash):
        await security.save_attempts(record_failure(attempts, account.email, now, svc.lockout), now)
        raise DomainRuleError("the current password is not right", field="current_password")
    check_password_policy(new_password, email=account.email, field="new_password")
    password_hash = await _hash(svc, new_password)

    async def fn(tx: Tx) -> TokenPair:
        repo = AccountRepo(tx.db, tx.session)
        fresh = await _load_account(repo, account_id)
        fresh.password_hash = password_hash
        fresh._events.append(ev.password_changed(fresh, via="signed_in", at=now))
        await repo.save(fresh)
        tx_security = SecurityRepo(tx.db, tx.session)
        await tx_security.revoke_account_tokens(account_id, now)
        await tx_security.clear_attempts(fresh.email)
        _emit_all(tx, fresh)
        return await _issue_pair(svc, tx_security, fresh, now, family=None)

    return await svc.store.transaction(fn)
