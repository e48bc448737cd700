"""The gateway's validation of direct-assistance input against engagements' own: route by route,
field by field (bodies — JSON and the multipart upload — and query parameters), and the figures
the pages use. The gateway mirrors engagements' limits (gateway.engagements_limits) instead of
importing the engagements package; a limit changed on either side fails here until the other follows.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest
from fastapi import FastAPI

from gateway import engagements_limits as E
from gateway.api import engagements as gw
from gateway.testing import SCHEMA_LIMITS, schema_constraints

svc_api = pytest.importorskip("engagements.api")
svc_form = pytest.importorskip("engagements.domain.form")
svc_app = pytest.importorskip("engagements.domain.application")
svc_eng = pytest.importorskip("engagements.domain.engagement")
svc_rounds = pytest.importorskip("engagements.domain.rounds")
svc_config = pytest.importorskip("engagements.config")
svc_model = pytest.importorskip("engagements.domain.model")

constraints = functools.partial(schema_constraints, keep=(*SCHEMA_LIMITS, "additionalProperties", "maxProperties"))


def _openapi(router: Any) -> dict[str, Any]:
    app = FastAPI()
    app.include_router(router)
    return app.openapi()


GATEWAY, SERVICE = _openapi(gw.router), _openapi(svc_api.router)
G_DEFS = GATEWAY.get("components", {}).get("schemas", {})
S_DEFS = SERVICE.get("components", {}).get("schemas", {})
RENAMED = {"/direct-assistance/barriers": "/barriers", "/direct-assistance/rubric": "/rubric",
           "/direct-assistance/form": "/form", "/direct-assistance/staff": "/staff"}
OPERATIONS = sorted((method, path) for path, ops in GATEWAY["paths"].items() for method in ops)


def test_every_route_goes_to_an_engagements_route() -> None:
    missing = [f"{m.upper()} {p}" for m, p in OPERATIONS if m not in SERVICE["paths"].get(RENAMED.get(p, p), {})]
    assert missing == []
    assert len(OPERATIONS) >= 35


def test_every_engagements_route_but_its_own_reference_and_the_dashboard_is_offered() -> None:
    offered = {(m, RENAMED.get(p, p)) for m, p in OPERATIONS}
    internal = {("get", "/cities"), ("get", "/cities/{city_id}/summary")}
    service = {(m, p) for p, ops in SERVICE["paths"].items() for m in ops}
    assert service - offered == internal  # /cities is the service's read model; the summary feeds the dashboard


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    return defs[schema["$ref"].rsplit("/", 1)[-1]] if "$ref" in schema else schema


def _body(op: dict[str, Any], defs: dict[str, Any]) -> Any:
    body = op.get("requestBody")
    if body is None:
        return None
    (media, content), = body["content"].items()
    return {"required": bool(body.get("required")), "media": media, "schema": constraints(content["schema"], defs)}


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m.upper()} {p}" for m, p in OPERATIONS])
def test_every_body_has_engagements_limits(method: str, path: str) -> None:
    g_op, s_op = GATEWAY["paths"][path][method], SERVICE["paths"][RENAMED.get(path, path)][method]
    assert _body(g_op, G_DEFS) == _body(s_op, S_DEFS)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m.upper()} {p}" for m, p in OPERATIONS])
def test_every_query_parameter_has_engagements_limits(method: str, path: str) -> None:
    g_op, s_op = GATEWAY["paths"][path][method], SERVICE["paths"][RENAMED.get(path, path)][method]
    g_params = {p["name"]: p for p in g_op.get("parameters", []) if p["in"] == "query"}
    s_params = {p["name"]: p for p in s_op.get("parameters", []) if p["in"] == "query"}
    assert set(g_params) == set(s_params)
    for name, param in g_params.items():
        assert constraints(param["schema"], G_DEFS) == constraints(s_params[name]["schema"], S_DEFS), name


def test_the_limits_module_names_engagements_figures() -> None:
    assert E.BARRIERS == tuple(b.value for b in svc_model.Barrier)
    assert E.TIMELINE_MONTHS == svc_form.TIMELINE_MONTHS and E.PARTNERS_MAX == svc_form.MAX_PARTNERS
    assert E.STAKEHOLDERS_MAX == svc_form.MAX_STAKEHOLDERS and E.POPULATION_MAX == svc_form.POPULATION_MAX
    assert E.BUDGET_CENTS == svc_app.BUDGET_CENTS and E.DURATION_MONTHS == svc_app.DURATION_MONTHS
    assert E.REASON_MAX == svc_app.REASON_MAX and E.REPORT_MAX == svc_eng.REPORT_MAX
    assert E.CAPACITY_MAX == svc_rounds.MAX_CAPACITY and E.TEAM_MAX == svc_eng.MAX_TEAM
    assert E.MILESTONES_MAX == svc_eng.MAX_MILESTONES
    assert E.ATTACHMENT_MAX_BYTES == svc_config.Settings.model_fields["attachment_max_bytes"].default
    assert E.ATTACHMENT_KINDS == ("sponsor_letter", "budget", "other")
    form = svc_form.ApplicationForm.model_json_schema()["$defs"]
    assert form["Background"]["properties"]["sponsor_commitment"]["anyOf"][0]["maxLength"] == E.TEXT5K_MAX
    assert form["ProjectManagement"]["properties"]["local_match_source"]["anyOf"][0]["maxLength"] == E.TEXT2K_MAX
    assert form["Background"]["properties"]["lead_official_name"]["anyOf"][0]["maxLength"] == E.SHORT_MAX


@pytest.mark.parametrize("body", [
    {"background": {"population": 0}}, {"background": {"stakeholders": ["x"] * 21}},
    {"project_management": {"timeline_months": 13}}, {"project_management": {"manager_email": "nope"}},
    {"economic_challenges": {"barriers": {"broadband": "x"}}}, {"exception_request": "x" * 5_001},
    {"background": {"colour": "blue"}}, {"regional": {"partner_city_ids": ["../etc"]}},
    {"version": -1},
])
def test_the_same_drafts_are_refused_on_both_sides(body: dict[str, Any]) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        gw.DraftIn.model_validate(body)
    with pytest.raises(ValidationError):
        svc_api.DraftBody.model_validate(body)


def test_a_complete_draft_is_accepted_on_both_sides() -> None:
    testing = pytest.importorskip("engagements.testing")
    body = testing.complete_form()
    gw.DraftIn.model_validate(body)
    svc_api.DraftBody.model_validate(body)
