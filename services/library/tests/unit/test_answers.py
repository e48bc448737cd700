from datetime import datetime, timedelta, timezone

import pytest

from library.domain import answers as qa
from library.domain.redaction import Redactor

T0 = datetime(2026, 2, 1, 9, 0, tzinfo=timezone.utc)
MEMO = ("## Short answer\nYes. Flint can create a land bank by ordinance. Talk to Jane Doe "
        "(jane.doe@cityofflint.com, 810-555-0142).\n\n## Options\nGenesee County Land Bank Authority is a model.")


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return Redactor()


def delivered(consent="named", city_name="Flint", at=T0, state=None):
    return qa.on_memo_delivered(state, request_id="r-1", city_id="c-flint", topic="housing",
                                title="Can Flint start a land bank?", question="Mayor Karen Weaver asks: can Flint "
                                "start a land bank for vacant homes?", short_answer="Yes, by ordinance; Flint should "
                                "start small.", memo_markdown=MEMO, consent=consent, city_name=city_name, at=at)


def test_no_consent_nothing_published(redactor):
    assert qa.public_record(delivered(consent="none"), redactor) is None


def test_no_memo_nothing_published(redactor):
    s = qa.on_question_submitted(None, request_id="r-1", city_id="c", title="t", question="q", topic="housing",
                                 consent="named", at=T0)
    assert qa.public_record(s, redactor) is None


def test_named_consent_keeps_city_and_redacts_people(redactor):
    rec = qa.public_record(delivered(), redactor)
    assert rec is not None and rec.type == "answered_question"
    assert rec.related_cities == ["Flint"]
    assert "Flint" in rec.title and "Flint" in rec.body
    for secret in ("Jane Doe", "jane.doe@cityofflint.com", "810-555-0142", "Karen Weaver"):
        assert secret not in rec.body and secret not in (rec.question or "")
    assert rec.summary.startswith("Yes, by ordinance")
    assert rec.topics == ["housing"] and rec.publication_date == T0.date()


def test_anonymous_consent_hides_city_everywhere(redactor):
    rec = qa.public_record(delivered(consent="anonymous", city_name=None), redactor, city_name="Flint")
    assert rec is not None and rec.related_cities == []
    for text in (rec.title, rec.summary, rec.body, rec.question):
        assert "Flint" not in text
    assert "[city]" in rec.body
    assert "Genesee County Land Bank Authority" in rec.body  # organisations stay


def test_plan_publish_update_withdraw(redactor):
    s = delivered()
    rec = qa.public_record(s, redactor)
    p = qa.plan(rec, None)
    assert p.action == "publish"
    r = qa.apply_plan(p, None, request_id="r-1", at=T0)
    assert r.resource_id == "qa-r-1" and r.status == "published"
    assert r.origin == {"kind": "requests311", "request_id": "r-1"}
    # same record again: nothing to do (redelivered event)
    assert qa.plan(qa.public_record(s, redactor), r).action == "none"
    # named -> anonymous: updated without the name
    s2 = qa.on_consent_changed(s, request_id="r-1", consent="anonymous", at=T0 + timedelta(hours=1))
    p2 = qa.plan(qa.public_record(s2, redactor), r)
    assert p2.action == "update"
    qa.apply_plan(p2, r, request_id="r-1", at=T0 + timedelta(hours=1))
    assert "Flint" not in r.content.body and r.status == "published"
    # withdrawn
    s3 = qa.on_consent_changed(s2, request_id="r-1", consent="none", at=T0 + timedelta(hours=2))
    p3 = qa.plan(qa.public_record(s3, redactor), r)
    assert p3.action == "withdraw"
    qa.apply_plan(p3, r, request_id="r-1", at=T0 + timedelta(hours=2))
    assert r.status == "archived" and "land bank" not in (r.content.body or "")
    # given again: published again
    s4 = qa.on_consent_changed(s3, request_id="r-1", consent="named", at=T0 + timedelta(hours=3))
    p4 = qa.plan(qa.public_record(s4, redactor), r)
    assert p4.action == "publish"
    qa.apply_plan(p4, r, request_id="r-1", at=T0 + timedelta(hours=3))
    assert r.status == "published" and "Flint" in r.content.body
    assert [c.action for c in r.history] == ["created", "published", "edited", "withdrawn", "published"]


def test_older_consent_arriving_late_does_not_override(redactor):
    s = qa.on_consent_changed(delivered(), request_id="r-1", consent="none", at=T0 + timedelta(days=1))
    s = qa.on_consent_changed(s, request_id="r-1", consent="named", at=T0 + timedelta(hours=1))
    assert s.consent == "none"
    assert qa.public_record(s, redactor) is None


def test_events_in_any_order_give_the_same_record(redactor):
    sub = dict(request_id="r-1", city_id="c-flint", title="Submitted title", question="Submitted question",
               topic="housing", consent="named", at=T0 - timedelta(days=10))
    a = qa.on_question_submitted(delivered(), **sub)
    b = delivered(state=qa.on_question_submitted(None, **sub))
    a = qa.on_request_closed(a, request_id="r-1", at=T0 + timedelta(days=3))
    b = qa.on_request_closed(b, request_id="r-1", at=T0 + timedelta(days=3))
    assert qa.public_record(a, redactor) == qa.public_record(b, redactor)
    assert a.closed_at == b.closed_at


def test_withdrawn_before_publication_does_nothing(redactor):
    s = qa.on_consent_changed(delivered(), request_id="r-1", consent="none", at=T0 + timedelta(hours=1))
    assert qa.plan(qa.public_record(s, redactor), None).action == "none"


def test_consent_changed_to_named_brings_the_city_name(redactor):
    s = delivered(consent="anonymous", city_name=None)
    assert qa.public_record(s, redactor).related_cities == []
    s = qa.on_consent_changed(s, request_id="r-1", consent="named", at=T0 + timedelta(hours=1), city_name="Flint")
    assert qa.public_record(s, redactor).related_cities == ["Flint"]
