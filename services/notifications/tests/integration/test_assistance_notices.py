"""Direct assistance's events (``nrn.engagements.v1``) in, e-mails out through the real SMTP server:
the applying city's verified officials hear each step of their application and engagement (receipt,
the decision with the position or NRN's reason, a place from the waitlist, the engagement opened,
the work plan agreed, the close-out with the final report's link); program managers hear of a new
application, the reviewer of their assignment; another city's official, a pending official and
a triage lead hear nothing; a redelivered event sends nothing new; a person's choice for the kind
is honored; a type no row names is ignored, a malformed event parked."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from nrn_contracts import CloudEvent, encode
from nrn_contracts.events import accounts as acc
from nrn_contracts.events import engagements as eng

from notifications.testing import CITY, OTHER_CITY

from .conftest import running_service  # noqa: F401  (pytest's importlib mode resolves the package)

SOURCE = "/nrn/engagements"


def parts(received) -> tuple[str, str]:  # noqa: ANN001
    """(plain text, HTML) of a received message: both must be there."""
    return (received.message.get_body(("plain",)).get_content(), received.message.get_body(("html",)).get_content())


async def test_the_applying_city_and_the_staff_concerned_hear_each_step_and_nobody_else(svc, first) -> None:  # noqa: ANN001
    at = datetime.now(UTC)
    await svc.publish(
        # a second Flint official (who chose the site only for this kind), a Flint official not yet
        # verified, and a reviewer
        acc.AccountRegistered(account_id="off-4", kind="official", email="fay@flint.example", name="Fay Flint",
                              city_id=CITY, status="verified"),
        acc.AccountRegistered(account_id="off-5", kind="official", email="pen@flint.example", name="Pen Pending",
                              city_id=CITY, status="pending"),
        acc.AccountRegistered(account_id="rev-1", kind="staff", email="rev-1@nrn.example", name="Rae Reviewer",
                              status="verified"),
        acc.RoleGranted(account_id="rev-1", role="reviewer", by="adm-1", at=at))
    await svc.eventually(lambda: svc.db.people.find_one({"_id": "rev-1", "roles": "reviewer"}))
    r = await svc.http.put("/preferences", json={"modes": {"assistance": "in_page"}}, headers=svc.as_("off-4"))
    assert r.status_code == 200, r.text
    assert {k["key"]: k["label"] for k in r.json()["kinds"]}["assistance"] == "Direct assistance"

    submitted = eng.ApplicationSubmitted(
        application_id="app-1", city_id=CITY, official_id="off-1", background="Flint lost half its jobs.",
        economic_challenges="Vacancy.", project_management="The mayor's office leads.", submitted_at=at,
        exception_requested=True)
    (submitted_id,) = await svc.publish(submitted, source=SOURCE)
    receipt = await svc.eventually(lambda: first(svc, "olive@flint.example", "Application received"))
    text, html = parts(receipt)
    assert "Your city's application for on-the-ground technical assistance is submitted" in text
    assert "https://nrn.example/applications/app-1" in text and 'href="https://nrn.example/applications/app-1"' in html
    assert "exception to the eligibility rules" in text and receipt.message["List-Unsubscribe"]
    new = await svc.eventually(lambda: first(svc, "pm-1@nrn.example", "New application for direct assistance: Flint"))
    text, _ = parts(new)
    assert "/staff/applications/app-1" in text and "asks for an exception" in text

    await svc.publish(eng.ReviewerAssigned(application_id="app-1", reviewer_id="rev-1", by="pm-1", at=at),
                      eng.ApplicationScored(application_id="app-1", reviewer_id="rev-1", score=372, average=372,
                                            reviews_submitted=1, disagreement=False, at=at),  # no row: nobody told
                      eng.ApplicationDecided(application_id="app-1", city_id=CITY, decision="waitlisted",
                                             reason="Strong need; the round's places went to higher scores.",
                                             by="pm-1", at=at, score=372, waitlist_position=2),
                      source=SOURCE)
    assigned = await svc.eventually(lambda: first(svc, "rev-1@nrn.example", "An application to score: Flint, MI"))
    assert "https://nrn.example/staff/applications/app-1" in parts(assigned)[0]
    waitlisted = await svc.eventually(lambda: first(svc, "olive@flint.example", "On the waitlist"))
    text, html = parts(waitlisted)
    assert "at number 2" in text and "NRN's reason: Strong need; the round's places went to higher scores." in text
    assert "number 2" in html

    # a place frees: promoted, the engagement opens, its plan is agreed, it closes
    starts = date(2027, 4, 5)
    await svc.publish(
        eng.ApplicationPromoted(application_id="app-1", city_id=CITY, round_id="rnd-1", engagement_id="eng-1",
                                at=at),
        source=SOURCE)
    await svc.publish(
        eng.EngagementOpened(engagement_id="eng-1", application_id="app-1", city_id=CITY, title="Flint land bank strategy",
                             starts_on=starts, ends_on=starts + timedelta(days=240), opened_at=at,
                             budget_cents=25_000_000, federal_cents=18_750_000, local_cents=6_250_000),
        eng.WorkPlanAgreed(engagement_id="eng-1", city_id=CITY, agreed_by="off-1", at=at, milestones=(
            eng.PlannedMilestone(milestone_id="m2", title="Land bank strategy", owner="Erin Expert",
                                 due_on=starts + timedelta(days=150)),
            eng.PlannedMilestone(milestone_id="m1", title="Vacancy inventory", owner="City planning department",
                                 due_on=starts + timedelta(days=45)))),
        eng.AssessmentCompleted(engagement_id="eng-1", city_id=CITY, visited_on=starts, barriers=("housing",),
                                by="exp-1", at=at),  # no row: nobody told
        eng.EngagementClosed(engagement_id="eng-1", application_id="app-1", city_id=CITY, closed_at=at,
                             close_out_summary="## Outcomes", check_in_due_on=date(2028, 6, 5)),
        source=SOURCE)
    promoted = await svc.eventually(lambda: first(svc, "olive@flint.example", "Accepted from the waitlist"))
    assert "/applications/app-1" in parts(promoted)[0]
    opened = await svc.eventually(lambda: first(svc, "olive@flint.example", "Your engagement is open"))
    text, _ = parts(opened)
    assert "Flint land bank strategy" in text and "Mon, Apr 5, 2027" in text and "$250,000" in text
    assert "federal $187,500, local $62,500" in text and "https://nrn.example/engagements/eng-1" in text
    plan = await svc.eventually(lambda: first(svc, "olive@flint.example", "Work plan agreed"))
    text, _ = parts(plan)  # in due order
    assert text.index("Vacancy inventory, City planning department, due Thu, May 20, 2027") \
        < text.index("Land bank strategy, Erin Expert, due Thu, Sep 2, 2027")
    closed = await svc.eventually(lambda: first(svc, "olive@flint.example", "Engagement closed"))
    text, html = parts(closed)
    assert "https://nrn.example/engagements/eng-1#co-h" in text and "Read the final report" in html
    assert "Mon, Jun 5, 2028" in text

    # another city's application: declined with NRN's reason, to its own official only
    await svc.publish(eng.ApplicationDecided(application_id="app-2", city_id=OTHER_CITY, decision="declined",
                                             reason="Gary's population is above the program's limit.", by="pm-1",
                                             at=at), source=SOURCE)
    declined = await svc.eventually(lambda: first(svc, "gus@gary.example", "Decided: Gary, IN"))
    assert "NRN's reason: Gary's population is above the program's limit." in parts(declined)[0]

    # a redelivery (the same event id) tells nobody again
    await svc.publish(submitted, ids=[submitted_id], source=SOURCE)
    await svc.publish(eng.ApplicationDecided(application_id="app-9", city_id=CITY, decision="accepted", by="pm-1",
                                             at=at), source=SOURCE)  # a marker: everything before it is applied
    await svc.eventually(lambda: first(svc, "olive@flint.example", "Accepted: Flint"))

    async def all_sent() -> bool:
        return await svc.db.mail.count_documents({"state": {"$ne": "sent"}}) == 0
    await svc.eventually(all_sent)
    olive = [str(r.message["Subject"]) for r in svc.smtp.to("olive@flint.example")
             if str(r.message["Subject"]) != "Your account is verified"]  # the fixture's
    assert len(olive) == 7 and len(set(olive)) == 7, olive  # receipt, waitlist, promoted, opened, plan, closed, marker
    assert len(svc.smtp.to("pm-1@nrn.example")) == 1 and len(svc.smtp.to("rev-1@nrn.example")) == 1
    assert [str(r.message["Subject"]) for r in svc.smtp.to("gus@gary.example")] == [
        "Decided: Gary, IN's application for direct assistance"]  # nothing of Flint's
    for nobody in ("fay@flint.example", "pen@flint.example", "lead-1@nrn.example", "exp-1@nrn.example"):
        assert svc.smtp.to(nobody) == [], nobody
    # Fay chose "on the site only": every notice is there, none e-mailed; the pending official has none
    fay = (await svc.notices("off-4"))["items"]
    assert len(fay) == 7 and {n["kind_label"] for n in fay} == {"Direct assistance"}
    assert (await svc.notices("off-5"))["items"] == []
    olive_notices = (await svc.notices("off-1"))["items"]
    assert {n["link"] for n in olive_notices} >= {"/applications/app-1", "/engagements/eng-1",
                                                  "/engagements/eng-1#co-h"}
    assert not any("app-" in n["title"] or "_" in n["title"] for n in olive_notices)


async def test_a_regional_applications_partner_city_hears_it_as_the_lead_citys(svc, first) -> None:  # noqa: ANN001
    await svc.publish(eng.ApplicationSubmitted(
        application_id="app-r", city_id=OTHER_CITY, official_id="off-2", background="b", economic_challenges="e",
        project_management="p", submitted_at=datetime.now(UTC), partner_city_ids=(CITY,)), source=SOURCE)
    received = await svc.eventually(lambda: first(svc, "olive@flint.example", "Application received"))
    assert "Gary, IN's regional application" in parts(received)[0] and "names your city as a partner" in parts(received)[0]
    lead = await svc.eventually(lambda: first(svc, "gus@gary.example", "Application received"))
    assert "Your city's application" in parts(lead)[0] and "Partner cities: Flint, MI" in parts(lead)[0]
    # an engagement cancelled before the assessment closes with no report: the city is told so, not sent to one
    await svc.publish(
        eng.EngagementOpened(engagement_id="eng-r", application_id="app-r", city_id=OTHER_CITY, title="Gary housing",
                             opened_at=datetime.now(UTC)),
        eng.EngagementClosed(engagement_id="eng-r", application_id="app-r", city_id=OTHER_CITY, outcome="ended_early",
                             closed_at=datetime.now(UTC)), source=SOURCE)
    cancelled = await svc.eventually(lambda: first(svc, "gus@gary.example", "Engagement cancelled: Gary housing"))
    text, _ = parts(cancelled)
    assert "no final report" in text and "https://nrn.example/engagements/eng-r\n" in text and "#co-h" not in text


async def test_a_type_no_row_names_is_ignored_and_a_malformed_event_parked(svc, first) -> None:  # noqa: ANN001
    topic = svc.settings.topic("nrn.engagements.v1")
    odd = CloudEvent(specversion="1.0", id="odd-eng", source=SOURCE, time=datetime.now(UTC),
                     type="org.nationalresourcenetwork.engagements.something_new.v9", data={"application_id": "a"})
    bad = CloudEvent(specversion="1.0", id="bad-eng", source=SOURCE, time=datetime.now(UTC),
                     type=eng.ApplicationDecided.type, data={"application_id": "app-x", "decision": "maybe"})
    for ce in (odd, bad):
        await svc.producer.send_and_wait(topic, encode(ce), key=b"app-x")
    await svc.publish(eng.ApplicationDecided(application_id="app-3", city_id=CITY, decision="accepted", by="pm-1",
                                             at=datetime.now(UTC)), source=SOURCE)
    await svc.eventually(lambda: first(svc, "olive@flint.example", "Accepted: Flint"))

    async def parked() -> bool:
        return sum(r.stats.dead_lettered for r in svc.app.state.runtime.runners) == 1
    await svc.eventually(parked)
    await asyncio.sleep(0.2)
    assert await svc.db.notices.count_documents({"event_id": {"$in": ["odd-eng", "bad-eng"]}}) == 0
