"""Builders for tests and benchmarks: actors, a complete application form, terms, and an
application or engagement driven to any status. Lives in the package (not under tests/) so unit
tests, integration tests, the gateway's limit test and the bench share it."""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

from .domain import form as f
from .domain.application import Application, Attachment, Terms
from .domain.engagement import Assessment, BarrierFinding, Engagement, Outcome, TeamMember
from .domain.model import SYSTEM, Actor, Barrier, CityRef, PersonRef, Role
from .domain.rubric import DEFAULT_RUBRIC
from .domain.states import AppAction, AppStatus, EngAction, EngStatus, app_allowed

CITY = CityRef(id="city-flint", name="Flint", us_state="MI", eligible=True, population=102_434)
PARTNER_CITY = CityRef(id="city-saginaw", name="Saginaw", us_state="MI", eligible=True, population=48_000)
OTHER_CITY = CityRef(id="city-gary", name="Gary", us_state="IN", eligible=True, population=80_000)
INELIGIBLE_CITY = CityRef(id="city-naperville", name="Naperville", us_state="IL", eligible=False, population=141_853)


def official(account_id: str, city: CityRef, name: str) -> Actor:
    return Actor(id=account_id, kind="official", roles=frozenset({Role.official}), city_id=city.id, verified=True,
                 name=name)


def staff(account_id: str, name: str, *roles: Role) -> Actor:
    return Actor(id=account_id, kind="staff", roles=frozenset(roles), verified=True, name=name)


OFFICIAL = official("off-1", CITY, "Olive Official")
OFFICIAL_2 = official("off-2", CITY, "Oscar Official")
PARTNER_OFFICIAL = official("off-3", PARTNER_CITY, "Paula Partner")
OTHER_OFFICIAL = official("off-4", OTHER_CITY, "Gail Gary")
PM = staff("pm-1", "Pat Manager", Role.program_manager)
PM_2 = staff("pm-2", "Paz Manager", Role.program_manager)
LEAD = staff("lead-1", "Tara Lead", Role.triage_lead)
REVIEWERS = (staff("rev-1", "Rita Reviewer", Role.reviewer), staff("rev-2", "Rob Reviewer", Role.reviewer),
             staff("rev-3", "Ria Reviewer", Role.reviewer))
EXPERT = staff("exp-1", "Eve Expert", Role.subject_matter_expert)
ADMIN = staff("adm-1", "Ada Admin", Role.administrator)
CURATOR = staff("cur-1", "Cy Curator", Role.curator)

T0 = datetime(2025, 3, 3, 14, 0, tzinfo=UTC)  # a Monday, 09:00 in New York
TODAY = date(2025, 3, 3)


def complete_form(today: date = TODAY, **overrides: Any) -> dict[str, Any]:
    """A complete application as a save body (the JSON a page or client sends)."""
    data: dict[str, Any] = {
        "background": {"lead_official_name": "Karen Weaver", "lead_official_title": "Mayor", "population": 102_434,
                       "sponsor_name": "Karen Weaver", "sponsor_title": "Mayor",
                       "sponsor_commitment": "The mayor commits two senior staff for the whole engagement and will "
                                             "bring the plan to council within 90 days.",
                       "stakeholders": ["Flint Area Reinvestment Office", "Community Foundation of Greater Flint"]},
        "economic_challenges": {"barriers": {
            "housing": "Over 6,000 vacant homes; the land bank cannot keep up with demolitions.",
            "workforce": "Manufacturing jobs left; training programs do not match the jobs that remain."}},
        "project_management": {"manager_name": "Jordan Lee", "manager_title": "Director of Planning",
                               "manager_email": "jordan.lee@cityofflint.example", "timeline_months": 9,
                               "desired_start": (today + timedelta(days=45)).isoformat(), "local_match": "commit",
                               "local_match_source": "The general fund's economic development line."},
        "peer_connections": True,
    }
    for key, value in overrides.items():
        data[key] = value
    return data


def form_changes(body: dict[str, Any]) -> dict[str, Any]:
    return f.changes_of(f.ApplicationForm.model_validate(body))


