"""Events of peer networking (topic ``nrn.peer.v1``).

Three kinds of aggregate share the topic, each event keyed by its own: a convening and its
registrations, materials and feedback (``convening_id``, so registrations stay in order with their
convening); a group — a working group or the Peer Steering Committee — with its members, decisions
and deliverables (``working_group_id``); a peer introduction between two cities
(``introduction_id``).

Two further programs share the topic too. The municipal health data of the Peer Health Group: a
measure of the catalog (``measure_id``), one import of values (``import_id``: one event per
import, with its counts, never one per value), a city's dashboard published (``city_id``). The pro
bono talent network: a volunteer (``volunteer_id``) and a city's project with everything that
happens on it — its matches, the hours logged on them, its completion (``project_id``, so a
project's matches and hours stay in order with it).

A registration moves: confirmed | waitlisted → (promoted: a place offered with a hold) → confirmed;
any of them → cancelled (by the person, by staff, when the hold lapsed, or when the convening was
cancelled: ``RegistrationCancelled.reason`` says which, one event per registrant).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field

from ..envelope import Event
from ..topics import PEER_TOPIC
from ..values import (
    Id,
    LongText,
    Name,
    Reason,
    Slug,
    StateCode,
    TaxonomyTopic,
    Text,
    Title,
    Url,
    UtcDateTime,
    ValueObject,
)

_T = "org.nationalresourcenetwork.peer."
_K = {"topic": PEER_TOPIC, "key": "convening_id"}
_G = {"topic": PEER_TOPIC, "key": "working_group_id"}
_I = {"topic": PEER_TOPIC, "key": "introduction_id"}
_P = {"topic": PEER_TOPIC, "key": "project_id"}

ConveningKind = Literal["annual_convening", "working_group", "steering_committee", "webinar"]
GroupKind = Literal["working_group", "steering_committee"]
MemberKind = Literal["city", "official", "partner_expert"]
RegistrationCancelReason = Literal["by_registrant", "by_staff", "hold_expired", "convening_cancelled"]
MaterialKind = Literal["slides", "recording", "notes", "other"]
IntroductionReasonKind = Literal["peer_connections", "shared_barriers", "similar_questions", "staff"]


class AgendaSession(ValueObject):
    """One session of a convening's agenda, in UTC (the convening's ``timezone`` says how to show it)."""

    session_id: Id
    title: Title
    starts_at: UtcDateTime
    ends_at: UtcDateTime
    track: Name | None = None
    room: Name | None = None
    speakers: tuple[Name, ...] = ()


class ConveningScheduled(Event, type=_T + "convening_scheduled.v1", **_K):
    """A convening was put on the calendar."""

    convening_id: Id
    kind: ConveningKind
    title: Title
    description: Text | None = None
    working_group: Name | None = Field(default=None, description="e.g. 'Broadband', 'Peer Health'")
    topics: tuple[TaxonomyTopic, ...] = ()
    starts_at: UtcDateTime
    ends_at: UtcDateTime
    location: Name | None = Field(default=None, description="Place; null for a virtual convening")
    capacity: int | None = Field(default=None, ge=1)
    # Added compatibly with the registration rules:
    timezone: Name | None = Field(default=None, description="The venue's IANA time zone, e.g. 'America/New_York'")
    host_city_id: Id | None = None
    per_city_limit: int | None = Field(default=None, ge=1, description="Most registrations from one city")
    registration_opens_at: UtcDateTime | None = None
    registration_closes_at: UtcDateTime | None = None
    sessions: tuple[AgendaSession, ...] = Field(default=(), max_length=200)


class ConveningUpdated(Event, type=_T + "convening_updated.v1", **_K):
    """A scheduled convening changed: its full new description (registrations stand)."""

    convening_id: Id
    kind: ConveningKind
    title: Title
    description: Text | None = None
    topics: tuple[TaxonomyTopic, ...] = ()
    starts_at: UtcDateTime
    ends_at: UtcDateTime
    location: Name | None = None
    timezone: Name | None = None
    capacity: int | None = Field(default=None, ge=1)
    per_city_limit: int | None = Field(default=None, ge=1)
    registration_opens_at: UtcDateTime | None = None
    registration_closes_at: UtcDateTime | None = None
    sessions: tuple[AgendaSession, ...] = Field(default=(), max_length=200)
    sequence: int = Field(ge=0, description="iCalendar SEQUENCE: grows with every change")
    by: Id
    at: UtcDateTime


class ConveningCancelled(Event, type=_T + "convening_cancelled.v1", **_K):
    """A convening was called off. Each registrant also gets a ``RegistrationCancelled``
    (reason ``convening_cancelled``) so that every one of them is told."""

    convening_id: Id
    title: Title
    reason: Reason
    starts_at: UtcDateTime
    registrations_cancelled: int = Field(ge=0)
    by: Id
    at: UtcDateTime


class RegistrationConfirmed(Event, type=_T + "registration_confirmed.v1", **_K):
    """Someone's place at a convening was confirmed."""

    registration_id: Id
    convening_id: Id
    account_id: Id
    city_id: Id | None = None
    at: UtcDateTime
    from_waitlist: bool = Field(default=False, description="True when a promoted registrant confirmed the offer")
    # Added compatibly, so that whoever tells the registrant can name the convening without a read model:
    convening_title: Title | None = None
    convening_starts_at: UtcDateTime | None = None
    timezone: Name | None = Field(default=None, description="The venue's IANA time zone")


