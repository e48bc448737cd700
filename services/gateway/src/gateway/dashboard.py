"""The city dashboard: one composed view of a city, built from registered sections.

Each section fetches from one service. Later services (engagements, peer) add theirs with
``registry.add(Section(...))`` in their own module and touch nothing here.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from .auth import Principal
from .clients import Services
from .compose import Composed, Section, SectionRegistry, compose


@dataclass(frozen=True)
class DashboardContext:
    principal: Principal
    city_id: str
    services: Services


DashboardRegistry = SectionRegistry[DashboardContext]


async def _city(ctx: DashboardContext) -> Any:
    return await ctx.services.accounts.get_json(f"/cities/{ctx.city_id}", token=ctx.principal.token)


async def _account_holders(ctx: DashboardContext) -> Any:
    if ctx.principal.can("account.read"):
        return await ctx.services.accounts.get_json(
            "/accounts", params={"city_id": ctx.city_id, "kind": "official", "limit": 50}, token=ctx.principal.token
        )
    # Accounts lets only staff list accounts; an official sees their own record here
    # (a city-scoped list for officials needs a route in accounts first).
    me = await ctx.services.accounts.get_json("/me", token=ctx.principal.token)
    return {"items": [me], "total": 1, "restricted": True}


async def _requests(ctx: DashboardContext) -> Any:
    return await ctx.services.requests311.get_json(
        "/requests", params={"city_id": ctx.city_id, "limit": 20}, token=ctx.principal.token
    )


async def _resources(ctx: DashboardContext) -> Any:
    """Federal programmes this city qualifies for, open now, and the newest library items."""
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


def default_sections() -> DashboardRegistry:
    registry: DashboardRegistry = SectionRegistry()
    registry.add(Section("city", "City profile and eligibility", "accounts", _city, "partials/section_city.html", order=0))
    registry.add(Section("account_holders", "Account holders", "accounts", _account_holders, "partials/section_people.html", order=10))
    registry.add(Section("requests", "Questions and their status", "requests311", _requests, "partials/section_requests.html", order=20))
    registry.add(Section("resources", "Recommended resources", "library", _resources, "partials/section_resources.html", order=30))
    return registry


async def build_dashboard(registry: DashboardRegistry, ctx: DashboardContext, *, timeout: float) -> Composed:
    return await compose(registry, ctx, default_timeout=timeout)
