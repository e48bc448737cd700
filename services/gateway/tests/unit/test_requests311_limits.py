"""The gateway's validation of 311 input against requests311's own: route by route, field by field.

The gateway mirrors requests311's limits (gateway.requests311_limits) instead of importing the
requests311 package (each service installs on its own). The dev install has both, so these tests
compare the two: every body and query parameter the gateway forwards to requests311 must carry
the same constraints (lengths, counts, ranges, patterns, closed lists, required or not, unknown
fields refused or not, the body itself required or not), and the rules requests311 keeps in its
domain (required text must not be blank once trimmed, at least one review comment, the preferred
call times its event takes) must accept and refuse the same inputs: each probe validates the
body on both sides and, on requests311's, runs the action on a request in the right status.
A changed limit on either side fails here until the other follows.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import BaseModel, ValidationError

from gateway import requests311_limits as R
from gateway.api import models as gw
from gateway.api import requests as gw_requests
from gateway.testing import SCHEMA_LIMITS, schema_constraints

r311_api = pytest.importorskip("requests311.api")
r311_model = pytest.importorskip("requests311.domain.model")
r311_request = pytest.importorskip("requests311.domain.request")
r311_memo = pytest.importorskip("requests311.domain.memo")
r311_errors = pytest.importorskip("requests311.domain.errors")
r311_states = pytest.importorskip("requests311.domain.states")
r311_testing = pytest.importorskip("requests311.testing")
contract = pytest.importorskip("nrn_contracts.events.requests311")

# what a JSON schema constrains, and whether it refuses unknown fields
constraints = functools.partial(schema_constraints, keep=(*SCHEMA_LIMITS, "additionalProperties"))


def _openapi(router: Any) -> dict[str, Any]:
    app = FastAPI()
    app.include_router(router)
    return app.openapi()


GATEWAY, SERVICE = _openapi(gw_requests.router), _openapi(r311_api.router)
G_DEFS = GATEWAY.get("components", {}).get("schemas", {})
S_DEFS = SERVICE.get("components", {}).get("schemas", {})

# the gateway's routes to requests311 whose path differs there; every other one has the same path
RENAMED = {"/metrics/requests": "/metrics"}
NOT_REQUESTS311 = {"/requests/similar"}  # answered from the library's record (test_library_limits)
OPERATIONS = sorted(
    (method, path) for path, ops in GATEWAY["paths"].items() if path not in NOT_REQUESTS311 for method in ops
)


def test_every_route_goes_to_a_requests311_route() -> None:
    missing = [f"{m.upper()} {p}" for m, p in OPERATIONS if m not in SERVICE["paths"].get(RENAMED.get(p, p), {})]
    assert missing == []
    assert len(OPERATIONS) > 25


def _body(op: dict[str, Any], defs: dict[str, Any]) -> Any:
    body = op.get("requestBody")
    if body is None:
        return None
    return {"required": bool(body.get("required")),
            "schema": constraints(body["content"]["application/json"]["schema"], defs)}


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m.upper()} {p}" for m, p in OPERATIONS])
def test_every_body_has_requests311s_limits(method: str, path: str) -> None:
    g_op, s_op = GATEWAY["paths"][path][method], SERVICE["paths"][RENAMED.get(path, path)][method]
    assert _body(g_op, G_DEFS) == _body(s_op, S_DEFS)


# query parameters requests311 checks in its route rather than in the schema: what it checks
CHECKED_IN_CODE = {
    ("/requests", "status"): {"type": "array", "items": {"type": "string",
                                                          "enum": sorted(r311_states.Status.__members__)}},
}


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m.upper()} {p}" for m, p in OPERATIONS])
def test_every_query_parameter_has_requests311s_limits(method: str, path: str) -> None:
    g_op, s_op = GATEWAY["paths"][path][method], SERVICE["paths"][RENAMED.get(path, path)][method]
    g_params = {p["name"]: p for p in g_op.get("parameters", []) if p["in"] == "query"}
    s_params = {p["name"]: p for p in s_op.get("parameters", []) if p["in"] == "query"}
    problems = []
    for name, param in g_params.items():
        if name not in s_params:
            problems.append(f"?{name}: requests311 has no such parameter")
            continue
        g, s = constraints(param["schema"], G_DEFS), constraints(s_params[name]["schema"], S_DEFS)
        s = CHECKED_IN_CODE.get((path, name), s)
        if g != s:
            problems.append(f"?{name}: gateway {g} != requests311 {s}")
    assert problems == []


def test_the_limits_module_names_requests311s_figures() -> None:
    """The figures the pages use, and those requests311 keeps outside its API models."""
    draft = r311_model.QuestionDraft.model_json_schema()["properties"]
    assert R.page_limits() == {name: draft[name]["maxLength"] for name in ("title", "question", "context",
                                                                            "desired_outcome")}
    assert draft["preferred_call_times"]["maxItems"] == R.CALL_TIMES_MAX
    assert tuple(t.value for t in r311_model.Topic) == R.TOPICS
    assert r311_memo.MAX_MEMO_CHARS == R.MEMO_MAX
    assert r311_request.MAX_SLOTS_PER_OFFER == R.SLOTS_MAX
    event = contract.QuestionSubmitted.model_json_schema()["properties"]["preferred_call_times"]
    assert event["items"]["maxLength"] == R.CALL_TIME_MAX


# --- rules in requests311's domain: the same inputs accepted and refused -------------------------

Status = r311_states.Status
T = r311_testing


def _at(status: Any) -> Any:
    return T.scenario_at(status)


def _submit(b: Any) -> None:
    draft = r311_model.QuestionDraft.model_validate(b.model_dump())
    r311_request.Request.submit(request_id="r", draft=draft, actor=T.OFFICIAL, city=T.CITY, now=T.T0,
                                service_levels=T.LEVELS)


def _complete(b: Any) -> None:
    sc = _at(Status.call_scheduled)
    sc.now = max(sc.now, sc.req.calls[-1].starts_at + timedelta(minutes=30))
    sc.req.complete_call(actor=T.EXPERT, now=sc.tick(), summary=b.summary, next_steps=b.next_steps)


def _follow_up(b: Any) -> None:
    sc = _at(Status.closed)
    sc.now = sc.req.follow_up_due_at
    sc.req.record_follow_up(actor=T.PM, now=sc.tick(), outcome=b.outcome, description=b.description)


def _triage(b: Any) -> None:
    sc = _at(Status.submitted)
    sc.req.triage(actor=T.LEAD, now=sc.tick(), topic=b.topic, urgency=b.urgency, note=b.note)


def _ask(b: Any) -> None:
    sc = _at(Status.triaged)
    sc.req.request_information(actor=T.LEAD, now=sc.tick(), question=b.question)


def _answer(b: Any) -> None:
    sc = _at(Status.awaiting_information)
    sc.req.provide_information(actor=T.OFFICIAL, now=sc.tick(), answer=b.answer)


def _decline(b: Any) -> None:
    sc = _at(Status.submitted)
    sc.req.decline(actor=T.LEAD, now=sc.tick(), reason=b.reason, explanation=b.explanation,
                   duplicate_of=b.duplicate_of)


def _draft(b: Any) -> None:
    sc = _at(Status.assigned)
    sc.req.draft_memo(actor=T.EXPERT, now=sc.tick(), body=b.body)


def _return(b: Any) -> None:
    sc = _at(Status.memo_in_review)
    sc.req.return_memo(actor=T.REVIEWER, now=sc.tick(), comments=b.comments)


def _close(b: Any) -> None:
    sc = _at(Status.call_completed)
    sc.req.close(actor=T.PM, now=sc.tick(), note=b.note)


def _feedback(b: Any) -> None:
    sc = _at(Status.closed)
    sc.req.give_feedback(actor=T.OFFICIAL, now=sc.tick(), rating=b.rating, comment=b.comment)


def _reopen(b: Any) -> None:
    sc = _at(Status.closed)
    sc.req.reopen(actor=T.OFFICIAL, now=sc.tick(), reason=b.reason)


def _note(b: Any) -> None:
    sc = _at(Status.submitted)
    sc.req.add_note(actor=T.LEAD, now=sc.tick(), text=b.text)


# action -> (gateway model, requests311 body model, what requests311 does with it, a valid body)
ACTIONS: dict[str, tuple[type[BaseModel], type[BaseModel], Callable[[Any], None], dict[str, Any]]] = {
    "submit": (gw.QuestionIn, r311_api.SubmitBody, _submit,
               {"title": "Lead lines", "question": "How do we pay for it?", "topic": "housing"}),
    "triage": (gw.TriageIn, r311_api.TriageBody, _triage, {"topic": "housing"}),
    "information-requests": (gw.InformationRequestIn, r311_api.InformationRequestBody, _ask, {"question": "Budget?"}),
    "information": (gw.InformationIn, r311_api.InformationBody, _answer, {"answer": "$12M"}),
    "decline": (gw.DeclineIn, r311_api.DeclineBody, _decline, {"reason": "out_of_scope"}),
    "memo/drafts": (gw.MemoDraftIn, r311_api.MemoBody, _draft, {"body": "# Memo"}),
    "memo/return": (gw.MemoReturnIn, r311_api.ReturnBody, _return, {"comments": ["More examples."]}),
    "call/complete": (gw.CallCompleteIn, r311_api.CompleteBody, _complete, {"summary": "Walked through it."}),
    "close": (gw.CloseIn, r311_api.CloseBody, _close, {}),
    "feedback": (gw.FeedbackIn, r311_api.FeedbackBody, _feedback, {"rating": 4}),
    "follow-up": (gw.FollowUpIn, r311_api.FollowUpBody, _follow_up, {"outcome": "acted"}),
    "reopen": (gw.ReopenIn, r311_api.ReopenBody, _reopen, {"reason": "The rules changed."}),
    "notes": (gw.NoteIn, r311_api.NoteBody, _note, {"text": "The mayor called."}),
}

# (action, text field, limit, required): each probed at its limit, one over, padded, blank
TEXTS = [
    ("submit", "title", R.TITLE_MAX, True),
    ("submit", "question", R.QUESTION_MAX, True),
    ("submit", "context", R.CONTEXT_MAX, False),
    ("submit", "desired_outcome", R.DESIRED_OUTCOME_MAX, False),
    ("triage", "note", R.TRIAGE_NOTE_MAX, False),
    ("information-requests", "question", R.INFORMATION_QUESTION_MAX, True),
    ("information", "answer", R.INFORMATION_ANSWER_MAX, True),
    ("decline", "explanation", R.DECLINE_EXPLANATION_MAX, False),
    ("memo/drafts", "body", R.MEMO_MAX, True),
    ("call/complete", "summary", R.CALL_SUMMARY_MAX, True),
    ("close", "note", R.CLOSE_NOTE_MAX, False),
    ("feedback", "comment", R.FEEDBACK_COMMENT_MAX, False),
    ("follow-up", "description", R.FOLLOW_UP_DESCRIPTION_MAX, False),
    ("reopen", "reason", R.REOPEN_REASON_MAX, True),
    ("notes", "text", R.NOTE_MAX, True),
]

CASES: list[tuple[str, str, dict[str, Any]]] = []
for action, field, limit, _required in TEXTS:
    CASES += [
        (action, f"{field} at its limit", {field: "x" * limit}),
        (action, f"{field} one over", {field: "x" * (limit + 1)}),
        (action, f"{field} padded to one over", {field: " " + "x" * limit}),
        (action, f"{field} blank", {field: "   "}),
        (action, f"{field} empty", {field: ""}),
    ]
CASES += [
    ("submit", "every topic's id", {"topic": R.TOPICS[-1]}),
    ("submit", "an unknown topic", {"topic": "astrology"}),
    ("submit", "most call times", {"preferred_call_times": ["Mornings"] * R.CALL_TIMES_MAX}),
    ("submit", "one call time too many", {"preferred_call_times": ["Mornings"] * (R.CALL_TIMES_MAX + 1)}),
    ("submit", "blank call times", {"preferred_call_times": ["", "  ", "Mornings"]}),
    ("submit", "longest call time, padded", {"preferred_call_times": ["  " + "m" * R.CALL_TIME_MAX + "  "]}),
    ("submit", "call time too long", {"preferred_call_times": ["m" * (R.CALL_TIME_MAX + 1)]}),
    ("submit", "an unknown field", {"mayor": "x"}),
    ("triage", "an unknown topic", {"topic": "astrology"}),
    ("memo/return", "most comments", {"comments": ["c"] * R.RETURN_COMMENTS_MAX}),
    ("memo/return", "one comment too many", {"comments": ["c"] * (R.RETURN_COMMENTS_MAX + 1)}),
    ("memo/return", "blank comments among others", {"comments": ["", "  ", "Add a case."]}),
    ("memo/return", "only blank comments", {"comments": ["", "  "]}),
    ("memo/return", "no comments", {"comments": []}),
    ("memo/return", "longest comment", {"comments": ["x" * R.RETURN_COMMENT_MAX]}),
    ("memo/return", "comment too long", {"comments": ["x" * (R.RETURN_COMMENT_MAX + 1)]}),
    ("call/complete", "most next steps", {"next_steps": ["Brief council"] * R.NEXT_STEPS_MAX}),
    ("call/complete", "one next step too many", {"next_steps": ["Brief council"] * (R.NEXT_STEPS_MAX + 1)}),
    ("call/complete", "blank next steps", {"next_steps": ["", " ", "Brief council"]}),
    ("call/complete", "longest next step", {"next_steps": ["s" * R.NEXT_STEP_MAX]}),
    ("call/complete", "next step too long", {"next_steps": ["s" * (R.NEXT_STEP_MAX + 1)]}),
    ("feedback", "lowest rating", {"rating": R.RATING_MIN}),
    ("feedback", "rating too high", {"rating": R.RATING_MAX + 1}),
    ("decline", "as a duplicate, linked", {"reason": "duplicate", "duplicate_of": "req-0"}),
    ("decline", "a long link", {"reason": "duplicate", "duplicate_of": "r" * R.ID_MAX}),
    ("decline", "a link too long", {"reason": "duplicate", "duplicate_of": "r" * (R.ID_MAX + 1)}),
]


def accepted_by_the_gateway(action: str, data: dict[str, Any]) -> bool:
    try:
        ACTIONS[action][0].model_validate(data)
    except ValidationError:
        return False
    return True


def accepted_by_requests311(action: str, data: dict[str, Any]) -> bool:
    _, body_model, run, _ = ACTIONS[action]
    try:
        body = body_model.model_validate(data)  # its API: a 422
        run(body)  # its domain: a 422 (InvalidInput), or an event it cannot build (a 5xx)
    except (ValidationError, r311_errors.InvalidInput):
        return False
    return True


@pytest.mark.parametrize(("action", "case", "change"), CASES, ids=[f"{a}: {c}" for a, c, _ in CASES])
def test_accepted_and_refused_alike(action: str, case: str, change: dict[str, Any]) -> None:
    data = {**ACTIONS[action][3], **change}
    assert accepted_by_the_gateway(action, data) == accepted_by_requests311(action, data)


def test_the_cases_cover_both_outcomes() -> None:
    """Guard against probes that all pass (or all fail) for a reason unrelated to the rule."""
    for action, (_, _, _, valid) in ACTIONS.items():
        assert accepted_by_requests311(action, valid), action
    for action, field, limit, required in TEXTS:
        data = ACTIONS[action][3]
        assert accepted_by_requests311(action, {**data, field: "x" * limit}), (action, field)
        assert not accepted_by_requests311(action, {**data, field: "x" * (limit + 1)}), (action, field)
        assert accepted_by_requests311(action, {**data, field: "  "}) is not required, (action, field)


@pytest.mark.parametrize(
    ("slot", "valid"),
    [
        ({"starts_at": "2030-01-01T10:00:00"}, False),  # local, but in which zone?
        ({"starts_at": "2030-01-01T10:00:00-05:00"}, True),
        ({"starts_at": "2030-01-01T10:00:00", "time_zone": "America/Phoenix"}, True),
        ({"starts_at": "2030-11-03T01:30:00", "time_zone": "America/New_York", "fold": 1}, True),
        ({"starts_at": "2030-01-01T10:00:00", "time_zone": "Eastern"}, False),
        ({"starts_at": "2030-01-01T10:00:00", "time_zone": "America/New_York", "fold": 2}, False),
        ({"starts_at": "2030-01-01T10:00:00", "time_zone": ""}, False),
    ],
)
def test_slot_times_are_accepted_and_refused_alike_on_both_sides(slot: dict, valid: bool) -> None:
    for model in (gw.CallSlotsIn, r311_api.SlotsBody):
        try:
            model.model_validate({"slots": [{**slot, "duration_minutes": 30}]})
            accepted = True
        except ValidationError:
            accepted = False
        assert accepted is valid, model
