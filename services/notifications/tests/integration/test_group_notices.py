"""Working groups and the Peer Steering Committee: a member is told they (or their city) joined, with a
committee term in words; a member city's verified officials, member officials and partner experts hear the
group's decisions and its deliverable published in the library; a third city's official hears nothing; a
redelivered decision tells nobody twice; a member who left hears no later decision. Each notice's link is
a path the gateway's pages serve."""

from __future__ import annotations

from datetime import UTC, date, datetime

from nrn_contracts.events import accounts as acc
from nrn_contracts.events import peer
from starlette.routing import Match

from notifications.testing import CITY, OTHER_CITY

from .conftest import running_service  # noqa: F401  (pytest's importlib mode resolves the package)


def served(path: str) -> bool:
    """Whether a gateway page route serves ``path`` (the working groups' and the library's pages)."""
    from gateway.web import library_pages, peer_pages

    scope = {"type": "http", "method": "GET", "path": path}
    return any(route.matches(scope)[0] is Match.FULL
               for router in (peer_pages.router, library_pages.router) for route in router.routes)


def plain(received) -> str:  # noqa: ANN001
    return received.message.get_body(("plain",)).get_content()


async def test_members_hear_their_group_and_nobody_else(svc, first) -> None:  # noqa: ANN001
    at = datetime.now(UTC)
    by = {"by": "pm-1", "at": at}
    # off-1 (Flint) and off-2 (Gary) come from the fixture; off-3 of a third city and a partner expert join here
    await svc.publish(acc.CityRegistered(city_id="oh-youngstown", name="Youngstown", state="OH", population=60_000),
                      acc.AccountRegistered(account_id="off-3", kind="official", email="yolanda@youngstown.example",
                                            name="Yolanda", city_id="oh-youngstown", status="verified"),
                      acc.AccountRegistered(account_id="pe-1", kind="partner_member", email="pia@ntia.example",
                                            name="Pia Partner", partner_id="org-ntia", status="verified"))
    await svc.eventually(lambda: svc.db.people.find_one({"_id": "pe-1"}))
    wg = {"working_group_id": "wg-1"}
    await svc.publish(
        peer.WorkingGroupFormed(**wg, name="Vacant Land Working Group", **by),
        peer.MemberJoined(**wg, member_kind="city", member_id=CITY, city_id=CITY, name="Flint, MI", **by),
        peer.MemberJoined(**wg, member_kind="official", member_id="off-2", city_id=OTHER_CITY, name="Gus Gary", **by),
        peer.MemberJoined(**wg, member_kind="partner_expert", member_id="pe-1", name="Pia Partner",
                          organization="NTIA", **by),
        peer.WorkingGroupFormed(working_group_id="psc", kind="steering_committee", name="Peer Steering Committee",
                                **by),
        peer.MemberJoined(working_group_id="psc", member_kind="city", member_id=OTHER_CITY, city_id=OTHER_CITY,
                          name="Gary, IN", term_starts_on=date(2027, 1, 1), term_ends_on=date(2028, 12, 31), **by),
        source="/nrn/peer")
    city_joined = await svc.eventually(lambda: first(svc, "olive@flint.example", "Flint, MI joined Vacant Land"))
    assert "Your city, Flint, MI, is now a member of Vacant Land Working Group" in " ".join(plain(city_joined).split())
    assert "https://nrn.example/groups/wg-1" in plain(city_joined)
    assert city_joined.message.get_body(("html",)) is not None
    await svc.eventually(lambda: first(svc, "gus@gary.example", "You joined Vacant Land Working Group"))
    await svc.eventually(lambda: first(svc, "pia@ntia.example", "You joined Vacant Land Working Group"))
    term = await svc.eventually(lambda: first(svc, "gus@gary.example", "Gary, IN joined Peer Steering Committee"))
    assert "Term begins: Fri, Jan 1, 2027" in plain(term) and "Term ends: Sun, Dec 31, 2028" in plain(term)

    # a decision: every member (the member city's official, the member official, the partner expert)
    decision = peer.GroupDecisionRecorded(**wg, decision_id="dec-1", summary="Adopt the shared land bank template",
                                          decided_on=date(2027, 2, 3), **by)
    [decision_id] = await svc.publish(decision, source="/nrn/peer")
    told = await svc.eventually(lambda: first(svc, "olive@flint.example", "Decision of Vacant Land Working Group"))
    text = plain(told)
    assert "Adopt the shared land bank template" in text and "Wed, Feb 3, 2027" in text
    html = told.message.get_body(("html",)).get_content()
    assert "Adopt the shared land bank template" in html and 'href="https://nrn.example/groups/wg-1"' in html
    await svc.eventually(lambda: first(svc, "gus@gary.example", "Decision of Vacant Land"))
    await svc.eventually(lambda: first(svc, "pia@ntia.example", "Decision of Vacant Land"))

    # redelivered: nobody is told twice
    await svc.publish(decision, ids=[decision_id], source="/nrn/peer")
    # Gus leaves: he is told, and the next decision reaches Olive and Pia, not him
    await svc.publish(
        peer.MemberLeft(**wg, member_kind="official", member_id="off-2", city_id=OTHER_CITY,
                        reason="Moved to the committee", **by),
        peer.GroupDecisionRecorded(**wg, decision_id="dec-2", summary="Meet monthly", decided_on=date(2027, 3, 3), **by),
        peer.DeliverablePublished(**wg, deliverable_id="del-1", working_group_name="Vacant Land Working Group",
                                  title="Land bank playbook", summary="How five cities set up land banks",
                                  body="The playbook.", version=2, approved_by="pm-1", at=at),
        source="/nrn/peer")
    left = await svc.eventually(lambda: first(svc, "gus@gary.example", "You are no longer a member"))
    assert "Moved to the committee" in plain(left)
    published = await svc.eventually(lambda: first(svc, "olive@flint.example", "Published in the library"))
    assert "https://nrn.example/library/deliverable-del-1" in plain(published)
    await svc.eventually(lambda: first(svc, "pia@ntia.example", "Published in the library: Land bank playbook"))
    await svc.eventually(lambda: first(svc, "olive@flint.example", "Decision of Vacant Land"))

    def subjects(address: str) -> list[str]:
        return [str(r.message["Subject"]) for r in svc.smtp.to(address)]

    assert subjects("olive@flint.example").count("Decision of Vacant Land Working Group") == 2  # dec-1 once, dec-2
    assert subjects("pia@ntia.example").count("Decision of Vacant Land Working Group") == 2
    gus = subjects("gus@gary.example")
    assert gus.count("Decision of Vacant Land Working Group") == 1 and not any("Published" in s for s in gus)
    assert svc.smtp.to("yolanda@youngstown.example") == []

    # the in-page notices, with links the gateway serves
    notices = [n for n in (await svc.notices("off-1"))["items"] if n["kind"] == "working_groups"]
    assert {n["link"] for n in notices} == {"/groups/wg-1", "/library/deliverable-del-1"}
    assert len(notices) == 4 and all(served(n["link"]) for n in notices)
    assert (await svc.notices("off-3"))["items"] == []
    assert notices[-1]["title"] == "Your city is now a member of Vacant Land Working Group."  # oldest last