def tiny_pdf() -> bytes:
    return (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] "
            b"/Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x00\x00\x00")) + chunk(b"IEND", b""))


def letter(now: datetime = T0, attachment_id: str = "file-1") -> Attachment:
    return Attachment(id=attachment_id, kind="sponsor_letter", filename="letter.pdf", content_type="application/pdf",
                      size=len(tiny_pdf()), uploaded_by=OFFICIAL.id, uploaded_by_name=OFFICIAL.name, uploaded_at=now)


def terms(today: date = TODAY, **overrides: Any) -> Terms:
    data: dict[str, Any] = dict(title="Flint: vacant housing and workforce", scope="Land bank strategy and a "
                                "workforce plan tied to the jobs that remain.", budget_cents=25_000_000,
                                duration_months=9, starts_on=today + timedelta(days=30))
    data.update(overrides)
    return Terms.model_validate(data)


GOOD_SCORES = {"need": 5, "commitment": 4, "capacity": 4, "fit": 4, "impact": 3}
FAIR_SCORES = {"need": 4, "commitment": 4, "capacity": 3, "fit": 4, "impact": 3}


class AppScenario:
    """Drives one application through review with a hand-cranked clock (version bumped per action,
    as the repository does)."""

    def __init__(self, start: datetime = T0, application_id: str = "app-1", city: CityRef = CITY) -> None:
        self.now = start
        self.city = city
        self.app = Application.start(application_id=application_id, actor=OFFICIAL, city=city, now=start,
                                     round_id="round-1")
        self.app.version = 1

    @property
    def today(self) -> date:
        return self.now.date()

    def tick(self, delta: timedelta = timedelta(minutes=5)) -> datetime:
        self.now += delta
        return self.now

    def bump(self) -> None:
        self.app.version += 1

    def fill(self) -> None:
        self.app.save(actor=OFFICIAL, now=self.tick(), base_version=self.app.version,
                      changes=form_changes(complete_form(self.today)))
        self.bump()

    def next_reviewer(self) -> Actor:
        return next(r for r in REVIEWERS if self.app.review_of(r.id) is None)

    def pending_reviewer(self) -> Actor | None:
        return next((r for r in REVIEWERS if (rv := self.app.review_of(r.id)) is not None
                     and rv.conflict is None and rv.submitted_at is None), None)

    def perform(self, action: AppAction) -> None:
        a = self.app
        ready = app_allowed(action, a.status)
        if action is AppAction.edit:
            a.save(actor=OFFICIAL, now=self.tick(), base_version=max(a.version, 1),
                   changes=form_changes(complete_form(self.today)))
        elif action is AppAction.attach:
            a.attach(actor=OFFICIAL, now=self.tick(), attachment=letter(self.now, f"file-{len(a.attachments) + 1}"))
        elif action is AppAction.remove_attachment:
            if ready and not a.attachments:
                a.attach(actor=OFFICIAL, now=self.tick(), attachment=letter(self.now))
            a.remove_attachment(actor=OFFICIAL, now=self.tick(), attachment_id=a.attachments[0].id if a.attachments
                                else "file-none")
        elif action is AppAction.confirm_partnership:
            if ready and PARTNER_CITY.id not in a.partner_city_ids:
                a.save(actor=OFFICIAL, now=self.tick(), base_version=a.version,
                       changes={"regional.partner_city_ids": [PARTNER_CITY.id]})
                self.bump()
            a.confirm_partnership(actor=PARTNER_OFFICIAL, now=self.tick())
        elif action is AppAction.submit:
            if ready:
                self.fill()
                if not a.attachments:
                    a.attach(actor=OFFICIAL, now=self.tick(), attachment=letter(self.now))
            a.submit(actor=OFFICIAL, now=self.tick(), city=self.city, partners={PARTNER_CITY.id: PARTNER_CITY},
                     today=self.today, round_id="round-1")
        elif action is AppAction.withdraw:
            a.withdraw(actor=OFFICIAL, now=self.tick(), reason="Our council changed its priorities.")
        elif action is AppAction.screen_in:
            a.screen_in(actor=LEAD, now=self.tick(), rubric=DEFAULT_RUBRIC, note="Meets the distress tests.")
        elif action is AppAction.screen_out:
            a.screen_out(actor=LEAD, now=self.tick(), note="Population above the program's limit.")
        elif action is AppAction.assign_reviewer:
            reviewer = self.next_reviewer()
            a.assign_reviewer(actor=PM, now=self.tick(), reviewer=PersonRef(id=reviewer.id, name=reviewer.name))
        elif action is AppAction.declare_conflict:
            reviewer = next((r for r in REVIEWERS if (rv := a.review_of(r.id)) and rv.conflict is None), REVIEWERS[0])
            a.declare_conflict(actor=reviewer, now=self.tick(), reason="I worked for the city's planning department.")
        elif action is AppAction.score:
            reviewer = self.pending_reviewer()
            if reviewer is None and ready:
                new = self.next_reviewer()
                a.assign_reviewer(actor=PM, now=self.tick(), reviewer=PersonRef(id=new.id, name=new.name))
                reviewer = new
            a.submit_score(actor=reviewer or REVIEWERS[0], now=self.tick(), scores=GOOD_SCORES,
                    comments={"need": "Well documented."}, overall="A strong application.")
        elif action is AppAction.accept:
            a.accept(actor=PM, now=self.tick(), terms=terms(self.today), reason="Strong commitment and clear need.",
                     round_id="round-1", engagement_id="eng-1")
        elif action is AppAction.waitlist:
            a.waitlist(actor=PM, now=self.tick(), terms=terms(self.today), reason="Good, but others scored higher.",
                       round_id="round-1", position=1)
        elif action is AppAction.decline:
            a.decline(actor=PM, now=self.tick(), reason="The work asked for is outside what NRN does.")
        elif action is AppAction.promote:
            a.promote(actor=SYSTEM, now=self.tick(), engagement_id="eng-2")
        else:  # pragma: no cover - every action is listed above
            raise AssertionError(action)
        self.bump()


