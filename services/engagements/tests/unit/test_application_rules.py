"""The application's own rules: what submission needs (every problem at once), drafts merged field
by field, regional partners, the exception request, reviews hidden until one's own is in,
conflicts, decisions with reasons and who/when, money in cents, attachment types from content."""

from datetime import timedelta

import pytest
from pydantic import ValidationError

from engagements.adapters.files import check_upload, safe_filename
from engagements.domain import form as f
from engagements.domain.application import Application, Terms, dollars
from engagements.domain.errors import EditConflict, Incomplete, InvalidInput, NotPermitted
from engagements.domain.model import PersonRef
from engagements.domain.states import AppAction, AppStatus
from engagements.domain.views import application_view
from engagements.handlers import sees_application
from engagements.testing import (
    ADMIN, CITY, CURATOR, EXPERT, GOOD_SCORES, INELIGIBLE_CITY, LEAD, OFFICIAL, OFFICIAL_2, OTHER_OFFICIAL,
    PARTNER_CITY, PARTNER_OFFICIAL, PM, REVIEWERS, T0, TODAY, AppScenario, app_at, complete_form, form_changes,
    letter, terms, tiny_pdf, tiny_png,
)

R1, R2, R3 = REVIEWERS


def submit(sc: AppScenario, city=CITY, partners=None):
    sc.app.submit(actor=OFFICIAL, now=sc.tick(), city=city, partners=partners or {}, today=sc.today, round_id="r1")


# --- submission ------------------------------------------------------------------------------------


def test_an_empty_draft_names_every_missing_field_at_once_in_form_order():
    sc = AppScenario()
    with pytest.raises(Incomplete) as err:
        submit(sc)
    fields = [e["field"] for e in err.value.errors]
    assert fields == [
        "background.lead_official_name", "background.lead_official_title", "background.sponsor_name",
        "background.sponsor_title", "background.sponsor_commitment", "background.stakeholders",
        "economic_challenges.barriers", "project_management.manager_name", "project_management.manager_title",
        "project_management.manager_email", "project_management.timeline_months", "project_management.desired_start",
        "project_management.local_match", "attachments.sponsor_letter"]  # population was prefilled from accounts
    assert all(e["label"] and e["message"] and e["anchor"].startswith("f-") and e["section"] for e in err.value.errors)
    assert sc.app.status is AppStatus.draft and sc.app.submitted_at is None


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"economic_challenges": {"barriers": {"housing": ""}}}, "economic_challenges.barriers.housing", "Describe"),
    ({"project_management": {"desired_start": "2025-03-02"}}, "project_management.desired_start", "past"),
    ({"project_management": {"desired_start": "2026-04-01"}}, "project_management.desired_start", "within a year"),
    ({"project_management": {"local_match": "hardship", "hardship_reason": None}},
     "project_management.hardship_reason", "reason"),
    ({"project_management": {"local_match_source": None}}, "project_management.local_match_source", "come from"),
    ({"background": {"sponsor_commitment": "Yes."}}, "background.sponsor_commitment", "at least"),
    ({"regional": {"partner_city_ids": ["city-saginaw"]}}, "regional.partner_city_ids", "not confirmed"),
    ({"regional": {"partner_city_ids": ["city-flint"]}}, "regional.partner_city_ids", "lead city"),
    ({"regional": {"partner_city_ids": ["city-atlantis"]}}, "regional.partner_city_ids", "not known"),
])
def test_an_invalid_field_is_named(change, field, words):
    sc = AppScenario()
    sc.fill()
    sc.app.attach(actor=OFFICIAL, now=sc.tick(), attachment=letter())
    sc.app.save(actor=OFFICIAL, now=sc.tick(), base_version=sc.app.version, changes=form_changes(change))
    sc.bump()
    with pytest.raises(Incomplete) as err:
        submit(sc, partners={"city-saginaw": PARTNER_CITY, "city-flint": CITY, "city-atlantis": None})
    assert [e["field"] for e in err.value.errors] == [field]
    assert words in err.value.errors[0]["message"]


