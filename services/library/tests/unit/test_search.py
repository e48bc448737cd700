from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from library.search import query as qp
from library.search.documents import SearchDoc
from library.search.index import MAX_PAGE, MAX_PAGE_SIZE, SearchIndex, SearchRequest
from library.search.visibility import ANONYMOUS, Viewer

OFFICIAL = Viewer(kind="official", verified=True, city_id="c-flint")
CURATOR = Viewer(kind="staff", roles=frozenset({"curator"}), verified=True)
STAFF = Viewer(kind="staff", roles=frozenset({"program_manager"}), verified=True)


def doc(id, title, body="", summary="", type="guide", status="published", audience="public", topics=("housing",),
        source="NRN", agency="", year=2021, kind="resource"):
    return SearchDoc(id=id, kind=kind, type=type, status=status, audience=audience, title=title, summary=summary,
                     body=body, topics=list(topics), source=source, agency=agency, published=date(year, 6, 1))


DOCS = [
    doc("landbank", "Land bank toolkit", "How to start a land bank for vacant and abandoned property.",
        "Acquire, hold and sell vacant land", type="toolkit", topics=["housing", "land_use"], year=2019,
        source="Center for Community Progress"),
    doc("budget", "Budgeting for outcomes", "Priority-based budgeting aligns spending with results; a land note.",
        "A budgeting guide", topics=["finance_budgets"], year=2020, source="GFOA"),
    doc("broadband", "Municipal broadband networks", "Digital equity programmes and municipal fiber.",
        "Broadband for small cities", type="report", topics=["broadband"], year=2022, source="NTIA", agency="NTIA"),
    doc("qa-1", "Can we use a land bank for vacant homes?", "Yes: a land bank can acquire tax-foreclosed homes.",
        "Yes, by ordinance.", type="answered_question", year=2023),
    doc("qa-2", "How do we finance lead pipe replacement?", "State revolving funds and CDBG can pay for lead lines.",
        "Use SRF loans.", type="answered_question", topics=["health"], year=2023),
    doc("draft", "Draft land bank guide", "land bank draft text", status="draft"),
    doc("archived", "Old land bank guide", "land bank archived text", status="archived"),
    doc("officials-only", "Land bank peer notes", "land bank notes for officials", audience="officials"),
    doc("staff-only", "Land bank staff notes", "land bank internal notes", audience="staff"),
    doc("hud-prog", "Section 108 Loan Guarantee", "Financing for economic development, housing rehabilitation.",
        "Loan guarantees for CDBG grantees", type="federal_program", kind="program", agency="HUD", source="HUD",
        topics=["economic_development", "housing"], year=2024),
]


@pytest.fixture(scope="module")
def ix() -> SearchIndex:
    index = SearchIndex(writer_heap=15_000_000)
    assert index.rebuild(DOCS) == len(DOCS)
    return index


def ids(page):
    return [h.id for h in page.hits]


def search(ix, q="", viewer=ANONYMOUS, **kw):
    return ix.search(SearchRequest(q=q, **kw), viewer)


def test_title_match_ranks_above_passing_mention(ix):
    got = ids(search(ix, "land"))
    assert got.index("landbank") < got.index("budget")


def test_stemming(ix):
    assert "budget" in ids(search(ix, "budgets"))
    assert "hud-prog" in ids(search(ix, "financed"))
    assert "landbank" in ids(search(ix, "banking"))


def test_phrase_query(ix):
    got = ids(search(ix, '"vacant homes"'))
    assert got == ["qa-1"]
    assert "landbank" not in ids(search(ix, '"homes vacant"'))


def test_typo_tolerance(ix):
    page = search(ix, "brodband")
    assert ids(page) == ["broadband"] and page.corrected
    assert "qa-2" in ids(search(ix, "revolvng"))
    assert not search(ix, "broadband").corrected


def test_exclusion(ix):
    got = ids(search(ix, "land -toolkit"))
    assert "landbank" not in got and "qa-1" in got


def test_facets_and_filters(ix):
    page = search(ix, "land")
    facets = {k: {v.value: v.count for v in vs} for k, vs in page.facets.items()}
    assert facets["type"]["toolkit"] == 1 and facets["type"]["answered_question"] == 1
    assert facets["topic"]["housing"] >= 2
    assert "2019" in facets["year"]
    assert ids(search(ix, "land", type=["answered_question"])) == ["qa-1"]
    assert ids(search(ix, "", agency=["NTIA"])) == ["broadband"]
    assert ids(search(ix, "", year=[2019])) == ["landbank"]
    assert set(ids(search(ix, "", topic=["health", "broadband"]))) == {"qa-2", "broadband"}
    assert ids(search(ix, "", source=["GFOA"])) == ["budget"]
    assert ids(search(ix, "", kind="program")) == ["hud-prog"]


def test_snippets_highlight_and_escape(ix):
    page = search(ix, "vacant")
    snip = next(h.snippet for h in page.hits if h.id == "landbank")
    assert "<b>vacant</b>" in snip


@pytest.mark.parametrize("viewer,visible", [
    (ANONYMOUS, {"landbank", "qa-1"}),
    (OFFICIAL, {"landbank", "qa-1", "officials-only"}),
    (Viewer(kind="official", verified=False), {"landbank", "qa-1"}),
    (Viewer(kind="partner"), {"landbank", "qa-1"}),
    (STAFF, {"landbank", "qa-1", "officials-only", "staff-only"}),
])
def test_visibility_in_the_query(ix, viewer, visible):
    got = set(ids(search(ix, "land bank", viewer, page_size=50)))
    assert got == visible
    # asking for unpublished items does nothing without the curator role
    assert set(ids(search(ix, "land bank", viewer, page_size=50, include_unpublished=True))) == visible