class RegistrationWaitlisted(Event, type=_T + "registration_waitlisted.v1", **_K):
    """The convening was full: the registrant joined the waitlist at ``position`` (1 = next)."""

    registration_id: Id
    convening_id: Id
    account_id: Id
    city_id: Id | None = None
    position: int = Field(ge=1)
    at: UtcDateTime
    # Added compatibly, so that whoever tells the registrant can name the convening without a read model:
    convening_title: Title | None = None
    convening_starts_at: UtcDateTime | None = None
    timezone: Name | None = Field(default=None, description="The venue's IANA time zone")


class RegistrationCancelled(Event, type=_T + "registration_cancelled.v1", **_K):
    """A registration (confirmed, waitlisted or promoted) ended before the convening."""

    registration_id: Id
    convening_id: Id
    account_id: Id
    city_id: Id | None = None
    previous_status: Literal["confirmed", "waitlisted", "offered"]
    reason: RegistrationCancelReason
    by: Id | None = Field(default=None, description="account_id of who cancelled; null for the system")
    at: UtcDateTime
    # Added compatibly, so that whoever tells the registrant can name the convening without a read model:
    convening_title: Title | None = None
    convening_starts_at: UtcDateTime | None = None
    timezone: Name | None = Field(default=None, description="The venue's IANA time zone")


class WaitlistPromoted(Event, type=_T + "waitlist_promoted.v1", **_K):
    """A place freed and the first in line was offered it: they confirm before ``hold_until``
    or the place passes to the next."""

    registration_id: Id
    convening_id: Id
    account_id: Id
    city_id: Id | None = None
    hold_until: UtcDateTime
    at: UtcDateTime
    # Added compatibly, so that whoever tells the registrant can name the convening without a read model:
    convening_title: Title | None = None
    convening_starts_at: UtcDateTime | None = None
    timezone: Name | None = Field(default=None, description="The venue's IANA time zone")


class AttendanceRecorded(Event, type=_T + "attendance_recorded.v1", **_K):
    """Staff checked a registrant in (or corrected a check-in)."""

    registration_id: Id
    convening_id: Id
    account_id: Id
    city_id: Id | None = None
    attended: bool
    by: Id
    at: UtcDateTime


class ConveningFeedbackReceived(Event, type=_T + "convening_feedback_received.v1", **_K):
    """An attendee rated the convening afterwards."""

    convening_id: Id
    registration_id: Id
    rating: int = Field(ge=1, le=5)
    comment: Text | None = None
    at: UtcDateTime


