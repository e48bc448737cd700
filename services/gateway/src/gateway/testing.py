"""Test helpers: the whole platform behind the gateway over real HTTP (used by the gateway's
integration and browser tests and by bench/gateway)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib.util
import re
import uuid
from datetime import datetime, timedelta, timezone
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

    async def sign_up_official(self, city_id: str, name: str = "Pat Official", phone: str | None = None) -> dict:
        email = f"{name.lower().replace(' ', '.')}.{uuid.uuid4().hex[:6]}@example.org"
        response = await self.http.post("/api/v1/accounts", json={
            "name": name, "title": "Deputy Mayor", "email": email, "city_id": city_id, "password": OFFICIAL_PASSWORD,
            **({"phone": phone} if phone else {})})
        assert response.status_code == 201, response.text
        assert response.headers["location"] == f"/api/v1/accounts/{response.json()['account_id']}"
        return {**response.json(), "password": OFFICIAL_PASSWORD}

    async def verified_official(self, admin: dict[str, str], city_id: str, name: str = "Pat Official",
                                phone: str | None = None) -> tuple[dict, dict[str, str]]:
        account = await self.sign_up_official(city_id, name, phone)
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
        """requests311 learns cities from accounts' events: wait until a submission would pass — its
        read model holds the city with a name (what a submission checks; listing answers 200 before)."""
        from requests311.adapters.mongo import get_city  # the very check a submission makes

        db = self.apps["requests311"].state.runtime.db

        async def known() -> bool:
            if await get_city(db, city_id) is None:
                return False
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


async def shoot(page, shots: Any, name: str) -> None:  # noqa: ANN001
    """The page as it is now, full length, at 1280 and at 390 px wide: ``shots/{name}-1280.png`` and
    ``-390.png`` (the viewport it had is restored). caret="initial": hiding the caret injects a style
    element, which the pages' CSP refuses."""
    size = page.viewport_size
    for width, height in ((1280, 900), (390, 844)):
        await page.set_viewport_size({"width": width, "height": height})
        await page.screenshot(path=shots / f"{name}-{width}.png", full_page=True, caret="initial")
    await page.set_viewport_size(size)


async def new_page(browser, platform: Platform, problems: list[str], **options):  # noqa: ANN001, ANN201
    context = await browser.new_context(base_url=platform.gateway, **options)
    page = await context.new_page()
    # A CSP violation or a script error is a bug of the page, not noise.
    # A refused form answers with its 4xx and the form kept (the response handler below still counts
    # a missing static file): the browser's "Failed to load resource" for that page is not a fault.
    page.on("console", lambda m: problems.append(f"console {m.type} on {page.url} ({m.location.get('url')}:{m.location.get('lineNumber')}): {m.text}")
            if m.type == "error" and not m.text.startswith("Failed to load resource: the server responded with a "
                                                           "status of 4") else None)
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


# --- a staff desk: one person per staff role, a verified official, questions in any status ------------


@dataclass
class Person:
    account_id: str
    name: str
    email: str
    password: str
    headers: dict[str, str]


