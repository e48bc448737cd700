"""The review rubric (configuration) and its arithmetic.

Criteria carry integer weights that sum to 100 and a 1–5 scale with an anchor sentence for every
point. A reviewer's score is the weighted mean, kept as an integer in hundredths of a point
(Σ weightᵢ × scoreᵢ, since the weights sum to 100: 372 means 3.72); an application's score is the
mean of its reviewers' scores, rounded half up to the hundredth, in integers throughout. Scores
disagree when the reviewers' totals are at least ``disagreement_threshold`` apart, or when on one
criterion their points are at least ``criterion_spread`` apart.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SCALE = (1, 2, 3, 4, 5)


class Criterion(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    label: str = Field(min_length=1, max_length=200)
    weight: int = Field(ge=1, le=100)
    # what each point of the scale means for this criterion: keys 1..5
    anchors: dict[int, str]

    @model_validator(mode="after")
    def _every_point_anchored(self) -> Criterion:
        if set(self.anchors) != set(SCALE):
            raise ValueError(f"criterion {self.id}: anchors are needed for every point 1 to 5")
        if any(not text.strip() for text in self.anchors.values()):
            raise ValueError(f"criterion {self.id}: an anchor is blank")
        return self


class Rubric(BaseModel):
    """The rubric reviewers score against; a snapshot is kept on each application when screened in,
    so a later configuration change is not retroactive."""

    model_config = ConfigDict(frozen=True)

    criteria: tuple[Criterion, ...] = Field(min_length=1)
    min_reviewers: int = Field(2, ge=2, le=10)
    disagreement_threshold: Decimal = Field(Decimal("1.0"), gt=0, le=4, decimal_places=2)
    criterion_spread: int = Field(2, ge=1, le=4)

    @model_validator(mode="after")
    def _weights_sum_to_100(self) -> Rubric:
        total = sum(c.weight for c in self.criteria)
        if total != 100:
            raise ValueError(f"the criteria's weights must sum to 100 (they sum to {total})")
        ids = [c.id for c in self.criteria]
        if len(set(ids)) != len(ids):
            raise ValueError("criterion ids must be unique")
        return self

    @property
    def threshold_hundredths(self) -> int:
        return int((self.disagreement_threshold * 100).to_integral_value(ROUND_HALF_UP))

    def total(self, scores: dict[str, int]) -> int:
        """One reviewer's weighted score in hundredths (100–500). Raises ValueError naming a bad criterion."""
        known = {c.id for c in self.criteria}
        unknown = sorted(set(scores) - known)
        if unknown:
            raise ValueError(f"scores.{unknown[0]}: not a criterion of the rubric")
        for c in self.criteria:
            if c.id not in scores:
                raise ValueError(f"scores.{c.id}: score every criterion (1 to 5)")
            if scores[c.id] not in SCALE:
                raise ValueError(f"scores.{c.id}: a score is a whole number from 1 to 5")
        return sum(c.weight * scores[c.id] for c in self.criteria)


def mean_hundredths(totals: list[int]) -> int | None:
    """Mean of integer totals, rounded half up, in integers (no floats anywhere)."""
    if not totals:
        return None
    n = len(totals)
    return (2 * sum(totals) + n) // (2 * n)


def disagreement(rubric: Rubric, reviews: list[dict[str, int]]) -> list[str]:
    """Why the submitted scores disagree: ``["total"]`` and/or the ids of criteria too far apart."""
    if len(reviews) < 2:
        return []
    reasons: list[str] = []
    totals = [rubric.total(r) for r in reviews]
    if max(totals) - min(totals) >= rubric.threshold_hundredths:
        reasons.append("total")
    for c in rubric.criteria:
        points = [r[c.id] for r in reviews]
        if max(points) - min(points) >= rubric.criterion_spread:
            reasons.append(c.id)
    return reasons


def as_points(hundredths: int | None) -> str:
    """372 → "3.72" (for people; the stored value stays an integer)."""
    if hundredths is None:
        return ""
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def _anchors(weak: str, fair: str, adequate: str, good: str, strong: str) -> dict[int, str]:
    return {1: weak, 2: fair, 3: adequate, 4: good, 5: strong}


DEFAULT_RUBRIC = Rubric(criteria=(
    Criterion(id="need", label="Economic need and distress", weight=25, anchors=_anchors(
        "Little evidence of distress beyond the eligibility tests.",
        "Some distress, weakly documented.",
        "Clear distress in one or two areas, documented.",
        "Sustained distress across several areas, well documented.",
        "Severe, sustained distress across many areas, with recent data.")),
    Criterion(id="commitment", label="Leadership commitment", weight=25, anchors=_anchors(
        "No executive sponsor, or a sponsor with no stated commitment.",
        "A sponsor named, commitment vague.",
        "A sponsor with a written commitment of staff time.",
        "A sponsor committing staff, decisions and a local match.",
        "A sponsor committing staff, decisions, the match and a council resolution.")),
    Criterion(id="capacity", label="Capacity to carry out the work", weight=20, anchors=_anchors(
        "No one named to run the work day to day.",
        "A manager named without the time to do it.",
        "A manager with time, few partners enlisted.",
        "A manager with time and partners enlisted.",
        "A manager with time, partners enlisted and a track record of delivery.")),
    Criterion(id="fit", label="Fit with NRN's expertise", weight=15, anchors=_anchors(
        "Outside what NRN's experts do.",
        "Mostly outside NRN's expertise.",
        "Partly within NRN's expertise.",
        "Within NRN's expertise.",
        "Squarely within NRN's expertise, with peers who solved it.")),
    Criterion(id="impact", label="Potential for lasting impact", weight=15, anchors=_anchors(
        "Unlikely to change outcomes after the engagement.",
        "Small, short-lived gains likely.",
        "Lasting gains in one area likely.",
        "Lasting gains in several areas likely.",
        "Lasting, measurable gains that other cities could copy.")),
))
