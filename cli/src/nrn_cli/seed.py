"""Demo data for `nrn up --seed`, put in through the gateway's public API (`/api/v1`) exactly as people
would: every change goes through the services' own rules, outboxes and events.

What it creates (see `nrn_cli.seed_content` for the data): staff (a program manager, a triage lead, two
subject-matter experts, a curator, two application reviewers), two verified officials of two eligible cities and one official
awaiting verification, 311 questions in several states (submitted, awaiting information, assigned,
memo in review, memo delivered with call slots offered, closed with feedback), published library
resources labelled "NRN demo content", a federal clearinghouse of well-known programmes marked as
demo entries, the peer network, municipal health data (illustrative values), the pro bono talent network
(three made-up partner organizations with their coordinators and confirmed volunteers, city projects open
and waiting for review, a match offered and one accepted with hours logged and approved), and direct assistance (a funding round; one city's application accepted
with its engagement under way, another's in review).

It converges rather than replays: each thing is looked up first (accounts by email, questions by
title in their city, resources by title, programmes by name) and only what is missing is created or
moved on, so running it again against the same data changes nothing and a run that stopped half-way
is finished by the next one.

Demo passwords are derived from the administrator's password (HMAC), so a second run knows them
without storing them anywhere and nobody can guess them without that password.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import httpx

from . import seed_content as content

DEFAULT_ADMIN_EMAIL = "admin@nrn.example"  # .example: reserved (RFC 2606); accounts refuses .localhost for staff
FORMER_ADMIN_EMAIL = "admin@nrn.localhost"  # the default before accounts checked NRN_BOOTSTRAP_ADMIN_EMAIL
ADMIN_FILE = "seed-admin.json"  # in the data dir: the generated development administrator
API = "/api/v1"
EASTERN = ZoneInfo("America/New_York")
# the federal holidays requests311 counts as closed (5 U.S.C. 6103): no demo call is offered on one
_US_HOLIDAYS = holidays.US(observed=True)
MAX_ATTEMPTS = 30  # per question: actions taken plus version races retried

Progress = Callable[[int, int, str], None]

# How far along its life a question is, to leave alone one that someone moved past the demo's target.
_RANK = {"submitted": 0, "triaged": 1, "awaiting_information": 1, "assigned": 2, "memo_drafted": 3,
         "memo_returned": 3, "memo_in_review": 4, "memo_approved": 5, "memo_delivered": 6, "call_missed": 6,
         "call_scheduled": 7, "call_completed": 8, "closed": 9}


class SeedError(RuntimeError):
    """An expected failure: which step, what happened, and the HTTP problem body when there is one."""

    def __init__(self, step: str, message: str, *, status: int | None = None, problem: Any = None) -> None:
        self.step, self.message, self.status, self.problem = step, message, status, problem
        text = f"seeding failed at step '{step}': {message}"
        if status is not None:
            text += f" (HTTP {status})"
        if problem is not None:
            text += "\n  problem: " + (json.dumps(problem, ensure_ascii=False) if not isinstance(problem, str) else problem)
        super().__init__(text)


@dataclass
class Login:
    role: str
    name: str
    email: str
    password: str | None  # None: not shown (the administrator's own password, given by the caller)
    city: str | None = None


@dataclass
class SeedReport:
    logins: list[Login] = field(default_factory=list)
    created: Counter[str] = field(default_factory=Counter)  # what this run created or moved on
    existing: Counter[str] = field(default_factory=Counter)  # what was already there
    cities: dict[str, str] = field(default_factory=dict)  # city_id -> "Name, ST" of the demo officials
    questions: dict[str, str] = field(default_factory=dict)  # question key -> status reached
    notes: list[str] = field(default_factory=list)  # things left as found (someone changed them)
    tour: list[str] = field(default_factory=list)  # where to look first

    @property
    def changed(self) -> bool:
        return sum(self.created.values()) > 0

    def logins_text(self) -> str:
        width = max((len(login.role) for login in self.logins), default=10)
        lines = []
        for login in self.logins:
            password = login.password if login.password is not None else "(your NRN_BOOTSTRAP_ADMIN_PASSWORD)"
            where = f"   {login.city}" if login.city else ""
            lines.append(f"  {login.role:<{width}}  {login.email:<40} {password}{where}")
        return "\n".join(lines)


def demo_password(admin_password: str, email: str) -> str:
    """A demo account's password: reproducible from the administrator's password, unguessable without it."""
    digest = hmac.new(admin_password.encode(), f"nrn-demo-login:{email.lower()}".encode(), hashlib.sha256).digest()
    return "demo-" + base64.urlsafe_b64encode(digest[:15]).decode()


def development_admin(data_dir: Path, email: str | None = None) -> tuple[str, str, bool]:
    """The development administrator for `nrn up --seed` when none is configured: `admin@nrn.example`
    with a random password kept (0600) in the data dir, so later runs on the same data sign in again.
    Returns (email, password, created_now)."""
    email = email or DEFAULT_ADMIN_EMAIL
    path = data_dir / ADMIN_FILE
    password = None
    try:
        stored = json.loads(path.read_text())
        if stored.get("email") == email and stored.get("password"):
            return email, stored["password"], False
        if stored.get("email") == FORMER_ADMIN_EMAIL and email == DEFAULT_ADMIN_EMAIL and stored.get("password"):
            # A data dir seeded with the former default: the new administrator keeps its password,
            # so the demo logins derived from it still sign in.
            password = str(stored["password"])
    except (OSError, ValueError):
        pass
    password = password or secrets.token_urlsafe(18)
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"email": email, "password": password}, f)
    return email, password, True


def seed(urls: dict[str, str], progress: Progress | None = None, *, admin_email: str | None = None,
         admin_password: str | None = None, show_admin_password: bool = False, wait_timeout: float = 180.0,
         today: date | None = None) -> SeedReport:
    """Load the demo data through `urls['gateway']`. Credentials default to NRN_BOOTSTRAP_ADMIN_EMAIL /
    NRN_BOOTSTRAP_ADMIN_PASSWORD. Raises SeedError naming the step and the HTTP problem."""
    email = admin_email or os.environ.get("NRN_BOOTSTRAP_ADMIN_EMAIL")
    password = admin_password or os.environ.get("NRN_BOOTSTRAP_ADMIN_PASSWORD")
    if not email or not password:
        raise SeedError("administrator", "set NRN_BOOTSTRAP_ADMIN_EMAIL and NRN_BOOTSTRAP_ADMIN_PASSWORD "
                                         "(the seed works as the bootstrap administrator)")
    seeder = _Seeder(urls["gateway"], email, password, progress=progress or (lambda d, t, w: None),
                     show_admin_password=show_admin_password, wait_timeout=wait_timeout,
                     today=today or datetime.now(EASTERN).date())
    return asyncio.run(seeder.run())


# ----------------------------------------------------------------------------------------------- machinery


def _problem(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:500] or None


def _rule(response: httpx.Response) -> str | None:
    body = _problem(response)
    return body.get("rule") if isinstance(body, dict) else None


def _aware(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class _Seeder:
    def __init__(self, gateway: str, admin_email: str, admin_password: str, *, progress: Progress,
                 show_admin_password: bool, wait_timeout: float, today: date) -> None:
        self.gateway = gateway.rstrip("/")
        self.admin_email, self.admin_password = admin_email, admin_password
        self.show_admin_password = show_admin_password
        self.progress, self.wait_timeout, self.today = progress, wait_timeout, today
        self.report = SeedReport()
        self.tokens: dict[str, str] = {}
        self.accounts: dict[str, dict[str, Any]] = {}  # content key -> account
        self.passwords: dict[str, str] = {}  # email -> password
        self.city_of: dict[str, dict[str, Any]] = {}  # official key -> city summary
        self.cities: list[dict[str, Any]] = []  # the eligible cities, most populous first
        self.total = (2 + len(content.STAFF) + len(content.OFFICIALS) + 1 + len(content.QUESTIONS)
                      + len(content.RESOURCES) + len(content.programs(today)) + 2 + 3 + 1 + 3 + 1
                      + len(content.PROBONO_ORGANIZATIONS) + 2)
        self.done = 0
        self.http: httpx.AsyncClient

    def step(self, what: str) -> None:
        self.done += 1
        self.progress(min(self.done, self.total), self.total, what)

    async def run(self) -> SeedReport:
        limits = httpx.Timeout(30.0, connect=5.0)
        async with httpx.AsyncClient(base_url=self.gateway, timeout=limits) as self.http:
            self.progress(0, self.total, "seed: starting")
            cities = await self.eligible_cities()
            self.cities = cities
            self.step("seed: cities are eligible")
            await self.token(self.admin_email, step="sign in as the administrator")
            self.report.logins.append(Login("administrator", "Administrator", self.admin_email,
                                            self.admin_password if self.show_admin_password else None))
            self.step("seed: administrator signed in")
            for spec in content.STAFF:
                await self.staff(spec)
                self.step(f"seed: staff {spec['name']}")
            for spec in content.OFFICIALS:
                await self.official(spec, cities)
                self.step(f"seed: official {spec['name']}")
            await self.partner(content.PARTNER)
            self.step("seed: partner organization and its webhook administrator")
            for spec in content.QUESTIONS:
                await self.question(spec)
                self.step(f"seed: 311 question ({spec['target']})")
            await self.review_public_record()
            self.step("seed: answers reviewed for the public record")
            existing = await self.existing_resources()
            for spec in content.RESOURCES:
                await self.resource(spec, existing)
                self.step("seed: library resource")
            programs = await self.existing_programs()
            for spec in content.programs(self.today):
                await self.program(spec, programs)
                self.step(f"seed: programme ({spec['agency']})")
            await self.peer_network()
            await self.health_data()
            await self.probono()
            await self.direct_assistance()
            await self.searchable()
            await self.notified()
            self.step("seed: notifications and emails")
            self.step("seed: done")
        return self.report

    # --- HTTP ---------------------------------------------------------------------------------------------

    async def call(self, step: str, method: str, path: str, *, as_: str | None = None,
                   expect: tuple[int, ...] = (200,), allow: tuple[int, ...] = (), **kwargs: Any) -> httpx.Response:
        """One call through the gateway. Rate limits (429) and, for reads, a service that is briefly
        unavailable (502/503/504) are waited out; any other unexpected answer is a SeedError."""
        headers = dict(kwargs.pop("headers", None) or {})
        if as_:
            headers["Authorization"] = f"Bearer {await self.token(as_, step=step)}"
        waited = 0.0
        while True:
            try:
                response = await self.http.request(method, API + path, headers=headers, **kwargs)
            except httpx.HTTPError as exc:
                raise SeedError(step, f"{method} {API}{path}: could not reach the gateway at {self.gateway} "
                                      f"({type(exc).__name__}: {exc})") from None
            retryable = response.status_code == 429 or (method == "GET" and response.status_code in (502, 503, 504))
            if retryable and waited < self.wait_timeout:
                pause = min(float(response.headers.get("retry-after", "1") or 1), 10.0)
                await asyncio.sleep(pause)
                waited += pause
                continue
            if response.status_code in expect or response.status_code in allow:
                return response
            raise SeedError(step, f"{method} {API}{path} answered {response.status_code}",
                            status=response.status_code, problem=_problem(response))

    async def token(self, email: str, *, step: str) -> str:
        if email in self.tokens:
            return self.tokens[email]
        password = self.admin_password if email == self.admin_email else self.passwords.get(email)
        if password is None:
            raise SeedError(step, f"no password known for {email}")
        response = await self.call(f"{step}: sign in as {email}", "POST", "/auth/token",
                                   data={"username": email, "password": password}, allow=(401,))
        if response.status_code == 401:
            hint = ("check NRN_BOOTSTRAP_ADMIN_EMAIL / NRN_BOOTSTRAP_ADMIN_PASSWORD" if email == self.admin_email
                    else "the demo account exists with another password (its password is derived from the "
                         "administrator's; was the administrator's password changed?)")
            raise SeedError(step, f"could not sign in as {email}: {hint}", status=401, problem=_problem(response))
        self.tokens[email] = response.json()["access_token"]
        return self.tokens[email]

    async def eventually(self, step: str, check: Callable[[], Awaitable[Any]], what: str) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait_timeout
        pause = 0.1
        while True:
            value = await check()
            if value:
                return value
            if loop.time() > deadline:
                raise SeedError(step, f"gave up after {self.wait_timeout:.0f} s waiting for {what}")
            await asyncio.sleep(pause)
            pause = min(pause * 1.5, 1.0)

    # --- cities -------------------------------------------------------------------------------------------

    async def eligible_cities(self) -> list[dict[str, Any]]:
        """The starter cities load at accounts' start (STARTER_CITIES); wait until enough are eligible,
        then prefer the most populous, one per state."""
        step = "wait for eligible cities"
        needed = 1 + max(spec["city"] for spec in content.OFFICIALS)

        async def enough() -> dict[str, Any] | None:
            page = (await self.call(step, "GET", "/cities", params={"eligible": "true", "limit": 1})).json()
            return page if page.get("total", 0) >= needed else None

        await self.eventually(step, enough, f"{needed} eligible cities (are STARTER_CITIES loaded?)")
        page = (await self.call(step, "GET", "/cities", params={"eligible": "true", "limit": 100})).json()
        by_size = sorted(page["items"], key=lambda c: (-(c.get("population") or 0), c["city_id"]))
        chosen: list[dict[str, Any]] = []
        for city in by_size:
            if city.get("state") not in {c.get("state") for c in chosen}:
                chosen.append(city)
        return chosen + [c for c in by_size if c not in chosen]

    # --- accounts -----------------------------------------------------------------------------------------

    async def find_account(self, step: str, email: str) -> dict[str, Any] | None:
        page = (await self.call(step, "GET", "/accounts", as_=self.admin_email,
                                params={"q": email, "limit": 200})).json()
        return next((a for a in page.get("items", []) if a.get("email", "").lower() == email.lower()), None)

    async def staff(self, spec: dict[str, Any]) -> None:
        email = content.demo_email(spec["name"])
        password = demo_password(self.admin_password, email)
        self.passwords[email] = password
        step = f"staff account {email}"
        account = await self.find_account(step, email)
        if account is None:
            body = {"name": spec["name"], "title": spec["title"], "email": email, "roles": spec["roles"],
                    "password": password, **({"expertise": spec["expertise"]} if spec.get("expertise") else {})}
            response = await self.call(step, "POST", "/accounts/staff", as_=self.admin_email, json=body,
                                       expect=(201,))
            account = response.json()["account"]
            self.report.created["staff"] += 1
        else:
            self.report.existing["staff"] += 1
            if account.get("kind") != "staff":
                raise SeedError(step, f"{email} is already registered as {account.get('kind')}, not staff")
            for role in [r for r in spec["roles"] if r not in account.get("roles", [])]:
                grant = {"role": role, **({"expertise": spec["expertise"]} if spec.get("expertise") else {})}
                account = (await self.call(step, "POST", f"/accounts/{account['account_id']}/roles",
                                           as_=self.admin_email, json=grant)).json()
                self.report.created["staff roles"] += 1
        self.accounts[spec["key"]] = account
        self.report.logins.append(Login(spec["label"], spec["name"], email, password))

    async def partner(self, spec: dict[str, Any]) -> None:
        email = content.demo_email(spec["administrator"])
        password = demo_password(self.admin_password, email)
        step = f"partner {spec['name']}"
        if await self.find_account(step, email) is None:
            partner = await self.partner_named(step, spec["name"], spec["kind"])
            await self.call(step, "POST", f"/partners/{partner['partner_id']}/members", as_=self.admin_email,
                            expect=(201,), json={"name": spec["administrator"], "title": spec["title"],
                                                 "email": email, "password": password, "administrator": True})
            self.report.created["partner administrators"] += 1
        else:
            self.report.existing["partners"] += 1
        self.report.logins.append(Login("partner administrator", spec["administrator"], email, password))

    async def partner_named(self, step: str, name: str, kind: str) -> dict[str, Any]:
        """The partner organization of that name, made (of ``kind``) when there is none yet."""
        listed = (await self.call(step, "GET", "/partners", as_=self.admin_email, params={"limit": 200})).json()
        partner = next((p for p in listed.get("items", []) if p.get("name") == name), None)
        if partner is None:
            partner = (await self.call(step, "POST", "/partners", as_=self.admin_email, expect=(201,),
                                       json={"name": name, "kind": kind})).json()
            self.report.created["partners"] += 1
        return partner

    async def official(self, spec: dict[str, Any], cities: list[dict[str, Any]]) -> None:
        email = content.demo_email(spec["name"])
        password = demo_password(self.admin_password, email)
        self.passwords[email] = password
        step = f"official account {email}"
        account = await self.find_account(step, email)
        if account is None:
            taken = {c["city_id"] for c in self.city_of.values()}
            city = next((c for c in cities[spec["city"]:] + cities if c["city_id"] not in taken), None)
            if city is None:
                raise SeedError(step, "not enough eligible cities for the demo officials")
            body = {"name": spec["name"], "title": spec["title"], "email": email, "city_id": city["city_id"],
                    "password": password}
            account = (await self.call(step, "POST", "/accounts", json=body, expect=(201,))).json()
            self.report.created["officials"] += 1
        else:
            self.report.existing["officials"] += 1
            if account.get("kind") != "official":
                raise SeedError(step, f"{email} is already registered as {account.get('kind')}, not an official")
            city = (await self.call(step, "GET", f"/cities/{account['city_id']}")).json()
        if spec["verify"] and account.get("status") == "pending":
            account = (await self.call(f"{step}: verify", "POST", f"/accounts/{account['account_id']}/verify",
                                       as_=self.admin_email)).json()
            self.report.created["verifications"] += 1
        self.accounts[spec["key"]] = account
        self.city_of[spec["key"]] = city
        where = f"{city['name']}, {city['state']}"
        self.report.cities[city["city_id"]] = where
        role = "official" if spec["verify"] else "official (pending verification)"
        self.report.logins.append(Login(role, spec["name"], email, password, city=where))

    def email_of(self, key: str) -> str:
        return self.accounts[key]["email"]

    # --- 311 questions ------------------------------------------------------------------------------------

    async def find_question(self, step: str, city_id: str, title: str) -> dict[str, Any] | None:
        cursor = None
        while True:
            params: dict[str, Any] = {"city_id": city_id, "limit": 100, **({"cursor": cursor} if cursor else {})}
            page = (await self.call(step, "GET", "/requests", as_=self.admin_email, params=params)).json()
            found = next((r for r in page.get("items", []) if r.get("title") == title), None)
            cursor = page.get("next_cursor")
            if found or not cursor:
                return found

    async def question(self, spec: dict[str, Any]) -> None:
        official = self.email_of(spec["official"])
        city = self.city_of[spec["official"]]
        step = f"311 question '{spec['title']}'"
        found = await self.find_question(step, city["city_id"], spec["title"])
        if found is None:
            rid = await self.submit(step, spec, official)
            self.report.created["questions"] += 1
        else:
            rid = found["id"]
            self.report.existing["questions"] += 1
        status = await self.advance(step, spec, rid)
        self.report.questions[spec["key"]] = status

    async def submit(self, step: str, spec: dict[str, Any], official: str) -> str:
        body = {k: spec[k] for k in ("title", "question", "context", "desired_outcome", "topic", "urgency", "consent")
                if spec.get(k)}

        async def attempt() -> str | None:
            response = await self.call(step, "POST", "/requests", as_=official, json=body, expect=(201,),
                                       allow=(403, 422))
            if response.status_code == 201:
                return response.json()["id"]
            # requests311 learns cities (and their eligibility) from accounts' events: wait for it.
            if _rule(response) in ("city_unknown", "city_must_be_eligible"):
                return None
            raise SeedError(step, "POST /api/v1/requests refused", status=response.status_code,
                            problem=_problem(response))

        return await self.eventually(step, attempt, "requests311 to learn the official's city from accounts' events")

    async def load(self, step: str, rid: str) -> dict[str, Any]:
        return (await self.call(step, "GET", f"/requests/{rid}", as_=self.admin_email)).json()

    async def advance(self, step: str, spec: dict[str, Any], rid: str) -> str:
        """Move the question towards its target status one action at a time, reloading before each so a
        version race (409 version_mismatch: another service's event moved it on) is simply retried."""
        for _ in range(MAX_ATTEMPTS):
            view = await self.load(step, rid)
            action = self.next_action(spec, view)
            if action is None:
                return view["status"]
            name, actor, path, body = action
            if name == "wait for the call to start":
                await self.wait_for_call(view)
                continue
            if name == "assign":
                await self.expert_known(step, body["expert_id"])
            response = await self.call(f"{step}: {name}", "POST", f"/requests/{rid}/{path}", as_=actor,
                                       json={**body, "version": view["version"]}, expect=(200, 201),
                                       allow=(409, 422))
            if response.status_code in (200, 201):
                self.report.created["question actions"] += 1
                continue
            if response.status_code == 409 and _rule(response) == "version_mismatch":
                continue
            if response.status_code == 422 and _rule(response) == "slot_in_the_past":
                continue  # the short-notice slot started before it was picked: offer another
            raise SeedError(f"{step}: {name}", f"POST /api/v1/requests/{rid}/{path} refused",
                            status=response.status_code, problem=_problem(response))
        raise SeedError(step, f"the question did not reach '{spec['target']}' after {MAX_ATTEMPTS} attempts")

    def next_action(self, spec: dict[str, Any], view: dict[str, Any]) -> tuple[str, str, str, dict[str, Any]] | None:
        """(name, actor email, action path, body) of the next step towards the target, or None when there."""
        target, status = spec["target"], view["status"]
        lead, manager = self.email_of("triage_lead"), self.email_of("program_manager")
        official = self.email_of(spec["official"])
        expert_key = spec.get("expert")
        expert = self.accounts[expert_key] if expert_key else None
        if status == target and target not in ("memo_delivered", "closed"):
            return None
        if _RANK.get(status, 99) > _RANK[target]:
            self.report.notes.append(f"{spec['title']}: left at {status} (someone moved it past {target})")
            return None
        if status == "submitted":
            return "triage", lead, "triage", {"topic": spec["topic"], "urgency": spec["urgency"],
                                              "note": "Demo data: triaged by the seed."}
        if status == "triaged":
            if target == "awaiting_information":
                return "ask the city", lead, "information-requests", {"question": spec["information_request"]}
            return "assign", lead, "assign", {"expert_id": expert["account_id"]}
        if expert is None or view.get("expert_id") not in (None, expert["account_id"]):
            self.report.notes.append(f"{spec['title']}: left at {status} (assigned to someone else)")
            return None
        if status in ("assigned", "memo_returned"):
            return "draft the memo", expert["email"], "memo/drafts", {"body": spec["memo"]}
        if status == "memo_drafted":
            return "submit the memo", expert["email"], "memo/submit", {}
        if status == "memo_in_review":
            return "approve the memo", manager, "memo/approve", {}
        if status == "memo_approved":
            return "deliver the memo", manager, "memo/deliver", {}
        now = datetime.now(timezone.utc)
        if status == "memo_delivered" or status == "call_missed":
            on_offer = [s for s in view.get("call_slots", []) if _aware(s["starts_at"]) > now + timedelta(seconds=1)]
            if target == "memo_delivered":
                if on_offer:
                    return None
                return "offer call slots", expert["email"], "call-slots", {
                    "slots": self.slots(now, view.get("city_time_zone"))}
            # Closed with feedback needs a call held: offer one starting in a few seconds, pick it, hold it.
            soon = [s for s in on_offer if _aware(s["starts_at"]) < now + timedelta(minutes=1)]
            if soon:
                return "pick the call slot", official, "call/schedule", {"slot_id": soon[0]["id"]}
            lead_time = 3 + 3 * sum(1 for s in view.get("all_call_slots", []) if s.get("withdrawn"))
            starts = (now + timedelta(seconds=min(lead_time, 30))).replace(microsecond=0)
            # seconds from now, whatever the hour: the demo holds the call at once
            return "offer a call slot", expert["email"], "call-slots", {
                "slots": [{"starts_at": starts.isoformat(), "duration_minutes": 30}],
                "outside_business_hours_confirmed": True}
        if status == "call_scheduled":
            if _aware(view["calls"][-1]["starts_at"]) > now:
                return "wait for the call to start", expert["email"], "", {}
            return "record the call", expert["email"], "call/complete", {
                "summary": spec["call_summary"], "next_steps": spec["next_steps"], "close": True}
        if status == "call_completed":
            return "close", expert["email"], "close", {"note": "Demo data: closed after the call."}
        if status == "closed" and target == "closed":
            if view.get("feedback"):
                return None
            return "give feedback", official, "feedback", dict(spec["feedback"])
        self.report.notes.append(f"{spec['title']}: left at {status} (target {target})")
        return None

    def slots(self, now: datetime, zone: str | None) -> list[dict[str, Any]]:
        """Three slots on the next business days at least two days ahead, 10 AM and 2 PM in the city's
        own time (Eastern when it is not known): inside the city's business hours wherever it is."""
        tz = ZoneInfo(zone) if zone else EASTERN
        out: list[dict[str, Any]] = []
        day = now.astimezone(tz).date() + timedelta(days=2)
        hours = iter((10, 14, 10))
        while len(out) < 3:
            if day.weekday() < 5 and day not in _US_HOLIDAYS:
                starts = datetime.combine(day, time(next(hours)), tz)
                out.append({"starts_at": starts.isoformat(), "duration_minutes": 30})
            day += timedelta(days=1)
        return out

    async def wait_for_call(self, view: dict[str, Any]) -> None:
        starts = _aware(view["calls"][-1]["starts_at"])
        delay = (starts - datetime.now(timezone.utc)).total_seconds() + 0.2
        await asyncio.sleep(max(0.0, min(delay, 60.0)))

    async def expert_known(self, step: str, expert_id: str) -> None:
        """requests311 learns experts from accounts' events; assigning before it has is refused."""
        lead = self.email_of("triage_lead")

        async def known() -> bool:
            experts = (await self.call(step, "GET", "/experts", as_=lead)).json()
            return any(e.get("id", e.get("expert_id")) == expert_id and e.get("active", True) for e in experts)

        await self.eventually(step, known, "requests311 to learn the expert from accounts' events")

    # --- library ------------------------------------------------------------------------------------------

    async def _existing(self, step: str, path: str, name: str, **params: str) -> dict[str, dict[str, Any]]:
        """Every item a curator can list at `path`, page by page (at most 100 pages), by its content's `name`."""
        out: dict[str, dict[str, Any]] = {}
        page = 1
        while True:
            body = (await self.call(step, "GET", path, as_=self.email_of("curator"),
                                    params={**params, "page": page, "page_size": 50})).json()
            for item in body.get("items", []):
                out.setdefault(item["content"][name], item)
            if page * body.get("page_size", 50) >= body.get("total", 0) or page >= 100:
                return out
            page += 1

    async def existing_resources(self) -> dict[str, dict[str, Any]]:
        return await self._existing("list library resources", "/library/resources", "title")

    async def resource(self, spec: dict[str, Any], existing: dict[str, dict[str, Any]]) -> None:
        curator = self.email_of("curator")
        step = f"library resource '{spec['title']}'"
        item = existing.get(spec["title"])
        if item is None:
            body = {**spec, "source_organisation": content.DEMO_SOURCE, "authors": ["NRN demo team"],
                    "tags": [content.DEMO_TAG, *spec.get("tags", [])], "audience": "public"}
            item = (await self.call(step, "POST", "/library/resources", as_=curator, json=body, expect=(201,))).json()
            self.report.created["resources"] += 1
        else:
            self.report.existing["resources"] += 1
        for _ in range(5):
            action = {"draft": "submit", "in_review": "publish"}.get(item["status"])
            if action is None:
                break
            response = await self.call(f"{step}: {action}", "POST", f"/library/resources/{item['resource_id']}/{action}",
                                       as_=curator, json={"note": "Demo content loaded by nrn up --seed."},
                                       headers={"If-Match": f'"{item["version"]}"'}, allow=(409,))
            if response.status_code == 409:  # someone else moved it: reload
                item = (await self.call(step, "GET", f"/library/resources/{item['resource_id']}", as_=curator)).json()
                continue
            item = response.json()
            self.report.created["resource transitions"] += 1
        if item["status"] != "published":
            self.report.notes.append(f"resource '{spec['title']}' left {item['status']}")

    async def existing_programs(self) -> dict[str, dict[str, Any]]:
        return await self._existing("list clearinghouse programmes", "/clearinghouse/programs", "name",
                                    include_inactive="true")

    async def program(self, spec: dict[str, Any], existing: dict[str, dict[str, Any]]) -> None:
        curator = self.email_of("curator")
        step = f"clearinghouse programme '{spec['name']}'"
        item = existing.get(spec["name"])
        if item is None:
            await self.call(step, "POST", "/clearinghouse/programs", as_=curator, json=spec, expect=(201,))
            self.report.created["programmes"] += 1
            return
        self.report.existing["programmes"] += 1
        # A long-lived demo data dir: once the demo deadlines have passed, move them on (still demo dates).
        if item.get("active") and not item["content"].get("rolling") and not item.get("next_deadline"):
            await self.call(f"{step}: refresh demo deadline", "PATCH", f"/clearinghouse/programs/{item['program_id']}",
                            as_=curator, json={"deadlines": spec.get("deadlines", [])},
                            headers={"If-Match": f'"{item["version"]}"'})
            self.report.created["programme deadlines refreshed"] += 1

    async def review_public_record(self) -> None:
        """Nothing joins the public record before a curator has read it: the demo curator approves the
        consented answers of the delivered demo questions (what the redaction replaced stays replaced)."""
        step = "review the demo answers for the public record"
        curator = self.email_of("curator")
        expected = sum(1 for q in content.QUESTIONS
                       if q["target"] in ("memo_delivered", "closed") and q.get("consent") in ("named", "anonymous"))

        async def listed(status: str) -> list[dict[str, Any]]:
            body = (await self.call(step, "GET", "/library/reviews", as_=curator,
                                    params={"status": status, "page_size": 50})).json()
            return [r for r in body.get("items", []) if r.get("source") == "requests311"]

        async def arrived() -> bool:
            return len(await listed("pending")) + len(await listed("approved")) >= expected

        await self.eventually(step, arrived, f"{expected} demo answers to wait for review")
        for review in await listed("pending"):
            await self.call(step, "POST", f"/library/reviews/{review['review_id']}/approve", as_=curator,
                            json={"version": review["version"]}, expect=(200,), allow=(409,))
            self.report.created["answers approved"] += 1

    # --- peer network -----------------------------------------------------------------------------------

    async def peer_network(self) -> None:
        """A convening with one place (the first official registered, the second on the waitlist), the
        Broadband Working Group with a deliverable in review, the Peer Steering Committee (one term ending
        soon) and an introduction between the two demo cities. Each is found by its title first."""
        pm = self.email_of("program_manager")
        a, b = self.city_of["official_a"], self.city_of["official_b"]
        step = "peer: convening"
        found = (await self.call(step, "GET", "/convenings", as_=pm, params={"include_past": "true"})).json()
        convening = next((c for c in found if c["title"] == content.CONVENING["title"]), None)
        if convening is None:
            convening = (await self.call(step, "POST", "/convenings", as_=pm, expect=(201,),
                                         json=content.convening(self.today))).json()
            self.report.created["convenings"] += 1
        else:
            self.report.existing["convenings"] += 1
        for key in ("official_a", "official_b"):
            r = await self.call(f"{step}: register", "POST", f"/convenings/{convening['id']}/registrations",
                                as_=self.email_of(key), expect=(201,), allow=(409,), json=content.REGISTRATION)
            if r.status_code == 201:
                self.report.created["registrations"] += 1
        self.step("seed: peer convening and registrations")

        step = "peer: working groups"
        groups = {g["name"]: g for g in (await self.call(step, "GET", "/groups", as_=pm)).json()}
        for spec in content.GROUPS:
            group = groups.get(spec["name"])
            if group is None:
                group = (await self.call(step, "POST", "/groups", as_=pm, expect=(201,), allow=(409,),
                                         json={k: spec[k] for k in ("kind", "name", "purpose", "topics")})).json()
                self.report.created["working groups"] += 1
            have = {m["id"] for m in group.get("members", [])}
            for i, city in enumerate((a, b)):
                if city["city_id"] in have:
                    continue
                body: dict[str, Any] = {"member_kind": "city", "member_id": city["city_id"]}
                if spec["kind"] == "steering_committee":
                    ends = self.today + timedelta(days=45 if i == 0 else 500)
                    body.update(term_starts_on=str(ends - timedelta(days=730)), term_ends_on=str(ends))

                async def joined(body: dict[str, Any] = body, gid: str = group["id"]) -> bool:
                    # peer learns cities from accounts' events: an unknown city is refused until then
                    r = await self.call(step, "POST", f"/groups/{gid}/members", as_=pm, allow=(409, 422), json=body)
                    return r.status_code in (200, 409)

                await self.eventually(step, joined, "peer to know the demo cities")
            if spec.get("deliverable"):
                view = (await self.call(step, "GET", f"/groups/{group['id']}", as_=pm)).json()
                if not view.get("deliverables"):
                    d = (await self.call(step, "POST", f"/groups/{group['id']}/deliverables",
                                         as_=self.email_of("official_a"), expect=(201,), json=spec["deliverable"])).json()
                    await self.call(step, "POST", f"/deliverables/{d['id']}/submit", as_=self.email_of("official_a"))
                    self.report.created["deliverables"] += 1
        self.step("seed: peer working groups and the steering committee")

        step = "peer: introductions"
        offered = (await self.call(step, "GET", "/introductions", as_=pm)).json()
        pair = {a["city_id"], b["city_id"]}
        if not any({c["id"] for c in i["cities"]} == pair for i in offered):
            suggestions = (await self.call(step, "GET", "/introductions/suggestions", as_=pm)).json()
            s = next((x for x in suggestions if {x["city_id"], x["other_city_id"]} == pair), None)
            body = ({"city_id": s["city_id"], "other_city_id": s["other_city_id"], "reason_kind": s["reason_kind"],
                     "reason": s["reason"]} if s else
                    {"city_id": a["city_id"], "other_city_id": b["city_id"], "reason_kind": "staff",
                     "reason": content.INTRODUCTION_REASON})
            await self.call(step, "POST", "/introductions", as_=pm, expect=(201,), allow=(409,), json=body)
            self.report.created["introductions"] += 1
        self.step("seed: peer introduction offered")
    async def health_data(self) -> None:
        """Illustrative health values for the eligible cities (imported until peer knows every city; a
        re-import changes nothing), the Peer Health Group (demo) named, its choice of measures, and the
        first demo official's city dashboard published."""
        pm = self.email_of("program_manager")
        step = "health data: import"
        data = content.health_csv(self.cities)

        async def imported() -> dict[str, Any] | None:
            # thousands of rows: the gateway gives an import 120 s, and so does the seed (not its usual 30 s)
            r = await self.call(step, "POST", "/health-data/imports", as_=pm,
                                files={"file": ("demo-health.csv", data, "text/csv")},
                                timeout=httpx.Timeout(125.0, connect=5.0))
            report = r.json()
            if report.get("created") or report.get("updated"):
                self.report.created["health values"] += report["created"] + report["updated"]
            return report if not report.get("failed") else None  # peer learns cities from accounts' events

        await self.eventually(step, imported, "peer to know every demo city")
        step = "health data: the Peer Health Group"
        catalogue = (await self.call(step, "GET", "/health-data/measures", as_=pm)).json()
        groups = {g["name"]: g for g in (await self.call(step, "GET", "/groups", as_=pm)).json()}
        group = groups.get(content.PEER_HEALTH_GROUP)
        if group and (catalogue.get("group") or {}).get("id") != group["id"]:
            await self.call(step, "PUT", "/health-data/group", as_=pm, json={"group_id": group["id"]})
            self.report.created["peer health group"] += 1
        shown = sorted(m["id"] for m in catalogue["measures"] if m["shown"])
        if not catalogue["selection"]["chosen"] or shown != sorted(content.HEALTH_MEASURES):
            await self.call(step, "PUT", "/health-data/selection", as_=pm, json={
                "measure_ids": list(content.HEALTH_MEASURES),
                "note": "The group's demo choice: twelve measures across the five domains."})
            self.report.created["health measure choices"] += 1
        step = "health data: publish"
        city = self.city_of["official_a"]
        published = {c["city_id"]: c for c in (await self.call(step, "GET", "/health-data/cities", as_=pm)).json()}
        if not (published.get(city["city_id"]) or {}).get("published_at"):
            await self.call(step, "POST", f"/health-data/cities/{city['city_id']}/publish", as_=pm,
                            json={"peer_set": "population_band"})
            self.report.created["health dashboards published"] += 1
        self.report.tour.append(f"{city['name']}'s health dashboard (Peer network → Health data) compares "
                                f"{len(content.HEALTH_MEASURES)} measures with cities of a similar size "
                                "(illustrative demo values)")
        self.step("seed: municipal health data")

    # --- the pro bono talent network ----------------------------------------------------------------------

    async def probono(self) -> None:
        """Made-up partner organizations enrolled in the talent network, each with its pro bono coordinator
        and volunteers the coordinator confirmed; the demo cities' projects (open, and one waiting for NRN's
        review); a match offered and one accepted by both with hours logged, some approved by the city.
        Each is found first (people by email, projects by title in their city, matches by volunteer) and
        only what is missing is made or moved on."""
        volunteers: dict[str, dict[str, Any]] = {}  # content key -> {"email", "id"}
        for org in content.PROBONO_ORGANIZATIONS:
            volunteers |= await self.probono_organization(org)
            self.step(f"seed: pro bono organization {org['name']}")
        projects: dict[str, dict[str, Any]] = {}
        for spec in content.PROBONO_PROJECTS:
            projects[spec["key"]] = await self.probono_project(spec)
        self.step("seed: pro bono projects")
        for spec in content.PROBONO_MATCHES:
            await self.probono_match(spec, projects[spec["project"]], volunteers[spec["volunteer"]])
        self.step("seed: pro bono matches and hours")
        city = self.city_of["official_a"]
        self.report.tour.append(f"{city['name']}'s pro bono projects (Pro bono, and its city dashboard): one under "
                                "way with hours approved, one with a volunteer offered, one waiting for NRN's review")

    async def probono_member(self, step: str, partner_id: str, org: dict[str, Any], person: dict[str, Any]) -> dict[str, Any]:
        email = content.probono_email(org, person["name"])
        password = demo_password(self.admin_password, email)
        self.passwords[email] = password
        account = await self.find_account(step, email)
        if account is None:
            account = (await self.call(step, "POST", f"/partners/{partner_id}/members", as_=self.admin_email,
                                       expect=(201,), json={"name": person["name"], "title": person["title"],
                                                            "email": email, "password": password})).json()["account"]
            self.report.created["pro bono people"] += 1
        else:
            self.report.existing["pro bono people"] += 1
        return account | {"email": email}

    async def probono_organization(self, org: dict[str, Any]) -> dict[str, dict[str, Any]]:
        pm = self.email_of("program_manager")
        step = f"pro bono: organization {org['name']}"
        pid = (await self.partner_named(step, org["name"], "consortium_member"))["partner_id"]
        enrolled = {o["id"] for o in (await self.call(step, "GET", "/probono/organizations", as_=pm)).json()}
        if pid not in enrolled:
            async def enroll() -> bool:
                # peer learns partners from accounts' events: an unknown partner is refused until then
                r = await self.call(step, "POST", "/probono/organizations", as_=pm, expect=(201,), allow=(422,),
                                    json={"partner_id": pid, "sector": org["sector"], "description": org["description"]})
                return r.status_code == 201

            await self.eventually(step, enroll, "peer to learn the demo partner from accounts' events")
            self.report.created["pro bono organizations"] += 1
        coordinator = await self.probono_member(step, pid, org, org["coordinator"])
        if "probono_coordinator" not in coordinator.get("roles", []):
            await self.call(step, "POST", f"/accounts/{coordinator['account_id']}/roles", as_=self.admin_email,
                            json={"role": "probono_coordinator"})
            self.report.created["pro bono coordinators"] += 1
        self.report.logins.append(Login("pro bono coordinator", org["coordinator"]["name"], coordinator["email"],
                                        self.passwords[coordinator["email"]]))
        out: dict[str, dict[str, Any]] = {}
        for spec in org["volunteers"]:
            account = await self.probono_member(step, pid, org, spec)
            email = account["email"]
            me = await self.call(step, "GET", "/probono/volunteers/me", as_=email, allow=(404,))
            if me.status_code == 404:
                profile = {k: spec[k] for k in ("name", "title", "skills", "hours_per_month", "work_mode", "experience",
                                                 "phone")}
                profile |= {k: spec[k] for k in ("base_city", "base_state") if spec.get(k)}
                me = await self.call(step, "POST", "/probono/volunteers", as_=email, expect=(201,), json={
                    **profile, "available_from": str(self.today - timedelta(days=60)),
                    "available_until": str(self.today + timedelta(days=240))})
                self.report.created["pro bono volunteers"] += 1
            volunteer = me.json()
            if volunteer["status"] == "awaiting_confirmation":
                await self.call(step, "POST", f"/probono/volunteers/{volunteer['id']}/confirm", as_=coordinator["email"])
                self.report.created["pro bono confirmations"] += 1
            out[spec["key"]] = {"email": email, "id": volunteer["id"]}
            self.report.logins.append(Login("pro bono volunteer", spec["name"], email, self.passwords[email]))
        return out

    async def probono_project(self, spec: dict[str, Any]) -> dict[str, Any]:
        official, pm = self.email_of(spec["city"]), self.email_of("program_manager")
        step = f"pro bono: project '{spec['title']}'"
        project = next((p for p in (await self.call(step, "GET", "/probono/projects", as_=official)).json()
                        if p["title"] == spec["title"]), None)
        if project is None:
            starts = self.today + timedelta(days=spec["starts_days"])
            project = (await self.call(step, "POST", "/probono/projects", as_=official, expect=(201,), json={
                **{k: spec[k] for k in ("department", "title", "problem", "skills", "hours_needed", "work_mode",
                                        "on_site_needs")},
                "starts_on": str(starts), "ends_on": str(starts + timedelta(days=spec["days"]))})).json()
            self.report.created["pro bono projects"] += 1
        else:
            self.report.existing["pro bono projects"] += 1
        if spec["target"] == "open" and project["status"] == "submitted":
            project = (await self.call(step, "POST", f"/probono/projects/{project['id']}/review", as_=pm, json={
                "decision": "opened", "note": "Demo data: reviewed by the seed."})).json()
            self.report.created["pro bono reviews"] += 1
        elif project["status"] != spec["target"] and not (spec["target"] == "open" and project["status"] == "active"):
            self.report.notes.append(f"pro bono project '{spec['title']}' left {project['status']}")
        return project | {"official": official}

    async def probono_match(self, spec: dict[str, Any], project: dict[str, Any], volunteer: dict[str, Any]) -> None:
        pm, official = self.email_of("program_manager"), project["official"]
        step = f"pro bono: match on '{project['title']}'"

        async def load() -> dict[str, Any] | None:
            view = (await self.call(step, "GET", f"/probono/projects/{project['id']}", as_=pm)).json()
            return next((m for m in view["matches"] if m["volunteer"] and m["volunteer"]["id"] == volunteer["id"]), None)

        match = await load()
        if match is None:
            match = (await self.call(step, "POST", f"/probono/projects/{project['id']}/matches", as_=pm, expect=(201,),
                                     json={"volunteer_id": volunteer["id"], "hours_agreed": spec["hours_agreed"]})).json()
            self.report.created["pro bono matches"] += 1
        if spec["target"] != "accepted":
            return
        for side, who in (("city", official), ("volunteer", volunteer["email"])):
            if match["status"] == "proposed" and side not in match["answers"]:
                match = (await self.call(f"{step}: {side} accepts", "POST", f"/probono/matches/{match['id']}/answer",
                                         as_=who, json={"accepted": True})).json()
                self.report.created["pro bono answers"] += 1
        if match["status"] != "accepted":
            self.report.notes.append(f"the pro bono match on '{project['title']}' left {match['status']}")
            return
        for days_ago, hours, note in spec["hours"][len(match["hours"]):]:
            match = (await self.call(f"{step}: log hours", "POST", f"/probono/matches/{match['id']}/hours",
                                     as_=volunteer["email"], expect=(201,), json={
                                         "worked_on": str(self.today - timedelta(days=days_ago)), "hours": hours,
                                         "note": note})).json()
            self.report.created["pro bono hours logged"] += 1
        approved = sum(1 for e in match["hours"] if e["status"] == "approved")
        for entry in [e for e in match["hours"] if e["status"] == "pending"][:max(0, spec["approved"] - approved)]:
            await self.call(f"{step}: approve hours", "POST", f"/probono/matches/{match['id']}/hours/{entry['id']}/review",
                            as_=official, json={"approved": True, "note": ""})
            self.report.created["pro bono hours approved"] += 1

    async def notified(self) -> None:
        """The demo's events reach notifications like any others: wait until the first demo official
        has their notices, so the header's count and the caught e-mails are there at the first look."""
        official = content.OFFICIALS[0]["key"]
        email = self.email_of(official)
        step = "wait for the demo official's notifications"

        async def arrived() -> int:
            body = (await self.call(step, "GET", "/notices", as_=email, params={"limit": 1})).json()
            return len(body.get("items", [])) and body.get("unread", 0)

        unread = await self.eventually(step, arrived, "notifications (is the notifications service running?)")
        self.report.tour += [
            f"{content.OFFICIALS[0]['name']} has {unread} unread notification(s): the count is in the page header",
            "every email the demo sent was caught locally: sign in as staff, then Mail → caught mail "
            "(/staff/mail/caught)"]

    # --- direct technical assistance ---------------------------------------------------------------------

    async def direct_assistance(self) -> None:
        """A funding round of two places; the first demo city accepted with an engagement under way
        (team, assessment, agreed work plan, one milestone done, an update), the second in review with
        one of its two scores in. Found again on a second run (the round by name, each city's newest
        application), moved on only where it stopped."""
        pm = self.email_of("program_manager")
        step = "direct assistance: funding round"
        rounds = (await self.call(step, "GET", "/rounds", as_=pm)).json()
        found = next((r for r in rounds if r["name"] == content.ROUND["name"]), None)
        if found is None:
            found = (await self.call(step, "POST", "/rounds", as_=pm, expect=(201,), json={
                "name": content.ROUND["name"], "opens_on": str(self.today - timedelta(days=30)),
                "capacity": content.ROUND["capacity"]})).json()
            self.report.created["funding rounds"] += 1
        self.step("seed: direct assistance funding round")
        await self.reviewers_known()
        for key, variant, target in (("official_a", "a", "engaged"), ("official_b", "b", "in_review")):
            await self.application(key, variant, target, found["id"])
            self.step(f"seed: direct assistance ({target.replace('_', ' ')})")

    async def reviewers_known(self) -> None:
        """engagements learns reviewers (and cities) from accounts' events; assigning before is refused."""
        step = "direct assistance: reviewers"
        wanted = {self.accounts[k]["account_id"] for k in ("reviewer_a", "reviewer_b")}

        async def known() -> bool:
            staff = (await self.call(step, "GET", "/direct-assistance/staff", as_=self.email_of("program_manager"),
                                     params={"role": "reviewer"})).json()
            return wanted <= {s["id"] for s in staff}

        await self.eventually(step, known, "engagements to learn the demo reviewers from accounts' events")

    async def application(self, key: str, variant: str, target: str, round_id: str) -> None:
        official = self.email_of(key)
        city = self.city_of[key]
        step = f"direct assistance: application of {city['name']}"
        history = (await self.call(step, "GET", "/applications", as_=official)).json()["items"]
        mine = [a for a in history if a["city_id"] == city["city_id"]]
        if mine:
            app = (await self.call(step, "GET", f"/applications/{mine[0]['id']}", as_=self.admin_email)).json()
            self.report.existing["applications"] += 1
        else:
            async def started() -> dict[str, Any] | None:
                r = await self.call(step, "POST", "/applications", as_=official, expect=(201,), allow=(422,))
                return r.json() if r.status_code == 201 else None  # the city is not known to engagements yet

            app = await self.eventually(step, started, "engagements to learn the demo city from accounts' events")
            self.report.created["applications"] += 1
        for _ in range(MAX_ATTEMPTS):
            app = (await self.call(step, "GET", f"/applications/{app['id']}", as_=self.admin_email)).json()
            action = self.next_application_action(app, official, variant, target, round_id)
            if action is None:
                break
            name, actor, method, path, kwargs = action
            response = await self.call(f"{step}: {name}", method, path, as_=actor, expect=(200, 201, 204),
                                       allow=(409,), **kwargs)
            if response.status_code != 409:
                self.report.created["application steps"] += 1
        if target == "engaged" and app.get("engagement_id"):
            await self.engagement(app["engagement_id"], official)

    def next_application_action(self, app: dict[str, Any], official: str, variant: str, target: str,
                                round_id: str) -> tuple[str, str, str, str, dict[str, Any]] | None:
        status, v = app["status"], app["version"]
        lead, pm = self.email_of("triage_lead"), self.email_of("program_manager")
        reviewers = [self.accounts[k] for k in ("reviewer_a", "reviewer_b")]
        if status == "draft":
            fields = {p["field"] for p in app.get("problems", [])}
            if fields - {"attachments.sponsor_letter"}:
                return "fill in the form", official, "PATCH", f"/applications/{app['id']}", {
                    "json": {**content.application_form(self.today, variant), "version": v}}
            if "attachments.sponsor_letter" in fields:
                return "attach the sponsor's letter", official, "POST", f"/applications/{app['id']}/attachments", {
                    "data": {"kind": "sponsor_letter", "version": str(v)},
                    "files": {"file": ("Letter of commitment.pdf", content.SPONSOR_LETTER, "application/pdf")}}
            return "submit", official, "POST", f"/applications/{app['id']}/submit", {"json": {"version": v}}
        if status == "submitted":
            return "eligibility check", lead, "POST", f"/applications/{app['id']}/screen", {
                "json": {"outcome": "eligible", "note": "Demo data: meets the distress tests.", "version": v}}
        if status == "in_review":
            assigned = {r["reviewer_id"] for r in app.get("reviews", [])}
            missing = [r for r in reviewers if r["account_id"] not in assigned]
            if missing:
                return "assign a reviewer", pm, "POST", f"/applications/{app['id']}/reviewers", {
                    "json": {"reviewer_id": missing[0]["account_id"], "version": v}}
            done = {r["reviewer_id"] for r in app.get("reviews", []) if r.get("submitted_at")}
            pending = [r for r in reviewers if r["account_id"] not in done]
            if target == "in_review" and done:
                return None
            scores = {"need": 4, "commitment": 5, "capacity": 4, "fit": 4, "impact": 4} if variant == "a" else \
                {"need": 4, "commitment": 3, "capacity": 3, "fit": 4, "impact": 3}
            return "score", pending[0]["email"], "POST", f"/applications/{app['id']}/scores", {
                "json": {"scores": scores, "overall": "Demo data: a reviewer's score.", "version": v}}
        if status == "scored" and target == "engaged":
            terms = {**content.ENGAGEMENT["terms"], "starts_on": str(self.today + timedelta(days=14))}
            return "accept", pm, "POST", f"/applications/{app['id']}/decision", {"json": {
                "decision": "accept", "reason": "A committed sponsor, a clear need and a plan NRN's experts can help "
                "with (demo).", "terms": terms, "round_id": round_id, "version": v}}
        if status != ("accepted" if target == "engaged" else "in_review"):
            self.report.notes.append(f"the application of {app['city_name']} left {status} (target {target})")
        return None

    async def engagement(self, engagement_id: str, official: str) -> None:
        pm, expert = self.email_of("program_manager"), self.accounts["housing_expert"]
        spec = content.ENGAGEMENT
        step = "direct assistance: engagement"
        for _ in range(MAX_ATTEMPTS):
            e = (await self.call(step, "GET", f"/engagements/{engagement_id}", as_=pm)).json()
            status, v = e["status"], e["version"]
            if not e["team"] and status in ("opened", "assessed", "planning", "in_progress"):
                name, actor, path, body = "team", pm, "team", {"team": [
                    {"member_id": expert["account_id"], "role": "Engagement lead"},
                    {"name": "Robin Hale", "role": "Land use expert", "kind": "partner_expert",
                     "organization": "Demo partner organization"}]}
                method = "PUT"
            elif status == "opened":
                name, actor, method, path, body = "assessment", pm, "POST", "assessment", {
                    **spec["assessment"], "visited_on": str(self.today)}
            elif status == "assessed":
                start = date.fromisoformat(e["starts_on"])
                name, actor, method, path, body = "work plan", pm, "POST", "work-plan", {"milestones": [
                    {"title": t, "owner": o, "due_on": str(start + timedelta(days=d))} for t, o, d in spec["milestones"]]}
            elif status == "planning":
                name, actor, method, path, body = "agree the work plan", official, "POST", "work-plan/agreement", {
                    "plan_version": e["plan_version"]}
            elif status == "in_progress" and all(m["status"] == "open" for m in e["milestones"]):
                name, actor, method, path, body = "a milestone done", pm, "POST", \
                    f"milestones/{e['milestones'][0]['id']}/complete", {"note": "Demo data."}
            elif status == "in_progress" and not e["updates"]:
                name, actor, method, path, body = "status update", pm, "POST", "updates", {
                    "health": "on_track", "text": spec["update"]}
            else:
                return
            response = await self.call(f"{step}: {name}", method, f"/engagements/{engagement_id}/{path}", as_=actor,
                                       json={**body, "version": v}, allow=(409,))
            if response.status_code == 200:
                self.report.created["engagement steps"] += 1

    async def searchable(self) -> None:
        """The library indexes what it publishes within a moment; wait so the pages show it at once."""
        step = "wait for the library search index"
        expected = len(content.RESOURCES)

        async def indexed() -> bool:
            body = (await self.call(step, "GET", "/library/search",
                                    params={"source": content.DEMO_SOURCE, "kind": "resource", "page_size": 1})).json()
            return body.get("total", 0) >= expected

        await self.eventually(step, indexed, f"{expected} demo resources to be searchable")