@dataclass
class Desk:
    """The people of a help desk day on a running platform (the API is used to set the scene; the tests
    then act through the pages)."""

    platform: Platform
    admin: Person
    lead: Person      # triage lead
    expert: Person    # subject-matter expert in finance and housing
    expert2: Person   # subject-matter expert in broadband
    pm: Person        # program manager and memo reviewer
    curator: Person
    official: Person  # a verified official of Gary, IN (Central time)

    def by_role(self) -> dict[str, Person]:
        return {"administrator": self.admin, "triage_lead": self.lead, "subject_matter_expert": self.expert,
                "program_manager": self.pm, "curator": self.curator}

    async def act(self, who: Person, rid: str, suffix: str, body: dict[str, Any] | None = None,
                  expect: int = 200, method: str = "POST") -> dict[str, Any]:
        """One action on a request through the API, on its current version."""
        response = None
        for _ in range(5):
            current = (await self.platform.http.get(f"/api/v1/requests/{rid}", headers=who.headers)).json()
            response = await self.platform.http.request(method, f"/api/v1/requests/{rid}/{suffix}", headers=who.headers,
                                                        json={**(body or {}), "version": current["version"]})
            if not (response.status_code == 409 and response.json().get("rule") == "version_mismatch"):
                break
        assert response is not None and response.status_code == expect, f"{suffix}: {response.text}"
        return response.json()

    async def ask(self, title: str, topic: str = "finance_budgets", urgency: str = "routine") -> str:
        async def attempt() -> dict | None:
            response = await self.platform.http.post("/api/v1/requests", headers=self.official.headers, json={
                "title": title, "question": f"{title} We need options other cities have tried, with their costs.",
                "topic": topic, "urgency": urgency, "consent": "anonymous",
                "preferred_call_times": ["Weekday mornings"]})
            if response.status_code in (403, 422) and "city" in response.text:
                return None
            assert response.status_code == 201, response.text
            return response.json()

        return (await eventually(attempt))["id"]

    async def to_status(self, title: str, status: str, *, topic: str = "finance_budgets", urgency: str = "routine",
                        call_in: timedelta | None = None) -> str:
        """A new question driven through the API to `status` (submitted … call_scheduled, closed)."""
        order = ["submitted", "triaged", "assigned", "memo_drafted", "memo_in_review", "memo_returned",
                 "memo_approved", "memo_delivered", "call_scheduled", "closed"]
        rid = await self.ask(title, topic, urgency)
        steps = order[1: order.index(status) + 1]
        for step in steps:
            if step == "triaged":
                await self.act(self.lead, rid, "triage", {"topic": topic, "urgency": urgency})
            elif step == "assigned":
                await self.act(self.lead, rid, "assign", {"expert_id": self.expert.account_id})
            elif step == "memo_drafted":
                await self.act(self.expert, rid, "memo/drafts", {"body": memo_text()}, expect=201)
            elif step == "memo_in_review":
                await self.act(self.expert, rid, "memo/submit", {})
            elif step == "memo_returned":
                await self.act(self.pm, rid, "memo/return", {"comments": [
                    "Add an example from a Midwestern city of Flint's size.", "Name the state program office."]})
            elif step == "memo_approved":
                if "memo_returned" in steps:
                    await self.act(self.expert, rid, "memo/drafts", {"body": memo_text()}, expect=201)
                    await self.act(self.expert, rid, "memo/submit", {})
                await self.act(self.pm, rid, "memo/approve", {})
            elif step == "memo_delivered":
                await self.act(self.pm, rid, "memo/deliver", {})
            elif step == "call_scheduled":
                starts = (datetime.now(timezone.utc) + (call_in or timedelta(days=3))).replace(microsecond=0)
                await self.act(self.expert, rid, "call-slots", {
                    "slots": [{"starts_at": starts.isoformat(), "duration_minutes": 30}],
                    "outside_business_hours_confirmed": True, "meeting": "Video: https://meet.example.org/nrn"})
                view = (await self.platform.http.get(f"/api/v1/requests/{rid}", headers=self.official.headers)).json()
                await self.act(self.official, rid, "call/schedule", {"slot_id": view["call_slots"][0]["id"]})
            elif step == "closed":
                await self.act(self.pm, rid, "close", {"note": "Answered by the memo."})
        return rid


# A city in Central time (its zone named, as a file from the Census with coordinates would give it), so the
# desk's call times read differently in the city and at NRN's Eastern office.
DESK_CITY = "in-gary"
DESK_CITIES_CSV = (
    "name,state,population,population_year,population_source,population_change_2000_2010,population_change_source,"
    "time_zone\nGary,IN,80294,2010,Census 2010,-21.9,Census 2000 and 2010,America/Chicago\n"
    "Flint,MI,102434,2010,Census 2010,-18.1,Census 2000 and 2010,America/Detroit\n")


async def staff_desk(platform: Platform) -> Desk:
    """Cities imported, one staff member per role, a verified official of Gary, IN (Central time);
    requests311 has heard of them all (it learns people and cities from accounts' events)."""
    admin_h = await platform.admin()
    await platform.import_cities(admin_h)
    response = await platform.http.post("/api/v1/cities/import", headers=admin_h,
                                        files={"file": ("zones.csv", DESK_CITIES_CSV.encode(), "text/csv")})
    assert response.status_code == 200 and not response.json()["failed"], response.text
    me = (await platform.http.get("/api/v1/me", headers=admin_h)).json()

    async def staff(name: str, roles: list[str], expertise: list[str] | None = None) -> Person:
        made = await platform.create_staff(admin_h, name, roles, expertise)
        return Person(made["account_id"], name, made["email"], made["password"],
                      await platform.auth(made["email"], made["password"]))

    lead = await staff("Lee Lead", ["triage_lead"])
    expert = await staff("Erin Expert", ["subject_matter_expert"], ["finance_budgets", "housing"])
    expert2 = await staff("Bo Broadband", ["subject_matter_expert"], ["broadband"])
    pm = await staff("Pat Manager", ["program_manager", "reviewer"])
    curator = await staff("Cora Curator", ["curator"])
    account, official_h = await platform.verified_official(admin_h, DESK_CITY, "Olive Official", "219-555-0142")
    official = Person(account["account_id"], "Olive Official", account["email"], OFFICIAL_PASSWORD, official_h)
    admin = Person(me["account_id"], "Administrator", ADMIN_EMAIL, ADMIN_PASSWORD, admin_h)
    await platform.city_known_to_requests311(official_h, DESK_CITY)

    async def experts_known() -> bool:
        found = (await platform.http.get("/api/v1/experts", headers=lead.headers)).json()
        return {expert.account_id, expert2.account_id} <= {e["id"] for e in found if e.get("active")}

    await eventually(experts_known)
    return Desk(platform, admin, lead, expert, expert2, pm, curator, official)
