"""Calendar invitations through the real SMTP server: a VEVENT in the city's zone, then the same
UID with a higher SEQUENCE when the call moves, and METHOD:CANCEL when it is withdrawn."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from icalendar import Calendar
from nrn_contracts.events import requests311 as r311

from notifications.testing import later, question_submitted


def invitation(received) -> Calendar:  # noqa: ANN001
    msg = received.message
    inline = next(p for p in msg.walk() if p.get_content_type() == "text/calendar")
    attached = next(p for p in msg.iter_attachments() if p.get_content_type() == "application/ics")
    assert inline.get_param("method") == Calendar.from_ical(inline.get_content()).get("method")
    assert attached.get_payload(decode=True) == inline.get_content().encode()
    return Calendar.from_ical(attached.get_payload(decode=True))


def vevent(cal: Calendar):  # noqa: ANN201
    (event,) = cal.walk("VEVENT")
    return event


async def test_booked_moved_and_cancelled_call_replaces_the_same_calendar_entry(svc, first) -> None:
    start = later(days=3).replace(hour=15, minute=0, second=0)
    await svc.publish(
        question_submitted(),
        r311.ExpertAssigned(request_id="req-1", expert_id="exp-1", by="lead-1", at=later()),
        r311.CallScheduled(request_id="req-1", call_id="c1", scheduled_for=start, duration_minutes=45,
                           expert_id="exp-1", by="off-1", at=later()))
    booked_official = await svc.eventually(lambda: first(svc, "olive@flint.example", "Call booked"))
    booked_expert = await svc.eventually(lambda: first(svc, "exp-1@nrn.example", "Call booked"))
    cal = invitation(booked_official)
    assert str(cal["method"]) == "REQUEST"
    ev = vevent(cal)
    uid = str(ev["uid"])
    assert int(ev["sequence"]) == 0 and str(ev["status"]) == "CONFIRMED"
    # in Flint's zone, with its VTIMEZONE, the same instant as the event's
    assert ev["dtstart"].params["TZID"] == "America/Detroit"
    assert ev["dtstart"].dt.tzinfo is not None and ev["dtstart"].dt == start
    assert (ev["dtend"].dt - ev["dtstart"].dt).total_seconds() == 45 * 60
    assert [str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")] == ["America/Detroit"]
    assert {str(a) for a in ev.get("attendee")} == {"mailto:olive@flint.example", "mailto:exp-1@nrn.example"}
    assert str(vevent(invitation(booked_expert))["uid"]) == uid
    local = start.astimezone(ZoneInfo("America/Detroit"))
    assert f"{(local.hour % 12) or 12}:{local:%M %p}" in booked_official.message.get_body(("plain",)).get_content()

    # missed, then booked again: the same entry at its new time
    moved = later(days=5).replace(hour=16, minute=30, second=0)
    await svc.publish(
        r311.CallMissed(request_id="req-1", call_id="c1", missed_by="official", at=later()),
        r311.CallScheduled(request_id="req-1", call_id="c2", scheduled_for=moved, duration_minutes=30,
                           expert_id="exp-1", by="off-1", at=later()))
    update = await svc.eventually(lambda: first(svc, "olive@flint.example", "New time"))
    ev = vevent(invitation(update))
    assert str(ev["uid"]) == uid and int(ev["sequence"]) == 1 and ev["dtstart"].dt == moved

    # closed without the call having been held: the invitation is withdrawn
    await svc.publish(r311.CallMissed(request_id="req-1", call_id="c2", missed_by="official", at=later()),
                      r311.RequestClosed(request_id="req-1", city_id="mi-flint", reason="unresponsive",
                                         closed_at=later()))
    cancel = await svc.eventually(lambda: first(svc, "exp-1@nrn.example", "Call cancelled"))
    cal = invitation(cancel)
    ev = vevent(cal)
    assert str(cal["method"]) == "CANCEL" and str(ev["status"]) == "CANCELLED"
    assert str(ev["uid"]) == uid and int(ev["sequence"]) == 2

    # a call that was held is history: closing then withdraws nothing, and a new call is a new entry
    await svc.publish(
        r311.RequestReopened(request_id="req-1", reason="new questions", by="off-1", at=later()),
        r311.CallScheduled(request_id="req-1", call_id="c3", scheduled_for=later(days=9), duration_minutes=30,
                           expert_id="exp-1", by="off-1", at=later()),
        r311.CallCompleted(request_id="req-1", call_id="c3", completed_at=later(days=9)),
        r311.RequestClosed(request_id="req-1", city_id="mi-flint", reason="answered", closed_at=later(days=9)))
    await svc.eventually(lambda: _booked(svc, 2))
    uids = {str(vevent(invitation(r))["uid"]) for r in await _booked(svc, 2)}
    assert len(uids) == 2
    assert await svc.eventually(lambda: svc.db.follow_ups.find_one({"_id": "req-1", "state": "scheduled"}))
    cancels = [r for r in svc.smtp.to("olive@flint.example") if "cancelled" in str(r.message["Subject"])]
    assert len(cancels) == 1


async def _booked(svc, at_least: int) -> list:  # noqa: ANN001
    booked = [r for r in svc.smtp.to("olive@flint.example") if "Call booked" in str(r.message["Subject"])]
    return booked if len(booked) >= at_least else []


async def test_a_reschedule_moves_the_entry_and_the_citys_cancellation_withdraws_it(svc, first) -> None:
    start = later(days=3).replace(hour=15, minute=0, second=0)
    await svc.publish(
        question_submitted(),
        r311.ExpertAssigned(request_id="req-1", expert_id="exp-1", by="lead-1", at=later()),
        r311.CallScheduled(request_id="req-1", call_id="c1", scheduled_for=start, expert_id="exp-1", by="off-1",
                           at=later()),
        r311.CallRescheduleRequested(request_id="req-1", call_id="c1", reason="Council meets that day",
                                     preferred_call_times=("Thursday afternoons",), by="off-1", at=later()))
    asked = await svc.eventually(lambda: first(svc, "exp-1@nrn.example", "New call time wanted"))
    text = asked.message.get_body(("plain",)).get_content()
    assert "Council meets that day" in text and "Thursday afternoons" in text
    assert "https://nrn.example/staff/requests/req-1" in text
    booked = await svc.eventually(lambda: first(svc, "olive@flint.example", "Call booked"))
    uid = str(vevent(invitation(booked))["uid"])

    moved = later(days=6).replace(hour=19, minute=0, second=0)
    await svc.publish(r311.CallScheduled(request_id="req-1", call_id="c2", scheduled_for=moved, expert_id="exp-1",
                                         by="off-1", at=later()))
    update = await svc.eventually(lambda: first(svc, "exp-1@nrn.example", "New time"))
    ev = vevent(invitation(update))
    assert (str(ev["uid"]), int(ev["sequence"]), ev["dtstart"].dt) == (uid, 1, moved)

    await svc.publish(r311.CallCancelled(request_id="req-1", call_id="c2", reason="We found the answer in the memo",
                                         by="off-1", at=later()))
    cancel = await svc.eventually(lambda: first(svc, "olive@flint.example", "Call cancelled"))
    cal = invitation(cancel)
    ev = vevent(cal)
    assert (str(cal["method"]), str(ev["uid"]), int(ev["sequence"])) == ("CANCEL", uid, 2)
    assert "the city cancelled it" in cancel.message.get_body(("plain",)).get_content()
    # closing the request afterwards withdraws nothing more
    await svc.publish(r311.RequestClosed(request_id="req-1", reason="answered", closed_at=later()))
    await svc.eventually(lambda: svc.db.follow_ups.find_one({"_id": "req-1"}))
    assert len([r for r in svc.smtp.to("olive@flint.example") if "cancelled" in str(r.message["Subject"])]) == 1
