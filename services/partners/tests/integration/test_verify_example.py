"""The partners' verification example (examples/webhooks/verify_webhook.py) against real deliveries:
it accepts what partners sends, handles a retried webhook-id once, and refuses a forged signature."""

from __future__ import annotations

import importlib.util
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import httpx
from nrn_contracts.events import requests311 as r311
from nrn_contracts.testing import example

from nrn_kit.testing import eventually
from partners.adapters import mongo as repo

EXAMPLE = Path(__file__).resolve().parents[4] / "examples" / "webhooks" / "verify_webhook.py"


async def test_the_example_verifies_real_deliveries(svc) -> None:  # noqa: ANN001
    spec = importlib.util.spec_from_file_location("verify_webhook", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    handled: list[dict] = []
    module.handle = handled.append
    endpoint = await svc.endpoint(url="http://127.0.0.1:1/x", event_types=["org.nationalresourcenetwork.requests311.*"])
    server = ThreadingHTTPServer(("127.0.0.1", 0), module.make_handler(endpoint["secret"]))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/nrn"
        r = await svc.http.patch(f"/partners/ptn_hud/endpoints/{endpoint['id']}", json={"url": url},
                                 headers=svc.admin())
        assert r.status_code == 200, r.text
        [event_id] = await svc.publish(example(r311.QuestionSubmitted, request_id="r-ex"))
        await svc.settled(endpoint["id"], 1)
        assert [e["id"] for e in handled] == [event_id]
        # a replay (same webhook-id) is acknowledged and not handled twice
        wid = (await svc.db[repo.DELIVERIES].find_one({"endpoint_id": endpoint["id"]}))["_id"]
        await svc.http.post(f"/partners/ptn_hud/deliveries/{wid}/replay", headers=svc.admin())

        async def replayed():  # noqa: ANN202
            doc = await svc.db[repo.DELIVERIES].find_one({"_id": wid})
            return doc["state"] == "succeeded" and doc["replays"] == 1
        await eventually(replayed)
        assert len(handled) == 1
        # a forged delivery is refused
        async with httpx.AsyncClient() as http:
            forged = await http.post(url, content=b'{"type":"x"}', headers={
                "webhook-id": "msg_x", "webhook-timestamp": "1", "webhook-signature": "v1,AAAA"})
        assert forged.status_code == 401 and len(handled) == 1
    finally:
        server.shutdown()
