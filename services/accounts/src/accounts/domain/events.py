"""Builders of the contract events the accounts domain raises (nrn_contracts.events.accounts)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from nrn_contracts.events import accounts as c

from .cities import City, ExceptionRecord, Indicator, explain_eligibility

if TYPE_CHECKING:
    from .people import Account, Partner


def _indicator(ind: Indicator | None) -> c.Indicator | None:
    return None if ind is None else c.Indicator(value=ind.value, year=ind.year, source=ind.source)


def city_registered(city: City) -> c.CityRegistered:
    return c.CityRegistered(
        city_id=city.city_id,
        name=city.name,
        state=city.state,
        fips=city.fips_place_code,
        population=city.population or 0,
        time_zone=city.time_zone,
    )


def city_indicators_updated(city: City) -> c.CityIndicatorsUpdated:
    ind = city.indicators
    return c.CityIndicatorsUpdated(
        city_id=city.city_id,
        unemployment_rate=_indicator(ind.unemployment_rate),
        adult_poverty_rate=_indicator(ind.adult_poverty_rate),
        population_change_2000_2010=_indicator(ind.population_change_2000_2010),
    )


def city_eligibility_determined(city: City) -> c.CityEligibilityDetermined:
    e = explain_eligibility(city)
    return c.CityEligibilityDetermined(
        city_id=city.city_id,
        eligible=e.eligible,
        reasons=tuple(
            c.EligibilityReason(test=r.test, passed=r.passed, value=r.value, threshold=r.threshold) for r in e.reasons
        ),
        exception=e.basis == "exception",
    )


def exception_granted(city: City, record: ExceptionRecord) -> c.EligibilityExceptionGranted:
    return c.EligibilityExceptionGranted(city_id=city.city_id, reason=record.reason, by=record.by, at=record.at)


def exception_revoked(city: City, record: ExceptionRecord) -> c.EligibilityExceptionRevoked:
    return c.EligibilityExceptionRevoked(city_id=city.city_id, reason=record.reason, by=record.by, at=record.at)


def public_status(account: Account) -> str:
    """The account's status in the contracts' words (pending, verified, deactivated). Widening that enum
    would break the events' consumers, so to other services a rejected sign-up is deactivated: it cannot
    act. Every event that carries a status takes it from here."""
    return "deactivated" if account.status == "rejected" else str(account.status)


def account_registered(account: Account) -> c.AccountRegistered:
    return c.AccountRegistered(
        account_id=account.account_id,
        kind=account.kind.value,
        email=account.email,
        name=account.name,
        title=account.title,
        city_id=account.city_id,
        partner_id=account.partner_id,
        status=public_status(account),
    )


def account_verified(account: Account) -> c.AccountVerified:
    assert account.verified_by is not None and account.verified_at is not None
    return c.AccountVerified(
        account_id=account.account_id, city_id=account.city_id, by=account.verified_by, at=account.verified_at
    )


def account_deactivated(account: Account, *, by: str, reason: str, at: datetime) -> c.AccountDeactivated:
    return c.AccountDeactivated(account_id=account.account_id, reason=reason, by=by, at=at)


def account_rejected(account: Account, *, by: str, reason: str, at: datetime) -> c.AccountRejected:
    return c.AccountRejected(account_id=account.account_id, city_id=account.city_id, reason=reason, by=by, at=at)


def account_information_requested(account: Account, *, by: str, message: str,
                                  at: datetime) -> c.AccountInformationRequested:
    return c.AccountInformationRequested(account_id=account.account_id, city_id=account.city_id, message=message,
                                         by=by, at=at)


def account_reactivated(account: Account, *, by: str, reason: str | None, at: datetime) -> c.AccountReactivated:
    return c.AccountReactivated(account_id=account.account_id, status=public_status(account), reason=reason, by=by,
                                at=at)


def role_granted(account: Account, role: str, *, by: str, at: datetime) -> c.RoleGranted:
    expertise = tuple(account.expertise) if role == "subject_matter_expert" else ()
    return c.RoleGranted(account_id=account.account_id, role=str(role), expertise=expertise, by=by, at=at)


def role_revoked(account: Account, role: str, *, by: str, at: datetime) -> c.RoleRevoked:
    return c.RoleRevoked(account_id=account.account_id, role=str(role), by=by, at=at)


def partner_registered(partner: Partner) -> c.PartnerRegistered:
    return c.PartnerRegistered(
        partner_id=partner.partner_id, name=partner.name, kind=partner.kind.value, website=partner.website
    )


def mailbox_confirmation_requested(account: Account, *, token: str, expires_at: datetime) -> c.MailboxConfirmationRequested:
    return c.MailboxConfirmationRequested(
        account_id=account.account_id, email=account.email, name=account.name, token=token, expires_at=expires_at
    )


def password_reset_requested(
    account: Account, *, token: str, expires_at: datetime, purpose: str = "reset"
) -> c.PasswordResetRequested:
    return c.PasswordResetRequested(
        account_id=account.account_id, email=account.email, name=account.name, token=token, expires_at=expires_at,
        purpose=purpose,
    )


def mailbox_confirmed(account: Account, *, at: datetime) -> c.MailboxConfirmed:
    return c.MailboxConfirmed(account_id=account.account_id, email=account.email, at=at)


def password_changed(account: Account, *, via: str, at: datetime) -> c.PasswordChanged:
    return c.PasswordChanged(account_id=account.account_id, via=via, at=at)


# --- latest state (compacted topics) ----------------------------------------------------------
# After any change of a city or an account, its whole current state is published on its compacted
# topic (key: its id), in the same transaction as the change's own events: a consumer that reads
# those topics from the start knows every city and account as they are now.


def city_state(city: City, at: datetime) -> c.CityStateChanged:
    e = explain_eligibility(city)
    ind = city.indicators
    return c.CityStateChanged(
        city_id=city.city_id, name=city.name, state=city.state, fips=city.fips_place_code,
        population=city.population or 0, unemployment_rate=_indicator(ind.unemployment_rate),
        adult_poverty_rate=_indicator(ind.adult_poverty_rate),
        population_change_2000_2010=_indicator(ind.population_change_2000_2010),
        eligible=e.eligible, exception=e.basis == "exception", time_zone=city.time_zone, as_of=at,
    )


def account_state(account: Account, at: datetime) -> c.AccountStateChanged:
    return c.AccountStateChanged(
        account_id=account.account_id, kind=account.kind.value, status=public_status(account),
        city_id=account.city_id, partner_id=account.partner_id, roles=tuple(sorted(str(r) for r in account.roles)),
        as_of=at,
    )
