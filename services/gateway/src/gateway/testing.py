"""Test helpers: the whole platform behind the gateway over real HTTP (used by the gateway's
integration and browser tests and by bench/gateway)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib.util
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from nrn_kit.testing import eventually as _kit_eventually

ADMIN_EMAIL = "admin@nrn.example"
ADMIN_PASSWORD = "bootstrap-admin-password-1"
STAFF_PASSWORD = "staff-password-for-tests-1"
OFFICIAL_PASSWORD = "official-password-for-tests-1"
CLOSED_PORT_URL = "http://127.0.0.1:9"  # nothing listens there: a service that is down

CITIES_CSV = (
    "name,state,fips_place_code,population,population_year,population_source,"
    "unemployment_rate,unemployment_year,unemployment_source,adult_poverty_rate,adult_poverty_year,"
    "adult_poverty_source,population_change_2000_2010,population_change_source,official_email_domains\n"
    "Flint,MI,2629000,102434,2010,Census 2010,10.2,2013,BLS LAUS,41.2,2012,ACS 2008-2012,-18.1,Census,\n"
    "Youngstown,OH,3988000,66982,2010,Census 2010,11.9,2013,BLS LAUS,30.1,2012,ACS 2008-2012,-18.9,Census,\n"
    "Naperville,IL,1751622,141853,2010,Census 2010,5.1,2013,BLS LAUS,4.1,2012,ACS 2008-2012,5.8,Census,\n"
)


def library_installed() -> bool:
    return importlib.util.find_spec("library.app") is not None


def peer_installed() -> bool:
    return importlib.util.find_spec("peer.app") is not None


def partners_installed() -> bool:
    return importlib.util.find_spec("partners.app") is not None


def engagements_installed() -> bool:
    return importlib.util.find_spec("engagements.app") is not None


def notifications_installed() -> bool:
    return importlib.util.find_spec("notifications.app") is not None


# The kit's poller, at the gentler interval these HTTP-heavy checks always used.
eventually = functools.partial(_kit_eventually, interval=0.1)


@dataclass
class Platform:
    urls: dict[str, str]
    gateway: str
    http: httpx.AsyncClient  # to the gateway
    apps: dict[str, Any] = field(default_factory=dict)
    smtp: Any = None  # notifications.testing.SmtpCatcher: what the platform e-mailed

    async def token(self, email: str, password: str) -> str:
        response = await self.http.post("/api/v1/auth/token", data={"username": email, "password": password})
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    async def auth(self, email: str, password: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.token(email, password)}"}

    async def admin(self) -> dict[str, str]:
        return await self.auth(ADMIN_EMAIL, ADMIN_PASSWORD)

    async def create_staff(self, admin: dict[str, str], name: str, roles: list[str], expertise: list[str] | None = None) -> dict:
        email = f"{name.lower().replace(' ', '.')}.{uuid.uuid4().hex[:6]}@nrn.example"
        body = {"name": name, "title": "NRN staff", "email": email, "roles": roles, "password": STAFF_PASSWORD}
        if expertise:
            body["expertise"] = expertise
        response = await self.http.post("/api/v1/accounts/staff", json=body, headers=admin)
        assert response.status_code == 201, response.text
        return {**response.json()["account"], "password": STAFF_PASSWORD}

    async def sign_up_official(self, city_id: str, name: str = "Pat Official") -> dict:
        email = f"{name.lower().replace(' ', '.')}.{uuid.uuid4().hex[:6]}@example.org"
        response = await self.http.post("/api/v1/accounts", json={
            "name": name, "title": "Deputy Mayor", "email": email, "city_id": city_id, "password": OFFICIAL_PASSWORD})
        assert response.status_code == 201, response.text
        return {**response.json(), "password": OFFICIAL_PASSWORD}

    async def verified_official(self, admin: dict[str, str], city_id: str, name: str = "Pat Official") -> tuple[dict, dict[str, str]]:
        account = await self.sign_up_official(city_id, name)
        response = await self.http.post(f"/api/v1/accounts/{account['account_id']}/verify", headers=admin)
        assert response.status_code == 200, response.text
        return account, await self.auth(account["email"], OFFICIAL_PASSWORD)

    async def import_cities(self, admin: dict[str, str]) -> None:
        response = await self.http.post("/api/v1/cities/import", headers=admin,
                                        files={"file": ("cities.csv", CITIES_CSV.encode(), "text/csv")})
        assert response.status_code == 200, response.text

    async def submit(self, headers: dict[str, str], title: str, topic: str = "finance_budgets") -> dict:
        """Submit a question, waiting until requests311 has heard of the city (from accounts' events)."""
        async def attempt() -> dict | None:
            response = await self.http.post("/api/v1/requests", headers=headers, json={
                "title": title, "question": f"{title} We need options that other cities have tried, with costs.",
                "topic": topic, "urgency": "soon", "consent": "anonymous"})
            if response.status_code in (403, 422) and "city" in response.text:
                return None
            assert response.status_code == 201, response.text
            return response.json()

        return await eventually(attempt)

    async def link(self, email: str, kind: str = "reset") -> str:
        """The secret of the latest link accounts sent to ``email`` (``reset`` or ``confirm``), as the
        person would find it in their mail: read from accounts' outbox, the record the relay
        publishes on nrn.accounts.security.v1 (the API never answers with it)."""
        from accounts.testing import CONFIRMATION, RESET, latest_link

        db = self.apps["accounts"].state.runtime.db
        return await eventually(lambda: latest_link(db, email, RESET if kind == "reset" else CONFIRMATION))

    async def city_known_to_requests311(self, headers: dict[str, str], city_id: str) -> None:
        """requests311 learns cities from accounts' events: wait until a submission would pass."""
        async def known() -> bool:
            response = await self.http.get("/api/v1/requests", params={"city_id": city_id}, headers=headers)
            return response.status_code == 200

        await eventually(known)


@contextlib.asynccontextmanager
async def running_platform(kafka_bootstrap_servers: str, mongodb_uri: str, prefix: str,
                           gateway_overrides: dict[str, Any] | None = None,
                           accounts_overrides: dict[str, Any] | None = None) -> AsyncIterator[Platform]:
    from nrn_cli.system import running_system

    names = ("accounts", "requests311", *(("library",) if library_installed() else ()),
             *(("peer",) if peer_installed() else ()),
             *(("partners",) if partners_installed() else ()),
             *(("engagements",) if engagements_installed() else ()),
             *(("notifications",) if notifications_installed() else ()), "gateway")
    no_library = {} if library_installed() else {"library_url": CLOSED_PORT_URL}
    no_engagements = {} if engagements_installed() else {"engagements_url": CLOSED_PORT_URL}
    smtp, caught = None, None
    if notifications_installed():
        import tempfile
        from pathlib import Path

        from notifications.testing import SmtpCatcher

        # a real SMTP server on loopback catches what the platform sends, also for the "Caught mail" page
        caught = tempfile.TemporaryDirectory(prefix="nrn-caught-")
        smtp = SmtpCatcher(Path(caught.name)).start()
    overrides: dict[str, dict[str, Any]] = {
        # every test signs in from 127.0.0.1: the per-client failure throttle is set by the tests of it
        "accounts": {"bootstrap_admin_email": ADMIN_EMAIL, "bootstrap_admin_password": ADMIN_PASSWORD,
                     "argon2_time_cost": 1, "argon2_memory_kib": 8 * 1024, "signin_failures_per_client": "1000/minute",
                     **(accounts_overrides or {})},
        "gateway": {"write_rate_capacity": 1000, "upstream_read_timeout": 15.0,
                    "section_timeout": 10.0, **no_library, **no_engagements, **(gateway_overrides or {})},
        "requests311": {"sla_sweep_interval_seconds": 0, **no_library},
        "peer": {"hold_sweep_interval_seconds": 0},
        # pages and API only: nothing is delivered (an endpoint a test registers is never called)
        "partners": {"dispatcher_enabled": False},
        "engagements": {"orphan_sweep_interval_seconds": 0},
        "notifications": {"smtp_host": "127.0.0.1", "smtp_port": smtp.port if smtp else 9,
                          "caught_mail_dir": caught.name if caught else None,
                          "sender_poll_seconds": 0.1, "schedule_interval_seconds": 0},
    }
    try:
        async with running_system(kafka_bootstrap_servers=kafka_bootstrap_servers, mongodb_uri=mongodb_uri,
                                  prefix=prefix, names=names, overrides=overrides) as system:
            async with httpx.AsyncClient(base_url=system.urls["gateway"], timeout=30.0) as http:
                yield Platform(urls=system.urls, gateway=system.urls["gateway"], http=http, apps=system.apps,
                               smtp=smtp)
    finally:
        if smtp is not None:
            smtp.stop()
            caught.cleanup()


_PARAGRAPHS = {
    "Question": "Flint asked how to pay for replacing about twenty thousand lead service lines, and which federal and "
                "state programs can carry the cost without raising water rates beyond what residents can bear.",
    "Short answer": "Combine the Drinking Water State Revolving Fund, with its principal forgiveness for disadvantaged "
                    "communities, with lead-specific federal grants, and sequence the work by risk so that early phases "
                    "qualify for the most generous terms while an inventory of service lines is completed.",
    "Options, with examples from other cities": "Newark financed a rapid replacement with county bonds repaid from "
                    "state loan forgiveness; Milwaukee used an ordinance requiring owners to share costs with a city "
                    "subsidy; Benton Harbor relied on state emergency appropriations with federal technical support.",
    "Resources": "The state revolving fund intended use plan, the federal lead service line inventory guidance, and "
                 "peer contacts in Newark and Milwaukee who ran the programs and offered to speak with your staff.",
    "Next steps": "Finish the inventory, apply in the next revolving fund cycle, set up a replacement ordinance, and "
                  "schedule a call with the Newark program director within the next two weeks.",
}


def memo_text(words_per_section: int = 190) -> str:
    """A complete memo in Markdown with every section and about 950 words (800–1,800 is the range)."""
    parts = []
    for heading, paragraph in _PARAGRAPHS.items():
        sentences = []
        count = 0
        while count < words_per_section:
            sentences.append(paragraph)
            count += len(paragraph.split())
        parts.append(f"## {heading}\n\n" + " ".join(sentences))
    return "\n\n".join(parts) + "\n"


def walk_routes(routes: Any, prefix: str = "") -> list[tuple[str, frozenset[str]]]:
    """Every (path, methods) of an app or router, through included routers (FastAPI keeps
    included routers as wrappers, so ``app.routes`` alone does not list their routes)."""
    from fastapi.routing import APIRoute

    out: list[tuple[str, frozenset[str]]] = []
    for route in getattr(routes, "routes", routes):
        if isinstance(route, APIRoute):
            out.append((prefix + route.path, frozenset(route.methods)))
        elif hasattr(route, "original_router"):
            out += walk_routes(route.original_router, prefix + route.include_context.prefix)
    return out


@contextlib.contextmanager
def platform_in_thread(kafka_bootstrap_servers: str, mongodb_uri: str, prefix: str,
                       gateway_overrides: dict[str, Any] | None = None, timeout: float = 120.0) -> Iterator[Platform]:
    """The platform on its own event loop in a background thread, for synchronous callers
    (schemathesis, load generators) that would otherwise block the servers' loop."""
    import threading

    box: dict[str, Any] = {}
    started = threading.Event()

    async def main() -> None:
        box["stop"] = asyncio.Event()
        try:
            async with running_platform(kafka_bootstrap_servers, mongodb_uri, prefix, gateway_overrides) as platform:
                box["platform"] = platform
                started.set()
                await box["stop"].wait()
        except BaseException as exc:  # noqa: BLE001 - reported to the caller below
            box["error"] = exc
            started.set()

    def run() -> None:
        loop = asyncio.new_event_loop()
        box["loop"] = loop
        loop.run_until_complete(main())
        loop.close()

    thread = threading.Thread(target=run, name=f"platform-{prefix}", daemon=True)
    thread.start()
    if not started.wait(timeout) or "error" in box:
        raise RuntimeError(f"the platform did not start: {box.get('error')!r}")
    try:
        yield box["platform"]
    finally:
        box["loop"].call_soon_threadsafe(box["stop"].set)
        thread.join(60)


# --- comparing the gateway's input models with a service's --------------------------------------

SCHEMA_LIMITS = ("type", "minLength", "maxLength", "pattern", "minItems", "maxItems", "minimum", "maximum",
                 "exclusiveMinimum", "exclusiveMaximum", "format", "const")


def schema_constraints(schema: dict[str, Any], defs: dict[str, Any], keep: tuple[str, ...] = SCHEMA_LIMITS) -> Any:
    """What a JSON schema constrains (the `keep` keywords, enums, items, properties and which are
    required), without titles, defaults, descriptions or `| None`: equal for two models that accept
    the same input."""
    if "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    if "anyOf" in schema:
        branches = [b for b in schema["anyOf"] if b.get("type") != "null"]
        if len(branches) == 1:
            return schema_constraints(branches[0], defs, keep)
        return {"anyOf": [schema_constraints(b, defs, keep) for b in branches]}
    out: dict[str, Any] = {k: schema[k] for k in keep if k in schema}
    if "enum" in schema:
        out["enum"] = sorted(schema["enum"])
    if "items" in schema:
        out["items"] = schema_constraints(schema["items"], defs, keep)
    if "properties" in schema:
        out["properties"] = {name: schema_constraints(s, defs, keep) for name, s in schema["properties"].items()}
        out["required"] = sorted(schema.get("required", []))
    return out


# --- browser tests (Playwright objects are passed in; this module does not import Playwright) --------

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


async def new_page(browser, platform: Platform, problems: list[str], **options):  # noqa: ANN001, ANN201
    context = await browser.new_context(base_url=platform.gateway, **options)
    page = await context.new_page()
    # A CSP violation or a script error is a bug of the page, not noise.
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 500 or (
        r.status == 404 and "/static/" in r.url) else None)
    return page


async def choose_city(page, label: str, typed: str, option: str) -> None:  # noqa: ANN001
    """Use the city type-ahead as a person does: type, wait for the list, choose with the keyboard."""
    box = page.get_by_role("combobox", name=label)
    await box.fill("")
    await box.press_sequentially(typed, delay=40)
    choice = page.get_by_role("option", name=re.compile(re.escape(option)))
    await choice.first.wait_for()
    options = await page.get_by_role("option").all_inner_texts()
    index = next(i for i, text in enumerate(options) if option in text)
    for _ in range(index + 1):
        await box.press("ArrowDown")
    await box.press("Enter")


async def sign_in(page, email: str, password: str) -> None:  # noqa: ANN001
    await page.goto("/signin")
    if "/signin" not in page.url:  # already signed in as someone else: sign out first
        await page.get_by_role("button", name=re.compile("Sign out")).click()
        await page.goto("/signin")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_load_state("networkidle")
