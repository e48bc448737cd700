"""The curated synonym list: groups of words or phrases that mean the same in the field.

A search for one phrase of a group also finds the others ("lead pipes" finds "lead service
line"); the search page says so. Curators edit the list in the curation pages. The first
start fills it with `DEFAULT_GROUPS` once; after that it is the curators' list (deleting a
default group keeps it deleted).
"""

from __future__ import annotations

from datetime import datetime

from nrn_contracts.values import SingleLine
from pydantic import BaseModel, ConfigDict, Field, field_validator

PHRASES_MIN, PHRASES_MAX = 2, 20
PHRASE_MAX = 100

DEFAULT_GROUPS: list[list[str]] = [
    ["lead pipes", "lead service line", "lead service lines", "lead lines"],
    ["blight", "vacant property", "abandoned property", "vacant and abandoned property"],
    ["broadband", "high-speed internet", "internet access"],
    ["CDBG", "Community Development Block Grant"],
    ["TIF", "tax increment financing"],
    ["brownfield", "contaminated site"],
    ["ARPA", "American Rescue Plan"],
    ["PILOT", "payment in lieu of taxes"],
    ["affordable housing", "workforce housing"],
    ["code enforcement", "property maintenance"],
    ["capital plan", "capital improvement plan"],
]


class SynonymPhrases(BaseModel):
    """What a curator writes: the phrases of one group."""

    model_config = ConfigDict(extra="forbid")

    phrases: list[SingleLine] = Field(min_length=PHRASES_MIN, max_length=PHRASES_MAX)

    @field_validator("phrases")
    @classmethod
    def _clean(cls, v: list[str]) -> list[str]:
        out: dict[str, str] = {}
        for p in v:
            p = " ".join(str(p).split())
            if not p:
                continue
            if len(p) > PHRASE_MAX:
                raise ValueError(f"each phrase must be at most {PHRASE_MAX} characters")
            out.setdefault(p.casefold(), p)
        if len(out) < PHRASES_MIN:
            raise ValueError(f"a group needs at least {PHRASES_MIN} different phrases")
        return list(out.values())


class SynonymGroup(SynonymPhrases):
    model_config = ConfigDict(extra="ignore")

    group_id: str
    version: int = 1
    updated_at: datetime
    updated_by: str
