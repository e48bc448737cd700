"""Every create in the public API that has a GET for what it created answers 201 with ``Location`` in
the gateway's URL space (RFC 9110 §15.3.2), whether the service sent one (in its own URL space) or
only the new id in its body. A client follows it and finds the thing; no Location points at nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from gateway.app import create_app
from gateway.auth import InvalidToken, Principal
from gateway.config import Settings
from nrn_kit.auth import STAFF_ROLES
from nrn_kit.localtime import program_today
from peer.testing import convening_body

STAFF = Principal(account_id="acc-staff", kind="staff", roles=STAFF_ROLES, expertise=frozenset(), city_id=None,
                  status="verified", token="tok-staff")
FLINT = Principal(account_id="acc-flint", kind="official", roles=frozenset(), expertise=frozenset(),
                  city_id="mi-flint", status="verified", token="tok-flint")
SOON = program_today() + timedelta(days=10)

# (who, service, gateway path, request body, the service's answer body, its Location, expected Location)
CREATES = [
    (STAFF, "accounts", "/api/v1/accounts/staff",
     {"email": "ana@nrn.example", "name": "Ana Ruiz", "roles": ["curator"]},
     {"account_id": "acc-1"}, "/accounts/acc-1", "/api/v1/accounts/acc-1"),
    (STAFF, "accounts", "/api/v1/partners", {"name": "Urban Institute", "kind": "consortium_member"},
     {"partner_id": "ptn-1"}, None, "/api/v1/partners/ptn-1"),
    (STAFF, "library", "/api/v1/library/resources",
     {"type": "guide", "title": "Land bank start-up guide", "topics": ["housing"],
      "source_organisation": "NRN", "summary": "Acquire, hold and return vacant lots.", "body": "# Guide"},
     {"resource_id": "res-1"}, None, "/api/v1/library/resources/res-1"),
    (STAFF, "library", "/api/v1/clearinghouse/programs",
     {"agency": "EPA", "name": "Brownfields Assessment Grants", "summary": "Money to assess contaminated sites.",
      "help_given": ["grants"], "topics": ["land_use"], "how_to_apply": "Apply through the regional office."},
     {"program_id": "prg-1"}, None, "/api/v1/clearinghouse/programs/prg-1"),
    (STAFF, "peer", "/api/v1/convenings", convening_body(datetime.now(UTC)), {"id": "cnv-1"}, None,
     "/api/v1/convenings/cnv-1"),
    (STAFF, "peer", "/api/v1/groups", {"name": "Broadband Working Group", "topics": ["broadband"],
                                        "purpose": "Close the digital divide with practical steps."},
     {"id": "grp-1"}, None, "/api/v1/groups/grp-1"),
    (FLINT, "peer", "/api/v1/groups/grp-1/deliverables",
     {"title": "Practical resource guide to broadband", "summary": "Steps for cities", "body": "# Guide"},
     {"id": "dlv-1"}, None, "/api/v1/deliverables/dlv-1"),
    (STAFF, "peer", "/api/v1/introductions",
     {"city_id": "mi-flint", "other_city_id": "in-gary", "reason": "Both are rebuilding their land banks."},
     {"id": "int-1"}, None, "/api/v1/introductions/int-1"),
    (FLINT, "peer", "/api/v1/probono/projects",
     {"department": "Planning", "title": "Map vacant lots", "problem": "We do not know which lots are vacant.",
      "skills": ["analytics"], "hours_needed": 40, "starts_on": str(SOON), "ends_on": str(SOON + timedelta(days=60)),
      "work_mode": "remote"},
     {"id": "prj-1"}, None, "/api/v1/probono/projects/prj-1"),
    (STAFF, "partners", "/api/v1/partners/ptn-1/endpoints",
     {"url": "https://hooks.partner.example/nrn", "event_types": ["*"]},
     {"id": "ep-1", "secret": "whsec_x"}, None, "/api/v1/partners/ptn-1/endpoints/ep-1"),
    (STAFF, "peer", "/api/v1/probono/projects/prj-1/matches", {"volunteer_id": "vol-1"},
     {"id": "mat-1", "project_id": "prj-1"}, None, "/api/v1/probono/matches/mat-1"),
]


async def verify(token: str) -> Principal:
    for principal in (STAFF, FLINT):
        if token == principal.token:
            return principal
    raise InvalidToken("unknown")


@pytest.mark.parametrize(("who", "service", "path", "body", "answer", "service_location", "expected"), CREATES,
                         ids=[c[2] for c in CREATES])
async def test_a_create_answers_with_where_to_read_it(who: Principal, service: str, path: str, body: dict,
                                                     answer: dict, service_location: str | None,
                                                     expected: str) -> None:
    headers = {"Location": service_location} if service_location else {}
    app = create_app(Settings(cookie_secure=False, upstream_retries=0), verifier=verify,
                     transports={service: httpx.MockTransport(lambda _: httpx.Response(201, json=answer,
                                                                                       headers=headers))})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test",
                                 headers={"Authorization": f"Bearer {who.token}"}) as client:
        response = await client.post(path, json=body)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == expected
    # the gateway answers a GET there (a route exists; its own access rules apply)
    assert any(r.matches({"type": "http", "path": expected, "method": "GET"})[0].name == "FULL"
               for r in app.router.routes)


async def test_a_create_with_nothing_to_read_sends_no_location() -> None:
    """A synonym group has no GET of its own (the list is the resource): no Location at all, even
    when the service's answer carries an id."""
    app = create_app(Settings(cookie_secure=False, upstream_retries=0), verifier=verify,
                     transports={"library": httpx.MockTransport(lambda _: httpx.Response(201, json={"id": "syn-1"}))})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test",
                                 headers={"Authorization": f"Bearer {STAFF.token}"}) as client:
        response = await client.post("/api/v1/library/synonyms", json={"phrases": ["rehab", "rehabilitation"]})
    assert response.status_code == 201, response.text
    assert "location" not in response.headers
