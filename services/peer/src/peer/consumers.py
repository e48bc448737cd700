"""What peer learns from other services' events, kept as its own read models.

* accounts → ``cities`` (name, state) and ``people`` (officials, staff and partner members: name,
  title, e-mail for the contact a city may choose to share, city, kind); ``partners`` (name, kind: the
  organizations staff may enroll in the pro bono talent network);
* requests311 → ``city_signals.questions``: each question's subject and year (suggestions of cities
  that asked about the same subject in the same year);
* engagements → ``city_signals``: the application's "peer connections" answer, and the barriers the
  application, the engagement and its assessment named.

Handlers are upserts of the fields each event owns, so a redelivered or reordered event converges.
"""

from __future__ import annotations

from nrn_contracts.events import accounts as acc
from nrn_contracts.events import engagements as eng
from nrn_contracts.events import requests311 as r311

from nrn_kit.consumer import EventConsumer
from nrn_kit.mongo import Tx

from .adapters import mongo as repo
from .adapters import probono as probono_store

consumer = EventConsumer("read-models")


@consumer.handles(acc.CityRegistered)
async def city_registered(event: acc.CityRegistered, tx: Tx) -> None:
    # population: the health dashboard's peers of a similar size; fips: health imports name cities by it
    await tx.db[repo.CITIES].update_one({"_id": event.city_id}, {"$set": {
        "name": event.name, "state": event.state, "population": event.population, "fips": event.fips}},
        upsert=True, session=tx.session)


@consumer.handles(acc.PartnerRegistered)
async def partner_registered(event: acc.PartnerRegistered, tx: Tx) -> None:
    await tx.db[probono_store.PARTNERS].update_one({"_id": event.partner_id}, {"$set": {
        "name": event.name, "kind": event.kind}}, upsert=True, session=tx.session)


@consumer.handles(acc.AccountRegistered)
async def account_registered(event: acc.AccountRegistered, tx: Tx) -> None:
    await tx.db[repo.PEOPLE].update_one(
        {"_id": event.account_id},
        {"$set": {"kind": event.kind, "name": event.name, "title": event.title or "", "email": event.email,
                  "city_id": event.city_id, "partner_id": event.partner_id}},
        upsert=True, session=tx.session)


@consumer.handles(acc.AccountDeactivated)
async def account_deactivated(event: acc.AccountDeactivated, tx: Tx) -> None:
    await tx.db[repo.PEOPLE].update_one({"_id": event.account_id}, {"$set": {"deactivated": True}},
                                        upsert=True, session=tx.session)


@consumer.handles(r311.QuestionSubmitted)
async def question_submitted(event: r311.QuestionSubmitted, tx: Tx) -> None:
    await tx.db[repo.CITY_SIGNALS].update_one(
        {"_id": event.city_id},
        {"$set": {f"questions.{event.request_id}": {"topic": event.topic, "title": event.title,
                                                    "year": event.submitted_at.year}}},
        upsert=True, session=tx.session)


@consumer.handles(r311.QuestionTriaged)
async def question_triaged(event: r311.QuestionTriaged, tx: Tx) -> None:
    # triage may correct the subject: the question is found by its id under its city
    await tx.db[repo.CITY_SIGNALS].update_one(
        {f"questions.{event.request_id}": {"$exists": True}},
        {"$set": {f"questions.{event.request_id}.topic": event.topic}}, session=tx.session)


@consumer.handles(eng.ApplicationSubmitted)
async def application_submitted(event: eng.ApplicationSubmitted, tx: Tx) -> None:
    # the latest application's answer stands; barriers accumulate
    update: dict = {"$set": {"peer_connections": event.peer_connections}}
    if event.barriers:
        update["$addToSet"] = {"barriers": {"$each": list(event.barriers)}}
    await tx.db[repo.CITY_SIGNALS].update_one({"_id": event.city_id}, update, upsert=True, session=tx.session)


@consumer.handles(eng.EngagementOpened, eng.AssessmentCompleted)
async def barriers_named(event: eng.EngagementOpened | eng.AssessmentCompleted, tx: Tx) -> None:
    if event.barriers:
        await tx.db[repo.CITY_SIGNALS].update_one({"_id": event.city_id},
                                                  {"$addToSet": {"barriers": {"$each": list(event.barriers)}}},
                                                  upsert=True, session=tx.session)
