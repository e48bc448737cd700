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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from .probono import Project, Volunteer

WEIGHTS = {"skills": 0.50, "availability": 0.25, "experience": 0.15, "location": 0.10}


@dataclass(frozen=True)
class Track:
    """What a volunteer already did and holds: completed projects' skills, hours a month committed."""

    completed: tuple[frozenset[str], ...] = ()
    committed_per_month: float = 0.0


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


def score(project: Project, v: Volunteer, track: Track, *, skill_labels: Mapping[str, str],
          city_state: str | None, city_name: str = "the city") -> Suggestion | None:
    """The volunteer's suggestion for the project, or None when they should not be suggested."""
    label = lambda k: skill_labels.get(k, k.replace("_", " "))  # noqa: E731
    needed = list(dict.fromkeys(project.skills))
    covered = [s for s in needed if s in v.skills]
    if not covered:
        return None
    skills = len(covered) / len(needed)
    missing = [s for s in needed if s not in covered]
    reasons = [f"Has {len(covered)} of the {len(needed)} skills needed: {_words([label(s) for s in covered])}"
               + (f" (not {_words([label(s) for s in missing])})" if missing else "")]

    days = _overlap_days(v.available_from, v.available_until, project.starts_on, project.ends_on)
    if days == 0:
        return None
    free = v.hours_per_month - track.committed_per_month
    if free <= 0:
        return None
    need = project.hours_needed / project.months
    period = days / project.days
    capacity = min(1.0, free / need)
    availability = period * capacity
    when = ("Available for the whole project" if period >= 1 else
            f"Available for {round(period * 100)}% of the project "
            f"({_month(max(v.available_from, project.starts_on))} to {_month(min(v.available_until, project.ends_on))})")
    reasons.append(f"{when}; {free:g} hours a month free of the {need:.0f} the project needs a month")

    counted = sum(2 if done & set(needed) else 1 for done in track.completed)
    experience = min(counted, 3) / 3
    n = len(track.completed)
    alike = sum(1 for done in track.completed if done & set(needed))
    reasons.append("No pro bono projects completed yet" if n == 0 else
                   f"Completed {n} pro bono project{'s' if n != 1 else ''}"
                   + (f", {alike} using skills this one needs" if alike else ""))

    same_state = bool(city_state and v.base_state == city_state)
    if project.work_mode == "remote":
        location, words = 1.0, "The work can be done remotely"
    elif v.work_mode == "remote":
        location, words = (0.0, "Works remotely only; the project needs work on site") if project.work_mode == "on_site" \
            else (0.7, "Works remotely; the project can be done remotely")
    elif same_state:
        location, words = 1.0, f"Can work on site: based in {v.base_city + ', ' if v.base_city else ''}{v.base_state}"
    else:
        location, words = 0.3, (f"Can work on site but is based in {v.base_state or 'another state'}, "
                                f"away from {city_name}")
    reasons.append(words)

    parts = {"skills": skills, "availability": availability, "experience": experience, "location": location}
    total = sum(WEIGHTS[k] * parts[k] for k in WEIGHTS)
    return Suggestion(volunteer=v, score=round(total, 4), reasons=reasons, parts=parts)


def suggest(project: Project, volunteers: Iterable[Volunteer], tracks: Mapping[str, Track], *,
            skill_labels: Mapping[str, str], city_state: str | None, city_name: str = "the city",
            exclude: set[str] = frozenset(), limit: int = 20) -> list[Suggestion]:
    """The best ``limit`` suggestions, best first; ``exclude`` holds volunteer ids already offered."""
    out = []
    for v in volunteers:
        if v.status != "confirmed" or v.id in exclude:
            continue
        s = score(project, v, tracks.get(v.id, Track()), skill_labels=skill_labels, city_state=city_state,
                  city_name=city_name)
        if s is not None:
            out.append(s)
    out.sort(key=lambda s: (-s.score, s.volunteer.registered_at, s.volunteer.id))
    return out[:limit]
