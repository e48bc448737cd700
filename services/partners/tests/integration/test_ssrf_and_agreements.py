"""SSRF refusals for every address class at delivery time (a resolver the test controls stands in for DNS;
no refused address is ever connected to), and what an agreement lets through, field by field."""

from __future__ import annotations

import pytest
from nrn_contracts.events import accounts as acc
from nrn_contracts.events import requests311 as r311
from nrn_contracts.testing import example
from standardwebhooks.webhooks import Webhook

from nrn_kit.testing import eventually
from partners.adapters import mongo as repo
from partners.domain.endpoints import webhook_id

REFUSED = {
    "10.1.2.3": "a private address", "172.16.0.9": "a private address", "192.168.1.1": "a private address",
    "169.254.169.254": "a cloud metadata address", "169.254.10.10": "a link-local address",
    "224.0.0.1": "a multicast address", "0.0.0.0": "an unspecified address", "100.64.0.1": "not a public address",
    "fd00:ec2::254": "a cloud metadata address", "fc00::1": "a private address", "fe80::1": "a link-local address",
    "ff02::1": "a multicast address", "::": "an unspecified address", "::1": "a loopback address",
    "::ffff:10.0.0.1": "a private address (inside the IPv6 address)",
    "::ffff:127.0.0.1": "a loopback address (inside the IPv6 address)",
    "::ffff:169.254.169.254": "a cloud metadata address (inside the IPv6 address)",
    "127.0.0.1": "a loopback address",
}


class Dns:
    """Host names → addresses, changed by the test between deliveries (DNS rebinding)."""

    def __init__(self) -> None:
        self.names: dict[str, list[str]] = {}
        self.asked = 0

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked += 1
        return self.names.get(host, ["127.0.0.1"])


@pytest.fixture
async def guarded(service_factory):  # noqa: ANN001
    dns = Dns()
    # loopback is refused here like in production, except for the receiver reached by its own name
    async with service_factory(resolver=dns, allow_loopback_endpoints=True) as service:
        service.dns = dns
        yield service


async def test_every_refused_address_class_at_delivery_time(guarded) -> None:  # noqa: ANN001
    svc = guarded
    svc.dispatcher.backend._allow_loopback = False  # production's rule for this test's deliveries
    port = svc.rx.base_url.rsplit(":", 1)[1]
    endpoint = await svc.endpoint(url=f"http://partner.example:{port}/hook",
                                  event_types=["org.nationalresourcenetwork.requests311.*"])
    connections = svc.dispatcher.backend.connections
    for index, (address, why) in enumerate(REFUSED.items()):
        svc.dns.names["partner.example"] = [address]
        [event_id] = await svc.publish(example(r311.QuestionSubmitted, request_id=f"r-ssrf-{index}"))
        wid = webhook_id(endpoint["id"], event_id)

        async def attempted():  # noqa: ANN202
            doc = await svc.db[repo.DELIVERIES].find_one({"_id": wid})
            return doc if doc and doc.get("attempts") else None
        doc = await eventually(attempted)
        assert doc["last_status"] is None
        assert doc["last_error"] == f"refused: partner.example resolves to {address}, {why}", doc["last_error"]
    assert svc.dispatcher.backend.connections == connections  # nothing was connected to
    assert svc.rx.at("/hook") == []


async def test_the_address_checked_is_the_one_connected_to_and_a_mixed_answer_is_refused(guarded) -> None:  # noqa: ANN001
    svc = guarded
    port = svc.rx.base_url.rsplit(":", 1)[1]
    endpoint = await svc.endpoint(url=f"http://partner.example:{port}/hook",
                                  event_types=["org.nationalresourcenetwork.requests311.*"])
    svc.dns.names["partner.example"] = ["127.0.0.1"]  # allowed in this test: the receiver
    await svc.publish(example(r311.QuestionSubmitted, request_id="r-ok"))
    await eventually(lambda: _some(svc.rx.at("/hook")))
    assert svc.rx.at("/hook")[0].headers["host"] == f"partner.example:{port}"
    # one name answering a public and an inside address is refused whole
    svc.dns.names["partner.example"] = ["127.0.0.1", "10.0.0.7"]
    [event_id] = await svc.publish(example(r311.QuestionSubmitted, request_id="r-mixed"))
    wid = webhook_id(endpoint["id"], event_id)
    await eventually(lambda: _attempted(svc, wid))
    doc = await svc.db[repo.DELIVERIES].find_one({"_id": wid})
    assert "10.0.0.7, a private address" in doc["last_error"]


@pytest.mark.parametrize("url", ["http://10.0.0.1/hook", "https://169.254.169.254/latest", "https://[::1]/x",
                                 "https://[::ffff:192.168.0.1]/x", "https://user:pw@partner.example/x",
                                 "ftp://partner.example/x", "https://partner.example/x#frag", "not a url"])
