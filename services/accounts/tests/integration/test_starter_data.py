"""The shipped starter data loads at start, marks illustrative figures, and a restart changes nothing."""


async def test_demo_starter_cities_load_once(accounts_settings, start_accounts) -> None:  # noqa: ANN001
    settings = accounts_settings(starter_cities="demo")
    async with start_accounts(settings) as accounts:
        everything = (await accounts.http.get("/cities", params={"limit": 1})).json()
        assert everything["total"] > 1000
        detroit = (await accounts.http.get("/cities/mi-detroit")).json()
        assert detroit["population"] > 500_000 and detroit["population_source"].startswith("GeoNames")
        assert detroit["indicators"]["unemployment_rate"]["illustrative"] is True
        assert "not evidence" in detroit["eligibility"]["reasons"][0]["explanation"]
        eligible = (await accounts.http.get("/cities", params={"eligible": "true", "limit": 1})).json()["total"]
        assert 0 < eligible < everything["total"]
        outbox = await accounts.runtime.db.outbox.count_documents({})
    async with start_accounts(settings) as again:
        assert await again.runtime.db.outbox.count_documents({}) == outbox, "a restart re-imports nothing"
