"""An official can never reach another city's data, whatever the URL says.

Walks EVERY route of the gateway — each API route and each page route, every method — as
an official of Flint, with Youngstown's ids in every path and query parameter and a valid
body, then checks that nothing of Youngstown's came back and nothing of it changed."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from gateway.testing import Platform, eventually, walk_routes

pytestmark = pytest.mark.integration

# Routes that are public or about the caller themselves: a 2xx is right for them even with
# another city's id in the query (their answers still must not carry the other city's secrets).
OPEN = {
    ("GET", "/api/v1/cities"), ("GET", "/api/v1/cities/{city_id}"), ("POST", "/api/v1/accounts"),
    ("POST", "/api/v1/auth/token"), ("POST", "/api/v1/auth/refresh"), ("POST", "/api/v1/auth/signout"),
    ("POST", "/api/v1/auth/password-reset"), ("POST", "/api/v1/auth/password-reset/confirm"), ("GET", "/api/v1/me"),
    ("POST", "/api/v1/auth/confirm-email"), ("POST", "/api/v1/auth/confirm-email/resend"), ("POST", "/api/v1/me/password"),
    ("GET", "/api/v1/topics"), ("GET", "/api/v1/requests/similar"), ("POST", "/api/v1/requests"),
    ("GET", "/api/v1/library/search"), ("GET", "/api/v1/library/taxonomy"), ("POST", "/api/v1/library/similar-questions"),
    ("GET", "/api/v1/clearinghouse/programs"), ("GET", "/api/v1/library/items/{item_id}/related"),
    ("GET", "/api/v1/library/resources/{resource_id}"), ("GET", "/api/v1/library/answers/{request_id}"),
    ("GET", "/api/v1/clearinghouse/programs/{program_id}"),
    # one's own notices and notification preferences
    ("GET", "/api/v1/notices"), ("GET", "/api/v1/notices/unread-count"), ("POST", "/api/v1/notices/read-all"),
    ("GET", "/api/v1/notification-preferences"), ("PUT", "/api/v1/notification-preferences"),
    # direct assistance: reference data, and starting one's own city's application
    ("GET", "/api/v1/direct-assistance/barriers"), ("GET", "/api/v1/direct-assistance/form"),
    ("GET", "/api/v1/direct-assistance/rubric"), ("POST", "/api/v1/applications"),
    # public reference: the search's synonyms and the event catalogue
    ("GET", "/api/v1/library/synonyms"), ("GET", "/api/v1/events/catalogue"),
    # the peer network's lists as every official sees them, and one's own registrations and introductions
    ("GET", "/api/v1/convenings"), ("GET", "/api/v1/registrations/mine"), ("GET", "/api/v1/groups"),
    ("GET", "/api/v1/introductions"),
    # the health measure catalogue (every measure, which are shown, the Peer Health Group's cities)
    ("GET", "/api/v1/health-data/measures"),
    # reference: the city import's columns, the pro bono network's organizations and skills; and the
    # pro bono projects list, which for an official is always their own city's (its city_id is ignored)
    ("GET", "/api/v1/cities/import/format"), ("GET", "/api/v1/probono/organizations"),
    ("GET", "/api/v1/probono/skills"), ("GET", "/api/v1/probono/projects"),
}
UNKNOWN = "x-unknown"  # a path parameter this walk has no id of the other city for


async def their_application(platform: Platform, headers: dict[str, str]) -> dict[str, Any] | None:
    """The other city's draft application (engagements learns the city from accounts' events first)."""
    from gateway.testing import engagements_installed, eventually

    if not engagements_installed():
        return None

    async def started() -> dict[str, Any] | None:
        response = await platform.http.post("/api/v1/applications", headers=headers)
        return response.json() if response.status_code == 201 else None

    return await eventually(started)


async def their_notice(platform: Platform, headers: dict[str, str]) -> str:
    """The id of a notice of the other city's official (their question's receipt)."""
    async def receipt() -> str | None:
        items = (await platform.http.get("/api/v1/notices", headers=headers)).json().get("items", [])
        return next((n["id"] for n in items if "We received" in n["title"]), None)

    return await eventually(receipt, timeout=120)


def resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def sample(schema: dict[str, Any], spec: dict[str, Any], values: dict[str, Any], name: str = "") -> Any:
    """A valid value for a JSON schema, with the other city's ids where a field names one."""
    schema = resolve(schema, spec)
    if name in values:
        return values[name]
    if "anyOf" in schema:
        options = [o for o in schema["anyOf"] if o.get("type") != "null"]
        return sample(options[0], spec, values, name) if options else None
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: sample(v, spec, values, k) for k, v in props.items() if k in schema.get("required", []) or k in values}
    if kind == "array":
        return [sample(schema.get("items", {}), spec, values, name)] * max(1, schema.get("minItems", 1))
    if kind == "integer":
        return max(schema.get("minimum", 1), 1) if "maximum" not in schema else schema.get("minimum", 1)
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    if schema.get("format") == "date-time":
        return "2030-01-02T15:00:00+00:00"
    if "pattern" in schema and "@" in schema["pattern"]:
        return "someone@example.org"
    if "pattern" in schema and "https?" in schema["pattern"]:
        return "https://example.org"
    if "pattern" in schema and r"\d{4}" in schema["pattern"]:
        return "2030-01-02"
    return "x" * max(3, schema.get("minLength", 3))


