"""schemathesis over every route of the public API, against the real services: no 5xx.

Each generated case is sent three times — anonymously, as a verified official and as a staff
administrator — so both the refusals and the paths that reach the services are exercised."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from gateway.testing import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    CITIES_CSV,
    OFFICIAL_PASSWORD,
    Platform,
    platform_in_thread,
)

pytestmark = pytest.mark.integration
MAX_EXAMPLES = 8


@pytest.fixture(scope="module")
def fuzz_platform(nrn_infra) -> Iterator[Platform]:  # noqa: ANN001
    # The rate limit out of the way (a test setting): otherwise most cases meet a 429 before any route.
    overrides = {"write_rate_capacity": 1_000_000, "write_rate_refill": 1_000_000}
    with platform_in_thread(nrn_infra.kafka_bootstrap_servers, nrn_infra.mongodb_uri, f"f{uuid.uuid4().hex[:8]}",
                            gateway_overrides=overrides) as platform:
        yield platform


@pytest.fixture(scope="module")
def callers(fuzz_platform: Platform) -> dict[str, dict[str, str]]:
    with httpx.Client(base_url=fuzz_platform.gateway, timeout=30) as http:
        def token(email: str, password: str) -> dict[str, str]:
            r = http.post("/api/v1/auth/token", data={"username": email, "password": password})
            assert r.status_code == 200, r.text
            return {"Authorization": f"Bearer {r.json()['access_token']}"}

        admin = token(ADMIN_EMAIL, ADMIN_PASSWORD)
        assert http.post("/api/v1/cities/import", headers=admin,
                         files={"file": ("c.csv", CITIES_CSV.encode(), "text/csv")}).status_code == 200
        email = f"fuzz.{uuid.uuid4().hex[:6]}@example.org"
        account = http.post("/api/v1/accounts", json={"name": "Fuzz Official", "title": "Clerk", "email": email,
                                                       "city_id": "mi-flint", "password": OFFICIAL_PASSWORD}).json()
        assert http.post(f"/api/v1/accounts/{account['account_id']}/verify", headers=admin).status_code == 200
        return {"anonymous": {}, "official": token(email, OFFICIAL_PASSWORD), "admin": admin}


def _spec() -> dict[str, Any]:
    # The document is the app's own; building the app opens no connection.
    from gateway.app import create_app
    from gateway.config import Settings

    return create_app(Settings(cookie_secure=False)).openapi()


schema = schemathesis.openapi.from_dict(_spec())


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])
def test_no_route_answers_5xx(case: Any, fuzz_platform: Platform, callers: dict[str, dict[str, str]]) -> None:
    for name, headers in callers.items():
        response = case.call(base_url=fuzz_platform.gateway, headers=headers)
        assert response.status_code < 500, (
            f"{name}: {case.method} {case.formatted_path} -> {response.status_code} {response.text[:500]}"
        )
        # the rate limits are out of the way here, so every case reaches the routes (write routes included)
        assert response.status_code != 429, f"{name}: {case.method} {case.formatted_path} met a rate limit"
