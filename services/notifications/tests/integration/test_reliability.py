"""Nothing told twice, nothing lost, and a mail server's trouble never reaches the consumer."""

from __future__ import annotations

import asyncio
import dataclasses

from nrn_contracts import CloudEvent, encode
from nrn_contracts.events import requests311 as r311
from nrn_kit.consumer import applied_event_keys

from notifications.domain import rules as rules_module
from notifications.testing import hanging_smtp_server, later, question_submitted

from .conftest import running_service  # noqa: F401  (pytest's importlib mode resolves the package)


async def test_a_redelivered_event_sends_nothing_new(svc, first) -> None:
    (event_id,) = await svc.publish(question_submitted())
    await svc.eventually(lambda: first(svc, "olive@flint.example", "We received"))
    await svc.eventually(lambda: first(svc, "lead-1@nrn.example", "New question"))
    before = len(svc.smtp.received)
    # the same event again; then again after the inbox forgot it (retention, or a redrive)
    await svc.publish(question_submitted(), ids=[event_id])
    await svc.eventually(lambda: _applied(svc, duplicates=1))
    await svc.db.inbox.delete_many({})
    await svc.publish(question_submitted(), ids=[event_id])
    await svc.eventually(lambda: _remembered(svc, event_id))
    # a later event's message arriving proves the sender had its chance to send duplicates
    await svc.publish(r311.InformationRequested(request_id="req-1", message="Your budget?", by="lead-1", at=later()))
    await svc.eventually(lambda: first(svc, "olive@flint.example", "more information"))
    assert len(svc.smtp.received) == before + 1
    assert await svc.db.notices.count_documents({"event_id": event_id}) == 2  # official + triage lead


async def _applied(svc, *, duplicates: int) -> bool:  # noqa: ANN001
    return sum(r.stats.duplicates for r in svc.app.state.runtime.runners) >= duplicates


async def test_a_question_before_its_officials_account_is_told_once_the_account_is_readable(svc, first) -> None:
    from nrn_contracts.events import accounts as acc

    await svc.publish(question_submitted("req-9", official="off-9", title="Asked in the first minute"))
    await svc.eventually(lambda: svc.db.deferred.find_one({"person": "off-9"}))
    await svc.publish(acc.AccountRegistered(account_id="off-9", kind="official", email="nina@flint.example",
                                            name="Nina New", city_id="mi-flint", status="pending"))
    await svc.eventually(lambda: svc.db.people.find_one({"_id": "off-9", "kind": "official"}))
    assert await svc.db.deferred.count_documents({"person": "off-9"}) == 1  # pending: cannot read requests yet
    await svc.publish(acc.AccountVerified(account_id="off-9", city_id="mi-flint", by="adm-1", at=later()))
    await svc.eventually(lambda: first(svc, "nina@flint.example", "Asked in the first minute"))
    assert await svc.db.deferred.count_documents({"person": "off-9"}) == 0
    await svc.publish(acc.RoleGranted(account_id="off-9", role="official", by="adm-1", at=later()))
    await svc.eventually(lambda: first(svc, "nina@flint.example", "Your account is verified"))
    receipts = [r for r in svc.smtp.to("nina@flint.example") if "Asked in the first minute" in str(r.message["Subject"])]
    assert len(receipts) == 1


async def test_unknown_event_types_are_ignored_and_consumption_goes_on(svc, first) -> None:
    odd = CloudEvent(specversion="1.0", id="odd-1", source="/nrn/requests311", time=later(),
                     type="org.nationalresourcenetwork.requests311.something_new.v9", data={"request_id": "req-1"})
    await svc.producer.send_and_wait(svc.settings.topic("nrn.requests311.v1"), encode(odd), key=b"req-1")
    await svc.publish(question_submitted(),
                      r311.QuestionTriaged(request_id="req-1", topic="housing", urgency="soon", by="lead-1", at=later()))
    await svc.eventually(lambda: first(svc, "olive@flint.example", "We received"))
    assert sum(r.stats.dead_lettered for r in svc.app.state.runtime.runners) == 0
    # triage tells nobody: no row of the table names it
    await asyncio.sleep(0.5)
    assert await svc.db.notices.count_documents({"event_type": r311.QuestionTriaged.type}) == 0


