"""Composition: concurrent fan-out, per-section timeouts, the partial marker, the registry."""

from __future__ import annotations

import asyncio

import pytest

from gateway.clients import ServiceUnavailable, UpstreamError
from gateway.compose import Section, SectionRegistry, compose


def section(name: str, fetch, *, timeout: float | None = None, order: int = 100) -> Section:
    return Section(name, name.title(), f"{name}-svc", fetch, order=order, timeout=timeout)


async def test_all_sections_present_means_not_partial() -> None:
    async def a(ctx):
        return {"a": ctx}

    async def b(ctx):
        return [1, 2]

    out = await compose([section("a", a), section("b", b)], "ctx", default_timeout=1.0)
    assert out.sections == {"a": {"a": "ctx"}, "b": [1, 2]}
    assert not out.partial and out.missing == []


async def test_a_down_service_becomes_a_missing_section() -> None:
    async def ok(ctx):
        return "fine"

    async def down(ctx):
        raise ServiceUnavailable("library", "unreachable (ConnectError)")

    out = await compose([section("ok", ok), section("resources", down)], None, default_timeout=1.0)
    assert out.partial
    assert out.sections == {"ok": "fine"}
    assert [m.as_dict() for m in out.missing] == [
        {"section": "resources", "title": "Resources", "service": "resources-svc", "reason": "unreachable (ConnectError)"}
    ]


async def test_a_slow_section_times_out_without_holding_the_others() -> None:
    never = asyncio.Event()

    async def slow(ctx):
        await never.wait()

    async def quick(ctx):
        return 1

    out = await compose([section("slow", slow, timeout=0.01), section("quick", quick)], None, default_timeout=5.0)
    assert out.sections == {"quick": 1}
    assert out.missing[0].section == "slow" and out.missing[0].reason == "timed out"


async def test_sections_run_concurrently() -> None:
    # Each section waits for the other to start: run one after the other, they would
    # both time out.
    started = {"a": asyncio.Event(), "b": asyncio.Event()}

    def waits_for(me: str, other: str):
        async def fetch(ctx):
            started[me].set()
            await started[other].wait()
            return me

        return fetch

    out = await compose([section("a", waits_for("a", "b")), section("b", waits_for("b", "a"))], None, default_timeout=2.0)
    assert out.sections == {"a": "a", "b": "b"} and not out.partial


async def test_upstream_4xx_and_unexpected_errors_are_contained() -> None:
    async def forbidden(ctx):
        raise UpstreamError("accounts", 404, {"title": "Not found"}, "application/problem+json")

    async def broken(ctx):
        raise KeyError("bug")

    out = await compose([section("city", forbidden), section("broken", broken)], None, default_timeout=1.0)
    by_name = {m.section: m for m in out.missing}
    assert by_name["city"].status == 404 and by_name["city"].reason == "accounts answered 404"
    assert by_name["broken"].reason == "failed"


def test_registry_orders_sections_and_refuses_duplicates() -> None:
    registry: SectionRegistry[None] = SectionRegistry()

    async def fetch(ctx):
        return None

    registry.add(section("later", fetch, order=50))
    registry.add(section("first", fetch, order=0))

    @registry.section("peer", title="Peer network", service="peer", order=40)
    async def peer(ctx):
        return None

    assert registry.names() == ["first", "peer", "later"]
    with pytest.raises(ValueError):
        registry.add(section("first", fetch))


def test_a_new_section_is_added_without_touching_the_defaults() -> None:
    from gateway.dashboard import default_sections

    registry = default_sections()
    before = list(registry)

    async def engagements(ctx):
        return []

    registry.add(Section("engagements", "Engagements", "engagements", engagements, order=25))
    after = list(registry)
    assert [s for s in after if s.name != "engagements"] == before
    assert "engagements" in registry.names()


async def test_the_shared_cache_fetches_once_for_concurrent_misses_and_serves_until_it_expires() -> None:
    import asyncio

    from gateway.cache import TtlCache

    now = [100.0]
    cache = TtlCache(30.0, clock=lambda: now[0])
    calls = []

    async def fetch():
        calls.append(now[0])
        await asyncio.sleep(0.01)
        return {"n": len(calls)}

    first = await asyncio.gather(*(cache.get("k", fetch) for _ in range(10)))
    assert calls == [100.0] and all(v == {"n": 1} for v in first)
    now[0] = 129.9
    assert await cache.get("k", fetch) == {"n": 1}, "still within the time to live"
    now[0] = 130.0
    assert await cache.get("k", fetch) == {"n": 2}, "a value is never older than the time to live"


async def test_the_shared_cache_keeps_no_failure_and_a_caller_giving_up_does_not_cancel_the_fetch() -> None:
    import asyncio

    from gateway.cache import TtlCache

    cache = TtlCache(30.0)
    attempts = []

    async def failing():
        attempts.append(1)
        raise RuntimeError("library down")

    for _ in range(2):
        with pytest.raises(RuntimeError):
            await cache.get("k", failing)
    assert len(attempts) == 2 and len(cache) == 0

    release = asyncio.Event()

    async def slow():
        await release.wait()
        return "value"

    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(cache.get("slow", slow), 0.01)
    waiting = asyncio.ensure_future(cache.get("slow", slow))
    await asyncio.sleep(0)
    release.set()
    assert await waiting == "value"
