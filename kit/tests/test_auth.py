"""nrn_kit.auth: local token verification and the authorisation matrix (role x city x action)."""


import time
from typing import Annotated

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, FastAPI

from nrn_kit.auth import (
    ACTIONS,
    AuthError,
    Forbidden,
    Principal,
    TokenVerifier,
    UnknownAction,
    authorize,
    permitted,
    principal_dependency,
)
from nrn_kit.http import install_problem_handlers

# --- the matrix -----------------------------------------------------------------------------

OWN, OTHER = "mi-flint", "oh-youngstown"


def _official(status: str) -> Principal:
    return Principal("o-" + status, "official", frozenset(), frozenset(), OWN, status)


def _staff(*roles: str, expertise: frozenset[str] = frozenset()) -> Principal:
    return Principal("s-" + "-".join(roles or ("none",)), "staff", frozenset(roles), expertise, None, "verified")


PRINCIPALS: dict[str, Principal] = {
    "official": _official("verified"),
    "official_pending": _official("pending"),
    "official_deactivated": _official("deactivated"),
    "administrator": _staff("administrator"),
    "program_manager": _staff("program_manager"),
    "triage_lead": _staff("triage_lead"),
    "sme": _staff("subject_matter_expert", expertise=frozenset({"finance"})),
    "reviewer": _staff("reviewer"),
    "curator": _staff("curator"),
    "staff_no_role": _staff(),
    "partner": Principal("p-1", "partner_member", frozenset(), frozenset(), None, "verified", partner_id="hud"),
    "partner_admin": Principal("p-2", "partner_member", frozenset({"partner_administrator"}), frozenset(), None,
                               "verified", partner_id="hud"),
    # a pro bono coordinator of the organization, and a professional who signed up as its volunteer and
    # is not verified yet (the coordinator confirms them in the talent network)
    "coordinator": Principal("p-4", "partner_member", frozenset({"probono_coordinator"}), frozenset(), None,
                             "verified", partner_id="hud"),
    "partner_pending": Principal("p-5", "partner_member", frozenset(), frozenset(), None, "pending",
                                 partner_id="hud"),
}
EVERYONE_ACTIVE = frozenset(PRINCIPALS) - {"official_deactivated"}

# Who may perform each action for the official's OWN city. Officials never may for another
# city or without naming one; staff act the same for every city.
ALLOWED_FOR_OWN_CITY: dict[str, frozenset[str]] = {
    "city.read": EVERYONE_ACTIVE,
    "city.import": frozenset({"administrator", "program_manager"}),
    "eligibility.exception": frozenset({"administrator", "program_manager"}),
    "account.read": frozenset({"administrator", "program_manager", "triage_lead"}),
    "account.contact": frozenset({"administrator", "program_manager", "triage_lead", "sme", "reviewer"}),
    "account.verify": frozenset({"administrator", "program_manager"}),
    "account.manage": frozenset({"administrator"}),
    "role.grant": frozenset({"administrator"}),
    "request.submit": frozenset({"official"}),
    "request.read": frozenset({"official", "administrator", "program_manager", "triage_lead", "sme", "reviewer"}),
    "request.triage": frozenset({"administrator", "program_manager", "triage_lead"}),
    "request.assign": frozenset({"administrator", "program_manager", "triage_lead"}),
    "memo.draft": frozenset({"sme"}),
    "memo.review": frozenset({"reviewer", "program_manager"}),
    "call.schedule": frozenset({"official", "sme", "triage_lead", "program_manager"}),
    "application.submit": frozenset({"official"}),
    "application.read": frozenset({"official", "administrator", "program_manager", "triage_lead", "reviewer"}),
    "application.screen": frozenset({"administrator", "program_manager", "triage_lead"}),
    "application.review": frozenset({"reviewer"}),
    "application.decide": frozenset({"administrator", "program_manager"}),
    "round.manage": frozenset({"administrator", "program_manager"}),
    "engagement.read": frozenset({"official", "administrator", "program_manager", "triage_lead", "sme", "reviewer"}),
    "engagement.manage": frozenset({"administrator", "program_manager", "sme"}),
    "engagement.close": frozenset({"administrator", "program_manager"}),
    "engagement.respond": frozenset({"official"}),
    "library.read": EVERYONE_ACTIVE,
    "library.curate": frozenset({"curator", "administrator"}),
    "clearinghouse.maintain": frozenset({"curator", "administrator"}),
    "metrics.read": frozenset({"administrator", "program_manager"}),
    # peer networking
    "convening.read": EVERYONE_ACTIVE,
    "convening.manage": frozenset({"administrator", "program_manager"}),
    "convening.register": frozenset({"official", "partner"}),
    "convening.attendance": frozenset({"administrator", "program_manager", "triage_lead"}),
    "convening.materials": frozenset({"administrator", "program_manager", "curator"}),
    "group.read": EVERYONE_ACTIVE,
    "group.manage": frozenset({"administrator", "program_manager"}),
    "deliverable.contribute": frozenset({"official", "partner", "administrator", "program_manager", "sme",
                                         "reviewer"}),
    "deliverable.review": frozenset({"administrator", "program_manager", "reviewer"}),
    "introduction.manage": frozenset({"administrator", "program_manager", "triage_lead"}),
    "introduction.respond": frozenset({"official"}),
    # municipal health data: a city's dashboard for its officials and staff
    "health.catalogue": EVERYONE_ACTIVE,
    "health.read": frozenset({"official", "administrator", "program_manager", "triage_lead", "sme", "reviewer",
                              "curator"}),
    "health.manage": frozenset({"administrator", "program_manager"}),
    "health.choose": frozenset({"official", "administrator", "program_manager"}),
    # the pro bono talent network: a volunteer acts on their own profile before the coordinator confirms
    # them (partner_pending); partner-scoped roles below (test_partner_scoped_actions)
    "probono.read": EVERYONE_ACTIVE,
    "probono.volunteer": frozenset({"partner", "partner_admin", "coordinator", "partner_pending"}),
    "probono.coordinate": frozenset({"administrator", "program_manager"}),
    "probono.post": frozenset({"official"}),
    "probono.manage": frozenset({"administrator", "program_manager"}),
    "probono.council": frozenset({"administrator", "program_manager", "triage_lead"}),
    # partner-scoped: a partner's administrator only when the partner is named (test_partner_scoped_actions)
    "webhook.read": frozenset({"administrator", "program_manager"}),
    "webhook.manage": frozenset({"administrator"}),
    "agreement.manage": frozenset({"administrator"}),
}
PUBLIC_ACTIONS = {a for a, who in ALLOWED_FOR_OWN_CITY.items() if who == EVERYONE_ACTIVE}


