"""People: official sign-up rules, staff roles and expertise, partners, and the decision record."""

from datetime import UTC, datetime, timedelta

import pytest

from accounts.domain.cities import City, Indicator, Indicators
from accounts.domain.errors import CityNotEligible, Conflict, DomainRuleError, InvalidTransition
from accounts.domain.people import (
    SYSTEM_OFFICIAL_DOMAIN,
    AccountStatus,
    Expertise,
    PartnerKind,
    StaffRole,
    add_partner_member,
    confirm_mailbox,
    create_partner,
    create_staff,
    deactivate_account,
    email_at_city_domain,
    grant_role,
    revoke_role,
    sign_up_official,
    verify_account,
)
from nrn_contracts.events import accounts as ev

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
LATER = NOW + timedelta(hours=3)


def eligible_city(**kw) -> City:
    return City(
        city_id="mi-flint",
        name="Flint",
        state="MI",
        population=102434,
        indicators=Indicators(unemployment_rate=Indicator(value=10.2, year=2013, source="BLS LAUS")),
        **kw,
    )


def ineligible_city() -> City:
    return City(
        city_id="il-naperville",
        name="Naperville",
        state="IL",
        population=141853,
        indicators=Indicators(unemployment_rate=Indicator(value=5.1, year=2013, source="BLS LAUS")),
    )


def official(city: City | None = None, email: str = "Jane.Doe@Example.org"):
    return sign_up_official(
        account_id="acc-1",
        name="Jane Doe",
        title="Director of Planning",
        email=email,
        phone="+1 810 555 0100",
        city=city or eligible_city(),
        password_hash="h",
        now=NOW,
    )


def staff(*roles: StaffRole, expertise=(), account_id="staff-1"):
    return create_staff(
        account_id=account_id,
        name="Sam Staff",
        title=None,
        email=f"{account_id}@nrn.example",
        phone=None,
        roles=list(roles),
        expertise=list(expertise),
        password_hash=None,
        by="admin-1",
        now=NOW,
    )


def test_official_signs_up_pending_for_an_eligible_city() -> None:
    account = official()
    assert account.status == AccountStatus.PENDING
    assert account.email == "jane.doe@example.org"
    assert account.city_id == "mi-flint"
    [registered] = account.pull_events()
    assert isinstance(registered, ev.AccountRegistered)
    assert (registered.kind, registered.status, registered.city_id) == ("official", "pending", "mi-flint")
    assert account.pull_events() == []


def test_ineligible_city_is_refused_with_the_reason() -> None:
    with pytest.raises(CityNotEligible) as info:
        official(ineligible_city())
    assert info.value.field == "city_id"
    assert "Naperville, IL is not eligible" in info.value.detail
    assert "5.1 %" in info.value.detail
    reasons = info.value.extra["eligibility"]["reasons"]
    assert [r["passed"] for r in reasons] == [False, False, False]


def test_an_address_at_the_official_domain_verifies_nothing_until_the_mailbox_is_confirmed() -> None:
    city = eligible_city(official_email_domains=["cityofflint.com"])
    account = official(city, email="jane@CityOfFlint.com")
    assert account.status == AccountStatus.PENDING and account.email_confirmed_at is None
    [registered] = account.pull_events()
    assert isinstance(registered, ev.AccountRegistered) and registered.status == "pending"
    assert email_at_city_domain(account, city) is True

    confirm_mailbox(account, at=LATER, city=city)
    assert account.email_confirmed_at == LATER
    assert (account.status, account.verified_by) == (AccountStatus.VERIFIED, SYSTEM_OFFICIAL_DOMAIN)
    confirmed, verified = account.pull_events()
    assert isinstance(confirmed, ev.MailboxConfirmed) and confirmed.email == "jane@cityofflint.com"
    assert isinstance(verified, ev.AccountVerified) and verified.city_id == "mi-flint"
    assert [d.action for d in account.decisions] == ["registered", "mailbox_confirmed", "verified"]
    # a second confirmation (a later link) records nothing new
    confirm_mailbox(account, at=LATER + timedelta(hours=1), city=city)
    assert account.pull_events() == [] and account.email_confirmed_at == LATER