_SUBMITTED = [AppAction.edit, AppAction.attach, AppAction.submit]
_REVIEW = _SUBMITTED + [AppAction.screen_in, AppAction.assign_reviewer, AppAction.assign_reviewer]
APP_PATHS: dict[AppStatus, list[AppAction]] = {
    AppStatus.draft: [],
    AppStatus.submitted: _SUBMITTED,
    AppStatus.screened_out: _SUBMITTED + [AppAction.screen_out],
    AppStatus.in_review: _REVIEW,
    AppStatus.scored: _REVIEW + [AppAction.score, AppAction.score],
    AppStatus.withdrawn: [AppAction.withdraw],
}
APP_PATHS[AppStatus.waitlisted] = APP_PATHS[AppStatus.scored] + [AppAction.waitlist]
APP_PATHS[AppStatus.accepted] = APP_PATHS[AppStatus.scored] + [AppAction.accept]
APP_PATHS[AppStatus.declined] = APP_PATHS[AppStatus.scored] + [AppAction.decline]


def app_at(status: AppStatus, start: datetime = T0, application_id: str = "app-1") -> AppScenario:
    sc = AppScenario(start, application_id)
    for action in APP_PATHS[status]:
        sc.perform(action)
    assert sc.app.status is status, (status, sc.app.status)
    return sc