def test_curators_may_see_drafts_and_archived_when_asking(ix):
    assert {"draft", "archived"} <= set(ids(search(ix, "land bank", CURATOR, page_size=50, include_unpublished=True)))
    assert not {"draft", "archived"} & set(ids(search(ix, "land bank", CURATOR, page_size=50)))


def test_get_respects_visibility(ix):
    assert ix.get("draft", OFFICIAL) is None
    assert ix.get("draft", CURATOR, include_unpublished=True).title == "Draft land bank guide"
    assert ix.get("landbank", ANONYMOUS).source == "Center for Community Progress"


def test_related_items(ix):
    rel = ix.related("landbank", ANONYMOUS)
    assert rel and rel[0].id == "qa-1"
    assert not {"landbank", "draft", "archived", "officials-only", "staff-only"} & {h.id for h in rel}
    assert ix.related("draft", ANONYMOUS) is None


def test_similar_questions(ix):
    got = ix.similar_questions("We have many vacant homes after foreclosures. Could a land bank help us?", OFFICIAL)
    assert [h.id for h in got][:1] == ["qa-1"]
    assert all(h.type == "answered_question" for h in got)
    assert ix.similar_questions("", OFFICIAL) == []
    assert ix.similar_questions("the and of", OFFICIAL) == []


def test_empty_query_lists_newest_first(ix):
    got = ids(search(ix, "", page_size=50))
    assert got[0] == "hud-prog" and len(got) == 6


def test_pagination_is_bounded(ix):
    p1 = search(ix, "", page_size=2, page=1)
    p2 = search(ix, "", page_size=2, page=2)
    assert p1.total == p2.total == 6 and not set(ids(p1)) & set(ids(p2))
    with pytest.raises(ValueError):
        SearchRequest(page_size=MAX_PAGE_SIZE + 1)
    with pytest.raises(ValueError):
        SearchRequest(page=MAX_PAGE + 1)
    assert ids(search(ix, "", page=MAX_PAGE)) == []


def test_upsert_replaces_and_delete_removes():
    index = SearchIndex(writer_heap=15_000_000)
    index.upsert([doc("x", "Original title about parks")])
    index.refresh()
    index.upsert([doc("x", "Changed title about libraries")])
    assert index.refresh() and not index.refresh()
    assert ids(index.search(SearchRequest(q="parks"), ANONYMOUS)) == []
    assert ids(index.search(SearchRequest(q="libraries"), ANONYMOUS)) == ["x"]
    assert index.num_docs == 1
    index.delete(["x"])
    index.refresh()
    assert index.num_docs == 0


NASTY = ["", " ", '"', '""', '"unterminated phrase', "-", "--", "-\"", "AND", "OR NOT AND", "title:(land",
         "land^3 bank~2", "*", "?", "[1 TO 5]", "{}", "\\", "\x00\x01\x02", "\u202eevil", "🏠🏚️ housing 🏗",
         "ünïcödé hoüsing", "日本語の質問", "كيف نمول الإسكان", "x" * 100_000, "land " * 5_000,
         "'; DROP TABLE resources; --", "<script>alert(1)</script>", "$regex", "{\"$where\": 1}"]


@pytest.mark.parametrize("q", NASTY)
def test_nasty_queries_never_raise(ix, q):
    page = ix.search(SearchRequest.model_construct(**(SearchRequest().model_dump() | {"q": q})), ANONYMOUS)
    assert page.total >= 0
    for h in page.hits:
        assert "<script>" not in h.snippet


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_any_text_is_a_valid_query(ix, q):
    page = ix.search(SearchRequest.model_construct(**(SearchRequest().model_dump() | {"q": q})), ANONYMOUS)
    assert all(h.status == "published" and h.id not in ("staff-only", "officials-only") for h in page.hits)
    ix.similar_questions(q, ANONYMOUS)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2_000))
def test_parser_never_raises_and_is_bounded(q):
    p = qp.parse(q)
    assert len(p.terms) <= qp.MAX_TERMS and len(p.phrases) <= qp.MAX_PHRASES
    assert all(len(ph) <= qp.MAX_PHRASE_WORDS for ph in p.phrases)


def test_parser_shapes():
    p = qp.parse('land bank "vacant homes" -toolkit -"land trust" AND OR')
    assert p.terms == ["land", "bank"]
    assert p.phrases == [["vacant", "homes"]]
    assert p.excluded_terms == ["toolkit"] and p.excluded_phrases == [["land", "trust"]]
    assert qp.parse("-only -negatives").terms == ["only", "negatives"]
    assert qp.parse("o'neil e-mail").terms == ["o'neil", "e", "mail"]


def test_unverified_staff_see_only_public_items(ix):
    unverified = Viewer(kind="staff", roles=frozenset({"curator"}), verified=False)
    assert set(ids(search(ix, "land bank", unverified, page_size=50, include_unpublished=True))) == {"landbank", "qa-1"}


def test_on_disk_index_reopens_and_replaces_a_foreign_schema(tmp_path):
    import tantivy

    sb = tantivy.SchemaBuilder()
    sb.add_text_field("other", stored=True)
    (tmp_path / "old").mkdir()
    tantivy.Index(sb.build(), path=str(tmp_path / "old"))
    ix = SearchIndex(str(tmp_path / "old"), writer_heap=15_000_000)
    assert ix.num_docs == 0
    ix.rebuild([doc("a", "Land bank")])
    ix.close()
    again = SearchIndex(str(tmp_path / "old"), writer_heap=15_000_000)
    assert ids(again.search(SearchRequest(q="land"), ANONYMOUS)) == ["a"]
