"""`nrn up --seed`: the demo data goes in through the public API, and a second run adds nothing; and every
page a person can reach in the seeded system, for each role, reads as words for people: no service name,
permission string, enum code, internal id (ObjectId, UUID, the services' own ids) or British spelling in the
visible text. The crawl follows the links of each page (GET, this site only) from the home page, as the
anonymous visitor, a verified official, an official awaiting verification, each demo staff member and the
administrator.

Both read one seeded system (module scope): the seed's first run is recorded when the system is started,
so its counts are asserted whichever test runs first, and the crawl only reads."""

from __future__ import annotations

import asyncio
import re
import stat
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from nrn_cli import seed_content as content
from nrn_kit.testing import eventually
from nrn_cli.main import _seed_admin
from nrn_cli.seed import SeedError, SeedReport, demo_password, development_admin, seed
from nrn_kit.auth import MATRIX
from nrn_kit.localtime import program_today

ADMIN_EMAIL = "admin@nrn.example"
ADMIN_PASSWORD = "seed-test-admin-password-1"


# --- without infrastructure -----------------------------------------------------------------------------


def test_development_admin_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    email, password, created = development_admin(tmp_path)
    assert (email, created) == ("admin@nrn.example", True) and len(password) >= 20
    assert development_admin(tmp_path) == (email, password, False)  # the same data dir signs in again
    assert stat.S_IMODE((tmp_path / "seed-admin.json").stat().st_mode) == 0o600
    assert development_admin(tmp_path / "other")[1] != password


def test_a_data_dir_seeded_with_the_former_default_admin_keeps_its_password(tmp_path: Path) -> None:
    import json

    (tmp_path / "seed-admin.json").write_text(json.dumps({"email": "admin@nrn.localhost", "password": "kept-secret-1"}))
    assert development_admin(tmp_path) == ("admin@nrn.example", "kept-secret-1", True)
    assert development_admin(tmp_path) == ("admin@nrn.example", "kept-secret-1", False)


def test_demo_passwords_are_reproducible_and_keyed_by_the_admin_password() -> None:
    one = demo_password("admin secret one", "morgan.ellis@demo.nrn.example")
    assert one == demo_password("admin secret one", "Morgan.Ellis@demo.nrn.example")
    assert one != demo_password("admin secret two", "morgan.ellis@demo.nrn.example")
    assert one != demo_password("admin secret one", "jordan.reyes@demo.nrn.example")
    assert len(one) >= 12