class EngScenario:
    """Drives one engagement (opened from an accepted application) through its life."""

    def __init__(self, start: datetime = T0) -> None:
        sc = app_at(AppStatus.accepted, start)
        self.now = sc.now
        self.application = sc.app
        assert sc.app.terms is not None
        self.e = Engagement.open(engagement_id="eng-1", application=sc.app, terms=sc.app.terms, now=self.now)
        self.e.team = [TeamMember(member_id=EXPERT.id, name=EXPERT.name, role="Engagement lead"),
                       TeamMember(name="Dana Planner", role="Land use expert", kind="partner_expert",
                                  organization="Urban Land Institute")]
        self.e.version = 1

    @property
    def today(self) -> date:
        return self.now.date()

    def tick(self, delta: timedelta = timedelta(hours=1)) -> datetime:
        self.now += delta
        return self.now

    def perform(self, action: EngAction) -> None:
        e = self.e
        if action is EngAction.set_team:
            e.set_team(actor=PM, now=self.tick(), team=list(e.team))
        elif action is EngAction.complete_assessment:
            e.complete_assessment(actor=EXPERT, now=self.tick(), today=self.today, assessment=Assessment(
                visited_on=self.today, barriers=[
                    BarrierFinding(barrier=Barrier.housing, findings="Vacancy concentrated in three wards."),
                    BarrierFinding(barrier=Barrier.land_use, findings="Zoning blocks infill housing.")],
                strengths=["An active land bank", "Engaged community foundation"], summary="Two days on site."))
        elif action is EngAction.propose_plan:
            start = e.starts_on
            e.propose_plan(actor=EXPERT, now=self.tick(), milestones=[
                {"title": "Vacancy inventory", "owner": "City planning department", "due_on": start + timedelta(days=60)},
                {"title": "Land bank strategy", "owner": "Eve Expert", "due_on": start + timedelta(days=150),
                 "description": "A five-year disposition strategy."}])
        elif action is EngAction.comment_plan:
            e.comment_plan(actor=OFFICIAL, now=self.tick(), text="Can the inventory include commercial parcels?")
        elif action is EngAction.agree_plan:
            e.agree_plan(actor=OFFICIAL, now=self.tick(), plan_version=e.plan_version)
        elif action is EngAction.complete_milestone:
            first = next((m for m in e.milestones if m.status == "open"), None)
            e.complete_milestone(actor=EXPERT, now=self.tick(), today=self.today,
                                 milestone_id=first.id if first else "m-none", note="Delivered to the city.")
        elif action is EngAction.post_update:
            e.post_update(actor=EXPERT, now=self.tick(), health="on_track", text="Inventory fieldwork half done.")
        elif action is EngAction.record_risk:
            e.record_risk(actor=EXPERT, now=self.tick(), risk_id=None, description="Council elections in November.",
                          likelihood="medium", impact="high", mitigation="Brief both candidates.")
        elif action is EngAction.add_partner:
            e.add_partner(actor=EXPERT, now=self.tick(), name="Genesee County Land Bank", organization="County",
                          role="Owns most vacant parcels")
        elif action is EngAction.submit_close_out:
            e.submit_close_out(actor=PM, now=self.tick(), outcomes=[
                Outcome(milestone_id=m.id, result="met") for m in e.milestones],
                final_report="Flint now has a vacancy inventory and a land bank strategy adopted by council.")
        elif action is EngAction.end_early:
            e.end_early(actor=PM, now=self.tick(), outcomes=[],
                        final_report="The city paused the work after the election; the inventory was delivered.")
        elif action is EngAction.cancel:
            e.cancel(actor=PM, now=self.tick(), reason="The city could not assign a project manager.")
        elif action is EngAction.confirm_close_out:
            e.confirm_close_out(actor=OFFICIAL, now=self.tick(), consent="named")
        elif action is EngAction.record_check_in:
            e.record_check_in(actor=OFFICIAL, now=self.tick(), today=self.today,
                              notes="Council adopted the strategy; two parcels sold.")
        else:  # pragma: no cover
            raise AssertionError(action)
        e.version += 1


ENG_PATHS: dict[EngStatus, list[EngAction]] = {
    EngStatus.opened: [],
    EngStatus.assessed: [EngAction.complete_assessment],
    EngStatus.cancelled: [EngAction.cancel],
}
ENG_PATHS[EngStatus.planning] = ENG_PATHS[EngStatus.assessed] + [EngAction.propose_plan]
ENG_PATHS[EngStatus.in_progress] = ENG_PATHS[EngStatus.planning] + [EngAction.agree_plan]
ENG_PATHS[EngStatus.closing] = ENG_PATHS[EngStatus.in_progress] + [EngAction.submit_close_out]
ENG_PATHS[EngStatus.closed] = ENG_PATHS[EngStatus.closing] + [EngAction.confirm_close_out]


def eng_at(status: EngStatus, start: datetime = T0) -> EngScenario:
    sc = EngScenario(start)
    for action in ENG_PATHS[status]:
        sc.perform(action)
    assert sc.e.status is status, (status, sc.e.status)
    return sc
