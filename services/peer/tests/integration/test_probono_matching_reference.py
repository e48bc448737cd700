"""Pro bono suggestions on the real database against a plain reference computation on random networks: the
handler (candidates by the indexed query, the reads run together, track records from the summary each
volunteer keeps, or worked out from the matches' own copy of their project's skills and months for volunteers
saved before the summary was kept) must give exactly the ranking, scores and reasons of reading every
volunteer, every match and every project and scoring them all (the way the service first did it)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from peer import handlers_probono as hp
from peer.adapters import probono as store
from peer.adapters.mongo import CITIES
from peer.domain.actors import Actor
from peer.domain.matching import Track, suggest
from peer.domain.probono import DEFAULT_SKILLS, HoursEntry, Match, Project, Volunteer
from peer.handlers import Deps

STAFF = Actor(id="pm-ref", kind="staff", roles=frozenset({"program_manager"}))
STATES = ("MI", "OH", "IN", "TN")
AT = datetime(2025, 12, 1, tzinfo=UTC)


def _network(rng: random.Random) -> tuple[list[Volunteer], list[Project], list[dict]]:
    skills, start = list(DEFAULT_SKILLS), date(2026, 1, 1)
    vs = []
    for i in range(160):
        begin = start + timedelta(days=rng.randrange(0, 300))
        vs.append(Volunteer(
            id=f"vol_{i:04d}", account_id=f"acc-{i}", organization_id=f"org-{i % 7}", name=f"Volunteer {i}",
            title="Analyst", skills=rng.sample(skills, rng.randint(1, 4)), hours_per_month=rng.randint(2, 40),
            available_from=begin, available_until=begin + timedelta(days=rng.randrange(0, 500)),
            work_mode=rng.choice(("remote", "on_site", "either")), base_city="", base_state=rng.choice(STATES),
            experience="", phone="", registered_at=AT + timedelta(minutes=rng.randrange(0, 50)),  # ties too
            status=rng.choice(("confirmed",) * 5 + ("awaiting_confirmation",))))
    ps = []
    for j in range(14):
        begin = start + timedelta(days=rng.randrange(0, 365))
        mode = rng.choice(("remote", "on_site", "either"))
        ps.append(Project(
            id=f"prj_{j:03d}", city_id=f"town-{j % 4}", department="Planning", title=f"Project {j}",
            problem="A problem to solve.", skills=rng.sample(skills, rng.randint(1, 3)),
            hours_needed=rng.randint(10, 200), starts_on=begin, ends_on=begin + timedelta(days=rng.randrange(0, 200)),
            work_mode=mode, on_site_needs="" if mode == "remote" else "On site", posted_by="off", posted_at=AT,
            status=rng.choice(("open", "open", "active", "completed"))))
    docs = []
    for k in range(120):
        v, p = rng.choice(vs), rng.choice(ps)
        status = rng.choice(("proposed", "accepted", "completed", "completed", "declined"))
        m = Match(id=f"mch_{k:04d}", project_id=p.id, city_id=p.city_id, volunteer_id=v.id, account_id=v.account_id,
                  organization_id=v.organization_id, score=0.5, reasons=[], hours_agreed=rng.randint(4, 80),
                  proposed_by="staff", proposer="pm", proposed_at=AT, status=status,
                  project_skills=list(p.skills), project_months=p.months)
        for h in range(rng.randint(0, 3)):
            m.hours.append(HoursEntry(id=f"h{k}-{h}", worked_on=p.starts_on, hours=rng.choice((2, 4, 8)), note="",
                                      logged_at=AT, status=rng.choice(("approved", "pending", "returned"))))
        doc = m.to_document() | {"version": 1}
        if rng.random() < 0.3:  # a match proposed before matches kept their project's skills and months
            del doc["project_skills"], doc["project_months"]
        docs.append(doc)
    return vs, ps, docs


async def _plain(db, p: Project, labels: dict[str, str], limit: int) -> list:  # noqa: ANN001
    """Everything read, nothing filtered by the database: every volunteer, match and project."""
    volunteers = [Volunteer.from_document(d) for d in await db[store.VOLUNTEERS].find({}).to_list()]
    matches = [Match.from_document(d) for d in await db[store.MATCHES].find({}).to_list()]
    projects = {d["_id"]: Project.from_document(d) for d in await db[store.PROJECTS].find({}).to_list()}
    done: dict[str, list[frozenset[str]]] = {}
    committed: dict[str, float] = {}
    for m in matches:
        q = projects[m.project_id]
        if m.status == "completed" and m.hours_approved > 0:
            done.setdefault(m.volunteer_id, []).append(frozenset(q.skills))
        elif m.status == "accepted":
            committed[m.volunteer_id] = committed.get(m.volunteer_id, 0.0) + m.hours_agreed / q.months
    tracks = {v: Track(tuple(done.get(v, ())), committed.get(v, 0.0)) for v in set(done) | set(committed)}
    city = await db[CITIES].find_one({"_id": p.city_id})
    offered = {m.volunteer_id for m in matches if m.project_id == p.id}
    return suggest(p, volunteers, tracks, skill_labels=labels, city_state=city["state"], city_name=city["name"],
                   exclude=offered, limit=limit)


@pytest.mark.parametrize("seed", [14, 2026])
async def test_suggestions_equal_a_plain_reference_on_random_networks(svc, seed: int) -> None:  # noqa: ANN001
    db = svc.db
    deps = Deps(store=svc.app.state.runtime.store)
    vs, ps, matches = _network(random.Random(seed))
    await db[CITIES].insert_many([{"_id": f"town-{c}", "name": f"Town {c}", "state": STATES[c]} for c in range(4)])
    await db[store.VOLUNTEERS].insert_many([v.to_document() | {"version": 1} for v in vs])
    await db[store.PROJECTS].insert_many([p.to_document() | {"version": 1} for p in ps])
    await db[store.MATCHES].insert_many(matches)
    labels = await hp.known_skills(deps)
    # first as saved before volunteers kept their track record (worked out on first use), then as the service
    # keeps it on each volunteer (worked out at start)
    for kept in (False, True):
        if kept:
            assert await hp.keep_tracks(deps) == len(vs)
        compared = 0
        for p in ps:
            if p.status not in ("open", "active"):
                continue
            for limit in (5, 1000):  # the best few (put into words by the heap) and the whole ranking
                _, ours = await hp.suggestions(deps, p.id, actor=STAFF, limit=limit)
                plain = await _plain(db, p, labels, limit)
                assert [(s.volunteer.id, s.score, s.reasons, s.parts) for s in ours] == \
                       [(s.volunteer.id, s.score, s.reasons, s.parts) for s in plain], (p.id, kept)
                compared += len(ours)
        assert compared > 100  # the networks give many suggestions, not a vacuous equality
