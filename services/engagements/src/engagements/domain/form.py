"""The application form: NRN's three sections (background, economic challenges, project management)
plus the regional partners, the peer-connections checkbox and the eligibility exception request.

A draft may be incomplete: every field is optional while drafting and its size and type limits
apply as it is saved (422 naming the field). What submission needs is checked by `problems`,
which lists every missing or invalid field at once, in form order, each with its label.

Fields are addressed by dotted paths (`background.population`, `economic_challenges.barriers.housing`):
the unit of autosave merging (`merge`) and of the error list. Values in a flat form are JSON values
(dates as ISO strings), so what is compared is what is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from nrn_contracts.values import MultiLine, SingleLine, single_line

from .model import BARRIER_LABELS, Barrier, CityRef

MAX_PARTNERS = 10
MAX_STAKEHOLDERS = 20
POPULATION_MAX = 10_000_000
TIMELINE_MONTHS = (4, 12)  # NRN engagements ran 4 to 12 months
START_WITHIN_DAYS = 366  # the start wanted: from today to a year ahead
COMMITMENT_MIN = 20  # characters: a sentence, not a word


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _clean_list(value: Any) -> Any:
    """Blank entries dropped; an empty list is no list (so a page's empty box and a missing value agree)."""
    if isinstance(value, list):
        value = [v.strip() if isinstance(v, str) else v for v in value if not isinstance(v, str) or v.strip()]
        return value or None
    return value


# Text refuses control characters (nrn_contracts.values): names and titles are one line, the longer answers
# keep their line breaks.
Short = Annotated[Annotated[SingleLine, Field(max_length=200)] | None, BeforeValidator(_blank_to_none)]
Text2k = Annotated[Annotated[MultiLine, Field(max_length=2_000)] | None, BeforeValidator(_blank_to_none)]
Text5k = Annotated[Annotated[MultiLine, Field(max_length=5_000)] | None, BeforeValidator(_blank_to_none)]
# A chosen barrier's narrative: "" means chosen, not yet described.
Narrative = Annotated[MultiLine, BeforeValidator(_strip), Field(max_length=5_000)]
Stakeholder = Annotated[SingleLine, Field(min_length=1, max_length=300)]
CityId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")]
# The pattern's \s refuses line breaks but not NUL and the other control characters: single_line does.
Email = Annotated[Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
                            AfterValidator(single_line)] | None, BeforeValidator(_blank_to_none)]
LocalMatch = Literal["commit", "hardship"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Background(_Section):
    lead_official_name: Short = None
    lead_official_title: Short = None
    population: int | None = Field(None, ge=1, le=POPULATION_MAX)
    sponsor_name: Short = None
    sponsor_title: Short = None
    sponsor_commitment: Text5k = None
    stakeholders: Annotated[Annotated[list[Stakeholder], Field(max_length=MAX_STAKEHOLDERS)] | None,
                            BeforeValidator(_clean_list)] = None


class EconomicChallenges(_Section):
    # barrier → narrative; in a change, null removes the barrier
    barriers: dict[Barrier, Narrative | None] | None = None


class ProjectManagement(_Section):
    manager_name: Short = None
    manager_title: Short = None
    manager_email: Email = None
    timeline_months: int | None = Field(None, ge=TIMELINE_MONTHS[0], le=TIMELINE_MONTHS[1])
    desired_start: date | None = None
    local_match: LocalMatch | None = None
    local_match_source: Text2k = None
    hardship_reason: Text5k = None


class Regional(_Section):
    partner_city_ids: Annotated[Annotated[list[CityId], Field(max_length=MAX_PARTNERS)] | None,
                                BeforeValidator(_clean_list)] = None


class ApplicationForm(BaseModel):
    """The whole form as stored, and (every part optional) as a change: what a save sends."""

    model_config = ConfigDict(extra="forbid")

    background: Background | None = None
    economic_challenges: EconomicChallenges | None = None
    project_management: ProjectManagement | None = None
    regional: Regional | None = None
    peer_connections: bool | None = None
    exception_request: Text5k = None


@dataclass(frozen=True)
class FieldSpec:
    path: str
    label: str
    section: str  # the page section it sits in

    @property
    def anchor(self) -> str:
        """The element id of the field on the form (and of its link in the error list)."""
        return "f-" + self.path.replace(".", "-")


_SECTIONS = {"background": "Background", "economic_challenges": "Economic challenges",
             "project_management": "Project management", "regional": "Regional application",
             "more": "Peer connections and eligibility", "attachments": "Attachments"}

FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("background.lead_official_name", "Lead official's name", "background"),
    FieldSpec("background.lead_official_title", "Lead official's title", "background"),
    FieldSpec("background.population", "Population", "background"),
    FieldSpec("background.sponsor_name", "Executive sponsor's name", "background"),
    FieldSpec("background.sponsor_title", "Executive sponsor's title", "background"),
    FieldSpec("background.sponsor_commitment", "The executive sponsor's commitment", "background"),
    FieldSpec("background.stakeholders", "Stakeholders already enlisted", "background"),
    FieldSpec("economic_challenges.barriers", "Barriers to recovery", "economic_challenges"),
    *(FieldSpec(f"economic_challenges.barriers.{b.value}", f"{BARRIER_LABELS[b]}: what the city faces",
                "economic_challenges") for b in Barrier),
    FieldSpec("project_management.manager_name", "Day-to-day project manager's name", "project_management"),
    FieldSpec("project_management.manager_title", "Day-to-day project manager's title", "project_management"),
    FieldSpec("project_management.manager_email", "Day-to-day project manager's email", "project_management"),
    FieldSpec("project_management.timeline_months", "Timeline wanted (months)", "project_management"),
    FieldSpec("project_management.desired_start", "Start wanted", "project_management"),
    FieldSpec("project_management.local_match", "The 25% local match", "project_management"),
    FieldSpec("project_management.local_match_source", "How the city will pay its 25% local match",
              "project_management"),
    FieldSpec("project_management.hardship_reason", "Reason for the hardship request", "project_management"),
    FieldSpec("regional.partner_city_ids", "Partner cities", "regional"),
    FieldSpec("peer_connections", "Connections with peer cities", "more"),
    FieldSpec("exception_request", "Eligibility exception request", "more"),
    FieldSpec("attachments.sponsor_letter", "The executive sponsor's letter of commitment", "attachments"),
    FieldSpec("attachments.budget", "Budget", "attachments"),
)
BY_PATH: dict[str, FieldSpec] = {f.path: f for f in FIELDS}
SECTION_LABELS = _SECTIONS
# the paths that hold form values (the barrier choice and the attachments are derived)
VALUE_PATHS: tuple[str, ...] = tuple(f.path for f in FIELDS
                                     if f.path != "economic_challenges.barriers" and not f.path.startswith("attachments."))


