from datetime import datetime, timezone

from library.api import viewer_of
from library.domain import publication as pub
from library.domain.resources import Resource, ResourceContent
from nrn_kit.auth import Principal

T0 = datetime(2026, 1, 5, tzinfo=timezone.utc)


def res(**kw) -> Resource:
    base = dict(type="webinar", title="Broadband webinar", summary="", link="https://example.org/recording",
                topics=["broadband"], source_organisation="NTIA", tags=["x" * 80, "digital equity"])
    return Resource.create("r-1", ResourceContent(**(base | kw)), by="c", at=T0,
                           origin={"kind": "requests311", "request_id": "req-1", "city_id": "city-1"})


def test_published_event_maps_types_and_fits_the_contract():
    e = pub.published_event(res(), T0)
    assert e.kind == "other" and e.resource_type == "webinar"
    assert e.summary == "Broadband webinar"  # an empty summary falls back to the title
    assert e.body_markdown is None and e.url == "https://example.org/recording"
    assert all(len(t) <= 50 for t in e.tags)
    assert (e.source_request_id, e.city_id) == ("req-1", "city-1")
    assert pub.published_event(res(type="research"), T0).kind == "report"


def test_only_public_items_are_announced():
    assert pub.announced(res())
    assert not pub.announced(res(audience="officials"))


def test_viewer_of_principals():
    def p(kind, status="verified", roles=(), city=None):
        return Principal(account_id="a", kind=kind, roles=frozenset(roles), expertise=frozenset(), city_id=city,
                         status=status)

    assert viewer_of(None).audiences == ("public",)
    assert viewer_of(p("official", city="c")).audiences == ("public", "officials")
    assert viewer_of(p("official", status="pending", city="c")).audiences == ("public",)
    assert viewer_of(p("partner_member")).audiences == ("public",)
    assert viewer_of(p("staff", roles=["curator"])).can_curate
    assert not viewer_of(p("staff", roles=["reviewer"])).can_curate
    assert not viewer_of(p("staff", status="pending", roles=["curator"])).can_curate