@pytest.mark.parametrize("domain", ["xn--bcher-kva.example", "BÜCHER.example", "bu\u0308cher.example"])
def test_the_domain_rule_compares_canonical_domains(domain: str) -> None:
    city = eligible_city(official_email_domains=[domain])
    account = official(city, email="jo@bücher.example")
    confirm_mailbox(account, at=LATER, city=city)
    assert account.status == AccountStatus.VERIFIED


def test_a_confirmed_personal_address_stays_pending_for_staff() -> None:
    city = eligible_city(official_email_domains=["cityofflint.com"])
    account = official(city, email="jane@notcityofflint.com")
    assert email_at_city_domain(account, city) is False
    confirm_mailbox(account, at=LATER, city=city)
    assert account.status == AccountStatus.PENDING and account.email_confirmed_at == LATER


def test_a_confirmed_address_at_the_domain_of_a_city_no_longer_eligible_stays_pending() -> None:
    city = eligible_city(official_email_domains=["cityofflint.com"])
    account = official(city, email="jane@cityofflint.com")
    lost = city.model_copy(update={"indicators": ineligible_city().indicators})
    confirm_mailbox(account, at=LATER, city=lost)
    assert account.status == AccountStatus.PENDING


def test_lookalike_domain_does_not_verify() -> None:
    city = eligible_city(official_email_domains=["cityofflint.com"])
    account = official(city, email="jane@notcityofflint.com")
    confirm_mailbox(account, at=LATER, city=city)
    assert account.status == AccountStatus.PENDING


def test_staff_verification_is_recorded_with_who_and_when() -> None:
    account = official()
    account.pull_events()
    verify_account(account, by="pm-1", at=LATER, city=eligible_city())
    assert (account.status, account.verified_by, account.verified_at) == (AccountStatus.VERIFIED, "pm-1", LATER)
    assert account.decisions[-1].action == "verified" and account.decisions[-1].by == "pm-1"
    [event] = account.pull_events()
    assert isinstance(event, ev.AccountVerified) and (event.by, event.at) == ("pm-1", LATER)
    with pytest.raises(InvalidTransition):
        verify_account(account, by="pm-1", at=LATER)


def test_official_of_a_city_that_lost_eligibility_cannot_be_verified() -> None:
    account = official()
    with pytest.raises(CityNotEligible):
        verify_account(account, by="pm-1", at=LATER, city=ineligible_city())
    assert account.status == AccountStatus.PENDING


def test_deactivation_needs_a_reason_and_is_final() -> None:
    account = official()
    with pytest.raises(DomainRuleError):
        deactivate_account(account, by="admin-1", reason=" ", at=LATER)
    deactivate_account(account, by="admin-1", reason="Left the city's employ", at=LATER)
    assert account.status == AccountStatus.DEACTIVATED and not account.active
    event = account.pull_events()[-1]
    assert isinstance(event, ev.AccountDeactivated) and event.reason == "Left the city's employ"
    with pytest.raises(InvalidTransition):
        verify_account(account, by="pm-1", at=LATER)
    with pytest.raises(InvalidTransition):
        deactivate_account(account, by="admin-1", reason="again", at=LATER)


def test_staff_start_verified_with_their_roles_and_each_role_is_an_event() -> None:
    account = staff(StaffRole.TRIAGE_LEAD, StaffRole.SUBJECT_MATTER_EXPERT, expertise=[Expertise.HOUSING])
    assert account.status == AccountStatus.VERIFIED
    events = account.pull_events()
    assert [type(e).__name__ for e in events] == ["AccountRegistered", "AccountVerified", "RoleGranted", "RoleGranted"]
    sme = next(e for e in events if isinstance(e, ev.RoleGranted) and e.role == "subject_matter_expert")
    assert sme.expertise == ("housing",) and sme.by == "admin-1"


@pytest.mark.parametrize(
    ("roles", "expertise", "field"),
    [
        ([], [], "roles"),
        ([StaffRole.SUBJECT_MATTER_EXPERT], [], "expertise"),
        ([StaffRole.REVIEWER], [Expertise.FINANCE_BUDGETS], "expertise"),
    ],
)
def test_staff_role_rules(roles, expertise, field) -> None:
    with pytest.raises(DomainRuleError) as info:
        staff(*roles, expertise=expertise)
    assert info.value.field == field


def test_expertise_is_the_network_topic_taxonomy() -> None:
    from nrn_contracts.values import TOPIC_TAXONOMY

    assert {e.value for e in Expertise} == set(TOPIC_TAXONOMY)