def label(path: str) -> str:
    spec = BY_PATH.get(path)
    return spec.label if spec else path.replace("_", " ")


# ------------------------------------------------------------------------------ flat form


def flatten(form: ApplicationForm) -> dict[str, Any]:
    """Every value path → its JSON value (None: empty; a barrier's None: not chosen)."""
    data = form.model_dump(mode="json")
    out: dict[str, Any] = {}
    for path in VALUE_PATHS:
        if path.startswith("economic_challenges.barriers."):
            barriers = (data.get("economic_challenges") or {}).get("barriers") or {}
            out[path] = barriers.get(path.rsplit(".", 1)[1])
        elif "." in path:
            section, name = path.split(".", 1)
            out[path] = (data.get(section) or {}).get(name)
        else:
            out[path] = data.get(path)
    return out


def unflatten(flat: dict[str, Any]) -> ApplicationForm:
    nested: dict[str, Any] = {}
    barriers: dict[str, Any] = {}
    for path, value in flat.items():
        if path.startswith("economic_challenges.barriers."):
            if value is not None:
                barriers[path.rsplit(".", 1)[1]] = value
        elif "." in path:
            section, name = path.split(".", 1)
            if value is not None:
                nested.setdefault(section, {})[name] = value
        elif value is not None:
            nested[path] = value
    if barriers:
        nested["economic_challenges"] = {"barriers": barriers}
    return ApplicationForm.model_validate(nested)


def changes_of(change: ApplicationForm) -> dict[str, Any]:
    """The paths a save names (fields present in the body, null included) → their JSON values."""
    out: dict[str, Any] = {}
    data = change.model_dump(mode="json", exclude_unset=True)
    for key, value in data.items():
        if key == "economic_challenges":
            for barrier, narrative in ((value or {}).get("barriers") or {}).items():
                out[f"economic_challenges.barriers.{barrier}"] = narrative
        elif isinstance(value, dict):
            for name, inner in value.items():
                out[f"{key}.{name}"] = inner
        elif value is None and key in ("background", "project_management", "regional"):
            for path in VALUE_PATHS:
                if path.startswith(key + "."):
                    out[path] = None
        else:
            out[key] = value
    return out


@dataclass(frozen=True)
class Conflict:
    path: str
    yours: Any
    theirs: Any
    by_id: str
    by_name: str
    at: str


def merge(*, base: dict[str, Any], current: dict[str, Any], mine: dict[str, Any]
          ) -> tuple[dict[str, Any], list[str]]:
    """Three-way merge of one save, field by field.

    ``base``: the values of the version the saver loaded (for the paths they sent), ``current``:
    the stored values now, ``mine``: what they sent. A field the saver left as it was keeps
    the current value (someone else's change survives); a field only the saver changed takes
    theirs; a field both changed differently is a conflict. Returns (the changes to apply, the
    conflicting paths).
    """
    apply: dict[str, Any] = {}
    conflicts: list[str] = []
    for path, value in mine.items():
        was, now = base.get(path), current.get(path)
        if value == was or value == now:
            continue
        if now == was:
            apply[path] = value
        else:
            conflicts.append(path)
    return apply, conflicts


