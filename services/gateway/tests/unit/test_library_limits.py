"""The gateway's validation of library input against the library's own: field by field.

The gateway mirrors the library's limits (gateway.library_limits) instead of importing the
library package (each service installs on its own). The dev install has both, so these tests
compare the two: every body field and query parameter the gateway forwards to the library must
carry the same constraints (lengths, counts, ranges, patterns, closed lists, required or not),
and the rules that live in validators rather than in the schema (topics from the taxonomy,
trimmed list entries, body or link, state codes) must accept and refuse the same inputs.
A changed limit on either side fails here until the other follows.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import BaseModel, ValidationError

from gateway import library_limits as L
from gateway.api import library as gw_library_api
from gateway.api import models as gw
from gateway.testing import schema_constraints

lib_resources = pytest.importorskip("library.domain.resources")
lib_clearinghouse = pytest.importorskip("library.domain.clearinghouse")
lib_api = pytest.importorskip("library.api")
lib_index = pytest.importorskip("library.search.index")
lib_synonyms = pytest.importorskip("library.domain.synonyms")
lib_review = pytest.importorskip("library.domain.review")

constraints = schema_constraints  # what a JSON schema constrains, without titles, defaults or `| None`


def fields_of(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    return constraints(schema, schema.get("$defs", {}))


def differences(gateway: type[BaseModel], library: type[BaseModel], *, partial: bool = False,
                gateway_only: frozenset[str] = frozenset()) -> list[str]:
    g, lib = fields_of(gateway), fields_of(library)
    out = []
    for name in sorted(set(g["properties"]) | set(lib["properties"])):
        if name not in lib["properties"]:
            if name not in gateway_only:
                out.append(f"{name}: only in the gateway")
        elif name not in g["properties"]:
            out.append(f"{name}: only in the library")
        elif g["properties"][name] != lib["properties"][name]:
            out.append(f"{name}: gateway {g['properties'][name]} != library {lib['properties'][name]}")
    expected_required = [] if partial else lib["required"]
    if g["required"] != expected_required:
        out.append(f"required: gateway {g['required']} != {expected_required}")
    for key, default in (("str_strip_whitespace", False), ("extra", "ignore")):
        g_value, l_value = gateway.model_config.get(key, default), library.model_config.get(key, default)
        if g_value != l_value:
            out.append(f"model_config[{key}]: gateway {g_value} != library {l_value}")
    return out


BODIES = [
    (gw.ResourceContent, lib_resources.ResourceContent, False),
    (gw.ResourcePatch, lib_resources.ResourceContent, True),  # the library applies an edit to the content
    (gw.ProgramContent, lib_clearinghouse.ProgramContent, False),
    (gw.ProgramPatch, lib_clearinghouse.ProgramContent, True),
    (gw.ProgramEligibility, lib_clearinghouse.Eligibility, False),
    (gw.Deadline, lib_clearinghouse.Deadline, False),
    (gw.NoteBody, lib_api.NoteIn, False),
    (gw.SimilarIn, lib_api.SimilarIn, False),
    (gw.HelpfulIn, lib_api.HelpfulIn, False),
    (gw.DecisionIn, lib_api.DecisionIn, False),
    (gw.SynonymPhrases, lib_synonyms.SynonymPhrases, False),
    (gw.SynonymsIn, lib_api.SynonymsIn, False),
]


@pytest.mark.parametrize(("gateway", "library", "partial"), BODIES, ids=[f"{g.__name__}~{lib.__name__}" for g, lib, _ in BODIES])
def test_every_body_field_has_the_librarys_limits(gateway: type[BaseModel], library: type[BaseModel], partial: bool) -> None:
    # `version` is the gateway's way to send If-Match in the body; the library pops it before validating
    only_gateway = frozenset({"version"}) if partial or gateway is gw.NoteBody else frozenset()
    assert differences(gateway, library, partial=partial, gateway_only=only_gateway) == []


# (gateway method, gateway path) -> (library method, library path): every forwarded query
ROUTES = {
    ("get", "/library/search"): ("get", "/search"),
    ("get", "/library/items/{item_id}/related"): ("get", "/items/{item_id}/related"),
    ("get", "/library/resources"): ("get", "/resources"),
    ("get", "/clearinghouse/programs"): ("get", "/clearinghouse/programs"),
    ("get", "/clearinghouse/programs/{program_id}"): ("get", "/clearinghouse/programs/{program_id}"),
    ("get", "/library/reviews"): ("get", "/reviews"),
}


def _openapi(router: Any) -> dict[str, Any]:
    app = FastAPI()
    app.include_router(router)
    return app.openapi()


def test_every_forwarded_query_parameter_has_the_librarys_limits() -> None:
    gateway, library = _openapi(gw_library_api.router), _openapi(lib_api.router)
    g_defs = gateway.get("components", {}).get("schemas", {})
    l_defs = library.get("components", {}).get("schemas", {})
    problems = []
    for (g_method, g_path), (l_method, l_path) in ROUTES.items():
        g_params = {p["name"]: p for p in gateway["paths"][g_path][g_method].get("parameters", []) if p["in"] == "query"}
        l_params = {p["name"]: p for p in library["paths"][l_path][l_method].get("parameters", []) if p["in"] == "query"}
        assert g_params, g_path
        for name, param in g_params.items():
            if name not in l_params:
                problems.append(f"{g_path} ?{name}: the library has no such parameter")
                continue
            g, lib = constraints(param["schema"], g_defs), constraints(l_params[name]["schema"], l_defs)
            if g != lib:
                problems.append(f"{g_path} ?{name}: gateway {g} != library {lib}")
    assert problems == []


def test_the_limits_module_names_the_librarys_figures() -> None:
    """The few limits that are not on a forwarded field (bounds the pages use)."""
    search = fields_of(lib_index.SearchRequest)["properties"]
    assert search["q"]["maxLength"] == L.SEARCH_Q_MAX
    assert search["year"]["maxItems"] == L.SEARCH_YEARS_MAX
    assert all(search[f]["maxItems"] == L.SEARCH_FILTER_VALUES_MAX for f in ("type", "topic", "source", "agency"))
    assert (lib_index.MAX_PAGE, lib_index.MAX_PAGE_SIZE) == (L.PAGE_MAX, L.PAGE_SIZE_MAX)
    assert lib_resources.MAX_BODY_CHARS == L.RESOURCE_BODY_MAX
    assert (lib_index.YEAR_MIN, lib_index.YEAR_MAX) == (L.YEAR_MIN, L.YEAR_MAX)
    assert lib_review.REASON_MAX == L.REVIEW_REASON_MAX


def test_a_review_edit_has_the_librarys_limits_for_each_editable_field() -> None:
    """The library checks a review edit as ResourceContent fields (only the editable ones)."""
    g = fields_of(gw.ReviewEdit)["properties"]
    lib = fields_of(lib_resources.ResourceContent)["properties"]
    assert set(g) - {"version"} == set(lib_review.EDITABLE)
    for name in lib_review.EDITABLE:
        assert g[name] == lib[name], name


# --- rules that live in validators: the same inputs accepted and refused --------------------------

RESOURCE = {"type": "guide", "title": "Land banks", "topics": ["housing"], "source_organisation": "NRN",
            "body": "How land banks work."}
PROGRAM = {"agency": "HUD", "name": "Capacity building", "summary": "Help for cities.", "help_given": ["planning"],
           "topics": ["housing"], "how_to_apply": "Write to the office."}
LONG = "x" * L.RESOURCE_LIST_ENTRY_MAX

RESOURCE_CASES = {
    "as is": {},
    "title trimmed below its minimum": {"title": "  ab  "},
    "title at its maximum after trimming": {"title": "  " + "t" * L.RESOURCE_TITLE_MAX + "  "},
    "unknown topic": {"topics": ["housing", "astrology"]},
    "every topic": {"topics": list(gw.TOPIC_TAXONOMY)},
    "one topic too many (a repeat)": {"topics": [*gw.TOPIC_TAXONOMY, "housing"]},
    "most tags": {"tags": [f"t{i}" for i in range(L.RESOURCE_TAGS_MAX)]},
    "one tag too many": {"tags": [f"t{i}" for i in range(L.RESOURCE_TAGS_MAX + 1)]},
    "longest tag, padded": {"tags": [f"  {LONG}  "]},
    "tag too long": {"tags": [LONG + "x"]},
    "blank entries are dropped": {"tags": ["", "  ", "a"], "authors": [""], "related_cities": [" "]},
    "author too long": {"authors": [LONG + "x"]},
    "most related cities": {"related_cities": [f"c{i}" for i in range(L.RESOURCE_RELATED_CITIES_MAX)]},
    "free-text agency": {"agency": "NASA"},
    "agency too long": {"agency": "a" * (L.RESOURCE_AGENCY_MAX + 1)},
    "no body and no link": {"body": None},
    "a link instead of a body": {"body": None, "link": "https://example.org/x"},
    "a link with a space": {"body": None, "link": "https://example.org/a b"},
    "an impossible date": {"publication_date": "2021-02-30"},
    "a date": {"publication_date": "2021-02-28"},
    "longest question": {"question": "q" * L.RESOURCE_QUESTION_MAX},
    "source too long": {"source_organisation": "s" * (L.RESOURCE_SOURCE_MAX + 1)},
    "an unknown field": {"mayor": "x"},
}

PROGRAM_CASES = {
    "as is": {},
    "short name": {"name": "ab"},
    "no topics": {"topics": []},
    "unknown topic": {"topics": ["astrology"]},
    "many help kinds with repeats": {"help_given": ["planning"] * 12},
    "longest notes": {"eligibility": {"notes": "n" * L.PROGRAM_NOTES_MAX}},
    "notes too long": {"eligibility": {"notes": "n" * (L.PROGRAM_NOTES_MAX + 1)}},
    "lower-case state": {"eligibility": {"states": ["mi", " oh "]}},
    "not a state": {"eligibility": {"states": ["MIC"]}},
    "min above max": {"eligibility": {"min_population": 10, "max_population": 5}},
    "one tag too many": {"tags": [f"t{i}" for i in range(L.PROGRAM_TAGS_MAX + 1)]},
    "a long tag": {"tags": ["t" * 500]},
    "many deadlines": {"deadlines": [{"label": f"round {i}", "due": "2030-01-01"} for i in range(25)]},
    "deadline label too long": {"deadlines": [{"label": "l" * (L.DEADLINE_LABEL_MAX + 1), "due": "2030-01-01"}]},
    "impossible deadline": {"deadlines": [{"label": "x", "due": "2030-02-30"}]},
    "contact too long": {"contact": "c" * (L.PROGRAM_CONTACT_MAX + 1)},
    "help details at the maximum": {"help_details": "h" * L.PROGRAM_HELP_DETAILS_MAX},
}


def accepts(model: type[BaseModel], data: dict[str, Any]) -> bool:
    try:
        model.model_validate(data)
    except ValidationError:
        return False
    return True


def _merged(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    out = {**base, **change}
    return {k: v for k, v in out.items() if v is not None}


@pytest.mark.parametrize("case", sorted(RESOURCE_CASES))
def test_resources_accepted_and_refused_alike(case: str) -> None:
    data = _merged(RESOURCE, RESOURCE_CASES[case])
    assert accepts(gw.ResourceContent, data) == accepts(lib_resources.ResourceContent, data)


@pytest.mark.parametrize("case", sorted(PROGRAM_CASES))
def test_programmes_accepted_and_refused_alike(case: str) -> None:
    data = _merged(PROGRAM, PROGRAM_CASES[case])
    assert accepts(gw.ProgramContent, data) == accepts(lib_clearinghouse.ProgramContent, data)


def test_the_cases_cover_both_outcomes() -> None:
    """Guard against probes that all pass (or all fail) for a reason unrelated to the rule."""
    outcomes = {accepts(lib_resources.ResourceContent, _merged(RESOURCE, c)) for c in RESOURCE_CASES.values()}
    outcomes |= {accepts(lib_clearinghouse.ProgramContent, _merged(PROGRAM, c)) for c in PROGRAM_CASES.values()}
    assert outcomes == {True, False}
    assert accepts(lib_resources.ResourceContent, RESOURCE) and accepts(lib_clearinghouse.ProgramContent, PROGRAM)
