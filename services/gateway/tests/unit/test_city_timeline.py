"""The city's timeline: every registered section adds its own entries; the page shows them newest first."""

from __future__ import annotations

from typing import Any

from gateway.compose import Section, SectionRegistry
from gateway.dashboard import city_timeline, default_sections


async def _none(ctx: Any) -> None:
    return None


def test_each_section_adds_its_entries_newest_first_without_knowing_the_others() -> None:
    registry = default_sections()
    # a later program registers its section with its own entries; nothing else changes
    registry.add(Section("convenings_extra", "More", "peer", _none, None, order=90, timeline=lambda v: [
        {"at": v["when"], "kind": "Introduction", "title": "Met Flint's planners", "href": "/introductions/i1"}]))
    sections = {
        "requests": {"items": [{"id": "req_1", "reference": "NRN-2026-00007", "title": "Lead pipes",
                                "submitted_at": "2026-03-01T15:00:00+00:00",
                                "memo_delivered_at": "2026-03-10T15:00:00+00:00", "closed_at": None}]},
        "assistance": {"applications": [{"id": "app1", "submitted_at": "2026-02-01T15:00:00+00:00"}], "engagements": []},
        "convenings_extra": {"when": "2026-04-01T15:00:00+00:00"},
        "resources": {"items": []},
    }
    entries = city_timeline(registry, sections)
    assert [e["kind"] for e in entries] == ["Introduction", "Memo delivered", "Question asked", "Application submitted"]
    assert entries[2]["href"] == "/requests/req_1" and "NRN-2026-00007" in entries[2]["detail"]
    assert entries[3]["staff_href"] == "/staff/applications/app1"


def test_a_section_with_odd_data_or_none_never_breaks_the_timeline() -> None:
    registry: SectionRegistry = SectionRegistry()
    registry.add(Section("broken", "Broken", "x", _none, None, timeline=lambda v: v["missing"]))
    registry.add(Section("fine", "Fine", "y", _none, None, timeline=lambda v: [
        {"at": "2026-01-01T00:00:00+00:00", "kind": "Thing", "title": "t", "href": "/t"},
        {"at": None, "kind": "No date", "title": "t", "href": "/t"}]))
    assert [e["kind"] for e in city_timeline(registry, {"broken": {}, "fine": {}})] == ["Thing"]
    assert city_timeline(default_sections(), {}) == []
