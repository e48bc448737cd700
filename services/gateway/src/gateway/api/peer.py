"""Peer networking: convenings and registrations, working groups and the steering committee, peer
introductions — /api/v1 routes with the same paths as peer's own (the city overview excepted, under
/peer/), checked here against the kit's matrix and peer's limits before the call.

No ``from __future__ import annotations``: FastAPI reads the body models from real annotations.
"""

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from ..deps import ApiUser, Svc, allow, require_city
from . import peer_health, peer_probono
from . import peer_models as m
from .forward import forward

router = APIRouter()
CONVENINGS, GROUPS, INTRODUCTIONS = "peer: convenings", "peer: working groups", "peer: introductions"
PROBLEM = {"content": {"application/problem+json": {}}}
ERRORS = {401: {"description": "not signed in", **PROBLEM}, 403: {"description": "not allowed", **PROBLEM},
          404: {"description": "no such item (or not yours)", **PROBLEM},
          409: {"description": "a rule refused it now; `rule` names it (e.g. registration_closed, "
                               "per_city_limit_reached, already_registered)", **PROBLEM},
          422: {"description": "invalid input; `field` names it", **PROBLEM},
          503: {"description": "the peer service is unavailable", **PROBLEM}}
Id = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$")]
RegStatus = Literal["confirmed", "waitlisted", "offered", "cancelled"]


async def _go(request: Request, svc: Svc, user: ApiUser, method: str, path: str, **kw) -> Response:  # noqa: ANN003
    return await forward(request, svc.peer, method, path, principal=user, **kw)


def _json(body) -> dict:  # noqa: ANN001
    return body.model_dump(mode="json", exclude_unset=True)


# ---------------------------------------------------------------------------- convenings


@router.get("/convenings", tags=[CONVENINGS], summary="Upcoming convenings", responses=ERRORS)
async def list_convenings(request: Request, user: ApiUser, svc: Svc, include_past: bool = Query(False)) -> Response:
    allow(user, "convening.read")
    return await _go(request, svc, user, "GET", "/convenings", params={"include_past": str(include_past).lower()})


@router.post("/convenings", status_code=201, tags=[CONVENINGS], summary="Staff schedule a convening", responses=ERRORS)
async def schedule(request: Request, body: m.ConveningBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "convening.manage")
    return await _go(request, svc, user, "POST", "/convenings", json=_json(body),
                     location_prefix="/api/v1/convenings/")


@router.get("/convenings/{cid}", tags=[CONVENINGS], summary="A convening and the caller's registration",
            responses=ERRORS)
async def read_convening(request: Request, cid: Id, user: ApiUser, svc: Svc) -> Response:
    allow(user, "convening.read")
    return await _go(request, svc, user, "GET", f"/convenings/{cid}")


@router.put("/convenings/{cid}", tags=[CONVENINGS], summary="Change a convening", responses=ERRORS)
async def update(request: Request, cid: Id, body: m.ConveningBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "convening.manage")
    return await _go(request, svc, user, "PUT", f"/convenings/{cid}", json=_json(body))


@router.post("/convenings/{cid}/cancel", tags=[CONVENINGS], summary="Cancel a convening (every registrant is told)",
             responses=ERRORS)
async def cancel(request: Request, cid: Id, body: m.CancelBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "convening.manage")
    return await _go(request, svc, user, "POST", f"/convenings/{cid}/cancel", json=_json(body))


@router.get("/convenings/{cid}/agenda.ics", tags=[CONVENINGS], summary="The agenda as a calendar file",
            responses=ERRORS)
async def agenda(request: Request, cid: Id, user: ApiUser, svc: Svc) -> Response:
    allow(user, "convening.read")
    return await _go(request, svc, user, "GET", f"/convenings/{cid}/agenda.ics")


@router.post("/convenings/{cid}/registrations", status_code=201, tags=[CONVENINGS],
             summary="Register (a seat, or a place on the waitlist)", responses=ERRORS)
async def register(request: Request, cid: Id, body: m.RegisterBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "convening.register", city_id=user.city_id)
    return await _go(request, svc, user, "POST", f"/convenings/{cid}/registrations", json=_json(body))


@router.get("/convenings/{cid}/registrations", tags=[CONVENINGS], summary="The check-in list", responses=ERRORS)
async def registrations(request: Request, cid: Id, user: ApiUser, svc: Svc, status: RegStatus | None = None) -> Response:
    allow(user, "convening.attendance")
    return await _go(request, svc, user, "GET", f"/convenings/{cid}/registrations",
                     params={"status": status} if status else None)


@router.get("/convenings/{cid}/feedback", tags=[CONVENINGS], summary="Attendees' feedback", responses=ERRORS)
async def feedback_summary(request: Request, cid: Id, user: ApiUser, svc: Svc) -> Response:
    allow(user, "convening.attendance")
    return await _go(request, svc, user, "GET", f"/convenings/{cid}/feedback")


