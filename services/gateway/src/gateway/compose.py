"""Composition: run independent sections concurrently and keep what arrives.

A composed view (the city dashboard) is a list of sections, each fetched from one
service. Sections are registered, not hard-wired: a later service (engagements, peer)
adds its section with ``registry.add(Section(...))`` and no other section changes.

A section that times out, whose service is down, or that fails in any way becomes a
``Missing`` entry; the result is then ``partial``. Composition never raises for a
section's failure: the page renders the rest with a notice, the API returns the parts it
has with ``partial: true``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from .clients import ServiceUnavailable, UpstreamError

log = logging.getLogger(__name__)

C = TypeVar("C")
Fetch = Callable[[C], Awaitable[Any]]


@dataclass(frozen=True)
class Section(Generic[C]):
    name: str  # key in the composed result, stable for API clients
    title: str  # human name, used in the "not available" notice
    service: str  # the service it depends on
    fetch: Fetch[C]
    template: str | None = None  # partial template that renders it on the page
    order: int = 100
    timeout: float | None = None  # None: the composition's default
    # The section's part of the city's timeline: what NRN did with the city, from the section's own
    # fetched value. Each entry: {"at": ISO date-time, "kind": "Question", "title", "href", "detail"}.
    timeline: Callable[[Any], list[dict[str, Any]]] | None = None


@dataclass(frozen=True)
class Missing:
    section: str
    title: str
    service: str
    reason: str
    status: int | None = None  # upstream status when the service answered

    def as_dict(self) -> dict[str, Any]:
        return {"section": self.section, "title": self.title, "service": self.service, "reason": self.reason}


@dataclass
class Composed:
    sections: dict[str, Any] = field(default_factory=dict)
    missing: list[Missing] = field(default_factory=list)

    @property
    def partial(self) -> bool:
        return bool(self.missing)

    def missing_names(self) -> set[str]:
        return {m.section for m in self.missing}


class SectionRegistry(Generic[C]):
    def __init__(self) -> None:
        self._sections: dict[str, Section[C]] = {}

    def add(self, section: Section[C]) -> Section[C]:
        if section.name in self._sections:
            raise ValueError(f"section {section.name!r} is already registered")
        self._sections[section.name] = section
        return section

    def section(
        self,
        name: str,
        *,
        title: str,
        service: str,
        template: str | None = None,
        order: int = 100,
        timeout: float | None = None,
    ) -> Callable[[Fetch[C]], Fetch[C]]:
        """Decorator form of ``add``."""

        def register(fetch: Fetch[C]) -> Fetch[C]:
            self.add(Section(name, title, service, fetch, template, order, timeout))
            return fetch

        return register

    def __iter__(self) -> Iterator[Section[C]]:
        return iter(sorted(self._sections.values(), key=lambda s: (s.order, s.name)))

    def __len__(self) -> int:
        return len(self._sections)

    def names(self) -> list[str]:
        return [s.name for s in self]


async def _run(section: Section[C], ctx: C, default_timeout: float) -> tuple[Section[C], Any, Missing | None]:
    def missing(reason: str, status: int | None = None) -> Missing:
        return Missing(section.name, section.title, section.service, reason, status)

    try:
        value = await asyncio.wait_for(section.fetch(ctx), section.timeout or default_timeout)
    except (asyncio.TimeoutError, TimeoutError):
        return section, None, missing("timed out")
    except ServiceUnavailable as exc:
        return section, None, missing(exc.reason, exc.status)
    except UpstreamError as exc:
        return section, None, missing(f"{exc.service} answered {exc.status}", exc.status)
    except asyncio.CancelledError:
        raise
    except Exception:  # noqa: BLE001 - one broken section must not break the page
        log.exception("dashboard section %s failed", section.name)
        return section, None, missing("failed")
    return section, value, None


async def compose(sections: Iterable[Section[C]], ctx: C, *, default_timeout: float) -> Composed:
    """Fetch every section concurrently, each bounded by its own timeout."""
    results = await asyncio.gather(*(_run(s, ctx, default_timeout) for s in sections))
    out = Composed()
    for section, value, miss in results:
        if miss is None:
            out.sections[section.name] = value
        else:
            out.missing.append(miss)
    return out