async def test_a_hanging_mail_server_does_not_delay_the_next_in_page_notice(make_settings) -> None:
    async with hanging_smtp_server() as port:
        async with running_service(make_settings, smtp_port=port, smtp_timeout_seconds=60) as svc:
            await svc.people()
            await svc.publish(question_submitted("req-1"))
            # the first message is stuck in the hands of a server that never answers
            await svc.eventually(lambda: svc.db.mail.find_one({"state": "sending"}))
            await svc.publish(question_submitted("req-2", title="Can we reuse vacant lots for housing?"))

            async def second_notice() -> bool:
                items = (await svc.notices("off-1"))["items"]
                return any("vacant lots" in n["title"] for n in items)

            await svc.eventually(second_notice)
            # …while the server still has not answered the first
            assert await svc.db.mail.count_documents({"state": "sending"}) >= 1
            assert await svc.db.mail.count_documents({"state": "sent"}) == 0


async def test_failed_sends_retry_with_backoff_then_show_as_failed_and_staff_retry(make_settings, first) -> None:
    async with running_service(make_settings, send_max_attempts=3) as svc:
        await svc.people()
        svc.smtp.handler.refuse["olive@flint.example"] = "451 4.3.0 mailbox busy, try later"
        svc.smtp.handler.refuse["lead-1@nrn.example"] = "550 5.1.1 no such mailbox"
        await svc.publish(question_submitted())
        failed = await svc.eventually(lambda: _failed(svc, 2))
        # (the official's "verified" message may fail too, if it was still waiting when the refusals began)
        by_to = {m["to"]: m for m in failed if m["subject"].startswith(("We received", "New question"))}
        assert by_to["olive@flint.example"]["attempts"] == 3  # temporary: tried, backed off, gave up
        assert "451" in by_to["olive@flint.example"]["last_error"]
        assert by_to["lead-1@nrn.example"]["attempts"] == 1  # permanent refusal: no retry
        assert (await svc.mail())["counts"]["failed"] >= 2
        # the in-page notice was there all along
        assert any("We received" in n["title"] for n in (await svc.notices("off-1"))["items"])
        # the server recovers; staff press retry
        svc.smtp.handler.refuse.clear()
        r = await svc.http.post(f"/admin/mail/{by_to['olive@flint.example']['id']}/retry",
                                headers=svc.as_("lead-1", "staff", "triage_lead"))
        assert r.status_code == 200 and r.json()["state"] == "pending"
        await svc.eventually(lambda: first(svc, "olive@flint.example", "We received"))
        r = await svc.http.post(f"/admin/mail/{by_to['olive@flint.example']['id']}/retry",
                                headers=svc.as_("lead-1", "staff", "triage_lead"))
        assert r.status_code == 422 and r.json()["field"] == "state"
        r = await svc.http.post(f"/admin/mail/{by_to['lead-1@nrn.example']['id']}/retry",
                                headers=svc.as_("off-1"))
        assert r.status_code == 403


async def _failed(svc, n: int) -> list[dict]:  # noqa: ANN001
    items = [m for m in (await svc.mail("failed"))["items"] if m["subject"].startswith(("We received", "New question"))]
    return (await svc.mail("failed"))["items"] if len(items) >= n else []


async def test_a_template_error_parks_the_message_with_its_reason(svc, monkeypatch) -> None:
    broken = tuple(dataclasses.replace(rule, template="no_such_template") if rule.template == "question_received"
                   else rule for rule in rules_module.RULES)
    monkeypatch.setattr(rules_module, "RULES", broken)
    await svc.publish(question_submitted())
    parked = await svc.eventually(lambda: svc.db.mail.find_one({"state": "parked"}))
    assert "no_such_template" in parked["last_error"] and parked["context"]["request"]["title"]
    # the notice is on the site all the same, titled without the template
    notice = await svc.db.notices.find_one({"_id": parked["_id"]})
    assert notice["title"] == "Your city's questions: How do we fund lead pipe replacement?"
    listed = (await svc.mail("parked"))["items"]
    assert [m["id"] for m in listed] == [parked["_id"]] and "no_such_template" in listed[0]["last_error"]
    r = await svc.http.post(f"/admin/mail/{parked['_id']}/retry", headers=svc.as_("lead-1", "staff", "triage_lead"))
    assert r.status_code == 422 and r.json()["field"] == "template"