def test_oversized_or_malformed_fields_are_refused_as_they_are_saved():
    for bad in ({"background": {"population": 0}}, {"background": {"stakeholders": ["x"] * 21}},
                {"project_management": {"timeline_months": 13}}, {"project_management": {"manager_email": "nope"}},
                {"economic_challenges": {"barriers": {"broadband": "x"}}}, {"exception_request": "x" * 5_001},
                {"background": {"colour": "blue"}}):
        with pytest.raises(ValidationError):
            f.ApplicationForm.model_validate(bad)


def test_a_regional_application_needs_every_partner_city_to_confirm():
    sc = AppScenario()
    sc.fill()
    sc.app.attach(actor=OFFICIAL, now=sc.tick(), attachment=letter())
    sc.app.save(actor=OFFICIAL, now=sc.tick(), base_version=sc.app.version,
                changes={"regional.partner_city_ids": [PARTNER_CITY.id]})
    sc.bump()
    with pytest.raises(NotPermitted):  # the lead city cannot confirm for its partner
        sc.app.confirm_partnership(actor=OFFICIAL_2, now=sc.tick())
    with pytest.raises(NotPermitted):  # nor can an unrelated city
        sc.app.confirm_partnership(actor=OTHER_OFFICIAL, now=sc.tick())
    with pytest.raises(NotPermitted):  # a partner city's official cannot edit the lead city's draft
        sc.app.save(actor=PARTNER_OFFICIAL, now=sc.tick(), base_version=sc.app.version, changes={})
    sc.app.confirm_partnership(actor=PARTNER_OFFICIAL, now=sc.tick())
    submit(sc, partners={PARTNER_CITY.id: PARTNER_CITY})
    event = sc.app.pull_events()[-1]
    assert event.partner_city_ids == (PARTNER_CITY.id,) and event.peer_connections is True
    assert sees_application(sc.app, PARTNER_OFFICIAL) and not sees_application(sc.app, OTHER_OFFICIAL)


def test_removing_a_partner_drops_its_confirmation():
    sc = AppScenario()
    sc.app.save(actor=OFFICIAL, now=sc.tick(), base_version=1, changes={"regional.partner_city_ids": [PARTNER_CITY.id]})
    sc.bump()
    sc.app.confirm_partnership(actor=PARTNER_OFFICIAL, now=sc.tick())
    sc.bump()
    sc.app.save(actor=OFFICIAL, now=sc.tick(), base_version=sc.app.version, changes={"regional.partner_city_ids": []})
    assert sc.app.confirmations == []


def test_an_ineligible_city_applies_with_an_exception_request_flagged_to_reviewers():
    official = OFFICIAL.model_copy(update={"city_id": INELIGIBLE_CITY.id})
    sc = AppScenario()
    sc.app = Application.start(application_id="app-x", actor=official, city=INELIGIBLE_CITY, now=T0)
    sc.app.version = 1
    sc.app.save(actor=official, now=sc.tick(), base_version=1, changes=form_changes(complete_form(TODAY)))
    sc.app.attach(actor=official, now=sc.tick(), attachment=letter())
    with pytest.raises(Incomplete) as err:
        sc.app.submit(actor=official, now=sc.tick(), city=INELIGIBLE_CITY, partners={}, today=TODAY, round_id=None)
    assert [e["field"] for e in err.value.errors] == ["exception_request"]
    assert "Naperville, IL does not meet" in err.value.errors[0]["message"]
    sc.app.save(actor=official, now=sc.tick(), base_version=sc.app.version,
                changes={"exception_request": "Our poverty rate doubled since 2010 in four census tracts."})
    sc.app.submit(actor=official, now=sc.tick(), city=INELIGIBLE_CITY, partners={}, today=TODAY, round_id=None)
    assert sc.app.exception_requested
    assert sc.app.pull_events()[-1].exception_requested is True
    view = application_view(sc.app, LEAD, cities={}, today=TODAY)
    assert view["exception_requested"] is True


# --- drafts: field-level merge -------------------------------------------------------------------


def draft() -> AppScenario:
    sc = AppScenario()
    sc.fill()
    return sc


def test_a_save_on_the_current_version_applies_and_records_who_and_what():
    sc = draft()
    sc.app.save(actor=OFFICIAL_2, now=sc.tick(), base_version=sc.app.version,
                changes={"background.population": 99_000})
    last = sc.app.edits[-1]
    assert (last.by, last.by_name, [c.path for c in last.changes]) == (OFFICIAL_2.id, OFFICIAL_2.name,
                                                                       ["background.population"])
    assert last.changes[0].before == 102_434 and last.changes[0].after == 99_000


