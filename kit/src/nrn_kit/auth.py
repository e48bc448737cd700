"""Token verification and THE authorisation matrix, shared by every service and the gateway.

Access tokens are Ed25519-signed JWTs issued by the accounts service. A service verifies them
locally against the accounts JWKS, fetched once and cached (refetched on an unknown key id,
at most once per 30 s), so no request costs a call to accounts.

`authorize(principal, action, city_id=...)` is the single place that says who may do what:

* officials act only for their own city, and only once verified;
* staff act per role (administrator, program_manager, triage_lead, subject_matter_expert,
  reviewer, curator), for any city;
* partner members read public things and act once verified; a partner's administrators (role
  ``partner_administrator``) manage their own organization's webhook subscriptions, and its pro bono
  coordinators (role ``probono_coordinator``) confirm its volunteers, for their own partner only; a
  professional who signed up as a volunteer of an organization is a partner member *not yet verified*:
  the few actions marked ``unverified_partners`` (their own volunteer profile) are open to them;
* deactivated accounts can do nothing (they also cannot sign in or refresh).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from fastapi import Request

from .http import Forbidden as _HttpForbidden
from .http import Unauthorized as _HttpUnauthorized

ISSUER = "nrn-accounts"
AUDIENCE = "nrn"
ALGORITHMS = ["EdDSA"]
JWKS_REFETCH_INTERVAL = 30.0

OFFICIAL = "official"
STAFF = "staff"
PARTNER_MEMBER = "partner_member"

ADMINISTRATOR = "administrator"
PROGRAM_MANAGER = "program_manager"
TRIAGE_LEAD = "triage_lead"
SUBJECT_MATTER_EXPERT = "subject_matter_expert"
REVIEWER = "reviewer"
CURATOR = "curator"
STAFF_ROLES = frozenset({ADMINISTRATOR, PROGRAM_MANAGER, TRIAGE_LEAD, SUBJECT_MATTER_EXPERT, REVIEWER, CURATOR})
# Partner members' roles: administers the organization's webhook subscriptions; confirms the
# organization's volunteers for the pro bono talent network and sits on its council.
PARTNER_ADMINISTRATOR = "partner_administrator"
PROBONO_COORDINATOR = "probono_coordinator"
PARTNER_ROLES = frozenset({PARTNER_ADMINISTRATOR, PROBONO_COORDINATOR})
PARTNER_ROLE_WORDS = {PARTNER_ADMINISTRATOR: "partner administrator", PROBONO_COORDINATOR: "pro bono coordinator"}


class AuthError(_HttpUnauthorized):
    """The bearer could not be authenticated (401)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, code="unauthorized")
        self.reason = reason


