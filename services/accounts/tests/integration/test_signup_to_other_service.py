"""Sign-up → verification → token → another service accepts the token and learns of the account by events.

Runs on the real broker and database. The "other service" is a small service built with the kit
exactly as requests311 or library are: it verifies tokens locally from the accounts JWKS and keeps
its own read model of accounts and cities from the accounts topic.
"""


from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, Request

from nrn_contracts.events.accounts import (
    AccountRegistered,
    AccountVerified,
    CityEligibilityDetermined,
    CityRegistered,
)
from nrn_kit.app import ServiceSpec
from nrn_kit.app import create_app as create_kit_app
from nrn_kit.auth import Principal, authorize, principal_dependency
from nrn_kit.consumer import EventConsumer
from nrn_kit.serving import serve_app
from nrn_kit.settings import ServiceSettings


def probe_service(settings: ServiceSettings):  # noqa: ANN201
    consumer = EventConsumer("read-models")

    @consumer.handles(AccountRegistered, AccountVerified)
    async def keep_account(event, tx) -> None:  # noqa: ANN001
        update = (
            {"email": event.email, "kind": event.kind, "city_id": event.city_id, "status": event.status}
            if isinstance(event, AccountRegistered)
            else {"status": "verified", "verified_by": event.by}
        )
        # Registered and verified may be applied in one batch in either order of upserts: never
        # let the registration's "pending" overwrite a verification already applied.
        if isinstance(event, AccountRegistered):
            await tx.db.accounts.update_one(
                {"_id": event.account_id}, {"$setOnInsert": update}, upsert=True, session=tx.session
            )
        else:
            await tx.db.accounts.update_one({"_id": event.account_id}, {"$set": update}, upsert=True, session=tx.session)

    @consumer.handles(CityRegistered, CityEligibilityDetermined)
    async def keep_city(event, tx) -> None:  # noqa: ANN001
        fields = {"name": event.name} if isinstance(event, CityRegistered) else {"eligible": event.eligible}
        await tx.db.cities.update_one({"_id": event.city_id}, {"$set": fields}, upsert=True, session=tx.session)

    router = APIRouter()
    current = principal_dependency(lambda request: request.app.state.runtime.verifier)

    @router.post("/cities/{city_id}/requests")
    async def submit(city_id: str, request: Request, principal: Annotated[Principal, Depends(current)]) -> dict:
        authorize(principal, "request.submit", city_id=city_id)
        return {"accepted_for": city_id, "by": principal.account_id}

    return create_kit_app(
        ServiceSpec(settings=settings, title="probe", routers=[router], consumers=[consumer], publishes=[])
    )


async def test_signup_verification_token_and_another_service(accounts, make_settings) -> None:  # noqa: ANN001
    admin = await accounts.admin()
    report = (await accounts.import_csv(accounts.CITIES_CSV, admin)).json()
    assert (report["created"], report["failed"]) == (3, 0), report

    probe_settings = make_settings(
        ServiceSettings,
        service_name="probe",
        accounts_jwks_url=f"{accounts.base_url}/.well-known/jwks.json",
    )
    probe_app = probe_service(probe_settings)
    async with serve_app(probe_app) as probe_url, httpx.AsyncClient(base_url=probe_url, timeout=30) as probe:
        # an ineligible city is refused with the reasons
        signup = {
            "name": "Jane Doe",
            "title": "Director of Planning",
            "email": "jane.doe@gmail.com",
            "phone": "+1 810 555 0100",
            "password": "a long enough password",
        }
        refused = await accounts.http.post("/accounts/officials", json={**signup, "city_id": "il-naperville"})
        assert refused.status_code == 422
        assert refused.json()["field"] == "city_id"
        assert [r["passed"] for r in refused.json()["eligibility"]["reasons"]] == [False, False, False]

        created = await accounts.http.post("/accounts/officials", json={**signup, "city_id": "mi-flint"})
        assert created.status_code == 201, created.text
        official = created.json()
        assert official["status"] == "pending" and "password_hash" not in official

        duplicate = await accounts.http.post("/accounts/officials", json={**signup, "city_id": "oh-youngstown"})
        assert duplicate.status_code == 409
        assert duplicate.json()["field"] == "email" and "already exists" in duplicate.json()["detail"]

        # a pending official signs in but cannot act for the city
        pending_token = await accounts.token("jane.doe@gmail.com", "a long enough password")
        bearer = {"Authorization": f"Bearer {pending_token}"}
        r = await probe.post("/cities/mi-flint/requests", headers=bearer)
        assert r.status_code == 403 and "not verified" in r.json()["detail"]

        verified = await accounts.http.post(f"/accounts/{official['account_id']}/verify", headers=admin)
        assert verified.status_code == 200, verified.text
        admin_id = (await accounts.http.get("/me", headers=admin)).json()["account_id"]
        assert verified.json()["decisions"][-1]["action"] == "verified"
        assert verified.json()["decisions"][-1]["by"] == admin_id

        token = await accounts.token("jane.doe@gmail.com", "a long enough password")
        bearer = {"Authorization": f"Bearer {token}"}
        for _ in range(5):
            ok = await probe.post("/cities/mi-flint/requests", headers=bearer)
            assert ok.status_code == 200, ok.text
            assert ok.json() == {"accepted_for": "mi-flint", "by": official["account_id"]}
        other = await probe.post("/cities/oh-youngstown/requests", headers=bearer)
        assert other.status_code == 403 and "own city" in other.json()["detail"]
        missing = await probe.post("/cities/mi-flint/requests")
        assert missing.status_code == 401
        # tokens are verified locally: the JWKS was fetched once, not per request
        assert probe_app.state.runtime.verifier.fetch_count == 1

        # the other service learned of the account and the cities through events
        probe_db = probe_app.state.runtime.db

        async def account_known() -> bool:
            doc = await probe_db.accounts.find_one({"_id": official["account_id"]})
            return doc is not None and doc.get("status") == "verified" and doc.get("email") == "jane.doe@gmail.com"

        async def cities_known() -> bool:
            docs = {d["_id"]: d async for d in probe_db.cities.find()}
            return (
                docs.get("mi-flint", {}).get("eligible") is True
                and docs.get("il-naperville", {}).get("eligible") is False
            )

        async def admin_known() -> bool:
            # the administrator's events are keyed by its own id, so they may ride another partition
            # and arrive after the official's: wait for them rather than assume an order
            doc = await probe_db.accounts.find_one({"email": accounts.ADMIN_EMAIL})
            return doc is not None and doc["kind"] == "staff"

        await accounts.eventually(account_known)
        await accounts.eventually(cities_known)
        await accounts.eventually(admin_known)
