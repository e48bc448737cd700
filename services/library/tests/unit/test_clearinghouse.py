from datetime import date, datetime, timezone

import pytest

from library.domain.clearinghouse import (
    CityProfile, Deadline, Eligibility, Program, ProgramContent, ProgramFilter, eligibility_reasons, filter_programs,
    is_open, limits,
)

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
TODAY = date(2026, 1, 10)


def prog(pid: str, **kw) -> Program:
    base = dict(agency="HUD", name=f"Programme {pid}", summary="Help for cities", help_given=["technical_assistance"],
                topics=["housing"], how_to_apply="Apply online", rolling=True)
    return Program(program_id=pid, content=ProgramContent(**(base | kw)), created_at=NOW, updated_at=NOW,
                   updated_by="staff-1")


FLINT = CityProfile(city_id="c-flint", name="Flint", state="MI", population=81_000, distressed=True)
BIG = CityProfile(city_id="c-big", name="Big City", state="TX", population=1_200_000, distressed=False)


def test_eligibility_reasons_name_each_failed_rule():
    p = prog("p", eligibility=Eligibility(max_population=500_000, states=["MI", "OH"], requires_distress=True)).content
    assert eligibility_reasons(p, FLINT) == []
    assert eligibility_reasons(p, BIG) == [
        "Only places in Michigan or Ohio can apply; Big City is in Texas.",
        "Places may have at most 500,000 residents; Big City has 1,200,000.",
        "Only cities that meet NRN's distress tests can apply, and Big City does not meet them.",
    ]


def test_every_programme_says_plainly_why_a_city_may_not_qualify():
    p = prog("p", eligibility=Eligibility(entity_kinds=["county", "tribe"], states=["MI", "OH", "IN"],
                                          min_population=50_000, requires_distress=True, rural_only=True,
                                          notes="Counties must have adopted a hazard mitigation plan.")).content
    assert limits(p) == [
        "Only counties and tribal governments can apply; a city cannot apply on its own.",
        "Only for places in Michigan, Ohio, or Indiana.",
        "Only for places of at least 50,000 residents.",
        "Only for cities that meet NRN's distress tests (high unemployment, high poverty, or a large loss of "
        "population).",
        "Only for rural places.",
        "Counties must have adopted a hazard mitigation plan.",
    ]
    assert limits(prog("open").content) == []
    both = prog("b", eligibility=Eligibility(entity_kinds=["city", "county"], min_population=10, max_population=99))
    assert limits(both.content) == ["Open to cities and counties.", "Only for places of 10 to 99 residents."]


def test_unknown_facts_do_not_exclude():
    p = prog("p", eligibility=Eligibility(max_population=50_000, requires_distress=True)).content
    assert eligibility_reasons(p, CityProfile(city_id="x", name="X")) == []


def test_entity_kind():
    p = prog("p", eligibility=Eligibility(entity_kinds=["tribe"])).content
    assert eligibility_reasons(p, FLINT) == ["Only tribal governments can apply, and Flint applies as a city."]


def test_filter_by_topic_agency_help_and_city():
    programs = [
        prog("a", agency="HUD", topics=["housing"]),
        prog("b", agency="EDA", topics=["economic_development", "workforce"], help_given=["grants"]),
        prog("c", agency="NTIA", topics=["broadband"], eligibility=Eligibility(max_population=50_000)),
        prog("d", agency="EPA", topics=["health"], eligibility=Eligibility(states=["CA"])),
    ]
    ids = lambda ps: [p.program_id for p in ps]  # noqa: E731
    assert ids(filter_programs(programs, ProgramFilter(topics=["workforce"]), today=TODAY)) == ["b"]
    assert ids(filter_programs(programs, ProgramFilter(agencies=["HUD", "EPA"]), today=TODAY)) == ["a", "d"]
    assert ids(filter_programs(programs, ProgramFilter(help_given=["grants"]), today=TODAY)) == ["b"]
    assert ids(filter_programs(programs, ProgramFilter(), city=FLINT, today=TODAY)) == ["a", "b"]


def test_deadlines_and_open_only():
    past = prog("past", rolling=False, deadlines=[Deadline(label="round 1", due=date(2025, 12, 1))])
    soon = prog("soon", rolling=False, deadlines=[Deadline(label="round 2", due=date(2026, 2, 1))])
    later = prog("later", rolling=False, deadlines=[Deadline(label="round 3", due=date(2026, 6, 1))])
    rolling = prog("rolling")
    assert not is_open(past.content, TODAY) and is_open(soon.content, TODAY)
    out = filter_programs([rolling, later, past, soon], ProgramFilter(open_only=True), today=TODAY)
    assert [p.program_id for p in out] == ["soon", "later", "rolling"]


def test_inactive_hidden_unless_asked():
    p = prog("old")
    p.active = False
    assert filter_programs([p], ProgramFilter(), today=TODAY) == []
    assert filter_programs([p], ProgramFilter(include_inactive=True), today=TODAY) == [p]


@pytest.mark.parametrize("bad", [dict(states=["Michigan"]), dict(min_population=10, max_population=5)])
def test_bad_eligibility_rejected(bad):
    with pytest.raises(ValueError):
        Eligibility(**bad)


def test_unknown_agency_and_topic_rejected():
    with pytest.raises(ValueError):
        prog("x", agency="CIA")
    with pytest.raises(ValueError):
        prog("x", topics=["astrology"])
