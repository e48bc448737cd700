"""Cities' time zones and sections, and exception requests from the queue to the decision, on the real database."""

from __future__ import annotations

from nrn_contracts import decode

CSV = (
    "name,state,population,population_source,latitude,longitude,time_zone,"
    "unemployment_rate,unemployment_year,unemployment_source,adult_poverty_rate,adult_poverty_year,adult_poverty_source,"
    "population_change_2000_2010,population_change_source\n"
    # the zone found from coordinates (timezonefinder) when the file names none
    "Flint,MI,102434,Census 2010,43.01253,-83.68746,,10.2,2013,BLS LAUS,41.2,2012,ACS,-18.1,Census\n"
    "Gary,IN,80294,Census 2010,41.59337,-87.34643,,12.1,2013,BLS LAUS,35.0,2012,ACS,-21.9,Census\n"
    "San Diego,CA,1307402,Census 2010,32.71571,-117.16472,America/Los_Angeles,5.1,2013,BLS LAUS,4.1,2012,ACS,5.8,Census\n"
    "Naperville,IL,141853,Census 2010,,,,5.1,2013,BLS LAUS,4.1,2012,ACS,5.8,Census\n"
)


async def _events(accounts, kind: str) -> list:  # noqa: ANN001
    docs = await accounts.runtime.db.outbox.find().sort("seq", 1).to_list(None)
    return [e for e in (decode(bytes(d["value"]))[0] for d in docs) if e.type.split(".")[-2] == kind]


async def test_zones_from_coordinates_and_sections_find_their_city(accounts) -> None:  # noqa: ANN001
    admin = await accounts.admin()
    report = (await accounts.import_csv(CSV, admin)).json()
    assert report["created"] == 4, report
    zones = {e.data["city_id"]: e.data.get("time_zone") for e in await _events(accounts, "city_registered")}
    assert zones == {"mi-flint": "America/Detroit", "in-gary": "America/Chicago",
                     "ca-san-diego": "America/Los_Angeles", "il-naperville": None}
    assert (await accounts.http.get("/cities/mi-flint")).json()["time_zone"] == "America/Detroit"

    # a zone that is not one is refused with the field named, the other rows go on
    bad = (await accounts.import_csv("name,state,population,population_source,time_zone\nLansing,MI,1,Census,Mars/Base\n",
                                     admin)).json()
    assert bad["failed"] == 1 and bad["rows"][0]["errors"][0]["field"] == "time_zone"

    # La Jolla is a section of San Diego: searching it finds San Diego, said so
    found = (await accounts.http.get("/cities", params={"q": "la jol"})).json()["items"]
    assert [(c["city_id"], c.get("matched_section")) for c in found] == [("ca-san-diego", "La Jolla")]

    # coordinates given later (a corrected file) publish the city's card again with its zone
    await accounts.import_csv("name,state,latitude,longitude\nNaperville,IL,41.78586,-88.14729\n", admin)
    zones = [e.data.get("time_zone") for e in await _events(accounts, "city_registered") if e.data["city_id"] == "il-naperville"]
    assert zones == [None, "America/Chicago"]


async def test_exception_request_reaches_the_queue_and_is_answered(accounts) -> None:  # noqa: ANN001
    admin = await accounts.admin()
    await accounts.import_csv(CSV, admin)
    body = {"name": "Sam Planner", "email": "sam@sandiego.example", "title": "Planning director",
            "reason": "Our southern neighborhoods lost 9% of their jobs in 2024.", "lead_city_id": "in-gary"}
    first = await accounts.http.post("/cities/ca-san-diego/exception-requests", json=body)
    assert first.status_code == 201, first.text
    assert "email" not in first.json() and first.json()["lead_city_name"] == "Gary"
    again = await accounts.http.post("/cities/ca-san-diego/exception-requests", json=body)
    assert again.json()["exception_request_id"] == first.json()["exception_request_id"], "asking twice is one request"

    # refusals say why, naming the field
    eligible = await accounts.http.post("/cities/mi-flint/exception-requests", json={**body, "lead_city_id": None})
    assert eligible.status_code == 422 and eligible.json()["field"] == "city_id"
    bad_lead = await accounts.http.post("/cities/ca-san-diego/exception-requests",
                                        json={**body, "email": "x@y.example", "lead_city_id": "il-naperville"})
    assert bad_lead.status_code == 422 and bad_lead.json()["field"] == "lead_city_id"
    assert (await accounts.http.get("/exception-requests")).status_code == 401

    queue = (await accounts.http.get("/exception-requests", headers=admin)).json()
    assert [(r["city_name"], r["name"], r["status"]) for r in queue["items"]] == [("San Diego", "Sam Planner", "open")]
    requested = await _events(accounts, "eligibility_exception_requested")
    assert len(requested) == 1 and requested[0].data["lead_city_id"] == "in-gary"

    # granting the city's exception answers the open request
    granted = await accounts.http.post("/cities/ca-san-diego/exception", json={"reason": "Regional plan with Gary"},
                                       headers=admin)
    assert granted.status_code == 200, granted.text
    assert (await accounts.http.get("/exception-requests", headers=admin)).json()["total"] == 0
    answered = (await accounts.http.get("/exception-requests", params={"status": "granted"}, headers=admin)).json()
    assert answered["items"][0]["decision_reason"] == "Regional plan with Gary"

    # declining one: with a reason, once
    await accounts.http.post("/cities/ca-san-diego/exception/revoke", json={"reason": "plan ended"}, headers=admin)
    other = (await accounts.http.post("/cities/ca-san-diego/exception-requests",
                                      json={**body, "email": "kim@sandiego.example", "lead_city_id": None})).json()
    rid = other["exception_request_id"]
    no_reason = await accounts.http.post(f"/exception-requests/{rid}/decline", json={"reason": " "}, headers=admin)
    assert no_reason.status_code == 422
    declined = await accounts.http.post(f"/exception-requests/{rid}/decline", json={"reason": "Figures too strong"},
                                        headers=admin)
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    twice = await accounts.http.post(f"/exception-requests/{rid}/decline", json={"reason": "again"}, headers=admin)
    assert twice.status_code == 409
    assert len(await _events(accounts, "eligibility_exception_request_declined")) == 1


async def test_an_official_of_a_section_signs_up_for_its_city(accounts) -> None:  # noqa: ANN001
    admin = await accounts.admin()
    await accounts.import_csv(CSV.replace("5.1,2013,BLS LAUS,4.1,2012,ACS,5.8,Census\n", "9.5,2013,BLS LAUS,4.1,2012,ACS,5.8,Census\n", 1),
                              admin)
    response = await accounts.http.post("/accounts/officials", json={
        "name": "Lee Jolla", "title": "Council aide", "email": "lee@lajolla.example", "city_id": "ca-la-jolla",
        "password": "a long passphrase for lee"})
    assert response.status_code == 201, response.text
    assert response.json()["city_id"] == "ca-san-diego"
