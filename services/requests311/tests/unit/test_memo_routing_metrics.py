import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nrn_contracts.events import requests311 as ev

from requests311.domain import memo
from requests311.domain.clock import ServiceLevels
from requests311.domain.metrics import (
    RequestFacts, _median, aggregate, apply, contribution, delta, flatten, fold, from_totals, summarise,
)
from requests311.domain.routing import ExpertProfile, suggest_experts
from requests311.domain.states import Action, Status
from requests311.testing import OFFICIAL, T0, Scenario, memo_body, scenario_at

# ---------------------------------------------------------------- memo


def test_sections_are_found_by_heading_in_any_wording():
    text = "# Title\n\n### 1. The Question\nWhat?\n\n## Short answer:\nYes.\n\n## Options with examples from other cities\n" \
           "- Detroit did X\n\n### Detroit\nmore\n\n## RESOURCES\n- link\n\n## Next Steps\n1. Call"
    sections = memo.parse_sections(text)
    assert set(sections) == set(memo.Section)
    assert "Detroit did X" in sections[memo.Section.options] and "more" in sections[memo.Section.options]
    assert memo.check(text).complete


def test_headings_inside_code_fences_do_not_count():
    assert memo.Section.resources not in memo.parse_sections("```\n## Resources\n```")


def test_empty_and_missing_sections_are_flagged():
    checked = memo.check("## Question\n\n## Short answer\nYes")
    assert memo.Section.question in checked.empty_sections
    assert memo.Section.next_steps in checked.missing_sections
    assert "empty_section:question" in checked.flags and "missing_section:resources" in checked.flags


@pytest.mark.parametrize(("words", "flag"), [(799, "too_short"), (800, None), (1_800, None), (1_801, "too_long")])
def test_word_count_boundaries(words, flag):
    body = " ".join(["word"] * words)
    checked = memo.check(body)
    assert checked.word_count == words
    assert (flag in checked.flags) if flag else not checked.length_flagged


def test_link_targets_and_markup_are_not_words():
    assert memo.count_words("**Bold** [the guide](https://example.org/a/b/c) — it's well-known") == 5


def test_template_has_every_section():
    assert memo.check(memo.template("T", "Q?")).missing_sections == []


# ---------------------------------------------------------------- routing


EXPERTS = [
    ExpertProfile(id="a", name="Ann", expertise=frozenset({"housing"}), open_requests=4),
    ExpertProfile(id="b", name="Bob", expertise=frozenset({"housing", "finance_budgets"}), open_requests=1),
    ExpertProfile(id="c", name="Cat", expertise=frozenset({"broadband"}), open_requests=0),
    ExpertProfile(id="d", name="Dan", expertise=frozenset({"housing"}), open_requests=0, active=False),
    ExpertProfile(id="e", name="Eve", expertise=frozenset({"housing"}), open_requests=0, capacity=0),
]


def test_routing_offers_every_active_expert_topic_matches_first_then_lowest_workload():
    out = suggest_experts("housing", EXPERTS)
    # Dan is inactive; Eve is at capacity, so last of the matches; Cat covers another topic but is offered
    assert [s.expert_id for s in out] == ["b", "a", "e", "c"]
    assert [s.matches_topic for s in out] == [True, True, True, False] and out[2].over_capacity
    assert out[3].reason == "does not cover housing, 0 open request(s)" and out[0].expertise == ["finance_budgets", "housing"]


def test_routing_falls_back_to_everyone_when_no_one_covers_the_topic():
    out = suggest_experts("health", EXPERTS)
    assert [s.expert_id for s in out] == ["c", "b", "a", "e"]
    assert not any(s.matches_topic for s in out)


def test_routing_ties_break_by_name_and_limit_applies():
    experts = [ExpertProfile(id=str(i), name=n, expertise=frozenset({"health"})) for i, n in enumerate("zyx")]
    assert [s.name for s in suggest_experts("health", experts, limit=2)] == ["x", "y"]


# ---------------------------------------------------------------- metrics


def _events(sc: Scenario) -> list:
    return sc.req.pull_events()


def test_metrics_fold_over_events():
    a = scenario_at(Status.closed, request_id="a")
    events = _events(a)
    b = scenario_at(Status.submitted, request_id="b")
    b.req.check_service_levels(T0 + timedelta(days=5))  # acknowledgement breached
    events += _events(b)
    c = scenario_at(Status.declined, request_id="c")
    events += _events(c)
    a.req.give_feedback(actor=OFFICIAL, now=a.tick(), rating=4)
    events += _events(a)
    m = fold(events)
    assert m.total == 3 and m.open == 1
    assert m.by_status == {"closed": 1, "declined": 1, "submitted": 1}
    assert m.by_topic == {"finance_budgets": 2, "housing": 1}  # a was re-topicked at triage
    assert m.by_state == {"MI": 3}
    assert m.by_topic_and_state["housing"] == {"MI": 1}
    assert m.memos_delivered == 1 and m.median_days_to_memo is not None and m.median_days_to_memo < 1
    # a: acknowledge, memo, call met; b: acknowledge breached; c: acknowledge met (declined in time)
    assert (m.steps_decided, m.steps_on_time, m.breaches) == (5, 4, 1)
    assert m.on_time_rate == pytest.approx(0.8)
    assert m.average_rating == 4


