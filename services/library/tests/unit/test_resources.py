from datetime import date, datetime, timezone

import pytest

from library.domain.errors import InvalidInput, InvalidTransition, VersionConflict
from library.domain.resources import TRANSITIONS, Resource, ResourceContent

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)


def content(**kw) -> ResourceContent:
    base = dict(type="guide", title="Land bank toolkit", summary="How to start a land bank",
                body="Step one: pass an ordinance.", topics=["housing", "land_use"],
                source_organisation="Center for Community Progress", authors=["A. Author"],
                publication_date=date(2020, 3, 1), related_cities=["Flint, MI"], tags=["land bank"])
    return ResourceContent(**(base | kw))


def new() -> Resource:
    return Resource.create("r-1", content(), by="curator-1", at=T0)


def test_created_as_draft_with_history():
    r = new()
    assert r.status == "draft" and r.version == 1
    assert [c.action for c in r.history] == ["created"]


def test_full_curation_path_keeps_every_change():
    r = new()
    r.transition("submit", by="c1", at=T0)
    r.transition("return", by="c2", at=T0, note="cite sources")
    r.edit({"summary": "How to start and run a land bank"}, by="c1", at=T0)
    r.transition("submit", by="c1", at=T0)
    r.transition("publish", by="c2", at=T0)
    r.transition("archive", by="c2", at=T0)
    assert r.status == "archived"
    assert [c.action for c in r.history] == ["created", "submitted", "returned", "edited", "submitted", "published",
                                             "archived"]
    edit = r.history[3]
    assert edit.changes == {"summary": {"old": "How to start a land bank", "new": "How to start and run a land bank"}}
    assert r.history[2].note == "cite sources"
    assert r.published_at == T0
    assert r.version == 7


ACTIONS = ["submit", "publish", "return", "archive", "restore"]


@pytest.mark.parametrize("status", list(TRANSITIONS))
@pytest.mark.parametrize("action", ACTIONS)
def test_every_status_and_action(status, action):
    r = new()
    r.status = status
    expected = TRANSITIONS[status].get(action)
    if expected is None:
        with pytest.raises(InvalidTransition) as e:
            r.transition(action, by="c", at=T0)
        assert status in e.value.detail and e.value.field == "status"
        assert r.status == status
    else:
        assert r.transition(action, by="c", at=T0) == expected


def test_drafts_cannot_skip_review():
    with pytest.raises(InvalidTransition):
        new().transition("publish", by="c", at=T0)


def test_archived_cannot_be_edited_until_restored():
    r = new()
    r.transition("archive", by="c", at=T0)
    with pytest.raises(InvalidTransition):
        r.edit({"title": "New title"}, by="c", at=T0)
    r.transition("restore", by="c", at=T0)
    assert r.edit({"title": "New title"}, by="c", at=T0) == {"title": {"old": "Land bank toolkit", "new": "New title"}}


def test_edit_without_change_records_nothing():
    r = new()
    assert r.edit({"title": "Land bank toolkit"}, by="c", at=T0) == {}
    assert len(r.history) == 1 and r.version == 1


def test_edit_validation_names_the_field():
    r = new()
    with pytest.raises(InvalidInput) as e:
        r.edit({"topics": ["astrology"]}, by="c", at=T0)
    assert e.value.field == "topics"
    with pytest.raises(InvalidInput) as e:
        r.edit({"colour": "red"}, by="c", at=T0)
    assert e.value.field == "colour"


def test_body_or_link_required():
    with pytest.raises(ValueError, match="body or a link"):
        content(body=None, link=None)
    assert content(body=None, link="https://example.org/report.pdf").link


def test_unknown_topic_and_bad_link_rejected():
    with pytest.raises(ValueError, match="unknown topic"):
        content(topics=["astrology"])
    with pytest.raises(ValueError):
        content(link="javascript:alert(1)")


def test_version_check():
    r = new()
    r.check_version(1)
    with pytest.raises(VersionConflict):
        r.check_version(3)


def test_withdraw_drops_text():
    r = new()
    r.publish_directly(by="system", at=T0)
    r.withdraw(by="system", at=T0, note="consent withdrawn")
    assert r.status == "archived"
    assert r.content.summary == "" and "ordinance" not in (r.content.body or "")
    assert r.history[-1].action == "withdrawn"
