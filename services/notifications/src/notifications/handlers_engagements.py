"""Direct assistance's notices (``nrn.engagements.v1``): the read models they need, whom each
direct-assistance row of the table names, the links and the words of the messages.

Read models (built in the consumer's transaction, before the table is applied):

- ``applications``: per submitted application, its city, a regional application's partner cities,
  the official who submitted it and when — so a reviewer's assignment (``ReviewerAssigned`` names
  no city) says whose application it is.
- ``engagements``: per engagement, its application, city, title and dates — so the work plan and
  the close-out name the engagement as the opening did.

Who is told: the verified officials of the applying city (for an application, also of the partner
cities a regional application names: their officials read it on their own page too), program
managers of a new application, the reviewer of their assignment. The matrix decides last
(``people.may_receive``), for the person's own city, which must be the application's or one of its
partners' — another city's official is never told.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from nrn_contracts.events import engagements as eng

from nrn_kit.localtime import us_date
from nrn_kit.mongo import Tx

from .adapters import mongo as repo
from .domain import wording
from .domain.rules import Rule, Who
from .handlers_peer import PeerRef, city_labels, officials_of

APPLICATION_EVENTS = (eng.ApplicationSubmitted, eng.ReviewerAssigned, eng.ApplicationDecided, eng.ApplicationPromoted)
ENGAGEMENT_EVENTS = (eng.EngagementOpened, eng.WorkPlanAgreed, eng.EngagementClosed)
EVENTS = APPLICATION_EVENTS + ENGAGEMENT_EVENTS
DECISION_WORDS = {"accepted": "accepted", "waitlisted": "put on the waitlist", "declined": "declined"}


# ------------------------------------------------------------------ read models


async def remember_application(tx: Tx, event: eng.ApplicationSubmitted) -> None:
    await tx.db[repo.APPLICATIONS].update_one({"_id": event.application_id}, {"$set": {
        "city_id": event.city_id, "partner_city_ids": list(event.partner_city_ids), "official_id": event.official_id,
        "submitted_at": event.submitted_at}}, upsert=True, session=tx.session)


async def remember_engagement(tx: Tx, event: eng.EngagementOpened) -> None:
    await tx.db[repo.ENGAGEMENTS].update_one({"_id": event.engagement_id}, {"$set": {
        "application_id": event.application_id, "city_id": event.city_id, "title": event.title,
        "starts_on": event.starts_on.isoformat() if event.starts_on else None,
        "ends_on": event.ends_on.isoformat() if event.ends_on else None}}, upsert=True, session=tx.session)


# ------------------------------------------------------------------ who the rows name


@dataclass
class AssistanceRef(PeerRef):
    """What a direct-assistance event is about, read once per event: the application or the
    engagement, the account ids each row names, and the cities a recipient's own city must be one
    of (``PeerRef``'s ``named``, ``cities`` and ``city_names``, which ``handlers.notify`` reads)."""

    application: dict | None = None
    engagement: dict | None = None


async def assistance_ref(tx: Tx, rules: list[Rule], event: Any) -> AssistanceRef | None:
    """The subject of a direct-assistance event and whom its rows name; None for another program's."""
    if isinstance(event, APPLICATION_EVENTS):
        app = await tx.db[repo.APPLICATIONS].find_one({"_id": event.application_id}, session=tx.session) or {}
        lead = getattr(event, "city_id", None) or app.get("city_id")
        cities = [c for c in [lead, *(app.get("partner_city_ids") or [])] if c]
        ref = AssistanceRef(application=app, cities=tuple(cities), city_names=await city_labels(tx, cities))
        for rule in rules:
            if rule.who is Who.applying_city_officials:
                # the official who submitted it by name too: one whose account this service has not
                # heard of yet (accounts' events travel on another topic) is told once it has
                submitter = getattr(event, "official_id", None) or app.get("official_id")
                ref.named[rule.who] = list(dict.fromkeys([*([submitter] if submitter else []),
                                                          *await officials_of(tx, cities)]))
            elif rule.who is Who.assigned_reviewer:
                ref.named[rule.who] = [event.reviewer_id]
        return ref
    if isinstance(event, ENGAGEMENT_EVENTS):
        engagement = await tx.db[repo.ENGAGEMENTS].find_one({"_id": event.engagement_id}, session=tx.session) or {}
        ref = AssistanceRef(engagement=engagement, cities=(event.city_id,),
                            city_names=await city_labels(tx, [event.city_id]))
        for rule in rules:
            if rule.who is Who.engagement_city_officials:
                ref.named[rule.who] = await officials_of(tx, [event.city_id])
        return ref
    return None


# ------------------------------------------------------------------ words and links


def link_path(event: Any, person: dict) -> str | None:
    """The gateway page of the application or the engagement (staff read an application on theirs)."""
    if isinstance(event, APPLICATION_EVENTS):
        staff = person.get("kind") == "staff"
        return f"/staff/applications/{event.application_id}" if staff else f"/applications/{event.application_id}"
    if isinstance(event, eng.EngagementClosed) and event.close_out_summary is not None:
        return f"/engagements/{event.engagement_id}#co-h"  # the close-out section, with the final report
    if isinstance(event, ENGAGEMENT_EVENTS):
        return f"/engagements/{event.engagement_id}"
    return None


def _dollars(cents: int | None) -> str | None:
    return None if cents is None else f"${cents / 100:,.0f}" if cents % 100 == 0 else f"${cents / 100:,.2f}"


def _day(value: date | str | None) -> str | None:
    if value is None:
        return None
    return us_date(value if isinstance(value, date) else date.fromisoformat(value))


def context(event: Any, ref: AssistanceRef, person: dict, zone: str) -> dict[str, Any]:
    """A direct-assistance message's words for ``person``, under one key (``assistance``)."""
    lead = getattr(event, "city_id", None) or (ref.application or {}).get("city_id") \
        or (ref.engagement or {}).get("city_id")
    city = ref.city_names.get(lead, "the city")
    own = person.get("city_id")
    ctx: dict[str, Any] = {
        "city": city,
        # an official of a regional application's partner city reads it as the lead city's application
        "as_partner": person.get("kind") == "official" and own is not None and own != lead,
        "partners": [ref.city_names.get(c, "a partner city") for c in ref.cities if c != lead],
    }
    if isinstance(event, eng.ApplicationSubmitted):
        ctx.update(submitted=wording.when(event.submitted_at, zone), exception=event.exception_requested,
                   peer_connections=event.peer_connections)
    elif isinstance(event, eng.ReviewerAssigned):
        ctx.update(submitted=wording.when(ref.application["submitted_at"], zone)
                   if (ref.application or {}).get("submitted_at") else None)
    elif isinstance(event, eng.ApplicationDecided):
        ctx.update(decision=event.decision, decision_words=DECISION_WORDS[event.decision], reason=event.reason,
                   position=event.waitlist_position)
    elif isinstance(event, ENGAGEMENT_EVENTS):
        engagement = ref.engagement or {}
        title = getattr(event, "title", None) or engagement.get("title")
        ctx.update(title=title or f"Direct assistance to {city}",
                   starts_on=_day(getattr(event, "starts_on", None) or engagement.get("starts_on")),
                   ends_on=_day(getattr(event, "ends_on", None) or engagement.get("ends_on")))
        if isinstance(event, eng.EngagementOpened):
            ctx.update(budget=_dollars(event.budget_cents), federal=_dollars(event.federal_cents),
                       local=_dollars(event.local_cents))
        elif isinstance(event, eng.WorkPlanAgreed):
            ctx.update(milestones=[{"title": m.title, "owner": m.owner, "due": us_date(m.due_on)}
                                   for m in sorted(event.milestones, key=lambda m: m.due_on)])
        elif isinstance(event, eng.EngagementClosed):
            # cancelled before the assessment (engagements' ``cancel``): closed with no report to read
            ctx.update(ended_early=event.outcome == "ended_early", check_in=_day(event.check_in_due_on),
                       cancelled=event.close_out_summary is None)
    return {"assistance": ctx}