def test_two_officials_editing_different_fields_both_keep_their_changes():
    sc = draft()
    base = sc.app.version
    sc.app.save(actor=OFFICIAL, now=sc.tick(), base_version=base, changes={"background.population": 101_000})
    sc.bump()
    # Oscar loaded `base` and sends the whole form back with one field changed
    mine = f.flatten(f.unflatten({**f.flatten(sc.app.form), "background.population": 102_434}))
    mine["project_management.timeline_months"] = 12
    merged = sc.app.save(actor=OFFICIAL_2, now=sc.tick(), base_version=base, changes=mine)
    assert [e.by for e in merged] == [OFFICIAL.id]
    flat = f.flatten(sc.app.form)
    assert flat["background.population"] == 101_000  # Olive's change survived Oscar's stale copy
    assert flat["project_management.timeline_months"] == 12


def test_both_changing_one_field_is_a_conflict_naming_who_and_when_and_nothing_is_saved():
    sc = draft()
    base = sc.app.version
    sc.app.save(actor=OFFICIAL, now=sc.tick(), base_version=base, changes={"background.sponsor_title": "City manager"})
    sc.bump()
    before = sc.app.model_dump()
    with pytest.raises(EditConflict) as err:
        sc.app.save(actor=OFFICIAL_2, now=sc.tick(), base_version=base,
                    changes={"background.sponsor_title": "Mayor pro tem", "project_management.timeline_months": 6})
    c = err.value.conflicts
    assert [(x["field"], x["yours"], x["theirs"], x["by_name"]) for x in c] == [
        ("background.sponsor_title", "Mayor pro tem", "City manager", OFFICIAL.name)]
    assert err.value.rule == "someone_else_changed_this" and "Olive Official changed" in err.value.detail
    assert err.value.status == 409 and err.value.actual == sc.app.version
    assert sc.app.model_dump() == before
    # the same value on both sides is no conflict
    sc.app.save(actor=OFFICIAL_2, now=sc.tick(), base_version=base, changes={"background.sponsor_title": "City manager"})


def test_a_save_older_than_the_history_conflicts_on_any_field_that_differs():
    sc = draft()
    for i in range(35):
        sc.app.save(actor=OFFICIAL, now=sc.tick(), base_version=sc.app.version,
                    changes={"background.population": 100_000 + i})
        sc.bump()
    with pytest.raises(EditConflict):
        sc.app.save(actor=OFFICIAL_2, now=sc.tick(), base_version=2, changes={"background.population": 5})
    assert len(sc.app.edits) == 30


def test_a_save_from_the_future_or_by_another_city_is_refused():
    sc = draft()
    with pytest.raises(Exception) as err:
        sc.app.save(actor=OFFICIAL, now=sc.tick(), base_version=sc.app.version + 1, changes={})
    assert getattr(err.value, "rule", "") == "version_mismatch"
    with pytest.raises(NotPermitted) as err:
        sc.app.save(actor=OTHER_OFFICIAL, now=sc.tick(), base_version=sc.app.version, changes={})
    assert err.value.rule == "officials_act_only_on_their_city"


# --- review ------------------------------------------------------------------------------------------


def review() -> AppScenario:
    sc = app_at(AppStatus.in_review)
    return sc


def test_a_reviewer_sees_others_scores_only_after_submitting_their_own():
    sc = review()
    sc.app.submit_score(actor=R1, now=sc.tick(), scores=GOOD_SCORES)
    before = application_view(sc.app, R2, cities={}, today=TODAY)
    assert before["others_hidden"] and before["score"] is None
    assert [r["reviewer_id"] for r in before["reviews"]] == [R2.id]
    assert before["reviews"][0]["scores"] is None
    sc.app.submit_score(actor=R2, now=sc.tick(), scores={"need": 2, "commitment": 2, "capacity": 3, "fit": 3, "impact": 2})
    after = application_view(sc.app, R2, cities={}, today=TODAY)
    assert not after["others_hidden"] and {r["reviewer_id"] for r in after["reviews"]} == {R1.id, R2.id}
    assert after["score"] == {"hundredths": 323, "points": "3.23"}  # (410 + 235) / 2 = 322.5, rounded half up
    assert "total" in after["disagreement"] and "need" in after["disagreement"]
    assert sc.app.status is AppStatus.scored


