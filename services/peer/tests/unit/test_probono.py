"""The pro bono talent network's rules without a database: the matching score's four parts and the
reasons in words, who is never suggested, the order of ties; the project review; a match's answers;
hours only on an accepted match of an active project and never beyond the hours agreed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from peer.domain.errors import InvalidInput, NotAllowedNow
from peer.domain.matching import WEIGHTS, Track, score, suggest
from peer.domain.probono import DEFAULT_SKILLS, HoursEntry, Match, Project, Volunteer

NOW = datetime(2026, 3, 2, 15, tzinfo=UTC)
LABELS = DEFAULT_SKILLS


def project(**kw) -> Project:  # noqa: ANN003
    values = dict(id="prj_1", city_id="city-flint", department="Planning", title="Vacant lot inventory",
                  problem="Map every vacant lot and its owner.", skills=["analytics", "blight"], hours_needed=60,
                  starts_on=date(2026, 4, 1), ends_on=date(2026, 6, 29), work_mode="remote", on_site_needs="",
                  posted_by="off-1", posted_at=NOW, status="open")
    values.update(kw)
    return Project(**values)


def volunteer(vid: str = "vol_1", **kw) -> Volunteer:  # noqa: ANN003
    values = dict(id=vid, account_id="acc-" + vid, organization_id="acme", name="Ana Ruiz", title="Analyst",
                  skills=["analytics", "blight"], hours_per_month=20, available_from=date(2026, 1, 1),
                  available_until=date(2026, 12, 31), work_mode="either", base_city="Detroit", base_state="MI",
                  experience="", phone="", registered_at=NOW, status="confirmed")
    values.update(kw)
    return Volunteer(**values)


def scored(p: Project, v: Volunteer, track: Track = Track(), state: str | None = "MI"):  # noqa: ANN201
    return score(p, v, track, skill_labels=LABELS, city_state=state, city_name="Flint, MI")


def test_a_volunteer_who_covers_everything_scores_all_but_experience() -> None:
    s = scored(project(), volunteer())
    assert s is not None
    # 90 days need 60 hours: 20.3 a month; 20 free covers 98.6% of it
    assert s.parts["skills"] == 1 and s.parts["location"] == 1 and s.parts["experience"] == 0
    assert s.parts["availability"] == pytest.approx(20 / (60 / (90 / 30.44)))
    assert s.score == round(sum(WEIGHTS[k] * s.parts[k] for k in WEIGHTS), 4)
    assert s.reasons == [
        "Has 2 of the 2 skills needed: Data and analytics and Blight and vacant property",
        "Available for the whole project; 20 hours a month free of the 20 the project needs a month",
        "No pro bono projects completed yet",
        "The work can be done remotely",
    ]


def test_missing_skills_and_part_of_the_period_are_said() -> None:
    v = volunteer(skills=["analytics"], available_until=date(2026, 5, 15), hours_per_month=40)
    s = scored(project(skills=["analytics", "blight", "legal"]), v)
    assert s is not None
    assert s.parts["skills"] == pytest.approx(1 / 3)
    assert s.reasons[0] == "Has 1 of the 3 skills needed: Data and analytics (not Blight and vacant property and Legal)"
    period = 45 / 90  # April 1 to May 15 of April 1 to June 29
    assert s.parts["availability"] == pytest.approx(period)  # 40 free hours cover the need: capacity 1
    assert s.reasons[1].startswith("Available for 50% of the project (Apr 2026 to May 2026)")


def test_past_projects_count_double_when_they_used_a_needed_skill_and_stop_at_three() -> None:
    one_alike = Track(completed=(frozenset({"blight"}),))
    s = scored(project(), volunteer(), one_alike)
    assert s.parts["experience"] == pytest.approx(2 / 3)
    assert s.reasons[2] == "Completed 1 pro bono project, 1 using skills this one needs"
    many = Track(completed=(frozenset({"legal"}),) * 5)
    s = scored(project(), volunteer(), many)
    assert s.parts["experience"] == 1 and s.reasons[2] == "Completed 5 pro bono projects"


@pytest.mark.parametrize(("project_mode", "volunteer_mode", "state", "part", "words"), [
    ("remote", "remote", "OH", 1.0, "The work can be done remotely"),
    ("on_site", "on_site", "MI", 1.0, "Can work on site: based in Detroit, MI"),
    ("on_site", "either", "OH", 0.3, "Can work on site but is based in OH, away from Flint, MI"),
    ("on_site", "remote", "MI", 0.0, "Works remotely only; the project needs work on site"),
    ("either", "remote", "MI", 0.7, "Works remotely; the project can be done remotely"),
])
def test_location(project_mode: str, volunteer_mode: str, state: str, part: float, words: str) -> None:
    p = project(work_mode=project_mode, on_site_needs="Walk the lots" if project_mode != "remote" else "")
    s = scored(p, volunteer(work_mode=volunteer_mode, base_state=state))
    assert s is not None and s.parts["location"] == part and s.reasons[3] == words


@pytest.mark.parametrize("v", [
    volunteer(skills=["legal"]),                                                         # none of the skills
    volunteer(available_from=date(2026, 7, 1)),                                          # after the project
    volunteer(available_until=date(2026, 3, 31)),                                        # before it
], ids=["no_skill", "after", "before"])
def test_who_is_never_suggested(v: Volunteer) -> None:
    assert scored(project(), v) is None


def test_no_free_hours_is_never_suggested() -> None:
    assert scored(project(), volunteer(hours_per_month=20), Track(committed_per_month=20)) is None
    s = scored(project(), volunteer(hours_per_month=20), Track(committed_per_month=10))
    assert s is not None and "10 hours a month free" in s.reasons[1]


def test_suggest_orders_by_score_then_registration_and_skips_the_unconfirmed_and_the_offered() -> None:
    earlier, later = NOW - timedelta(days=3), NOW
    vs = [volunteer("vol_late", registered_at=later), volunteer("vol_early", registered_at=earlier),
          volunteer("vol_half", skills=["analytics"]), volunteer("vol_new", status="awaiting_confirmation"),
          volunteer("vol_offered")]
    found = suggest(project(), vs, {}, skill_labels=LABELS, city_state="MI", exclude={"vol_offered"})
    assert [s.volunteer.id for s in found] == ["vol_early", "vol_late", "vol_half"]
    assert [s.volunteer.id for s in suggest(project(), vs, {}, skill_labels=LABELS, city_state="MI",
                                             exclude={"vol_offered"}, limit=1)] == ["vol_early"]


def test_a_plain_reference_computation_agrees_on_a_grid() -> None:
    """The score against the table in matching.py, recomputed by hand over a grid of profiles."""
    p = project(skills=["analytics", "blight", "legal", "finance"], work_mode="either", on_site_needs="x")
    need = 60 / (90 / 30.44)
    for k in range(1, 5):
        for hours in (5, 20, 40):
            for mode, state in (("remote", None), ("either", "MI"), ("either", "OH")):
                v = volunteer(skills=p.skills[:k], hours_per_month=hours, work_mode=mode, base_state=state)
                s = scored(p, v)
                location = 0.7 if mode == "remote" else 1.0 if state == "MI" else 0.3
                expected = 0.5 * k / 4 + 0.25 * min(1, hours / need) + 0.1 * location
                assert s is not None and s.score == pytest.approx(expected, abs=1e-4)


# ---------------------------------------------------------------------------- projects, matches, hours


def test_review_opens_returns_with_a_note_or_declines() -> None:
    p = project(status="submitted")
    with pytest.raises(InvalidInput) as e:
        p.review("returned", note=" ", by="pm", now=NOW)
    assert e.value.field == "note"
    p.review("opened", note="", by="pm", now=NOW)
    assert p.status == "open"
    with pytest.raises(NotAllowedNow):
        p.review("declined", note="again", by="pm", now=NOW)


def _match() -> Match:
    return Match(id="mch_1", project_id="prj_1", city_id="city-flint", volunteer_id="vol_1", account_id="acc-vol_1",
                 organization_id="acme", score=0.9, reasons=[], hours_agreed=10, proposed_by="staff", proposer="pm",
                 proposed_at=NOW)


def test_a_match_is_accepted_once_both_sides_accepted_in_either_order() -> None:
    m = _match()
    m.answer("volunteer", accepted=True, reason="", now=NOW)
    assert m.status == "proposed"
    with pytest.raises(NotAllowedNow):
        m.answer("volunteer", accepted=True, reason="", now=NOW)
    m.answer("city", accepted=True, reason="", now=NOW)
    assert m.status == "accepted" and m.accepted_at == NOW
    declined = _match()
    declined.answer("city", accepted=False, reason="Found someone", now=NOW)
    assert declined.status == "declined"
    with pytest.raises(NotAllowedNow):
        declined.answer("volunteer", accepted=True, reason="", now=NOW)


def _entry(hours: float, day: date = date(2026, 4, 2)) -> HoursEntry:
    return HoursEntry(id=f"h{hours}{day}", worked_on=day, hours=hours, note="", logged_at=NOW)


def test_hours_only_on_an_accepted_match_of_an_active_project_and_within_the_agreement() -> None:
    m, active, today = _match(), project(status="active"), date(2026, 4, 10)
    with pytest.raises(NotAllowedNow):  # not accepted yet
        m.log(_entry(2), project=active, today=today)
    m.status = "accepted"
    with pytest.raises(NotAllowedNow):
        m.log(_entry(2), project=project(status="completed"), today=today)
    for bad, field in ((0.1, "hours"), (2.3, "hours"), (25, "hours")):
        with pytest.raises(InvalidInput) as e:
            m.log(_entry(bad), project=active, today=today)
        assert e.value.field == field
    with pytest.raises(InvalidInput):
        m.log(_entry(2, date(2026, 4, 11)), project=active, today=today)  # a day still to come
    with pytest.raises(InvalidInput):
        m.log(_entry(2, date(2026, 3, 31)), project=active, today=today)  # before the project
    m.log(_entry(8), project=active, today=today)
    with pytest.raises(NotAllowedNow) as e:
        m.log(_entry(2.25), project=active, today=today)
    assert e.value.rule == "beyond_agreed_hours" and "2 left" in e.value.detail
    m.log(_entry(2), project=active, today=today)  # exactly the agreed total
    returned = m.review_hours(m.hours[1].id, approved=False, note="Wrong day", by="off-1", now=NOW)
    assert returned.status == "returned" and m.hours_logged == 8  # returned hours free the agreement again
    m.review_hours(m.hours[0].id, approved=True, note="", by="off-1", now=NOW)
    assert m.hours_approved == 8
    with pytest.raises(InvalidInput):
        m.agree_hours(7)  # below what is logged
    m.agree_hours(20)
    m.log(_entry(10), project=active, today=today)
    assert m.hours_logged == 18