@router.post("/convenings/{cid}/materials", status_code=201, tags=[CONVENINGS],
             summary="Publish a material to the library", responses=ERRORS)
async def material(request: Request, cid: Id, body: m.MaterialBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "convening.materials")
    return await _go(request, svc, user, "POST", f"/convenings/{cid}/materials", json=_json(body))


@router.get("/registrations/mine", tags=[CONVENINGS], summary="The caller's registrations", responses=ERRORS)
async def mine(request: Request, user: ApiUser, svc: Svc) -> Response:
    allow(user, "convening.read")
    return await _go(request, svc, user, "GET", "/registrations/mine")


@router.post("/registrations/{rid}/cancel", tags=[CONVENINGS], summary="Cancel a registration", responses=ERRORS)
async def cancel_registration(request: Request, rid: Id, user: ApiUser, svc: Svc) -> Response:
    allow(user, "convening.read")
    return await _go(request, svc, user, "POST", f"/registrations/{rid}/cancel")


@router.post("/registrations/{rid}/confirm", tags=[CONVENINGS], summary="Confirm a place offered from the waitlist",
             responses=ERRORS)
async def confirm(request: Request, rid: Id, user: ApiUser, svc: Svc) -> Response:
    allow(user, "convening.read")
    return await _go(request, svc, user, "POST", f"/registrations/{rid}/confirm")


@router.post("/registrations/{rid}/attendance", tags=[CONVENINGS], summary="Check a registrant in", responses=ERRORS)
async def attendance(request: Request, rid: Id, body: m.AttendanceBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "convening.attendance")
    return await _go(request, svc, user, "POST", f"/registrations/{rid}/attendance", json=_json(body))


@router.post("/registrations/{rid}/feedback", tags=[CONVENINGS], summary="Rate a convening attended",
             responses=ERRORS)
async def feedback(request: Request, rid: Id, body: m.FeedbackBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "convening.read")
    return await _go(request, svc, user, "POST", f"/registrations/{rid}/feedback", json=_json(body))


# ---------------------------------------------------------------------------- groups


@router.get("/groups", tags=[GROUPS], summary="Working groups and the Peer Steering Committee", responses=ERRORS)
async def list_groups(request: Request, user: ApiUser, svc: Svc) -> Response:
    allow(user, "group.read")
    return await _go(request, svc, user, "GET", "/groups")


@router.post("/groups", status_code=201, tags=[GROUPS], summary="Form a group", responses=ERRORS)
async def form_group(request: Request, body: m.GroupBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "group.manage")
    return await _go(request, svc, user, "POST", "/groups", json=_json(body),
                     location_prefix="/api/v1/groups/")


@router.get("/groups/{gid}", tags=[GROUPS], summary="A group: members, terms, meetings, deliverables",
            responses=ERRORS)
async def read_group(request: Request, gid: Id, user: ApiUser, svc: Svc) -> Response:
    allow(user, "group.read")
    return await _go(request, svc, user, "GET", f"/groups/{gid}")


@router.get("/groups/{gid}/candidates", tags=[GROUPS], summary="Whom staff may add: cities, member cities' officials, "
            "partner experts, by name", responses=ERRORS)
async def member_candidates(request: Request, gid: Id, user: ApiUser, svc: Svc) -> Response:
    allow(user, "group.manage")
    return await _go(request, svc, user, "GET", f"/groups/{gid}/candidates")


@router.post("/groups/{gid}/members", tags=[GROUPS], summary="Add a member", responses=ERRORS)
async def add_member(request: Request, gid: Id, body: m.MemberBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "group.manage")
    return await _go(request, svc, user, "POST", f"/groups/{gid}/members", json=_json(body))


@router.post("/groups/{gid}/members/leave", tags=[GROUPS], summary="A member leaves", responses=ERRORS)
async def remove_member(request: Request, gid: Id, body: m.LeaveBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "group.manage")
    return await _go(request, svc, user, "POST", f"/groups/{gid}/members/leave", json=_json(body))


@router.post("/groups/{gid}/meetings", status_code=201, tags=[GROUPS], summary="Schedule a meeting", responses=ERRORS)
async def meeting(request: Request, gid: Id, body: m.MeetingBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "group.manage")
    return await _go(request, svc, user, "POST", f"/groups/{gid}/meetings", json=_json(body))


@router.patch("/groups/{gid}/meetings/{mid}", tags=[GROUPS], summary="A meeting's agenda and notes", responses=ERRORS)
async def meeting_notes(request: Request, gid: Id, mid: Id, body: m.NotesBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "group.manage")
    return await _go(request, svc, user, "PATCH", f"/groups/{gid}/meetings/{mid}", json=_json(body))


@router.post("/groups/{gid}/meetings/{mid}/decisions", status_code=201, tags=[GROUPS], summary="Record a decision",
             responses=ERRORS)
async def decision(request: Request, gid: Id, mid: Id, body: m.DecisionBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "group.manage")
    return await _go(request, svc, user, "POST", f"/groups/{gid}/meetings/{mid}/decisions", json=_json(body))


