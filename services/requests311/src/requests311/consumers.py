"""What requests311 learns from other services' events, kept as its own read models.

Handlers are upsert-style and order-tolerant: each writes only the fields its event owns, so
a batch applied twice, or an account's events seen in any interleaving with others', converge.
"""

from __future__ import annotations

from nrn_contracts.events import accounts as acc
from nrn_contracts.events import library as lib

from nrn_kit.consumer import EventConsumer
from nrn_kit.mongo import Tx, utcnow

from .adapters import mongo as repo
from .handlers import apply_to_request

consumer = EventConsumer("read-models")

EXPERT_ROLE = "subject_matter_expert"


@consumer.handles(acc.CityRegistered)
async def city_registered(event: acc.CityRegistered, tx: Tx) -> None:
    card: dict = {"name": event.name, "state": event.state}
    if event.time_zone:
        card["time_zone"] = event.time_zone
        # requests asked before the zone was known show their calls in it from now on
        await tx.db[repo.REQUESTS].update_many({"city_id": event.city_id, "city_time_zone": {"$ne": event.time_zone}},
                                               {"$set": {"city_time_zone": event.time_zone}}, session=tx.session)
    await tx.db[repo.CITIES].update_one({"_id": event.city_id}, {"$set": card}, upsert=True, session=tx.session)


@consumer.handles(acc.CityEligibilityDetermined)
async def city_eligibility(event: acc.CityEligibilityDetermined, tx: Tx) -> None:
    await tx.db[repo.CITIES].update_one(
        {"_id": event.city_id}, {"$set": {"eligible": event.eligible, "exception": event.exception}},
        upsert=True, session=tx.session)


@consumer.handles(acc.AccountRegistered)
async def account_registered(event: acc.AccountRegistered, tx: Tx) -> None:
    if event.kind == "official":
        # the memo's header names the official it answers (their tokens carry no name)
        await tx.db[repo.OFFICIALS].update_one(
            {"_id": event.account_id}, {"$set": {"name": event.name, "title": event.title or "",
                                                 "city_id": event.city_id}}, upsert=True, session=tx.session)
        return
    if event.kind != "staff":
        return
    await tx.db[repo.EXPERTS].update_one(
        {"_id": event.account_id}, {"$set": {"name": event.name}}, upsert=True, session=tx.session)


@consumer.handles(acc.RoleGranted)
async def role_granted(event: acc.RoleGranted, tx: Tx) -> None:
    if event.role != EXPERT_ROLE:
        return
    await tx.db[repo.EXPERTS].update_one(
        {"_id": event.account_id},
        {"$set": {"is_expert": True, "expertise": sorted(set(event.expertise))}},
        upsert=True, session=tx.session)


@consumer.handles(acc.RoleRevoked)
async def role_revoked(event: acc.RoleRevoked, tx: Tx) -> None:
    if event.role != EXPERT_ROLE:
        return
    await tx.db[repo.EXPERTS].update_one(
        {"_id": event.account_id}, {"$set": {"is_expert": False}}, upsert=True, session=tx.session)


@consumer.handles(acc.AccountDeactivated)
async def account_deactivated(event: acc.AccountDeactivated, tx: Tx) -> None:
    await tx.db[repo.EXPERTS].update_one(
        {"_id": event.account_id}, {"$set": {"deactivated": True}}, session=tx.session)


@consumer.handles(acc.AccountReactivated)
async def account_reactivated(event: acc.AccountReactivated, tx: Tx) -> None:
    # an expert whose account was reactivated can be assigned again
    await tx.db[repo.EXPERTS].update_one(
        {"_id": event.account_id}, {"$set": {"deactivated": False}}, session=tx.session)


@consumer.handles(lib.ResourcePublished, lib.ResourceUpdated)
async def answer_published(event: lib.ResourcePublished | lib.ResourceUpdated, tx: Tx) -> None:
    if not event.source_request_id:
        return
    at = getattr(event, "published_at", None) or getattr(event, "updated_at", None) or utcnow()
    await apply_to_request(tx, event.source_request_id, utcnow(),
                           lambda r: r.record_publication(resource_id=event.resource_id, at=at))


@consumer.handles(lib.ResourceArchived)
async def answer_archived(event: lib.ResourceArchived, tx: Tx) -> None:
    # only resources that recorded one of our requests matter; find it by the recorded resource id
    doc = await tx.db[repo.REQUESTS].find_one({"published.resource_id": event.resource_id}, {"_id": 1},
                                              session=tx.session)
    if doc is None:
        return
    await apply_to_request(tx, doc["_id"], utcnow(),
                           lambda r: r.record_unpublication(resource_id=event.resource_id, at=event.at))


@consumer.handles(lib.AnswerFoundBeforeAsking)
async def answer_found(event: lib.AnswerFoundBeforeAsking, tx: Tx) -> None:
    await tx.db[repo.COUNTERS].update_one(
        {"_id": "answers_found_before_asking"}, {"$inc": {"value": 1}}, upsert=True, session=tx.session)
