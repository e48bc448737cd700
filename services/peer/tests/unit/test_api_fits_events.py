"""What peer's API takes, its events take too: an event model that refused a value the route had accepted would
fail inside the handler (a 500 and nothing done) — the fault the gateway's fuzz test met in ``POST /groups``
when a group's name held a control character that ``WorkingGroupFormed`` refused.

One row per API field that a handler publishes, with the event field it lands in; ``refused_by_event`` probes
the API field's edge values (shortest, longest, with a line break or a tab, two-byte letters; lowest and
highest integers) and lists those the event refuses. Fields that stay in peer (a registration's answers, a
review's note, meeting agendas) publish nothing and have no row.
"""

from __future__ import annotations

import pytest
from nrn_contracts.events import peer as ev
from nrn_contracts.testing import refused_by_event

from peer import api, api_health, api_probono  # api first: it includes api_health's router

# A host city's "name, ST" as long as accounts lets it be, which the location joins to the venue.
LONGEST_CITY = ", " + "x" * 200 + ", MI"

ROWS: list[tuple[type, str, type, str]] = [
    *[(api.ConveningBody, f, e, f) for e in (ev.ConveningScheduled, ev.ConveningUpdated)
      for f in ("title", "description", "timezone", "capacity", "per_city_limit")],
    (api.ConveningBody, "host_city_id", ev.ConveningScheduled, "host_city_id"),
    (api.ConveningBody, "title", ev.ConveningCancelled, "title"),
    (api.ConveningBody, "title", ev.RegistrationConfirmed, "convening_title"),
    (api.ConveningBody, "timezone", ev.RegistrationConfirmed, "timezone"),
    (api.SessionBody, "id", ev.AgendaSession, "session_id"),
    *[(api.SessionBody, f, ev.AgendaSession, f) for f in ("title", "track", "room", "speakers")],
    (api.CancelBody, "reason", ev.ConveningCancelled, "reason"),
    (api.FeedbackBody, "rating", ev.ConveningFeedbackReceived, "rating"),
    (api.FeedbackBody, "comment", ev.ConveningFeedbackReceived, "comment"),
    *[(api.MaterialBody, f, ev.ConveningMaterialPublished, f) for f in ("title", "summary", "body", "link")],
    (api.SessionBody, "speakers", ev.ConveningMaterialPublished, "speakers"),
    (api.GroupBody, "name", ev.WorkingGroupFormed, "name"),
    (api.GroupBody, "purpose", ev.WorkingGroupFormed, "purpose"),
    (api.GroupBody, "name", ev.DeliverablePublished, "working_group_name"),
    (api.MemberBody, "member_id", ev.MemberJoined, "member_id"),
    (api.MemberBody, "organization", ev.MemberJoined, "organization"),
    (api.LeaveBody, "member_id", ev.MemberLeft, "member_id"),
    (api.LeaveBody, "reason", ev.MemberLeft, "reason"),
    (api.DecisionBody, "summary", ev.GroupDecisionRecorded, "summary"),
    (api.DeliverableBody, "title", ev.DeliverablePublished, "title"),
    (api.DeliverableBody, "summary", ev.DeliverablePublished, "summary"),
    (api.DraftBody, "body", ev.DeliverablePublished, "body"),
    *[(api.OfferBody, f, ev.IntroductionOffered, f) for f in ("city_id", "other_city_id", "reason")],
    (api.ProgressBody, "outcome", ev.IntroductionProgressed, "outcome"),
    *[(api_health.MeasureBody, f, ev.HealthMeasureDefined, f) for f in ("name", "definition", "unit", "source")],
    # the pro bono talent network
    *[(api_probono.ProfileBody, f, e, f) for e in (ev.VolunteerRegistered, ev.VolunteerUpdated)
      for f in ("skills", "hours_per_month", "base_state")],
    (api_probono.OrganizationBody, "partner_id", ev.VolunteerRegistered, "organization_id"),
    *[(api_probono.ProjectBody, f, ev.ProjectPosted, f) for f in (
        "department", "title", "problem", "skills", "hours_needed")],
    *[(api_probono.ProjectBody, "title", e, "project_title") for e in (ev.MatchProposed, ev.MatchAccepted,
                                                                        ev.HoursLogged)],
    (api_probono.ProjectBody, "title", ev.ProjectCompleted, "title"),
    (api_probono.ProposeBody, "volunteer_id", ev.MatchProposed, "volunteer_id"),
    (api_probono.OutcomeBody, "outcome", ev.ProjectCompleted, "outcome"),
]

