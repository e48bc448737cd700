"""Calendar invitations (RFC 5545 with iTIP methods, RFC 5546) built with ``icalendar``: the one builder
of .ics files (notifications mails them; the gateway serves the official's call as a download).

One call of a request is one calendar event: its UID stays the same when the call moves to
another time (a new ``CallScheduled`` after a missed call, or a reschedule), with SEQUENCE one
higher each time, so calendars replace the entry instead of adding a second one; a withdrawn
call is sent with METHOD:CANCEL, the same UID and a higher SEQUENCE. Times carry the city's TZID
with its VTIMEZONE, so the official reads the call in the city's own time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

PRODID = "-//SC2 National Resource Network//NRN//EN"


@dataclass(frozen=True)
class Attendee:
    name: str
    email: str


@dataclass(frozen=True)
class Invitation:
    uid: str
    sequence: int
    method: str  # "REQUEST" | "CANCEL"
    starts_at: datetime  # aware
    duration_minutes: int
    zone: str  # IANA, the city's
    summary: str
    description: str
    url: str
    organizer: Attendee
    attendees: tuple[Attendee, ...] = field(default_factory=tuple)
    stamp: datetime | None = None  # DTSTAMP: when this version of the invitation was made


def build_ics(inv: Invitation) -> bytes:
    """The invitation as an iCalendar object (bytes, CRLF line endings, lines folded at 75 octets)."""
    if inv.method not in ("REQUEST", "CANCEL"):
        raise ValueError(f"unsupported iTIP method {inv.method!r}")
    tz = ZoneInfo(inv.zone)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", inv.method)
    ev = Event()
    ev.add("uid", inv.uid)
    ev.add("sequence", inv.sequence)
    ev.add("dtstamp", (inv.stamp or datetime.now(ZoneInfo("UTC"))).astimezone(ZoneInfo("UTC")))
    start = inv.starts_at.astimezone(tz)
    ev.add("dtstart", start)
    ev.add("dtend", start + timedelta(minutes=inv.duration_minutes))
    ev.add("summary", inv.summary)
    ev.add("description", inv.description)
    ev.add("url", inv.url)
    ev.add("status", "CANCELLED" if inv.method == "CANCEL" else "CONFIRMED")
    ev.add("transp", "OPAQUE")
    organizer = vCalAddress(f"mailto:{inv.organizer.email}")
    organizer.params["cn"] = vText(inv.organizer.name)
    ev.add("organizer", organizer)
    for person in inv.attendees:
        attendee = vCalAddress(f"mailto:{person.email}")
        attendee.params["cn"] = vText(person.name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText("NEEDS-ACTION")
        attendee.params["rsvp"] = vText("FALSE")
        ev.add("attendee", attendee, encode=0)
    cal.add_component(ev)
    # The zone's rules around the call only: calendars need the offsets that apply to it.
    cal.add_missing_timezones(first_date=(start - timedelta(days=400)).date(),
                              last_date=(start + timedelta(days=400)).date())
    return cal.to_ical()
