"""The partners domain without I/O: patterns, the personal-data rule over every event type, agreements,
address classes, the schedule and what answers mean, URLs and filters, secrets and rotation."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from nrn_contracts import TOPICS
from nrn_contracts.events import accounts as acc
from nrn_contracts.events import requests311 as r311

from partners.config import DEFAULT_RETRY_SCHEDULE, Settings
from partners.domain import catalogue, privacy
from partners.domain.addresses import refusal
from partners.domain.agreements import Agreement, build
from partners.domain.endpoints import Endpoint, Filters, SigningSecret, check_url, rotate, webhook_id
from partners.domain.errors import InvalidInput
from partners.domain.schedule import Answer, Outcome, next_attempt, retry_after_seconds

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_partners_read_every_external_topic_and_never_the_security_topic() -> None:
    assert catalogue.external_topics() == sorted(n for n, t in TOPICS.items() if "partners" in t.consumers)
    assert "nrn.accounts.security.v1" not in catalogue.external_topics()
    types = catalogue.partner_event_types()
    assert acc.PasswordResetRequested.type not in types and acc.MailboxConfirmationRequested.type not in types
    assert r311.QuestionSubmitted.type in types


@pytest.mark.parametrize(("pattern", "event_type", "expected"), [
    ("*", r311.QuestionSubmitted.type, True),
    ("org.nationalresourcenetwork.requests311.*", r311.QuestionSubmitted.type, True),
    ("org.nationalresourcenetwork.requests311.*", acc.CityRegistered.type, False),
    ("org.nationalresourcenetwork.requests.*", r311.QuestionSubmitted.type, False),  # at a dot only
    (r311.QuestionSubmitted.type, r311.QuestionSubmitted.type, True),
    (r311.QuestionSubmitted.type, r311.QuestionTriaged.type, False),
])
def test_patterns(pattern: str, event_type: str, expected: bool) -> None:
    assert catalogue.matches(pattern, event_type) is expected


@pytest.mark.parametrize("bad", ["", "org.*.x", "ORG.X.*", "org.nationalresourcenetwork.nothing.*", "**", "a b"])
def test_bad_patterns_are_refused_naming_the_entry(bad: str) -> None:
    with pytest.raises(InvalidInput) as info:
        catalogue.check_patterns(["*", bad])
    assert info.value.field == "event_types.1"



@pytest.mark.parametrize("event_type", sorted(catalogue.partner_event_types()))
def test_every_field_that_names_a_person_is_personal(event_type: str) -> None:
    cls = catalogue.partner_event_types()[event_type]
    personal = privacy.personal_fields(cls)
    for name, info in cls.model_fields.items():
        meta = " ".join(str(m) for m in info.metadata) + str(info.annotation)
        looks_personal = ("@" in meta and "pattern" in meta) or name in ("email", "phone") or name.endswith(
            ("_by", "official_id", "account_id", "reviewer_id", "expert_id")) or name == "by"
        if looks_personal:
            assert name in personal, f"{cls.__name__}.{name} names a person but is not withheld"


def test_personal_fields_of_known_events() -> None:
    assert privacy.personal_fields(acc.AccountRegistered) == {"account_id", "email", "name", "title"}
    assert privacy.personal_fields(acc.CityRegistered) == frozenset()  # a city's name is not a person's
    assert privacy.personal_fields(r311.QuestionSubmitted) == {
        "official_id", "question", "context", "outcome_wanted", "preferred_call_times"}
    assert "comment" in privacy.personal_fields(r311.FeedbackReceived)


def test_allowed_fields_and_redaction() -> None:
    agreement = Agreement("p", fields={r311.QuestionSubmitted.type: ("request_id", "official_id", "nope")})
    assert agreement.fields_for(r311.QuestionSubmitted.type) == {"request_id"}
    assert agreement.fields_for(r311.QuestionTriaged.type) == set(r311.QuestionTriaged.model_fields) - {"by", "notes"}
    with_personal = Agreement("p", personal_data=True, fields=agreement.fields)
    assert with_personal.fields_for(r311.QuestionSubmitted.type) == {"request_id", "official_id"}
    ce = {"id": "1", "type": acc.AccountRegistered.type, "subject": "acc-1", "traceparent": "00-x",
          "data": {"account_id": "acc-1", "email": "a@b.org", "kind": "official"}}
    out = privacy.redact(ce, acc.AccountRegistered, Agreement("p").fields_for(acc.AccountRegistered.type))
    assert out == {"id": "1", "type": acc.AccountRegistered.type, "data": {"kind": "official"}}


def test_agreements_check_their_fields() -> None:
    with pytest.raises(InvalidInput) as info:
        build("p", event_types=[r311.QuestionSubmitted.type], fields={r311.QuestionSubmitted.type: ["nope"]},
              personal_data=False, filters=[], version=1, by="s", at=NOW)
    assert info.value.field == f"fields.{r311.QuestionSubmitted.type}"
    with pytest.raises(InvalidInput):
        build("p", event_types=["*"], fields=None, personal_data=False, filters=["city"], version=1, by="s", at=NOW)
    agreement = build("p", event_types=["org.nationalresourcenetwork.library.*"], fields=None, personal_data=False,
                      filters=["topic"], version=1, by="s", at=NOW)
    assert not agreement.allows_type(r311.QuestionSubmitted.type) and agreement.allows_type(catalogue.TEST_EVENT_TYPE)
    doc = agreement.to_doc()
    assert Agreement.from_doc(doc, "p") == agreement


@pytest.mark.parametrize(("address", "loopback_ok", "refused"), [
    ("8.8.8.8", False, False), ("2606:4700::1111", False, False),
    ("127.0.0.1", False, True), ("127.0.0.1", True, False), ("::1", True, False), ("::ffff:127.0.0.1", True, False),
    ("10.0.0.1", True, True), ("172.31.255.255", True, True), ("192.168.0.1", True, True),
    ("169.254.169.254", True, True), ("169.254.1.1", True, True), ("fe80::1", True, True),
    ("224.0.0.251", True, True), ("ff02::fb", True, True), ("0.0.0.0", True, True), ("::", True, True),
    ("100.64.0.1", True, True), ("192.0.2.1", True, True), ("fc00::1", True, True), ("fd00:ec2::254", True, True),
    ("::ffff:10.0.0.1", True, True), ("2002:0a00:0001::", True, True),  # 6to4 of 10.0.0.1
    ("64:ff9b::a9fe:a9fe", True, True),  # NAT64 of 169.254.169.254
    ("240.0.0.1", True, True), ("fe80::1%eth0", True, True), ("not-an-ip", True, True),
])
def test_address_classes(address: str, loopback_ok: bool, refused: bool) -> None:
    assert (refusal(address, allow_loopback=loopback_ok) is not None) is refused


def test_what_answers_mean() -> None:
    assert Answer(200).outcome == Outcome.succeeded and Answer(299).outcome == Outcome.succeeded
    assert Answer(410).outcome == Outcome.gone
    for status in (301, 302, 307, 308, 400, 404, 429, 500, 503):
        assert Answer(status).outcome == Outcome.failed
    assert "redirects are not followed" in Answer(302).explanation()
    assert Answer(None, "timed out").outcome == Outcome.failed


def test_schedule_with_jitter_and_retry_after() -> None:
    rng = random.Random(1)
    for made in range(1, len(DEFAULT_RETRY_SCHEDULE)):
        delay = DEFAULT_RETRY_SCHEDULE[made]
        nxt = next_attempt(made, NOW, DEFAULT_RETRY_SCHEDULE, jitter=0.1, rng=rng)
        assert delay * 0.9 <= (nxt.at - NOW).total_seconds() <= delay * 1.1
    assert next_attempt(len(DEFAULT_RETRY_SCHEDULE), NOW, DEFAULT_RETRY_SCHEDULE, jitter=0.1).give_up
    assert (next_attempt(1, NOW, DEFAULT_RETRY_SCHEDULE, jitter=0, retry_after=120).at - NOW).total_seconds() == 120
    assert (next_attempt(2, NOW, DEFAULT_RETRY_SCHEDULE, jitter=0, retry_after=10).at - NOW).total_seconds() == 300
    assert retry_after_seconds("30", NOW, cap=100) == 30 and retry_after_seconds("999", NOW, cap=100) == 100
    assert retry_after_seconds("Mon, 30 Nov 2026 12:02:00 GMT", NOW, cap=1000) == 120
    assert retry_after_seconds("soon", NOW, cap=100) is None


def test_settings_refuse_loopback_and_development_secrets_in_production() -> None:
    with pytest.raises(ValueError, match="SECRET_ENCRYPTION_KEY|secret_encryption_key"):
        Settings(environment="production")
    with pytest.raises(ValueError, match="ALLOW_LOOPBACK_ENDPOINTS"):
        Settings(environment="production", secret_encryption_key="x" * 40, allow_loopback_endpoints=True)
    assert Settings(environment="production", secret_encryption_key="x" * 40).retry_schedule_seconds[0] == 0


@pytest.mark.parametrize("url", ["http://partner.example/x", "https://10.0.0.1/x", "https://localhost/x",
                                 "https://u:p@partner.example/x", "https://partner.example:99999/x", "/relative",
                                 "https://partner.example/a b", "https://partner.example/a\tb",
                                 "https://partner.example/x\u00a0y"])
def test_urls_refused(url: str) -> None:
    with pytest.raises(InvalidInput) as info:
        check_url(url, allow_loopback=False)
    assert info.value.field == "url"


def test_rotation_keeps_the_old_secret_signing_for_the_grace_period() -> None:
    endpoint = Endpoint("ep", "p", "https://partner.example/x", None, ("*",), Filters(),
                        (SigningSecret("whsec_b2xk", NOW - timedelta(days=3)),))
    rotated, new = rotate(endpoint, now=NOW, grace=timedelta(hours=24))
    assert new.startswith("whsec_") and rotated.signing_secrets(NOW) == [new, "whsec_b2xk"]
    assert rotated.signing_secrets(NOW + timedelta(hours=25)) == [new]
    assert webhook_id("ep", "e1") == webhook_id("ep", "e1") != webhook_id("ep", "e2")