async def test_an_official_walks_every_route_with_another_citys_ids(platform: Platform) -> None:
    http = platform.http
    admin = await platform.admin()
    await platform.import_cities(admin)
    _, flint = await platform.verified_official(admin, "mi-flint", "Fran Flint")
    other, youngstown = await platform.verified_official(admin, "oh-youngstown", "Yan Youngstown")
    secret = f"Youngstown confidential {uuid.uuid4().hex[:8]}"
    theirs = await platform.submit(youngstown, secret)
    before = (await http.get(f"/api/v1/requests/{theirs['id']}", headers=youngstown)).json()

    application = await their_application(platform, youngstown)
    ids = {"city_id": "oh-youngstown", "request_id": theirs["id"], "account_id": other["account_id"],
           "resource_id": f"qa-{theirs['id']}", "item_id": f"qa-{theirs['id']}", "role": "reviewer",
           "transition": "publish", "program_id": "p-unknown", "partner_id": "ptn-unknown",
           "expert_id": other["account_id"], "search_id": "s-unknown",
           "notice_id": await their_notice(platform, youngstown),
           "application_id": application["id"] if application else UNKNOWN}
    body_values = {"city_id": "oh-youngstown", "expert_id": other["account_id"], "version": before["version"],
                   "duplicate_of": theirs["id"], "request_id": theirs["id"]}
    app = platform.apps["gateway"]
    spec = app.openapi()
    leaks: list[str] = []
    reached: list[str] = []
    walked = 0

    for route_path, methods in walk_routes(app):
        # the API's operations (the interactive docs page at /api/docs and openapi.json are not operations)
        if not route_path.startswith("/api/") or route_path not in spec["paths"]:
            continue
        for method in methods - {"HEAD"}:
            path = re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), UNKNOWN)), route_path)
            operation = spec["paths"][route_path][method.lower()]
            params = {p["name"]: ids.get(p["name"], "oh-youngstown") for p in operation.get("parameters", [])
                      if p["in"] == "query" and p["name"] in ("city_id", "eligible_for")}
            kwargs: dict[str, Any] = {"params": params, "headers": flint}
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                kwargs["json"] = sample(content["application/json"]["schema"], spec, body_values)
            elif "multipart/form-data" in content:
                kwargs["files"] = {"file": ("c.csv", b"name,state\n", "text/csv")}
            elif "application/x-www-form-urlencoded" in content:
                kwargs["data"] = {"username": other["email"], "password": "wrong-password"}
            response = await http.request(method, path, **kwargs)
            walked += 1
            if secret in response.text or other["email"] in response.text:
                leaks.append(f"{method} {route_path} -> {response.status_code}")
            if (method, route_path) not in OPEN and response.status_code < 400:
                reached.append(f"{method} {route_path} -> {response.status_code}")
            assert response.status_code < 500, f"{method} {route_path}: {response.status_code} {response.text[:300]}"

    assert walked >= 60
    assert leaks == []
    assert reached == [], reached
    after = (await http.get(f"/api/v1/requests/{theirs['id']}", headers=youngstown)).json()
    assert (after["version"], after["status"]) == (before["version"], before["status"])
    if application:
        now = (await http.get(f"/api/v1/applications/{application['id']}", headers=youngstown)).json()
        assert (now["version"], now["status"]) == (application["version"], "draft")


