"""Municipal health data over HTTP on the real broker and database: the catalogue defined at start,
a CSV import with its row-level report (re-import changes nothing and emits nothing), the Peer
Health Group's choice, a city's dashboard against its peers, its CSV and its publication, and who
may read what."""

from __future__ import annotations

import csv
import io

from nrn_contracts.events import accounts as acc

from nrn_kit.testing import eventually

# Eight cities of one population band (100,000–249,999) and one far larger, each with a FIPS code.
BAND = {f"city-{i}": (f"Town {i}", "OH", f"39{i:05d}", 100_000 + i * 1_000) for i in range(1, 9)}
BIG = {"city-big": ("Big City", "IL", "1714000", 2_700_000)}


async def _cities(svc) -> None:  # noqa: ANN001
    await svc.publish(*[acc.CityRegistered(city_id=cid, name=n, state=s, fips=f, population=pop)
                        for cid, (n, s, f, pop) in (BAND | BIG).items()])

    async def ready() -> bool:
        return await svc.db.cities.count_documents({"fips": {"$ne": None}}) == len(BAND) + len(BIG)

    await eventually(ready)


def _csv(rows: list[tuple]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["city", "state", "measure", "year", "value", "source", "fips"])
    w.writerows(rows)
    return out.getvalue().encode()


def _good_rows() -> list[tuple]:
    rows = []
    for i, (cid, (name, state, fips, _)) in enumerate(BAND.items(), start=1):
        for year in (2019, 2020, 2021):
            # Town 1 has far more obesity (worse) and far more park access (better) than the others
            obesity = 60.0 if cid == "city-1" else 30.0 + i
            parks = 95.0 if cid == "city-1" else 50.0 + i
            rows.append((name, state, "Obesity", year, obesity, "CDC PLACES 2023 release", fips))
            rows.append((name, state, "park_access", year, parks, "illustrative demo value", ""))
    rows.append(("Big City", "IL", "Obesity", 2021, 10.0, "CDC PLACES 2023 release", ""))  # another band
    return rows


async def test_import_dashboard_csv_and_publication(svc) -> None:  # noqa: ANN001
    await _cities(svc)
    pm, health = svc.staff(), "/health-data"
    catalogue = (await svc.http.get(f"{health}/measures", headers=svc.official("off-1", "city-1"))).json()
    assert len(catalogue["measures"]) == 36 and all(m["shown"] for m in catalogue["measures"])
    assert len(await svc.outbox("health_measure_defined")) == 36  # defined once, at start

    bad = [("Town 1", "OH", "Obesity", 2022, "", "CDC", ""),              # no value
           ("Town 1", "OH", "Obesity", 2023, 40, "", ""),                 # no source
           ("Nowhere", "OH", "Obesity", 2021, 40, "CDC", ""),             # unknown city
           ("Town 2", "OH", "Obesity", 2021, 140, "CDC", "")]            # a percentage over 100
    body = _csv(_good_rows() + bad)
    r = await svc.http.post(f"{health}/imports", files={"file": ("health.csv", body, "text/csv")}, headers=pm)
    assert r.status_code == 200, r.text
    report = r.json()
    good = len(_good_rows())
    assert (report["rows"], report["created"], report["updated"], report["failed"]) == (good + 4, good, 0, 4)
    assert [(e["line"], e["field"]) for e in report["errors"]] == [
        (good + 2, "value"), (good + 3, "source"), (good + 4, "city"), (good + 5, "value")]
    (loaded,) = await svc.outbox("health_indicators_loaded")  # one event for the whole import
    assert (loaded["created"], loaded["failed"], loaded["cities"], loaded["illustrative"]) == (good, 4, 9, 24)

    again = (await svc.http.post(f"{health}/imports", files={"file": ("health.csv", body, "text/csv")},
                                 headers=pm)).json()
    assert (again["created"], again["updated"], again["unchanged"], again["import_id"]) == (0, 0, good, None)
    assert len(await svc.outbox("health_indicators_loaded")) == 1  # a re-import changes nothing
    assert await svc.db.health_values.count_documents({}) == good

    refused = await svc.http.post(f"{health}/imports", headers=pm, files={
        "file": ("x.csv", b"city,state,measure,year,value,source,SOURCE\n", "text/csv")})
    assert refused.status_code == 422 and refused.json()["field"] == "file"
    assert (await svc.http.post(f"{health}/imports", files={"file": ("h.csv", body, "text/csv")},
                                headers=svc.official("off-1", "city-1"))).status_code == 403

    # the group chooses two measures; the dashboard shows them, Town 1 compared with its 7 band peers
    sel = await svc.http.put(f"{health}/selection", json={"measure_ids": ["obesity", "park_access"]}, headers=pm)
    assert sel.status_code == 200, sel.text
    board = (await svc.http.get(f"{health}/cities/city-1/dashboard", headers=pm)).json()
    assert board["peers"]["cities"] == 7 and board["illustrative"] is True
    rows = {r["measure"]["id"]: r for d in board["domains"] for r in d["rows"]}
    assert set(rows) == {"obesity", "park_access"}
    ob, parks = rows["obesity"], rows["park_access"]
    assert ob["value"]["year"] == 2021 and [v["year"] for v in ob["trend"]] == [2019, 2020, 2021]
    assert ob["peers"]["count"] == 7 and ob["peers"]["median"] == 35.0  # Town 2..8: 32..38
    assert ob["flag"]["kind"] == "worse" and parks["flag"]["kind"] == "better"
    assert parks["value"]["illustrative"] and not ob["value"]["illustrative"]

    text = (await svc.http.get(f"{health}/cities/city-1/dashboard.csv", headers=pm)).text
    lines = list(csv.DictReader(io.StringIO(text)))
    assert len(lines) == 6 and lines[-1]["evidence"] == "illustrative demo value, not evidence"
    assert [ln["flag"] != "" for ln in lines if ln["measure"] == "Obesity"] == [False, False, True]

    # officials: their own city, once published
    off = svc.official("off-1", "city-1")
    assert (await svc.http.get(f"{health}/cities/city-1/dashboard", headers=off)).json()["published"] is None
    assert (await svc.http.get(f"{health}/cities/city-1/dashboard.csv", headers=off)).status_code == 404
    assert (await svc.http.get(f"{health}/cities/city-2/dashboard", headers=off)).status_code in (403, 404)
    assert (await svc.http.post(f"{health}/cities/city-big/publish", json={}, headers=pm)).status_code == 200
    nothing = await svc.http.post(f"{health}/cities/city-unknown/publish", json={}, headers=pm)
    assert nothing.status_code in (404, 409)
    pub = await svc.http.post(f"{health}/cities/city-1/publish", json={}, headers=pm)
    assert pub.status_code == 200, pub.text
    published = [e for e in await svc.outbox("health_dashboard_published") if e["city_id"] == "city-1"]
    assert (published[0]["flagged_worse"], published[0]["flagged_better"], published[0]["illustrative"]) == (
        1, 1, True)
    mine = (await svc.http.get(f"{health}/cities/city-1/dashboard", headers=off)).json()
    assert mine["published"] and len(mine["domains"]) == 2
    summary = (await svc.http.get(f"{health}/cities/city-1/summary", headers=off)).json()
    assert summary["worse_measures"] == ["Obesity"] and summary["better"] == 1