class ConveningMaterialPublished(Event, type=_T + "convening_material_published.v1", **_K):
    """Staff published a convening's material (slides, a recording, notes) for the library to
    carry as NRN's own resource; ``body`` (Markdown) or ``link`` or both."""

    convening_id: Id
    material_id: Id
    convening_title: Title
    material_kind: MaterialKind
    title: Title
    summary: Text | None = None
    body: LongText | None = None
    link: Url | None = None
    topics: tuple[TaxonomyTopic, ...] = ()
    speakers: tuple[Name, ...] = ()
    held_on: date | None = Field(default=None, description="The convening's first day, in the venue's time zone")
    by: Id
    at: UtcDateTime


class WorkingGroupFormed(Event, type=_T + "working_group_formed.v1", **_G):
    """A working group — or the Peer Steering Committee (``kind``) — was formed."""

    working_group_id: Id
    kind: GroupKind = "working_group"
    name: Name
    purpose: Text | None = None
    topics: tuple[TaxonomyTopic, ...] = ()
    by: Id
    at: UtcDateTime


class MemberJoined(Event, type=_T + "member_joined.v1", **_G):
    """A city, an official or a partner expert joined a group; committee members have a term."""

    working_group_id: Id
    member_kind: MemberKind
    member_id: Id = Field(description="city_id for a city, account_id for an official or a partner expert")
    city_id: Id | None = None
    name: Name | None = None
    organization: Name | None = Field(default=None, description="A partner expert's organization, e.g. 'NTIA'")
    term_starts_on: date | None = None
    term_ends_on: date | None = None
    by: Id
    at: UtcDateTime


class MemberLeft(Event, type=_T + "member_left.v1", **_G):
    """A member left a group (or their committee term ended)."""

    working_group_id: Id
    member_kind: MemberKind
    member_id: Id
    city_id: Id | None = None
    reason: Reason | None = None
    by: Id
    at: UtcDateTime


class GroupDecisionRecorded(Event, type=_T + "group_decision_recorded.v1", **_G):
    """A group's meeting recorded a decision (the steering committee's decisions)."""

    working_group_id: Id
    decision_id: Id
    meeting_id: Id | None = None
    summary: Text
    decided_on: date
    by: Id
    at: UtcDateTime


class DeliverablePublished(Event, type=_T + "deliverable_published.v1", **_G):
    """A working group's deliverable was approved after review: its final text, for the library
    to publish as NRN's own resource."""

    working_group_id: Id
    deliverable_id: Id
    working_group_name: Name
    title: Title
    summary: Text | None = None
    body: LongText
    topics: tuple[TaxonomyTopic, ...] = ()
    member_cities: tuple[Name, ...] = Field(default=(), description="'City, ST' of the group's member cities")
    contributors: tuple[Name, ...] = ()
    version: int = Field(ge=1, description="The approved draft's number")
    approved_by: Id
    at: UtcDateTime


class IntroductionOffered(Event, type=_T + "introduction_offered.v1", **_I):
    """Staff offered two cities an introduction, with the reason they were suggested."""

    introduction_id: Id
    city_id: Id = Field(description="One of the two cities introduced")
    other_city_id: Id = Field(description="The other city")
    reason_kind: IntroductionReasonKind
    reason: Reason
    by: Id
    at: UtcDateTime


class IntroductionAnswered(Event, type=_T + "introduction_answered.v1", **_I):
    """One city accepted or declined; ``shares`` is what it consented to show the other city."""

    introduction_id: Id
    city_id: Id
    accepted: bool
    shares: tuple[Literal["contact", "barriers", "questions", "note"], ...] = ()
    status: Literal["offered", "accepted", "declined"] = Field(
        description="The introduction's status after this answer: accepted once both cities accepted")
    by: Id
    at: UtcDateTime


class IntroductionProgressed(Event, type=_T + "introduction_progressed.v1", **_I):
    """An accepted introduction was followed up: the cities met, or its outcome was recorded."""

    introduction_id: Id
    step: Literal["meeting_held", "outcome_recorded"]
    met_on: date | None = None
    outcome: Text | None = None
    by: Id
    at: UtcDateTime


# ============================================================================ municipal health data

