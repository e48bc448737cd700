"""Rubric arithmetic (integers in hundredths of a point, no floats), disagreement, the waitlist's
order and a round's capacity."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from engagements.domain.errors import InvalidInput
from engagements.domain.rounds import FundingRound, promotion_order, round_for
from engagements.domain.rubric import DEFAULT_RUBRIC, Criterion, Rubric, as_points, disagreement, mean_hundredths

ANCHORS = {1: "weak", 2: "fair", 3: "adequate", 4: "good", 5: "strong"}


def rubric(*weights: int, **kw) -> Rubric:
    return Rubric(criteria=tuple(Criterion(id=f"c{i}", label=f"C{i}", weight=w, anchors=ANCHORS)
                                 for i, w in enumerate(weights)), **kw)


def test_weighted_total_is_hundredths_of_a_point():
    r = rubric(25, 25, 20, 15, 15)
    assert r.total({"c0": 5, "c1": 4, "c2": 4, "c3": 4, "c4": 3}) == 410  # 1.25+1.00+0.80+0.60+0.45
    assert r.total({f"c{i}": 1 for i in range(5)}) == 100
    assert r.total({f"c{i}": 5 for i in range(5)}) == 500
    assert isinstance(r.total({f"c{i}": 3 for i in range(5)}), int)


def test_thirds_do_not_drift_like_floats():
    r = rubric(34, 33, 33)
    assert r.total({"c0": 5, "c1": 1, "c2": 1}) == 170 + 33 + 33  # exactly 2.36, never 2.3599999


@pytest.mark.parametrize(("totals", "mean"), [([410, 300], 355), ([401, 402], 402), ([400, 401], 401),
                                              ([100, 101, 101], 101), ([333, 333, 334], 333), ([], None)])
def test_mean_rounds_half_up_in_integers(totals, mean):
    assert mean_hundredths(totals) == mean


@pytest.mark.parametrize("bad", [{"c0": 0, "c1": 3, "c2": 3}, {"c0": 6, "c1": 3, "c2": 3}, {"c0": 3, "c1": 3},
                                 {"c0": 3, "c1": 3, "c2": 3, "zz": 3}])
def test_every_criterion_scored_on_the_scale(bad):
    with pytest.raises(ValueError, match=r"scores\."):
        rubric(34, 33, 33).total(bad)


def test_weights_must_sum_to_100_and_every_point_be_anchored():
    with pytest.raises(ValidationError, match="sum to 100"):
        rubric(50, 40)
    with pytest.raises(ValidationError, match="every point"):
        Criterion(id="x", label="X", weight=100, anchors={1: "a", 3: "b", 5: "c"})
    with pytest.raises(ValidationError, match="unique"):
        Rubric(criteria=(Criterion(id="x", label="X", weight=50, anchors=ANCHORS),
                         Criterion(id="x", label="Y", weight=50, anchors=ANCHORS)))


def test_the_rubric_is_configuration(monkeypatch):
    from engagements.config import Settings

    monkeypatch.setenv("RUBRIC", '{"criteria": [{"id": "need", "label": "Need", "weight": 60, "anchors": '
                                 '{"1": "a", "2": "b", "3": "c", "4": "d", "5": "e"}}, {"id": "fit", "label": "Fit", '
                                 '"weight": 40, "anchors": {"1": "a", "2": "b", "3": "c", "4": "d", "5": "e"}}], '
                                 '"min_reviewers": 3, "disagreement_threshold": "0.75"}')
    s = Settings()
    assert [c.id for c in s.rubric.criteria] == ["need", "fit"]
    assert s.rubric.min_reviewers == 3 and s.rubric.threshold_hundredths == 75
    assert Settings.model_fields["rubric"].default_factory() == DEFAULT_RUBRIC


def test_disagreement_on_totals_and_on_a_single_criterion():
    r = rubric(50, 50, disagreement_threshold=Decimal("1.0"), criterion_spread=2)
    assert disagreement(r, [{"c0": 3, "c1": 3}]) == []  # one review cannot disagree
    assert disagreement(r, [{"c0": 3, "c1": 3}, {"c0": 4, "c1": 3}]) == []  # 0.50 apart
    assert disagreement(r, [{"c0": 2, "c1": 2}, {"c0": 3, "c1": 3}]) == ["total"]  # exactly the threshold
    assert disagreement(r, [{"c0": 1, "c1": 5}, {"c0": 3, "c1": 4}]) == ["c0"]  # totals 3.00 vs 3.50
    assert disagreement(r, [{"c0": 1, "c1": 1}, {"c0": 3, "c1": 3}]) == ["total", "c0", "c1"]


def test_points_for_people():
    assert (as_points(372), as_points(400), as_points(105), as_points(None)) == ("3.72", "4.00", "1.05", "")


# --- rounds -------------------------------------------------------------------------------------


def fr(capacity: int, accepted: int = 0, **kw) -> FundingRound:
    return FundingRound(id=kw.get("id", "r1"), name="Round 1", opens_on=kw.get("opens_on", date(2025, 1, 1)),
                        closes_on=kw.get("closes_on"), capacity=capacity, accepted=accepted)


def test_capacity_is_never_exceeded():
    r = fr(2)
    r = r.take_place().take_place()
    assert (r.accepted, r.places_left, r.has_place) == (2, 0, False)
    with pytest.raises(InvalidInput) as err:
        r.take_place()
    assert err.value.rule == "round_at_capacity"
    assert r.free_place().has_place


def test_capacity_cannot_drop_below_the_cities_accepted():
    with pytest.raises(InvalidInput) as err:
        fr(10, 7).with_capacity(6)
    assert err.value.rule == "capacity_below_accepted" and err.value.field == "capacity"
    assert fr(10, 7).with_capacity(7).places_left == 0
    assert fr(40, 40).with_capacity(50).places_left == 10  # NRN's 40 cities and 10 more


def test_an_application_joins_the_round_open_that_day_closing_first():
    day = date(2025, 6, 1)
    rounds = [fr(5, id="late", closes_on=date(2025, 12, 31)), fr(5, id="soon", closes_on=date(2025, 6, 30)),
              fr(5, id="rolling"), fr(5, id="future", opens_on=date(2025, 7, 1)),
              fr(5, id="past", closes_on=date(2025, 5, 31))]
    assert round_for(rounds, day).id == "soon"
    assert round_for([r for r in rounds if r.id != "soon"], day).id == "late"
    assert round_for([rounds[2]], day).id == "rolling"
    assert round_for([rounds[3], rounds[4]], day) is None
    assert round_for(rounds, date(2025, 6, 30)).id == "soon"  # the closing day is still open


def test_waitlist_order_is_score_then_earliest_then_id():
    t = datetime(2025, 3, 1, tzinfo=UTC)
    entries = [
        {"_id": "a", "score": 350, "submitted_at": t},
        {"_id": "b", "score": 420, "submitted_at": t + timedelta(days=2)},
        {"_id": "c", "score": 420, "submitted_at": t + timedelta(days=1)},
        {"_id": "e", "score": 390, "submitted_at": t},
        {"_id": "d", "score": 390, "submitted_at": t},
    ]
    assert [e["_id"] for e in promotion_order(entries)] == ["c", "b", "d", "e", "a"]