def test_seed_admin_uses_the_environment_or_a_development_default(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.delenv("NRN_BOOTSTRAP_ADMIN_EMAIL", raising=False)
    monkeypatch.delenv("NRN_BOOTSTRAP_ADMIN_PASSWORD", raising=False)
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    email, password, show = _seed_admin(tmp_path)
    assert email == "admin@nrn.example" and show is True and password
    monkeypatch.setenv("NRN_BOOTSTRAP_ADMIN_EMAIL", "ops@example.org")
    monkeypatch.setenv("NRN_BOOTSTRAP_ADMIN_PASSWORD", "their own passphrase")
    assert _seed_admin(tmp_path) == ("ops@example.org", "their own passphrase", False)  # never printed
    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(SystemExit, match="production"):
        _seed_admin(tmp_path)


def test_an_unreachable_gateway_is_a_clear_error() -> None:
    with pytest.raises(SeedError) as caught:
        seed({"gateway": "http://127.0.0.1:9"}, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD, wait_timeout=1)
    assert "wait for eligible cities" in str(caught.value) and "could not reach the gateway" in str(caught.value)


# --- the words pages show ------------------------------------------------------------------------------

MAX_PAGES = 120  # per role
MAX_VARIANTS = 3  # query-string variants of one path (library facets, queue filters…)

SERVICE_WORDS = re.compile(
    r"\brequests311\b|\bgateway\b|\bnrn_[a-z]+|"
    r"\b(?:accounts|library|notifications|engagements|peer|partners)[^\S\n]+(?:service|answered|unavailable)\b|"
    r"\banswered \d{3}\b", re.IGNORECASE)
PERMISSIONS = re.compile(r"\b(?:" + "|".join(re.escape(a) for a in MATRIX) + r")\b")
ENUM_CODE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
IDS = re.compile(r"\b[0-9a-f]{24}\b|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b|"
                 r"\b(?:req|acc|ptn|exr|res|prg|rev|syn|sr)[_-][0-9a-f]{8,}\b", re.IGNORECASE)
BRITISH = re.compile(
    r"\b(?:programmes?|organisations?|organis(?:e|ed|es|ing)|centres?|neighbours?|neighbourhoods?|colours?|"
    r"favour(?:s|ite)?|behaviours?|analys(?:e|ed|es|ing)|catalogues?|licences?|defence|travell(?:ed|ing)|"
    r"authoris(?:e|ed|ation)|recognis(?:e|ed)|prioritis(?:e|ed)|summaris(?:e|ed)|apologis(?:e|ed)|"
    r"utilis(?:e|ed|ation)|finalis(?:e|ed)|labour|honour|enrol(?:ment|s)?)\b", re.IGNORECASE)


class _Text(HTMLParser):
    """The text a person sees (not script, style or hidden template content) and the page's links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # code, kbd and samp show literal identifiers on purpose (a CSV's column names, a topic or event
        # type in the event catalog, a payload's field names): what a person types or a program reads
        if tag in ("script", "style", "template", "noscript", "code", "kbd", "samp"):
            self._skip += 1
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        for name in ("title", "aria-label", "placeholder", "alt"):  # read out or shown as well
            if values.get(name):
                self.parts.append(str(values[name]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template", "noscript", "code", "kbd", "samp") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


# Pages written for partners' developers (as /api/docs is): the event catalog names topics, event types,
# fields and enum values exactly as a program receives them.
DEVELOPER_REFERENCE = {"/events"}

# one label for one thing: the site writes "email", "program", "My requests"
OTHER_LABELS = re.compile(r"\be-mail\b|\bMy city's questions\b", re.IGNORECASE)


def problems_in(text: str) -> list[str]:
    found = []
    for name, pattern in (("service name", SERVICE_WORDS), ("permission string", PERMISSIONS),
                          ("enum code", ENUM_CODE), ("internal id", IDS), ("British spelling", BRITISH),
                          ("another label for the same thing", OTHER_LABELS)):
        for match in pattern.finditer(text):
            start = max(0, match.start() - 40)
            found.append(f"{name} {match.group(0)!r} in “…{' '.join(text[start:match.end() + 40].split())}…”")
    return found


def _followable(base: str, href: str) -> str | None:
    url = urljoin(base, href)
    parts = urlsplit(url)
    if parts.netloc != urlsplit(base).netloc or parts.scheme not in ("http", "https"):
        return None
    path = parts.path
    if (path.startswith(("/static/", "/api/v1", "/api/docs/assets", "/health", "/unsubscribe"))
            or path.endswith((".pdf", ".ics", ".csv", ".json", ".html"))):
        return None
    return path + (f"?{parts.query}" if parts.query else "")


async def crawl(gateway: str, who: str, email: str | None, password: str | None) -> dict[str, list[str]]:
    """{page: [problem, …]} for one person."""
    async with httpx.AsyncClient(base_url=gateway, timeout=60, follow_redirects=True) as http:
        if email:
            page = await http.get("/signin")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert csrf, "the sign-in page has its CSRF field"
            signed = await http.post("/signin", data={"username": email, "password": password or "",
                                                      "csrf_token": csrf.group(1)})
            assert signed.status_code == 200 and "Sign out" in signed.text, f"{who} could not sign in"
        queue, seen, variants = ["/"], set(), defaultdict(int)
        found: dict[str, list[str]] = {}
        while queue and len(seen) < MAX_PAGES:
            path = queue.pop(0)
            if path in seen:
                continue
            seen.add(path)
            response = await http.get(path)
            if "text/html" not in response.headers.get("content-type", ""):
                continue
            parser = _Text()
            parser.feed(response.text)
            # one line per piece of text: words of two neighboring links are not one phrase
            problems = problems_in("\n".join(p.strip() for p in parser.parts if p.strip()))
            if path.split("?", 1)[0] in DEVELOPER_REFERENCE:
                # a reference for partners' developers: field names and enum values are what their
                # programs receive, so these pages must show them (its British spellings are still caught)
                problems = [p for p in problems if not p.startswith(("enum code", "service name"))]
            if response.status_code >= 500:
                problems.append(f"answered {response.status_code}")
            if problems:
                found[f"{who} {path}"] = problems
            for href in parser.links:
                target = _followable(str(response.url), href)
                if target is None or target in seen or "/signout" in target:
                    continue
                bare = target.split("?", 1)[0]
                if "?" in target:
                    if variants[bare] >= MAX_VARIANTS:
                        continue
                    variants[bare] += 1
                queue.append(target)
        assert len(seen) > 3, f"{who} reached only {sorted(seen)}"
        return found


def test_the_checks_catch_what_they_are_for() -> None:
    assert problems_in("Status: awaiting_information")
    assert problems_in("requests311 answered 403")
    assert problems_in("needs requests311.submit") and problems_in("needs request.submit")
    assert problems_in("Account acc-0123456789abcdef") and problems_in("id 65f1c2a9b3e4d5f6a7b8c9d0")
    assert problems_in("req_0123456789abcdef0123") and problems_in("1b4e28ba-2fa1-11d2-883f-0016d3cca427")
    assert problems_in("federal programmes for your neighbourhood centre")
    assert problems_in("Check your e-mail") and problems_in("My city's questions")
    assert not problems_in("Federal programs for your neighborhood center. Email sam@city.gov, 2:00 PM CST.")


# --- the whole platform -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def smtp():  # noqa: ANN201
    """A real SMTP server on loopback: what the demo e-mailed."""
    testing = pytest.importorskip("notifications.testing", reason="the seed needs the notifications service")
    with testing.smtp_catcher() as catcher:
        yield catcher


@dataclass
class Demo:
    """The seeded platform: its URLs, and the seed's first run on it with the progress it reported."""

    urls: dict[str, str]
    first: SeedReport
    steps: list[tuple[int, int, str]] = field(default_factory=list)


def run_seed(urls: dict[str, str], progress=None, password: str = ADMIN_PASSWORD) -> Any:  # noqa: ANN001
    # seed() is the synchronous entry point `nrn up` calls: off the loop that serves the platform.
    return asyncio.to_thread(seed, urls, progress=progress, admin_email=ADMIN_EMAIL, admin_password=password,
                             wait_timeout=600)  # the starter cities flow through every consumer first


@pytest.fixture(scope="module")
async def demo(nrn_infra, smtp) -> AsyncIterator[Demo]:  # noqa: ANN001
    """One platform for this module's tests, seeded once: starting it and seeding take minutes."""
    pytest.importorskip("library.app", reason="the seed needs the library service")
    from nrn_cli.system import running_system

    common = {"kafka_session_timeout_ms": 1000, "kafka_heartbeat_interval_ms": 200, "relay_poll_seconds": 0.2,
              "consumer_backoff_seconds": 0.01, "topic_partitions": 2}
    overrides: dict[str, dict[str, Any]] = {
        "accounts": {"bootstrap_admin_email": ADMIN_EMAIL, "bootstrap_admin_password": ADMIN_PASSWORD,
                     "argon2_time_cost": 1, "argon2_memory_kib": 8 * 1024, "starter_cities": "demo"},
        # the crawl signs in over plain HTTP and reads hundreds of pages
        "gateway": {"write_rate_capacity": 10_000, "upstream_read_timeout": 15.0, "cookie_secure": False},
        "requests311": {"sla_sweep_interval_seconds": 0},
        "peer": {"hold_sweep_interval_seconds": 0},
        "notifications": {"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "sender_poll_seconds": 0.1},
        "engagements": {"orphan_sweep_interval_seconds": 0},
    }
    async with running_system(kafka_bootstrap_servers=nrn_infra.kafka_bootstrap_servers,
                              mongodb_uri=nrn_infra.mongodb_uri, prefix=f"s{uuid.uuid4().hex[:10]}", common=common,
                              overrides=overrides) as system:
        steps: list[tuple[int, int, str]] = []
        first = await run_seed(system.urls, lambda done, total, what: steps.append((done, total, what)))
        yield Demo(urls=system.urls, first=first, steps=steps)


async def snapshot(gateway: str) -> dict[str, Any]:
    """What the seed made, as anyone would see it through the public API."""
    async with httpx.AsyncClient(base_url=f"{gateway}/api/v1", timeout=30) as http:
        token = (await http.post("/auth/token", data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD})).json()
        admin = {"Authorization": f"Bearer {token['access_token']}"}

        async def get(path: str, **params: Any) -> Any:
            response = await http.get(path, params=params, headers=admin)
            assert response.status_code == 200, f"{path}: {response.text}"
            return response.json()

        staff = (await get("/accounts", kind="staff", limit=200))["items"]
        officials = (await get("/accounts", kind="official", limit=200))["items"]
        requests = (await get("/requests", limit=100))["items"]
        views = {r["title"]: await get(f"/requests/{r['id']}") for r in requests}
        demo = await get("/library/search", source=content.DEMO_SOURCE, kind="resource", page_size=50)
        programs = (await get("/clearinghouse/programs", page_size=50))["items"]
        probono = await get("/probono/projects")
        matches = [m for p in probono for m in (await get(f"/probono/projects/{p['id']}"))["matches"]]
        return {
            "probono_projects": sorted((p["title"], p["status"]) for p in probono),
            "probono_matches": sorted((m["project_title"], m["status"], m["hours_logged"], m["hours_approved"])
                                      for m in matches),
            "probono_volunteers": Counter(v["status"] for v in await get("/probono/volunteers")),
            "probono_organizations": sorted(o["name"] for o in await get("/probono/organizations")),
            "eligible": (await get("/cities", eligible="true", limit=1))["total"],
            "staff": sorted((a["email"], tuple(a["roles"]), tuple(a["expertise"])) for a in staff),
            "officials": sorted((a["email"], a["city_id"], a["status"]) for a in officials),
            "requests": sorted((v["title"], v["status"], v["version"]) for v in views.values()),
            "states": Counter(v["status"] for v in views.values()),
            "views": views,
            "queues": await get("/queues"),
            "resources": sorted(h["title"] for h in demo["hits"]),
            "resource_types": {h["type"] for h in demo["hits"]},
            "land_bank": [h["title"] for h in (await get("/library/search", q="land bank"))["hits"]],
            "programs": sorted((p["content"]["agency"], p["content"]["name"], p["version"]) for p in programs),
            "deadlines": [(p["content"]["rolling"], p["next_deadline"]) for p in programs],
            "program_tags": [p["content"]["tags"] for p in programs],
            "convenings": [(c["title"], c["seats_taken"], c["waitlist_length"]) for c in await get("/convenings")],
            "groups": sorted((g["name"], len(g["members"])) for g in await get("/groups")),
            "terms": sorted(m["term_status"] for g in await get("/groups") for m in g["members"] if m["term_ends_on"]),
            "introductions": [(i["status"], len(i["cities"])) for i in await get("/introductions")],
            "applications": sorted([a["status"] for a in (await get("/applications", queue="in_review"))["items"]]
                                   + [a["status"] for a in (await get("/applications", queue="decided"))["items"]]),
            "rounds": [(r["name"], r["capacity"], r["accepted"]) for r in await get("/rounds")],
            "engagements": [(e["status"], e["milestones_done"], e["milestones_total"])
                            for e in (await get("/engagements"))["items"]],
        }


@pytest.mark.timeout(1200)  # whichever of the two runs first starts and seeds the platform (minutes)
async def test_seed_loads_the_demo_data_once_through_the_api(demo: Demo, smtp) -> None:  # noqa: ANN001
    platform, first, steps = demo.urls, demo.first, demo.steps
    assert first.created["staff"] == len(content.STAFF)
    assert first.created["officials"] == len(content.OFFICIALS) and first.created["verifications"] == 2
    assert first.created["questions"] == len(content.QUESTIONS)
    assert first.created["resources"] == len(content.RESOURCES)
    assert first.created["programmes"] == len(content.programs(program_today()))
    assert first.notes == []
    # municipal health data: every eligible city's illustrative values, the group's choice, one dashboard published
    per_city = len(content.HEALTH_MEASURES) * len(content.HEALTH_YEARS)
    assert first.created["health values"] >= 3 * per_city and first.created["health values"] % per_city == 0
    assert first.created["health dashboards published"] == 1 and first.created["peer health group"] == 1
    assert steps[0][0] == 0 and steps[-1][0] == steps[-1][1] and [s[0] for s in steps] == sorted(s[0] for s in steps)
    assert {login.email for login in first.logins} >= {content.demo_email(s["name"]) for s in content.STAFF}
    assert len(first.cities) == 3
    # the demo told people what happened: the first official has notices and e-mails, the tour says where
    assert any("unread notification" in line for line in first.tour) and "/staff/mail/caught" in first.tour[-1]
    official = content.demo_email(content.OFFICIALS[0]["name"])

    async def verified_mail() -> bool:
        return any(str(r.message["Subject"]).startswith("Your account is verified") for r in smtp.to(official))

    await eventually(verified_mail)

    seen = await snapshot(platform["gateway"])
    assert seen["eligible"] >= 3
    assert len(seen["staff"]) == 1 + len(content.STAFF)  # and the bootstrap administrator
    assert Counter(status for _, _, status in seen["officials"]) == {"verified": 2, "pending": 1}
    assert len({city for _, city, _ in seen["officials"]}) == 3
    assert seen["states"] == {"submitted": 1, "awaiting_information": 1, "assigned": 1, "memo_in_review": 1,
                              "memo_delivered": 1, "closed": 1}
    views = seen["views"]
    delivered = next(v for v in views.values() if v["status"] == "memo_delivered")
    assert delivered["memo"]["word_count"] >= 800 and len(delivered["call_slots"]) == 3
    closed = next(v for v in views.values() if v["status"] == "closed")
    assert closed["feedback"][0]["rating"] == 5 and closed["calls"][0]["outcome"] == "completed"
    assert next(v for v in views.values() if v["status"] == "assigned")["expert_id"]
    queues = seen["queues"]
    assert queues["new"] >= 1 and queues["awaiting_information"] >= 1 and queues["in_review"] >= 1
    assert seen["resources"] == sorted(r["title"] for r in content.RESOURCES)
    assert {"guide", "toolkit", "case_study", "report"} <= seen["resource_types"]
    assert "Land bank start-up toolkit: policies, priorities and disposition" in seen["land_bank"]
    assert len(seen["programs"]) == len(content.programs(program_today()))
    assert {"HUD", "EDA", "DOT", "EPA", "USDA", "Treasury", "HHS", "NTIA"} <= {a for a, _, _ in seen["programs"]}
    assert all(rolling or (due and date.fromisoformat(due) > program_today()) for rolling, due in seen["deadlines"])
    assert all("demo entry" in tags for tags in seen["program_tags"])
    # the peer network: one place taken and one on the waitlist, two groups of the two demo cities, one term
    # flagged as ending, one introduction offered
    assert seen["convenings"] == [(content.CONVENING["title"], 1, 1)]
    assert seen["groups"] == sorted((g["name"], 2) for g in content.GROUPS)
    assert seen["terms"] == ["ending_soon", "serving"]
    assert seen["introductions"] == [("offered", 2)]
    # direct assistance: a round of two places, the first city accepted with its engagement under way
    # (one of three milestones done), the second in review
    assert seen["rounds"] == [(content.ROUND["name"], 2, 1)]
    assert seen["applications"] == ["accepted", "in_review"]
    assert seen["engagements"] == [("in_progress", 1, 3)]
    # pro bono: three made-up organizations, every volunteer confirmed by their coordinator, three projects
    # open and one waiting for review, a match offered and one under way with 6 of its 10.5 hours approved
    assert seen["probono_organizations"] == sorted(o["name"] for o in content.PROBONO_ORGANIZATIONS)
    assert seen["probono_volunteers"] == {"confirmed": sum(len(o["volunteers"]) for o in content.PROBONO_ORGANIZATIONS)}
    assert seen["probono_projects"] == sorted([
        ("A budget residents can read", "open"), ("Grant application for lead service line replacement", "submitted"),
        ("Refresh the emergency operations plan", "open"), ("Vacant lot inventory", "active")])
    assert seen["probono_matches"] == [("A budget residents can read", "proposed", 0, 0),
                                       ("Vacant lot inventory", "accepted", 10.5, 6.0)]
    assert all(login.email.endswith(".example.org") for login in first.logins if login.role.startswith("pro bono"))

    again = await run_seed(platform)
    assert not again.changed, again.created
    assert again.existing["staff"] == len(content.STAFF) and again.existing["questions"] == len(content.QUESTIONS)
    assert [(login.email, login.password) for login in again.logins] == [(login.email, login.password) for login in first.logins]
    after = await snapshot(platform["gateway"])
    for key in ("eligible", "staff", "officials", "states", "resources", "programs", "convenings", "groups",
                "introductions", "applications", "rounds", "engagements", "probono_projects", "probono_matches",
                "probono_volunteers", "probono_organizations"):
        assert after[key] == seen[key], key
    # Versions move only through other services' events (the library publishing an answer), never the seed.
    assert [(t, s) for t, s, _ in after["requests"]] == [(t, s) for t, s, _ in seen["requests"]]

    # An expected failure names the step and carries the problem body, not a traceback.
    with pytest.raises(SeedError) as caught:
        await run_seed(platform, password="not-the-password-1")
    text = str(caught.value)
    assert "sign in as the administrator" in text and "HTTP 401" in text and "problem:" in text


@pytest.mark.timeout(1200)  # as above: it may be the one that starts and seeds the platform
async def test_every_reachable_page_reads_as_words_for_people(demo: Demo) -> None:
    people: list[tuple[str, str | None, str | None]] = [("anonymous", None, None), ("administrator", ADMIN_EMAIL, ADMIN_PASSWORD)]
    for person in content.STAFF + content.OFFICIALS:
        email = content.demo_email(person["name"])
        people.append((person["key"], email, demo_password(ADMIN_PASSWORD, email)))
    found: dict[str, list[str]] = {}
    for who, email, password in people:
        found.update(await crawl(demo.urls["gateway"], who, email, password))
    report = "\n".join(f"{page}: {p}" for page, problems in sorted(found.items()) for p in problems[:5])
    assert not found, f"{len(found)} pages show what people should not read:\n{report}"