class Forbidden(_HttpForbidden):
    """The bearer is known but may not do this (403)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, code="forbidden")
        self.reason = reason


class UnknownAction(ValueError):
    """A programming error: the action is not in the matrix. Fails loudly rather than open."""


@dataclass(frozen=True)
class Principal:
    account_id: str
    kind: str
    roles: frozenset[str]
    expertise: frozenset[str]
    city_id: str | None
    status: str
    partner_id: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.kind == STAFF

    @property
    def is_official(self) -> bool:
        return self.kind == OFFICIAL

    @property
    def is_partner(self) -> bool:
        return self.kind == PARTNER_MEMBER

    @property
    def verified(self) -> bool:
        return self.status == "verified"

    def has_role(self, role: str) -> bool:
        return self.kind == STAFF and role in self.roles

    @property
    def is_partner_admin(self) -> bool:
        return self.kind == PARTNER_MEMBER and self.verified and PARTNER_ADMINISTRATOR in self.roles

    @property
    def is_probono_coordinator(self) -> bool:
        return self.kind == PARTNER_MEMBER and self.verified and PROBONO_COORDINATOR in self.roles


# --- the authorisation matrix ---------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """Who may perform one action.

    staff_roles: staff holding any of these roles may act, for any city.
    officials: verified officials may act, for their own city only (city_id must be named).
    partners: verified partner members may act.
    unverified_partners: with ``partners``, partner members whose account is not verified yet may act
        too (a volunteer's own profile, while their organization's coordinator has not confirmed them).
    partner_roles: verified partner members holding any of these roles may act, for their own
        partner only (partner_id must be named).
    everyone: any signed-in, non-deactivated principal may act, verified or not (public data).
    """

    staff_roles: frozenset[str] = frozenset()
    officials: bool = False
    partners: bool = False
    unverified_partners: bool = False
    partner_roles: frozenset[str] = frozenset()
    everyone: bool = False
    description: str = ""


_ALL_STAFF = STAFF_ROLES
_MANAGERS = frozenset({ADMINISTRATOR, PROGRAM_MANAGER})

MATRIX: Mapping[str, Rule] = {
    # cities and accounts
    "city.read": Rule(everyone=True, description="read the public city registry and eligibility"),
    "city.import": Rule(staff_roles=_MANAGERS, description="import city data from CSV"),
    "eligibility.exception": Rule(staff_roles=_MANAGERS, description="grant or revoke an eligibility exception"),
    "account.read": Rule(
        staff_roles=frozenset({ADMINISTRATOR, PROGRAM_MANAGER, TRIAGE_LEAD}), description="list and read accounts"
    ),
    "account.contact": Rule(
        staff_roles=_ALL_STAFF - {CURATOR},
        description="read an official's contact card (name, title, e-mail, phone, city) to answer their request",
    ),
    "account.verify": Rule(staff_roles=_MANAGERS, description="verify, reject or question a pending account"),
    "account.manage": Rule(
        staff_roles=frozenset({ADMINISTRATOR}), description="create staff and partners, deactivate and reactivate accounts"
    ),
    "role.grant": Rule(staff_roles=frozenset({ADMINISTRATOR}), description="grant or revoke staff roles"),
    # 311 for Cities
    "request.submit": Rule(officials=True, description="submit a 311 question for the city"),
    "request.read": Rule(staff_roles=_ALL_STAFF - {CURATOR}, officials=True, description="read a city's 311 requests"),
    "request.triage": Rule(staff_roles=frozenset({ADMINISTRATOR, PROGRAM_MANAGER, TRIAGE_LEAD}), description="triage"),
    "request.assign": Rule(staff_roles=frozenset({ADMINISTRATOR, PROGRAM_MANAGER, TRIAGE_LEAD}), description="assign"),
    "memo.draft": Rule(staff_roles=frozenset({SUBJECT_MATTER_EXPERT}), description="draft the answer memo"),
    "memo.review": Rule(staff_roles=frozenset({REVIEWER, PROGRAM_MANAGER}), description="review a memo"),
    "call.schedule": Rule(
        staff_roles=frozenset({SUBJECT_MATTER_EXPERT, TRIAGE_LEAD, PROGRAM_MANAGER}),
        officials=True,
        description="schedule the follow-up call",
    ),
    # direct technical assistance (engagements); the service refines these: a reviewer reads and
    # scores only applications assigned to them and not conflicted, a subject-matter expert manages
    # only engagements whose team they are on
    "application.submit": Rule(officials=True, description="draft, edit, submit or withdraw the city's application"),
    "application.read": Rule(
        staff_roles=frozenset({ADMINISTRATOR, PROGRAM_MANAGER, TRIAGE_LEAD, REVIEWER}),
        officials=True,
        description="read a city's applications for direct assistance",
    ),
    "application.screen": Rule(
        staff_roles=frozenset({ADMINISTRATOR, PROGRAM_MANAGER, TRIAGE_LEAD}), description="screen eligibility"
    ),
    "application.review": Rule(staff_roles=frozenset({REVIEWER}), description="score an application against the rubric"),
    "application.decide": Rule(
        staff_roles=_MANAGERS, description="assign reviewers; accept, decline or waitlist an application"
    ),
    "round.manage": Rule(staff_roles=_MANAGERS, description="open funding rounds and set their capacity"),
    "engagement.read": Rule(
        staff_roles=_ALL_STAFF - {CURATOR}, officials=True, description="read a city's engagements"
    ),
    "engagement.manage": Rule(
        staff_roles=frozenset({ADMINISTRATOR, PROGRAM_MANAGER, SUBJECT_MATTER_EXPERT}),
        description="record the assessment, the work plan, milestones, updates, risks and partners",
    ),
    "engagement.close": Rule(staff_roles=_MANAGERS, description="set the team; close out or cancel an engagement"),
    "engagement.respond": Rule(
        officials=True, description="comment on and agree the work plan, consent to publish, the 6-month check-in"
    ),
    # library and clearinghouse
    "library.read": Rule(everyone=True, description="read the public library and the 311 record"),
    "library.curate": Rule(staff_roles=frozenset({CURATOR, ADMINISTRATOR}), description="curate library entries"),
    "clearinghouse.maintain": Rule(
        staff_roles=frozenset({CURATOR, ADMINISTRATOR}), description="maintain the federal TA clearinghouse"
    ),
    # peer networking: convenings, working groups and the steering committee, introductions
    "convening.read": Rule(everyone=True, description="read convenings and their agendas"),
    "convening.manage": Rule(staff_roles=_MANAGERS, description="schedule, change and cancel convenings"),
    "convening.register": Rule(officials=True, partners=True,
                               description="register oneself for a convening (officials for their own city)"),
    "convening.attendance": Rule(staff_roles=frozenset({ADMINISTRATOR, PROGRAM_MANAGER, TRIAGE_LEAD}),
                                 description="read registrations, check attendees in"),
    "convening.materials": Rule(staff_roles=frozenset({ADMINISTRATOR, PROGRAM_MANAGER, CURATOR}),
                                description="publish a convening's materials to the library"),
    "group.read": Rule(everyone=True, description="read working groups, the steering committee and their members"),
    "group.manage": Rule(staff_roles=_MANAGERS,
                         description="form groups, add and remove members, meetings, notes and decisions"),
    "deliverable.contribute": Rule(staff_roles=_MANAGERS | {SUBJECT_MATTER_EXPERT, REVIEWER}, officials=True,
                                   partners=True,
                                   description="draft and comment on a group's deliverables (members only)"),
    "deliverable.review": Rule(staff_roles=frozenset({ADMINISTRATOR, PROGRAM_MANAGER, REVIEWER}),
                               description="approve a deliverable for the library, or ask for changes"),
    "introduction.manage": Rule(staff_roles=frozenset({ADMINISTRATOR, PROGRAM_MANAGER, TRIAGE_LEAD}),
                                description="see suggestions, offer introductions, track them to an outcome"),
    "introduction.respond": Rule(officials=True, description="accept or decline an introduction for one's own city"),
    # municipal health data (peer): the catalogue is public; a city's dashboard is its own officials' and
    # staff's; the Peer Health Group's member cities choose the measures shown (peer checks membership)
    "health.catalogue": Rule(everyone=True,
                             description="read the health measure catalogue and the measures the dashboards show"),
    "health.read": Rule(staff_roles=_ALL_STAFF, officials=True,
                        description="read a city's health dashboard (officials: their own city, once published)"),
    "health.manage": Rule(staff_roles=_MANAGERS,
                          description="define measures, import health values, name the Peer Health Group, "
                                      "publish dashboards"),
    "health.choose": Rule(staff_roles=_MANAGERS, officials=True,
                          description="choose the measures the dashboards show (officials of the Peer Health "
                                      "Group's member cities)"),
    # the pro bono talent network (peer)
    "probono.read": Rule(everyone=True, description="read the skills list and the talent network's organizations"),
    "probono.volunteer": Rule(partners=True, unverified_partners=True,
                              description="register as a volunteer; one's own matches and hours"),
    "probono.coordinate": Rule(staff_roles=_MANAGERS, partner_roles=frozenset({PROBONO_COORDINATOR}),
                               description="confirm an organization's volunteers and follow their matches"),
    "probono.post": Rule(officials=True,
                         description="post the city's projects, answer matches, approve hours, record outcomes"),
    "probono.manage": Rule(staff_roles=_MANAGERS,
                           description="review projects, propose matches, enroll organizations, keep the skills"),
    "probono.council": Rule(staff_roles=frozenset({ADMINISTRATOR, PROGRAM_MANAGER, TRIAGE_LEAD}),
                            partner_roles=frozenset({PROBONO_COORDINATOR}),
                            description="see the talent network's totals per organization and per city"),
    # partner webhook subscriptions (services/partners): a partner's administrators for their own
    # organization; NRN administrators for any, and they alone set what an agreement allows
    "webhook.read": Rule(staff_roles=_MANAGERS, partner_roles=frozenset({PARTNER_ADMINISTRATOR}),
                         description="read a partner's endpoints, agreement and delivery log"),
    "webhook.manage": Rule(staff_roles=frozenset({ADMINISTRATOR}), partner_roles=frozenset({PARTNER_ADMINISTRATOR}),
                           description="register, change, disable endpoints; rotate secrets; replay; test"),
    "agreement.manage": Rule(staff_roles=frozenset({ADMINISTRATOR}),
                             description="set the event types, fields and filters a partner's agreement allows"),
    # operations
    "metrics.read": Rule(staff_roles=_MANAGERS, description="read operational metrics"),
}
ACTIONS = frozenset(MATRIX)


def authorize(principal: Principal, action: str, *, city_id: str | None = None,
              partner_id: str | None = None) -> None:
    """Raise Forbidden(reason) unless `principal` may perform `action` (for `city_id`, where city-scoped;
    for `partner_id`, where partner-scoped)."""
    rule = MATRIX.get(action)
    if rule is None:
        raise UnknownAction(f"unknown action {action!r}; known: {', '.join(sorted(MATRIX))}")
    if principal.status == "deactivated":
        raise Forbidden("the account is deactivated")
    if rule.everyone:
        return
    if principal.kind == STAFF:
        if not principal.verified:
            raise Forbidden("the staff account is not verified")
        if principal.roles & rule.staff_roles:
            return
        needed = ", ".join(sorted(rule.staff_roles)) or "no staff role"
        raise Forbidden(f"{action} needs one of the roles: {needed}")
    if principal.kind == OFFICIAL:
        if not rule.officials:
            raise Forbidden(f"officials may not perform {action}")
        if not principal.verified:
            raise Forbidden("the official's account is not verified yet; it cannot act for a city")
        if principal.city_id is None:
            raise Forbidden("the official's account has no city")
        if city_id is None:
            raise Forbidden(f"{action} must name the city it is for")
        if city_id != principal.city_id:
            raise Forbidden("an official may act only for their own city")
        return
    if principal.kind == PARTNER_MEMBER:
        if rule.partners and (principal.verified or rule.unverified_partners):
            return
        if rule.partner_roles:
            if not principal.verified:
                raise Forbidden("the partner member's account is not verified")
            if not principal.roles & rule.partner_roles:
                needed = " or ".join(sorted(PARTNER_ROLE_WORDS.get(r, r) for r in rule.partner_roles))
                raise Forbidden(f"{action} needs the {needed} role")
            if partner_id is None:
                raise Forbidden(f"{action} must name the partner it is for")
            if principal.partner_id is None or partner_id != principal.partner_id:
                raise Forbidden("a partner member may act only for their own organization")
            return
        if rule.partners:
            raise Forbidden("the partner member's account is not verified")
        raise Forbidden(f"partner members may not perform {action}")
    raise Forbidden(f"unknown account kind {principal.kind!r}")


def permitted(principal: Principal, action: str, *, city_id: str | None = None,
              partner_id: str | None = None) -> bool:
    try:
        authorize(principal, action, city_id=city_id, partner_id=partner_id)
    except Forbidden:
        return False
    return True


# --- verification ---------------------------------------------------------------------------


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    try:
        return Principal(
            account_id=str(claims["sub"]),
            kind=str(claims["kind"]),
            roles=frozenset(claims.get("roles") or ()),
            expertise=frozenset(claims.get("expertise") or ()),
            city_id=claims.get("city_id"),
            status=str(claims["status"]),
            partner_id=claims.get("partner_id"),
        )
    except (KeyError, TypeError) as exc:
        raise AuthError(f"token lacks a required claim: {exc}") from None


class TokenVerifier:
    """Verifies access tokens locally against the accounts JWKS (cached; refetched on an unknown kid)."""

    def __init__(
        self,
        *,
        jwks_url: str | None = None,
        jwks: dict | None = None,
        audience: str = AUDIENCE,
        issuer: str = ISSUER,
        http_client: httpx.AsyncClient | None = None,
        refetch_interval: float = JWKS_REFETCH_INTERVAL,
        leeway: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if jwks_url is None and jwks is None:
            raise ValueError("TokenVerifier needs jwks_url or jwks")
        self.jwks_url = jwks_url
        self.audience = audience
        self.issuer = issuer
        self._http = http_client
        self._refetch_interval = refetch_interval
        self._leeway = leeway
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._last_fetch: float | None = None
        self._lock = asyncio.Lock()
        self.fetch_count = 0
        if jwks is not None:
            self._load(jwks)

    def _load(self, jwks: dict) -> None:
        keys: dict[str, jwt.PyJWK] = {}
        for entry in jwks.get("keys", []):
            kid = entry.get("kid")
            if not kid:
                continue
            try:
                keys[kid] = jwt.PyJWK.from_dict(entry)
            except jwt.PyJWTError:
                continue  # a key we cannot use (other algorithm) is skipped, not fatal
        self._keys = keys

    async def refresh(self) -> None:
        """Fetch the JWKS now (also used at start-up to warm the cache)."""
        if self.jwks_url is None:
            return
        self._last_fetch = self._clock()
        self.fetch_count += 1
        client = self._http
        owned = client is None
        if owned:
            client = httpx.AsyncClient(timeout=5.0)
        try:
            response = await client.get(self.jwks_url)
            response.raise_for_status()
            self._load(response.json())
        except (httpx.HTTPError, json.JSONDecodeError, ValueError) as exc:
            raise AuthError(f"cannot fetch the accounts JWKS: {exc}") from None
        finally:
            if owned:
                await client.aclose()

    async def _key(self, kid: str) -> jwt.PyJWK:
        key = self._keys.get(kid)
        if key is not None:
            return key
        if self.jwks_url is not None:
            async with self._lock:
                key = self._keys.get(kid)
                if key is None and (
                    self._last_fetch is None or self._clock() - self._last_fetch >= self._refetch_interval
                ):
                    await self.refresh()
                    key = self._keys.get(kid)
        if key is None:
            raise AuthError("token signed with an unknown key")
        return key

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise AuthError(f"malformed token: {exc}") from None
        if header.get("alg") not in ALGORITHMS:
            raise AuthError("token algorithm not accepted")
        kid = header.get("kid")
        if not kid:
            raise AuthError("token has no key id")
        key = await self._key(kid)
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("token expired") from None
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token: {exc}") from None
        principal = principal_from_claims(claims)
        if principal.status == "deactivated":
            raise AuthError("the account is deactivated")
        return principal


# --- FastAPI --------------------------------------------------------------------------------

VerifierGetter = Callable[..., "TokenVerifier | Awaitable[TokenVerifier]"]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("the Authorization header must be 'Bearer <token>'")
    return token.strip()


async def _resolve(getter: VerifierGetter, request: Request, takes_request: bool) -> TokenVerifier:
    verifier = getter(request) if takes_request else getter()
    if inspect.isawaitable(verifier):
        verifier = await verifier
    return verifier


def principal_dependency(verifier_getter: VerifierGetter, *, optional: bool = False) -> Callable:
    """A FastAPI dependency returning the bearer's Principal; 401 problem when missing or bad.

    `verifier_getter` is called with the Request (or with nothing, if it takes no argument), so
    a service can keep its verifier on `app.state`: `principal_dependency(lambda r: r.app.state.verifier)`.
    With `optional=True` a request without an Authorization header gets None instead of a 401.
    """
    takes_request = bool(inspect.signature(verifier_getter).parameters)

    async def dependency(request: Request) -> Principal | None:
        token = bearer_token(request)
        if token is None:
            if optional:
                return None
            raise AuthError("sign in first: the Authorization header is missing")
        verifier = await _resolve(verifier_getter, request, takes_request)
        principal = await verifier.verify(token)
        request.state.principal = principal
        return principal

    return dependency
