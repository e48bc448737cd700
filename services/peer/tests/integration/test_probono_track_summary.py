"""Each volunteer's track record summary (``Volunteer.track``), kept on their document by every match
change, against a plain recomputation from all the matches and projects, on the real database: after every
step of random sequences of proposals, answers from either side, agreed hours, hours logged and reviewed,
and projects completed (refusals included). And the start-up migration for volunteers saved before the
summary was kept: worked out once, then nothing left to do."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from peer import handlers_probono as hp
from peer.adapters import probono as store
from peer.adapters.mongo import CITIES
from peer.domain.actors import Actor
from peer.domain.errors import RuleViolation
from peer.domain.probono import DEFAULT_SKILLS, HoursEntry, Match, Project, Track, Volunteer

STAFF = Actor(id="pm-track", kind="staff", roles=frozenset({"program_manager"}))
TOWNS = ("town-a", "town-b")


def _official(city_id: str) -> Actor:
    return Actor(id=f"off-{city_id}", kind="official", roles=frozenset({"official"}), city_id=city_id)


def _volunteer(m: Match) -> Actor:
    return Actor(id=m.account_id, kind="partner_member", partner_id=m.organization_id)


async def _plain_tracks(db) -> dict[str, Track]:  # noqa: ANN001
    """Every match and project read in full, nothing kept: what each volunteer's track record must be."""
    projects = {d["_id"]: Project.from_document(d) for d in await db[store.PROJECTS].find({}).to_list()}
    done: dict[str, list[frozenset[str]]] = {}
    committed: dict[str, list[float]] = {}
    for d in await db[store.MATCHES].find({}).to_list():
        m = Match.from_document(d)
        p = projects[m.project_id]
        if m.status == "completed" and m.hours_approved > 0:
            done.setdefault(m.volunteer_id, []).append(frozenset(p.skills))
        elif m.status == "accepted":
            committed.setdefault(m.volunteer_id, []).append(m.hours_agreed / p.months)
    return {v: Track(tuple(sorted(done.get(v, ()), key=sorted)), sum(sorted(committed.get(v, ()))))
            for v in set(done) | set(committed)}


def _same(a: Track, b: Track) -> bool:
    return sorted(map(sorted, a.completed)) == sorted(map(sorted, b.completed)) and \
        a.committed_per_month == pytest.approx(b.committed_per_month, abs=1e-9)


async def _assert_kept(db) -> int:  # noqa: ANN001
    """Every volunteer's stored summary equals the plain recomputation; returns how many have a record."""
    plain = await _plain_tracks(db)
    for d in await db[store.VOLUNTEERS].find({}).to_list():
        v = Volunteer.from_document(d)
        assert v.track is not None, v.id
        assert _same(v.track, plain.get(v.id, Track())), (v.id, v.track, plain.get(v.id))
    return len(plain)


def _before(today: date) -> datetime:
    return datetime(today.year, today.month, today.day, tzinfo=UTC) - timedelta(days=90)


def _people(rng: random.Random, today: date, n: int) -> tuple[list[Volunteer], list[Project]]:
    skills = list(DEFAULT_SKILLS)
    vs = [Volunteer(id=f"vol_{i:03d}", account_id=f"acc-{i}", organization_id=f"org-{i % 3}", name=f"Volunteer {i}",
                    title="Analyst", skills=rng.sample(skills, 4), hours_per_month=rng.randint(20, 60),
                    available_from=today - timedelta(days=60), available_until=today + timedelta(days=400),
                    work_mode="remote", base_city="", base_state="MI", experience="", phone="",
                    registered_at=_before(today), status="confirmed") for i in range(n)]
    ps = [Project(id=f"prj_{j:03d}", city_id=TOWNS[j % 2], department="Planning", title=f"Project {j}",
                  problem="A problem to solve.", skills=rng.sample(skills, 2), hours_needed=rng.randint(20, 120),
                  starts_on=today - timedelta(days=rng.randrange(0, 30)),
                  ends_on=today + timedelta(days=rng.randrange(30, 200)), work_mode="remote", on_site_needs="",
                  posted_by="off", posted_at=_before(today), status="open") for j in range(6)]
    return vs, ps