HealthDomain = Literal["health_outcomes", "health_behaviors", "clinical_care", "social_economic", "physical_environment"]
Direction = Literal["higher_is_better", "lower_is_better"]
Geography = Literal["city", "county"]
PeerSet = Literal["population_band", "peer_health_group"]
Year = Annotated[int, Field(ge=1900, le=2100)]
Count = Annotated[int, Field(ge=0, le=10_000_000)]


class HealthMeasureDefined(Event, type=_T + "health_measure_defined.v1", topic=PEER_TOPIC, key="measure_id"):
    """A measure of the health catalog was defined or its definition revised (the shipped catalog
    when peer first starts with it, ``by`` null; staff revising one, ``by`` their account)."""

    measure_id: Id
    domain: HealthDomain
    name: Name
    definition: Text
    unit: Name = Field(description="What a value counts, e.g. 'percent of adults', 'deaths per 100,000 people'")
    direction: Direction
    source: Title = Field(description="Where the catalog expects its values to come from; each value names its own")
    geography: Geography = Field(description="city: measured for the city itself; county: the county's figure, "
                                             "shown for the city it contains")
    by: Id | None = None
    at: UtcDateTime


class HealthIndicatorsLoaded(Event, type=_T + "health_indicators_loaded.v1", topic=PEER_TOPIC, key="import_id"):
    """Staff imported a CSV of health values (city, measure, year, value, source): one event per import
    that changed something, with its counts. Re-importing the same file changes nothing and emits nothing."""

    import_id: Id
    rows: Count
    created: Count
    updated: Count
    unchanged: Count
    failed: Count
    cities: Count = Field(description="Cities with a value created or updated")
    measures: tuple[Id, ...] = Field(default=(), max_length=200, description="Measures with a value created or updated")
    years: tuple[Year, ...] = Field(default=(), max_length=200)
    illustrative: Count = Field(default=0, description="Values created or updated whose source is "
                                                       "'illustrative demo value' (not evidence)")
    by: Id
    at: UtcDateTime


class HealthDashboardPublished(Event, type=_T + "health_dashboard_published.v1", topic=PEER_TOPIC, key="city_id"):
    """Staff published a city's health dashboard: its officials see it from now on, as it stands (values
    keep updating with later imports). Counts are those of the dashboard at publication."""

    city_id: Id
    latest_year: Year | None = None
    measures_shown: Count
    values_shown: Count
    flagged_better: Count = Field(description="Measures where the city is better than its peers' middle half")
    flagged_worse: Count = Field(description="Measures where the city is worse than its peers' middle half")
    peer_set: PeerSet
    peer_cities: Count
    illustrative: bool = Field(description="True when a value shown is an illustrative demo value (not evidence)")
    by: Id
    at: UtcDateTime


# ============================================================================ the pro bono talent network

WorkMode = Literal["remote", "on_site", "either"]
Hours = Annotated[float, Field(ge=0.25, le=10_000, allow_inf_nan=False, description="hours, in quarter hours at least")]


class VolunteerRegistered(Event, type=_T + "volunteer_registered.v1", topic=PEER_TOPIC, key="volunteer_id"):
    """A professional registered with the talent network for their organization; it waits for the
    organization's coordinator to confirm them."""

    volunteer_id: Id
    account_id: Id
    organization_id: Id = Field(description="The organization's partner_id")
    skills: tuple[Slug, ...] = Field(max_length=30)
    hours_per_month: Annotated[int, Field(ge=1, le=200)]
    available_from: date
    available_until: date
    work_mode: WorkMode
    base_state: StateCode | None = Field(default=None, description="Where the volunteer can work on site from")
    at: UtcDateTime


class VolunteerConfirmed(Event, type=_T + "volunteer_confirmed.v1", topic=PEER_TOPIC, key="volunteer_id"):
    """The organization's coordinator confirmed the volunteer works for them: they may now be matched."""

    volunteer_id: Id
    account_id: Id
    organization_id: Id
    by: Id
    at: UtcDateTime


