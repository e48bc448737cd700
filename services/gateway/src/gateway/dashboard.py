"""The city dashboard: one composed view of a city, built from registered sections.

Each section fetches from one service. Later services (engagements, peer) add theirs with
``registry.add(Section(...))`` in their own module and touch nothing here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .auth import Principal
from .cache import TtlCache, retrieve_exception
from .clients import Services
from .compose import Composed, Section, SectionRegistry, compose


@dataclass(frozen=True)
class DashboardContext:
    principal: Principal
    city_id: str
    services: Services
    # Parts that do not depend on who asks (per city and audience), shared across requests
    # for a short, stated time; None: always fetched.
    shared: TtlCache | None = None
    # One upstream answer that feeds several sections of this one dashboard.
    _once: dict[str, asyncio.Future[Any]] = field(default_factory=dict, repr=False, compare=False)

    def once(self, key: str, fetch: Callable[[], Awaitable[Any]]) -> Awaitable[Any]:
        """Run ``fetch`` once for this dashboard; every section asking for ``key`` shares it.
        Shielded so that one section's timeout does not cancel the fetch for the others."""
        task = self._once.get(key)
        if task is None:
            task = self._once[key] = asyncio.ensure_future(fetch())
            task.add_done_callback(retrieve_exception)
        return asyncio.shield(task)

    @property
    def audience(self) -> str:
        """What the library shows this caller: its visibility classes, not the person."""
        if self.principal.is_staff:
            return "staff"
        return "official" if self.principal.is_official and self.principal.verified else "other"


DashboardRegistry = SectionRegistry[DashboardContext]

# Accounts answers the city and its account holders in one call (GET /cities/{id}/overview).
_OVERVIEW = "accounts:overview"


def _overview(ctx: DashboardContext) -> Awaitable[Any]:
    return ctx.once(_OVERVIEW, lambda: ctx.services.accounts.get_json(
        f"/cities/{ctx.city_id}/overview", params={"limit": 50}, token=ctx.principal.token))


async def _city(ctx: DashboardContext) -> Any:
    return (await _overview(ctx))["city"]


async def _account_holders(ctx: DashboardContext) -> Any:
    # Staff who may read accounts get the city's officials; an official their own record
    # (``restricted``): accounts applies that rule in the overview.
    return (await _overview(ctx))["account_holders"]


async def _requests(ctx: DashboardContext) -> Any:
    if ctx.principal.is_official and not ctx.principal.verified:
        return {"items": [], "pending": True}  # the page explains; requests311 would refuse a pending official
    return await ctx.services.requests311.get_json(
        "/requests", params={"city_id": ctx.city_id, "limit": 20}, token=ctx.principal.token
    )


async def _fetch_resources(ctx: DashboardContext) -> Any:
    programs, newest = await asyncio.gather(
        ctx.services.library.get_json(
            "/clearinghouse/programs",
            params={"eligible_for": ctx.city_id, "open_only": "true", "page_size": 5},
            token=ctx.principal.token,
        ),
        ctx.services.library.get_json(
            "/search", params={"sort": "newest", "kind": "resource", "page_size": 5, "facets": "false"},
            token=ctx.principal.token,
        ),
    )
    return {"programs": programs.get("items", []), "items": newest.get("hits", [])}


async def _resources(ctx: DashboardContext) -> Any:
    """Federal programmes this city qualifies for, open now, and the newest library items.
    The same for every viewer of one audience (staff, verified officials), so shared for the
    cache's time (``DASHBOARD_SHARED_TTL``): a new programme or resource shows within it."""
    if ctx.shared is None:
        return await _fetch_resources(ctx)
    return await ctx.shared.get(("resources", ctx.city_id, ctx.audience), lambda: _fetch_resources(ctx))


async def _peer(ctx: DashboardContext) -> Any:
    """Upcoming convenings with the city's registrations, its working groups (committee terms
    flagged ahead of their end), introductions waiting for its answer."""
    return await ctx.services.peer.get_json(f"/cities/{ctx.city_id}/overview", token=ctx.principal.token)


async def _health(ctx: DashboardContext) -> Any:
    """The city's health dashboard in brief: published or not, the latest year, how many measures are
    better and worse than its peers and the worse ones by name (peer, one call)."""
    return await ctx.services.peer.get_json(f"/health-data/cities/{ctx.city_id}/summary", token=ctx.principal.token)


async def _probono(ctx: DashboardContext) -> Any:
    """The city's pro bono projects in brief: how many in each status, volunteers at work, offers waiting for
    the city's answer, hours delivered and approved (peer, one call; staff without the talent network's
    management role and other cities' officials are refused there)."""
    return await ctx.services.peer.get_json(f"/probono/cities/{ctx.city_id}/summary", token=ctx.principal.token)


