"""Fixtures: the accounts app on the session's real broker and database, served over real HTTP."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import httpx
import pytest

from accounts.app import create_app
from accounts.config import Settings
from nrn_kit.serving import serve_app
from nrn_kit.testing import eventually

ADMIN_EMAIL = "admin@nrn.example"
ADMIN_PASSWORD = "bootstrap-admin-pw-1"

CITIES_CSV = (
    "name,state,fips_place_code,population,population_year,population_source,"
    "unemployment_rate,unemployment_year,unemployment_source,adult_poverty_rate,adult_poverty_year,"
    "adult_poverty_source,population_change_2000_2010,population_change_source,official_email_domains\n"
    "Flint,MI,2629000,102434,2010,Census 2010,10.2,2013,BLS LAUS,41.2,2012,ACS 2008-2012,-18.1,Census,cityofflint.com\n"
    "Naperville,IL,1751622,141853,2010,Census 2010,5.1,2013,BLS LAUS,4.1,2012,ACS 2008-2012,5.8,Census,\n"
    "Youngstown,OH,3988000,66982,2010,Census 2010,11.9,2013,BLS LAUS,,,,-18.9,Census,\n"
)


class AccountsClient:
    ADMIN_EMAIL = ADMIN_EMAIL
    ADMIN_PASSWORD = ADMIN_PASSWORD
    CITIES_CSV = CITIES_CSV
    eventually = staticmethod(eventually)

    def __init__(self, http: httpx.AsyncClient, base_url: str, app) -> None:  # noqa: ANN001
        self.http = http
        self.base_url = base_url
        self.app = app

    @property
    def runtime(self):  # noqa: ANN201
        return self.app.state.runtime

    async def sign_in(self, email: str, password: str, **headers: str) -> httpx.Response:
        return await self.http.post("/auth/token", data={"username": email, "password": password}, headers=headers)

    async def token(self, email: str, password: str) -> str:
        response = await self.sign_in(email, password)
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    async def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.token(ADMIN_EMAIL, ADMIN_PASSWORD)}"}

    async def import_csv(self, text: str, headers: dict[str, str]) -> httpx.Response:
        return await self.http.post(
            "/cities/import", files={"file": ("cities.csv", text.encode(), "text/csv")}, headers=headers
        )


@pytest.fixture
def accounts_settings(make_settings) -> Callable[..., Settings]:  # noqa: ANN001
    def build(**overrides) -> Settings:
        values = dict(bootstrap_admin_email=ADMIN_EMAIL, bootstrap_admin_password=ADMIN_PASSWORD)
        values.update(overrides)
        return make_settings(Settings, **values)

    return build


@contextlib.asynccontextmanager
async def running(settings: Settings):
    app = create_app(settings)
    async with serve_app(app) as base_url, httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        yield AccountsClient(http, base_url, app)


@pytest.fixture
async def accounts(accounts_settings):  # noqa: ANN001
    async with running(accounts_settings()) as client:
        yield client


@pytest.fixture
def start_accounts():  # noqa: ANN201
    """`async with start_accounts(settings) as client:` — for tests that need their own settings or restarts."""
    return running
