"""The agenda as an iCalendar file (RFC 5545), through the kit's one .ics builder
(``nrn_kit.calendar.build_agenda``, on ``icalendar``).

One VEVENT per session, its DTSTART/DTEND in the venue's zone (``TZID``) with the matching
VTIMEZONE, UID stable per session so that a calendar replaces rather than duplicates the event on
a second download, and SEQUENCE from the convening (grows with every change). A convening
without sessions exports one VEVENT for the whole event. A cancelled convening exports its
events with STATUS:CANCELLED and METHOD:CANCEL, so a calendar that imports it removes them.
"""

from __future__ import annotations

from datetime import datetime

from nrn_kit.calendar import AgendaItem, build_agenda

from .convening import Convening
from .venue_time import zone

UID_DOMAIN = "peer.nationalresourcenetwork.org"


def agenda_ics(c: Convening, *, now: datetime) -> bytes:
    """The convening's agenda as ``text/calendar`` bytes."""
    zone(c.timezone)  # a zone the database no longer knows fails here, as a problem naming it
    place = ", ".join(x for x in (c.venue, c.address) if x)
    items = []
    for s in c.sessions:
        lines = [s.description] if s.description else []
        if s.speakers:
            lines.append("Speakers: " + ", ".join(s.speakers))
        if s.track:
            lines.append(f"Track: {s.track}")
        items.append(AgendaItem(uid=f"{c.id}.{s.id}@{UID_DOMAIN}", summary=f"{s.title} — {c.title}",
                                starts_at=s.starts_at, ends_at=s.ends_at, description="\n".join(lines),
                                location=", ".join(x for x in (s.room, place) if x)))
    if not items:
        items.append(AgendaItem(uid=f"{c.id}.all@{UID_DOMAIN}", summary=c.title, starts_at=c.starts_at,
                                ends_at=c.ends_at, description=c.description, location=place))
    return build_agenda(c.title, items, zone=c.timezone, sequence=c.sequence, cancelled=c.status == "cancelled",
                        stamp=now)
