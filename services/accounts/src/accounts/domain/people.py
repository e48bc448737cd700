"""People: officials, staff and partner members, their roles, and the rules of their life cycle.

Every staff decision (verification, deactivation, role change) is appended to the account's
`decisions` with who and when, and raises the contract event other services learn from.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from nrn_contracts.values import TOPIC_TAXONOMY
from pydantic import BaseModel, Field, PrivateAttr

from . import events as ev
from .cities import City, explain_eligibility, is_official_domain
from .emails import InvalidEmail, canonical_email, email_domain
from .errors import CityNotEligible, Conflict, DomainRuleError, InvalidTransition


class AccountKind(StrEnum):
    OFFICIAL = "official"
    STAFF = "staff"
    PARTNER_MEMBER = "partner_member"


class AccountStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    DEACTIVATED = "deactivated"
    REJECTED = "rejected"  # a pending official staff refused; cannot sign in (reactivated: pending again)


# the words people read in refusals (a problem's detail is shown on the staff pages as it is)
_KIND_WORDS = {AccountKind.OFFICIAL: "a city official", AccountKind.STAFF: "NRN staff",
               AccountKind.PARTNER_MEMBER: "a partner organization member"}
_STATUS_WORDS = {AccountStatus.PENDING: "waiting for verification", AccountStatus.VERIFIED: "verified",
                 AccountStatus.DEACTIVATED: "deactivated", AccountStatus.REJECTED: "refused"}


class StaffRole(StrEnum):
    ADMINISTRATOR = "administrator"
    PROGRAM_MANAGER = "program_manager"
    TRIAGE_LEAD = "triage_lead"
    SUBJECT_MATTER_EXPERT = "subject_matter_expert"
    REVIEWER = "reviewer"
    CURATOR = "curator"


class PartnerRole(StrEnum):
    """A partner member's role: administers the organization's webhook subscriptions (services/partners), or
    coordinates its pro bono volunteers (confirms them in peer's talent network)."""

    PARTNER_ADMINISTRATOR = "partner_administrator"
    PROBONO_COORDINATOR = "probono_coordinator"


# Areas of expertise are the network-wide topic taxonomy, so requests311 can route a question
# on topic X to the experts whose expertise includes X.
Expertise = StrEnum("Expertise", {t.upper(): t for t in TOPIC_TAXONOMY})


class PartnerKind(StrEnum):
    CONSORTIUM_MEMBER = "consortium_member"
    FEDERAL_AGENCY = "federal_agency"


SYSTEM_OFFICIAL_DOMAIN = "system:official-email-domain"


class Decision(BaseModel):
    action: str
    by: str
    at: datetime
    detail: str | None = None


class Account(BaseModel):
    account_id: str
    kind: AccountKind
    email: str
    name: str
    title: str | None = None
    phone: str | None = None
    city_id: str | None = None
    partner_id: str | None = None
    roles: list[StaffRole | PartnerRole] = Field(default_factory=list)
    expertise: list[Expertise] = Field(default_factory=list)
    status: AccountStatus = AccountStatus.PENDING
    password_hash: str | None = None
    created_at: datetime
    # when the owner followed a link e-mailed to ``email`` (confirmation, or reset / setup)
    email_confirmed_at: datetime | None = None
    verified_at: datetime | None = None
    verified_by: str | None = None
    deactivated_at: datetime | None = None
    deactivated_by: str | None = None
    deactivation_reason: str | None = None
    decisions: list[Decision] = Field(default_factory=list)

    _events: list = PrivateAttr(default_factory=list)

    def pull_events(self) -> list:
        events, self._events = self._events, []
        return events

    @property
    def active(self) -> bool:
        return self.status not in (AccountStatus.DEACTIVATED, AccountStatus.REJECTED)


class Partner(BaseModel):
    partner_id: str
    name: str
    kind: PartnerKind
    website: str | None = None
    created_by: str
    created_at: datetime

    _events: list = PrivateAttr(default_factory=list)

    def pull_events(self) -> list:
        events, self._events = self._events, []
        return events


def _email(email: str) -> str:
    try:
        return canonical_email(email)
    except InvalidEmail as exc:
        raise DomainRuleError(f"not a valid email address: {exc}", field="email") from None


def _check_staff_roles(roles: list[StaffRole], expertise: list[Expertise]) -> None:
    if StaffRole.SUBJECT_MATTER_EXPERT in roles and not expertise:
        raise DomainRuleError("a subject-matter expert needs at least one area of expertise", field="expertise")
    if expertise and StaffRole.SUBJECT_MATTER_EXPERT not in roles:
        raise DomainRuleError("areas of expertise belong to the subject_matter_expert role", field="expertise")


def _sorted_unique(values):
    return sorted(set(values), key=str)


def sign_up_official(
    *,
    account_id: str,
    name: str,
    title: str,
    email: str,
    phone: str | None,
    city: City,
    password_hash: str,
    now: datetime,
) -> Account:
    """Officials sign up for an eligible city only, and start pending. An address at the city's
    official domain verifies the account only once its owner has confirmed the mailbox
    (:func:`confirm_mailbox`): typing an address proves nothing."""
    eligibility = explain_eligibility(city)
    if not eligibility.eligible:
        raise CityNotEligible(
            f"{city.name}, {city.state} is not eligible for NRN assistance. {eligibility.summary}",
            field="city_id",
            extra={"eligibility": eligibility.model_dump(mode="json")},
        )
    account = Account(
        account_id=account_id,
        kind=AccountKind.OFFICIAL,
        email=_email(email),
        name=name,
        title=title,
        phone=phone,
        city_id=city.city_id,
        password_hash=password_hash,
        created_at=now,
    )
    account.decisions.append(Decision(action="registered", by=account_id, at=now))
    account._events.append(ev.account_registered(account))
    return account


def confirm_mailbox(account: Account, *, at: datetime, city: City | None = None) -> None:
    """The account's owner followed a link e-mailed to its address (a confirmation link, or a
    password reset or setup link): the mailbox is theirs. Records it once (``MailboxConfirmed``).
    Then, and only then, an official still pending whose address is at one of the city's official
    domains, for a city still eligible, is verified by that rule (``by`` = SYSTEM_OFFICIAL_DOMAIN).
    A deactivated account is refused."""
    if account.status == AccountStatus.DEACTIVATED:
        raise InvalidTransition(f"{account.name}'s account is deactivated")
    if account.email_confirmed_at is None:
        account.email_confirmed_at = at
        account.decisions.append(Decision(action="mailbox_confirmed", by=account.account_id, at=at, detail=account.email))
        account._events.append(ev.mailbox_confirmed(account, at=at))
    if (
        account.kind == AccountKind.OFFICIAL
        and account.status == AccountStatus.PENDING
        and city is not None
        and is_official_domain(city, account.email)
        and explain_eligibility(city).eligible
    ):
        _verify(account, by=SYSTEM_OFFICIAL_DOMAIN, at=at, detail=f"confirmed mailbox at the city's domain {email_domain(account.email)}")


def email_at_city_domain(account: Account, city: City | None) -> bool | None:
    """For an official: whether the address is at one of the city's registered domains (None
    for staff and partner members, or when the city is unknown)."""
    if account.kind != AccountKind.OFFICIAL or city is None:
        return None
    return is_official_domain(city, account.email)


def create_staff(
    *,
    account_id: str,
    name: str,
    title: str | None,
    email: str,
    phone: str | None,
    roles: list[StaffRole],
    expertise: list[Expertise],
    password_hash: str | None,
    by: str,
    now: datetime,
) -> Account:
    """Staff are created by an administrator and so start verified."""
    roles = _sorted_unique(roles)
    expertise = _sorted_unique(expertise)
    if not roles:
        raise DomainRuleError("a staff account needs at least one role", field="roles")
    _check_staff_roles(roles, expertise)
    account = Account(
        account_id=account_id,
        kind=AccountKind.STAFF,
        email=_email(email),
        name=name,
        title=title,
        phone=phone,
        password_hash=password_hash,
        created_at=now,
        roles=roles,
        expertise=expertise,
    )
    account.decisions.append(Decision(action="created", by=by, at=now, detail="roles: " + ", ".join(roles)))
    account._events.append(ev.account_registered(account))
    _verify(account, by=by, at=now, detail="created by staff")
    for role in roles:
        account._events.append(ev.role_granted(account, role, by=by, at=now))
    return account


def create_partner(
    *, partner_id: str, name: str, kind: PartnerKind, website: str | None, by: str, now: datetime
) -> Partner:
    if not name.strip():
        raise DomainRuleError("the organisation needs a name", field="name")
    partner = Partner(partner_id=partner_id, name=name.strip(), kind=kind, website=website, created_by=by, created_at=now)
    partner._events.append(ev.partner_registered(partner))
    return partner


def add_partner_member(
    *,
    account_id: str,
    partner: Partner,
    name: str,
    title: str | None,
    email: str,
    phone: str | None,
    password_hash: str | None,
    by: str,
    now: datetime,
    administrator: bool = False,
) -> Account:
    account = Account(
        account_id=account_id,
        kind=AccountKind.PARTNER_MEMBER,
        email=_email(email),
        name=name,
        title=title,
        phone=phone,
        partner_id=partner.partner_id,
        password_hash=password_hash,
        created_at=now,
    )
    account.decisions.append(Decision(action="created", by=by, at=now, detail=f"member of {partner.name}"))
    account._events.append(ev.account_registered(account))
    _verify(account, by=by, at=now, detail="created by staff")
    if administrator:
        grant_role(account, PartnerRole.PARTNER_ADMINISTRATOR, by=by, at=now)
    return account


def _verify(account: Account, *, by: str, at: datetime, detail: str | None = None) -> None:
    account.status = AccountStatus.VERIFIED
    account.verified_at = at
    account.verified_by = by
    account.decisions.append(Decision(action="verified", by=by, at=at, detail=detail))
    account._events.append(ev.account_verified(account))


def verify_account(account: Account, *, by: str, at: datetime, city: City | None = None) -> None:
    """Staff verify a pending account; an official's city must still be eligible."""
    if account.status == AccountStatus.VERIFIED:
        raise InvalidTransition(f"{account.name}'s account is already verified")
    if account.status == AccountStatus.DEACTIVATED:
        raise InvalidTransition(f"{account.name}'s account is deactivated; it cannot be verified")
    if account.status == AccountStatus.REJECTED:
        raise InvalidTransition(f"{account.name}'s sign-up was refused; reactivate it before verifying it")
    if account.kind == AccountKind.OFFICIAL and city is not None:
        eligibility = explain_eligibility(city)
        if not eligibility.eligible:
            raise CityNotEligible(
                f"{city.name}, {city.state} is no longer eligible. {eligibility.summary}",
                field="city_id",
                extra={"eligibility": eligibility.model_dump(mode="json")},
            )
    _verify(account, by=by, at=at)


def deactivate_account(account: Account, *, by: str, reason: str, at: datetime) -> None:
    if not reason or not reason.strip():
        raise DomainRuleError("deactivation needs a written reason", field="reason")
    if account.status == AccountStatus.DEACTIVATED:
        raise InvalidTransition(f"{account.name}'s account is already deactivated")
    account.status = AccountStatus.DEACTIVATED
    account.deactivated_at = at
    account.deactivated_by = by
    account.deactivation_reason = reason.strip()
    account.decisions.append(Decision(action="deactivated", by=by, at=at, detail=reason.strip()))
    account._events.append(ev.account_deactivated(account, by=by, reason=reason.strip(), at=at))


def grant_role(
    account: Account, role: StaffRole | PartnerRole, *, expertise: list[Expertise] | None = None, by: str,
    at: datetime
) -> None:
    """Grant a staff role, or a partner member's role. Granting subject_matter_expert again with other
    areas replaces the areas."""
    if isinstance(role, PartnerRole) != (account.kind == AccountKind.PARTNER_MEMBER):
        raise DomainRuleError(f"this role is not one for {_KIND_WORDS.get(account.kind, 'this account')}", field="role")
    if account.kind not in (AccountKind.STAFF, AccountKind.PARTNER_MEMBER):
        raise DomainRuleError(f"roles are for staff and partner organization members; {account.name} is {_KIND_WORDS.get(account.kind, 'neither')}", field="role")
    if account.status == AccountStatus.DEACTIVATED:
        raise InvalidTransition(f"{account.name}'s account is deactivated")
    areas = _sorted_unique(expertise or [])
    if role == StaffRole.SUBJECT_MATTER_EXPERT:
        if not areas:
            raise DomainRuleError("a subject-matter expert needs at least one area of expertise", field="expertise")
        if role in account.roles and areas == account.expertise:
            raise Conflict(f"{account.name} is already a subject-matter expert in these areas", field="role")
        account.expertise = areas
    else:
        if areas:
            raise DomainRuleError("areas of expertise belong to the subject_matter_expert role", field="expertise")
        if role in account.roles:
            raise Conflict(f"{account.name} already has this role", field="role")
    if role not in account.roles:
        account.roles = _sorted_unique([*account.roles, role])
    detail = f"{role}" + (f" ({', '.join(areas)})" if areas else "")
    account.decisions.append(Decision(action="role_granted", by=by, at=at, detail=detail))
    account._events.append(ev.role_granted(account, role, by=by, at=at))


def revoke_role(account: Account, role: StaffRole, *, by: str, at: datetime) -> None:
    if role not in account.roles:
        raise InvalidTransition(f"{account.name} does not have this role", field="role")
    account.roles = [r for r in account.roles if r != role]
    if role == StaffRole.SUBJECT_MATTER_EXPERT:
        account.expertise = []
    account.decisions.append(Decision(action="role_revoked", by=by, at=at, detail=str(role)))
    account._events.append(ev.role_revoked(account, role, by=by, at=at))


def _reason(text: str | None, what: str, field: str = "reason") -> str:
    text = (text or "").strip()
    if not text:
        raise DomainRuleError(f"{what} needs a written reason", field=field)
    return text


def reject_account(account: Account, *, by: str, reason: str, at: datetime) -> None:
    """Refuse a pending official (they do not work for the city they named, ...). The reason is what
    the official is told; the account can no longer sign in. Reactivating it makes it pending again."""
    reason = _reason(reason, "rejecting a sign-up")
    if account.kind != AccountKind.OFFICIAL or account.status != AccountStatus.PENDING:
        raise InvalidTransition(f"only an official waiting for verification can be rejected; this account is "
                                f"{account.status}")
    account.status = AccountStatus.REJECTED
    account.decisions.append(Decision(action="rejected", by=by, at=at, detail=reason))
    account._events.append(ev.account_rejected(account, by=by, reason=reason, at=at))


def request_information(account: Account, *, by: str, message: str, at: datetime) -> None:
    """Ask a pending official for more before verifying them (e-mailed to them); they stay pending."""
    message = _reason(message, "asking for more information", field="message")
    if account.kind != AccountKind.OFFICIAL or account.status != AccountStatus.PENDING:
        raise InvalidTransition(f"only an official waiting for verification can be asked for more; this account "
                                f"is {account.status}")
    account.decisions.append(Decision(action="information_requested", by=by, at=at, detail=message))
    account._events.append(ev.account_information_requested(account, by=by, message=message, at=at))


def reactivate_account(account: Account, *, by: str, reason: str | None, at: datetime) -> None:
    """A deactivated or rejected account may sign in again: verified if it had been verified, else
    pending (an official is then verified again by staff)."""
    if account.status not in (AccountStatus.DEACTIVATED, AccountStatus.REJECTED):
        raise InvalidTransition(f"{account.name}'s account is {_STATUS_WORDS.get(account.status, 'active')}; only a deactivated account "
                                "or a refused sign-up can be reactivated")
    reason = (reason or "").strip() or None
    account.status = AccountStatus.VERIFIED if account.verified_at is not None else AccountStatus.PENDING
    account.deactivated_at = account.deactivated_by = account.deactivation_reason = None
    account.decisions.append(Decision(action="reactivated", by=by, at=at, detail=reason))
    account._events.append(ev.account_reactivated(account, by=by, reason=reason, at=at))
