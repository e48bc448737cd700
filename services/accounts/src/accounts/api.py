"""HTTP routes of the accounts service: parse → command → handler → response.

The route table is documented in the README (the gateway builds against it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from nrn_contracts.values import SingleLine
from nrn_kit.auth import Principal, authorize, permitted, principal_dependency
# Idempotency-Key on staff commands; not on sign-up (its body holds a password, whose hash the key
# record would keep), staff and partner-member creation (their body may hold one too) or auth/*.
from nrn_kit.http import problem
from nrn_kit.idempotency import IDEMPOTENT

from . import handlers as h
from .adapters import AccountRepo, CityRepo, ExceptionRequestRepo, PartnerRepo
from .domain.cities import City, Eligibility, ExceptionRecord, Indicator, explain_eligibility
from .domain.city_csv import COLUMN_HELP, REQUIRED_COLUMNS, template_csv
from .domain.exception_requests import NewExceptionRequest
from .domain.places import sections_matching
from .domain.errors import AuthenticationFailed, DomainRuleError, NotFound
from .domain.emails import throttle_key
from .domain.people import Account, Decision, Partner, PartnerRole, StaffRole, email_at_city_domain
from .domain.security import LinkPurpose
from .throttle import LINK_REQUESTS_PER_ADDRESS, LINK_REQUESTS_PER_CLIENT

router = APIRouter()

current_principal = principal_dependency(lambda request: request.app.state.runtime.verifier)
Bearer = Annotated[Principal, Depends(current_principal)]


def services(request: Request) -> h.Services:
    return request.app.state.runtime.state["services"]


Svc = Annotated[h.Services, Depends(services)]
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


# --- response shapes -----------------------------------------------------------------------


class IndicatorOut(BaseModel):
    value: float
    year: int
    source: str
    illustrative: bool

    @classmethod
    def of(cls, ind: Indicator | None) -> IndicatorOut | None:
        return None if ind is None else cls(value=ind.value, year=ind.year, source=ind.source, illustrative=ind.illustrative)


class IndicatorsOut(BaseModel):
    unemployment_rate: IndicatorOut | None
    adult_poverty_rate: IndicatorOut | None
    population_change_2000_2010: IndicatorOut | None


class CitySummary(BaseModel):
    city_id: str
    name: str
    state: str
    state_fips: str | None
    fips_place_code: str | None
    geonames_id: int | None
    population: int | None
    population_year: int | None
    population_source: str | None
    time_zone: str | None = None
    indicators: IndicatorsOut
    eligible: bool
    eligibility_basis: Literal["indicators", "exception", "none"]

    @classmethod
    def of(cls, city: City, eligibility: Eligibility | None = None) -> dict[str, Any]:
        e = eligibility or explain_eligibility(city)
        ind = city.indicators
        return dict(
            city_id=city.city_id,
            name=city.name,
            state=city.state,
            state_fips=city.state_fips,
            fips_place_code=city.fips_place_code,
            geonames_id=city.geonames_id,
            population=city.population,
            population_year=city.population_year,
            population_source=city.population_source,
            time_zone=city.time_zone,
            indicators=IndicatorsOut(
                unemployment_rate=IndicatorOut.of(ind.unemployment_rate),
                adult_poverty_rate=IndicatorOut.of(ind.adult_poverty_rate),
                population_change_2000_2010=IndicatorOut.of(ind.population_change_2000_2010),
            ),
            eligible=e.eligible,
            eligibility_basis=e.basis,
        )


class CityListItem(CitySummary):
    # Only with ``?with_eligibility=true``: the explanation each city's page would show,
    # so a listing with reasons costs one call instead of one per city.
    eligibility: Eligibility | None = None
    # The section of this city whose name matched ``q`` ("La Jolla" for San Diego), when one did.
    matched_section: str | None = None


class CityDetail(CitySummary):
    eligibility: Eligibility
    official_email_domains: list[str]
    exception_history: list[ExceptionRecord]
    registered_at: datetime | None
    updated_at: datetime | None


def city_detail(city: City) -> CityDetail:
    e = explain_eligibility(city)
    return CityDetail(
        **CitySummary.of(city, e),
        eligibility=e,
        official_email_domains=city.official_email_domains,
        exception_history=city.exception_history,
        registered_at=city.registered_at,
        updated_at=city.updated_at,
    )


# Who decided, for people: the system's own deciders have names too.
SYSTEM_NAMES = {"system:official-email-domain": "NRN (the city's official email domain)",
                "system:bootstrap": "NRN (set-up)"}


class DecisionOut(Decision):
    by_name: str | None = None  # the staff member's name (pages never show an account id)


class AccountOut(BaseModel):
    account_id: str
    kind: str
    email: str
    name: str
    title: str | None
    phone: str | None
    city_id: str | None
    partner_id: str | None
    roles: list[str]
    expertise: list[str]
    status: str
    created_at: datetime
    verified_at: datetime | None
    verified_by: str | None
    deactivated_at: datetime | None
    deactivated_by: str | None
    deactivation_reason: str | None
    # the owner followed a link e-mailed to the address (confirmation, reset or setup link)
    email_confirmed_at: datetime | None
    mailbox_confirmed: bool
    # officials: whether the address is at one of the city's registered official domains
    # (null for staff and partner members, or when the city is unknown)
    email_at_city_domain: bool | None
    # officials: the city as people name it ("Flint, MI"), for pages that show accounts
    city_name: str | None = None
    decisions: list[DecisionOut] | None = None

    @classmethod
    def of(cls, account: Account, *, with_decisions: bool = False, city: City | None = None) -> AccountOut:
        data = account.model_dump(exclude={"password_hash", "decisions"})
        data.update(
            kind=str(account.kind),
            status=str(account.status),
            roles=[str(r) for r in account.roles],
            expertise=[str(e) for e in account.expertise],
            mailbox_confirmed=account.email_confirmed_at is not None,
            email_at_city_domain=email_at_city_domain(account, city),
            city_name=f"{city.name}, {city.state}" if city is not None else None,
        )
        decisions = [DecisionOut(**d.model_dump()) for d in account.decisions] if with_decisions else None
        return cls(**data, decisions=decisions)


async def accounts_out(svc: h.Services, accounts: list[Account], *, with_decisions: bool = False) -> list[AccountOut]:
    """Accounts with what the verification queue shows about each address (the officials' cities
    read in one query), and with decisions, who took each by name."""
    city_ids = sorted({a.city_id for a in accounts if a.city_id})
    cities = (await CityRepo(svc.db).get_many(city_ids, []))[0] if city_ids else {}
    out = [AccountOut.of(a, with_decisions=with_decisions, city=cities.get(a.city_id or "")) for a in accounts]
    if with_decisions:
        deciders = [d.by for o in out for d in o.decisions or []]
        names = {**SYSTEM_NAMES, **await AccountRepo(svc.db).names(deciders)}
        for o in out:
            for d in o.decisions or []:
                d.by_name = names.get(d.by) or "NRN staff"
    return out


async def account_out(svc: h.Services, account: Account, *, with_decisions: bool = True) -> AccountOut:
    return (await accounts_out(svc, [account], with_decisions=with_decisions))[0]


class PartnerOut(BaseModel):
    partner_id: str
    name: str
    kind: str
    website: str | None
    created_by: str
    created_at: datetime
    members: list[AccountOut] | None = None

    @classmethod
    def of(cls, partner: Partner, members: list[Account] | None = None) -> PartnerOut:
        return cls(
            partner_id=partner.partner_id,
            name=partner.name,
            kind=str(partner.kind),
            website=partner.website,
            created_by=partner.created_by,
            created_at=partner.created_at,
            members=None if members is None else [AccountOut.of(m) for m in members],
        )


class Page(BaseModel):
    items: list[Any]
    total: int
    limit: int
    offset: int


class CreatedWithLink(BaseModel):
    account: AccountOut
    # What notifications e-mails the new member: a link to set the password (created without
    # one) or to confirm the address. The link itself never appears in an API answer.
    link_sent: Literal["password_setup", "mailbox_confirmation"]


def _created(account: AccountOut, with_password: bool) -> CreatedWithLink:
    return CreatedWithLink(account=account, link_sent="mailbox_confirmation" if with_password else "password_setup")


class RefreshBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: str = Field(min_length=1, max_length=512)


class AddressBody(BaseModel):
    """An address someone typed to be sent a link; any text up to 320 characters is answered alike
    (an address that does not parse simply has no account)."""

    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=1, max_length=320)


class TokenBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=512)


class ResetConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=512)
    new_password: h.Password


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: h.Password
    new_password: h.Password


class LinkAccepted(BaseModel):
    status: Literal["accepted"] = "accepted"


class LinkStatus(BaseModel):
    valid: Literal[True] = True
    expires_at: datetime


class MailboxConfirmedOut(BaseModel):
    account_id: str
    email: str
    status: str  # the account's status now: "verified" when the city's official-domain rule applied
    mailbox_confirmed: Literal[True] = True


# --- errors --------------------------------------------------------------------------------


def domain_error_response(request: Request, exc: DomainRuleError) -> JSONResponse:
    errors = [{"field": exc.field, "message": exc.detail}] if exc.field else None
    # retry_after (seconds) stays in the body too, so a caller that passes the problem on keeps it
    extra = dict(exc.extra)
    code = type(exc).__name__.replace("_", "-").lower()
    response = problem(
        exc.status, exc.title, exc.detail, code=code, instance=request.url.path, field=exc.field, errors=errors, **extra
    )
    if "retry_after" in exc.extra:
        response.headers["Retry-After"] = str(exc.extra["retry_after"])
    return response


# --- public: cities ------------------------------------------------------------------------


@router.get("/cities", tags=["cities"])
async def list_cities(
    svc: Svc,
    eligible: bool | None = None,
    state: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
    q: Annotated[SingleLine | None, Query(max_length=100)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    with_eligibility: bool = False,
) -> Page:
    repo = CityRepo(svc.db)
    cities, total = await repo.search(eligible=eligible, state=state, q=q, limit=limit, offset=offset)
    matched: dict[str, str] = {}
    if q and q.strip() and offset == 0:
        # a section of a city ("La Jolla") finds its city, said so: the first page only, after the cities
        # whose own name matches
        shown = {c.city_id for c in cities}
        for section in sections_matching(q, state):
            if section.city_id in shown or len(cities) >= limit:
                continue
            city = await repo.get(section.city_id)
            if city is not None and (eligible is None or explain_eligibility(city).eligible == eligible):
                cities.append(city)
                shown.add(city.city_id)
                matched[city.city_id] = section.name
                total += 1
    items: list[Any] = []
    for c in cities:
        e = explain_eligibility(c)
        leave_out = ({"eligibility"} if not with_eligibility else set()) | (
            {"matched_section"} if c.city_id not in matched else set())
        items.append(CityListItem(**CitySummary.of(c, e), eligibility=e if with_eligibility else None,
                                  matched_section=matched.get(c.city_id)).model_dump(mode="json", exclude=leave_out))
    return Page(items=items, total=total, limit=limit, offset=offset)


async def _city(svc: h.Services, city_id: str) -> City:
    city = await CityRepo(svc.db).get(city_id)
    if city is None:
        raise NotFound(f"no city {city_id}", field="city_id")
    return city


@router.get("/cities/{city_id}", tags=["cities"])
async def get_city(city_id: str, svc: Svc) -> CityDetail:
    return city_detail(await _city(svc, city_id))


@router.get("/cities/{city_id}/eligibility", tags=["cities"])
async def get_eligibility(city_id: str, svc: Svc) -> Eligibility:
    return explain_eligibility(await _city(svc, city_id))


class AccountHolders(BaseModel):
    items: list[AccountOut]
    total: int
    restricted: bool  # true: only the caller's own record (they may not list the city's accounts)


class CityOverview(BaseModel):
    city: CityDetail
    account_holders: AccountHolders


@router.get("/cities/{city_id}/overview", tags=["cities"])
async def city_overview(
    city_id: str, svc: Svc, principal: Bearer, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> CityOverview:
    """The city with its account holders, in one call (the gateway's dashboard): staff who may
    read accounts get the city's officials (newest first, ``limit``); anyone else their own record,
    ``restricted: true`` — what ``GET /cities/{id}`` plus ``GET /accounts?city_id=&kind=official``
    or ``GET /me`` would answer."""
    city = await _city(svc, city_id)
    if permitted(principal, "account.read"):
        accounts, total = await AccountRepo(svc.db).search(city_id=city_id, kind="official", limit=limit)
        holders = AccountHolders(items=[AccountOut.of(a, city=city) for a in accounts], total=total, restricted=False)
    else:
        account = await AccountRepo(svc.db).get(principal.account_id)
        if account is None or not account.active:
            raise AuthenticationFailed("the account no longer exists or is deactivated")
        holders = AccountHolders(items=[await account_out(svc, account)], total=1, restricted=True)  # as /me
    return CityOverview(city=city_detail(city), account_holders=holders)


# --- staff: cities -------------------------------------------------------------------------


@router.post("/cities/import", tags=["cities"], dependencies=[IDEMPOTENT])
async def import_cities(svc: Svc, principal: Bearer, file: Annotated[UploadFile, File()],
                        dry_run: bool = False) -> h.ImportReport:
    """Import (or with ``dry_run=true`` only report what an import would do: nothing is written)."""
    authorize(principal, "city.import")
    data = await file.read(svc.settings.max_import_bytes + 1)
    if len(data) > svc.settings.max_import_bytes:
        raise DomainRuleError(f"the file is larger than {svc.settings.max_import_bytes} bytes", field="file")
    await h.active_actor(svc, principal.account_id)
    return await h.import_cities(svc, data, by=principal.account_id, dry_run=dry_run)


class ImportColumn(BaseModel):
    name: str
    required: bool
    meaning: str


class ImportFormat(BaseModel):
    columns: list[ImportColumn]
    template_csv: str
    max_bytes: int


@router.get("/cities/import/format", tags=["cities"])
async def import_format(svc: Svc) -> ImportFormat:
    """The CSV import's exact columns, what each holds, and a template file with an example row."""
    return ImportFormat(columns=[ImportColumn(name=c, required=c in REQUIRED_COLUMNS, meaning=m)
                                 for c, m in COLUMN_HELP.items()],
                        template_csv=template_csv(), max_bytes=svc.settings.max_import_bytes)


@router.post("/cities/{city_id}/exception", tags=["cities"], dependencies=[IDEMPOTENT])
async def grant_exception(city_id: str, body: h.WithReason, svc: Svc, principal: Bearer) -> CityDetail:
    authorize(principal, "eligibility.exception")
    return city_detail(await h.change_exception(svc, city_id, body, grant=True, by=principal.account_id))


@router.post("/cities/{city_id}/exception/revoke", tags=["cities"], dependencies=[IDEMPOTENT])
async def revoke_exception(city_id: str, body: h.WithReason, svc: Svc, principal: Bearer) -> CityDetail:
    authorize(principal, "eligibility.exception")
    return city_detail(await h.change_exception(svc, city_id, body, grant=False, by=principal.account_id))


class ExceptionRequestOut(BaseModel):
    exception_request_id: str
    city_id: str
    city_name: str
    state: str
    name: str
    email: str
    title: str
    reason: str
    lead_city_id: str | None
    lead_city_name: str | None
    status: Literal["open", "granted", "declined"]
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None


class PublicExceptionRequest(BaseModel):
    """What the person who asked sees: no one else's name or address."""

    exception_request_id: str
    city_id: str
    city_name: str
    state: str
    status: Literal["open", "granted", "declined"]
    requested_at: datetime
    lead_city_name: str | None


@router.post("/cities/{city_id}/exception-requests", status_code=201, tags=["cities"], dependencies=[IDEMPOTENT])
async def ask_for_exception(city_id: str, body: NewExceptionRequest, svc: Svc) -> PublicExceptionRequest:
    """Anyone for a city that fails every distress test asks staff for an exception (name, e-mail, role,
    reason; ``lead_city_id``: an eligible city leading a regional application). Asking again with the same
    e-mail while the first is open answers the first. 422 when the city is eligible already or the lead
    city is not."""
    request = await h.ask_for_exception(svc, city_id, body)
    return PublicExceptionRequest(**request.model_dump(include=set(PublicExceptionRequest.model_fields)))


@router.get("/exception-requests", tags=["cities"])
async def list_exception_requests(
    svc: Svc, principal: Bearer,
    status: Annotated[Literal["open", "granted", "declined"] | None, Query()] = "open",
    city_id: Annotated[SingleLine | None, Query(max_length=128)] = None,
    limit: Limit = 50, offset: Offset = 0,
) -> Page:
    """The staff's exception queue, oldest first (``status=open`` by default)."""
    authorize(principal, "eligibility.exception")
    items, total = await ExceptionRequestRepo(svc.db).search(status=status, city_id=city_id, limit=limit, offset=offset)
    return Page(items=[ExceptionRequestOut(**r.model_dump()) for r in items], total=total, limit=limit, offset=offset)


@router.post("/exception-requests/{request_id}/decline", tags=["cities"], dependencies=[IDEMPOTENT])
async def decline_exception_request(request_id: str, body: h.WithReason, svc: Svc, principal: Bearer
                                    ) -> ExceptionRequestOut:
    authorize(principal, "eligibility.exception")
    request = await h.decline_exception_request(svc, request_id, body, by=principal.account_id)
    return ExceptionRequestOut(**request.model_dump())


# --- accounts ------------------------------------------------------------------------------


@router.post("/accounts/officials", status_code=201, tags=["accounts"])
async def sign_up_official(body: h.SignUpOfficial, svc: Svc, response: Response) -> AccountOut:
    out = await account_out(svc, await h.sign_up_official(svc, body), with_decisions=False)
    response.headers["Location"] = f"/accounts/{out.account_id}"
    return out


@router.post("/accounts/staff", status_code=201, tags=["accounts"])
async def create_staff(body: h.CreateStaff, svc: Svc, principal: Bearer) -> CreatedWithLink:
    authorize(principal, "account.manage")
    account = await h.create_staff(svc, body, by=principal.account_id)
    return _created(AccountOut.of(account), body.password is not None)


@router.get("/accounts", tags=["accounts"])
async def list_accounts(
    svc: Svc,
    principal: Bearer,
    kind: Literal["official", "staff", "partner_member"] | None = None,
    status: Literal["pending", "verified", "deactivated", "rejected"] | None = None,
    city_id: Annotated[SingleLine | None, Query(max_length=128)] = None,
    partner_id: Annotated[SingleLine | None, Query(max_length=128)] = None,
    role: StaffRole | None = None,
    expertise: Annotated[SingleLine | None, Query(max_length=100)] = None,
    q: Annotated[SingleLine | None, Query(max_length=100)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page:
    authorize(principal, "account.read")
    accounts, total = await AccountRepo(svc.db).search(
        kind=kind,
        status=status,
        city_id=city_id,
        partner_id=partner_id,
        role=str(role) if role else None,
        expertise=expertise,
        q=q,
        limit=limit,
        offset=offset,
    )
    return Page(items=await accounts_out(svc, accounts), total=total, limit=limit, offset=offset)


@router.get("/me", tags=["accounts"])
async def me(svc: Svc, principal: Bearer) -> AccountOut:
    account = await AccountRepo(svc.db).get(principal.account_id)
    if account is None or not account.active:
        raise AuthenticationFailed("the account no longer exists or is deactivated")
    return await account_out(svc, account)


@router.get("/accounts/{account_id}", tags=["accounts"])
async def get_account(account_id: str, svc: Svc, principal: Bearer) -> AccountOut:
    if account_id != principal.account_id:
        authorize(principal, "account.read")
    account = await AccountRepo(svc.db).get(account_id)
    if account is None:
        raise NotFound(f"no account {account_id}", field="account_id")
    return await account_out(svc, account)


@router.post("/accounts/{account_id}/verify", tags=["accounts"], dependencies=[IDEMPOTENT])
async def verify_account(account_id: str, svc: Svc, principal: Bearer) -> AccountOut:
    authorize(principal, "account.verify")
    return await account_out(svc, await h.verify_account(svc, account_id, by=principal.account_id))


@router.post("/accounts/{account_id}/reject", tags=["accounts"], dependencies=[IDEMPOTENT])
async def reject_account(account_id: str, body: h.WithReason, svc: Svc, principal: Bearer) -> AccountOut:
    """Refuse a pending official's sign-up; the reason is e-mailed to them (AccountRejected)."""
    authorize(principal, "account.verify")
    return await account_out(svc, await h.reject_account(svc, account_id, body, by=principal.account_id))


@router.post("/accounts/{account_id}/information-requests", tags=["accounts"], dependencies=[IDEMPOTENT])
async def request_account_information(account_id: str, body: h.WithMessage, svc: Svc,
                                      principal: Bearer) -> AccountOut:
    """Ask a pending official for more before verifying them (AccountInformationRequested, e-mailed)."""
    authorize(principal, "account.verify")
    return await account_out(svc, await h.request_account_information(svc, account_id, body,
                                                                      by=principal.account_id))


@router.post("/accounts/{account_id}/reactivate", tags=["accounts"], dependencies=[IDEMPOTENT])
async def reactivate_account(account_id: str, svc: Svc, principal: Bearer,
                             body: h.OptionalReason | None = None) -> AccountOut:
    """A deactivated or rejected account may sign in again (AccountReactivated)."""
    authorize(principal, "account.manage")
    return await account_out(svc, await h.reactivate_account(svc, account_id, body or h.OptionalReason(),
                                                             by=principal.account_id))


class ContactCard(BaseModel):
    account_id: str
    kind: str
    name: str
    title: str | None
    email: str
    phone: str | None
    city_id: str | None
    city_name: str | None
    status: str
    email_at_city_domain: bool | None


@router.get("/people/names", tags=["accounts"])
async def people_names(svc: Svc, principal: Bearer,
                       ids: Annotated[list[Annotated[SingleLine, Field(max_length=128)]], Query(max_length=200)]) -> dict[str, str]:
    """Staff pages name who decided (an exception, a review): account id → name, for staff who work
    with officials' records. Ids not found are left out."""
    authorize(principal, "account.contact")
    return {**{i: SYSTEM_NAMES[i] for i in ids if i in SYSTEM_NAMES},
            **await AccountRepo(svc.db).names([i[:128] for i in ids])}


@router.get("/accounts/{account_id}/contact", tags=["accounts"])
async def contact_card(account_id: str, svc: Svc, principal: Bearer) -> ContactCard:
    """How to reach someone who asked the network for help: staff answering a request call them."""
    if account_id != principal.account_id:
        authorize(principal, "account.contact")
    account = await AccountRepo(svc.db).get(account_id)
    if account is None:
        raise NotFound(f"no account {account_id}", field="account_id")
    out = await account_out(svc, account, with_decisions=False)
    return ContactCard(**out.model_dump(include=set(ContactCard.model_fields)))


@router.post("/accounts/{account_id}/deactivate", tags=["accounts"], dependencies=[IDEMPOTENT])
async def deactivate_account(account_id: str, body: h.WithReason, svc: Svc, principal: Bearer) -> AccountOut:
    authorize(principal, "account.manage")
    account = await h.deactivate_account(svc, account_id, body, by=principal.account_id)
    return await account_out(svc, account)


@router.post("/accounts/{account_id}/roles", tags=["accounts"], dependencies=[IDEMPOTENT])
async def grant_role(account_id: str, body: h.GrantRole, svc: Svc, principal: Bearer) -> AccountOut:
    authorize(principal, "role.grant")
    return await account_out(svc, await h.grant_role(svc, account_id, body, by=principal.account_id))


@router.delete("/accounts/{account_id}/roles/{role}", tags=["accounts"], dependencies=[IDEMPOTENT])
async def revoke_role(account_id: str, role: StaffRole | PartnerRole, svc: Svc, principal: Bearer) -> AccountOut:
    authorize(principal, "role.grant")
    return await account_out(svc, await h.revoke_role(svc, account_id, role, by=principal.account_id))


# --- partners ------------------------------------------------------------------------------


@router.post("/partners", status_code=201, tags=["partners"], dependencies=[IDEMPOTENT])
async def create_partner(body: h.CreatePartner, svc: Svc, principal: Bearer) -> PartnerOut:
    authorize(principal, "account.manage")
    return PartnerOut.of(await h.create_partner(svc, body, by=principal.account_id))


@router.get("/partners", tags=["partners"])
async def list_partners(
    svc: Svc,
    principal: Bearer,
    kind: Literal["consortium_member", "federal_agency"] | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page:
    authorize(principal, "account.read")
    partners, total = await PartnerRepo(svc.db).search(kind=kind, limit=limit, offset=offset)
    return Page(items=[PartnerOut.of(p) for p in partners], total=total, limit=limit, offset=offset)


@router.get("/partners/{partner_id}", tags=["partners"])
async def get_partner(partner_id: str, svc: Svc, principal: Bearer) -> PartnerOut:
    authorize(principal, "account.read")
    partner = await PartnerRepo(svc.db).get(partner_id)
    if partner is None:
        raise NotFound(f"no partner {partner_id}", field="partner_id")
    members, _ = await AccountRepo(svc.db).search(partner_id=partner_id, limit=200)
    return PartnerOut.of(partner, members)


@router.post("/partners/{partner_id}/members", status_code=201, tags=["partners"])
async def add_partner_member(
    partner_id: str, body: h.AddPartnerMember, svc: Svc, principal: Bearer
) -> CreatedWithLink:
    authorize(principal, "account.manage")
    account = await h.add_partner_member(svc, partner_id, body, by=principal.account_id)
    return _created(AccountOut.of(account), body.password is not None)


# --- sign-in -------------------------------------------------------------------------------


def _client_address(request: Request, svc: h.Services) -> str:
    if svc.settings.trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.client.host if request.client else "unknown"


@router.post("/auth/token", tags=["auth"])
async def token(
    request: Request,
    svc: Svc,
    grant_type: Annotated[Literal["password", "refresh_token"], Form()] = "password",
    username: Annotated[str | None, Form(max_length=320)] = None,
    password: Annotated[str | None, Form(max_length=1024)] = None,
    refresh_token: Annotated[str | None, Form(max_length=512)] = None,
) -> h.TokenPair:
    """OAuth2 password form, or ``grant_type=refresh_token``. The password is taken exactly as sent."""
    if grant_type == "refresh_token":
        if not refresh_token:
            raise DomainRuleError("refresh_token is required for grant_type=refresh_token", field="refresh_token")
        return await h.refresh(svc, refresh_token)
    if not username:
        raise DomainRuleError("username (the email) is required", field="username")
    if not password:
        raise DomainRuleError("password is required", field="password")
    return await h.sign_in(svc, username, password, client=_client_address(request, svc))


@router.post("/auth/refresh", tags=["auth"])
async def refresh(body: RefreshBody, svc: Svc) -> h.TokenPair:
    return await h.refresh(svc, body.refresh_token)


@router.post("/auth/signout", status_code=204, tags=["auth"])
async def sign_out(body: RefreshBody, svc: Svc) -> Response:
    await h.sign_out(svc, body.refresh_token)
    return Response(status_code=204)


async def _link_request_allowed(request: Request, svc: h.Services, email: str) -> None:
    """Per client and per address (counted whether or not the address has an account)."""
    throttle = svc.throttle
    if throttle is None:
        return
    for name, key in ((LINK_REQUESTS_PER_CLIENT, _client_address(request, svc)),
                      (LINK_REQUESTS_PER_ADDRESS, throttle_key(email))):
        wait = await throttle.hit(name, key)
        if wait is not None:
            raise h.RateLimited("too many requests for a link; wait before asking again", field="email",
                                extra={"retry_after": wait})


@router.post("/auth/password-reset", status_code=202, tags=["auth"])
async def password_reset(body: AddressBody, request: Request, svc: Svc, tasks: BackgroundTasks) -> LinkAccepted:
    """202 alike for every address, answered before any look-up (so the time taken says nothing
    either); for an existing active account, PasswordResetRequested follows (a 1-hour link)."""
    await _link_request_allowed(request, svc, body.email)
    tasks.add_task(h.request_password_reset, svc, body.email)
    return LinkAccepted()


@router.post("/auth/password-reset/check", tags=["auth"])
async def password_reset_check(body: TokenBody, svc: Svc) -> LinkStatus:
    """Whether a reset link still works (spends nothing): 200, or 400 on ``token``."""
    return LinkStatus(expires_at=await h.link_status(svc, body.token, LinkPurpose.PASSWORD_RESET))


@router.post("/auth/password-reset/confirm", status_code=204, tags=["auth"])
async def password_reset_confirm(body: ResetConfirm, svc: Svc) -> Response:
    await h.confirm_password_reset(svc, body.token, body.new_password)
    return Response(status_code=204)


@router.post("/auth/confirm-email/resend", status_code=202, tags=["auth"])
async def confirm_email_resend(body: AddressBody, request: Request, svc: Svc, tasks: BackgroundTasks) -> LinkAccepted:
    """"Send the link again": 202 alike for every address; for an active account whose mailbox is
    not confirmed, a new 48-hour link follows (MailboxConfirmationRequested)."""
    await _link_request_allowed(request, svc, body.email)
    tasks.add_task(h.resend_confirmation, svc, body.email)
    return LinkAccepted()


@router.post("/auth/confirm-email/check", tags=["auth"])
async def confirm_email_check(body: TokenBody, svc: Svc) -> LinkStatus:
    return LinkStatus(expires_at=await h.link_status(svc, body.token, LinkPurpose.MAILBOX_CONFIRMATION))


@router.post("/auth/confirm-email", tags=["auth"])
async def confirm_email(body: TokenBody, svc: Svc) -> MailboxConfirmedOut:
    account = await h.confirm_mailbox(svc, body.token)
    return MailboxConfirmedOut(account_id=account.account_id, email=account.email, status=str(account.status))


@router.post("/me/password", tags=["auth"])
async def change_password(body: PasswordChange, svc: Svc, principal: Bearer) -> h.TokenPair:
    """The signed-in person's new password; answers a new token pair for this session (every other
    session of the account is signed out)."""
    return await h.change_password(svc, principal.account_id, body.current_password, body.new_password)


@router.get("/.well-known/jwks.json", tags=["auth"])
async def jwks(svc: Svc) -> JSONResponse:
    return JSONResponse(svc.issuer.jwks(), headers={"Cache-Control": "public, max-age=300"})
