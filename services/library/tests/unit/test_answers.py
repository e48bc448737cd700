from datetime import datetime, timedelta, timezone

import pytest

from library.domain import answers as qa
from library.domain import review as rv
from library.domain.errors import InvalidInput, InvalidTransition
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


def _review(content, status="pending"):
    return rv.Review(review_id="rv-1", resource_id="qa-r-1", source="requests311", status=status, proposed=content,
                     content=content, created_at=T0, updated_at=T0)


def test_every_proposal_waits_for_a_curator_and_removals_do_not(redactor):
    named = qa.public_record(delivered(), redactor)
    s2 = qa.on_consent_changed(delivered(), request_id="r-1", consent="anonymous", at=T0 + timedelta(hours=1))
    anonymous = qa.public_record(s2, redactor, city_name="Flint")
    # first delivery: a review opens; nothing is published yet
    assert rv.next_step(named, pending=None, last_decided=None, published=False, narrowed=False) == \
        rv.Step(open_review=True)
    # redelivered while waiting: nothing new; a newer text replaces the waiting one
    assert rv.next_step(named, pending=_review(named), last_decided=None, published=False, narrowed=False) == rv.Step()
    assert rv.next_step(anonymous, pending=_review(named), last_decided=None, published=False,
                        narrowed=False) == rv.Step(replace_pending=True)
    # the text a curator approved, already public: nothing to ask again (events redelivered, request closed)
    assert rv.next_step(named, pending=None, last_decided=_review(named, "approved"), published=True,
                        narrowed=False) == rv.Step()
    # the text a curator rejected comes again: not asked again
    assert rv.next_step(named, pending=None, last_decided=_review(named, "rejected"), published=False,
                        narrowed=False) == rv.Step()
    # named -> anonymous on a published item: taken down at once, the anonymous text reviewed
    assert rv.next_step(anonymous, pending=None, last_decided=_review(named, "approved"), published=True,
                        narrowed=True) == rv.Step(unpublish=True, open_review=True)
    # consent withdrawn: the waiting review closes and the published item goes, without review
    assert rv.next_step(None, pending=_review(named), last_decided=None, published=True, narrowed=False) == \
        rv.Step(close_pending=True, unpublish=True)
    # withdrawn before anything was published or asked: nothing
    assert rv.next_step(None, pending=None, last_decided=None, published=False, narrowed=False) == rv.Step()


def test_a_curators_edits_and_decision_are_kept_with_who_and_when(redactor):
    r = _review(qa.public_record(delivered(), redactor))
    assert r.edit({"title": "Starting a land bank"}, by="cur-1", at=T0) == ["title"]
    assert r.edit({"title": "Starting a land bank"}, by="cur-1", at=T0) == []
    with pytest.raises(InvalidInput):
        r.edit({"audience": "staff"}, by="cur-1", at=T0)
    r.decide(False, by="cur-2", at=T0 + timedelta(minutes=5), reason="names a resident")
    assert (r.status, r.decided_by, r.decided_at, r.reason) == ("rejected", "cur-2", T0 + timedelta(minutes=5),
                                                                "names a resident")
    assert [h.action for h in r.history] == ["edited", "rejected"]
    with pytest.raises(InvalidTransition):
        r.decide(True, by="cur-2", at=T0)


def test_the_proposal_keeps_the_originals_and_counts_what_it_replaced(redactor):
    p = qa.proposal(delivered(), redactor)
    assert p.original["body"] == MEMO and "jane.doe@cityofflint.com" in p.original["body"]
    assert "jane.doe@cityofflint.com" not in p.content.body
    assert p.redactions["email"] >= 1 and p.redactions["phone"] >= 1 and p.redactions["name"] >= 1


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


def test_withdrawn_before_publication_proposes_nothing(redactor):
    s = qa.on_consent_changed(delivered(), request_id="r-1", consent="none", at=T0 + timedelta(hours=1))
    assert qa.proposal(s, redactor) is None


def test_consent_changed_to_named_brings_the_city_name(redactor):
    s = delivered(consent="anonymous", city_name=None)
    assert qa.public_record(s, redactor).related_cities == []
    s = qa.on_consent_changed(s, request_id="r-1", consent="named", at=T0 + timedelta(hours=1), city_name="Flint")
    assert qa.public_record(s, redactor).related_cities == ["Flint"]


def test_the_questions_reference_is_a_keyword_of_its_public_record(redactor):
    """People quote "NRN-2026-00123": the library finds the answered question by it."""
    submitted = qa.on_question_submitted(None, request_id="r-1", city_id="c-flint", title="t", question="q",
                                         topic="housing", consent="anonymous", at=T0 - timedelta(days=3),
                                         reference="NRN-2026-00123")
    record = qa.public_record(delivered(consent="anonymous", state=submitted), redactor)
    assert record is not None and "NRN-2026-00123" in record.tags
    assert "NRN-2026-00123" not in qa.public_record(delivered(consent="anonymous"), redactor).tags