def test_officials_never_see_reviews_scores_or_screening():
    sc = app_at(AppStatus.scored)
    view = application_view(sc.app, OFFICIAL, cities={}, today=TODAY)
    for hidden in ("reviews", "score", "rubric", "screening", "disagreement", "decision_detail"):
        assert hidden not in view
    assert all(e["actor_name"] in ("NRN", OFFICIAL.name) for e in view["timeline"])
    assert not any(e["action"] in ("reviewer_assigned", "scored", "screened_in") for e in view["timeline"])


def test_a_conflict_hides_the_application_and_drops_the_score():
    sc = app_at(AppStatus.scored)
    assert sees_application(sc.app, R1)
    sc.app.declare_conflict(actor=R1, now=sc.tick(), reason="My spouse works for the city.")
    assert not sees_application(sc.app, R1)
    assert sc.app.status is AppStatus.in_review  # one counted score left: back to review
    assert sc.app.score == 410 and len(sc.app.counted_reviews) == 1
    with pytest.raises(NotPermitted) as err:
        sc.app.submit_score(actor=R1, now=sc.tick(), scores=GOOD_SCORES)
    assert err.value.rule == "conflict_of_interest"
    with pytest.raises(Exception) as err:
        sc.app.assign_reviewer(actor=PM, now=sc.tick(), reviewer=PersonRef(id=R1.id, name=R1.name))
    assert getattr(err.value, "rule", "") == "reviewer_conflicted"
    manager = application_view(sc.app, PM, cities={}, today=TODAY)
    assert [r["conflict_reason"] for r in manager["reviews"] if r["conflict"]] == ["My spouse works for the city."]


def test_only_assigned_reviewers_score_once_and_see_the_application():
    sc = review()
    assert not sees_application(sc.app, R3)
    with pytest.raises(NotPermitted) as err:
        sc.app.submit_score(actor=R3, now=sc.tick(), scores=GOOD_SCORES)
    assert err.value.rule == "only_an_assigned_reviewer"
    sc.app.submit_score(actor=R1, now=sc.tick(), scores=GOOD_SCORES)
    with pytest.raises(Exception) as err:
        sc.app.submit_score(actor=R1, now=sc.tick(), scores=GOOD_SCORES)
    assert err.value.rule == "score_already_submitted"
    with pytest.raises(InvalidInput) as err:
        sc.app.submit_score(actor=R2, now=sc.tick(), scores={**GOOD_SCORES, "need": 7})
    assert err.value.field == "scores.need"


@pytest.mark.parametrize(("actor", "action", "allowed"), [
    (OFFICIAL, AppAction.screen_in, False), (LEAD, AppAction.screen_in, True), (PM, AppAction.screen_in, True),
    (R1, AppAction.screen_in, False), (EXPERT, AppAction.screen_in, False), (ADMIN, AppAction.screen_in, True),
    (LEAD, AppAction.assign_reviewer, False), (PM, AppAction.assign_reviewer, True),
    (R1, AppAction.accept, False), (LEAD, AppAction.accept, False), (PM, AppAction.accept, True),
    (CURATOR, AppAction.decline, False), (PM, AppAction.promote, False), (OFFICIAL, AppAction.submit, True),
    (OFFICIAL_2, AppAction.submit, True), (OTHER_OFFICIAL, AppAction.submit, False), (PM, AppAction.submit, False),
    (PM, AppAction.edit, False), (PARTNER_OFFICIAL, AppAction.withdraw, False),
])
def test_who_may_act(actor, action, allowed):
    sc = AppScenario()
    if allowed:
        sc.app.authorise(action, actor)
    else:
        with pytest.raises(NotPermitted):
            sc.app.authorise(action, actor)


