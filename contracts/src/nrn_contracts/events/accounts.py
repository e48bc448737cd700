"""Events of the accounts service (topic ``nrn.accounts.v1``): cities, accounts, partners."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ..envelope import Event
from ..topics import ACCOUNTS_LATEST_TOPIC, ACCOUNTS_SECURITY_TOPIC, ACCOUNTS_TOPIC, CITIES_LATEST_TOPIC
from ..values import (
    Email,
    FiniteFloat,
    Fips,
    Id,
    Name,
    Reason,
    Slug,
    StateCode,
    TaxonomyTopic,
    Text,
    TimeZoneName,
    Title,
    Url,
    UtcDateTime,
    ValueObject,
)

_T = "org.nationalresourcenetwork.accounts."

AccountKind = Literal["official", "staff", "partner_member"]
# pending until staff (or the city's official email domain) verify it; deactivated is final.
AccountStatus = Literal["pending", "verified", "deactivated"]
PartnerKind = Literal["consortium_member", "federal_agency"]
# NRN's three distress tests, named after the indicator each one reads.
EligibilityTest = Literal["unemployment_rate", "adult_poverty_rate", "population_change_2000_2010"]


class Indicator(ValueObject):
    """One measured indicator of a city, in percent (9.5 means 9.5 %; a loss is negative)."""

    value: FiniteFloat
    year: int = Field(ge=1900, le=2100)
    source: Name = Field(description="Where the figure comes from, e.g. 'ACS 2008-2012 5-year estimates'")


class EligibilityReason(ValueObject):
    """The outcome of one distress test."""

    test: EligibilityTest
    passed: bool
    value: FiniteFloat | None = Field(description="The indicator's value; null when the city has no figure")
    threshold: FiniteFloat


class CityRegistered(Event, type=_T + "city_registered.v1", topic=ACCOUNTS_TOPIC, key="city_id"):
    """A city became known to the network."""

    city_id: Id
    name: Name
    state: StateCode
    fips: Fips | None = None
    population: int = Field(ge=0)
    time_zone: TimeZoneName | None = Field(
        default=None, description="IANA time zone of the city, from its coordinates; published again when it changes")


class CityIndicatorsUpdated(Event, type=_T + "city_indicators_updated.v1", topic=ACCOUNTS_TOPIC, key="city_id"):
    """A city's distress indicators changed; an indicator the city has no figure for is null."""

    city_id: Id
    unemployment_rate: Indicator | None = None
    adult_poverty_rate: Indicator | None = None
    population_change_2000_2010: Indicator | None = None


class CityEligibilityDetermined(
    Event, type=_T + "city_eligibility_determined.v1", topic=ACCOUNTS_TOPIC, key="city_id"
):
    """The distress tests were (re)applied to a city. ``exception`` means staff granted eligibility anyway."""

    city_id: Id
    eligible: bool
    reasons: tuple[EligibilityReason, ...]
    exception: bool


class EligibilityExceptionGranted(
    Event, type=_T + "eligibility_exception_granted.v1", topic=ACCOUNTS_TOPIC, key="city_id"
):
    """Staff made a city eligible although it fails the distress tests."""

    city_id: Id
    reason: Reason
    by: Id = Field(description="account_id of the staff member")
    at: UtcDateTime


class EligibilityExceptionRequested(
    Event, type=_T + "eligibility_exception_requested.v1", topic=ACCOUNTS_TOPIC, key="city_id"
):
    """Someone for a city that fails the distress tests asked staff for an exception."""

    exception_request_id: Id
    city_id: Id
    reason: Reason
    lead_city_id: Id | None = Field(default=None, description="an eligible city leading a regional application")
    at: UtcDateTime


class EligibilityExceptionRequestDeclined(
    Event, type=_T + "eligibility_exception_request_declined.v1", topic=ACCOUNTS_TOPIC, key="city_id"
):
    """Staff answered an exception request with no."""

    exception_request_id: Id
    city_id: Id
    reason: Reason
    by: Id = Field(description="account_id of the staff member")
    at: UtcDateTime


