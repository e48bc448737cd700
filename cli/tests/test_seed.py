"""`nrn up --seed`: the demo data goes in through the public API, and a second run adds nothing."""

from __future__ import annotations

import asyncio
import stat
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from nrn_cli import seed_content as content
from nrn_kit.testing import eventually
from nrn_cli.main import _seed_admin
from nrn_cli.seed import SeedError, demo_password, development_admin, seed

ADMIN_EMAIL = "admin@nrn.example"
ADMIN_PASSWORD = "seed-test-admin-password-1"


# --- without infrastructure -----------------------------------------------------------------------------


def test_development_admin_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    email, password, created = development_admin(tmp_path)
    assert (email, created) == ("admin@nrn.example", True) and len(password) >= 20
    assert development_admin(tmp_path) == (email, password, False)  # the same data dir signs in again
    assert stat.S_IMODE((tmp_path / "seed-admin.json").stat().st_mode) == 0o600
    assert development_admin(tmp_path / "other")[1] != password


def test_a_data_dir_seeded_with_the_former_default_admin_keeps_its_password(tmp_path: Path) -> None:
    import json

    (tmp_path / "seed-admin.json").write_text(json.dumps({"email": "admin@nrn.localhost", "password": "kept-secret-1"}))
    assert development_admin(tmp_path) == ("admin@nrn.example", "kept-secret-1", True)
    assert development_admin(tmp_path) == ("admin@nrn.example", "kept-secret-1", False)


def test_demo_passwords_are_reproducible_and_keyed_by_the_admin_password() -> None:
    one = demo_password("admin secret one", "morgan.ellis@demo.nrn.example")
    assert one == demo_password("admin secret one", "Morgan.Ellis@demo.nrn.example")
    assert one != demo_password("admin secret two", "morgan.ellis@demo.nrn.example")
    assert one != demo_password("admin secret one", "jordan.reyes@demo.nrn.example")
    assert len(one) >= 12


