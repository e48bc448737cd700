"""Every staff and official form of 311, accounts, cities and exceptions, submitted exactly as the rendered
page offers it (gateway.testing_forms reads the real page like a browser), is accepted by the service.

The pages' forms and the services' models must not drift apart: a form that lacks a field the service
requires, offers a choice it refuses, or posts where nothing answers fails here. The walk follows a help
desk's day on one platform; every form the visited pages offer is recorded, and the last test fails when
one of them was never sent (the whole class, not the examples: a form added later without being sent
here fails). The library's and clearinghouse's curation forms are sent by test_curation_forms.py.

Time is moved, not waited for: a booked call's start and a closing date are set back in requests311's
database where a form only opens once they have passed (recording a call, the 90-day follow-up).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from gateway.testing import DESK_CITY, STAFF_PASSWORD, Desk, Person, memo_text, running_platform, staff_desk
from gateway.testing_forms import Form, accepted, fill, form_to, post_forms, refusal, signed_in, submit

pytestmark = [pytest.mark.integration]

CENTRAL = ZoneInfo("America/Chicago")
COVERED_ELSEWHERE = ("/staff/curation/",)  # test_curation_forms.py sends each as offered


def pattern(action: str) -> str:
    """A form's action with its ids (and a revoked role) as placeholders: one entry per kind of form."""
    action = re.sub(r"/roles/[a-z_]+/revoke$", "/roles/{role}/revoke", action)
    return re.sub(r"/(req_[0-9a-f]+|acc-[0-9a-f]+|[a-z]{2}-[a-z0-9-]+)(?=/|$)", "/{id}", action)


class Walk:
    """The forms the visited pages offered, and those sent and accepted."""

    def __init__(self) -> None:
        self.offered: dict[str, str] = {}
        self.sent: set[str] = set()

    async def page(self, client: httpx.AsyncClient, path: str, **params: str) -> str:
        response = await client.get(path, params=params or None)
        assert response.status_code == 200, f"{path}: {refusal(response)}"
        for f in post_forms(response.text):
            self.offered.setdefault(pattern(f.action), path)
        return response.text

    async def send(self, client: httpx.AsyncClient, form: Form, what: str, **kw) -> str:  # noqa: ANN003
        target = await accepted(client, await submit(client, form, **kw), what)
        self.sent.add(pattern(kw.get("button") and form.button(kw["button"]).formaction or form.action))
        return target

    def mark(self, action: str) -> None:
        self.sent.add(pattern(action))


WALK = Walk()


@pytest.fixture(scope="module")
async def desk(nrn_infra) -> AsyncIterator[Desk]:  # noqa: ANN001
    async with running_platform(nrn_infra.kafka_bootstrap_servers, nrn_infra.mongodb_uri,
                                f"forms{uuid.uuid4().hex[:6]}") as platform:
        yield await staff_desk(platform)


async def browser(desk: Desk, who: Person) -> httpx.AsyncClient:
    return await signed_in(desk.platform.gateway, who.email, who.password)


def requests_db(desk: Desk):  # noqa: ANN201
    return desk.platform.apps["requests311"].state.runtime.db


async def call_has_started(desk: Desk, rid: str) -> None:
    """Move the booked call's start into the past (instead of waiting for it)."""
    doc = await requests_db(desk).requests.find_one({"_id": rid})
    calls = doc["calls"]
    calls[-1]["starts_at"] = datetime.now(UTC) - timedelta(minutes=5)
    await requests_db(desk).requests.update_one({"_id": rid}, {"$set": {"calls": calls}})


