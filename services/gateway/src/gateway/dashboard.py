"""The city dashboard: one composed view of a city, built from registered sections.

Each section fetches from one service. Later services (engagements, peer) add theirs with
``registry.add(Section(...))`` in their own module and touch nothing here.
"""

from __future__ import annotations

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
    return await ctx.services.library.get_json(
        "/recommendations", params={"city_id": ctx.city_id, "limit": 6}, token=ctx.principal.token
    )


def default_sections() -> DashboardRegistry:
    registry: DashboardRegistry = SectionRegistry()
    registry.add(Section("city", "City profile and eligibility", "accounts", _city, "partials/section_city.html", order=0))
    registry.add(Section("account_holders", "Account holders", "accounts", _account_holders, "partials/section_people.html", order=10))
    registry.add(Section("requests", "Questions and their status", "requests311", _requests, "partials/section_requests.html", order=20))
    registry.add(Section("resources", "Recommended resources", "library", _resources, "partials/section_resources.html", order=30))
    return registry


async def build_dashboard(registry: DashboardRegistry, ctx: DashboardContext, *, timeout: float) -> Composed:
    return await compose(registry, ctx, default_timeout=timeout)