def test_seed_admin_uses_the_environment_or_a_development_default(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.delenv("NRN_BOOTSTRAP_ADMIN_EMAIL", raising=False)
    monkeypatch.delenv("NRN_BOOTSTRAP_ADMIN_PASSWORD", raising=False)
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    email, password, show = _seed_admin(tmp_path)
    assert email == "admin@nrn.example" and show is True and password
    monkeypatch.setenv("NRN_BOOTSTRAP_ADMIN_EMAIL", "ops@example.org")
    monkeypatch.setenv("NRN_BOOTSTRAP_ADMIN_PASSWORD", "their own passphrase")
    assert _seed_admin(tmp_path) == ("ops@example.org", "their own passphrase", False)  # never printed
    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(SystemExit, match="production"):
        _seed_admin(tmp_path)


def test_an_unreachable_gateway_is_a_clear_error() -> None:
    with pytest.raises(SeedError) as caught:
        seed({"gateway": "http://127.0.0.1:9"}, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD, wait_timeout=1)
    assert "wait for eligible cities" in str(caught.value) and "could not reach the gateway" in str(caught.value)


# --- the whole platform -----------------------------------------------------------------------------------


@pytest.fixture
def smtp():  # noqa: ANN201
    """A real SMTP server on loopback: what the demo e-mailed."""
    testing = pytest.importorskip("notifications.testing", reason="the seed needs the notifications service")
    with testing.smtp_catcher() as catcher:
        yield catcher


@pytest.fixture
async def platform(nrn_infra, test_id: str, smtp) -> AsyncIterator[dict[str, str]]:  # noqa: ANN001
    pytest.importorskip("library.app", reason="the seed needs the library service")
    from nrn_cli.system import running_system

    common = {"kafka_session_timeout_ms": 1000, "kafka_heartbeat_interval_ms": 200, "relay_poll_seconds": 0.2,
              "consumer_backoff_seconds": 0.01, "topic_partitions": 2}
    overrides: dict[str, dict[str, Any]] = {
        "accounts": {"bootstrap_admin_email": ADMIN_EMAIL, "bootstrap_admin_password": ADMIN_PASSWORD,
                     "argon2_time_cost": 1, "argon2_memory_kib": 8 * 1024, "starter_cities": "demo"},
        "gateway": {"write_rate_capacity": 1000, "upstream_read_timeout": 15.0},
        "requests311": {"sla_sweep_interval_seconds": 0},
        "peer": {"hold_sweep_interval_seconds": 0},
        "notifications": {"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "sender_poll_seconds": 0.1},
        "engagements": {"orphan_sweep_interval_seconds": 0},
    }
    async with running_system(kafka_bootstrap_servers=nrn_infra.kafka_bootstrap_servers,
                              mongodb_uri=nrn_infra.mongodb_uri, prefix=f"s{test_id}", common=common,
                              overrides=overrides) as system:
        yield system.urls


async def snapshot(gateway: str) -> dict[str, Any]:
    """What the seed made, as anyone would see it through the public API."""
    async with httpx.AsyncClient(base_url=f"{gateway}/api/v1", timeout=30) as http:
        token = (await http.post("/auth/token", data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD})).json()
        admin = {"Authorization": f"Bearer {token['access_token']}"}

        async def get(path: str, **params: Any) -> Any:
            response = await http.get(path, params=params, headers=admin)
            assert response.status_code == 200, f"{path}: {response.text}"
            return response.json()

        staff = (await get("/accounts", kind="staff", limit=200))["items"]
        officials = (await get("/accounts", kind="official", limit=200))["items"]
        requests = (await get("/requests", limit=100))["items"]
        views = {r["title"]: await get(f"/requests/{r['id']}") for r in requests}
        demo = await get("/library/search", source=content.DEMO_SOURCE, kind="resource", page_size=50)
        programs = (await get("/clearinghouse/programs", page_size=50))["items"]
        probono = await get("/probono/projects")
        matches = [m for p in probono for m in (await get(f"/probono/projects/{p['id']}"))["matches"]]
        return {
            "probono_projects": sorted((p["title"], p["status"]) for p in probono),
            "probono_matches": sorted((m["project_title"], m["status"], m["hours_logged"], m["hours_approved"])
                                      for m in matches),
            "probono_volunteers": Counter(v["status"] for v in await get("/probono/volunteers")),
            "probono_organizations": sorted(o["name"] for o in await get("/probono/organizations")),
            "eligible": (await get("/cities", eligible="true", limit=1))["total"],
            "staff": sorted((a["email"], tuple(a["roles"]), tuple(a["expertise"])) for a in staff),
            "officials": sorted((a["email"], a["city_id"], a["status"]) for a in officials),
            "requests": sorted((v["title"], v["status"], v["version"]) for v in views.values()),
            "states": Counter(v["status"] for v in views.values()),
            "views": views,
            "queues": await get("/queues"),
            "resources": sorted(h["title"] for h in demo["hits"]),
            "resource_types": {h["type"] for h in demo["hits"]},
            "land_bank": [h["title"] for h in (await get("/library/search", q="land bank"))["hits"]],
            "programs": sorted((p["content"]["agency"], p["content"]["name"], p["version"]) for p in programs),
            "deadlines": [(p["content"]["rolling"], p["next_deadline"]) for p in programs],
            "program_tags": [p["content"]["tags"] for p in programs],
            "convenings": [(c["title"], c["seats_taken"], c["waitlist_length"]) for c in await get("/convenings")],
            "groups": sorted((g["name"], len(g["members"])) for g in await get("/groups")),
            "terms": sorted(m["term_status"] for g in await get("/groups") for m in g["members"] if m["term_ends_on"]),
            "introductions": [(i["status"], len(i["cities"])) for i in await get("/introductions")],
            "applications": sorted([a["status"] for a in (await get("/applications", queue="in_review"))["items"]]
                                   + [a["status"] for a in (await get("/applications", queue="decided"))["items"]]),
            "rounds": [(r["name"], r["capacity"], r["accepted"]) for r in await get("/rounds")],
            "engagements": [(e["status"], e["milestones_done"], e["milestones_total"])
                            for e in (await get("/engagements"))["items"]],
        }


async def test_seed_loads_the_demo_data_once_through_the_api(platform: dict[str, str], smtp) -> None:  # noqa: ANN001
    steps: list[tuple[int, int, str]] = []

    def run(progress=None) -> Any:  # noqa: ANN001
        # seed() is the synchronous entry point `nrn up` calls: off the loop that serves the platform.
        return asyncio.to_thread(seed, platform, progress=progress, admin_email=ADMIN_EMAIL,
                                 admin_password=ADMIN_PASSWORD, wait_timeout=400)

    first = await run(lambda done, total, what: steps.append((done, total, what)))
    assert first.created["staff"] == len(content.STAFF)
    assert first.created["officials"] == len(content.OFFICIALS) and first.created["verifications"] == 2
    assert first.created["questions"] == len(content.QUESTIONS)
    assert first.created["resources"] == len(content.RESOURCES)
    assert first.created["programmes"] == len(content.programs(date.today()))
    assert first.notes == []
    # municipal health data: every eligible city's illustrative values, the group's choice, one dashboard published
    per_city = len(content.HEALTH_MEASURES) * len(content.HEALTH_YEARS)
    assert first.created["health values"] >= 3 * per_city and first.created["health values"] % per_city == 0
    assert first.created["health dashboards published"] == 1 and first.created["peer health group"] == 1
    assert steps[0][0] == 0 and steps[-1][0] == steps[-1][1] and [s[0] for s in steps] == sorted(s[0] for s in steps)
    assert {login.email for login in first.logins} >= {content.demo_email(s["name"]) for s in content.STAFF}
    assert len(first.cities) == 3
    # the demo told people what happened: the first official has notices and e-mails, the tour says where
    assert any("unread notification" in line for line in first.tour) and "/staff/mail/caught" in first.tour[-1]
    official = content.demo_email(content.OFFICIALS[0]["name"])

    async def verified_mail() -> bool:
        return any(str(r.message["Subject"]).startswith("Your account is verified") for r in smtp.to(official))

    await eventually(verified_mail)

    seen = await snapshot(platform["gateway"])
    assert seen["eligible"] >= 3
    assert len(seen["staff"]) == 1 + len(content.STAFF)  # and the bootstrap administrator
    assert Counter(status for _, _, status in seen["officials"]) == {"verified": 2, "pending": 1}
    assert len({city for _, city, _ in seen["officials"]}) == 3
    assert seen["states"] == {"submitted": 1, "awaiting_information": 1, "assigned": 1, "memo_in_review": 1,
                              "memo_delivered": 1, "closed": 1}
    views = seen["views"]
    delivered = next(v for v in views.values() if v["status"] == "memo_delivered")
    assert delivered["memo"]["word_count"] >= 800 and len(delivered["call_slots"]) == 3
    closed = next(v for v in views.values() if v["status"] == "closed")
    assert closed["feedback"][0]["rating"] == 5 and closed["calls"][0]["outcome"] == "completed"
    assert next(v for v in views.values() if v["status"] == "assigned")["expert_id"]
    queues = seen["queues"]
    assert queues["new"] >= 1 and queues["awaiting_information"] >= 1 and queues["in_review"] >= 1
    assert seen["resources"] == sorted(r["title"] for r in content.RESOURCES)
    assert {"guide", "toolkit", "case_study", "report"} <= seen["resource_types"]
    assert "Land bank start-up toolkit: policies, priorities and disposition" in seen["land_bank"]
    assert len(seen["programs"]) == len(content.programs(date.today()))
    assert {"HUD", "EDA", "DOT", "EPA", "USDA", "Treasury", "HHS", "NTIA"} <= {a for a, _, _ in seen["programs"]}
    assert all(rolling or (due and date.fromisoformat(due) > date.today()) for rolling, due in seen["deadlines"])
    assert all("demo entry" in tags for tags in seen["program_tags"])
    # the peer network: one place taken and one on the waitlist, two groups of the two demo cities, one term
    # flagged as ending, one introduction offered
    assert seen["convenings"] == [(content.CONVENING["title"], 1, 1)]
    assert seen["groups"] == sorted((g["name"], 2) for g in content.GROUPS)
    assert seen["terms"] == ["ending_soon", "serving"]
    assert seen["introductions"] == [("offered", 2)]
    # direct assistance: a round of two places, the first city accepted with its engagement under way
    # (one of three milestones done), the second in review
    assert seen["rounds"] == [(content.ROUND["name"], 2, 1)]
    assert seen["applications"] == ["accepted", "in_review"]
    assert seen["engagements"] == [("in_progress", 1, 3)]
    # pro bono: three made-up organizations, every volunteer confirmed by their coordinator, three projects
    # open and one waiting for review, a match offered and one under way with 6 of its 10.5 hours approved
    assert seen["probono_organizations"] == sorted(o["name"] for o in content.PROBONO_ORGANIZATIONS)
    assert seen["probono_volunteers"] == {"confirmed": sum(len(o["volunteers"]) for o in content.PROBONO_ORGANIZATIONS)}
    assert seen["probono_projects"] == sorted([
        ("A budget residents can read", "open"), ("Grant application for lead service line replacement", "submitted"),
        ("Refresh the emergency operations plan", "open"), ("Vacant lot inventory", "active")])
    assert seen["probono_matches"] == [("A budget residents can read", "proposed", 0, 0),
                                       ("Vacant lot inventory", "accepted", 10.5, 6.0)]
    assert all(login.email.endswith(".example.org") for login in first.logins if login.role.startswith("pro bono"))

    again = await run()
    assert not again.changed, again.created
    assert again.existing["staff"] == len(content.STAFF) and again.existing["questions"] == len(content.QUESTIONS)
    assert [(login.email, login.password) for login in again.logins] == [(login.email, login.password) for login in first.logins]
    after = await snapshot(platform["gateway"])
    for key in ("eligible", "staff", "officials", "states", "resources", "programs", "convenings", "groups",
                "introductions", "applications", "rounds", "engagements", "probono_projects", "probono_matches",
                "probono_volunteers", "probono_organizations"):
        assert after[key] == seen[key], key
    # Versions move only through other services' events (the library publishing an answer), never the seed.
    assert [(t, s) for t, s, _ in after["requests"]] == [(t, s) for t, s, _ in seen["requests"]]

    # An expected failure names the step and carries the problem body, not a traceback.
    with pytest.raises(SeedError) as caught:
        await asyncio.to_thread(seed, platform, admin_email=ADMIN_EMAIL, admin_password="not-the-password-1")
    text = str(caught.value)
    assert "sign in as the administrator" in text and "HTTP 401" in text and "problem:" in text

