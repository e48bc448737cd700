"""Working groups and the committee (members, terms, deliverable review), introductions
(suggestions and their reasons, answers, what each city sees), and the agenda's .ics."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest

from peer.domain.actors import Actor
from peer.domain.calendar import agenda_ics
from peer.domain.convening import AgendaSession
from peer.domain.errors import InvalidInput, NotAllowedNow, NotFound, NotPermitted
from peer.domain.groups import Deliverable, Group, Member
from peer.domain.introductions import AskedQuestion, CitySignals, Introduction, reason_for, suggest

from peer.testing import T0, convening

PM = Actor(id="pm-1", kind="staff", roles=frozenset({"program_manager"}))
SME = Actor(id="sme-1", kind="staff", roles=frozenset({"subject_matter_expert"}))
FLINT = Actor(id="off-1", kind="official", city_id="city-flint")
GARY = Actor(id="off-2", kind="official", city_id="city-gary")
NTIA = Actor(id="par-1", kind="partner_member", partner_id="ntia")


def group(kind: str = "working_group") -> Group:
    return Group(id="wg-1", kind=kind, name="Broadband Working Group", purpose="", topics=["broadband"],
                 created_by="pm-1", created_at=T0)


# ---------------------------------------------------------------------------- groups


def test_members_and_who_may_take_part() -> None:
    g = group()
    g.add_member(Member("city", "city-flint", "Flint, MI", city_id="city-flint"))
    with pytest.raises(NotAllowedNow) as twice:
        g.add_member(Member("city", "city-flint", "Flint, MI", city_id="city-flint"))
    assert twice.value.rule == "already_a_member"
    with pytest.raises(NotAllowedNow) as no_city:
        g.add_member(Member("official", "off-2", "Gail", city_id="city-gary"))
    assert no_city.value.rule == "city_not_a_member"
    g.add_member(Member("partner_expert", "par-1", "Nia", organization="NTIA"))
    assert g.may_take_part(FLINT) and g.may_take_part(NTIA) and g.may_take_part(SME)
    assert not g.may_take_part(GARY)
    g.remove_member("city", "city-flint", T0)
    assert not g.may_take_part(FLINT)


def test_committee_members_are_cities_with_terms_flagged_ahead() -> None:
    g = group("steering_committee")
    with pytest.raises(InvalidInput) as no_term:
        g.add_member(Member("city", "city-flint", "Flint, MI", city_id="city-flint"))
    assert no_term.value.rule == "term_required"
    with pytest.raises(InvalidInput):
        g.add_member(Member("official", "off-1", "Pat", city_id="city-flint"))
    m = Member("city", "city-flint", "Flint, MI", city_id="city-flint", term_starts_on=date(2025, 1, 1),
               term_ends_on=date(2027, 3, 31))
    g.add_member(m)
    notice = timedelta(days=90)
    assert m.term_status(date(2026, 12, 30), notice) == "serving"  # 91 days ahead
    assert m.term_status(date(2026, 12, 31), notice) == "ending_soon"  # 90 days ahead
    assert m.term_status(date(2027, 3, 31), notice) == "ending_soon"
    assert m.term_status(date(2027, 4, 1), notice) == "ended"


def test_deliverable_drafts_comments_review_and_publication() -> None:
    d = Deliverable(id="d-1", group_id="wg-1", title="Practical resource guide", summary="", topics=["broadband"],
                    created_by="pm-1", created_at=T0)
    with pytest.raises(NotAllowedNow) as nothing:
        d.submit()
    assert nothing.value.rule == "no_draft_to_review"
    d.add_draft("# Guide\n\nFirst draft.", FLINT, "Pat", T0)
    d.comment("Add the NTIA grant deadlines.", NTIA, "Nia", T0)
    assert d.comments[0].draft == 1
    d.submit()
    with pytest.raises(NotAllowedNow):
        d.add_draft("sneaky change in review", FLINT, "Pat", T0)
    with pytest.raises(NotPermitted):
        d.review(SME, approve=True, note="", name="S", now=T0)
    with pytest.raises(InvalidInput) as why:
        d.review(PM, approve=False, note=" ", name="P", now=T0)
    assert why.value.field == "note"
    d.review(PM, approve=False, note="Add the deadlines table.", name="P", now=T0)
    assert d.status == "drafting"
    d.add_draft("# Guide\n\nSecond draft with deadlines.", FLINT, "Pat", T0)
    d.submit()
    d.review(PM, approve=True, note="", name="P", now=T0)
    assert d.status == "published" and d.latest.number == 2 and d.approved_by == "pm-1"
    with pytest.raises(NotAllowedNow):
        d.comment("too late", FLINT, "Pat", T0)


# ---------------------------------------------------------------------------- introductions


def signals(cid: str, name: str, **kw: object) -> CitySignals:
    return CitySignals(city_id=cid, name=name, state="MI", **kw)  # type: ignore[arg-type]


def test_the_reason_says_why_in_words() -> None:
    a = signals("a", "Flint", peer_connections=True, barriers=["land_use", "housing"],
                questions=[AskedQuestion("land_use", "Tax-foreclosed vacant lots", 2026)])
    b = signals("b", "Saginaw", peer_connections=True, barriers=["land_use"],
                questions=[AskedQuestion("land_use", "Side-lot programs", 2026),
                           AskedQuestion("land_use", "Older question", 2024)])
    kind, text, _ = reason_for(a, b)
    assert kind == "similar_questions"
    assert text == ("Both asked 311 questions about land use and vacant property in 2026; both named land use among "
                    "their barriers; both asked to be connected with peer cities")
    assert reason_for(signals("c", "X"), signals("d", "Y")) is None
    # the same subject in different years is not "similar questions"
    assert reason_for(signals("e", "X", questions=[AskedQuestion("housing", "t", 2025)]),
                      signals("f", "Y", questions=[AskedQuestion("housing", "t", 2026)])) is None


def test_suggestions_strongest_first_and_never_a_pair_already_introduced() -> None:
    a = signals("a", "A", peer_connections=True, questions=[AskedQuestion("housing", "t", 2026)])
    b = signals("b", "B", peer_connections=True, questions=[AskedQuestion("housing", "t", 2026)])
    c = signals("c", "C", peer_connections=True)
    found = suggest([c, b, a])
    assert [(s.city_id, s.other_city_id) for s in found] == [("a", "b"), ("a", "c"), ("b", "c")]
    assert [(s.city_id, s.other_city_id) for s in suggest([a, b, c], exclude={frozenset(("a", "b"))})] == [
        ("a", "c"), ("b", "c")]


def intro() -> Introduction:
    return Introduction(id="i-1", city_ids=["city-flint", "city-gary"], reason_kind="staff", reason="Both …",
                        offered_by="pm-1", offered_at=T0)


CONTACT = {"contact": {"name": "Pat", "email": "pat@flint.example"}, "barriers": ["land use"], "note": "Hi"}


def test_each_city_sees_only_what_the_other_consented_to_and_only_once_both_accepted() -> None:
    i = intro()
    i.answer("city-flint", accepted=True, shares=["barriers"], shared=CONTACT, by="off-1", now=T0)
    assert i.status == "offered"
    assert i.shared_with("city-gary") == {}  # Gary has not accepted yet: it sees nothing of Flint
    i.answer("city-gary", accepted=True, shares=["contact", "note"], shared=CONTACT, by="off-2", now=T0)
    assert i.status == "accepted"
    assert i.shared_with("city-gary") == {"barriers": ["land use"]}  # not Flint's contact: not consented
    assert i.shared_with("city-flint") == {"contact": CONTACT["contact"], "note": "Hi"}
    with pytest.raises(NotFound):
        i.shared_with("city-youngstown")


def test_answers_are_once_per_city_and_a_decline_ends_it() -> None:
    i = intro()
    with pytest.raises(InvalidInput) as nothing:
        i.answer("city-flint", accepted=True, shares=[], shared={}, by="off-1", now=T0)
    assert nothing.value.field == "shares"
    with pytest.raises(NotFound):
        i.answer("city-youngstown", accepted=True, shares=["contact"], shared={}, by="off-9", now=T0)
    i.answer("city-flint", accepted=False, shares=["contact"], shared=CONTACT, by="off-1", now=T0)
    assert i.status == "declined" and i.answers["city-flint"].shared == {}
    with pytest.raises(NotAllowedNow):
        i.answer("city-gary", accepted=True, shares=["contact"], shared=CONTACT, by="off-2", now=T0)
    with pytest.raises(NotAllowedNow):
        i.record_meeting(date(2027, 1, 5))


def test_tracked_from_acceptance_to_meeting_and_outcome() -> None:
    i = intro()
    with pytest.raises(NotAllowedNow):
        i.record_meeting(date(2027, 1, 5))
    for city, who in (("city-flint", "off-1"), ("city-gary", "off-2")):
        i.answer(city, accepted=True, shares=["contact"], shared=CONTACT, by=who, now=T0)
    i.record_meeting(date(2027, 1, 5))
    i.record_outcome("Gary adopted Flint's side-lot program terms.", T0)
    assert (i.status, i.met_on) == ("closed", date(2027, 1, 5))


# ---------------------------------------------------------------------------- the agenda as .ics


def test_one_vevent_per_session_in_the_venue_zone() -> None:
    start = datetime(2027, 4, 14, 14, 0, tzinfo=UTC)  # 9:00 in Chicago (CDT)
    c = convening(timezone="America/Chicago", starts_at=start, ends_at=start + timedelta(days=1), sequence=2,
                  opens_at=start - timedelta(days=30), closes_at=start - timedelta(days=1), sessions=[
                      AgendaSession("open", "Opening plenary", start, start + timedelta(hours=1), track="Plenary",
                                    speakers=["Mayor Andy Berke"]),
                      AgendaSession("bb", "Broadband roundtable", start + timedelta(hours=2),
                                    start + timedelta(hours=3), room="Room B")])
    cal = icalendar.Calendar.from_ical(agenda_ics(c, now=T0))
    events = cal.walk("VEVENT")
    assert len(events) == 2
    first = events[0]
    assert first["DTSTART"].params["TZID"] == "America/Chicago"
    assert first.decoded("DTSTART").replace(tzinfo=None) == datetime(2027, 4, 14, 9, 0)
    assert first.decoded("DTSTART").astimezone(UTC) == start
    assert str(first["UID"]) == "cnv-1.open@peer.nationalresourcenetwork.org"
    assert int(first["SEQUENCE"]) == 2 and "Mayor Andy Berke" in str(first["DESCRIPTION"])
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["America/Chicago"]
    assert str(cal["METHOD"]) == "PUBLISH"


def test_a_cancelled_convening_exports_cancelled_events() -> None:
    c = convening(status="cancelled")
    cal = icalendar.Calendar.from_ical(agenda_ics(c, now=T0))
    (event,) = cal.walk("VEVENT")  # no sessions: the whole event
    assert str(event["STATUS"]) == "CANCELLED" and str(cal["METHOD"]) == "CANCEL"
