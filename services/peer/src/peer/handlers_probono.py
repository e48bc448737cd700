"""Use cases of the pro bono talent network. Each command is one transaction that loads its aggregate,
lets the domain decide, saves under the version read and emits its events (``handlers.run`` runs it
again when another writer got there first).

Who acts for whom is checked here, beyond the kit's matrix: an official acts only for their own city's
projects and matches; a coordinator confirms only their own organization's volunteers; a volunteer
answers and logs hours only on their own matches.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from typing import Any

from nrn_contracts.events import peer as ev

from nrn_kit.mongo import Tx

from .adapters import mongo as repo
from .adapters import probono as store
from .domain.actors import Actor
from .domain.errors import InvalidInput, NotAllowedNow, NotFound, NotPermitted
from .domain.matching import Suggestion, score, suggest
from .domain.probono import HoursEntry, Match, Organization, Project, Track, Volunteer, skill_key
from .handlers import Deps, new_id, run


async def known_skills(deps: Deps) -> dict[str, str]:
    return {k: v["label"] for k, v in (await store.skills(deps.store.db)).items()}


# ---------------------------------------------------------------------------- skills and organizations


async def put_skill(deps: Deps, *, label: str, retired: bool, key: str | None = None) -> str:
    """Add a skill to the managed list (its key from the label), rename one, or retire it (kept on the
    profiles and projects that name it, no longer offered)."""
    key = key or skill_key(label)
    if not label.strip():
        raise InvalidInput("blank", "name the skill", field="label")

    async def fn(tx: Tx) -> str:
        await store.put_skill(tx.db, key, label.strip(), retired, tx.session)
        return key

    return await run(deps, fn)


async def enroll_organization(deps: Deps, *, actor: Actor, partner_id: str, sector: str, description: str) -> Organization:
    """Staff enroll a partner organization (a company, university, foundation…) in the talent network;
    its members may then register as volunteers."""
    now = deps.now()

    async def fn(tx: Tx) -> Organization:
        p = await store.partner(tx.db, partner_id, tx.session)
        if p is None or not p.get("name"):
            raise InvalidInput("unknown_partner", "no such partner organization", field="partner_id")
        found = await store.get_organization(tx.db, partner_id, tx.session)
        o = Organization(id=partner_id, name=p["name"], sector=sector, description=description.strip(),
                         enrolled_by=found.enrolled_by if found else actor.id,
                         enrolled_at=found.enrolled_at if found else now)
        await store.put_organization(tx.db, o, tx.session)
        return o

    return await run(deps, fn)


# ---------------------------------------------------------------------------- volunteers


@dataclass
class Profile:
    name: str
    title: str
    skills: list[str]
    hours_per_month: int
    available_from: date
    available_until: date
    work_mode: str
    base_city: str
    base_state: str | None
    experience: str
    phone: str


async def register_volunteer(deps: Deps, *, actor: Actor, profile: Profile) -> Volunteer:
    """A partner member registers as a volunteer of their own organization (which must be in the
    network); it then waits for the organization's coordinator."""
    if not actor.is_partner or not actor.partner_id:
        raise NotPermitted("members_register", "volunteers register as members of a partner organization")
    now = deps.now()
    skills = set(await known_skills(deps))
    vid = store.volunteer_id(actor.id)

    async def fn(tx: Tx) -> Volunteer:
        org = await store.get_organization(tx.db, actor.partner_id, tx.session)
        if org is None:
            raise NotAllowedNow("organization_not_enrolled", "your organization has not joined the talent "
                                "network yet; ask NRN to enroll it")
        if await store.get_volunteer(tx.db, vid, tx.session) is not None:
            raise NotAllowedNow("already_registered", "you are already registered as a volunteer")
        who = await repo.person(tx.db, actor.id, tx.session) or {}
        v = Volunteer(id=vid, account_id=actor.id, organization_id=org.id, name=who.get("name") or profile.name,
                      title=profile.title or who.get("title", ""), skills=list(dict.fromkeys(profile.skills)),
                      hours_per_month=profile.hours_per_month, available_from=profile.available_from,
                      available_until=profile.available_until, work_mode=profile.work_mode,
                      base_city=profile.base_city, base_state=profile.base_state, experience=profile.experience,
                      phone=profile.phone, registered_at=now, track=Track())  # no matches yet
        if not v.name.strip():
            raise InvalidInput("name_required", "give your name as the city will see it", field="name")
        v.validate(skills)
        await store.save_volunteer(tx.db, v, tx.session)
        tx.emit(ev.VolunteerRegistered(volunteer_id=v.id, account_id=v.account_id, organization_id=v.organization_id,
                                       skills=tuple(v.skills), hours_per_month=v.hours_per_month,
                                       available_from=v.available_from, available_until=v.available_until,
                                       work_mode=v.work_mode, base_state=v.base_state, at=now))
        return v

    return await run(deps, fn)