# Hours are numbers with a fractional part, which refused_by_event does not probe: their bounds are compared.
# (Dates and closed lists (work_mode) are the same types on both sides.)
HOURS_ROWS: list[tuple[type, str, type, str]] = [
    (api_probono.ProposeBody, "hours_agreed", ev.MatchProposed, "hours_agreed"),
    (api_probono.AgreementBody, "hours_agreed", ev.MatchProposed, "hours_agreed"),
    (api_probono.HoursBody, "hours", ev.HoursLogged, "hours"),
    (api_probono.HoursBody, "hours", ev.HoursReviewed, "hours"),
]

# Optional text a handler publishes as None when blank (the event's text is never empty).
BLANK_IS_NONE = lambda value: value.strip() or None  # noqa: E731
OPTIONAL_ROWS: list[tuple[type, str, type, str]] = [
    (api_probono.ProjectBody, "on_site_needs", ev.ProjectPosted, "on_site_needs"),
    (api_probono.ReviewBody, "note", ev.ProjectReviewed, "note"),
    (api_probono.AnswerBody, "reason", ev.MatchDeclined, "reason"),
    (api_probono.HoursBody, "note", ev.HoursLogged, "note"),
    (api_probono.HoursReviewBody, "note", ev.HoursReviewed, "note"),
]


@pytest.mark.parametrize(("body", "field", "event", "event_field"), ROWS,
                         ids=[f"{b.__name__}.{f}->{e.__name__}.{g}" for b, f, e, g in ROWS])
def test_what_the_route_takes_the_event_takes(body: type, field: str, event: type, event_field: str) -> None:
    assert refused_by_event(body, field, event, event_field) == []


@pytest.mark.parametrize(("body", "field", "event", "event_field"), OPTIONAL_ROWS,
                         ids=[f"{b.__name__}.{f}->{e.__name__}.{g}" for b, f, e, g in OPTIONAL_ROWS])
def test_optional_text_fits_once_blank_is_none(body: type, field: str, event: type, event_field: str) -> None:
    assert refused_by_event(body, field, event, event_field, carry=BLANK_IS_NONE) == []


def _bounds(model: type, field: str) -> tuple[float, float]:
    schema = model.model_json_schema()["properties"][field]
    schema = next((b for b in schema.get("anyOf", [schema]) if b.get("type") == "number"), schema)
    return schema["minimum"], schema["maximum"]


@pytest.mark.parametrize(("body", "field", "event", "event_field"), HOURS_ROWS,
                         ids=[f"{b.__name__}.{f}->{e.__name__}.{g}" for b, f, e, g in HOURS_ROWS])
def test_hours_the_route_takes_the_event_takes(body: type, field: str, event: type, event_field: str) -> None:
    (lo, hi), (event_lo, event_hi) = _bounds(body, field), _bounds(event, event_field)
    assert event_lo <= lo <= hi <= event_hi


def test_a_long_venue_in_a_long_city_still_makes_a_location() -> None:
    """The location joins the venue and the host city; when that passes the event's length the handler sends
    the venue alone, which the API keeps within it."""
    from peer.handlers import _LOCATION_MAX

    assert refused_by_event(api.ConveningBody, "venue", ev.ConveningScheduled, "location") == []
    assert refused_by_event(api.ConveningBody, "venue", ev.ConveningScheduled, "location",
                            carry=lambda venue: venue + LONGEST_CITY), "the handler's fallback is never needed"
    location = ev.ConveningScheduled.model_json_schema()["properties"]["location"]["anyOf"][0]
    assert location["maxLength"] == _LOCATION_MAX
