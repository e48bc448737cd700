"""Which volunteers to suggest for a project, with a score and the reasons in words.

The score (0–1) adds four parts, each 0–1, with these weights:

| part | weight | what it measures |
|---|---|---|
| skills | 0.50 | the share of the project's skills the volunteer has |
| availability | 0.25 | the share of the project's period the volunteer is available, times the share of the project's monthly hours their free hours cover (their hours a month less those agreed on their active matches) |
| past projects | 0.15 | completed pro bono projects (with approved hours), up to three; one that used a skill this project needs counts double |
| location | 0.10 | remote work: 1; on-site work in the city's state: 1; on-site work elsewhere: 0.3; a remote-only volunteer for on-site work: 0; for "remote or on site" projects a remote-only volunteer scores 0.7 |

A volunteer is not suggested at all when they have none of the skills, are not available at any time
during the project, have no free hours left, or were already offered to the project. Ties keep the
earlier registration first.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from .probono import Project, Track, Volunteer

WEIGHTS = {"skills": 0.50, "availability": 0.25, "experience": 0.15, "location": 0.10}


@dataclass
class Suggestion:
    volunteer: Volunteer
    score: float
    reasons: list[str]
    parts: dict[str, float] = field(default_factory=dict)


def _words(items: Iterable[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _month(d: date) -> str:
    return d.strftime("%b %Y")


def _overlap_days(a0: date, a1: date, b0: date, b1: date) -> int:
    return max(0, (min(a1, b1) - max(a0, b0)).days + 1)


@dataclass(frozen=True)
class _Fit:
    """A volunteer's fit for a project in numbers: everything the score needs and the reasons are told from."""

    volunteer: Volunteer
    score: float
    parts: dict[str, float]
    covered: list[str]
    missing: list[str]
    period: float  # share of the project's days the volunteer is available
    free: float  # hours a month free
    need: float  # hours a month the project needs
    completed: int
    alike: int  # completed projects that used a skill this one needs
    location: str  # which location rule applied (see _LOCATION)


def _fit(project: Project, needed: list[str], v: Volunteer, track: Track, city_state: str | None) -> _Fit | None:
    covered = [s for s in needed if s in v.skills]
    if not covered:
        return None
    days = _overlap_days(v.available_from, v.available_until, project.starts_on, project.ends_on)
    if days == 0:
        return None
    free = v.hours_per_month - track.committed_per_month
    if free <= 0:
        return None
    need = project.hours_needed / project.months
    period = days / project.days
    availability = period * min(1.0, free / need)
    wanted = set(needed)
    alike = sum(1 for done in track.completed if done & wanted)
    experience = min(len(track.completed) + alike, 3) / 3  # one that used a needed skill counts double
    if project.work_mode == "remote":
        rule = "remote_work"
    elif v.work_mode == "remote":
        rule = "remote_only" if project.work_mode == "on_site" else "remote_either"
    elif city_state and v.base_state == city_state:
        rule = "same_state"
    else:
        rule = "elsewhere"
    parts = {"skills": len(covered) / len(needed), "availability": availability, "experience": experience,
             "location": _LOCATION[rule]}
    return _Fit(volunteer=v, score=round(sum(WEIGHTS[k] * parts[k] for k in WEIGHTS), 4), parts=parts,
                covered=covered, missing=[s for s in needed if s not in covered], period=period, free=free, need=need,
                completed=len(track.completed), alike=alike, location=rule)


_LOCATION = {"remote_work": 1.0, "remote_only": 0.0, "remote_either": 0.7, "same_state": 1.0, "elsewhere": 0.3}


def _suggestion(project: Project, f: _Fit, *, skill_labels: Mapping[str, str], city_name: str) -> Suggestion:
    """The fit told in words: one reason per part of the score."""
    label = lambda k: skill_labels.get(k, k.replace("_", " "))  # noqa: E731
    v, needed = f.volunteer, len(f.covered) + len(f.missing)
    reasons = [f"Has {len(f.covered)} of the {needed} skills needed: {_words([label(s) for s in f.covered])}"
               + (f" (not {_words([label(s) for s in f.missing])})" if f.missing else "")]
    when = ("Available for the whole project" if f.period >= 1 else
            f"Available for {round(f.period * 100)}% of the project "
            f"({_month(max(v.available_from, project.starts_on))} to {_month(min(v.available_until, project.ends_on))})")
    reasons.append(f"{when}; {f.free:g} hours a month free of the {f.need:.0f} the project needs a month")
    n = f.completed
    reasons.append("No pro bono projects completed yet" if n == 0 else
                   f"Completed {n} pro bono project{'s' if n != 1 else ''}"
                   + (f", {f.alike} using skills this one needs" if f.alike else ""))
    reasons.append({
        "remote_work": "The work can be done remotely",
        "remote_only": "Works remotely only; the project needs work on site",
        "remote_either": "Works remotely; the project can be done remotely",
        "same_state": f"Can work on site: based in {v.base_city + ', ' if v.base_city else ''}{v.base_state}",
        "elsewhere": f"Can work on site but is based in {v.base_state or 'another state'}, away from {city_name}",
    }[f.location])
    return Suggestion(volunteer=v, score=f.score, reasons=reasons, parts=f.parts)


def score(project: Project, v: Volunteer, track: Track, *, skill_labels: Mapping[str, str],
          city_state: str | None, city_name: str = "the city") -> Suggestion | None:
    """The volunteer's suggestion for the project, or None when they should not be suggested."""
    f = _fit(project, list(dict.fromkeys(project.skills)), v, track, city_state)
    return None if f is None else _suggestion(project, f, skill_labels=skill_labels, city_name=city_name)


def suggest(project: Project, volunteers: Iterable[Volunteer], tracks: Mapping[str, Track], *,
            skill_labels: Mapping[str, str], city_state: str | None, city_name: str = "the city",
            exclude: set[str] = frozenset(), limit: int = 20) -> list[Suggestion]:
    """The best ``limit`` suggestions, best first; ``exclude`` holds volunteer ids already offered.

    Every candidate is scored in numbers; only the best ``limit`` (a heap: n log limit) are told in words,
    so the reasons cost the same however many volunteers are scored."""
    needed = list(dict.fromkeys(project.skills))
    nothing = Track()
    fits = (_fit(project, needed, v, tracks.get(v.id, nothing), city_state) for v in volunteers
            if v.status == "confirmed" and v.id not in exclude)
    best = heapq.nsmallest(limit, (f for f in fits if f is not None),
                           key=lambda f: (-f.score, f.volunteer.registered_at, f.volunteer.id))
    return [_suggestion(project, f, skill_labels=skill_labels, city_name=city_name) for f in best]