async def update_volunteer(deps: Deps, *, actor: Actor, profile: Profile) -> Volunteer:
    now = deps.now()
    skills = set(await known_skills(deps))

    async def fn(tx: Tx) -> Volunteer:
        v = await store.get_volunteer(tx.db, store.volunteer_id(actor.id), tx.session)
        if v is None:
            raise NotFound("volunteer_not_found", "you are not registered as a volunteer")
        v.title, v.skills, v.hours_per_month = profile.title, list(dict.fromkeys(profile.skills)), profile.hours_per_month
        v.available_from, v.available_until, v.work_mode = profile.available_from, profile.available_until, profile.work_mode
        v.base_city, v.base_state, v.experience, v.phone = profile.base_city, profile.base_state, profile.experience, profile.phone
        v.validate(skills)
        await store.save_volunteer(tx.db, v, tx.session)
        tx.emit(ev.VolunteerUpdated(volunteer_id=v.id, skills=tuple(v.skills), hours_per_month=v.hours_per_month,
                                    available_from=v.available_from, available_until=v.available_until,
                                    work_mode=v.work_mode, base_state=v.base_state, at=now))
        return v

    return await run(deps, fn)


async def confirm_volunteer(deps: Deps, vid: str, *, actor: Actor) -> Volunteer:
    """The organization's coordinator (or NRN staff) confirms a volunteer works for the organization."""
    now = deps.now()

    async def fn(tx: Tx) -> Volunteer:
        v = await store.get_volunteer(tx.db, vid, tx.session)
        if v is None or (not actor.is_staff and v.organization_id != actor.partner_id):
            raise NotFound("volunteer_not_found", "no such volunteer of your organization", field="volunteer_id")
        v.confirm(actor.id, now)
        await store.save_volunteer(tx.db, v, tx.session)
        tx.emit(ev.VolunteerConfirmed(volunteer_id=v.id, account_id=v.account_id, organization_id=v.organization_id,
                                      by=actor.id, at=now))
        return v

    return await run(deps, fn)


# ---------------------------------------------------------------------------- projects


@dataclass
class ProjectDraft:
    department: str
    title: str
    problem: str
    skills: list[str]
    hours_needed: int
    starts_on: date
    ends_on: date
    work_mode: str
    on_site_needs: str


def _posted(p: Project, by: str, at: Any) -> ev.ProjectPosted:
    return ev.ProjectPosted(project_id=p.id, city_id=p.city_id, department=p.department, title=p.title,
                            problem=p.problem, skills=tuple(p.skills), hours_needed=p.hours_needed,
                            starts_on=p.starts_on, ends_on=p.ends_on, work_mode=p.work_mode,
                            on_site_needs=p.on_site_needs or None, by=by, at=at)


async def post_project(deps: Deps, draft: ProjectDraft, *, actor: Actor) -> Project:
    """An official posts a project for their own city; NRN staff review it before it opens."""
    if not actor.is_official or not actor.city_id:
        raise NotPermitted("officials_post", "a city official posts projects for their city")
    now = deps.now()
    skills = set(await known_skills(deps))
    p = Project(id=new_id("prj"), city_id=actor.city_id, posted_by=actor.id, posted_at=now,
                skills=list(dict.fromkeys(draft.skills)), **{k: v for k, v in draft.__dict__.items() if k != "skills"})
    p.validate(skills)

    async def fn(tx: Tx) -> Project:
        await store.save_project(tx.db, p, tx.session)
        tx.emit(_posted(p, actor.id, now))
        return p

    return await run(deps, fn)


async def _project(tx: Tx, pid: str, actor: Actor) -> Project:
    p = await store.get_project(tx.db, pid, tx.session)
    # another city's project does not exist for an official (404, not 403)
    if p is None or (actor.is_official and p.city_id != actor.city_id):
        raise NotFound("project_not_found", "no such project", field="project_id")
    return p


