"""What each audience sees of an application or an engagement (JSON-ready dicts).

- An official (of the applying city, or of a partner city of a regional application) sees the
  form, the attachments, the status, the decision and its reason, and the public timeline; never
  reviews, scores, screening notes or conflicts.
- A reviewer assigned to the application sees it with the rubric and their own review; the other
  reviewers' scores, the average and the disagreement flag only once they have submitted theirs.
- Program managers, triage leads and administrators see everything.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from . import form as f
from .application import ATTACHMENT_LABELS, Application, dollars
from .engagement import Engagement
from .model import BARRIER_LABELS, Actor, Role
from .rubric import as_points

MANAGERS = (Role.program_manager, Role.triage_lead)


def audience(app: Application, actor: Actor) -> str:
    if actor.kind == "official":
        return "official"
    if actor.has(*MANAGERS):
        return "manager"
    return "reviewer"


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value else None


def _score(hundredths: int | None) -> dict[str, Any] | None:
    return None if hundredths is None else {"hundredths": hundredths, "points": as_points(hundredths)}


def summary(app: Application) -> dict[str, Any]:
    """One line of a list (officials' history, staff queues)."""
    return {
        "id": app.id, "version": app.version, "status": app.status.value, "city_id": app.city_id,
        "city_name": app.city_name, "state": app.us_state, "round_id": app.round_id,
        "created_at": _iso(app.created_at), "updated_at": _iso(app.updated_at), "submitted_at": _iso(app.submitted_at),
        "barriers": [b.value for b in app.barriers], "regional": bool(app.partner_city_ids),
        "exception_requested": app.exception_requested, "previous_application_id": app.previous_application_id,
        "decision": app.decision.decision if app.decision else None, "engagement_id": app.engagement_id,
    }


def staff_summary(app: Application) -> dict[str, Any]:
    out = summary(app)
    out.update(score=_score(app.score), disagreement=bool(app.disagreement),
               reviewers=len([r for r in app.reviews if r.conflict is None]),
               reviews_submitted=len(app.counted_reviews),
               waitlist_position=app.decision.waitlist_position if app.decision else None)
    return out


def application_view(app: Application, actor: Actor, *, cities: dict[str, str], today: date,
                     problems: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """`cities`: city id → "Name, ST" for the partner cities named; `problems`: what submitting
    still needs (drafts)."""
    who = audience(app, actor)
    last = app.edits[-1] if app.edits else None
    out: dict[str, Any] = {
        **summary(app),
        "form": app.form.model_dump(mode="json"),
        "partner_cities": [{"city_id": c, "name": cities.get(c, "Unknown city"),
                            "confirmed": c in app.confirmed_cities()} for c in app.partner_city_ids],
        "peer_connections": app.peer_connections,
        "attachments": [{"id": a.id, "kind": a.kind, "kind_label": ATTACHMENT_LABELS[a.kind], "filename": a.filename,
                         "content_type": a.content_type, "size": a.size, "uploaded_by_name": a.uploaded_by_name,
                         "uploaded_at": _iso(a.uploaded_at)} for a in app.attachments],
        "last_saved": {"by_name": last.by_name, "at": _iso(last.at), "version": last.version} if last else None,
        "decision": None if app.decision is None else {
            "decision": app.decision.decision, "reason": app.decision.reason, "at": _iso(app.decision.at),
            "waitlist_position": app.decision.waitlist_position},
        "withdrawal": None if app.withdrawal is None else {"at": _iso(app.withdrawal.at),
                                                           "reason": app.withdrawal.reason},
        "terms": None if app.terms is None or app.decision is None or app.decision.decision == "declined" else
        terms_view(app.terms),
        "timeline": [e.model_dump(mode="json") for e in app.timeline if e.public or who != "official"],
        "actions": app.actions_for(actor),
        "problems": problems if problems is not None else [],
        "is_partner_city": actor.kind == "official" and actor.city_id != app.city_id,
    }
    if who == "official":
        out["timeline"] = [_public_entry(e) for e in out["timeline"]]
        return out
    out["rubric"] = app.rubric.model_dump(mode="json") if app.rubric else None
    out["screening"] = app.screening.model_dump(mode="json") if app.screening else None
    mine = app.review_of(actor.id)
    sees_all = who == "manager" or (mine is not None and mine.submitted_at is not None)
    reviews = []
    for r in app.reviews:
        if r.reviewer_id != actor.id and not sees_all:
            continue
        if r.conflict is not None and who != "manager":
            continue
        reviews.append({"reviewer_id": r.reviewer_id, "reviewer_name": r.reviewer_name, "mine": r.reviewer_id == actor.id,
                        "assigned_at": _iso(r.assigned_at), "submitted_at": _iso(r.submitted_at),
                        "scores": r.scores, "comments": r.comments, "overall": r.overall, "total": _score(r.total),
                        "conflict": r.conflict is not None, "conflict_reason": r.conflict if who == "manager" else None})
    out["reviews"] = reviews
    out["my_review_submitted"] = bool(mine and mine.submitted_at)
    out["others_hidden"] = not sees_all
    out["score"] = _score(app.score) if sees_all else None
    out["disagreement"] = app.disagreement if sees_all else []
    if who == "manager":
        out["decision_detail"] = app.decision.model_dump(mode="json") if app.decision else None
    return out


def _public_entry(entry: dict[str, Any]) -> dict[str, Any]:
    # officials see who of their city acted, and "NRN" for staff
    if entry.get("actor_kind") != "official":
        entry = {**entry, "actor_name": "NRN"}
    return entry


def terms_view(terms: Any) -> dict[str, Any]:
    return {"title": terms.title, "scope": terms.scope, "budget_cents": terms.budget_cents,
            "budget": dollars(terms.budget_cents), "federal_cents": terms.federal_cents,
            "federal": dollars(terms.federal_cents), "local_cents": terms.local_cents, "local": dollars(terms.local_cents),
            "duration_months": terms.duration_months, "starts_on": _iso(terms.starts_on),
            "ends_on": _iso(terms.ends_on), "hardship_accepted": terms.hardship_accepted}


def engagement_summary(e: Engagement, today: date) -> dict[str, Any]:
    overdue = e.overdue_milestones(today)
    return {
        "id": e.id, "version": e.version, "status": e.status.value, "title": e.title, "city_id": e.city_id,
        "city_name": e.city_name, "state": e.us_state, "application_id": e.application_id, "round_id": e.round_id,
        "starts_on": _iso(e.starts_on), "ends_on": _iso(e.ends_on), "budget": dollars(e.budget_cents),
        "barriers": [b.value for b in e.barriers], "overdue_milestones": len(overdue),
        "next_due_on": _iso(e.next_due_on()), "milestones_done": sum(m.status == "completed" for m in e.milestones),
        "milestones_total": len(e.milestones), "check_in_due_on": _iso(e.check_in_due_on),
        "check_in_due": e.check_in_pending_on() is not None and e.check_in_pending_on() <= today,  # type: ignore[operator]
        "health": e.updates[-1].health if e.updates else None, "opened_at": _iso(e.opened_at),
    }


def engagement_view(e: Engagement, actor: Actor, today: date) -> dict[str, Any]:
    data = e.model_dump(mode="json", exclude={"timeline"})
    data.update(engagement_summary(e, today))
    data["budget_dollars"] = {"total": dollars(e.budget_cents), "federal": dollars(e.federal_cents),
                              "local": dollars(e.local_cents)}
    data["barrier_labels"] = {b.value: BARRIER_LABELS[b] for b in e.barriers}
    for m in data["milestones"]:
        m["overdue"] = e.status.value == "in_progress" and m["status"] == "open" and m["due_on"] < today.isoformat()
    timeline = [t.model_dump(mode="json") for t in e.timeline]
    data["timeline"] = [_public_entry(t) for t in timeline] if actor.kind == "official" else timeline
    data["actions"] = e.actions_for(actor)
    data["on_team"] = e.on_team(actor.id)
    return data


def form_labels() -> list[dict[str, str]]:
    """The form's fields in order: path, label, anchor and section label (for pages and error lists)."""
    return [{"field": s.path, "label": s.label, "anchor": s.anchor, "section": f.SECTION_LABELS[s.section]}
            for s in f.FIELDS]