def next_weekday(hour: int, days: int = 2) -> str:
    """A local date and time in the city's zone, `days` weekdays ahead, as datetime-local writes it."""
    day = datetime.now(CENTRAL).date() + timedelta(days=days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return f"{day.isoformat()}T{hour:02d}:00"


async def test_311_forms_of_staff_and_officials_are_accepted_as_offered(desk: Desk) -> None:
    official = await browser(desk, desk.official)
    lead, expert, pm = [await browser(desk, p) for p in (desk.lead, desk.expert, desk.pm)]
    try:
        # the official asks twice: with only what is required, and with every field
        ids = []
        for minimal in (True, False):
            html = await WALK.page(official, "/requests/new")
            values = {"consent": "anonymous"} if minimal else {}
            response = await submit(official, form_to(html, "/requests/new"), minimal=minimal, values={
                "title": f"Form walk question {'short' if minimal else 'full'}", **values})
            target = response.headers.get("location", "")
            assert response.status_code == 303 and target.startswith("/requests/req_"), refusal(response)
            WALK.mark("/requests/new")
            ids.append(target.rsplit("/", 1)[-1])
        rid, other = ids
        repeat = await desk.ask("Form walk question repeated")

        # triage, note, ask the city (answered by the official), decline as a duplicate picked from the list
        html = await WALK.page(lead, f"/staff/requests/{rid}")
        await WALK.send(lead, form_to(html, f"/staff/requests/{rid}/do/triage"), "triage", values={"urgency": "urgent"})
        html = await WALK.page(lead, f"/staff/requests/{rid}")
        await WALK.send(lead, form_to(html, f"/staff/requests/{rid}/do/note"), "note")
        html = await WALK.page(lead, f"/staff/requests/{other}")
        await WALK.send(lead, form_to(html, f"/staff/requests/{other}/do/ask"), "ask the city", minimal=True)
        html = await WALK.page(official, f"/requests/{other}")
        answer = [f for f in post_forms(html) if f.action.endswith("/information")][0]
        await WALK.send(official, answer, "answer the question", minimal=True)
        html = await WALK.page(lead, f"/staff/requests/{repeat}", dup_q="walk question short")
        decline = form_to(html, f"/staff/requests/{repeat}/do/decline")
        assert any(f.name == "duplicate_of" for f in decline.fields), "the picker offers the question it repeats"
        await WALK.send(lead, decline, "decline as a duplicate", values={"reason": "duplicate",
                                                                          "duplicate_of": rid})

        # assign, reassign with a reason, unassign with a reason, assign again
        html = await WALK.page(lead, f"/staff/requests/{rid}")
        await WALK.send(lead, form_to(html, f"/staff/requests/{rid}/do/assign"), "assign", values={
            "expert_id": desk.expert2.account_id})
        html = await WALK.page(lead, f"/staff/requests/{rid}")
        await WALK.send(lead, form_to(html, f"/staff/requests/{rid}/do/assign"), "reassign", minimal=True)
        html = await WALK.page(lead, f"/staff/requests/{rid}")
        await WALK.send(lead, form_to(html, f"/staff/requests/{rid}/do/unassign"), "unassign", minimal=True)
        html = await WALK.page(lead, f"/staff/requests/{rid}")
        await WALK.send(lead, form_to(html, f"/staff/requests/{rid}/do/assign"), "assign again", values={
            "expert_id": desk.expert.account_id})

        # the memo: the template as offered (empty sections) asks for confirmation, sent anyway, returned,
        # rewritten and sent again, approved, delivered
        html = await WALK.page(expert, f"/staff/requests/{rid}/memo")
        await WALK.send(expert, form_to(html, f"/staff/requests/{rid}/do/draft"), "save the template as a draft")
        html = await WALK.page(expert, f"/staff/requests/{rid}/memo")
        confirm = await submit(expert, form_to(html, f"/staff/requests/{rid}/do/draft"), button="Send for review")
        assert confirm.status_code == 200 and "Send this memo for review as it is?" in confirm.text, refusal(confirm)
        WALK.mark(f"/staff/requests/{rid}/do/send")
        await WALK.send(expert, form_to(confirm.text, f"/staff/requests/{rid}/do/send"), "send it anyway")
        html = await WALK.page(pm, f"/staff/requests/{rid}/memo")
        await WALK.send(pm, form_to(html, f"/staff/requests/{rid}/do/return"), "return with comments")
        html = await WALK.page(expert, f"/staff/requests/{rid}/memo")
        assert "what to change" in html
        await WALK.send(expert, form_to(html, f"/staff/requests/{rid}/do/draft"), "send the rewrite for review",
                        values={"body": memo_text()}, button="Send for review")
        html = await WALK.page(pm, f"/staff/requests/{rid}/memo")
        await WALK.send(pm, form_to(html, f"/staff/requests/{rid}/do/approve"), "approve")
        html = await WALK.page(pm, f"/staff/requests/{rid}")
        await WALK.send(pm, form_to(html, f"/staff/requests/{rid}/do/deliver"), "deliver")

        # call slots: a Saturday is refused until confirmed; booked; moved; offered again; missed; booked; held
        html = await WALK.page(expert, f"/staff/requests/{rid}")
        slots = form_to(html, f"/staff/requests/{rid}/do/slots")
        saturday = datetime.now(CENTRAL).date() + timedelta(days=(5 - datetime.now(CENTRAL).weekday()) % 7 + 7)
        refused = await submit(expert, slots, values={"starts_at": [f"{saturday.isoformat()}T10:00", "", ""],
                                                      "meeting": "Dial 1-800-555-0100, code 42"})
        assert refused.status_code == 422 and "outside the city's business hours" in refused.text, refusal(refused)
        await WALK.send(expert, form_to(refused.text, f"/staff/requests/{rid}/do/slots"), "offer off-hours, confirmed",
                        minimal=True)
        for attempt in range(3):
            html = await WALK.page(official, f"/requests/{rid}")
            book = [f for f in post_forms(html) if f.action.endswith("/schedule")][0]
            await WALK.send(official, book, "book the call", minimal=True)
            if attempt == 0:
                html = await WALK.page(expert, f"/staff/requests/{rid}")
                await WALK.send(expert, form_to(html, f"/staff/requests/{rid}/do/reschedule"), "move the call",
                                minimal=True)
            else:
                await call_has_started(desk, rid)
                html = await WALK.page(expert, f"/staff/requests/{rid}")
                if attempt == 1:
                    await WALK.send(expert, form_to(html, f"/staff/requests/{rid}/do/missed"), "missed")
                else:
                    await WALK.send(expert, form_to(html, f"/staff/requests/{rid}/do/complete"), "record the call")
                    break
            html = await WALK.page(expert, f"/staff/requests/{rid}")
            await WALK.send(expert, form_to(html, f"/staff/requests/{rid}/do/slots"), "offer in business hours",
                            values={"starts_at": [next_weekday(10, attempt + 2), next_weekday(14, attempt + 2), ""]})

        # a second question's booked call is cancelled by staff, then it is closed without a call
        second = await desk.to_status("Form walk cancelled call", "call_scheduled")
        html = await WALK.page(pm, f"/staff/requests/{second}")
        await WALK.send(pm, form_to(html, f"/staff/requests/{second}/do/cancel_call"), "cancel the call", minimal=True)
        html = await WALK.page(pm, f"/staff/requests/{second}")
        await WALK.send(pm, form_to(html, f"/staff/requests/{second}/do/close"), "close without a call")

        # after closing: the official rates, changes consent, reopens; staff close again; the follow-up
        for suffix, minimal in (("/feedback", True), ("/consent", False), ("/reopen", True)):
            html = await WALK.page(official, f"/requests/{rid}")
            form = [f for f in post_forms(html) if f.action.endswith(suffix)][0]
            values = {"consent": "named"} if suffix == "/consent" else {}
            await WALK.send(official, form, suffix.strip("/"), minimal=minimal, values=values)
        html = await WALK.page(pm, f"/staff/requests/{rid}")
        await WALK.send(pm, form_to(html, f"/staff/requests/{rid}/do/close"), "close the reopened question")
        closed = datetime.now(UTC) - timedelta(days=91)
        await requests_db(desk).requests.update_one({"_id": rid}, {"$set": {"closed_at": closed}})
        html = await WALK.page(official, f"/requests/{rid}")
        follow = [f for f in post_forms(html) if f.action.endswith("/follow-up")][0]
        await WALK.send(official, follow, "follow-up")
        view = (await desk.platform.http.get(f"/api/v1/requests/{rid}", headers=desk.pm.headers)).json()
        assert view["follow_up"] and view["consent"] == "named" and view["feedback"]
        assert [c["outcome"] for c in view["calls"]] == ["reschedule_requested", "missed", "completed"]
    finally:
        for client in (official, lead, expert, pm):
            await client.aclose()


async def test_account_forms_are_accepted_as_offered(desk: Desk) -> None:
    admin = await browser(desk, desk.admin)
    try:
        # staff accounts: with only what is required (the first role), and with an expert's areas
        created = []
        for minimal in (True, False):
            html = await WALK.page(admin, "/staff/accounts/new")
            values = {"name": f"Walk Staff {minimal}", "email": f"walk.{uuid.uuid4().hex[:6]}@nrn.example"}
            if not minimal:
                values.update(roles=["subject_matter_expert"], expertise=["housing", "health"])
            target = await WALK.send(admin, form_to(html, "/staff/accounts/new"), "create staff", minimal=minimal,
                                     values=values)
            created.append(target.rsplit("/", 1)[-1])
        expert = (await desk.platform.http.get(f"/api/v1/accounts/{created[1]}", headers=desk.admin.headers)).json()
        assert expert["roles"] == ["subject_matter_expert"] and expert["expertise"] == ["health", "housing"]

        # a staff member's roles: granted (the list has no default), revoked, deactivated, reactivated
        sid = created[0]
        html = await WALK.page(admin, f"/staff/accounts/{sid}")
        await WALK.send(admin, form_to(html, f"/staff/accounts/{sid}/grant"), "grant a role", values={"role": "curator"})
        html = await WALK.page(admin, f"/staff/accounts/{sid}")
        await WALK.send(admin, form_to(html, f"/staff/accounts/{sid}/roles/curator/revoke"), "revoke a role")
        html = await WALK.page(admin, f"/staff/accounts/{sid}")
        await WALK.send(admin, form_to(html, f"/staff/accounts/{sid}/deactivate"), "deactivate")
        html = await WALK.page(admin, f"/staff/accounts/{sid}")
        await WALK.send(admin, form_to(html, f"/staff/accounts/{sid}/reactivate"), "reactivate", minimal=True)

        # a partner organization's member: offered only a partner's roles, and made its pro bono coordinator
        http, headers = desk.platform.http, desk.admin.headers
        r = await http.post("/api/v1/partners", headers=headers,
                            json={"name": f"Walk Analytics {uuid.uuid4().hex[:4]}", "kind": "consortium_member"})
        assert r.status_code == 201, r.text
        r = await http.post(f"/api/v1/partners/{r.json()['partner_id']}/members", headers=headers,
                            json={"name": "Walk Coordinator", "email": f"walk.{uuid.uuid4().hex[:6]}@partner.example",
                                  "password": STAFF_PASSWORD})
        assert r.status_code == 201, r.text
        pid = r.json()["account"]["account_id"]
        html = await WALK.page(admin, f"/staff/accounts/{pid}")
        assert "Pro bono coordinator" in html and "Curator" not in html and "Areas of expertise" not in html
        await WALK.send(admin, form_to(html, f"/staff/accounts/{pid}/grant"), "grant a partner's role",
                        values={"role": "probono_coordinator"})
        member = (await http.get(f"/api/v1/accounts/{pid}", headers=headers)).json()
        assert member["roles"] == ["probono_coordinator"]

        # pending officials: verified from the queue, asked for more, refused, reactivated, verified
        first = await desk.platform.sign_up_official(DESK_CITY, "Walk Pending One")
        second = await desk.platform.sign_up_official(DESK_CITY, "Walk Pending Two")
        html = await WALK.page(admin, "/staff/accounts", status="pending")
        await WALK.send(admin, form_to(html, f"/staff/accounts/{first['account_id']}/verify"), "verify from the queue")
        aid = second["account_id"]
        html = await WALK.page(admin, f"/staff/accounts/{aid}")
        await WALK.send(admin, form_to(html, f"/staff/accounts/{aid}/ask"), "ask for more")
        html = await WALK.page(admin, f"/staff/accounts/{aid}")
        await WALK.send(admin, form_to(html, f"/staff/accounts/{aid}/reject"), "refuse the sign-up")
        html = await WALK.page(admin, f"/staff/accounts/{aid}")
        await WALK.send(admin, form_to(html, f"/staff/accounts/{aid}/reactivate"), "reactivate the refused sign-up")
        html = await WALK.page(admin, f"/staff/accounts/{aid}")
        await WALK.send(admin, form_to(html, f"/staff/accounts/{aid}/verify"), "verify")
        decisions = (await desk.platform.http.get(f"/api/v1/accounts/{aid}", headers=desk.admin.headers)).json()
        assert [d["action"] for d in decisions["decisions"]][-4:] == ["information_requested", "rejected", "reactivated",
                                                                      "verified"]
        assert {d["by_name"] for d in decisions["decisions"][-4:]} == {"Administrator"}
        assert "Grant a role" not in await WALK.page(admin, f"/staff/accounts/{aid}")  # officials have no roles
    finally:
        await admin.aclose()


async def test_city_forms_are_accepted_as_offered(desk: Desk) -> None:
    admin = await browser(desk, desk.admin)
    try:
        html = await WALK.page(admin, "/staff/cities")
        preview_form = form_to(html, "/staff/cities/import/preview")
        template = (await admin.get("/staff/cities/import/template.csv")).text
        columns = template.splitlines()[0].split(",")

        def row(**cells: str) -> str:
            return ",".join(cells.get(c, "") for c in columns) + "\n"

        csv = template + row(name="Hammond", state="IN", population="75522", population_year="2010",
                             population_source="Census 2010", population_change_2000_2010="-7.2",
                             population_change_source="Census") + row(name="Nowhere", state="XX", population="1")
        _, pairs = fill(preview_form, minimal=True)
        preview = await admin.post(preview_form.action, data=dict(pairs),
                                   files={"file": ("cities.csv", csv.encode(), "text/csv")})
        assert preview.status_code == 200 and "What this file would change" in preview.text, refusal(preview)
        WALK.mark(preview_form.action)
        assert "Line 4 (Nowhere, XX): state:" in preview.text and "None" not in preview.text
        names = (await desk.platform.http.get("/api/v1/cities", params={"q": "Hammond"})).json()
        assert names["total"] == 0, "a preview writes nothing"
        response = await submit(admin, form_to(preview.text, "/staff/cities/import"))
        assert response.status_code == 303, refusal(response)
        WALK.mark("/staff/cities/import")
        report = await admin.get(response.headers["location"])
        assert 'class="notice warning"' in report.text and "1 row failed" in report.text, refusal(report)
        assert (await desk.platform.http.get("/api/v1/cities", params={"q": "Hammond"})).json()["total"] == 1

        for step in ("grant", "revoke"):
            html = await WALK.page(admin, "/staff/cities/oh-youngstown")
            await WALK.send(admin, form_to(html, "/staff/cities/oh-youngstown/exception"), f"{step} an exception")
    finally:
        await admin.aclose()


# Downloads are not pages to read; the words every page shows are checked by cli/tests/test_seed.py.
DOWNLOADS = (".pdf", ".csv", ".ics")
MAX_PAGES = 70


def links(html: str) -> list[str]:
    return [h.replace("&amp;", "&") for h in re.findall(r'<a\s[^>]*href="(/[^"#]*)', html)]


@pytest.mark.parametrize("role", ["triage_lead", "subject_matter_expert", "program_manager", "curator",
                                  "administrator", "official"])
async def test_every_link_a_page_offers_opens_for_the_person_it_was_offered_to(desk: Desk, role: str) -> None:
    """Each role starts where its work is and walks every link its pages offer (two of each kind of page):
    none answers "not allowed", fails or sends the person to sign in. A link shown to someone whose roles
    do not open it (a check-in list, "Manage account", "Schedule a convening") fails here."""
    who = desk.official if role == "official" else desk.by_role()[role]
    client = await browser(desk, who)
    landing = {"triage_lead": "/staff/queue?queue=new", "subject_matter_expert": "/staff/queue?queue=mine",
               "program_manager": "/staff/queue?queue=in_review", "curator": "/staff/curation",
               "administrator": "/staff/accounts?status=pending", "official": "/"}[role]
    try:
        home = await client.get("/")
        assert home.status_code in (200, 303) and (home.headers.get("location") or "/") == landing, home.headers
        queue: list[tuple[str, str]] = [(landing, "sign-in")]
        seen: set[str] = set()
        per_kind: dict[str, int] = {}
        problems: list[str] = []
        while queue and len(seen) < MAX_PAGES:
            path, offered_on = queue.pop(0)
            kind = pattern(path.split("?")[0]) + ("?" + "&".join(sorted(k.split("=")[0] for k in path.split("?")[1].split("&")))
                                                 if "?" in path else "")
            if path in seen or per_kind.get(kind, 0) >= 2 or path.startswith(("/api/", "/static/", "/signin", "/signout")):
                continue
            seen.add(path)
            per_kind[kind] = per_kind.get(kind, 0) + 1
            response = await client.get(path, follow_redirects=True)  # "/" takes staff to their landing page
            if response.status_code != 200 or response.url.path == "/signin":
                problems.append(f"{path} (offered on {offered_on}) answered {response.status_code} at {response.url.path}")
                continue
            if path.split("?")[0].endswith(DOWNLOADS) or "html" not in response.headers.get("content-type", ""):
                continue
            queue += [(link, path) for link in links(response.text) if link not in seen]
        assert not problems, "\n".join(problems)
        assert len(seen) >= 5, seen
    finally:
        await client.aclose()


def test_every_form_the_pages_offered_was_sent() -> None:
    """Runs last: each form seen on a visited page was submitted as offered and accepted."""
    assert WALK.offered, "the walks ran first"
    unsent = {p: where for p, where in WALK.offered.items()
              if p not in WALK.sent and not p.startswith(COVERED_ELSEWHERE)}
    assert unsent == {}, f"forms offered but never sent as offered: {unsent}"