async def resubmit_project(deps: Deps, pid: str, draft: ProjectDraft, *, actor: Actor) -> Project:
    """The city changes a project returned for changes and sends it for review again."""
    now = deps.now()
    skills = set(await known_skills(deps))

    async def fn(tx: Tx) -> Project:
        p = await _project(tx, pid, actor)
        p.resubmit()
        for k, v in draft.__dict__.items():
            setattr(p, k, list(dict.fromkeys(v)) if k == "skills" else v)
        p.validate(skills)
        await store.save_project(tx.db, p, tx.session)
        tx.emit(_posted(p, actor.id, now))
        return p

    return await run(deps, fn)


async def review_project(deps: Deps, pid: str, *, actor: Actor, decision: str, note: str) -> Project:
    now = deps.now()

    async def fn(tx: Tx) -> Project:
        p = await _project(tx, pid, actor)
        p.review(decision, note=note, by=actor.id, now=now)
        await store.save_project(tx.db, p, tx.session)
        tx.emit(ev.ProjectReviewed(project_id=p.id, city_id=p.city_id, decision=decision, note=note.strip() or None,
                                   by=actor.id, at=now))
        return p

    return await run(deps, fn)


# ---------------------------------------------------------------------------- matching


async def tracks(deps: Deps, volunteer_ids: set[str] | None = None, *, tx: Tx | None = None) -> dict[str, Track]:
    """Each volunteer's completed projects (their skills) and the hours a month their accepted matches take,
    worked out from their matches, by volunteer id (all volunteers when ``volunteer_ids`` is None; a volunteer
    with neither is left out): one read of the matches' few fields (each carries its project's skills and
    months), and the projects only of matches older than that. Within ``tx`` when given (it sees that
    transaction's own writes). Each volunteer keeps the result as ``Volunteer.track`` (``_retrack``)."""
    db, session = (tx.db, tx.session) if tx is not None else (deps.store.db, None)
    docs = await store.track_matches(db, sorted(volunteer_ids) if volunteer_ids is not None else None, session)
    older = await store.projects_by_id(db, {d["project_id"] for d in docs if d.get("project_months") is None},
                                       session)
    done: dict[str, list[frozenset[str]]] = {}
    committed: dict[str, float] = {}
    for d in sorted(docs, key=lambda d: (d["volunteer_id"], d["project_id"])):  # the same sums in any read order
        if d.get("project_months") is not None:
            skills, months = d["project_skills"], d["project_months"]
        elif (p := older.get(d["project_id"])) is not None:
            skills, months = p.skills, p.months
        else:
            continue
        vid = d["volunteer_id"]
        if d["status"] == "completed" and sum(e["hours"] for e in d.get("hours", ()) if e["status"] == "approved") > 0:
            done.setdefault(vid, []).append(frozenset(skills))
        elif d["status"] == "accepted":
            committed[vid] = committed.get(vid, 0.0) + d["hours_agreed"] / months
    return {vid: Track(tuple(sorted(done.get(vid, ()), key=sorted)), committed.get(vid, 0.0))
            for vid in set(done) | set(committed)}


async def _retrack(deps: Deps, tx: Tx, volunteer_ids: set[str]) -> None:
    """Rewrite these volunteers' track record summaries from their matches, in the transaction that changed
    the matches (so the summary never disagrees with them). Saved under the volunteer's version: a profile
    edit running at the same time makes one of the two run again."""
    found = await tracks(deps, volunteer_ids, tx=tx)
    for vid in sorted(volunteer_ids):
        v = await store.get_volunteer(tx.db, vid, tx.session)
        if v is not None and v.track != (t := found.get(vid, Track())):
            v.track = t
            await store.save_volunteer(tx.db, v, tx.session)


async def _save_match(deps: Deps, tx: Tx, m: Match) -> None:
    """Every change of a match goes through here: the match, then its volunteer's track record summary."""
    await store.save_match(tx.db, m, tx.session)
    await _retrack(deps, tx, {m.volunteer_id})