async def test_the_peer_health_group_chooses_and_is_a_peer_set(svc) -> None:  # noqa: ANN001
    await _cities(svc)
    pm = svc.staff()
    g = (await svc.http.post("/groups", json={"name": "Peer Health Group", "topics": ["health"]}, headers=pm)).json()
    for cid in ("city-1", "city-2", "city-big"):
        r = await svc.http.post(f"/groups/{g['id']}/members", json={"member_kind": "city", "member_id": cid},
                                headers=pm)
        assert r.status_code == 200, r.text
    member, outsider = svc.official("off-1", "city-1"), svc.official("off-3", "city-3")
    early = await svc.http.put("/health-data/selection", json={"measure_ids": ["obesity"]}, headers=member)
    assert early.status_code == 409  # no group named yet
    assert (await svc.http.put("/health-data/group", json={"group_id": g["id"]}, headers=pm)).status_code == 200
    assert (await svc.http.put("/health-data/selection", json={"measure_ids": ["obesity"]},
                               headers=outsider)).status_code == 403
    unknown = await svc.http.put("/health-data/selection", json={"measure_ids": ["not_one"]}, headers=member)
    assert unknown.status_code == 422 and unknown.json()["field"] == "measure_ids"
    ok = await svc.http.put("/health-data/selection", json={"measure_ids": ["obesity", "smoking"],
                                                            "note": "Agreed at the May call."}, headers=member)
    assert ok.status_code == 200, ok.text
    cat = (await svc.http.get("/health-data/measures", headers=outsider)).json()
    assert sorted(m["id"] for m in cat["measures"] if m["shown"]) == ["obesity", "smoking"]
    assert cat["group"]["name"] == "Peer Health Group" and cat["selection"]["chosen_by_city"]
    board = (await svc.http.get("/health-data/cities/city-1/dashboard?peers=peer_health_group", headers=pm)).json()
    assert board["peers"]["cities"] == 2  # Town 2 and Big City, never the city itself
    assert "Peer Health Group" in board["peers"]["label"]
    # a malformed measure id is a 422 naming the field, not a 500
    bad = await svc.http.put("/health-data/measures/Not-An-Id", json={}, headers=pm)
    assert bad.status_code == 422
    mine = {"domain": "social_economic", "name": "Vacant housing", "definition": "Housing units standing vacant.",
            "unit": "percent of housing units", "direction": "lower_is_better", "source": "ACS 5-year"}
    assert (await svc.http.put("/health-data/measures/vacant_housing", json=mine, headers=member)).status_code == 403
    defined = await svc.http.put("/health-data/measures/vacant_housing", json=mine, headers=pm)
    assert defined.status_code == 200 and defined.json()["direction_label"] == "Lower is better"
    events = [e for e in await svc.outbox("health_measure_defined") if e["measure_id"] == "vacant_housing"]
    assert len(events) == 1 and events[0]["by"] == "pm-1"
    inverted = await svc.http.put("/health-data/measures/vacant_housing", json=mine | {"lo": 5, "hi": 1}, headers=pm)
    assert inverted.status_code == 422 and inverted.json()["field"] == "hi"
