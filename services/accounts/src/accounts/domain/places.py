"""Where a city is: its IANA time zone, and the sections of cities that people name as their city.

* :func:`zone_at` finds the zone from coordinates offline with ``timezonefinder`` (its boundary data
  ships in the wheel); the finder is built once, on first use, because loading it costs ~0.1 s.
* :data:`SECTIONS` — a section of a city (GeoNames feature code PPLX, for example La Jolla in San
  Diego, or one of New York City's boroughs) is not a city of its own. ``data/city_sections.csv``
  (kept by hand: the GeoNames extract the starter list comes from drops the feature code) names the
  city each belongs to; search finds the city by the section's name and sign-up for a section's id
  signs the person up for its city.
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from importlib.resources import files
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from .cities import city_id_for


def valid_zone(name: str) -> bool:
    """True for a name of the IANA database ("America/Detroit"), False otherwise."""
    if name not in available_timezones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@functools.cache
def _finder():  # noqa: ANN202 - timezonefinder is imported only when an import gives coordinates
    from timezonefinder import TimezoneFinder

    return TimezoneFinder()


def zone_at(latitude: float, longitude: float) -> str | None:
    """The IANA zone at a point (None at sea or outside every zone)."""
    return _finder().timezone_at(lat=latitude, lng=longitude)


@dataclass(frozen=True)
class Section:
    name: str  # "La Jolla"
    state: str  # "CA"
    city_name: str  # "San Diego"

    @property
    def section_id(self) -> str:
        return city_id_for(self.state, self.name)

    @property
    def city_id(self) -> str:
        return city_id_for(self.state, self.city_name)


@functools.cache
def sections() -> tuple[Section, ...]:
    text = (files("accounts") / "data" / "city_sections.csv").read_text(encoding="utf-8")
    return tuple(Section(r["section"], r["state"], r["city"]) for r in csv.DictReader(io.StringIO(text)))


@functools.cache
def _by_id() -> dict[str, Section]:
    return {s.section_id: s for s in sections()}


def section_of(city_id: str) -> Section | None:
    """The section a city id names ("ca-la-jolla"), or None when it names no section."""
    return _by_id().get(city_id)


def sections_matching(q: str, state: str | None = None, limit: int = 20) -> list[Section]:
    """Sections whose name starts with ``q`` (or whose words do), case and accents ignored."""
    folded = city_id_for("x", q)[2:]
    if not folded:
        return []
    out = []
    for s in sections():
        if state and s.state != state.upper():
            continue
        slug = s.section_id[3:]
        if slug.startswith(folded) or f"-{folded}" in f"-{slug}":
            out.append(s)
            if len(out) >= limit:
                break
    return out