async def _assistance(ctx: DashboardContext) -> Any:
    """The city's applications for direct assistance and its engagements (engagements, one call)."""
    return await ctx.services.engagements.get_json(f"/cities/{ctx.city_id}/summary", token=ctx.principal.token)


def _request_entries(value: Any) -> list[dict[str, Any]]:
    """The 311 part of the city's timeline: each question asked, each memo delivered, each closing."""
    out: list[dict[str, Any]] = []
    for r in (value or {}).get("items", []) if isinstance(value, dict) else []:
        if not isinstance(r, dict) or not r.get("id"):
            continue
        href = f"/requests/{r['id']}"
        ref = f" ({r['reference']})" if r.get("reference") else ""
        out.append({"at": r.get("submitted_at"), "kind": "Question asked", "title": r.get("title"), "href": href,
                    "detail": f"311 for Cities{ref}"})
        if r.get("memo_delivered_at"):
            out.append({"at": r["memo_delivered_at"], "kind": "Memo delivered", "title": r.get("title"),
                        "href": href, "detail": "The answer to the question, with a call to walk through it"})
        if r.get("closed_at"):
            out.append({"at": r["closed_at"], "kind": "Question closed", "title": r.get("title"), "href": href,
                        "detail": ""})
    return out


def _assistance_entries(value: Any) -> list[dict[str, Any]]:
    """Direct assistance on the city's timeline: applications sent and engagements opened."""
    out: list[dict[str, Any]] = []
    value = value if isinstance(value, dict) else {}
    for a in value.get("applications") or []:
        if isinstance(a, dict) and a.get("id") and a.get("submitted_at"):
            out.append({"at": a["submitted_at"], "kind": "Application submitted", "title": "Application for on-the-ground help",
                        "href": f"/applications/{a['id']}", "staff_href": f"/staff/applications/{a['id']}",
                        "detail": "Direct assistance"})
    for e in value.get("engagements") or []:
        at = e.get("opened_at") or e.get("starts_on") if isinstance(e, dict) else None
        if isinstance(e, dict) and e.get("id") and at:
            out.append({"at": at, "kind": "Engagement opened", "title": e.get("title") or "Engagement",
                        "href": f"/engagements/{e['id']}", "staff_href": f"/staff/engagements/{e['id']}",
                        "detail": "Direct assistance"})
    return out


def _peer_entries(value: Any) -> list[dict[str, Any]]:
    """Peer networking on the city's timeline: convenings the city's people registered for."""
    out: list[dict[str, Any]] = []
    for c in (value or {}).get("upcoming", []) if isinstance(value, dict) else []:
        if isinstance(c, dict) and c.get("id") and c.get("starts_at") and c.get("city_registrations"):
            out.append({"at": c["starts_at"], "kind": "Convening", "title": c.get("title") or "Convening",
                        "href": f"/convenings/{c['id']}", "detail": "Peer network"})
    return out


def city_timeline(registry: DashboardRegistry, sections: dict[str, Any]) -> list[dict[str, Any]]:
    """Everything NRN has done with the city, newest first, across programs: each registered section
    contributes its own entries from its own data (``Section.timeline``), so no section knows another."""
    entries: list[dict[str, Any]] = []
    for section in registry:
        if section.timeline is None or section.name not in sections:
            continue
        try:
            entries += [e for e in section.timeline(sections[section.name]) if e.get("at") and e.get("href")]
        except (KeyError, TypeError, ValueError):  # a section's odd data never breaks the page
            continue
    return sorted(entries, key=lambda e: str(e["at"]), reverse=True)


def default_sections() -> DashboardRegistry:
    registry: DashboardRegistry = SectionRegistry()
    registry.add(Section("city", "City profile and eligibility", "accounts", _city, "partials/section_city.html", order=0))
    registry.add(Section("account_holders", "Account holders", "accounts", _account_holders, "partials/section_people.html", order=10))
    registry.add(Section("requests", "Questions and their status", "requests311", _requests, "partials/section_requests.html", order=20,
                         timeline=_request_entries))
    registry.add(Section("assistance", "Direct assistance", "engagements", _assistance,
                         "partials/section_assistance.html", order=25, timeline=_assistance_entries))
    registry.add(Section("resources", "Recommended resources", "library", _resources, "partials/section_resources.html", order=30))
    registry.add(Section("peer", "Peer network", "peer", _peer, "partials/section_peer.html", order=40,
                         timeline=_peer_entries))
    registry.add(Section("health", "Health compared with peer cities", "peer", _health, "partials/section_health.html",
                         order=45))
    registry.add(Section("probono", "Pro bono projects", "peer", _probono, "partials/section_probono.html", order=47))
    return registry


async def build_dashboard(registry: DashboardRegistry, ctx: DashboardContext, *, timeout: float) -> Composed:
    return await compose(registry, ctx, default_timeout=timeout)
