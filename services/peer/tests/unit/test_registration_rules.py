"""Registrations: every status × every action, seats and the waitlist in order, per-city limits,
the registration window, hold expiry with an injected clock, and the venue's local times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from peer.domain.convening import AgendaSession
from peer.domain.errors import InvalidInput, NotAllowedNow
from peer.domain.registration import TRANSITIONS, Action, Status, check
from peer.domain.venue_time import to_utc, zone
from peer.testing import T0, convening, registration

# ---------------------------------------------------------------------------- the state table

STATUSES: list[Status | None] = [None, *Status]


@pytest.mark.parametrize(("status", "action"), list(product(STATUSES, Action)),
                         ids=[f"{s}-{a}" for s, a in product(STATUSES, Action)])
def test_every_status_by_every_action(status: Status | None, action: Action) -> None:
    if (status, action) in TRANSITIONS:
        assert check(status, action)
    else:
        with pytest.raises(NotAllowedNow) as info:
            check(status, action)
        assert info.value.status == 409
        assert info.value.detail  # a sentence a person reads
        if action is Action.register:
            assert info.value.rule == "already_registered"


@pytest.mark.parametrize("status", [s for s in Status if s is not Status.cancelled])
def test_the_methods_follow_the_table(status: Status) -> None:
    now = T0
    for action, call in {
        Action.promote: lambda r: r.promote(hold_until=now + timedelta(hours=1)),
        Action.confirm: lambda r: r.confirm(now),
        Action.cancel: lambda r: r.cancel(now, reason="by_registrant"),
        Action.check_in: lambda r: r.check_in(now),
    }.items():
        reg = registration(status, hold_until=now + timedelta(hours=1) if status is Status.offered else None)
        if (status, action) in TRANSITIONS:
            call(reg)
            assert reg.status in TRANSITIONS[(status, action)]
        else:
            with pytest.raises(NotAllowedNow):
                call(reg)


# ---------------------------------------------------------------------------- seats, waitlist, limits


def test_seats_then_a_numbered_waitlist() -> None:
    c = convening(capacity=2)
    assert [c.admit(f"city-{i}", T0) for i in range(5)] == [
        Status.confirmed, Status.confirmed, Status.waitlisted, Status.waitlisted, Status.waitlisted]
    assert c.seats_taken == 2 and c.waitlist_seq == 3 and c.free_seats() == 0


def test_per_city_limit_counts_confirmed_and_waitlisted_and_names_the_rule() -> None:
    c = convening(capacity=1, per_city_limit=2)
    assert c.admit("city-flint", T0) is Status.confirmed
    assert c.admit("city-flint", T0) is Status.waitlisted
    with pytest.raises(NotAllowedNow) as info:
        c.admit("city-flint", T0)
    assert info.value.rule == "per_city_limit_reached" and "at most 2 people" in info.value.detail
    assert c.admit("city-gary", T0) is Status.waitlisted  # another city is not held back
    # a partner (no city) is never counted against a city
    assert c.admit(None, T0) is Status.waitlisted


def test_releasing_gives_back_the_city_place_and_the_seat() -> None:
    c = convening(capacity=1, per_city_limit=1)
    c.admit("city-flint", T0)
    reg = registration(Status.confirmed)
    assert c.release(reg, Status.confirmed) is True
    assert c.free_seats() == 1 and "city-flint" not in c.city_counts
    c.admit("city-flint", T0)  # the city may register again
    waiting = registration(Status.waitlisted, city_id="city-gary")
    c.city_counts["city-gary"] = 1
    assert c.release(waiting, Status.waitlisted) is False  # a waitlisted one held no seat


@pytest.mark.parametrize(("now", "rule"), [
    (T0 - timedelta(days=2), "registration_not_open_yet"),
    (T0 + timedelta(days=29), "registration_closed"),  # the closing instant itself is closed
    (T0 + timedelta(days=40), "registration_closed"),
])
def test_outside_the_window_names_the_rule(now: datetime, rule: str) -> None:
    c = convening()
    with pytest.raises(NotAllowedNow) as info:
        c.admit("city-flint", now)
    assert info.value.rule == rule and info.value.status == 409
    assert c.seats_taken == 0 and not c.city_counts  # nothing counted


def test_a_cancelled_convening_takes_no_registrations() -> None:
    c = convening(status="cancelled")
    with pytest.raises(NotAllowedNow) as info:
        c.admit("city-flint", T0)
    assert info.value.rule == "convening_cancelled"


# ---------------------------------------------------------------------------- holds with an injected clock


def test_hold_expiry_is_decided_by_the_clock_given() -> None:
    hold_until = T0 + timedelta(hours=48)
    reg = registration(Status.waitlisted)
    reg.promote(hold_until=hold_until)
    with pytest.raises(NotAllowedNow) as info:
        reg.expire(hold_until - timedelta(milliseconds=1))
    assert info.value.rule == "hold_not_expired"
    reg.expire(hold_until)
    assert reg.status is Status.cancelled and reg.cancel_reason == "hold_expired"


def test_confirming_after_the_hold_is_refused_and_before_it_works() -> None:
    hold_until = T0 + timedelta(hours=48)
    late = registration(Status.offered, hold_until=hold_until)
    with pytest.raises(NotAllowedNow) as info:
        late.confirm(hold_until)
    assert info.value.rule == "hold_expired"
    on_time = registration(Status.offered, hold_until=hold_until)
    on_time.confirm(hold_until - timedelta(seconds=1))
    assert on_time.status is Status.confirmed and on_time.hold_until is None


def test_a_hold_never_runs_past_the_start() -> None:
    c = convening()
    assert c.hold_until(c.starts_at - timedelta(hours=1), timedelta(hours=48)) == c.starts_at
    assert c.hold_until(T0, timedelta(hours=48)) == T0 + timedelta(hours=48)


def test_feedback_only_after_the_end_and_from_attendees() -> None:
    c = convening()
    reg = registration(Status.confirmed)
    with pytest.raises(NotAllowedNow) as info:
        reg.give_feedback(rating=5, comment="", now=c.ends_at - timedelta(minutes=1), convening_ended_at=c.ends_at)
    assert info.value.rule == "feedback_before_the_end"
    with pytest.raises(NotAllowedNow) as info:
        reg.give_feedback(rating=5, comment="", now=c.ends_at, convening_ended_at=c.ends_at)
    assert info.value.rule == "feedback_needs_attendance"
    reg.check_in(c.starts_at)
    reg.give_feedback(rating=4, comment="Useful", now=c.ends_at, convening_ended_at=c.ends_at)
    assert reg.feedback and reg.feedback.rating == 4


# ---------------------------------------------------------------------------- the description


@pytest.mark.parametrize(("changes", "rule", "field"), [
    ({"ends_at": T0}, "ends_before_start", "ends_at"),
    ({"closes_at": T0 - timedelta(days=2)}, "window_closes_before_it_opens", "registration_closes_at"),
    ({"closes_at": T0 + timedelta(days=40)}, "window_closes_after_the_event", "registration_closes_at"),
    ({"sessions": [AgendaSession("s1", "Early", T0, T0 + timedelta(hours=1))]}, "session_outside_the_convening",
     "sessions.0.starts_at"),
])
def test_a_description_that_does_not_hold_together_names_the_field(changes: dict, rule: str, field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        convening(**changes).validate()
    assert (info.value.rule, info.value.field) == (rule, field)


def test_venue_local_times_become_utc_and_gaps_and_repeats_are_refused() -> None:
    chicago = zone("America/Chicago")
    assert to_utc(datetime(2027, 5, 4, 9, 0), chicago, field="starts_at") == datetime(2027, 5, 4, 14, 0, tzinfo=UTC)
    with pytest.raises(InvalidInput) as gap:
        to_utc(datetime(2027, 3, 14, 2, 30), chicago, field="sessions.0.starts_at")
    assert gap.value.rule == "nonexistent_local_time" and gap.value.field == "sessions.0.starts_at"
    with pytest.raises(InvalidInput) as twice:
        to_utc(datetime(2027, 11, 7, 1, 30), chicago, field="starts_at")
    assert twice.value.rule == "ambiguous_local_time"
    # Phoenix keeps no daylight saving time: 2:30 on the same date exists
    assert to_utc(datetime(2027, 3, 14, 2, 30), zone("America/Phoenix"), field="x").hour == 9
    with pytest.raises(InvalidInput) as unknown:
        zone("Mars/Olympus_Mons")
    assert unknown.value.field == "timezone"