async def keep_tracks(deps: Deps) -> int:
    """Work out the track record summary of every volunteer saved before volunteers kept one (the service
    runs this at start; matching works it out on first use meanwhile). One read of the matches for them all;
    each volunteer written only while still without a summary, so a match change that got there first wins.
    Returns how many volunteers it wrote."""
    db = deps.store.db
    ids = {d["_id"] for d in await db[store.VOLUNTEERS].find({"track": None}, {"_id": 1}).to_list()}
    if not ids:
        return 0
    found = await tracks(deps, ids)
    written = 0
    for vid in sorted(ids):
        r = await db[store.VOLUNTEERS].update_one({"_id": vid, "track": None}, {
            "$set": {"track": found.get(vid, Track()).to_document()}, "$inc": {"version": 1}})
        written += r.modified_count
    return written


async def suggestions(deps: Deps, pid: str, *, actor: Actor, limit: int = 20) -> tuple[Project, list[Suggestion]]:
    """Volunteers to offer to a project, best first, with the score and its reasons."""
    db = deps.store.db
    p = await store.get_project(db, pid)
    if p is None or (actor.is_official and p.city_id != actor.city_id):
        raise NotFound("project_not_found", "no such project", field="project_id")
    p.ensure_open_for_matching()
    # the reads that need only the project run together. Only those matching could suggest (a skill needed,
    # a day of the project free): bounded by the candidates however large the network grows. Their track
    # records come with them (``Volunteer.track``); only a volunteer saved before that was kept costs a read
    city, offered_matches, found, labels = await asyncio.gather(
        repo.city(db, p.city_id), store.matches(db, project_id=p.id), store.candidates(db, p), known_skills(deps))
    city = city or {}
    offered = {m.volunteer_id for m in offered_matches}
    candidates = [v for v in found if v.id not in offered]
    unknown = {v.id for v in candidates if v.track is None}
    worked_out = await tracks(deps, unknown) if unknown else {}
    records = {v.id: v.track if v.track is not None else worked_out.get(v.id, Track()) for v in candidates}
    best = suggest(p, candidates, records, skill_labels=labels, city_state=city.get("state"),
                   city_name=city.get("name", "the city"), exclude=offered, limit=limit)
    return p, best


async def propose_match(deps: Deps, pid: str, vid: str, *, actor: Actor, hours_agreed: float | None) -> Match:
    """Offer a volunteer to a project (staff, or an official of the project's city: their offer counts as
    the city's acceptance). The score and reasons are worked out again now, as the suggestion showed them."""
    now = deps.now()
    labels = await known_skills(deps)

    async def fn(tx: Tx) -> Match:
        p = await _project(tx, pid, actor)
        p.ensure_open_for_matching()
        v = await store.get_volunteer(tx.db, vid, tx.session)
        if v is None or v.status != "confirmed":
            raise InvalidInput("unknown_volunteer", "no such confirmed volunteer", field="volunteer_id")
        if any(m.volunteer_id == vid for m in await store.matches(tx.db, project_id=p.id)):
            raise NotAllowedNow("already_offered", f"{v.name} was already offered to this project")
        city = await repo.city(tx.db, p.city_id, tx.session) or {}
        track = v.track if v.track is not None else (await tracks(deps, {vid}, tx=tx)).get(vid, Track())
        s = score(p, v, track, skill_labels=labels, city_state=city.get("state"), city_name=city.get("name", "the city"))
        if s is None:
            raise NotAllowedNow("not_a_fit", f"{v.name} has none of the skills, no free hours, or no time during "
                                "the project")
        hours = hours_agreed if hours_agreed is not None else float(p.hours_needed)
        side = "city" if actor.is_official else "staff"
        m = Match(id=new_id("mch"), project_id=p.id, city_id=p.city_id, volunteer_id=v.id, account_id=v.account_id,
                  organization_id=v.organization_id, score=s.score, reasons=s.reasons, hours_agreed=hours,
                  proposed_by=side, proposer=actor.id, proposed_at=now, project_skills=list(p.skills),
                  project_months=p.months)
        if side == "city":
            m.answers["city"] = "accepted"
        await _save_match(deps, tx, m)
        tx.emit(ev.MatchProposed(match_id=m.id, project_id=p.id, city_id=p.city_id, volunteer_id=v.id,
                                 account_id=v.account_id, organization_id=v.organization_id, project_title=p.title,
                                 score=s.score, reasons=tuple(s.reasons), hours_agreed=hours, proposed_by=side,
                                 by=actor.id, at=now))
        return m

    return await run(deps, fn)


