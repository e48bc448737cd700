"""What engagements learns from other services' events, kept as its own read models.

- accounts (`nrn.accounts.v1`): cities (name, state, population, eligibility and staff exceptions)
  and people (names, kind, city, staff roles, deactivation) — eligibility decides whether an
  application needs an exception request; roles say who may be assigned to review or to a team.
- requests311 (`nrn.requests311.v1`): answered questions (title, topic, short answer, consent) for
  an engagement's peer context.

Handlers are upsert-style and order-tolerant: each writes only the fields its event owns, so a
batch applied twice, or events of one account seen in any order with others', converge.
"""

from __future__ import annotations

from nrn_contracts.events import accounts as acc
from nrn_contracts.events import requests311 as r311

from nrn_kit.consumer import EventConsumer
from nrn_kit.mongo import Tx

from .adapters import mongo as repo

consumer = EventConsumer("read-models")


@consumer.handles(acc.CityRegistered)
async def city_registered(event: acc.CityRegistered, tx: Tx) -> None:
    await tx.db[repo.CITIES].update_one(
        {"_id": event.city_id}, {"$set": {"name": event.name, "state": event.state, "population": event.population}},
        upsert=True, session=tx.session)


@consumer.handles(acc.CityEligibilityDetermined)
async def city_eligibility(event: acc.CityEligibilityDetermined, tx: Tx) -> None:
    await tx.db[repo.CITIES].update_one(
        {"_id": event.city_id}, {"$set": {"eligible": event.eligible, "exception": event.exception}},
        upsert=True, session=tx.session)


@consumer.handles(acc.EligibilityExceptionGranted, acc.EligibilityExceptionRevoked)
async def city_exception(event: acc.EligibilityExceptionGranted | acc.EligibilityExceptionRevoked, tx: Tx) -> None:
    granted = isinstance(event, acc.EligibilityExceptionGranted)
    await tx.db[repo.CITIES].update_one(
        {"_id": event.city_id}, {"$set": {"exception": granted, "exception_reason": event.reason}},
        upsert=True, session=tx.session)


@consumer.handles(acc.AccountRegistered)
async def account_registered(event: acc.AccountRegistered, tx: Tx) -> None:
    await tx.db[repo.PEOPLE].update_one(
        {"_id": event.account_id},
        {"$set": {"name": event.name, "kind": event.kind, "city_id": event.city_id, "title": event.title}},
        upsert=True, session=tx.session)


@consumer.handles(acc.RoleGranted)
async def role_granted(event: acc.RoleGranted, tx: Tx) -> None:
    # "staff" is in every staff member's roles so the staff list is one index query
    await tx.db[repo.PEOPLE].update_one(
        {"_id": event.account_id}, {"$addToSet": {"roles": {"$each": [event.role, "staff"]}}},
        upsert=True, session=tx.session)


@consumer.handles(acc.RoleRevoked)
async def role_revoked(event: acc.RoleRevoked, tx: Tx) -> None:
    await tx.db[repo.PEOPLE].update_one(
        {"_id": event.account_id}, {"$pull": {"roles": event.role}}, upsert=True, session=tx.session)


@consumer.handles(acc.AccountDeactivated)
async def account_deactivated(event: acc.AccountDeactivated, tx: Tx) -> None:
    await tx.db[repo.PEOPLE].update_one(
        {"_id": event.account_id}, {"$set": {"deactivated": True}}, upsert=True, session=tx.session)


@consumer.handles(r311.MemoDelivered)
async def memo_delivered(event: r311.MemoDelivered, tx: Tx) -> None:
    named = event.consent_to_publish == "named"
    await tx.db[repo.ANSWERED].update_one({"_id": event.request_id}, {"$set": {
        "city_id": event.city_id, "title": event.title, "topic": event.topic, "short_answer": event.short_answer,
        "delivered_at": event.delivered_at, "consent": event.consent_to_publish,
        "city_name": event.city_name if named else None}}, upsert=True, session=tx.session)


@consumer.handles(r311.ConsentChanged)
async def consent_changed(event: r311.ConsentChanged, tx: Tx) -> None:
    # only questions already answered matter here; a consent change before delivery comes with MemoDelivered
    await tx.db[repo.ANSWERED].update_one(
        {"_id": event.request_id},
        {"$set": {"consent": event.consent_to_publish,
                  "city_name": event.city_name if event.consent_to_publish == "named" else None}},
        session=tx.session)
