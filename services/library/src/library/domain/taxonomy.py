"""Closed vocabularies of the library. Topics come from the contracts so every service agrees on them."""

from __future__ import annotations

from typing import Literal, get_args

from nrn_contracts import TOPIC_TAXONOMY

# the contracts package is the source of truth for the topic taxonomy
TOPICS: tuple[str, ...] = tuple(TOPIC_TAXONOMY)

ResourceType = Literal[
    "guide",
    "toolkit",
    "case_study",
    "report",
    "webinar",
    "research",
    "policy_analysis",
    "answered_question",
    "working_group_deliverable",
    "convening_material",
    "close_out_report",
]
RESOURCE_TYPES: tuple[str, ...] = get_args(ResourceType)

# Types that only arrive from other services' events; curators do not create them by hand.
EVENT_BORN_TYPES = frozenset({"answered_question", "working_group_deliverable", "convening_material", "close_out_report"})

Status = Literal["draft", "in_review", "published", "archived"]
STATUSES: tuple[str, ...] = get_args(Status)

# Who may read a published item. Anonymous callers and partners see "public" only.
Audience = Literal["public", "officials", "staff"]
AUDIENCES: tuple[str, ...] = get_args(Audience)

Agency = Literal["HUD", "EDA", "DOT", "EPA", "USDA", "Treasury", "HHS", "NTIA", "DOE", "DOL", "FEMA", "SBA", "DOJ", "ED", "Other"]
AGENCIES: tuple[str, ...] = get_args(Agency)


def check_topics(values: list[str]) -> list[str]:
    unknown = [v for v in values if v not in TOPICS]
    if unknown:
        raise ValueError(f"unknown topic(s) {unknown}; allowed: {', '.join(TOPICS)}")
    # order-preserving de-duplication: the first topic is the primary one
    return list(dict.fromkeys(values))
