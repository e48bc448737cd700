"""The gateway's cost: a proxied read against the same read sent straight to the service, and
the composed dashboard against its slowest upstream call. Same run, same machine, same load.

    .venv/bin/python -m bench.gateway [--requests 1500] [--concurrency 16] [--rounds 3]

Every service runs in its own uvicorn process, as `nrn up` runs them; the load generator is
this process. Rounds alternate (gateway, direct, gateway, direct …) so drift hits both sides.

1. Proxied read: `GET /api/v1/requests/{id}` through the gateway (token verified locally,
   requests311 called with the same token, the city guard applied, JSON passed back) against
   `GET /requests/{id}` on requests311 directly. Ratio = gateway req/s ÷ direct req/s (target ≥ 0.6).
2. Composed dashboard: `GET /api/v1/cities/{id}/dashboard` (four sections; per request one
   accounts call for the city and its account holders and one requests311 call; the library's
   recommended resources shared per city and audience for 30 s) against its slowest upstream
   call measured alone, directly, at the same client concurrency, in the same rounds:
   ratio = dashboard p99 ÷ that call's p99 (target ≤ 1.5). The shared library calls are left
   out of the baseline (that can only make the baseline smaller); they, the calls the dashboard
   made before (accounts `/cities/{id}` and `/me`), and the per-request calls made directly and
   concurrently are printed for reference.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable

import httpx

from accounts.config import Settings as AccountsSettings
from gateway.config import Settings as GatewaySettings
from gateway.testing import ADMIN_EMAIL, ADMIN_PASSWORD, CITIES_CSV, OFFICIAL_PASSWORD, library_installed
from nrn_kit.infra import local_infra
from nrn_kit.serving import free_port
from requests311.config import Settings as Requests311Settings

from ..common import bench_settings, percentile, report, service_process


async def load(client: httpx.AsyncClient, url: str, headers: dict[str, str], n: int, concurrency: int) -> tuple[float, list[float]]:
    """n GETs at a fixed concurrency; returns (requests per second, latencies in ms)."""
    latencies: list[float] = []
    todo = iter(range(n))
    failures = 0

    async def worker() -> None:
        nonlocal failures
        for _ in todo:
            start = time.perf_counter()
            response = await client.get(url, headers=headers)
            latencies.append((time.perf_counter() - start) * 1000)
            if response.status_code != 200:
                failures += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    if failures:
        raise RuntimeError(f"{failures} of {n} calls to {url} failed")
    return n / elapsed, latencies


async def load_fanout(client: httpx.AsyncClient, urls: list[str], headers: dict[str, str], n: int,
                      concurrency: int) -> list[float]:
    """n rounds of the same upstream calls the dashboard makes, issued concurrently and
    directly; a round's latency is its slowest call's (what the dashboard waits for)."""
    latencies: list[float] = []
    todo = iter(range(n))

    async def worker() -> None:
        for _ in todo:
            start = time.perf_counter()
            responses = await asyncio.gather(*(client.get(url, headers=headers) for url in urls))
            latencies.append((time.perf_counter() - start) * 1000)
            if any(r.status_code != 200 for r in responses):
                raise RuntimeError("an upstream call failed")

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError("setup condition not reached")
        await asyncio.sleep(0.2)


async def run(args: argparse.Namespace, urls: dict[str, str]) -> None:
    gw = urls["gateway"]
    limits = httpx.Limits(max_connections=args.concurrency * 2, max_keepalive_connections=args.concurrency * 2)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        r = await client.post(f"{gw}/api/v1/auth/token", data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        admin = {"Authorization": f"Bearer {r.json()['access_token']}"}
        r = await client.post(f"{gw}/api/v1/cities/import", headers=admin,
                              files={"file": ("c.csv", CITIES_CSV.encode(), "text/csv")})
        assert r.status_code == 200, r.text
        email = f"bench.{uuid.uuid4().hex[:6]}@example.org"
        account = (await client.post(f"{gw}/api/v1/accounts", json={
            "name": "Bench Official", "title": "Clerk", "email": email, "city_id": "mi-flint",
            "password": OFFICIAL_PASSWORD})).json()
        await client.post(f"{gw}/api/v1/accounts/{account['account_id']}/verify", headers=admin)
        r = await client.post(f"{gw}/api/v1/auth/token", data={"username": email, "password": OFFICIAL_PASSWORD})
        official = {"Authorization": f"Bearer {r.json()['access_token']}"}
        created: dict = {}

        async def submitted() -> bool:
            r = await client.post(f"{gw}/api/v1/requests", headers=official, json={
                "title": "Benchmark question", "question": "How do other cities fund lead line replacement?",
                "topic": "finance_budgets"})
            created.update(r.json() if r.status_code == 201 else {})
            return r.status_code == 201

        await eventually(submitted)
        rid = created["id"]

        # warm-up: connections, JWKS cache, first-request costs
        for url in (f"{gw}/api/v1/requests/{rid}", f"{urls['requests311']}/requests/{rid}",
                    f"{gw}/api/v1/cities/mi-flint/dashboard"):
            await load(client, url, official, 100, args.concurrency)

        proxied_rps, proxied_lat, direct_rps, direct_lat = [], [], [], []
        for _ in range(args.rounds):
            rps, lat = await load(client, f"{gw}/api/v1/requests/{rid}", official, args.requests, args.concurrency)
            proxied_rps.append(rps)
            proxied_lat += lat
            rps, lat = await load(client, f"{urls['requests311']}/requests/{rid}", official, args.requests, args.concurrency)
            direct_rps.append(rps)
            direct_lat += lat
        g_rps, d_rps = sum(proxied_rps) / len(proxied_rps), sum(direct_rps) / len(direct_rps)
        ratio = g_rps / d_rps
        report("gateway: proxied read vs direct read (GET one 311 request)", {
            "concurrency": args.concurrency, "requests per side": args.requests * args.rounds,
            "direct req/s": d_rps, "gateway req/s": g_rps,
            "direct p50 ms": percentile(direct_lat, 50), "gateway p50 ms": percentile(proxied_lat, 50),
            "direct p99 ms": percentile(direct_lat, 99), "gateway p99 ms": percentile(proxied_lat, 99),
            "p99 ratio gateway/direct": percentile(proxied_lat, 99) / percentile(direct_lat, 99),
        }, ratio_name="throughput ratio gateway/direct", ratio=ratio, target=">= 0.6", met=ratio >= 0.6)

        # What the dashboard calls on every request: the city and its account holders in one
        # accounts call, and the city's 311 questions.
        upstream = {
            "accounts GET /cities/{id}/overview": f"{urls['accounts']}/cities/mi-flint/overview?limit=50",
            "requests311 GET /requests?city_id": f"{urls['requests311']}/requests?city_id=mi-flint&limit=20",
        }
        # What it shares between viewers for DASHBOARD_SHARED_TTL (30 s): not in the baselines
        # (leaving it out makes the baseline smaller, never the ratio), measured alone for reference.
        shared: dict[str, str] = {}
        if "library" in urls:
            shared["library GET /clearinghouse/programs"] = (
                f"{urls['library']}/clearinghouse/programs?eligible_for=mi-flint&open_only=true&page_size=5")
            shared["library GET /search"] = f"{urls['library']}/search?sort=newest&kind=resource&page_size=5&facets=false"
        # What the dashboard called before it asked accounts once: for reference.
        former = {
            "accounts GET /cities/{id}": f"{urls['accounts']}/cities/mi-flint",
            "accounts GET /me": f"{urls['accounts']}/me",
        }
        dash_lat: list[float] = []
        fan_lat: list[float] = []
        alone = {**upstream, **shared, **former}
        up_lat: dict[str, list[float]] = {name: [] for name in alone}
        dash_n = max(200, args.requests // 3)
        for _ in range(args.rounds):
            _, lat = await load(client, f"{gw}/api/v1/cities/mi-flint/dashboard", official, dash_n, args.concurrency)
            dash_lat += lat
            fan_lat += await load_fanout(client, list(upstream.values()), official, dash_n, args.concurrency)
            for name, url in upstream.items():  # each per-dashboard call alone: the target's baseline
                _, lat = await load(client, url, official, dash_n, args.concurrency)
                up_lat[name] += lat
        for name, url in {**shared, **former}.items():  # reference only
            _, lat = await load(client, url, official, dash_n, args.concurrency)
            up_lat[name] += lat
        dash_p99 = percentile(dash_lat, 99)
        slowest_name = max(upstream, key=lambda name: percentile(up_lat[name], 99))
        slowest = percentile(up_lat[slowest_name], 99)
        fanout = percentile(fan_lat, 99)
        figures: dict[str, float | int | str] = {
            "concurrency": args.concurrency, "dashboards": dash_n * args.rounds,
            "upstream calls per dashboard": len(upstream),
            "shared calls (cached 30 s)": len(shared),
            "dashboard p50 ms": percentile(dash_lat, 50), "dashboard p99 ms": dash_p99,
        }
        for name in alone:
            suffix = "" if name in upstream else (" (shared, reference)" if name in shared else " (former call, reference)")
            figures[f"{name} alone p99 ms{suffix}"] = percentile(up_lat[name], 99)
        figures["slowest per-dashboard call alone"] = slowest_name
        figures["same calls direct, slowest of each round, p50 ms"] = percentile(fan_lat, 50)
        figures["same calls direct, slowest of each round, p99 ms"] = fanout
        figures["p99 ratio dashboard/same calls concurrently"] = dash_p99 / fanout
        ratio = dash_p99 / slowest
        report("gateway: composed dashboard vs its slowest upstream call measured alone", figures,
               ratio_name="p99 ratio dashboard/slowest call alone", ratio=ratio, target="<= 1.5", met=ratio <= 1.5)


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.gateway", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with local_infra() as infra:
        prefix = f"bg{uuid.uuid4().hex[:6]}."
        names = ["accounts", "requests311", *(["library"] if library_installed() else []), "gateway"]
        ports = {name: free_port() for name in names}
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        common = dict(topic_prefix=prefix, accounts_jwks_url=f"{urls['accounts']}/.well-known/jwks.json")
        settings = {
            "accounts": bench_settings(infra, AccountsSettings, service_name="accounts", bootstrap_admin_email=ADMIN_EMAIL,
                                       bootstrap_admin_password=ADMIN_PASSWORD,
                                       **common),
            "requests311": bench_settings(infra, Requests311Settings, service_name="requests311",
                                          library_url=urls.get("library", "http://127.0.0.1:9"),
                                          metrics_cache_seconds=15, **common),
            "gateway": bench_settings(infra, GatewaySettings, service_name="gateway", cookie_secure=False,
                                      accounts_url=urls["accounts"], requests311_url=urls["requests311"],
                                      library_url=urls.get("library", "http://127.0.0.1:9"),
                                      write_rate_capacity=100_000, **common),
        }
        if "library" in names:
            from library.config import Settings as LibrarySettings

            settings["library"] = bench_settings(infra, LibrarySettings, service_name="library", **common)
        with contextlib.ExitStack() as stack:
            for name in names:
                stack.enter_context(service_process(f"{name}.app:create_app", settings[name], ports[name], timeout=120))
            asyncio.run(run(args, urls))


if __name__ == "__main__":
    main()
