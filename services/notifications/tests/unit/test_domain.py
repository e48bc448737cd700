"""The rules table, who may receive what, time zones, tokens, invitations and messages (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from email import policy
from email.parser import BytesParser
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from notifications import consumers
from nrn_kit.calendar import Attendee, Invitation, build_ics
from notifications.domain.kinds import KINDS, Mode, kinds_for, mode_for
from notifications.domain.messages import Rendered, compose, message_id
from notifications.domain.people import Person, may_receive
from notifications.domain.rules import RULES, FollowUpDue, rules_for
from notifications.domain.unsubscribe import BadToken, make_token, read_token
from notifications.domain.zones import STATE_ZONES, US_ZONES, next_local_time, valid_zone, zone_for_state
from notifications.render import TEMPLATES, TemplateFailed, render

# ------------------------------------------------------------------ the table


def test_every_row_names_a_kind_and_templates_that_exist() -> None:
    for rule in RULES:
        assert rule.kind in KINDS, rule
        assert (TEMPLATES / f"{rule.template}.txt").exists() and (TEMPLATES / f"{rule.template}.html").exists(), rule
        # account messages go to their holder only; everything else through the matrix
        assert (rule.action is None) == KINDS[rule.kind].security, rule


def test_the_consumer_subscribes_to_every_event_the_table_names() -> None:
    named = {rule.event.type for rule in RULES if rule.event is not FollowUpDue}
    assert named <= set(consumers.consumer.handlers)
    assert rules_for("org.nationalresourcenetwork.requests311.question_triaged.v1") == []
    assert [r.who.value for r in rules_for("org.nationalresourcenetwork.requests311.question_submitted.v1")] == [
        "the official who asked", "every triage lead"]


def test_no_single_use_link_rests_in_a_notice() -> None:
    assert {r.template for r in RULES if not r.in_page} == {"confirm_email", "reset_password"}


SAMPLE = {
    "person": {"name": "Olive <Official>"}, "link": "https://nrn.example/requests/r1",
    "preferences_url": "https://nrn.example/notifications/settings", "kind_label": "Your city's questions",
    "unsubscribe_url": "https://nrn.example/unsubscribe?token=t", "request": {"title": "Lead & <pipes>", "city_name": "Flint"},
    "expires": "Tue, Mar 3, 2026, 10:00 AM EST", "when": "Tue, Mar 3, 2026, 10:00 AM EST", "via_reset": True,
    "reset_url": "https://nrn.example/forgot-password", "city_name": "Flint", "topic_label": "Housing",
    "urgency_label": "Soon", "message": "Your budget?", "due": None, "version": 2, "reason": "Add an example",
    "short_answer": "Combine funds.", "slots": ["Tue, Mar 3, 2026, 10:00 AM EST (30 minutes)"], "zone_label": "Flint's time",
    "step_label": "memo", "updated": False, "items": [{"when": "x", "summary": "s", "link": "l"}],
    "notices_url": "https://nrn.example/notifications", "because": "the city cancelled it",
    "preferred": ["Tuesday <mornings>"],
    "url": "https://hooks.partner.example/nrn?a=1&b=<2>", "endpoint_description": "Grants <desk>", "gone": False,
    "attempts": 10, "last_error": "answered 500",
    "convening": "Convening <2027> & more", "starts": "Wed, Apr 14, 2027, 8:30 AM CDT", "position": 2,
    "hold_until": "Fri, Apr 2, 2027, 9:00 AM CDT", "cancelled_because": "the convening itself was cancelled",
    "from_waitlist": True, "calendar": True, "place": "Cobo <Center>, Detroit", "changes": "the time and the place",
    "ends": "Wed, Apr 14, 2027, 5:00 PM CDT", "other_city": "Gary, IN", "answering_city": "Flint, MI",
    "accepted": True, "both_accepted": False, "declined": False,
    "project": "Grant <writing> & budgets", "city": "Flint, MI", "volunteer_name": "Val <Volunteer>",
    "volunteer_email": "val@firm.example", "hours": "20 hours", "reasons": ["Knows <grant> writing"], "by_city": False,
    "to_volunteer": False, "worked_on": "Mon, Mar 1, 2027", "note": "Drafted <the> plan", "decision": "declined",
    "opened": False, "returned": True,
    "call": {"when": "Tue, Mar 3, 2026, 10:00 AM EST", "duration": 30, "when_other": None, "with_whom": "Eve Expert"},
    "assistance": {"city": "Flint, MI", "as_partner": True, "partners": ["Gary, IN"],
                   "submitted": "Tue, Mar 3, 2026, 10:00 AM EST", "exception": True, "peer_connections": True,
                   "decision": "waitlisted", "decision_words": "put on the waitlist", "reason": "Full <round>",
                   "position": 2, "title": "Land <bank> strategy", "starts_on": "Mon, Apr 5, 2027",
                   "ends_on": "Fri, Dec 3, 2027", "budget": "$250,000", "federal": "$187,500", "local": "$62,500",
                   "milestones": [{"title": "Vacancy <inventory>", "owner": "Planning", "due": "Mon, May 3, 2027"}],
                   "ended_early": False, "check_in": "Mon, Jun 5, 2028", "cancelled": False},
    "group": "Vacant <Land> Working Group", "as_city": True, "term_starts": "Fri, Jan 1, 2027",
    "term_ends": "Sun, Dec 31, 2028", "decided_on": "Wed, Feb 3, 2027", "summary": "Adopt <the> template",
    "title": "Land <bank> playbook",
}


@pytest.mark.parametrize("template", sorted({r.template for r in RULES} | {"digest"}))
def test_every_template_renders_both_parts_and_escapes_html(template: str) -> None:
    out = render(template, SAMPLE)
    assert out.subject and out.summary and "\n" not in out.subject
    assert "Olive <Official>" in out.text and "Olive &lt;Official&gt;" in out.html and "<Official>" not in out.html
    assert "{{" not in out.text and "{{" not in out.html


def test_a_missing_value_or_template_fails_loudly_instead_of_leaving_a_hole() -> None:
    with pytest.raises(TemplateFailed, match="request"):
        render("question_received", {k: v for k, v in SAMPLE.items() if k != "request"})
    with pytest.raises(TemplateFailed, match="no_such"):
        render("no_such", SAMPLE)


# ------------------------------------------------------------------ who may receive what


def person(kind: str = "official", status: str = "verified", city: str | None = "flint", *roles: str) -> Person:
    return Person(id="p1", kind=kind, email="p@x.org", name="P", status=status, city_id=city,
                  roles=frozenset(roles))


@pytest.mark.parametrize(("who", "city", "expected"), [
    (person(), "flint", True),
    (person(), "gary", False),  # another city's details: never
    (person(status="pending"), "flint", False),  # not verified yet: cannot read requests
    (person("official", "deactivated"), "flint", False),
    (person("staff", "verified", None, "triage_lead"), "gary", True),
    (person("staff", "verified", None, "curator"), "flint", False),  # curators do not read 311 requests
    (person("staff", "pending", None, "triage_lead"), "flint", False),
    (person("partner_member", "verified", None), "flint", False),
])
def test_request_notices_follow_the_matrix(who: Person, city: str, expected: bool) -> None:
    assert may_receive(who, action="request.read", city_id=city) is expected


def test_account_messages_go_to_their_holder_only() -> None:
    assert may_receive(person(status="pending"), action=None, city_id=None, about_account="p1")
    assert not may_receive(person(), action=None, city_id=None, about_account="p2")
    assert not may_receive(person(status="deactivated"), action=None, city_id=None, about_account="p1")


def test_preference_rows_follow_roles_and_fall_back_to_the_default() -> None:
    assert [k.key for k in kinds_for("official", frozenset())] == ["account", "my_questions", "calls", "convenings",
                                                                  "introductions", "pro_bono", "assistance",
                                                                  "working_groups"]
    assert [k.key for k in kinds_for("staff", frozenset({"subject_matter_expert", "program_manager"}))] == [
        "account", "calls", "assignments", "service_levels", "introductions", "assistance"]
    assert [k.key for k in kinds_for("staff", frozenset({"reviewer"}))] == ["account", "assistance"]
    assert "assistance" not in [k.key for k in kinds_for("staff", frozenset({"triage_lead", "curator"}))]
    assert mode_for(KINDS["calls"], "daily_digest") is Mode.email_now  # not offered for calls
    assert mode_for(KINDS["my_questions"], "in_page") is Mode.in_page


# ------------------------------------------------------------------ time zones


def test_a_citys_zone_from_its_state_and_a_safe_fallback() -> None:
    assert zone_for_state("MI") == "America/Detroit" and zone_for_state("az") == "America/Phoenix"
    assert zone_for_state(None) == "America/New_York" and zone_for_state("ZZ") == "America/New_York"
    assert all(valid_zone(z) for z in STATE_ZONES.values())
    assert set(STATE_ZONES.values()) <= set(US_ZONES)  # every default zone has a name people know
    assert not valid_zone("Mars/Olympus") and not valid_zone("../../etc/passwd")


def test_next_digest_time_across_daylight_saving() -> None:
    chicago = ZoneInfo("America/Chicago")
    before = datetime(2026, 3, 7, 20, 0, tzinfo=UTC)  # Saturday afternoon in Chicago
    nxt = next_local_time(before, time(8, 0), "America/Chicago")
    assert nxt.astimezone(chicago).strftime("%Y-%m-%d %H:%M %Z") == "2026-03-08 08:00 CDT"  # the day clocks spring
    gap = next_local_time(datetime(2026, 3, 8, 6, 0, tzinfo=UTC), time(2, 30), "America/Chicago")
    assert gap.astimezone(chicago).strftime("%d %H:%M") == "08 03:30"  # 02:30 does not exist that day
    after = next_local_time(nxt, time(8, 0), "America/Chicago")
    assert (after - nxt).total_seconds() == 24 * 3600
    fall = next_local_time(datetime(2026, 11, 1, 5, 0, tzinfo=UTC), time(1, 30), "America/Chicago")
    assert fall.astimezone(chicago).strftime("%d %H:%M %Z") == "01 01:30 CDT"  # the earlier of two


# ------------------------------------------------------------------ unsubscribe tokens


def test_unsubscribe_tokens_round_trip_and_refuse_tampering() -> None:
    token = make_token("s3cret", "off-1", "my_questions")
    assert read_token("s3cret", token) == ("off-1", "my_questions")
    payload, sig = token.split(".")
    other = make_token("s3cret", "off-2", "my_questions").split(".")[0]
    for bad in (f"{other}.{sig}", token + "x", "nonsense", "", "a.b.c", make_token("other", "off-1", "my_questions")):
        with pytest.raises(BadToken):
            read_token("s3cret", bad)


# ------------------------------------------------------------------ invitations and messages


def invitation(method: str = "REQUEST", sequence: int = 0) -> Invitation:
    return Invitation(uid="call-r1-1@nrn.example", sequence=sequence, method=method,
                      starts_at=datetime(2026, 7, 1, 18, 0, tzinfo=UTC), duration_minutes=30, zone="America/Denver",
                      summary="NRN call", description="About the memo", url="https://nrn.example/requests/r1",
                      organizer=Attendee("NRN", "notifications@nrn.example"),
                      attendees=(Attendee("Olive, Official", "olive@x.org"), Attendee("Eve", "eve@nrn.example")),
                      stamp=datetime(2026, 6, 1, tzinfo=UTC))


def test_the_invitation_is_a_valid_vevent_in_the_citys_zone() -> None:
    cal = Calendar.from_ical(build_ics(invitation()))
    (ev,) = cal.walk("VEVENT")
    assert str(cal["method"]) == "REQUEST" and str(ev["status"]) == "CONFIRMED"
    assert ev["dtstart"].params["TZID"] == "America/Denver" and ev["dtstart"].dt.hour == 12
    assert ev["dtstart"].dt == datetime(2026, 7, 1, 18, 0, tzinfo=UTC)
    assert [str(t["tzid"]) for t in cal.walk("VTIMEZONE")] == ["America/Denver"]
    assert [a.params["CN"] for a in ev["attendee"]] == ["Olive, Official", "Eve"]
    cancel = Calendar.from_ical(build_ics(invitation("CANCEL", 3)))
    (ev,) = cancel.walk("VEVENT")
    assert str(cancel["method"]) == "CANCEL" and str(ev["status"]) == "CANCELLED" and int(ev["sequence"]) == 3
    # a downloaded file (the gateway's "Add to my calendar") is PUBLISH: no reply expected
    published = Calendar.from_ical(build_ics(invitation("PUBLISH")))
    assert str(published["method"]) == "PUBLISH" and str(published.walk("VEVENT")[0]["status"]) == "CONFIRMED"
    with pytest.raises(ValueError):
        build_ics(invitation("COUNTER"))


def test_the_message_has_both_parts_and_its_invitation() -> None:
    rendered = Rendered(subject="Call booked", text="Hello\n", html="<p>Hello</p>", summary="s")
    ics = build_ics(invitation())
    mid = message_id("e1:off-1:calls", "nrn.example")
    assert mid == message_id("e1:off-1:calls", "nrn.example") != message_id("e2:off-1:calls", "nrn.example")
    def make(**kw: object) -> bytes:
        values = dict(rendered=rendered, sender="SC2 National Resource Network <notifications@nrn.example>",
                      to_name="Olive, O", to_email="olive@x.org", msg_id=mid, date=datetime(2026, 6, 1, tzinfo=UTC),
                      unsubscribe_url="https://nrn.example/u", ics=ics, ics_method="REQUEST")
        return compose(**{**values, **kw})

    raw = make()
    assert raw == make()  # the same message always gives the same bytes (a resend is the same message)
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n") if not line.startswith(b"List-Unsubscribe: ")) <= 78
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert msg.get_content_type() == "multipart/mixed" and msg["Message-ID"] == mid
    assert [p.get_content_type() for p in msg.walk()] == [
        "multipart/mixed", "multipart/alternative", "text/plain", "text/html", "text/calendar", "application/ics"]
    assert next(p for p in msg.walk() if p.get_content_type() == "text/calendar").get_param("method") == "REQUEST"
    assert msg["To"].addresses[0].display_name == "Olive, O" and msg["To"].addresses[0].addr_spec == "olive@x.org"
    assert msg["From"].addresses[0].addr_spec == "notifications@nrn.example"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" and msg["Auto-Submitted"] == "auto-generated"
    assert msg["Date"].datetime == datetime(2026, 6, 1, tzinfo=UTC) and msg["MIME-Version"] == "1.0"
    assert msg.get_body(("plain",)).get_content() == "Hello\n" and msg.get_body(("html",)).get_content() == "<p>Hello</p>"
    attachment = next(msg.iter_attachments())
    assert attachment.get_filename() == "invitation.ics" and attachment.get_payload(decode=True) == ics
    # non-ASCII names and subjects are encoded (RFC 2047) and read back as written; no calendar: alternative only
    plain = BytesParser(policy=policy.default).parsebytes(make(
        rendered=Rendered(subject="Réunion : “Tiếng Việt” — " + ("long words " * 12).strip(), text="é\n", html="<p>é</p>", summary=""),
        to_name="Zoë Ñúñez", ics=None, unsubscribe_url=None))
    assert plain["Subject"] == "Réunion : “Tiếng Việt” — " + ("long words " * 12).strip()
    assert plain["To"].addresses[0].display_name == "Zoë Ñúñez" and plain["List-Unsubscribe"] is None
    assert plain.get_content_type() == "multipart/alternative" and plain.get_body(("plain",)).get_content() == "é\n"


# ------------------------------------------------------------------ peer networking's rows

from notifications import handlers_peer as hp  # noqa: E402
from notifications.adapters import mongo as repo  # noqa: E402
from notifications.domain.rules import Calendar as Cal  # noqa: E402
from nrn_contracts.events import peer  # noqa: E402

AT = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)


def _cancelled(reason: str) -> peer.RegistrationCancelled:
    return peer.RegistrationCancelled(registration_id="r1", convening_id="c1", account_id="a1",
                                      previous_status="confirmed", reason=reason, at=AT)


def _answered(status: str, accepted: bool = True) -> peer.IntroductionAnswered:
    return peer.IntroductionAnswered(introduction_id="i1", city_id="flint", accepted=accepted,
                                     shares=("contact",) if accepted else (), status=status, by="o1", at=AT)


def test_peer_rows_apply_only_to_the_events_their_condition_accepts() -> None:
    t = peer.RegistrationCancelled.type
    assert [r.template for r in rules_for(t, _cancelled("by_registrant"))] == ["registration_cancelled"]
    # a convening's cancellation tells its registrants once, by ConveningCancelled (with the reason)
    assert rules_for(t, _cancelled("convening_cancelled")) == []
    assert [r.who.value for r in rules_for(peer.ConveningCancelled.type)] == [
        "the registrants whose places the convening's cancellation ended"]
    t = peer.IntroductionAnswered.type
    assert [r.template for r in rules_for(t, _answered("offered"))] == ["introduction_answered"]
    assert [r.template for r in rules_for(t, _answered("accepted"))] == ["introduction_answered",
                                                                          "introduction_decided"]
    assert len(rules_for(t, _answered("declined", accepted=False))) == 2


def test_an_introduction_reaches_the_two_cities_officials_and_the_staff_who_offered_it_only() -> None:
    (offered,) = rules_for(peer.IntroductionOffered.type)
    ref = hp.PeerRef(cities=("flint", "gary"), city_names={"flint": "Flint, MI", "gary": "Gary, IN"})

    def told(who: Person, rule) -> bool:  # noqa: ANN001
        doc = {"_id": who.id, "city_id": who.city_id}
        return may_receive(who, action=rule.action, city_id=hp.city_for_matrix(ref, doc))

    assert told(person(), offered) and told(person("official", "verified", "gary"), offered)
    assert not told(person("official", "verified", "youngstown"), offered)  # a third city's official: never
    assert not told(person(status="pending"), offered)
    assert not told(person("staff", "verified", None, "program_manager"), offered)  # staff do not answer
    answered = rules_for(peer.IntroductionAnswered.type)[0]
    assert told(person("staff", "verified", None, "program_manager"), answered)
    assert not told(person(), answered)  # staff's own follow-up, not the cities'
    # each city reads the other's name and staff's reason, as its page shows — nothing more
    assert hp.context(peer.IntroductionOffered(introduction_id="i1", city_id="flint", other_city_id="gary",
                                               reason_kind="staff", reason="Both rebuild downtowns", by="s1", at=AT),
                      ref, {"city_id": "flint"}, "America/Detroit") == {"other_city": "Gary, IN",
                                                                       "reason": "Both rebuild downtowns"}
    ctx = hp.context(_answered("accepted"), ref, {"city_id": "gary"}, "America/Chicago")
    assert ctx["answering_city"] == "Flint, MI" and ctx["both_accepted"] and set(ctx) == {
        "answering_city", "other_city", "accepted", "both_accepted", "declined"}


class _Collection:
    def __init__(self) -> None:
        self.docs: dict[str, dict] = {}

    async def find_one(self, query: dict, session=None) -> dict | None:  # noqa: ANN001
        return self.docs.get(query["_id"])

    async def update_one(self, query: dict, update: dict, upsert: bool = False, session=None) -> None:  # noqa: ANN001
        self.docs.setdefault(query["_id"], {"_id": query["_id"]}).update(update["$set"])


class _Tx:
    def __init__(self) -> None:
        self.db, self.session = {repo.INVITATIONS: _Collection()}, None


async def test_a_registrants_invitation_is_their_own_and_moves_then_withdraws_with_one_uid() -> None:
    tx = _Tx()
    conv = {"title": "Peer Convening", "starts_at": datetime(2027, 4, 14, 13, 30, tzinfo=UTC),
            "ends_at": datetime(2027, 4, 14, 22, 0, tzinfo=UTC), "location": "Chattanooga",
            "timezone": "America/New_York", "sequence": 0}
    ref = hp.PeerRef(convening=conv)
    fran = {"_id": "a1", "name": "Fran", "email": "fran@flint.example"}
    confirmed = peer.RegistrationConfirmed(registration_id="r1", convening_id="c1", account_id="a1", at=AT)

    async def invite(method, event, sequence: int = 0):  # noqa: ANN001, ANN202
        conv["sequence"] = sequence
        return await hp.convening_invitation(tx, method=method, event=event, ref=ref, person=fran,
                                             organizer=Attendee("NRN", "n@nrn.example"), uid_domain="nrn.example",
                                             url="https://nrn.example/convenings/c1", now=AT)

    assert await invite(Cal.cancel, _cancelled("by_registrant")) is None  # nothing on the calendar yet
    first, updated = await invite(Cal.request, confirmed)
    assert (first.sequence, updated, first.attendees) == (0, False, (Attendee("Fran", "fran@flint.example"),))
    moved, updated = await invite(Cal.request, confirmed, sequence=3)  # ConveningUpdated's SEQUENCE 3
    assert (moved.uid, moved.sequence, updated) == (first.uid, 3, True)
    gone, _ = await invite(Cal.cancel, _cancelled("by_registrant"), sequence=3)
    assert (gone.uid, gone.sequence, gone.method) == (first.uid, 4, "CANCEL")
    ics = Calendar.from_ical(build_ics(gone))
    assert str(ics.walk("VEVENT")[0]["LOCATION"]) == "Chattanooga"
    again, _ = await invite(Cal.request, confirmed, sequence=3)  # registered again: higher than the CANCEL
    assert again.sequence == 5


def _match(kind, side: str = "volunteer", status: str = "awaiting_other", **kw):  # noqa: ANN001, ANN202
    base = {"match_id": "m1", "project_id": "p1", "city_id": "flint", "volunteer_id": "v1", "account_id": "vol-1",
            "by": "vol-1", "at": AT}
    if kind is peer.MatchAccepted:
        base.update(side=side, status=status)
    elif kind is peer.MatchDeclined:
        base.update(side=side)
    return kind(**base, **kw)


def test_pro_bono_rows_tell_the_other_side_and_the_volunteer_is_named_to_the_city_only_once_both_accepted() -> None:
    t = peer.MatchAccepted.type
    assert [r.who.value for r in rules_for(t, _match(peer.MatchAccepted, "volunteer"))] == [
        "the official who posted the project"]
    assert [r.who.value for r in rules_for(t, _match(peer.MatchAccepted, "city"))] == [
        "the volunteer (the event's account)"]
    assert [r.who.value for r in rules_for(peer.MatchDeclined.type, _match(peer.MatchDeclined, "city"))] == [
        "the volunteer (the event's account)"]
    assert len(rules_for(peer.MatchProposed.type)) == 2
    to_volunteer, to_city = rules_for(peer.MatchProposed.type)
    ref = hp.PeerRef(project={"title": "Grant plan", "posted_by": "o1"}, cities=("flint",),
                     volunteer={"_id": "vol-1", "name": "Val", "email": "val@firm.example"},
                     city_names={"flint": "Flint, MI"})

    def told(who: Person, rule) -> bool:  # noqa: ANN001
        return may_receive(who, action=rule.action, city_id=hp.city_for_matrix(ref, {"city_id": who.city_id}))

    # the project's city only: an official of another city never reads it
    assert told(person(), to_city) and not told(person("official", "verified", "gary"), to_city)
    assert told(person("partner_member", "pending", None), to_volunteer)  # not yet confirmed: still their own matches
    assert not told(person(), to_volunteer) and not told(person("partner_member", "verified", None), to_city)

    proposed = _match(peer.MatchProposed, organization_id="org-1", score=0.8, hours_agreed=20, proposed_by="staff",
                      reasons=("Knows grant writing",))
    waiting = _match(peer.MatchAccepted, "city")
    both = _match(peer.MatchAccepted, "volunteer", "accepted")
    for event in (proposed, waiting):
        ctx = hp.context(event, ref, {"city_id": "flint"}, "America/Detroit")
        assert ctx["volunteer_name"] is None and ctx["volunteer_email"] is None
    ctx = hp.context(both, ref, {"city_id": "flint"}, "America/Detroit")
    assert (ctx["volunteer_name"], ctx["volunteer_email"], ctx["to_volunteer"]) == ("Val", "val@firm.example", False)
    text = render("match_accepted", {**SAMPLE, **hp.context(_match(peer.MatchAccepted, "volunteer"), ref,
                                                             {"city_id": "flint"}, "America/Detroit")}).text
    assert "val@firm.example" not in text and "Val" not in text.replace("Val <Volunteer>", "")
    assert "val@firm.example" in render("match_accepted", {**SAMPLE, **ctx}).text
    logged = hp.context(peer.HoursLogged(entry_id="e1", match_id="m1", project_id="p1", city_id="flint",
                                         volunteer_id="v1", account_id="vol-1", organization_id="org-1",
                                         worked_on=datetime(2027, 3, 1).date(), hours=1.5, at=AT), ref, {}, "UTC")
    assert (logged["hours"], logged["worked_on"], logged["volunteer_name"]) == ("1.5 hours", "Mon, Mar 1, 2027", "Val")
    assert hp.link_path(proposed, {"kind": "partner_member"}) == "/probono"
    assert hp.link_path(proposed, {"kind": "official"}) == "/probono/projects/p1"
