"""The one wiring point of the accounts service."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from fastapi import FastAPI, Request

from nrn_contracts.topics import ACCOUNTS_LATEST_TOPIC, ACCOUNTS_SECURITY_TOPIC, ACCOUNTS_TOPIC, CITIES_LATEST_TOPIC
from nrn_kit.app import Runtime, ServiceSpec
from nrn_kit.app import create_app as create_app_from_spec
from nrn_kit.auth import TokenVerifier

from . import adapters, api, handlers
from .config import Settings
from .domain.errors import DomainRuleError
from .domain.security import LockoutPolicy, argon2_hasher, dummy_hash
from .throttle import throttle_from
from .tokens import TokenIssuer, load_signing_key

log = logging.getLogger(__name__)


async def _signing_keys(settings: Settings, runtime: Runtime) -> list:
    if settings.uses_development_key:
        # production never gets here: the kit refuses development secrets in production
        keys = [await adapters.load_or_create_dev_key(runtime.db)]
    else:
        keys = [load_signing_key(settings.token_signing_key.get_secret_value())]
    if settings.token_previous_signing_key is not None:
        keys.append(load_signing_key(settings.token_previous_signing_key.get_secret_value()))
    return keys


def _start(settings: Settings):
    async def start(runtime: Runtime) -> None:
        hasher = argon2_hasher(
            time_cost=settings.argon2_time_cost,
            memory_kib=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )
        issuer = TokenIssuer(await _signing_keys(settings, runtime), ttl=timedelta(seconds=settings.access_token_ttl_seconds))
        svc = handlers.Services(
            store=runtime.store,
            hasher=hasher,
            issuer=issuer,
            settings=settings,
            dummy_hash=await asyncio.to_thread(dummy_hash, hasher),
            lockout=LockoutPolicy(
                max_failures=settings.lockout_max_failures,
                window=timedelta(minutes=settings.lockout_window_minutes),
                lock_for=timedelta(minutes=settings.lockout_minutes),
            ),
            throttle=throttle_from(settings),
        )
        runtime.state["services"] = svc
        # Accounts verifies its own tokens from its own keys: no HTTP round trip to itself.
        runtime.verifier = TokenVerifier(jwks=issuer.jwks())
        if settings.bootstrap_admin_email and settings.bootstrap_admin_password is not None:
            created = await handlers.bootstrap_admin(
                svc, settings.bootstrap_admin_email, settings.bootstrap_admin_password.get_secret_value()
            )
            if created is not None:
                log.info("bootstrap administrator %s created", created.email)
        for data in handlers.starter_files(settings.starter_cities):
            report = await handlers.import_cities(svc, data)
            log.info(
                "starter cities: %d created, %d updated, %d unchanged, %d failed",
                report.created, report.updated, report.unchanged, report.failed,
            )

    return start


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = create_app_from_spec(
        ServiceSpec(
            settings=settings,
            title="accounts",
            description="NRN accounts: cities and eligibility, officials, staff, partners, sign-in and tokens",
            routers=[api.router],
            consumers=[],
            indexes=adapters.INDEXES,
            publishes=[ACCOUNTS_TOPIC, ACCOUNTS_SECURITY_TOPIC, CITIES_LATEST_TOPIC, ACCOUNTS_LATEST_TOPIC],
            on_start=[_start(settings)],
            # the CSV of cities is the one upload: its limit plus the multipart envelope around it
            upload_routes={"/cities/import": settings.max_import_bytes + 64 * 1024},
        )
    )

    @app.exception_handler(DomainRuleError)
    async def _domain_error(request: Request, exc: DomainRuleError):  # noqa: ANN202
        return api.domain_error_response(request, exc)

    return app