def test_median_time_to_memo():
    events = []
    for i, days in enumerate([2, 4, 9]):
        events.append(ev.QuestionSubmitted(
            request_id=f"r{i}", city_id="c", official_id="o", title="t", question="q", topic="housing",
            urgency="routine", consent_to_publish="none", submitted_at=T0, state="OH"))
        events.append(ev.MemoDelivered(
            request_id=f"r{i}", city_id="c", topic="housing", title="t", question="q", short_answer="s",
            memo_markdown="m", consent_to_publish="none", delivered_at=T0 + timedelta(days=days)))
    m = fold(events)
    assert m.median_days_to_memo == 4
    assert m.median_business_days_to_memo == 4  # Monday + 4 days = Friday


def test_fold_ignores_events_before_submission_and_is_pure():
    orphan = ev.RequestClosed(request_id="x", reason="answered", closed_at=T0)
    assert apply(None, orphan) is None
    sc = scenario_at(Status.awaiting_information)
    events = _events(sc)
    first = fold(events)
    assert fold(events) == first and first.by_status == {"awaiting_information": 1}
    sc.perform(Action.provide_information)
    assert fold(events + _events(sc)).by_status == {"triaged": 1}


def _maintained(events: list) -> tuple[dict[str, int], dict[str, RequestFacts]]:
    """Totals kept the way the handlers keep them: one delta per request per event, summed."""
    calendar = ServiceLevels().calendar
    facts: dict[str, RequestFacts] = {}
    totals: Counter[str] = Counter()
    for event in events:
        before = facts.get(event.request_id)
        after = apply(before, event)
        if after is not None:
            totals.update(delta(before, after, calendar))
            facts[event.request_id] = after
    return {k: v for k, v in totals.items() if v}, facts


def test_running_totals_equal_the_fold_over_every_request():
    events = []
    for status, rid in ((Status.closed, "a"), (Status.declined, "b"), (Status.memo_delivered, "c"),
                        (Status.awaiting_information, "d"), (Status.reopened, "e")):
        sc = scenario_at(status, request_id=rid)
        sc.req.check_service_levels(sc.now + timedelta(days=40))
        events += _events(sc)
    totals, facts = _maintained(events)
    assert totals == aggregate(facts.values(), ServiceLevels().calendar)
    assert from_totals(totals) == summarise(facts.values(), ServiceLevels().calendar) == fold(events)
    m = from_totals(totals)
    assert m.total == 5 and sum(m.by_status.values()) == 5 and 0 not in m.by_status.values()
    assert [month.month for month in m.by_month] == ["2025-03"]
    assert m.by_month[0].submitted == 5 and m.by_month[0].steps_decided == m.steps_decided


def test_totals_read_back_from_their_stored_nested_shape():
    totals, _ = _maintained(_events(scenario_at(Status.closed, request_id="a")))
    nested: dict = {"_id": "totals"}
    for name, n in totals.items():  # as MongoDB stores "$inc" on dotted names
        *path, last = name.split(".")
        node = nested
        for part in path:
            node = node.setdefault(part, {})
        node[last] = n
    assert flatten(nested) == totals
    assert from_totals(flatten(nested)) == from_totals(totals)


def test_months_follow_eastern_time_and_split_the_on_time_rate():
    events = []
    for rid, at, breach in (("jan", datetime(2026, 2, 1, 3, tzinfo=UTC), False),  # 31 Jan, 22:00 in New York
                            ("feb", datetime(2026, 2, 10, 15, tzinfo=UTC), True)):
        events.append(ev.QuestionSubmitted(
            request_id=rid, city_id="c", official_id="o", title="t", question="q", topic="housing",
            urgency="routine", consent_to_publish="none", submitted_at=at, state="OH"))
        events.append(ev.QuestionTriaged(request_id=rid, topic="housing", urgency="routine", by="lead",
                                         at=at + timedelta(hours=30 if breach else 2)))
        if breach:
            events.append(ev.ServiceLevelBreached(request_id=rid, step="acknowledge", due_at=at + timedelta(days=1),
                                                  breached_at=at + timedelta(hours=30)))
    months = {m.month: m for m in from_totals(_maintained(events)[0]).by_month}
    assert set(months) == {"2026-01", "2026-02"}
    assert (months["2026-01"].on_time_rate, months["2026-02"].on_time_rate) == (1.0, 0.0)
    assert months["2026-02"].by_topic == {"housing": 1}


@given(st.lists(st.integers(min_value=0, max_value=5_000), max_size=40))
def test_median_of_the_histogram_is_the_median_of_its_values(hundredths):
    histogram = Counter(str(h) for h in hundredths)
    expected = round(statistics.median(hundredths) / 100, 3) if hundredths else None
    assert _median(histogram) == expected


def test_counter_names_stay_one_path_segment():
    facts = RequestFacts(request_id="x", topic="odd.topic$", state=None, submitted_at=T0)
    names = contribution(facts, ServiceLevels().calendar)
    assert "topic.odd_topic_" in names and "state.unknown" in names


