"""Repositories over the service's own database.

Every method takes the session it runs in (None outside a transaction), so the same repository
serves transactional writes and plain reads. Documents are the domain models dumped as they
are, plus a few derived fields kept for filtering (a city's `eligible`, lower-cased names).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReplaceOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from ..domain.cities import City, explain_eligibility
from ..domain.exception_requests import ExceptionRequest
from ..domain.people import Account, Partner
from ..domain.security import LinkPurpose, LinkToken, LoginAttempts, RefreshToken
from ..tokens import SigningKey, generate_signing_key, load_signing_key

CITIES = "cities"
ACCOUNTS = "accounts"
PARTNERS = "partners"
REFRESH_TOKENS = "refresh_tokens"
LINK_TOKENS = "link_tokens"
LOGIN_ATTEMPTS = "login_attempts"
SIGNING_KEYS = "signing_keys"
EXCEPTION_REQUESTS = "exception_requests"

INDEXES: dict[str, list[IndexModel]] = {
    CITIES: [
        IndexModel([("fips_place_code", ASCENDING)], name="fips"),
        IndexModel([("state", ASCENDING), ("name_lower", ASCENDING)], name="state_name"),
        IndexModel([("name_lower", ASCENDING)], name="name"),
        IndexModel([("eligible", ASCENDING), ("state", ASCENDING), ("name_lower", ASCENDING)], name="eligible"),
    ],
    ACCOUNTS: [
        # Duplicate sign-ups racing each other are stopped here, not by a read-then-write check.
        IndexModel([("email", ASCENDING)], name="email_unique", unique=True),
        IndexModel([("kind", ASCENDING), ("status", ASCENDING)], name="kind_status"),
        IndexModel([("city_id", ASCENDING)], name="city"),
        IndexModel([("partner_id", ASCENDING)], name="partner"),
        IndexModel([("roles", ASCENDING)], name="roles"),
        IndexModel([("created_at", DESCENDING)], name="created"),
    ],
    PARTNERS: [IndexModel([("name_lower", ASCENDING)], name="name")],
    EXCEPTION_REQUESTS: [
        IndexModel([("status", ASCENDING), ("requested_at", ASCENDING)], name="queue"),
        IndexModel([("city_id", ASCENDING), ("status", ASCENDING)], name="city_status"),
    ],
    REFRESH_TOKENS: [
        IndexModel([("family_id", ASCENDING)], name="family"),
        IndexModel([("account_id", ASCENDING)], name="account"),
        IndexModel([("expires_at", ASCENDING)], name="expiry_ttl", expireAfterSeconds=0),
    ],
    LINK_TOKENS: [
        IndexModel([("account_id", ASCENDING), ("purpose", ASCENDING)], name="account_purpose"),
        IndexModel([("expires_at", ASCENDING)], name="expiry_ttl", expireAfterSeconds=0),
    ],
    LOGIN_ATTEMPTS: [
        IndexModel([("updated_at", ASCENDING)], name="stale_ttl", expireAfterSeconds=24 * 3600),
    ],
}


def _escape_prefix(q: str) -> dict[str, str]:
    # An anchored prefix can use the index; the input is escaped so it is never a pattern.
    return {"$regex": "^" + re.escape(q.strip().lower())}


def _strip_id(doc: dict[str, Any]) -> dict[str, Any]:
    doc = dict(doc)
    doc.pop("_id", None)
    return doc


class CityRepo:
    def __init__(self, db: AsyncDatabase, session: AsyncClientSession | None = None) -> None:
        self.col = db[CITIES]
        self.session = session

    @staticmethod
    def to_doc(city: City) -> dict[str, Any]:
        e = explain_eligibility(city)
        doc = city.model_dump(mode="python")
        doc.update(_id=city.city_id, name_lower=city.name.lower(), eligible=e.eligible, eligibility_basis=e.basis)
        return doc

    @staticmethod
    def from_doc(doc: dict[str, Any]) -> City:
        return City.model_validate(_strip_id(doc))

    async def get(self, city_id: str) -> City | None:
        doc = await self.col.find_one({"_id": city_id}, session=self.session)
        return None if doc is None else self.from_doc(doc)

    async def get_many(self, city_ids: list[str], fips_codes: list[str]) -> tuple[dict[str, City], dict[str, City]]:
        # Two plain $in queries rather than one $or: each can use its own index.
        by_id: dict[str, City] = {}
        by_fips: dict[str, City] = {}
        queries = [{"_id": {"$in": city_ids}}]
        if fips_codes:
            queries.append({"fips_place_code": {"$in": fips_codes}})
        for query in queries:
            async for doc in self.col.find(query, session=self.session):
                city = self.from_doc(doc)
                by_id[city.city_id] = city
                if city.fips_place_code:
                    by_fips[city.fips_place_code] = city
        return by_id, by_fips

    async def save(self, city: City) -> None:
        await self.col.replace_one({"_id": city.city_id}, self.to_doc(city), upsert=True, session=self.session)

    async def save_many(self, cities: list[City]) -> None:
        """One round trip for a batch (imports): the database, not the driver, is the bottleneck."""
        if cities:
            ops = [ReplaceOne({"_id": c.city_id}, self.to_doc(c), upsert=True) for c in cities]
            await self.col.bulk_write(ops, ordered=False, session=self.session)

    async def search(
        self, *, eligible: bool | None, state: str | None, q: str | None, limit: int, offset: int
    ) -> tuple[list[City], int]:
        query: dict[str, Any] = {}
        if eligible is not None:
            query["eligible"] = eligible
        if state:
            query["state"] = state.upper()
        if q and q.strip():
            query["name_lower"] = _escape_prefix(q)
        total = await self.col.count_documents(query, session=self.session)
        cursor = self.col.find(query, session=self.session).sort([("state", 1), ("name_lower", 1)]).skip(offset)
        docs = await cursor.limit(limit).to_list(limit)
        return [self.from_doc(d) for d in docs], total

    async def count(self) -> int:
        return await self.col.count_documents({}, session=self.session)


class ExceptionRequestRepo:
    def __init__(self, db: AsyncDatabase, session: AsyncClientSession | None = None) -> None:
        self.col = db[EXCEPTION_REQUESTS]
        self.session = session

    async def get(self, request_id: str) -> ExceptionRequest | None:
        doc = await self.col.find_one({"_id": request_id}, session=self.session)
        return None if doc is None else ExceptionRequest.model_validate(_strip_id(doc))

    async def save(self, request: ExceptionRequest) -> None:
        doc = request.model_dump(mode="python")
        await self.col.replace_one({"_id": request.exception_request_id}, {**doc, "_id": request.exception_request_id},
                                   upsert=True, session=self.session)

    async def open_for(self, city_id: str, email: str | None = None) -> list[ExceptionRequest]:
        query: dict[str, Any] = {"city_id": city_id, "status": "open"}
        if email is not None:
            query["email"] = email
        return [ExceptionRequest.model_validate(_strip_id(d))
                async for d in self.col.find(query, session=self.session).sort("requested_at", ASCENDING)]

    async def search(self, *, status: str | None, city_id: str | None, limit: int, offset: int
                     ) -> tuple[list[ExceptionRequest], int]:
        query: dict[str, Any] = {}
        if status:
            query["status"] = status
        if city_id:
            query["city_id"] = city_id
        total = await self.col.count_documents(query, session=self.session)
        cursor = self.col.find(query, session=self.session).sort("requested_at", ASCENDING).skip(offset).limit(limit)
        return [ExceptionRequest.model_validate(_strip_id(d)) async for d in cursor], total


class AccountRepo:
    def __init__(self, db: AsyncDatabase, session: AsyncClientSession | None = None) -> None:
        self.col = db[ACCOUNTS]
        self.session = session

    @staticmethod
    def to_doc(account: Account) -> dict[str, Any]:
        doc = account.model_dump(mode="python")
        doc.update(
            _id=account.account_id,
            kind=str(account.kind),
            status=str(account.status),
            roles=[str(r) for r in account.roles],
            expertise=[str(e) for e in account.expertise],
            name_lower=account.name.lower(),
        )
        return doc

    @staticmethod
    def from_doc(doc: dict[str, Any]) -> Account:
        doc = _strip_id(doc)
        doc.pop("name_lower", None)
        return Account.model_validate(doc)

    async def get(self, account_id: str) -> Account | None:
        doc = await self.col.find_one({"_id": account_id}, session=self.session)
        return None if doc is None else self.from_doc(doc)

    async def by_email(self, email: str) -> Account | None:
        """``email`` in canonical form (domain.emails.canonical_email), as every account stores it."""
        doc = await self.col.find_one({"email": email}, session=self.session)
        return None if doc is None else self.from_doc(doc)

    async def insert(self, account: Account) -> None:
        """Raises DuplicateKeyError when the email is taken."""
        await self.col.insert_one(self.to_doc(account), session=self.session)

    async def save(self, account: Account) -> None:
        await self.col.replace_one({"_id": account.account_id}, self.to_doc(account), session=self.session)

    async def names(self, ids: list[str]) -> dict[str, str]:
        """Names by account id (ids not found are left out)."""
        wanted = sorted({i for i in ids if i})
        if not wanted:
            return {}
        cursor = self.col.find({"_id": {"$in": wanted}}, {"name": 1}, session=self.session)
        return {d["_id"]: d.get("name") or "" async for d in cursor}

    async def count_active_admins(self) -> int:
        return await self.col.count_documents(
            {"kind": "staff", "status": "verified", "roles": "administrator"}, session=self.session
        )

    async def search(
        self,
        *,
        kind: str | None = None,
        status: str | None = None,
        city_id: str | None = None,
        partner_id: str | None = None,
        role: str | None = None,
        expertise: str | None = None,
        q: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Account], int]:
        query: dict[str, Any] = {}
        for name, value in (
            ("kind", kind),
            ("status", status),
            ("city_id", city_id),
            ("partner_id", partner_id),
            ("roles", role),
            ("expertise", expertise),
        ):
            if value is not None:
                query[name] = value
        if q and q.strip():
            query["$or"] = [{"name_lower": _escape_prefix(q)}, {"email": _escape_prefix(q)}]
        total = await self.col.count_documents(query, session=self.session)
        cursor = self.col.find(query, session=self.session).sort([("created_at", -1), ("_id", 1)]).skip(offset)
        docs = await cursor.limit(limit).to_list(limit)
        return [self.from_doc(d) for d in docs], total


class PartnerRepo:
    def __init__(self, db: AsyncDatabase, session: AsyncClientSession | None = None) -> None:
        self.col = db[PARTNERS]
        self.session = session

    async def get(self, partner_id: str) -> Partner | None:
        doc = await self.col.find_one({"_id": partner_id}, session=self.session)
        if doc is None:
            return None
        doc = _strip_id(doc)
        doc.pop("name_lower", None)
        return Partner.model_validate(doc)

    async def insert(self, partner: Partner) -> None:
        doc = partner.model_dump(mode="python")
        doc.update(_id=partner.partner_id, kind=str(partner.kind), name_lower=partner.name.lower())
        await self.col.insert_one(doc, session=self.session)

    async def search(self, *, kind: str | None, limit: int, offset: int) -> tuple[list[Partner], int]:
        query: dict[str, Any] = {} if kind is None else {"kind": kind}
        total = await self.col.count_documents(query, session=self.session)
        docs = await self.col.find(query, session=self.session).sort("name_lower", 1).skip(offset).limit(limit).to_list(
            limit
        )
        out = []
        for doc in docs:
            doc = _strip_id(doc)
            doc.pop("name_lower", None)
            out.append(Partner.model_validate(doc))
        return out, total


class SecurityRepo:
    """Refresh tokens, single-use links and failed sign-ins; all keyed by hashes or emails, never raw tokens."""

    def __init__(self, db: AsyncDatabase, session: AsyncClientSession | None = None) -> None:
        self.db = db
        self.session = session

    # refresh tokens
    async def insert_refresh(self, token: RefreshToken) -> None:
        doc = token.model_dump(mode="python")
        doc["_id"] = token.token_hash
        await self.db[REFRESH_TOKENS].insert_one(doc, session=self.session)

    async def get_refresh(self, token_hash: str) -> RefreshToken | None:
        doc = await self.db[REFRESH_TOKENS].find_one({"_id": token_hash}, session=self.session)
        return None if doc is None else RefreshToken.model_validate(_strip_id(doc))

    async def spend_refresh(self, token_hash: str, now: datetime) -> bool:
        """Mark a refresh token used; False when someone spent it first (a race or a replay)."""
        result = await self.db[REFRESH_TOKENS].update_one(
            {"_id": token_hash, "used_at": None, "revoked_at": None}, {"$set": {"used_at": now}}, session=self.session
        )
        return result.modified_count == 1

    async def spend_refresh_grace(self, token_hash: str, now: datetime) -> bool:
        """Use up a spent token's one extra use in the grace window; False when it is gone already."""
        result = await self.db[REFRESH_TOKENS].update_one(
            {"_id": token_hash, "used_at": {"$ne": None}, "grace_used_at": None, "revoked_at": None},
            {"$set": {"grace_used_at": now}},
            session=self.session,
        )
        return result.modified_count == 1

    async def revoke_family(self, family_id: str, now: datetime) -> None:
        await self.db[REFRESH_TOKENS].update_many(
            {"family_id": family_id, "revoked_at": None}, {"$set": {"revoked_at": now}}, session=self.session
        )

    async def revoke_account_tokens(self, account_id: str, now: datetime) -> None:
        await self.db[REFRESH_TOKENS].update_many(
            {"account_id": account_id, "revoked_at": None}, {"$set": {"revoked_at": now}}, session=self.session
        )

    # single-use links
    async def insert_link(self, token: LinkToken) -> None:
        doc = token.model_dump(mode="python")
        doc.update(_id=token.token_hash, purpose=str(token.purpose))
        await self.db[LINK_TOKENS].insert_one(doc, session=self.session)

    async def get_link(self, token_hash: str) -> LinkToken | None:
        doc = await self.db[LINK_TOKENS].find_one({"_id": token_hash}, session=self.session)
        return None if doc is None else LinkToken.model_validate(_strip_id(doc))

    async def spend_link(self, token_hash: str, now: datetime) -> bool:
        """Mark a link used; False when someone used it first."""
        result = await self.db[LINK_TOKENS].update_one(
            {"_id": token_hash, "used_at": None}, {"$set": {"used_at": now}}, session=self.session
        )
        return result.modified_count == 1

    async def retire_links(self, account_id: str, purpose: LinkPurpose, now: datetime) -> None:
        """Older unused links of this purpose stop working (only the latest one sent does)."""
        await self.db[LINK_TOKENS].update_many(
            {"account_id": account_id, "purpose": str(purpose), "used_at": None},
            {"$set": {"used_at": now}},
            session=self.session,
        )

    # failed sign-ins
    async def get_attempts(self, email: str) -> LoginAttempts | None:
        doc = await self.db[LOGIN_ATTEMPTS].find_one({"_id": email}, session=self.session)
        if doc is None:
            return None
        doc = _strip_id(doc)
        doc.pop("updated_at", None)
        return LoginAttempts.model_validate(doc)

    async def save_attempts(self, state: LoginAttempts, now: datetime) -> None:
        doc = state.model_dump(mode="python")
        doc.update(_id=state.email, updated_at=now)
        await self.db[LOGIN_ATTEMPTS].replace_one({"_id": state.email}, doc, upsert=True, session=self.session)

    async def clear_attempts(self, email: str) -> None:
        await self.db[LOGIN_ATTEMPTS].delete_one({"_id": email}, session=self.session)


DEV_KEY_ID = "development"


async def load_or_create_dev_key(db: AsyncDatabase) -> SigningKey:
    """Development only: one generated key per database, so restarts keep verifying issued tokens."""
    col = db[SIGNING_KEYS]
    doc = await col.find_one({"_id": DEV_KEY_ID})
    if doc is None:
        key = generate_signing_key()
        try:
            await col.insert_one({"_id": DEV_KEY_ID, "pem": key.private_pem(), "created_at": datetime.now(UTC)})
            return key
        except DuplicateKeyError:  # another instance won the race: use its key
            doc = await col.find_one({"_id": DEV_KEY_ID})
    return load_signing_key(doc["pem"])