async def test_the_events_of_one_transaction_see_what_the_earlier_ones_changed(svc) -> None:
    """The consumer applies a fetched batch in one transaction, its look-ups shared by the events and
    its notices written together at the end: a triage lead who joins halfway through the batch is
    told of the questions after, not before; the batch applied again (redelivered, the inbox gone)
    tells nobody twice."""
    from nrn_contracts import envelope
    from nrn_contracts.events import accounts as acc

    from notifications import consumers

    events = [question_submitted("req-a"),
              acc.AccountRegistered(account_id="lead-2", kind="staff", email="lead-2@nrn.example", name="Lee Lead",
                                    status="verified"),
              acc.RoleGranted(account_id="lead-2", role="triage_lead", by="adm-1", at=later()),
              question_submitted("req-b"), question_submitted("req-c")]
    envelopes = [envelope(event, source="/nrn/test") for event in events]

    async def apply(tx, start: int = 0) -> None:  # noqa: ANN001 — as ConsumerRunner._apply does with a batch
        for ce, event in list(zip(envelopes, events, strict=True))[start:]:
            tx.envelope = ce
            for handler in consumers.consumer.handlers[ce.type]:
                await handler(event, tx)

    async def told(ce) -> set[str]:  # noqa: ANN001
        return {d["recipient"] async for d in svc.db.notices.find({"event_id": ce.id})}

    before = await svc.db.mail.count_documents({})
    await svc.deps.store.transaction(apply, group=False)
    assert await told(envelopes[0]) == {"off-1", "lead-1"}
    assert await told(envelopes[3]) == await told(envelopes[4]) == {"off-1", "lead-1", "lead-2"}
    mails = await svc.db.mail.count_documents({})
    assert mails == before + 8
    # again from the new lead on (the first question would now tell them too: they lead triage by then)
    await svc.deps.store.transaction(lambda tx: apply(tx, 1), group=False)
    assert await svc.db.mail.count_documents({}) == mails
    assert await svc.db.notices.count_documents({"event_id": {"$in": [ce.id for ce in envelopes]}}) == 8


async def _remembered(svc, event_id: str) -> bool:
    """Whether the service's inbox holds the event (applied, and not forgotten since)."""
    return any(key.endswith(f":{event_id}") for key in await applied_event_keys(svc.db))


async def test_a_request_heard_of_in_a_batch_is_read_by_its_later_events(svc) -> None:
    """A QuestionSubmitted's request is written with the batch's other requests just before the
    commit, not at once: the batch's later events about it (an expert assigned, a memo returned to
    that expert) still read it whole, and it is stored with every field at the end."""
    from nrn_contracts import envelope

    from notifications import consumers

    events = [question_submitted("req-d", title="Can we braid funding for lead lines?"),
              r311.ExpertAssigned(request_id="req-d", expert_id="exp-1", by="lead-1", at=later()),
              r311.MemoReturned(request_id="req-d", version=1, reason="Please cite the state program.",
                                by="lead-1", at=later()),
              question_submitted("req-e")]
    envelopes = [envelope(event, source="/nrn/test") for event in events]

    async def apply(tx) -> None:  # noqa: ANN001 — as ConsumerRunner._apply does with a batch
        for ce, event in zip(envelopes, events, strict=True):
            tx.envelope = ce
            for handler in consumers.consumer.handlers[ce.type]:
                await handler(event, tx)

    async def told(ce) -> set[str]:  # noqa: ANN001
        return {d["recipient"] async for d in svc.db.notices.find({"event_id": ce.id})}

    await svc.deps.store.transaction(apply, group=False)
    assert await told(envelopes[1]) == await told(envelopes[2]) == {"exp-1"}
    assert await told(envelopes[3]) == {"off-1", "lead-1"}
    returned = await svc.db.notices.find_one({"event_id": envelopes[2].id})
    assert "braid funding" in returned["title"] and "req-d" in returned["link"]  # the request as stored
    stored = await svc.db.requests.find_one({"_id": "req-d"})
    assert stored["expert_id"] == "exp-1" and stored["title"] == "Can we braid funding for lead lines?"
    assert stored["official_id"] == "off-1" and stored["city_name"]
    assert (await svc.db.requests.find_one({"_id": "req-e"}))["official_id"] == "off-1"