async def _match(tx: Tx, mid: str, actor: Actor) -> Match:
    m = await store.get_match(tx.db, mid, tx.session)
    mine = m is not None and (actor.is_staff or m.account_id == actor.id or
                              (actor.is_official and m.city_id == actor.city_id) or
                              (actor.is_partner and m.organization_id == actor.partner_id and
                               "probono_coordinator" in actor.roles))
    if m is None or not mine:
        raise NotFound("match_not_found", "no such match", field="match_id")
    return m


def _side(m: Match, actor: Actor) -> str:
    if actor.id == m.account_id:
        return "volunteer"
    if actor.is_official and actor.city_id == m.city_id:
        return "city"
    raise NotPermitted("parties_answer", "the volunteer and the city's officials answer a match")


async def answer_match(deps: Deps, mid: str, *, actor: Actor, accepted: bool, reason: str = "") -> Match:
    """The volunteer or the city accepts or declines; once both accepted, the project is under way."""
    now = deps.now()

    async def fn(tx: Tx) -> Match:
        m = await _match(tx, mid, actor)
        side = _side(m, actor)
        m.answer(side, accepted=accepted, reason=reason, now=now)  # type: ignore[arg-type]
        p = await store.get_project(tx.db, m.project_id, tx.session)
        if m.status == "accepted" and p is not None and p.status == "open":
            p.status = "active"
            await store.save_project(tx.db, p, tx.session)
        await _save_match(deps, tx, m)
        if accepted:
            tx.emit(ev.MatchAccepted(match_id=m.id, project_id=m.project_id, city_id=m.city_id,
                                     volunteer_id=m.volunteer_id, account_id=m.account_id,
                                     project_title=p.title if p else None, side=side,  # type: ignore[arg-type]
                                     status="accepted" if m.status == "accepted" else "awaiting_other",
                                     by=actor.id, at=now))
        else:
            tx.emit(ev.MatchDeclined(match_id=m.id, project_id=m.project_id, city_id=m.city_id,
                                     volunteer_id=m.volunteer_id, account_id=m.account_id, side=side,  # type: ignore[arg-type]
                                     reason=reason.strip() or None, by=actor.id, at=now))
        return m

    return await run(deps, fn)


async def log_hours(deps: Deps, mid: str, *, actor: Actor, worked_on: date, hours: float, note: str) -> Match:
    now = deps.now()

    async def fn(tx: Tx) -> Match:
        m = await _match(tx, mid, actor)
        if actor.id != m.account_id:
            raise NotPermitted("volunteer_logs", "the volunteer logs their own hours")
        p = await store.get_project(tx.db, m.project_id, tx.session)
        assert p is not None
        e = HoursEntry(id=new_id("hrs"), worked_on=worked_on, hours=hours, note=note.strip(), logged_at=now)
        m.log(e, project=p, today=now.date())
        await _save_match(deps, tx, m)
        tx.emit(ev.HoursLogged(entry_id=e.id, match_id=m.id, project_id=m.project_id, city_id=m.city_id,
                               volunteer_id=m.volunteer_id, account_id=m.account_id, organization_id=m.organization_id,
                               project_title=p.title, worked_on=worked_on, hours=hours, note=e.note or None, at=now))
        return m

    return await run(deps, fn)


def _city_acts(m: Match, actor: Actor) -> None:
    if not (actor.is_official and actor.city_id == m.city_id):
        raise NotPermitted("city_approves", "the city's officials approve the hours and agree to more")


async def review_hours(deps: Deps, mid: str, entry_id: str, *, actor: Actor, approved: bool, note: str) -> Match:
    now = deps.now()

    async def fn(tx: Tx) -> Match:
        m = await _match(tx, mid, actor)
        _city_acts(m, actor)
        e = m.review_hours(entry_id, approved=approved, note=note, by=actor.id, now=now)
        await _save_match(deps, tx, m)
        tx.emit(ev.HoursReviewed(entry_id=e.id, match_id=m.id, project_id=m.project_id, city_id=m.city_id,
                                 volunteer_id=m.volunteer_id, account_id=m.account_id,
                                 organization_id=m.organization_id, hours=e.hours, approved=approved,
                                 note=e.review_note or None, by=actor.id, at=now))
        return m

    return await run(deps, fn)


async def agree_hours(deps: Deps, mid: str, *, actor: Actor, total: float) -> Match:
    """The city agrees to more (or fewer) hours on an accepted match: its approval to log beyond the first
    agreement."""
    async def fn(tx: Tx) -> Match:
        m = await _match(tx, mid, actor)
        _city_acts(m, actor)
        m.agree_hours(total)
        await _save_match(deps, tx, m)
        return m

    return await run(deps, fn)