def test_the_table_covers_every_action_of_the_matrix() -> None:
    assert set(ALLOWED_FOR_OWN_CITY) == set(ACTIONS)


PARTNER_SCOPED = ("webhook.read", "webhook.manage", "agreement.manage", "probono.coordinate", "probono.council")


def _expected(action: str, who: str, city: str | None) -> bool:
    if who in ("partner_admin", "coordinator") and action not in PARTNER_SCOPED:
        who = "partner"  # the roles add only the partner-scoped actions (test_partner_scoped_actions)
    allowed = who in ALLOWED_FOR_OWN_CITY[action]
    if action in PUBLIC_ACTIONS:
        return allowed  # public data: no city scoping
    if PRINCIPALS[who].kind == "official":
        return allowed and city == OWN
    return allowed


CASES = [
    (action, who, city)
    for action in sorted(ALLOWED_FOR_OWN_CITY)
    for who in PRINCIPALS
    for city in (OWN, OTHER, None)
]


@pytest.mark.parametrize(("action", "who", "city"), CASES, ids=[f"{a}-{w}-{c}" for a, w, c in CASES])
def test_authorisation_matrix(action: str, who: str, city: str | None) -> None:
    principal = PRINCIPALS[who]
    if _expected(action, who, city):
        authorize(principal, action, city_id=city)
        assert permitted(principal, action, city_id=city)
    else:
        with pytest.raises(Forbidden) as info:
            authorize(principal, action, city_id=city)
        assert info.value.reason
        assert info.value.status == 403
        assert not permitted(principal, action, city_id=city)


OWN_PARTNER, OTHER_PARTNER = "hud", "epa"
# Who may perform the partner-scoped actions for the partner administrator's OWN organization.
ALLOWED_FOR_OWN_PARTNER: dict[str, frozenset[str]] = {
    "webhook.read": frozenset({"administrator", "program_manager", "partner_admin"}),
    "webhook.manage": frozenset({"administrator", "partner_admin"}),
    "agreement.manage": frozenset({"administrator"}),
    "probono.coordinate": frozenset({"administrator", "program_manager", "coordinator"}),
    "probono.council": frozenset({"administrator", "program_manager", "triage_lead", "coordinator"}),
}
PARTNER_CASES = [
    (action, who, partner)
    for action in sorted(ALLOWED_FOR_OWN_PARTNER)
    for who in PRINCIPALS
    for partner in (OWN_PARTNER, OTHER_PARTNER, None)
]


@pytest.mark.parametrize(("action", "who", "partner"), PARTNER_CASES,
                         ids=[f"{a}-{w}-{p}" for a, w, p in PARTNER_CASES])
def test_partner_scoped_actions(action: str, who: str, partner: str | None) -> None:
    principal = PRINCIPALS[who]
    allowed = who in ALLOWED_FOR_OWN_PARTNER[action]
    if principal.kind == "partner_member":
        allowed = allowed and partner == OWN_PARTNER  # their own organization, named
    assert permitted(principal, action, partner_id=partner) is allowed


