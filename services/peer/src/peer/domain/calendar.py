"""The agenda as an iCalendar file (RFC 5545), built with ``icalendar``.

One VEVENT per session, its DTSTART/DTEND in the venue's zone (``TZID``) with the matching
VTIMEZONE, UID stable per session so that a calendar replaces rather than duplicates the event on
a second download, and SEQUENCE from the convening (grows with every change). A convening
without sessions exports one VEVENT for the whole event. A cancelled convening exports its
events with STATUS:CANCELLED and METHOD:CANCEL, so a calendar that imports it removes them.
"""

from __future__ import annotations

from datetime import UTC, datetime

import icalendar

from .convening import Convening
from .venue_time import zone

PRODID = "-//SC2 National Resource Network//Peer convenings//EN"
UID_DOMAIN = "peer.nationalresourcenetwork.org"


def agenda_ics(c: Convening, *, now: datetime) -> bytes:
    """The convening's agenda as ``text/calendar`` bytes."""
    tz = zone(c.timezone)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if c.status == "cancelled" else "PUBLISH")
    cal.add("x-wr-calname", c.title)
    place = ", ".join(x for x in (c.venue, c.address) if x)
    items = [(s.id, s.title, s.starts_at, s.ends_at, s.description, s.track, s.room, s.speakers) for s in c.sessions]
    if not items:
        items = [("all", c.title, c.starts_at, c.ends_at, c.description, "", "", [])]
    for sid, title, starts, ends, description, track, room, speakers in items:
        ev = icalendar.Event()
        ev.add("uid", f"{c.id}.{sid}@{UID_DOMAIN}")
        ev.add("dtstamp", now.astimezone(UTC))
        ev.add("dtstart", starts.astimezone(tz))
        ev.add("dtend", ends.astimezone(tz))
        ev.add("summary", title if title == c.title else f"{title} — {c.title}")
        lines = [description] if description else []
        if speakers:
            lines.append("Speakers: " + ", ".join(speakers))
        if track:
            lines.append(f"Track: {track}")
        if lines:
            ev.add("description", "\n".join(lines))
        location = ", ".join(x for x in (room, place) if x)
        if location:
            ev.add("location", location)
        ev.add("sequence", c.sequence)
        ev.add("status", "CANCELLED" if c.status == "cancelled" else "CONFIRMED")
        cal.add_component(ev)
    cal.add_missing_timezones()
    return cal.to_ical()
