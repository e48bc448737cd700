"""Staff pages over a fake requests311 (httpx.MockTransport) that records what was asked: the queue
(filters by topic, status, state and city, one expert's requests, the workload per expert) and the
program metrics (read from the service's running totals, never by paging through requests)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.auth import InvalidToken, Principal
from gateway.config import Settings

TRIAGE = Principal(account_id="acc-lead", kind="staff", roles=frozenset({"triage_lead"}), expertise=frozenset(),
                   city_id=None, status="verified", token="tok-lead")
PM = Principal(account_id="acc-pm", kind="staff", roles=frozenset({"program_manager"}), expertise=frozenset(),
               city_id=None, status="verified", token="tok-pm")
FLINT = Principal(account_id="acc-flint", kind="official", roles=frozenset(), expertise=frozenset(),
                  city_id="mi-flint", status="verified", token="tok-flint")
TOKENS = {"lead": TRIAGE, "pm": PM, "flint": FLINT}
SUMMARY = {"id": "req-1", "title": "Lead <i>lines</i>", "city_id": "mi-flint", "city_name": "Flint", "state": "MI",
           "topic": "finance_budgets", "status": "assigned", "urgency": "urgent", "next_due_at": None}
METRICS = {"total": 3, "open": 2, "memos_delivered": 1, "median_days_to_memo": 6.5,
           "median_business_days_to_memo": 4.75, "on_time_rate": 0.5, "steps_on_time": 1, "steps_decided": 2,
           "breaches": 1, "average_rating": 4.0, "by_topic": {"housing": 2, "finance_budgets": 1},
           "by_month": [{"month": "2026-10", "submitted": 1, "by_topic": {"housing": 1}, "on_time_rate": 1.0},
                        {"month": "2026-11", "submitted": 2, "by_topic": {"housing": 1, "finance_budgets": 1},
                         "on_time_rate": None}]}
EXPERTS = [
    {"id": "exp-light", "name": "Lee Light", "expertise": ["housing"], "active": True, "open_requests": 1,
     "capacity": None},
    {"id": "exp-busy", "name": "Bea <Busy>", "expertise": ["finance_budgets", "workforce"], "active": True,
     "open_requests": 7, "capacity": 8},
]


async def verify(token: str) -> Principal:
    for p in TOKENS.values():
        if p.token == token:
            return p
    raise InvalidToken("unknown")


def make_client(asked: list[dict[str, Any]]) -> httpx.AsyncClient:
    def accounts(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/token":
            who = dict(x.split("=") for x in request.content.decode().split("&"))["password"]
            return httpx.Response(200, json={"access_token": TOKENS[who].token, "token_type": "bearer",
                                             "refresh_token": "r"})
        if request.url.path == "/me":
            return httpx.Response(200, json={"account_id": "acc-lead", "name": "Tara Lead", "kind": "staff"})
        return httpx.Response(404, json={"status": 404, "title": "Not found"})

    paths: list[str] = []

    def requests311(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        paths.append(path)
        if path == "/requests":
            asked.append(dict(request.url.params.multi_items()))
            return httpx.Response(200, json={"items": [SUMMARY], "next_cursor": None})
        if path == "/queues":
            return httpx.Response(200, json={"new": 3, "mine": 0})
        if path == "/topics":
            return httpx.Response(200, json=[{"id": "finance_budgets", "label": "Finance and budgets"},
                                             {"id": "housing", "label": "Housing"}])
        if path == "/experts":
            return httpx.Response(200, json=EXPERTS)
        if path == "/metrics":
            return httpx.Response(200, json=METRICS)
        if path == "/service-levels":
            return httpx.Response(200, json={"memo_business_days": 8})
        return httpx.Response(404, json={"status": 404, "title": "Not found"})

    app = create_app(Settings(cookie_secure=False, upstream_retries=0, section_timeout=2.0), verifier=verify,
                     transports={"accounts": httpx.MockTransport(accounts),
                                 "requests311": httpx.MockTransport(requests311),
                                 "library": httpx.MockTransport(lambda r: httpx.Response(503))})
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test")
    client.paths = paths  # type: ignore[attr-defined]
    return client


async def sign_in(client: httpx.AsyncClient, who: str) -> None:
    page = (await client.get("/signin")).text
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = await client.post("/signin", data={"username": f"{who}@example.org", "password": who,
                                                   "csrf_token": csrf})
    assert response.status_code == 303


@pytest.fixture
async def staff():  # noqa: ANN201
    asked: list[dict[str, Any]] = []
    async with make_client(asked) as client:
        await sign_in(client, "lead")
        client.asked = asked  # type: ignore[attr-defined]
        yield client


async def test_filters_reach_the_service_and_stay_selected(staff) -> None:
    page = await staff.get("/staff/queue", params={"queue": "overdue", "topic": "housing", "status": "assigned",
                                                   "state": "mi"})
    assert page.status_code == 200
    assert staff.asked[-1] == {"limit": "50", "queue": "overdue", "topic": "housing", "status": "assigned",
                               "state": "MI"}
    assert '<option value="housing" selected>Housing</option>' in page.text
    assert '<option value="assigned" selected>Assigned</option>' in page.text
    assert "Lead &lt;i&gt;lines&lt;/i&gt;" in page.text  # titles are escaped


async def test_a_city_link_filters_to_that_city(staff) -> None:
    page = await staff.get("/staff/queue")
    assert 'href="/staff/queue?queue=all&amp;city_id=mi-flint"' in page.text
    page = await staff.get("/staff/queue", params={"queue": "all", "city_id": "mi-flint"})
    assert staff.asked[-1] == {"limit": "50", "city_id": "mi-flint"}
    assert "questions from <strong>Flint, MI</strong>" in page.text and "mi-flint</strong>" not in page.text  # the city by name, never its id


async def test_workload_per_expert_busiest_first_and_one_experts_requests(staff) -> None:
    page = await staff.get("/staff/queue")
    table = page.text[page.text.index("Experts and their workload"):]
    assert table.index("Bea &lt;Busy&gt;") < table.index("Lee Light")  # the busiest first, names escaped
    assert "Finance and budgets, Workforce" in table
    assert '<td data-label="Open questions">7</td>' in table and '<td data-label="Capacity">8</td>' in table
    page = await staff.get("/staff/queue", params={"expert_id": "exp-busy"})
    assert staff.asked[-1] == {"limit": "50", "queue": "by_expert", "expert_id": "exp-busy"}
    assert "questions assigned to <strong>Bea &lt;Busy&gt;</strong>" in page.text


async def test_nonsense_filters_are_dropped_not_forwarded(staff) -> None:
    page = await staff.get("/staff/queue", params={"queue": "nope", "status": "bogus", "city_id": "../x",
                                                   "expert_id": "a b"})
    assert page.status_code == 200
    assert staff.asked[-1] == {"limit": "50", "queue": "new"}


async def test_officials_cannot_open_the_queue() -> None:
    async with make_client([]) as client:
        await sign_in(client, "flint")
        assert (await client.get("/staff/queue")).status_code == 403


async def test_metrics_page_reads_the_running_totals_in_three_calls() -> None:
    async with make_client([]) as client:
        await sign_in(client, "pm")
        client.paths.clear()
        page = await client.get("/staff/metrics")
        assert page.status_code == 200
        assert sorted(client.paths) == ["/metrics", "/service-levels", "/topics"]  # no paging through requests
        numbers = page.text[page.text.index("Questions per topic per month</caption>"):]
        assert "<th scope=\"col\">Oct 2026</th><th scope=\"col\">Nov 2026</th>" in numbers
        assert "<th scope=\"row\">Housing</th><td>1</td><td>1</td>" in numbers  # topics by name
        on_time = page.text.split("On-time rate by month</caption>")[1]
        assert "<th scope=\"row\">Oct 2026</th><td>0</td><td>0</td><td>100.0 %</td>" in on_time
        assert "<th scope=\"row\">Target (business days)</th><td>8.0</td>" in page.text  # the configured level
        # a range of months, and every table as CSV for the same months
        page = await client.get("/staff/metrics", params={"start": "2026-11", "end": "2026-11"})
        assert "<option value=\"2026-11\" selected>Nov 2026</option>" in page.text
        csv = await client.get("/staff/metrics/topics-by-month.csv", params={"start": "2026-11", "end": "2026-11"})
        assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
        assert csv.text.splitlines() == ["topic,2026-11", "Housing,1", "Finance and budgets,1"]
        by_topic = (await client.get("/staff/metrics/by-topic.csv")).text.splitlines()
        assert by_topic[:3] == ["topic,questions", "Housing,2", "Finance and budgets,1"]
        assert (await client.get("/staff/metrics/nope.csv")).status_code == 404


def test_charts_have_whole_ticks_labelled_zero_bars_and_no_crowded_labels() -> None:
    from gateway.charts import bar_chart, hbar_chart, line_chart, scale

    assert scale(2) == (2.0, [0.0, 1.0, 2.0])  # never "0.5 questions"
    assert scale(7) == (8.0, [0.0, 2.0, 4.0, 6.0, 8.0])
    assert scale(4.75, integer=False) == (5.0, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    assert scale(0) == (1.0, [0.0, 1.0])
    svg = str(bar_chart("c", "T", [("Jan 2026", 0.0), ("Feb 2026", 3.0)]))
    assert ">0</text>" in svg and ">3</text>" in svg and 'height="1.5"' in svg  # the zero bar shows, labelled
    months = [f"M{i:02d} 2026" for i in range(24)]
    svg = str(line_chart("l", "T", months, {"a": [1.0] * 24}))
    assert svg.count('text-anchor="middle">M') < 24  # thinned so labels do not overlap
    svg = str(hbar_chart("h", "T", [("Government operations and a very long topic name", 0.0)]))
    assert "…" in svg and ">0</text>" in svg
