"""Every mutating route, fed malformed and hostile bodies: always a 4xx problem, never a 500."""

from __future__ import annotations

import base64
import itertools
import json

NASTY_BODIES = [
    None, {}, [], "text", 42, {"version": "one"}, {"version": -1}, {"version": 10**30}, {"version": None},
    {"topic": "💥", "version": 1}, {"body": "x" * 200_001, "version": 1}, {"comments": "not a list", "version": 1},
    {"comments": [None], "version": 1}, {"slots": [{"starts_at": "yesterday"}], "version": 1},
    {"slots": [{"starts_at": "2030-01-01T10:00:00"}], "version": 1},  # no time zone
    {"rating": 9, "version": 1}, {"rating": "5", "comment": {"$gt": ""}, "version": 1},
    {"expert_id": {"$ne": None}, "version": 1}, {"slot_id": "../../etc/passwd", "version": 1},
    {"consent": "named", "version": 1, "extra": True}, {"title": "\u0000", "question": "q", "topic": "housing"},
]
RAW_BODIES = [b"{", b"\xff\xfe", b"null", b'{"version": 1' + b" " * 10_000,
              # a lone surrogate is valid JSON but not encodable text: it must not reach the database
              b'{"title": "\\ud800", "question": "q", "topic": "housing", "text": "\\udfff", "body": "\\ud800",'
              b' "answer": "\\ud800", "reason": "\\ud800", "version": 1}']


def field_of(problem: dict) -> str | None:
    return problem.get("field") or (problem.get("errors") or [{}])[0].get("field")


async def test_no_route_answers_500(svc):
    await svc.seed()
    created = await svc.http.post("/requests", json={"title": "T", "question": "Q?", "topic": "housing"},
                                  headers=svc.official())
    rid = created.json()["id"]
    paths = svc.app.openapi()["paths"]
    routes = [(m.upper(), p) for p, ops in paths.items() for m in ops if m in ("post", "put", "patch")]
    assert len(routes) >= 24
    callers = [svc.official(), svc.staff("adm-1", "administrator")]
    checked = 0
    for (method, template), headers in itertools.product(routes, callers):
        path = template.replace("{request_id}", rid).replace("{expert_id}", "exp-1")
        for body in NASTY_BODIES:
            r = await svc.http.request(method, path, json=body, headers=headers)
            assert r.status_code < 500, (method, path, body, r.text)
            if r.status_code >= 400:
                assert r.headers["content-type"].startswith("application/problem+json"), (path, r.text)
            checked += 1
        for raw in RAW_BODIES:
            r = await svc.http.request(method, path, content=raw,
                                       headers={**headers, "Content-Type": "application/json"})
            assert r.status_code < 500, (method, path, raw[:20], r.text)
            checked += 1
    # lone surrogates are valid JSON escapes but not encodable text: refused by field, never stored
    lead = svc.staff("lead-1", "triage_lead")
    r = await svc.http.post("/requests", content=b'{"title": "\\ud800", "question": "q", "topic": "housing"}',
                            headers={**svc.official(), "Content-Type": "application/json"})
    assert r.status_code == 422 and field_of(r.json()) == "title", r.text
    version = (await svc.http.get(f"/requests/{rid}", headers=lead)).json()["version"]
    r = await svc.http.post(f"/requests/{rid}/notes", content=b'{"text": "ok \\udfff", "version": %d}' % version,
                            headers={**lead, "Content-Type": "application/json"})
    assert r.status_code == 422 and field_of(r.json()) == "text", r.text
    # odd identifiers and headers
    for path in ["/requests/%00", "/requests/" + "x" * 5_000, "/requests/{}", "/requests/$where"]:
        r = await svc.http.get(path, headers=svc.official())
        assert r.status_code in (404, 422), (path, r.status_code)
    r = await svc.http.post(f"/requests/{rid}/notes", json={"text": "x"},
                            headers={**svc.staff("lead-1", "triage_lead"), "If-Match": "W/\"abc\""})
    assert r.status_code == 422 and r.json()["field"] == "If-Match"
    r = await svc.http.get("/requests", params={"cursor": "%%%not-base64"}, headers=svc.staff("lead-1", "triage_lead"))
    assert r.status_code == 422 and r.json()["field"] == "cursor"
    # forged cursors: a number past 64 bits, an operator object, a time without its offset
    for values in ([2**70, "r-1"], [{"$gt": ""}, "r-1"], ["2025-01-01T00:00:00", "r-1"]):
        forged = base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")
        r = await svc.http.get("/requests", params={"cursor": forged}, headers=svc.staff("lead-1", "triage_lead"))
        assert r.status_code == 422 and r.json()["field"] == "cursor", (values, r.text)
    r = await svc.http.get("/requests", params={"status": "bogus"}, headers=svc.staff("lead-1", "triage_lead"))
    assert r.status_code == 422 and r.json()["field"] == "status"
    assert checked > 1_000