class VolunteerUpdated(Event, type=_T + "volunteer_updated.v1", topic=PEER_TOPIC, key="volunteer_id"):
    """A volunteer changed their skills, hours or availability (the whole new profile)."""

    volunteer_id: Id
    skills: tuple[Slug, ...] = Field(max_length=30)
    hours_per_month: Annotated[int, Field(ge=1, le=200)]
    available_from: date
    available_until: date
    work_mode: WorkMode
    base_state: StateCode | None = None
    at: UtcDateTime


class ProjectPosted(Event, type=_T + "project_posted.v1", **_P):
    """A city department posted a project for pro bono help; NRN staff review it before it opens."""

    project_id: Id
    city_id: Id
    department: Name
    title: Title
    problem: Text
    skills: tuple[Slug, ...] = Field(max_length=30)
    hours_needed: Annotated[int, Field(ge=1, le=10_000)]
    starts_on: date
    ends_on: date
    work_mode: WorkMode = Field(description="remote, on_site (in the city), or either")
    on_site_needs: Text | None = None
    by: Id
    at: UtcDateTime


class ProjectReviewed(Event, type=_T + "project_reviewed.v1", **_P):
    """Staff reviewed a posted project: opened for matching, returned to the city for changes, or declined."""

    project_id: Id
    city_id: Id
    decision: Literal["opened", "returned", "declined"]
    note: Reason | None = None
    by: Id
    at: UtcDateTime


class MatchProposed(Event, type=_T + "match_proposed.v1", **_P):
    """A volunteer was offered to a project (by staff, or by the city from the suggestions), with the
    matching score and its reasons in words. Both sides accept or decline."""

    match_id: Id
    project_id: Id
    city_id: Id
    volunteer_id: Id
    account_id: Id = Field(description="The volunteer's account")
    organization_id: Id
    project_title: Title | None = None
    score: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
    reasons: tuple[Reason, ...] = Field(default=(), max_length=10)
    hours_agreed: Hours
    proposed_by: Literal["staff", "city"]
    by: Id
    at: UtcDateTime


class MatchAccepted(Event, type=_T + "match_accepted.v1", **_P):
    """One side accepted a match; ``status`` is ``accepted`` once both did (the project is then under way)."""

    match_id: Id
    project_id: Id
    city_id: Id
    volunteer_id: Id
    account_id: Id
    project_title: Title | None = None
    side: Literal["volunteer", "city"]
    status: Literal["awaiting_other", "accepted"]
    by: Id
    at: UtcDateTime


class MatchDeclined(Event, type=_T + "match_declined.v1", **_P):
    """One side declined a match (it ends there)."""

    match_id: Id
    project_id: Id
    city_id: Id
    volunteer_id: Id
    account_id: Id
    side: Literal["volunteer", "city"]
    reason: Reason | None = None
    by: Id
    at: UtcDateTime


class HoursLogged(Event, type=_T + "hours_logged.v1", **_P):
    """A volunteer logged hours delivered on an accepted match of an active project; the city approves them."""

    entry_id: Id
    match_id: Id
    project_id: Id
    city_id: Id
    volunteer_id: Id
    account_id: Id
    organization_id: Id
    project_title: Title | None = None
    worked_on: date
    hours: Hours
    note: Text | None = None
    at: UtcDateTime


class HoursReviewed(Event, type=_T + "hours_reviewed.v1", **_P):
    """The city approved logged hours, or returned them with a note."""

    entry_id: Id
    match_id: Id
    project_id: Id
    city_id: Id
    volunteer_id: Id
    account_id: Id
    organization_id: Id
    hours: Hours
    approved: bool
    note: Reason | None = None
    by: Id
    at: UtcDateTime


class ProjectCompleted(Event, type=_T + "project_completed.v1", **_P):
    """The city recorded a project's outcome; approved hours and the organizations that gave them."""

    project_id: Id
    city_id: Id
    title: Title
    outcome: Text
    hours_approved: Annotated[float, Field(ge=0, le=1_000_000, allow_inf_nan=False)]
    volunteers: Count
    organizations: tuple[Id, ...] = Field(default=(), max_length=100)
    by: Id
    at: UtcDateTime
