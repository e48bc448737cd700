"""Calendar invitations (RFC 5545 with iTIP methods, RFC 5546) built with ``icalendar``: the one builder
of .ics files (notifications mails them; the gateway serves the official's call as a download; peer
serves a convening's agenda, one VEVENT per session, with :func:`build_agenda`).

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
    method: str  # "REQUEST" | "CANCEL" | "PUBLISH"
    starts_at: datetime  # aware
    duration_minutes: int
    zone: str  # IANA, the city's
    summary: str
    description: str
    url: str
    organizer: Attendee
    attendees: tuple[Attendee, ...] = field(default_factory=tuple)
    stamp: datetime | None = None  # DTSTAMP: when this version of the invitation was made
    location: str = ""  # LOCATION when set (a convening's venue); a call has none


def build_ics(inv: Invitation) -> bytes:
    """The invitation as an iCalendar object (bytes, CRLF line endings, lines folded at 75 octets).

    ``method``: REQUEST or CANCEL for invitations sent by e-mail; PUBLISH for a file a person downloads
    into their own calendar (no reply expected)."""
    if inv.method not in ("REQUEST", "CANCEL", "PUBLISH"):
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
    if inv.location:
        ev.add("location", inv.location)
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


@dataclass(frozen=True)
class AgendaItem:
    """One session of an agenda: its UID stays the same across versions of the agenda."""

    uid: str
    summary: str
    starts_at: datetime  # aware
    ends_at: datetime  # aware
    description: str = ""
    location: str = ""


def build_agenda(name: str, items: list[AgendaItem], *, zone: str, sequence: int, cancelled: bool,
                 stamp: datetime) -> bytes:
    """A published agenda (METHOD:PUBLISH; METHOD:CANCEL with every event cancelled when it was called
    off): one VEVENT per item in ``zone`` (TZID and its VTIMEZONE), SEQUENCE ``sequence`` on each."""
    tz = ZoneInfo(zone)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "CANCEL" if cancelled else "PUBLISH")
    cal.add("x-wr-calname", name)
    for item in items:
        ev = Event()
        ev.add("uid", item.uid)
        ev.add("dtstamp", stamp.astimezone(ZoneInfo("UTC")))
        ev.add("dtstart", item.starts_at.astimezone(tz))
        ev.add("dtend", item.ends_at.astimezone(tz))
        ev.add("summary", item.summary)
        if item.description:
            ev.add("description", item.description)
        if item.location:
            ev.add("location", item.location)
        ev.add("sequence", sequence)
        ev.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        cal.add_component(ev)
    if items:
        first = min(i.starts_at for i in items).astimezone(tz)
        last = max(i.ends_at for i in items).astimezone(tz)
        cal.add_missing_timezones(first_date=(first - timedelta(days=400)).date(),
                                  last_date=(last + timedelta(days=400)).date())
    return cal.to_ical()