def test_partner_roles_need_a_verified_member_and_mean_nothing_elsewhere() -> None:
    pending = Principal("p-3", "partner_member", frozenset({"partner_administrator"}), frozenset(), None,
                        "pending", partner_id="hud")
    with pytest.raises(Forbidden, match="not verified"):
        authorize(pending, "webhook.manage", partner_id="hud")
    with pytest.raises(Forbidden, match="own organization"):
        authorize(PRINCIPALS["partner_admin"], "webhook.manage", partner_id="epa")
    with pytest.raises(Forbidden, match="partner administrator"):
        authorize(PRINCIPALS["partner"], "webhook.read", partner_id="hud")
    assert PRINCIPALS["partner_admin"].is_partner_admin and not PRINCIPALS["partner"].is_partner_admin
    # the role in a staff or official token gives nothing
    odd = Principal("s", "staff", frozenset({"partner_administrator"}), frozenset(), None, "verified")
    assert not odd.is_partner_admin and not permitted(odd, "webhook.manage", partner_id="hud")


def test_a_partner_member_not_verified_yet_acts_only_on_their_own_volunteer_profile() -> None:
    pending = PRINCIPALS["partner_pending"]
    authorize(pending, "probono.volunteer")
    for action in ("convening.register", "deliverable.contribute"):
        with pytest.raises(Forbidden, match="not verified"):
            authorize(pending, action)
    # a coordinator's role does not open the webhooks, nor the other way round
    assert not permitted(PRINCIPALS["coordinator"], "webhook.read", partner_id="hud")
    assert not permitted(PRINCIPALS["partner_admin"], "probono.coordinate", partner_id="hud")
    assert PRINCIPALS["coordinator"].is_probono_coordinator and not PRINCIPALS["partner_admin"].is_probono_coordinator
    with pytest.raises(Forbidden, match="pro bono coordinator"):
        authorize(PRINCIPALS["partner"], "probono.coordinate", partner_id="hud")


def test_official_of_one_city_is_told_why_another_city_is_refused() -> None:
    with pytest.raises(Forbidden, match="own city"):
        authorize(PRINCIPALS["official"], "request.read", city_id=OTHER)


def test_unverified_official_cannot_act_for_their_city() -> None:
    with pytest.raises(Forbidden, match="not verified"):
        authorize(PRINCIPALS["official_pending"], "request.submit", city_id=OWN)


def test_unknown_action_fails_loudly_not_open() -> None:
    with pytest.raises(UnknownAction):
        authorize(PRINCIPALS["administrator"], "request.delete_everything")


def test_unverified_staff_cannot_act() -> None:
    pending_admin = Principal("s-x", "staff", frozenset({"administrator"}), frozenset(), None, "pending")
    with pytest.raises(Forbidden):
        authorize(pending_admin, "role.grant")


def test_principal_helpers() -> None:
    sme = PRINCIPALS["sme"]
    assert sme.is_staff and sme.verified and sme.has_role("subject_matter_expert")
    assert not sme.has_role("administrator")
    # roles in an official's token mean nothing
    odd = Principal("o", "official", frozenset({"administrator"}), frozenset(), OWN, "verified")
    assert not odd.has_role("administrator")
    with pytest.raises(Forbidden):
        authorize(odd, "role.grant")


# --- verification ---------------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _jwk(private: Ed25519PrivateKey, kid: str) -> dict:
    from cryptography.hazmat.primitives import serialization

    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": _b64(raw), "kid": kid, "alg": "EdDSA", "use": "sig"}


KEY = Ed25519PrivateKey.generate()
JWKS = {"keys": [_jwk(KEY, "k1")]}


def _token(key=KEY, kid: str | None = "k1", alg: str = "EdDSA", **overrides) -> str:
    now = int(time.time())
    claims = {
        "iss": "nrn-accounts",
        "aud": "nrn",
        "sub": "acc-1",
        "iat": now,
        "exp": now + 900,
        "jti": "j1",
        "kind": "official",
        "status": "verified",
        "roles": [],
        "expertise": [],
        "city_id": OWN,
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    headers = {"kid": kid} if kid else {}
    return jwt.encode(claims, key, algorithm=alg, headers=headers)


async def test_valid_token_gives_the_principal() -> None:
    principal = await TokenVerifier(jwks=JWKS).verify(
        _token(kind="staff", roles=["subject_matter_expert"], expertise=["housing"], city_id=None)
    )
    assert principal == Principal(
        "acc-1", "staff", frozenset({"subject_matter_expert"}), frozenset({"housing"}), None, "verified"
    )


@pytest.mark.parametrize(
    ("token_kwargs", "reason"),
    [
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"aud": "someone-else"}, "audience"),
        ({"iss": "evil"}, "issuer"),
        ({"key": Ed25519PrivateKey.generate()}, "signature"),
        ({"kid": None}, "key id"),
        ({"sub": None}, "sub"),
        ({"status": "deactivated"}, "deactivated"),
        ({"kind": None}, "claim"),
    ],
)
async def test_bad_tokens_are_refused_with_a_reason(token_kwargs: dict, reason: str) -> None:
    with pytest.raises(AuthError) as info:
        await TokenVerifier(jwks=JWKS).verify(_token(**token_kwargs))
    assert reason in info.value.reason.lower()