def test_decisions_record_who_when_and_the_reason_the_city_sees():
    sc = app_at(AppStatus.scored)
    with pytest.raises(InvalidInput) as err:
        sc.app.decline(actor=PM, now=sc.tick(), reason="   ")
    assert err.value.field == "reason"
    sc.app.decline(actor=PM, now=sc.tick(), reason="Others showed more need this round.")
    d = sc.app.decision
    assert (d.decision, d.by, d.by_name, d.at) == ("declined", PM.id, PM.name, sc.now)
    view = application_view(sc.app, OFFICIAL, cities={}, today=TODAY)
    assert view["decision"]["reason"] == "Others showed more need this round."
    assert view["terms"] is None


def test_promotion_takes_the_acceptance_reason_the_program_manager_gave():
    sc = app_at(AppStatus.scored)
    sc.app.waitlist(actor=PM, now=sc.tick(), terms=terms(), reason="Round full", round_id="r1", position=2,
                    intended_reason="Strong plan.")
    sc.app.promote(actor=__import__("engagements.domain.model", fromlist=["SYSTEM"]).SYSTEM, now=sc.tick(),
                   engagement_id="eng-9")
    assert sc.app.decision.reason == "Strong plan." and sc.app.engagement_id == "eng-9"
    names = [type(e).__name__ for e in sc.app.pull_events()][-3:]
    assert names == ["ApplicationDecided", "ApplicationPromoted", "ApplicationDecided"]


# --- money and terms -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("budget", "federal", "local"), [(25_000_000, 18_750_000, 6_250_000),
                                                          (5_000_001, 3_750_000, 1_250_001),
                                                          (50_000_000, 37_500_000, 12_500_000),
                                                          (12_345_678, 9_259_258, 3_086_420)])
def test_the_75_25_split_is_exact_in_cents(budget, federal, local):
    t = terms(budget_cents=budget)
    assert (t.federal_cents, t.local_cents) == (federal, local)
    assert t.federal_cents + t.local_cents == budget
    assert isinstance(t.federal_cents, int)


@pytest.mark.parametrize("bad", [{"budget_cents": 4_999_999}, {"budget_cents": 50_000_001}, {"budget_cents": 250_000.0},
                                 {"duration_months": 3}, {"duration_months": 13}, {"scope": ""}])
def test_terms_outside_nrns_range_are_refused(bad):
    with pytest.raises(ValidationError):
        terms(**bad)


def test_an_engagement_ends_whole_calendar_months_later():
    assert terms(starts_on=TODAY.replace(month=1, day=31), duration_months=4).ends_on.isoformat() == "2025-05-31"
    assert terms(starts_on=TODAY.replace(month=10, day=31), duration_months=4).ends_on.isoformat() == "2026-02-28"


def test_dollars_are_formatted_from_integer_cents():
    assert (dollars(25_000_000), dollars(5_000_001), dollars(0)) == ("$250,000.00", "$50,000.01", "$0.00")


# --- attachments -----------------------------------------------------------------------------------------


def test_attachment_types_come_from_the_content_not_the_name():
    assert check_upload(tiny_pdf(), max_bytes=10_000) == "application/pdf"
    assert check_upload(tiny_png(), max_bytes=10_000) == "image/png"
    for bad, rule in ((b"MZ\x90\x00" + b"\x00" * 200, "file_type_not_accepted"),
                      (b"<html><script>alert(1)</script></html>", "file_type_not_accepted"),
                      (b"Just a letter in plain text.", "file_type_not_accepted"),
                      (b"", "file_empty"), (tiny_pdf() + b"\x00" * 20_000, "file_too_large")):
        with pytest.raises(InvalidInput) as err:
            check_upload(bad, max_bytes=10_000)
        assert (err.value.rule, err.value.field) == (rule, "file")


def test_stored_names_carry_the_detected_type_and_no_path():
    assert safe_filename("../../etc/passwd", "application/pdf") == "passwd.pdf"
    assert safe_filename("budget.exe", "image/png") == "budget.png"
    assert safe_filename("C:\\Users\\me\\Letter of commitment.PDF", "application/pdf") == "Letter of commitment.pdf"
    assert safe_filename("", "image/jpeg") == "attachment.jpg"


def test_terms_model_has_no_float_money():
    assert Terms.model_json_schema()["properties"]["budget_cents"]["type"] == "integer"
    assert timedelta  # noqa: B018 - imported for the fixtures above