async def test_an_official_walks_every_page_with_another_citys_ids(platform: Platform) -> None:
    import httpx

    http = platform.http
    admin = await platform.admin()
    await platform.import_cities(admin)
    mine, _ = await platform.verified_official(admin, "mi-flint", "Fran Flint")
    other, youngstown = await platform.verified_official(admin, "oh-youngstown", "Yan Youngstown")
    secret = f"Youngstown confidential {uuid.uuid4().hex[:8]}"
    theirs = await platform.submit(youngstown, secret)
    before = (await http.get(f"/api/v1/requests/{theirs['id']}", headers=youngstown)).json()
    application = await their_application(platform, youngstown)
    ids = {"city_id": "oh-youngstown", "request_id": theirs["id"], "account_id": other["account_id"],
           "resource_id": f"qa-{theirs['id']}", "item_id": f"qa-{theirs['id']}", "program_id": "p-unknown",
           "role": "reviewer", "transition": "publish", "action": "triage", "step": "screen",
           "app_id": application["id"] if application else UNKNOWN}
    notice = await their_notice(platform, youngstown)
    ids.update(notice_id=notice, mail_id=notice, key="x", index="0")

    app = platform.apps["gateway"]
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30.0) as browser:
        page = await browser.get("/signin")
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
        signed = await browser.post("/signin", data={"username": mine["email"], "password": mine["password"],
                                                     "csrf_token": token})
        assert signed.status_code == 303
        token = re.search(r'name="csrf-token" content="([^"]+)"', (await browser.get("/")).text).group(1)
        leaks: list[str] = []
        walked = 0
        for route_path, methods in walk_routes(app):
            if route_path.startswith(("/api/", "/health", "/favicon")):
                continue
            for method in methods - {"HEAD"}:
                if route_path in ("/signout", "/signin"):
                    continue  # would end or replace this walk's session
                path = re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), UNKNOWN)), route_path)
                form = {"csrf_token": token, "version": str(before["version"]), "slot_id": "x", "answer": "x",
                        "rating": "5", "consent": "named", "reason": "x", "topic": "finance_budgets",
                        "expert_id": other["account_id"], "body": "x", "text": "x", "outcome": "acted"}
                if method == "GET":
                    response = await browser.get(path, params={"city_id": "oh-youngstown"})
                else:
                    response = await browser.request(method, path, data=form)
                walked += 1
                assert response.status_code < 500, f"{method} {route_path}: {response.status_code}"
                if secret in response.text or other["email"] in response.text:
                    leaks.append(f"{method} {route_path}")
                if response.status_code == 303:
                    follow = await browser.get(response.headers["location"])
                    if secret in follow.text or other["email"] in follow.text:
                        leaks.append(f"{method} {route_path} (after redirect)")
        assert walked >= 40
        assert leaks == []
    after = (await http.get(f"/api/v1/requests/{theirs['id']}", headers=youngstown)).json()
    assert (after["version"], after["status"]) == (before["version"], before["status"])
    if application:
        now = (await http.get(f"/api/v1/applications/{application['id']}", headers=youngstown)).json()
        assert (now["version"], now["status"]) == (application["version"], "draft")