async def test_symmetric_or_unsigned_tokens_are_refused() -> None:
    hs = jwt.encode({"sub": "x"}, "a-shared-secret-that-is-long-enough-32b", algorithm="HS256", headers={"kid": "k1"})
    unsigned = jwt.encode({"sub": "x"}, None, algorithm="none", headers={"kid": "k1"})
    verifier = TokenVerifier(jwks=JWKS)
    for token in (hs, unsigned, "not-a-jwt"):
        with pytest.raises(AuthError):
            await verifier.verify(token)


class _JwksServer:
    def __init__(self, jwks: dict) -> None:
        self.jwks = jwks
        self.calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        return httpx.Response(200, json=self.jwks)


async def test_jwks_is_fetched_once_and_cached() -> None:
    server = _JwksServer(JWKS)
    async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
        verifier = TokenVerifier(jwks_url="http://accounts/.well-known/jwks.json", http_client=http)
        for _ in range(50):
            await verifier.verify(_token())
    assert server.calls == 1


async def test_unknown_kid_refetches_at_most_once_per_interval() -> None:
    new_key = Ed25519PrivateKey.generate()
    server = _JwksServer(JWKS)
    now = [1000.0]
    async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
        verifier = TokenVerifier(jwks_url="http://accounts/jwks", http_client=http, clock=lambda: now[0])
        await verifier.verify(_token())
        assert server.calls == 1
        # a key the JWKS does not have yet: refetch happens only after the interval
        now[0] += 5
        with pytest.raises(AuthError, match="unknown key"):
            await verifier.verify(_token(key=new_key, kid="k2"))
        with pytest.raises(AuthError, match="unknown key"):
            await verifier.verify(_token(key=new_key, kid="k2"))
        assert server.calls == 1
        # accounts rotated: the JWKS now has k2, and past the interval one refetch finds it
        server.jwks = {"keys": [*JWKS["keys"], _jwk(new_key, "k2")]}
        now[0] += 30
        principal = await verifier.verify(_token(key=new_key, kid="k2"))
        assert principal.account_id == "acc-1"
        assert server.calls == 2


async def test_unreachable_jwks_is_an_auth_error() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503)

    async with httpx.AsyncClient(transport=httpx.MockTransport(down)) as http:
        verifier = TokenVerifier(jwks_url="http://accounts/jwks", http_client=http)
        with pytest.raises(AuthError, match="JWKS"):
            await verifier.verify(_token())


# --- the FastAPI dependency -----------------------------------------------------------------


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.state.verifier = TokenVerifier(jwks=JWKS)
    current = principal_dependency(lambda request: request.app.state.verifier)
    maybe = principal_dependency(lambda: app.state.verifier, optional=True)

    @app.get("/me")
    async def me(p: Annotated[Principal, Depends(current)]) -> dict:
        return {"account_id": p.account_id, "city_id": p.city_id}

    @app.get("/requests/{city_id}")
    async def read(city_id: str, p: Annotated[Principal, Depends(current)]) -> dict:
        authorize(p, "request.read", city_id=city_id)
        return {"ok": True}

    @app.get("/public")
    async def public(p: Annotated[Principal | None, Depends(maybe)]) -> dict:
        return {"anonymous": p is None}

    return app


async def test_dependency_reads_the_bearer_token() -> None:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        ok = await client.get("/me", headers={"Authorization": f"Bearer {_token()}"})
        assert ok.status_code == 200 and ok.json() == {"account_id": "acc-1", "city_id": OWN}

        missing = await client.get("/me")
        assert missing.status_code == 401
        assert missing.headers["content-type"].startswith("application/problem+json")
        assert missing.headers["www-authenticate"] == "Bearer"
        assert "Authorization header is missing" in missing.json()["detail"]

        bad = await client.get("/me", headers={"Authorization": "Bearer nonsense"})
        assert bad.status_code == 401

        basic = await client.get("/me", headers={"Authorization": "Basic dXNlcjpwdw=="})
        assert basic.status_code == 401

        other_city = await client.get(f"/requests/{OTHER}", headers={"Authorization": f"Bearer {_token()}"})
        assert other_city.status_code == 403
        assert "own city" in other_city.json()["detail"]

        anon = await client.get("/public")
        assert anon.json() == {"anonymous": True}