async def complete_project(deps: Deps, pid: str, *, actor: Actor, outcome: str) -> Project:
    """The city records what the project achieved; its accepted matches are completed with it."""
    now = deps.now()

    async def fn(tx: Tx) -> Project:
        p = await _project(tx, pid, actor)
        if not actor.is_official:
            raise NotPermitted("city_completes", "the city's officials record a project's outcome")
        if any(e.status == "pending" for m in await store.matches(tx.db, project_id=p.id, status="accepted")
               for e in m.hours):
            raise NotAllowedNow("hours_waiting", "approve or return the hours waiting first")
        p.complete(outcome, now)
        done = []
        for m in await store.matches(tx.db, project_id=p.id, status="accepted"):
            m.status = "completed"
            await store.save_match(tx.db, m, tx.session)
            done.append(m)
        await _retrack(deps, tx, {m.volunteer_id for m in done})  # each volunteer once, after all their matches
        await store.save_project(tx.db, p, tx.session)
        tx.emit(ev.ProjectCompleted(project_id=p.id, city_id=p.city_id, title=p.title, outcome=p.outcome,
                                    hours_approved=sum(m.hours_approved for m in done), volunteers=len(done),
                                    organizations=tuple(sorted({m.organization_id for m in done}))[:100],
                                    by=actor.id, at=now))
        return p

    return await run(deps, fn)


# ---------------------------------------------------------------------------- the council


async def council(deps: Deps) -> dict[str, Any]:
    """Totals per organization and per city: volunteers, matches, projects, hours approved and waiting."""
    db = deps.store.db
    orgs = {o.id: o for o in await store.organizations(db)}
    vols = await store.volunteers(db, limit=100_000)
    ms = await store.matches(db)
    projects = await store.projects(db, limit=100_000)
    per_org: dict[str, dict[str, Any]] = {oid: {"organization_id": oid, "name": o.name, "sector": o.sector,
                                                "volunteers": 0, "awaiting_confirmation": 0, "matches": 0,
                                                "projects": set(), "hours_approved": 0.0, "hours_pending": 0.0}
                                          for oid, o in orgs.items()}
    for v in vols:
        row = per_org.get(v.organization_id)
        if row is not None:
            row["volunteers" if v.status == "confirmed" else "awaiting_confirmation"] += 1
    per_city: dict[str, dict[str, Any]] = {}
    for p in projects:
        row = per_city.setdefault(p.city_id, {"city_id": p.city_id, "projects": 0, "active": 0, "completed": 0,
                                              "volunteers": set(), "hours_approved": 0.0, "hours_pending": 0.0})
        row["projects"] += 1
        row["active"] += p.status == "active"
        row["completed"] += p.status == "completed"
    for m in ms:
        if m.status not in ("accepted", "completed"):
            continue
        pending = sum(e.hours for e in m.hours if e.status == "pending")
        org = per_org.get(m.organization_id)
        if org is not None:
            org["matches"] += 1
            org["projects"].add(m.project_id)
            org["hours_approved"] += m.hours_approved
            org["hours_pending"] += pending
        city = per_city.get(m.city_id)
        if city is not None:
            city["volunteers"].add(m.volunteer_id)
            city["hours_approved"] += m.hours_approved
            city["hours_pending"] += pending
    names = await repo.city_names(db, set(per_city))
    orgs_out = [{**r, "projects": len(r["projects"])} for r in per_org.values()]
    cities_out = [{**r, "volunteers": len(r["volunteers"]), "city": names.get(r["city_id"], "a city")}
                  for r in per_city.values()]
    orgs_out.sort(key=lambda r: (-r["hours_approved"], r["name"]))
    cities_out.sort(key=lambda r: (-r["hours_approved"], r["city"]))
    return {"organizations": orgs_out, "cities": cities_out,
            "totals": {"organizations": len(orgs_out), "volunteers": sum(r["volunteers"] for r in orgs_out),
                       "projects": len(projects), "completed": sum(r["completed"] for r in cities_out),
                       "hours_approved": sum(r["hours_approved"] for r in cities_out),
                       "hours_pending": sum(r["hours_pending"] for r in cities_out)}}
