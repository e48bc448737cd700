"""Peer's events: the registrant alone is told where they stand — registered (with their own calendar
invitation), on the waitlist at a position, a place held until a time (the venue's), cancelled with
the reason (the invitation withdrawn); a convening's new time reaches its registrants (the invitation
moved: same UID, higher SEQUENCE) and nobody else; a cancelled convening tells each registrant once,
with NRN's reason; a peer introduction reaches the officials of the two cities asked, not a third."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Calendar
from nrn_contracts.events import accounts as acc
from nrn_contracts.events import peer

from notifications.testing import CITY, OTHER_CITY

from .conftest import running_service  # noqa: F401  (pytest's importlib mode resolves the package)


def vevent(received):  # noqa: ANN001, ANN201
    """The message's one VEVENT and its METHOD, from the .ics attachment."""
    part = next(p for p in received.message.iter_attachments() if p.get_content_type() == "application/ics")
    cal = Calendar.from_ical(part.get_payload(decode=True))
    (event,) = cal.walk("VEVENT")
    return event, str(cal["method"])


def attachments(received) -> list[str]:  # noqa: ANN001
    return [p.get_content_type() for p in received.message.iter_attachments()]


async def test_registrants_are_told_where_they_stand_and_nobody_else(svc, first) -> None:  # noqa: ANN001
    at = datetime.now(UTC)
    starts = datetime(2027, 4, 14, 13, 30, tzinfo=UTC)  # 8:30 in Chattanooga (CDT)
    ends = starts + timedelta(hours=8)
    about = {"convening_id": "cnv-1", "convening_title": "NRN Peer Convening 2027", "convening_starts_at": starts,
             "timezone": "America/Chicago", "at": at}
    # off-1 (Flint) and off-2 (Gary) come from the fixture; off-3 of a third city registers for nothing
    await svc.publish(acc.CityRegistered(city_id="oh-youngstown", name="Youngstown", state="OH", population=60_000),
                      acc.AccountRegistered(account_id="off-3", kind="official", email="yolanda@youngstown.example",
                                            name="Yolanda", city_id="oh-youngstown", status="verified"))
    await svc.eventually(lambda: svc.db.people.find_one({"_id": "off-3"}))
    await svc.publish(
        peer.ConveningScheduled(convening_id="cnv-1", kind="annual_convening", title="NRN Peer Convening 2027",
                                starts_at=starts, ends_at=ends, location="Chattanooga Convention Center",
                                timezone="America/Chicago", capacity=1),
        peer.RegistrationConfirmed(registration_id="r1", account_id="off-1", city_id=CITY, **about),
        peer.RegistrationWaitlisted(registration_id="r2", account_id="off-2", city_id=OTHER_CITY, position=1, **about),
        source="/nrn/peer")
    confirmed = await svc.eventually(lambda: first(svc, "olive@flint.example", "You are registered"))
    text = confirmed.message.get_body(("plain",)).get_content()
    assert "NRN Peer Convening 2027" in text and "8:30 AM CDT" in text and "/convenings/cnv-1" in text
    invited, method = vevent(confirmed)
    uid = str(invited["uid"])
    assert method == "REQUEST" and int(invited["sequence"]) == 0 and invited["dtstart"].dt == starts
    assert invited["dtstart"].params["TZID"] == "America/Chicago"
    assert str(invited["attendee"]) == "mailto:olive@flint.example"  # hers alone: one ATTENDEE, no list
    waitlisted = await svc.eventually(lambda: first(svc, "gus@gary.example", "You are on the waitlist"))
    assert "number 1 on the waitlist" in waitlisted.message.get_body(("plain",)).get_content()
    assert attachments(waitlisted) == []  # no place, no calendar entry

    # a new day and place: the attendee's entry moves, the waitlisted person is told, nobody else is
    moved = starts + timedelta(days=1)
    await svc.publish(peer.ConveningUpdated(
        convening_id="cnv-1", kind="annual_convening", title="NRN Peer Convening 2027", starts_at=moved,
        ends_at=moved + timedelta(hours=8), location="Detroit, Huntington Place", timezone="America/Chicago",
        capacity=1, sequence=1, by="pm-1", at=at), source="/nrn/peer")
    update = await svc.eventually(lambda: first(svc, "olive@flint.example", "Changed: NRN Peer Convening 2027"))
    text = update.message.get_body(("plain",)).get_content()
    assert "The time and the place of NRN Peer Convening 2027" in text and "Thu, Apr 15, 2027, 8:30 AM CDT" in text and "Huntington" in text
    event, method = vevent(update)
    assert (str(event["uid"]), int(event["sequence"]), method) == (uid, 1, "REQUEST")
    assert event["dtstart"].dt == moved and str(event["location"]) == "Detroit, Huntington Place"
    told = await svc.eventually(lambda: first(svc, "gus@gary.example", "Changed:"))
    assert attachments(told) == []

    await svc.publish(
        peer.RegistrationCancelled(registration_id="r1", account_id="off-1", city_id=CITY,
                                   previous_status="confirmed", reason="by_registrant", by="off-1", **about),
        peer.WaitlistPromoted(registration_id="r2", account_id="off-2", city_id=OTHER_CITY,
                              hold_until=at.replace(microsecond=0) + timedelta(hours=48), **about),
        source="/nrn/peer")
    withdrawn = await svc.eventually(lambda: first(svc, "olive@flint.example", "Registration cancelled"))
    event, method = vevent(withdrawn)
    assert (str(event["uid"]), int(event["sequence"]), method) == (uid, 2, "CANCEL")
    held = await svc.eventually(lambda: first(svc, "gus@gary.example", "A place is held for you"))
    assert "Confirm it by then" in held.message.get_body(("plain",)).get_content()

    # the convening is cancelled: peer ends each registration, then cancels it — one message, with the reason
    await svc.publish(
        peer.RegistrationCancelled(registration_id="r2", account_id="off-2", city_id=OTHER_CITY,
                                   previous_status="offered", reason="convening_cancelled", by="pm-1", **about),
        peer.ConveningCancelled(convening_id="cnv-1", title="NRN Peer Convening 2027", reason="The venue flooded",
                                starts_at=moved, registrations_cancelled=1, by="pm-1", at=at),
        source="/nrn/peer")
    gone = await svc.eventually(lambda: first(svc, "gus@gary.example", "Cancelled: NRN Peer Convening 2027"))
    assert "The venue flooded" in gone.message.get_body(("plain",)).get_content()

    # an introduction: the officials of the two cities asked, each told of the other; not a third city
    await svc.publish(peer.IntroductionOffered(
        introduction_id="intro-1", city_id=CITY, other_city_id=OTHER_CITY, reason_kind="shared_barriers",
        reason="Both named vacant land among their barriers", by="pm-1", at=at), source="/nrn/peer")
    flint = await svc.eventually(lambda: first(svc, "olive@flint.example", "A peer introduction: Gary, IN"))
    assert "vacant land" in flint.message.get_body(("plain",)).get_content()
    assert "https://nrn.example/introductions" in flint.message.get_body(("plain",)).get_content()
    await svc.eventually(lambda: first(svc, "gus@gary.example", "A peer introduction: Flint, MI"))

    # pro bono: Flint's posting official and the volunteer are told of a match; the volunteer's name and
    # e-mail reach Flint only once both accepted
    await svc.publish(acc.AccountRegistered(account_id="vol-1", kind="partner_member", email="val@firm.example",
                                            name="Val Volunteer", partner_id="org-1", status="verified"))
    await svc.eventually(lambda: svc.db.people.find_one({"_id": "vol-1"}))
    match = {"match_id": "m1", "project_id": "p1", "city_id": CITY, "volunteer_id": "v1", "account_id": "vol-1",
             "at": at}
    await svc.publish(
        peer.ProjectPosted(project_id="p1", city_id=CITY, department="Planning", title="Vacant lot inventory",
                           problem="Map every vacant lot", skills=("gis",), hours_needed=40, starts_on=at.date(),
                           ends_on=(at + timedelta(days=90)).date(), work_mode="remote", by="off-1", at=at),
        peer.MatchProposed(**match, organization_id="org-1", score=0.9, reasons=("Maps land records in GIS",),
                           hours_agreed=40, proposed_by="staff", by="pm-1"),
        peer.MatchAccepted(**match, side="volunteer", status="awaiting_other", by="vol-1"),
        peer.MatchAccepted(**match, side="city", status="accepted", by="off-1"), source="/nrn/peer")
    await svc.eventually(lambda: first(svc, "val@firm.example", "Match confirmed: Vacant lot inventory"))
    proposed = await svc.eventually(lambda: first(svc, "olive@flint.example", "A volunteer proposed"))
    accepted = await svc.eventually(lambda: first(svc, "olive@flint.example", "Match accepted"))
    for received in (proposed, accepted):  # before both accepted: not named
        assert "Val" not in received.message.get_body(("plain",)).get_content()
    assert "https://nrn.example/probono/projects/p1" in accepted.message.get_body(("plain",)).get_content()

    assert svc.smtp.to("yolanda@youngstown.example") == []
    assert len(svc.smtp.to("gus@gary.example")) == 5  # nothing twice: no second cancellation message
    notices = await svc.notices("off-2", "official")
    assert len(notices["items"]) == 5
