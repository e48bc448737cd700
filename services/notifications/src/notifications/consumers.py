"""What notifications learns from the other services' events, and the notices they cause.

For each event the read-model handlers run first (people, cities, requests, calls, follow-ups;
peer's convenings, registrations, introductions, pro bono projects, working groups and their
members; direct assistance's applications and engagements),
then :func:`tell`, which applies the rules table (``domain/rules.py``): handlers of one event
type run in the order they are registered, inside one transaction with the inbox record.
Events of types no handler names are ignored.
"""

from __future__ import annotations

from nrn_contracts.events import accounts as acc
from nrn_contracts.events import engagements as eng
from nrn_contracts.events import peer
from nrn_contracts.events import requests311 as r311

from nrn_kit.consumer import EventConsumer
from nrn_kit.mongo import Tx

from . import handlers as h
from . import handlers_engagements as he
from . import handlers_peer as hp
from .domain.rules import RULES, FollowUpDue

consumer = EventConsumer("notices")

# The running services' dependencies (settings, clock), by database: app.py registers them at
# start. Keyed so that several instances in one process (tests, `nrn_cli.system`) stay apart.
_deps: dict[str, h.Deps] = {}


def register(deps: h.Deps) -> None:
    _deps[deps.db.name] = deps


def unregister(deps: h.Deps) -> None:
    _deps.pop(deps.db.name, None)


@consumer.handles(acc.CityRegistered)
async def city_registered(event: acc.CityRegistered, tx: Tx) -> None:
    await h.remember_city(tx, event)


@consumer.handles(acc.AccountRegistered)
async def account_registered(event: acc.AccountRegistered, tx: Tx) -> None:
    await h.remember_account(tx, event)
    await h.replay_deferred(tx, _deps[tx.db.name], event.account_id)


@consumer.handles(acc.AccountVerified)
async def account_verified(event: acc.AccountVerified, tx: Tx) -> None:
    await h.set_status(tx, event.account_id, "verified")
    await h.replay_deferred(tx, _deps[tx.db.name], event.account_id)


@consumer.handles(acc.AccountDeactivated)
async def account_deactivated(event: acc.AccountDeactivated, tx: Tx) -> None:
    await h.set_status(tx, event.account_id, "deactivated")


@consumer.handles(acc.AccountReactivated)
async def account_reactivated(event: acc.AccountReactivated, tx: Tx) -> None:
    await h.set_status(tx, event.account_id, event.status)  # told again from now on


@consumer.handles(acc.RoleGranted)
async def role_granted(event: acc.RoleGranted, tx: Tx) -> None:
    await h.grant_role(tx, event)
    await h.replay_deferred(tx, _deps[tx.db.name], event.account_id)


@consumer.handles(acc.RoleRevoked)
async def role_revoked(event: acc.RoleRevoked, tx: Tx) -> None:
    await h.revoke_role(tx, event)


@consumer.handles(acc.MailboxConfirmed)
async def mailbox_confirmed(event: acc.MailboxConfirmed, tx: Tx) -> None:
    await h.mailbox_confirmed(tx, event)


@consumer.handles(r311.QuestionSubmitted)
async def question_submitted(event: r311.QuestionSubmitted, tx: Tx) -> None:
    await h.remember_request(tx, event)


@consumer.handles(r311.ExpertAssigned)
async def expert_assigned(event: r311.ExpertAssigned, tx: Tx) -> None:
    await h.remember_expert(tx, event)


@consumer.handles(r311.CallCompleted)
async def call_completed(event: r311.CallCompleted, tx: Tx) -> None:
    await h.call_outcome(tx, event.request_id, "held")


@consumer.handles(r311.CallMissed)
async def call_missed(event: r311.CallMissed, tx: Tx) -> None:
    # the invitation stays open: the official books another time, which moves it (same UID)
    await h.call_outcome(tx, event.request_id, "missed")


@consumer.handles(r311.CallRescheduleRequested)
async def call_released(event: r311.CallRescheduleRequested, tx: Tx) -> None:
    # the invitation stays open: the booking of a new slot moves it (same UID, higher SEQUENCE)
    await h.call_outcome(tx, event.request_id, "released")


@consumer.handles(r311.RequestClosed)
async def request_closed(event: r311.RequestClosed, tx: Tx) -> None:
    await h.request_closed(tx, event)


@consumer.handles(r311.RequestReopened)
async def request_reopened(event: r311.RequestReopened, tx: Tx) -> None:
    await h.follow_up_not_needed(tx, event.request_id, "cancelled")


@consumer.handles(r311.FollowUpRecorded)
async def follow_up_recorded(event: r311.FollowUpRecorded, tx: Tx) -> None:
    await h.follow_up_not_needed(tx, event.request_id, "recorded")


@consumer.handles(peer.ConveningScheduled)
async def convening_scheduled(event: peer.ConveningScheduled, tx: Tx) -> None:
    await hp.remember_convening(tx, event)


@consumer.handles(peer.ConveningUpdated)
async def convening_updated(event: peer.ConveningUpdated, tx: Tx) -> None:
    await hp.convening_updated(tx, event)


@consumer.handles(peer.ConveningCancelled)
async def convening_cancelled(event: peer.ConveningCancelled, tx: Tx) -> None:
    await hp.convening_cancelled(tx, event)


@consumer.handles(*hp.REGISTRATION_STATUS)
async def registration_changed(event, tx: Tx) -> None:  # noqa: ANN001
    await hp.remember_registration(tx, event)


@consumer.handles(peer.IntroductionOffered)
async def introduction_offered(event: peer.IntroductionOffered, tx: Tx) -> None:
    await hp.remember_introduction(tx, event)


@consumer.handles(peer.ProjectPosted)
async def project_posted(event: peer.ProjectPosted, tx: Tx) -> None:
    await hp.remember_project(tx, event)


@consumer.handles(eng.ApplicationSubmitted)
async def application_submitted(event: eng.ApplicationSubmitted, tx: Tx) -> None:
    await he.remember_application(tx, event)


@consumer.handles(eng.EngagementOpened)
async def engagement_opened(event: eng.EngagementOpened, tx: Tx) -> None:
    await he.remember_engagement(tx, event)


@consumer.handles(peer.WorkingGroupFormed)
async def working_group_formed(event: peer.WorkingGroupFormed, tx: Tx) -> None:
    await hp.remember_group(tx, event)


@consumer.handles(peer.MemberJoined, peer.MemberLeft)
async def membership_changed(event, tx: Tx) -> None:  # noqa: ANN001
    await hp.membership_changed(tx, event)


async def tell(event, tx: Tx) -> None:  # noqa: ANN001
    assert tx.envelope is not None
    await h.notify(tx, _deps[tx.db.name], event, tx.envelope.id)


# after the read models: every event class the table names (FollowUpDue is our own timer's)
consumer.handles(*dict.fromkeys(rule.event for rule in RULES if rule.event is not FollowUpDue))(tell)
