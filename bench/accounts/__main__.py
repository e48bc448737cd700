"""Sign-in and token-verification throughput of the accounts service.

    .venv/bin/python -m bench.accounts [--signins 200] [--verifications 20000] [--requests 2000] [--concurrency 16]

1. Sign-in over HTTP (form post → lockout check → argon2 verify → Ed25519 sign → refresh token
   insert). Baseline, same run: bare argon2 verifications with the same hasher and concurrency —
   the deliberate cost of a password check, which sign-in cannot beat.
2. Token verification in-process: `nrn_kit.auth.TokenVerifier.verify` on accounts-issued tokens.
3. Token verification over HTTP in ANOTHER kit service: an authenticated route against the same
   route without authentication; the other service's JWKS fetch count proves it never calls
   accounts per request.
"""


import argparse
import asyncio
import time
from typing import Annotated

import httpx
from fastapi import APIRouter, Depends

from accounts.app import create_app as create_accounts
from accounts.config import Settings as AccountsSettings
from nrn_kit.app import ServiceSpec
from nrn_kit.app import create_app as create_kit_app
from nrn_kit.auth import Principal, TokenVerifier, authorize, principal_dependency
from nrn_kit.infra import local_infra
from nrn_kit.serving import serve_app
from nrn_kit.settings import ServiceSettings

from ..common import bench_settings, median, percentile, report

ADMIN, PASSWORD = "bench-admin@nrn.example", "bench admin password"


def other_service(settings: ServiceSettings):  # noqa: ANN201
    router = APIRouter()
    current = principal_dependency(lambda request: request.app.state.runtime.verifier)

    @router.get("/open")
    async def open_route() -> dict:
        return {"ok": True}

    @router.get("/guarded")
    async def guarded(principal: Annotated[Principal, Depends(current)]) -> dict:
        authorize(principal, "account.read")
        return {"ok": True}

    return create_kit_app(ServiceSpec(settings=settings, title="bench-other", routers=[router]))


async def _pool(n: int, concurrency: int, one) -> list[float]:  # noqa: ANN001
    latencies: list[float] = []
    queue = iter(range(n))

    async def worker() -> None:
        for i in queue:
            start = time.perf_counter()
            await one(i)
            latencies.append(time.perf_counter() - start)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


async def main(args: argparse.Namespace) -> None:
    with local_infra() as infra:
        settings = bench_settings(
            infra, AccountsSettings, service_name="accounts", bootstrap_admin_email=ADMIN,
            bootstrap_admin_password=PASSWORD,
        )
        accounts_app = create_accounts(settings)
        async with serve_app(accounts_app) as accounts_url, httpx.AsyncClient(base_url=accounts_url, timeout=60) as http:
            svc = accounts_app.state.runtime.state["services"]

            # 1. sign-in vs bare argon2
            async def sign_in(_: int) -> None:
                r = await http.post("/auth/token", data={"username": ADMIN, "password": PASSWORD})
                assert r.status_code == 200, r.text

            admin_hash = (await accounts_app.state.runtime.db.accounts.find_one({"email": ADMIN}))["password_hash"]

            async def bare(_: int) -> None:
                assert await asyncio.to_thread(svc.hasher.verify, PASSWORD, admin_hash)

            # alternate rounds, as below, so machine noise falls on both sides alike
            signin_rates, argon_rates, lat = [], [], []
            per_round = max(1, args.signins // args.rounds)
            for _ in range(args.rounds):
                start = time.perf_counter()
                lat += await _pool(per_round, args.concurrency, sign_in)
                signin_rates.append(per_round / (time.perf_counter() - start))
                start = time.perf_counter()
                await _pool(per_round, args.concurrency, bare)
                argon_rates.append(per_round / (time.perf_counter() - start))
            signin_rate, argon_rate = median(signin_rates), median(argon_rates)
            report(
                "accounts sign-in over HTTP vs bare argon2 verify",
                {"sign-ins": args.signins, "concurrency": args.concurrency, "sign-ins/s (median)": signin_rate,
                 "sign-in p50 ms": percentile(lat, 50) * 1000, "sign-in p99 ms": percentile(lat, 99) * 1000,
                 "bare argon2 verifications/s (median)": argon_rate},
                ratio_name="sign-in rate / argon2 rate", ratio=signin_rate / argon_rate,
                target=">= 0.5 (argon2 dominates)", met=signin_rate / argon_rate >= 0.5,
            )

            token = (await http.post("/auth/token", data={"username": ADMIN, "password": PASSWORD})).json()[
                "access_token"
            ]
            jwks = (await http.get("/.well-known/jwks.json")).json()

            # 2. in-process verification
            verifier = TokenVerifier(jwks=jwks)
            await verifier.verify(token)
            start = time.perf_counter()
            for _ in range(args.verifications):
                await verifier.verify(token)
            verify_rate = args.verifications / (time.perf_counter() - start)
            report(
                "token verification in process (Ed25519, cached JWKS)",
                {"verifications": args.verifications, "verifications/s": verify_rate},
                ratio_name="verifications/s per sign-in/s", ratio=verify_rate / signin_rate,
                target=">= 10", met=verify_rate / signin_rate >= 10,
            )

            # 3. another service: guarded route vs open route, JWKS fetched once
            other_settings = bench_settings(
                infra, ServiceSettings, service_name="other",
                accounts_jwks_url=f"{accounts_url}/.well-known/jwks.json",
            )
            other = other_service(other_settings)
            async with serve_app(other) as other_url, httpx.AsyncClient(base_url=other_url, timeout=60) as oc:
                bearer = {"Authorization": f"Bearer {token}"}

                async def guarded(_: int) -> None:
                    r = await oc.get("/guarded", headers=bearer)
                    assert r.status_code == 200, r.text

                async def open_(_: int) -> None:
                    r = await oc.get("/open")
                    assert r.status_code == 200

                await _pool(50, args.concurrency, open_)  # warm up
                # Rounds alternate open/authenticated so a noisy neighbour hurts both alike; medians reported.
                open_rates, guarded_rates, glat = [], [], []
                per_round = max(1, args.requests // args.rounds)
                for _ in range(args.rounds):
                    start = time.perf_counter()
                    await _pool(per_round, args.concurrency, open_)
                    open_rates.append(per_round / (time.perf_counter() - start))
                    start = time.perf_counter()
                    glat += await _pool(per_round, args.concurrency, guarded)
                    guarded_rates.append(per_round / (time.perf_counter() - start))
                open_rate, guarded_rate = median(open_rates), median(guarded_rates)
                fetches = other.state.runtime.verifier.fetch_count
                report(
                    "authenticated route in another service vs the same service unauthenticated",
                    {"requests": args.requests, "rounds": args.rounds, "open requests/s (median)": open_rate, "authenticated requests/s (median)": guarded_rate,
                     "authenticated p99 ms": percentile(glat, 99) * 1000,
                     "JWKS fetches by the other service": fetches},
                    ratio_name="authenticated / open", ratio=guarded_rate / open_rate,
                    target=">= 0.7 and exactly 1 JWKS fetch", met=guarded_rate / open_rate >= 0.7 and fetches == 1,
                )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--signins", type=int, default=200)
    parser.add_argument("--verifications", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=4)
    asyncio.run(main(parser.parse_args()))