# ------------------------------------------------------------------------------ submission


def _problem(path: str, message: str) -> dict[str, str]:
    spec = BY_PATH[path]
    return {"field": path, "label": spec.label, "message": message, "anchor": spec.anchor,
            "section": SECTION_LABELS[spec.section]}


def problems(form: ApplicationForm, *, city: CityRef | None, partners: dict[str, CityRef | None],
             confirmed: set[str], attachment_kinds: set[str], today: date) -> list[dict[str, str]]:
    """Every field that must be completed or corrected before submitting, in form order:
    ``[{field, label, message, anchor, section}]`` (empty: ready to submit)."""
    out: list[dict[str, str]] = []
    b = form.background or Background()
    for name in ("lead_official_name", "lead_official_title"):
        if not getattr(b, name):
            out.append(_problem(f"background.{name}", "Enter it."))
    if b.population is None:
        out.append(_problem("background.population", "Enter the city's population."))
    for name in ("sponsor_name", "sponsor_title"):
        if not getattr(b, name):
            out.append(_problem(f"background.{name}", "Enter it."))
    if not b.sponsor_commitment:
        out.append(_problem("background.sponsor_commitment", "Describe what the executive sponsor commits to."))
    elif len(b.sponsor_commitment) < COMMITMENT_MIN:
        out.append(_problem("background.sponsor_commitment",
                            f"Say more: at least {COMMITMENT_MIN} characters on what the sponsor commits to."))
    if not b.stakeholders:
        out.append(_problem("background.stakeholders", "Name at least one stakeholder already enlisted."))
    barriers = (form.economic_challenges or EconomicChallenges()).barriers or {}
    if not barriers:
        out.append(_problem("economic_challenges.barriers", "Choose at least one barrier to recovery."))
    for barrier in Barrier:
        if barrier in barriers and not (barriers[barrier] or "").strip():
            out.append(_problem(f"economic_challenges.barriers.{barrier.value}",
                                "Describe what the city faces here, or untick this barrier."))
    p = form.project_management or ProjectManagement()
    for name in ("manager_name", "manager_title", "manager_email"):
        if not getattr(p, name):
            out.append(_problem(f"project_management.{name}", "Enter it."))
    if p.timeline_months is None:
        out.append(_problem("project_management.timeline_months",
                            f"Choose {TIMELINE_MONTHS[0]} to {TIMELINE_MONTHS[1]} months."))
    if p.desired_start is None:
        out.append(_problem("project_management.desired_start", "Enter the date you would like to start."))
    elif p.desired_start < today:
        out.append(_problem("project_management.desired_start", "The start wanted is in the past."))
    elif p.desired_start > today + timedelta(days=START_WITHIN_DAYS):
        out.append(_problem("project_management.desired_start", "The start wanted must be within a year."))
    if p.local_match is None:
        out.append(_problem("project_management.local_match",
                            "Say whether the city commits its 25% local match or requests a hardship exception."))
    elif p.local_match == "commit" and not p.local_match_source:
        out.append(_problem("project_management.local_match_source", "Say where the local match will come from."))
    elif p.local_match == "hardship" and not p.hardship_reason:
        out.append(_problem("project_management.hardship_reason", "Give the reason for the hardship request."))
    partner_ids = (form.regional or Regional()).partner_city_ids or []
    for city_id in partner_ids:
        partner = partners.get(city_id)
        if city is not None and city_id == city.id:
            out.append(_problem("regional.partner_city_ids", "Your own city is the lead city, not a partner."))
        elif partner is None:
            out.append(_problem("regional.partner_city_ids", "One of the partner cities is not known to NRN."))
        elif city_id not in confirmed:
            out.append(_problem("regional.partner_city_ids",
                                f"{partner.label} has not confirmed yet: one of its officials must confirm."))
    if len(set(partner_ids)) != len(partner_ids):
        out.append(_problem("regional.partner_city_ids", "A partner city is named twice."))
    if city is not None and not (city.eligible or city.exception) and not form.exception_request:
        out.append(_problem("exception_request",
                            f"{city.label} does not meet NRN's distress tests: explain why it should be considered."))
    if "sponsor_letter" not in attachment_kinds:
        out.append(_problem("attachments.sponsor_letter", "Attach the sponsor's letter of commitment."))
    return out


def section_text(form: ApplicationForm, section: str) -> str:
    """One section as plain text for the ApplicationSubmitted event (label: value lines)."""
    lines: list[str] = []
    for path, value in flatten(form).items():
        spec = BY_PATH[path]
        if spec.section != section or value in (None, "", []):
            continue
        if isinstance(value, list):
            value = "; ".join(str(v) for v in value)
        lines.append(f"{spec.label}: {value}")
    return ("\n".join(lines) or "(not given)")[:20_000]
