"""What engagements' API takes, its events take too: an event model that refused a value the route had
accepted would fail inside the handler (a 500 and nothing done).

One row per API field that lands in an event, with the event field; ``refused_by_event`` probes the API
field's edge values (shortest, longest, with a line break or a tab, two-byte letters; lowest and highest
integers) and lists those the event refuses. The application form reaches ``ApplicationSubmitted`` as section
texts, checked with every field at its longest. Fields that stay in engagements (notes, updates, risks,
comments, partners, scores' comments) publish nothing and have no row.
"""

from __future__ import annotations

from typing import Any

import pytest
from nrn_contracts.events import engagements as ev
from nrn_contracts.testing import refused_by_event

from engagements import api
from engagements.domain import form as f

ROWS: list[tuple[type, str, type, str]] = [
    (api.WithdrawBody, "reason", ev.ApplicationWithdrawn, "reason"),
    (api.ReviewerBody, "reviewer_id", ev.ReviewerAssigned, "reviewer_id"),
    (api.DecisionBody, "reason", ev.ApplicationDecided, "reason"),
    (api.DecisionBody, "round_id", ev.ApplicationDecided, "round_id"),
    (api.TermsBody, "title", ev.EngagementOpened, "title"),
    (api.TermsBody, "budget_cents", ev.EngagementOpened, "budget_cents"),
    (api.AssessmentBody, "strengths", ev.AssessmentCompleted, "strengths"),
    (api.MilestoneBody, "id", ev.PlannedMilestone, "milestone_id"),
    (api.MilestoneBody, "title", ev.PlannedMilestone, "title"),
    (api.MilestoneBody, "owner", ev.PlannedMilestone, "owner"),
    (api.MilestoneBody, "title", ev.MilestoneCompleted, "title"),
    (api.CloseOutBody, "final_report", ev.EngagementClosed, "close_out_summary"),
    (f.Regional, "partner_city_ids", ev.ApplicationSubmitted, "partner_city_ids"),
    (f.Background, "population", ev.ApplicationSubmitted, "population"),
]


@pytest.mark.parametrize(("body", "field", "event", "event_field"), ROWS,
                         ids=[f"{b.__name__}.{f_}->{e.__name__}.{g}" for b, f_, e, g in ROWS])
def test_what_the_route_takes_the_event_takes(body: type, field: str, event: type, event_field: str) -> None:
    assert refused_by_event(body, field, event, event_field) == []


def _longest(model: type, field: str, *, lines: bool) -> Any:
    """The field's longest value: with line breaks where the field keeps them."""
    schema = model.model_json_schema()["properties"][field]
    branch = next(b for b in schema.get("anyOf", [schema]) if b.get("type") != "null")
    if branch.get("type") == "array":
        return ["y" * branch["items"]["maxLength"]] * branch["maxItems"]
    n = branch["maxLength"]
    return ("ab\n" * n)[: n - 1] + "z" if lines else "x" * n


@pytest.mark.parametrize("lines", [False, True])
def test_the_longest_form_makes_a_submitted_event(lines: bool) -> None:
    longest = {
        "background": {k: _longest(f.Background, k, lines=lines and k == "sponsor_commitment")
                       for k in ("lead_official_name", "lead_official_title", "sponsor_name", "sponsor_title",
                                 "sponsor_commitment", "stakeholders")} | {"population": f.POPULATION_MAX},
        "project_management": {k: _longest(f.ProjectManagement, k, lines=lines and k in ("local_match_source",
                                                                                         "hardship_reason"))
                               for k in ("manager_name", "manager_title", "local_match_source", "hardship_reason")}
        | {"manager_email": "m" * 240 + "@example.gov", "timeline_months": 12, "local_match": "hardship"},
    }
    form = f.ApplicationForm.model_validate(longest)
    for section in ("background", "project_management"):
        text = f.section_text(form, section)
        assert refused_by_event(f.Background, "sponsor_commitment", ev.ApplicationSubmitted, section,
                                carry=lambda _, text=text: text) == []