async def test_registration_refuses_bad_urls_naming_the_field(service_factory, url: str) -> None:  # noqa: ANN001
    async with service_factory(allow_loopback_endpoints=False) as svc:
        r = await svc.http.post("/partners/ptn_hud/endpoints", json={"url": url, "event_types": ["*"]},
                                headers=svc.admin())
        assert r.status_code == 422 and r.json()["field"] == "url", r.text


async def test_the_agreement_decides_types_fields_and_personal_data(svc) -> None:  # noqa: ANN001
    endpoint = await svc.endpoint(event_types=["*"])
    # NRN's administrator narrows the agreement: 311 questions only, three of their fields
    body = {"event_types": ["org.nationalresourcenetwork.requests311.question_submitted.v1",
                            "org.nationalresourcenetwork.accounts.account_registered.v1"],
            "fields": {r311.QuestionSubmitted.type: ["request_id", "state", "topic", "official_id"]},
            "personal_data": False, "filters": ["state"]}
    r = await svc.http.put("/partners/ptn_hud/agreement", json=body, headers=svc.staff("administrator"))
    assert r.status_code == 200, r.text
    # a partner's own administrator may not change it
    r = await svc.http.put("/partners/ptn_hud/agreement", json=body, headers=svc.admin())
    assert r.status_code == 403
    await svc.publish(example(r311.QuestionSubmitted, request_id="r-fields", state="MI"),
                      example(r311.ExpertAssigned, request_id="r-fields"),
                      example(acc.AccountRegistered, account_id="acc-off", kind="official"))
    await eventually(lambda: _some(svc.rx.at("/hook"), 2))
    bodies = {b["type"]: b for b in (Webhook(endpoint["secret"]).verify(x.body, x.headers) for x in svc.rx.at("/hook"))}
    assert set(bodies) == {r311.QuestionSubmitted.type, acc.AccountRegistered.type}  # not ExpertAssigned
    assert bodies[r311.QuestionSubmitted.type]["data"] == {"request_id": "r-fields", "state": "MI",
                                                           "topic": bodies[r311.QuestionSubmitted.type]["data"]["topic"]}
    person = bodies[acc.AccountRegistered.type]
    assert set(person["data"]) == {"kind", "city_id", "partner_id", "status"} and "subject" not in person
    # with personal data allowed, the listed personal field goes too (and only what is listed)
    body["personal_data"] = True
    body["version"] = 1
    r = await svc.http.put("/partners/ptn_hud/agreement", json=body, headers=svc.staff("administrator"))
    assert r.status_code == 200, r.text
    await svc.publish(example(r311.QuestionSubmitted, request_id="r-fields2", official_id="acc-9"))
    await eventually(lambda: _some(svc.rx.at("/hook"), 3))
    last = Webhook(endpoint["secret"]).verify(svc.rx.at("/hook")[-1].body, svc.rx.at("/hook")[-1].headers)
    assert last["data"]["official_id"] == "acc-9" and "question" not in last["data"]


async def test_partners_stay_inside_their_own_organization(svc) -> None:  # noqa: ANN001
    endpoint = await svc.endpoint()
    await svc.partner("ptn_epa", "Environmental Protection Agency")
    other = svc.admin("ptn_epa")
    for method, path in [("GET", "/partners/ptn_hud"), ("GET", f"/partners/ptn_hud/endpoints/{endpoint['id']}"),
                         ("POST", f"/partners/ptn_hud/endpoints/{endpoint['id']}/test"),
                         ("DELETE", f"/partners/ptn_hud/endpoints/{endpoint['id']}")]:
        r = await svc.http.request(method, path, headers=other)
        assert r.status_code == 403, (method, path, r.text)
    r = await svc.http.get(f"/partners/ptn_epa/endpoints/{endpoint['id']}", headers=other)
    assert r.status_code == 404
    member = {"Authorization": "Bearer " + svc.issuer.token("acc-m", "partner_member", partner_id="ptn_hud")}
    assert (await svc.http.get("/partners/ptn_hud/endpoints", headers=member)).status_code == 403
    r = await svc.http.post("/partners/ptn_hud/endpoints", headers=svc.admin(),
                            json={"url": svc.rx.url("/x"), "event_types": ["org.nationalresourcenetwork.nothing.*"]})
    assert r.status_code == 422 and r.json()["field"] == "event_types.0"
    r = await svc.http.post("/partners/ptn_hud/endpoints", headers=svc.admin(),
                            json={"url": svc.rx.url("/x"), "event_types": ["*"], "states": ["ZZ"]})
    assert r.status_code == 422 and r.json()["field"] == "filters.states.0"


async def _some(items, n: int = 1):  # noqa: ANN001, ANN202
    return len(items) >= n


async def _attempted(svc, wid: str):  # noqa: ANN001, ANN202
    doc = await svc.db[repo.DELIVERIES].find_one({"_id": wid})
    return doc and doc.get("attempts")