class EligibilityExceptionRevoked(
    Event, type=_T + "eligibility_exception_revoked.v1", topic=ACCOUNTS_TOPIC, key="city_id"
):
    """Staff withdrew a city's eligibility exception."""

    city_id: Id
    reason: Reason
    by: Id = Field(description="account_id of the staff member")
    at: UtcDateTime


class AccountRegistered(Event, type=_T + "account_registered.v1", topic=ACCOUNTS_TOPIC, key="account_id"):
    """Someone registered. Officials carry their city, partner members their partner."""

    account_id: Id
    kind: AccountKind
    email: Email
    name: Name
    title: Title | None = None
    city_id: Id | None = None
    partner_id: Id | None = None
    status: AccountStatus


class AccountVerified(Event, type=_T + "account_verified.v1", topic=ACCOUNTS_TOPIC, key="account_id"):
    """The account may now act: staff confirmed that an official works for the city they named
    (``by`` is then a staff account_id, or ``system:official-email-domain`` when the email's domain
    is one the city registered), or staff created a staff or partner account (``city_id`` null)."""

    account_id: Id
    city_id: Id | None = None
    by: Id
    at: UtcDateTime


class AccountDeactivated(Event, type=_T + "account_deactivated.v1", topic=ACCOUNTS_TOPIC, key="account_id"):
    """An account can no longer sign in or act."""

    account_id: Id
    reason: Reason | None = None
    by: Id | None = Field(default=None, description="account_id of who deactivated it; null for the system")
    at: UtcDateTime


class AccountReactivated(Event, type=_T + "account_reactivated.v1", topic=ACCOUNTS_TOPIC, key="account_id"):
    """A deactivated or rejected account may sign in and act again. ``status`` is what it returns to:
    ``verified`` when it had been verified before, else ``pending`` (an official to be verified again)."""

    account_id: Id
    status: Literal["pending", "verified"]
    reason: Reason | None = None
    by: Id = Field(description="account_id of the staff member")
    at: UtcDateTime


class AccountRejected(Event, type=_T + "account_rejected.v1", topic=ACCOUNTS_TOPIC, key="account_id"):
    """Staff refused a pending official's sign-up (for example, they do not work for the city they
    named). The account cannot sign in; ``reason`` is what the official is told."""

    account_id: Id
    city_id: Id | None = None
    reason: Reason
    by: Id = Field(description="account_id of the staff member")
    at: UtcDateTime


class AccountInformationRequested(
    Event, type=_T + "account_information_requested.v1", topic=ACCOUNTS_TOPIC, key="account_id"
):
    """Staff need more before they can verify a pending official (``message``, emailed to them:
    for example a work telephone number or a colleague who can vouch for them). The account stays pending."""

    account_id: Id
    city_id: Id | None = None
    message: Reason
    by: Id = Field(description="account_id of the staff member")
    at: UtcDateTime


class RoleGranted(Event, type=_T + "role_granted.v1", topic=ACCOUNTS_TOPIC, key="account_id"):
    """A staff account received a role: administrator, program_manager, triage_lead,
    subject_matter_expert (with ``expertise``, the topics it can answer), reviewer or curator.
    Granting subject_matter_expert again with other topics replaces the topics."""

    account_id: Id
    role: Slug
    expertise: tuple[TaxonomyTopic, ...] = ()
    by: Id
    at: UtcDateTime


class RoleRevoked(Event, type=_T + "role_revoked.v1", topic=ACCOUNTS_TOPIC, key="account_id"):
    """An account lost a role."""

    account_id: Id
    role: Slug
    expertise: tuple[TaxonomyTopic, ...] = ()
    by: Id
    at: UtcDateTime


class PartnerRegistered(Event, type=_T + "partner_registered.v1", topic=ACCOUNTS_TOPIC, key="partner_id"):
    """A consortium member or federal agency joined as a partner."""

    partner_id: Id
    name: Name
    kind: PartnerKind
    website: Url | None = None
    description: Text | None = None
    contact_email: Email | None = None


