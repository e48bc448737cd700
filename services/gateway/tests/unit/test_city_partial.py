"""The city's eligibility block: the answer first, the distress tests behind it — folded for officials,
open for staff — and the words around the tags kept apart."""

from __future__ import annotations

from types import SimpleNamespace

from gateway.web.render import make_templates

CITY = {"name": "Flint", "state": "MI", "population": 102434, "population_year": 2010, "eligible": True,
        "eligibility_basis": "indicators",
        "eligibility": {"summary": "Eligible: unemployment 10.2 % is above 9 %", "reasons": [
            {"test": "unemployment_rate", "passed": True, "value": 10.2, "year": 2013, "source": "BLS LAUS",
             "threshold": 9.0, "comparison": ">"}]}}


def render(user: object) -> str:
    return make_templates().env.get_template("partials/section_city.html").render(city=CITY, user=user)


def test_officials_see_the_answer_with_the_tests_folded_staff_see_them_open() -> None:
    official = render(SimpleNamespace(is_official=True))
    staff = render(SimpleNamespace(is_official=False))
    for html in (official, staff):
        assert "<summary>How this was decided</summary>" in html and "BLS LAUS" in html
    assert '<details class="reasons" >' in official
    assert '<details class="reasons" open>' in staff


def test_the_tag_and_the_population_do_not_run_together() -> None:
    html = render(SimpleNamespace(is_official=True))
    assert '<span class="tag ok">Eligible</span> ' in html and "Population 102,434 (2010)" in html
