"""Peer's registration events: the registrant alone is told where they stand — registered, on the
waitlist at a position, a place held until a time (the venue's), cancelled with the reason — and
when a convening is cancelled every registrant is told, each by the event addressed to them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nrn_contracts.events import accounts as acc
from nrn_contracts.events import peer

from .conftest import running_service  # noqa: F401  (pytest's importlib mode resolves the package)


async def test_registrants_are_told_where_they_stand_and_nobody_else(svc, first) -> None:  # noqa: ANN001
    at = datetime.now(UTC)
    starts = datetime(2027, 4, 14, 13, 30, tzinfo=UTC)  # 8:30 in Chattanooga (CDT)
    about = {"convening_id": "cnv-1", "convening_title": "NRN Peer Convening 2027", "convening_starts_at": starts,
             "timezone": "America/Chicago", "at": at}
    people = [acc.AccountRegistered(account_id=a, kind="official", email=f"{a}@city.example", name=n, city_id=c,
                                    status="verified")
              for a, n, c in (("off-1", "Fran", "city-flint"), ("off-2", "Yolanda", "city-youngstown"),
                              ("off-3", "Gail", "city-gary"))]
    await svc.publish(*people)
    await svc.eventually(lambda: svc.db.people.find_one({"_id": "off-3"}))
    await svc.publish(
        peer.RegistrationConfirmed(registration_id="r1", account_id="off-1", city_id="city-flint", **about),
        peer.RegistrationWaitlisted(registration_id="r2", account_id="off-2", city_id="city-youngstown", position=1,
                                    **about),
        source="/nrn/peer")
    confirmed = await svc.eventually(lambda: first(svc, "off-1@city.example", "You are registered"))
    text = confirmed.message.get_body(("plain",)).get_content()
    assert "NRN Peer Convening 2027" in text and "8:30 AM CDT" in text and "/convenings/cnv-1" in text
    waitlisted = await svc.eventually(lambda: first(svc, "off-2@city.example", "You are on the waitlist"))
    assert "number 1 on the waitlist" in waitlisted.message.get_body(("plain",)).get_content()

    await svc.publish(
        peer.RegistrationCancelled(registration_id="r1", account_id="off-1", city_id="city-flint",
                                   previous_status="confirmed", reason="by_registrant", by="off-1", **about),
        peer.WaitlistPromoted(registration_id="r2", account_id="off-2", city_id="city-youngstown",
                              hold_until=at.replace(microsecond=0) + timedelta(hours=48), **about),
        source="/nrn/peer")
    held = await svc.eventually(lambda: first(svc, "off-2@city.example", "A place is held for you"))
    assert "Confirm it by then" in held.message.get_body(("plain",)).get_content()

    # the convening is cancelled: the one still registered is told why
    await svc.publish(peer.RegistrationCancelled(registration_id="r2", account_id="off-2", city_id="city-youngstown",
                                                 previous_status="offered", reason="convening_cancelled", by="pm-1",
                                                 **about), source="/nrn/peer")
    gone = await svc.eventually(lambda: first(svc, "off-2@city.example", "Registration cancelled"))
    assert "the convening itself was cancelled" in gone.message.get_body(("plain",)).get_content()
    assert svc.smtp.to("off-3@city.example") == []
    notices = await svc.notices("off-2", "official")
    assert len(notices["items"]) == 3
