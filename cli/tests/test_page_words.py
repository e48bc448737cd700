"""Every page a person can reach in the seeded system, for each role, reads as words for people: no
service name, permission string, enum code, internal id (ObjectId, UUID, the services' own ids) or
British spelling in the visible text. The crawl follows the links of each page (GET, this site only)
from the home page, as the anonymous visitor, a verified official, an official awaiting verification,
each demo staff member and the administrator."""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from nrn_cli import seed_content as content
from nrn_cli.seed import demo_password, seed
from nrn_kit.auth import MATRIX

ADMIN_EMAIL = "admin@nrn.example"
ADMIN_PASSWORD = "crawl-test-admin-password-1"
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


@pytest.fixture
async def seeded(nrn_infra, test_id: str) -> AsyncIterator[dict[str, str]]:  # noqa: ANN001
    pytest.importorskip("library.app", reason="the seed needs the library service")
    from nrn_cli.system import running_system

    common = {"kafka_session_timeout_ms": 1000, "kafka_heartbeat_interval_ms": 200, "relay_poll_seconds": 0.2,
              "consumer_backoff_seconds": 0.01, "topic_partitions": 2}
    overrides: dict[str, dict[str, Any]] = {
        "accounts": {"bootstrap_admin_email": ADMIN_EMAIL, "bootstrap_admin_password": ADMIN_PASSWORD,
                     "argon2_time_cost": 1, "argon2_memory_kib": 8 * 1024, "starter_cities": "demo"},
        "gateway": {"write_rate_capacity": 10_000, "upstream_read_timeout": 15.0, "cookie_secure": False},
        "requests311": {"sla_sweep_interval_seconds": 0},
    }
    async with running_system(kafka_bootstrap_servers=nrn_infra.kafka_bootstrap_servers,
                              mongodb_uri=nrn_infra.mongodb_uri, prefix=f"w{test_id}", common=common,
                              overrides=overrides) as system:
        await asyncio.to_thread(seed, system.urls, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD,
                                wait_timeout=600)  # the starter cities flow through every consumer first
        yield system.urls


async def test_every_reachable_page_reads_as_words_for_people(seeded: dict[str, str]) -> None:
    people: list[tuple[str, str | None, str | None]] = [("anonymous", None, None), ("administrator", ADMIN_EMAIL, ADMIN_PASSWORD)]
    for person in content.STAFF + content.OFFICIALS:
        email = content.demo_email(person["name"])
        people.append((person["key"], email, demo_password(ADMIN_PASSWORD, email)))
    found: dict[str, list[str]] = {}
    for who, email, password in people:
        found.update(await crawl(seeded["gateway"], who, email, password))
    report = "\n".join(f"{page}: {p}" for page, problems in sorted(found.items()) for p in problems[:5])
    assert not found, f"{len(found)} pages show what people should not read:\n{report}"


def test_the_checks_catch_what_they_are_for() -> None:
    assert problems_in("Status: awaiting_information")
    assert problems_in("requests311 answered 403")
    assert problems_in("needs requests311.submit") and problems_in("needs request.submit")
    assert problems_in("Account acc-0123456789abcdef") and problems_in("id 65f1c2a9b3e4d5f6a7b8c9d0")
    assert problems_in("req_0123456789abcdef0123") and problems_in("1b4e28ba-2fa1-11d2-883f-0016d3cca427")
    assert problems_in("federal programmes for your neighbourhood centre")
    assert problems_in("Check your e-mail") and problems_in("My city's questions")
    assert not problems_in("Federal programs for your neighborhood center. Email sam@city.gov, 2:00 PM CST.")