# --- mailbox ownership and password reset ---------------------------------------------------
# The two *Requested events travel on ACCOUNTS_SECURITY_TOPIC, which only notifications reads:
# they carry the raw single-use link secret so that notifications can email it. accounts keeps
# only a hash of it; the secret expires (``expires_at``) and works once. Everything else about
# mailbox ownership (MailboxConfirmed) is an ordinary public fact on ACCOUNTS_TOPIC.

LinkSecret = Annotated[str, Field(min_length=20, max_length=256, pattern=r"^[A-Za-z0-9_-]{20,256}$",
                                  description="URL-safe single-use secret for the link")]


class MailboxConfirmationRequested(
    Event, type=_T + "mailbox_confirmation_requested.v1", topic=ACCOUNTS_SECURITY_TOPIC, key="account_id"
):
    """Send ``email`` a link that proves its owner reads it (at sign-up, or when asked again).
    The link is ``<public url>/confirm-email?token=<token>``; it works once, until ``expires_at``."""

    account_id: Id
    email: Email
    name: Name
    token: LinkSecret
    expires_at: UtcDateTime


class PasswordResetRequested(
    Event, type=_T + "password_reset_requested.v1", topic=ACCOUNTS_SECURITY_TOPIC, key="account_id"
):
    """Someone asked to reset the password of an existing, active account. Send ``email`` the
    link ``<public url>/reset-password?token=<token>``; it works once, until ``expires_at``.
    (Nothing is published for an address without an account: the API answers alike either way.)
    ``purpose`` is ``setup`` when an administrator created the account without a password: the
    same link then sets the first one (word the message as a welcome, not as a reset)."""

    account_id: Id
    email: Email
    name: Name
    token: LinkSecret
    expires_at: UtcDateTime
    purpose: Literal["reset", "setup"] = "reset"


class MailboxConfirmed(Event, type=_T + "mailbox_confirmed.v1", topic=ACCOUNTS_TOPIC, key="account_id"):
    """The owner of the account followed its confirmation link: ``email`` is proven theirs."""

    account_id: Id
    email: Email
    at: UtcDateTime


class PasswordChanged(Event, type=_T + "password_changed.v1", topic=ACCOUNTS_TOPIC, key="account_id"):
    """The account's password changed (reset link, or the person changed it signed in). Its owner
    is told, in case it was not them; existing sessions are revoked."""

    account_id: Id
    via: Literal["reset_link", "signed_in"]
    at: UtcDateTime


# --- latest state (compacted topics) ---------------------------------------------------------
# One record per city and per account, the newest: a consumer that reads these compacted topics
# from the start knows every city and account as they are now, without the whole history. Written
# by accounts' latest-state projector after each change of the aggregate on ACCOUNTS_TOPIC.


class CityStateChanged(Event, type=_T + "city_state_changed.v1", topic=CITIES_LATEST_TOPIC, key="city_id"):
    """A city's whole current state, after any change (registration, indicators, eligibility)."""

    city_id: Id
    name: Name
    state: StateCode
    fips: Fips | None = None
    population: int = Field(ge=0)
    unemployment_rate: Indicator | None = None
    adult_poverty_rate: Indicator | None = None
    population_change_2000_2010: Indicator | None = None
    eligible: bool | None = Field(default=None, description="null until the distress tests were applied")
    exception: bool = Field(default=False, description="eligible by a staff exception")
    time_zone: TimeZoneName | None = Field(default=None, description="IANA time zone of the city, from its coordinates")
    as_of: UtcDateTime = Field(description="time of the latest change folded in")


class AccountStateChanged(
    Event, type=_T + "account_state_changed.v1", topic=ACCOUNTS_LATEST_TOPIC, key="account_id"
):
    """An account's current state, after any change. Carries no name, email, phone or job title."""

    account_id: Id
    kind: AccountKind
    status: AccountStatus
    city_id: Id | None = None
    partner_id: Id | None = None
    roles: tuple[Slug, ...] = ()
    as_of: UtcDateTime = Field(description="time of the latest change folded in")