def test_grant_and_revoke_roles() -> None:
    account = staff(StaffRole.REVIEWER)
    account.pull_events()
    grant_role(account, StaffRole.CURATOR, by="admin-1", at=LATER)
    assert account.roles == [StaffRole.CURATOR, StaffRole.REVIEWER]
    with pytest.raises(Conflict):
        grant_role(account, StaffRole.CURATOR, by="admin-1", at=LATER)

    grant_role(account, StaffRole.SUBJECT_MATTER_EXPERT, expertise=[Expertise.BROADBAND], by="admin-1", at=LATER)
    # granting the expert role again with other areas replaces the areas
    grant_role(
        account,
        StaffRole.SUBJECT_MATTER_EXPERT,
        expertise=[Expertise.BROADBAND, Expertise.HEALTH],
        by="admin-1",
        at=LATER,
    )
    assert account.expertise == [Expertise.BROADBAND, Expertise.HEALTH]

    revoke_role(account, StaffRole.SUBJECT_MATTER_EXPERT, by="admin-2", at=LATER)
    assert account.expertise == [] and StaffRole.SUBJECT_MATTER_EXPERT not in account.roles
    with pytest.raises(InvalidTransition):
        revoke_role(account, StaffRole.SUBJECT_MATTER_EXPERT, by="admin-2", at=LATER)

    events = account.pull_events()
    assert [type(e).__name__ for e in events] == ["RoleGranted", "RoleGranted", "RoleGranted", "RoleRevoked"]
    assert events[-1].by == "admin-2"
    assert [d.action for d in account.decisions][-4:] == ["role_granted", "role_granted", "role_granted", "role_revoked"]


def test_roles_are_for_staff_only() -> None:
    with pytest.raises(DomainRuleError) as info:
        grant_role(official(), StaffRole.ADMINISTRATOR, by="admin-1", at=LATER)
    assert info.value.field == "role"


def test_partner_and_its_members() -> None:
    partner = create_partner(
        partner_id="p-hud", name="HUD", kind=PartnerKind.FEDERAL_AGENCY, website="https://hud.gov", by="admin-1", now=NOW
    )
    [registered] = partner.pull_events()
    assert isinstance(registered, ev.PartnerRegistered) and registered.kind == "federal_agency"
    member = add_partner_member(
        account_id="acc-9",
        partner=partner,
        name="Pat Partner",
        title="Program Officer",
        email="pat@hud.gov",
        phone=None,
        password_hash=None,
        by="admin-1",
        now=NOW,
    )
    assert member.partner_id == "p-hud" and member.status == AccountStatus.VERIFIED
    assert member.kind == "partner_member" and member.roles == []


def test_a_partner_member_may_be_made_its_organizations_administrator() -> None:
    from datetime import UTC, datetime

    from accounts.domain import people
    from accounts.domain.errors import DomainRuleError

    now = datetime(2026, 11, 30, tzinfo=UTC)
    partner = people.create_partner(partner_id="ptn_1", name="HUD", kind=people.PartnerKind.FEDERAL_AGENCY,
                                    website=None, by="adm", now=now)
    admin = people.add_partner_member(account_id="acc_p1", partner=partner, name="Ada", title=None,
                                      email="ada@hud.gov", phone=None, password_hash=None, by="adm", now=now,
                                      administrator=True)
    assert admin.roles == [people.PartnerRole.PARTNER_ADMINISTRATOR]
    assert [type(e).__name__ for e in admin.pull_events()][-1] == "RoleGranted"
    member = people.add_partner_member(account_id="acc_p2", partner=partner, name="Bo", title=None,
                                       email="bo@hud.gov", phone=None, password_hash=None, by="adm", now=now)
    assert member.roles == []
    people.grant_role(member, people.PartnerRole.PARTNER_ADMINISTRATOR, by="adm", at=now)
    people.revoke_role(member, people.PartnerRole.PARTNER_ADMINISTRATOR, by="adm", at=now)
    # a staff role for a partner member, and the partner role for staff, are refused naming the field
    try:
        people.grant_role(member, people.StaffRole.CURATOR, by="adm", at=now)
        raise AssertionError("granted")
    except DomainRuleError as exc:
        assert exc.field == "role"