@router.post("/groups/{gid}/deliverables", status_code=201, tags=[GROUPS], summary="Start a deliverable",
             responses=ERRORS)
async def deliverable(request: Request, gid: Id, body: m.DeliverableBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "deliverable.contribute", city_id=user.city_id)
    return await _go(request, svc, user, "POST", f"/groups/{gid}/deliverables", json=_json(body),
                     location_prefix="/api/v1/deliverables/")


@router.get("/deliverables/{did}", tags=[GROUPS], summary="A deliverable: drafts, comments, review", responses=ERRORS)
async def read_deliverable(request: Request, did: Id, user: ApiUser, svc: Svc) -> Response:
    allow(user, "group.read")
    return await _go(request, svc, user, "GET", f"/deliverables/{did}")


@router.post("/deliverables/{did}/drafts", tags=[GROUPS], summary="Add a draft", responses=ERRORS)
async def draft(request: Request, did: Id, body: m.DraftBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "deliverable.contribute", city_id=user.city_id)
    return await _go(request, svc, user, "POST", f"/deliverables/{did}/drafts", json=_json(body))


@router.post("/deliverables/{did}/comments", tags=[GROUPS], summary="Comment on the latest draft", responses=ERRORS)
async def comment(request: Request, did: Id, body: m.CommentBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "deliverable.contribute", city_id=user.city_id)
    return await _go(request, svc, user, "POST", f"/deliverables/{did}/comments", json=_json(body))


@router.post("/deliverables/{did}/submit", tags=[GROUPS], summary="Send for review", responses=ERRORS)
async def submit(request: Request, did: Id, user: ApiUser, svc: Svc) -> Response:
    allow(user, "deliverable.contribute", city_id=user.city_id)
    return await _go(request, svc, user, "POST", f"/deliverables/{did}/submit")


@router.post("/deliverables/{did}/review", tags=[GROUPS], summary="Approve for the library, or ask for changes",
             responses=ERRORS)
async def review(request: Request, did: Id, body: m.ReviewBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "deliverable.review")
    return await _go(request, svc, user, "POST", f"/deliverables/{did}/review", json=_json(body))


# ---------------------------------------------------------------------------- introductions


@router.get("/introductions/suggestions", tags=[INTRODUCTIONS], summary="Cities to introduce, with the reason",
            responses=ERRORS)
async def suggestions(request: Request, user: ApiUser, svc: Svc, limit: int = Query(50, ge=1, le=200)) -> Response:
    allow(user, "introduction.manage")
    return await _go(request, svc, user, "GET", "/introductions/suggestions", params={"limit": limit})


@router.get("/introductions", tags=[INTRODUCTIONS], summary="Introductions (an official: their city's)",
            responses=ERRORS)
async def list_introductions(request: Request, user: ApiUser, svc: Svc) -> Response:
    allow(user, "introduction.manage" if user.is_staff else "introduction.respond", city_id=user.city_id)
    return await _go(request, svc, user, "GET", "/introductions")


@router.post("/introductions", status_code=201, tags=[INTRODUCTIONS], summary="Offer an introduction", responses=ERRORS)
async def offer(request: Request, body: m.OfferBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "introduction.manage")
    return await _go(request, svc, user, "POST", "/introductions", json=_json(body),
                     location_prefix="/api/v1/introductions/")


@router.get("/introductions/{iid}", tags=[INTRODUCTIONS], summary="An introduction as the caller may see it",
            responses=ERRORS)
async def read_introduction(request: Request, iid: Id, user: ApiUser, svc: Svc) -> Response:
    allow(user, "introduction.manage" if user.is_staff else "introduction.respond", city_id=user.city_id)
    return await _go(request, svc, user, "GET", f"/introductions/{iid}")


@router.post("/introductions/{iid}/answer", tags=[INTRODUCTIONS], summary="Accept or decline for your city",
             responses=ERRORS)
async def answer(request: Request, iid: Id, body: m.AnswerBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "introduction.respond", city_id=user.city_id)
    return await _go(request, svc, user, "POST", f"/introductions/{iid}/answer", json=_json(body))


@router.post("/introductions/{iid}/progress", tags=[INTRODUCTIONS], summary="Record the meeting or the outcome",
             responses=ERRORS)
async def progress(request: Request, iid: Id, body: m.ProgressBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "introduction.manage")
    return await _go(request, svc, user, "POST", f"/introductions/{iid}/progress", json=_json(body))


@router.get("/peer/cities/{city_id}/overview", tags=[CONVENINGS], summary="Peer networking on the city dashboard",
            responses=ERRORS)
async def overview(request: Request, city_id: Id, user: ApiUser, svc: Svc) -> Response:
    require_city(user, city_id)
    return await _go(request, svc, user, "GET", f"/cities/{city_id}/overview")


router.include_router(peer_health.router)  # the Peer Health Group's municipal health data
router.include_router(peer_probono.router)  # the pro bono talent network
