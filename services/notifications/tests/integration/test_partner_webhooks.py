"""A partner's webhook endpoint disabled (partners' WebhookEndpointDisabled): its organization's
administrators are told, by e-mail and on the site; nobody else is, not even another partner's."""

from __future__ import annotations

from datetime import UTC, datetime

from nrn_contracts.events import accounts as acc
from nrn_contracts.events import partners as ptn

from .conftest import running_service  # noqa: F401  (pytest's importlib mode resolves the package)


async def test_the_partners_administrators_are_told_and_no_one_else(svc, first) -> None:  # noqa: ANN001
    at = datetime.now(UTC)
    people = []
    for account_id, partner_id, email, admin in [("pa-1", "ptn_hud", "ada@hud.example", True),
                                                 ("pm-x", "ptn_hud", "mo@hud.example", False),
                                                 ("pa-2", "ptn_epa", "eve@epa.example", True)]:
        people.append(acc.AccountRegistered(account_id=account_id, kind="partner_member", email=email, name="Ada",
                                            partner_id=partner_id, status="verified"))
        if admin:
            people.append(acc.RoleGranted(account_id=account_id, role="partner_administrator", by="adm-1", at=at))
    await svc.publish(*people)
    await svc.eventually(lambda: svc.db.people.find_one({"_id": "pa-2", "roles": "partner_administrator"}))
    await svc.publish(ptn.WebhookEndpointDisabled(
        endpoint_id="ep_1", partner_id="ptn_hud", url="https://hooks.hud.example/nrn", description="Grants desk",
        reason="retries_exhausted", last_status=500, last_error="answered 500", attempts=10, at=at))
    message = await svc.eventually(lambda: first(svc, "ada@hud.example", "Webhook deliveries stopped"))
    text = message.message.get_body(("plain",)).get_content()
    assert "https://hooks.hud.example/nrn" in text and "replay" in text and "/partner/webhooks/ep_1" in text
    notices = await svc.notices("pa-1", "partner_member")
    assert [n["title"] for n in notices["items"]][0].startswith("Deliveries to your endpoint")
    assert svc.smtp.to("mo@hud.example") == [] and svc.smtp.to("eve@epa.example") == []