@pytest.mark.parametrize("seed", [5, 14])
async def test_the_summary_equals_a_recomputation_after_every_match_change(svc, seed: int) -> None:  # noqa: ANN001
    db, deps = svc.db, svc.app.state.runtime.state["deps"]
    rng = random.Random(seed)
    today = svc.clock.now.date()
    await db[CITIES].insert_many([{"_id": t, "name": t.title(), "state": "MI"} for t in TOWNS])
    vs, ps = _people(rng, today, 10)
    for v in vs:  # registered now: an empty record, as register_volunteer saves them
        v.track = Track()
    await db[store.VOLUNTEERS].insert_many([v.to_document() | {"version": 1} for v in vs])
    await db[store.PROJECTS].insert_many([p.to_document() | {"version": 1} for p in ps])
    seen: set[str] = set()
    for _ in range(70):
        ms = await store.matches(db)
        seen |= {m.status for m in ms}
        step = rng.choice(("propose", "propose", "answer", "answer", "answer", "agree", "log", "log", "review",
                           "review", "complete"))
        try:
            if step == "propose":
                p, v = rng.choice(ps), rng.choice(vs)
                await hp.propose_match(deps, p.id, v.id, actor=rng.choice((STAFF, _official(p.city_id))),
                                       hours_agreed=float(rng.randint(8, 60)))
            elif step == "answer" and (open_ := [m for m in ms if m.status == "proposed"]):
                m = rng.choice(open_)
                who = rng.choice((_volunteer(m), _official(m.city_id)))
                await hp.answer_match(deps, m.id, actor=who, accepted=rng.random() < 0.8, reason="Busy then")
            elif step == "agree" and (accepted := [m for m in ms if m.status == "accepted"]):
                m = rng.choice(accepted)
                await hp.agree_hours(deps, m.id, actor=_official(m.city_id), total=m.hours_agreed + rng.choice((-4, 10)))
            elif step == "log" and (accepted := [m for m in ms if m.status == "accepted"]):
                m = rng.choice(accepted)
                await hp.log_hours(deps, m.id, actor=_volunteer(m), worked_on=today, hours=rng.choice((1.5, 4, 8)),
                                   note="")
            elif step == "review" and (pending := [(m, e) for m in ms for e in m.hours if e.status == "pending"]):
                m, e = rng.choice(pending)
                await hp.review_hours(deps, m.id, e.id, actor=_official(m.city_id), approved=rng.random() < 0.7,
                                      note="Not on this project")
            elif step == "complete" and (active := [p for p in ps if p.id in {m.project_id for m in ms
                                                                                if m.status == "accepted"}]):
                p = rng.choice(active)
                await hp.complete_project(deps, p.id, actor=_official(p.city_id), outcome="Delivered")
        except RuleViolation:
            pass  # refused (beyond the hours agreed, hours waiting, already offered…): nothing may change
        await _assert_kept(db)
    # then the city approves what waits and completes every project under way
    for p in ps:
        for m in await store.matches(db, project_id=p.id, status="accepted"):
            for e in [e for e in m.hours if e.status == "pending"]:
                await hp.review_hours(deps, m.id, e.id, actor=_official(m.city_id), approved=True, note="")
                await _assert_kept(db)
        if (await store.get_project(db, p.id)).status == "active":  # type: ignore[union-attr]
            await hp.complete_project(deps, p.id, actor=_official(p.city_id), outcome="Delivered")
            await _assert_kept(db)
    seen |= {m.status for m in await store.matches(db)}
    assert {"accepted", "completed", "declined"} <= seen, seen  # the sequences reach every kind of match
    assert any(t.completed for t in (await _plain_tracks(db)).values())  # past projects, not only hours held


async def test_volunteers_saved_before_the_summary_get_it_once_at_start(svc) -> None:  # noqa: ANN001
    db, deps = svc.db, svc.app.state.runtime.state["deps"]
    rng = random.Random(3)
    today = svc.clock.now.date()
    vs, ps = _people(rng, today, 12)
    await db[store.VOLUNTEERS].insert_many([v.to_document() | {"version": 1} for v in vs])  # no track kept
    await db[store.PROJECTS].insert_many([p.to_document() | {"version": 1} for p in ps])
    docs = []
    for k in range(30):
        v, p = rng.choice(vs), rng.choice(ps)
        m = Match(id=f"mch_{k:03d}", project_id=p.id, city_id=p.city_id, volunteer_id=v.id, account_id=v.account_id,
                  organization_id=v.organization_id, score=0.5, reasons=[], hours_agreed=rng.randint(4, 80),
                  proposed_by="staff", proposer="pm", proposed_at=_before(today),
                  status=rng.choice(("proposed", "accepted", "completed", "declined")),
                  project_skills=list(p.skills), project_months=p.months)
        m.hours.append(HoursEntry(id=f"h{k}", worked_on=p.starts_on, hours=4, note="", logged_at=_before(today),
                                  status=rng.choice(("approved", "returned"))))
        doc = m.to_document() | {"version": 1}
        if k % 3 == 0:  # proposed before matches kept their project's skills and months
            del doc["project_skills"], doc["project_months"]
        docs.append(doc)
    await db[store.MATCHES].insert_many(docs)
    assert await db[store.VOLUNTEERS].count_documents({"track": None}) == 12
    assert await hp.keep_tracks(deps) == 12
    assert await _assert_kept(db) > 0
    assert await hp.keep_tracks(deps) == 0  # once done, nothing to do
    versions = {d["_id"]: d["version"] for d in await db[store.VOLUNTEERS].find({}).to_list()}
    assert set(versions.values()) == {2}  # a profile edit that read the volunteer before runs again
