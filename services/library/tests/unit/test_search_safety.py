"""Search that matched the wrong thing, showed markup or crashed (issue 17, class 9), and the reader's
corrections and synonyms (issue 10): numbers exact, snippets plain text escaped once, every engine call
answering with results, corrections and synonym expansions named."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from pydantic import ValidationError

from library.domain.resources import Resource, ResourceContent
from library.search import index as index_module
from library.search.documents import SearchDoc, from_resource
from library.search.index import SearchIndex, SearchRequest, snippet_html
from library.search.plaintext import markdown_to_text
from library.search.visibility import ANONYMOUS, Viewer

CURATOR = Viewer(kind="staff", roles=frozenset({"curator"}), verified=True)


def doc(id, title, body="", summary="", type="guide", status="published", year=2021, **kw):
    return SearchDoc(id=id, kind="resource", type=type, status=status, title=title, summary=summary, body=body,
                     topics=["housing"], source="NRN", published=date(year, 6, 1), **kw)


def search(ix, q, viewer=ANONYMOUS, **kw):
    return ix.search(SearchRequest(q=q, **kw), viewer)


def ids(page):
    return [h.id for h in page.hits]


# --- numbers match exactly ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def numbers() -> SearchIndex:
    ix = SearchIndex(writer_heap=15_000_000)
    ix.rebuild([
        doc("y2019", "Budget outlook", "The 2019 budget closed a gap of four million dollars."),
        doc("zip", "Flood map update", "Parcels in ZIP code 48503 were remapped."),
        doc("cfda", "Community development grants", "Assistance listing 14.218 funds entitlement communities."),
        doc("cfda2", "Section 108", "Assistance listing 14.248 guarantees loans."),
        doc("covid", "Recovery plan", "Spending of covid19 relief funds."),
    ])
    return ix


@pytest.mark.parametrize(("q", "expected"), [
    ("2018", []),                 # a year the index never saw: never "corrected" to 2019
    ("2019", ["y2019"]),
    ("48502", []),                # a ZIP code one digit off
    ("48503", ["zip"]),
    ("14.219", []),               # a programme number one digit off
    ("14.218", ["cfda"]),
    ("14.248", ["cfda2"]),
    ("covid18", []),              # a word with digits is a code, not a typo
    ("budget 2018", []),          # every word of a short query must match, the number exactly
])
def test_numbers_match_exactly(numbers: SearchIndex, q: str, expected: list[str]) -> None:
    page = search(numbers, q)
    assert ids(page) == expected
    assert not page.corrected and page.corrections == []


# --- snippets: plain text, escaped once, only the highlight is markup ----------------------------------


MARKDOWN_BODY = ("> **NRN demo content.** The platform's guide to *land banks* & vacant lots "
                 "[read more](https://example.org/x) — <script>alert(1)</script> 5 > 3 &amp; &#x27;quoted&#x27;")


def test_the_index_stores_text_as_readers_see_it() -> None:
    text = markdown_to_text(MARKDOWN_BODY)
    assert text.startswith("NRN demo content. The platform's guide to land banks & vacant lots read more")
    assert "**" not in text and "](" not in text and "&amp;" not in text and "&#x27;" not in text
    assert "<script>alert(1)</script>" in text  # raw HTML in Markdown is text, as the pages show it
    assert "5 > 3 & 'quoted'" in text
    at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    r = Resource.create("r-md", ResourceContent(type="guide", title="Land banks", body=MARKDOWN_BODY,
                                                summary="**Bold** summary", topics=["housing"],
                                                source_organisation="NRN"), by="c", at=at)
    d = from_resource(r)
    assert d.summary == "Bold summary" and "**" not in d.body


def test_snippets_are_plain_text_escaped_once_with_only_the_highlight() -> None:
    ix = SearchIndex(writer_heap=15_000_000)
    at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    r = Resource.create("r-md", ResourceContent(type="guide", title="Lots", body=MARKDOWN_BODY, topics=["housing"],
                                                source_organisation="NRN"), by="c", at=at)
    r.status = "published"
    ix.rebuild([from_resource(r)])
    hit = search(ix, "land")
    [h] = hit.hits
    assert "**" not in h.snippet_text and "&#x27;" not in h.snippet_text and "&amp;" not in h.snippet_text
    assert "The platform's guide to land banks & vacant lots" in h.snippet_text
    # HTML: the text escaped once (& < > only), the matched word in <b>, nothing else
    assert "<b>land</b>" in h.snippet
    assert "&lt;script&gt;" in h.snippet and "<script>" not in h.snippet
    assert "&amp;amp;" not in h.snippet and "&amp;#x27;" not in h.snippet and "&#x27;" not in h.snippet
    assert "platform's" in h.snippet
    # the structured form names the same words
    assert [h.snippet_text[a:b] for a, b in h.highlights] == ["land"]


def test_highlights_are_character_offsets_in_text_with_accents() -> None:
    ix = SearchIndex(writer_heap=15_000_000)
    ix.rebuild([doc("a", "Café", "José's café — Núñez   wrote\n\nabout the land bank in São Tomé.")])
    [h] = search(ix, "land bank").hits
    assert h.snippet_text.startswith("José's café — Núñez wrote about the land bank in São Tomé")
    assert [h.snippet_text[a:b] for a, b in h.highlights] == ["land", "bank"]
    assert snippet_html("a < b", [(4, 5)]) == "a &lt; <b>b</b>"


# --- more like this on an index with deleted documents (the "23 >= 34" panic) ---------------------------


def _churned_index() -> SearchIndex:
    """Every document updated (deleted and added again) in its own commit, as curation and the seed do:
    the engine's document frequencies then count deleted documents until segments merge."""
    ix = SearchIndex(writer_heap=15_000_000)
    docs = [doc(f"q{i}", f"How can our city fund housing {i}?",
                "The city can pay for housing repairs with city bonds and state grants.",
                type="answered_question" if i % 2 else "guide") for i in range(12)]
    ix.rebuild(docs)
    for _ in range(3):
        for d in docs:
            ix.upsert([d])
            ix.refresh()
    return ix


def test_similar_questions_work_when_frequencies_count_deleted_documents() -> None:
    ix = _churned_index()
    searcher = ix._index.searcher()
    # the condition that made tantivy's own more-like-this query panic
    assert searcher.doc_freq("body", "citi") > searcher.num_docs
    hits = ix.similar_questions("How does a city pay for housing in the city?", ANONYMOUS)
    assert hits and all(h.type == "answered_question" for h in hits)
    related = ix.related("q1", ANONYMOUS)
    assert related and "q1" not in [h.id for h in related]


class FakePanic(BaseException):
    """Stands in for pyo3's PanicException (a BaseException) that a Rust panic in the engine raises."""


FakePanic.__name__ = "PanicException"


def test_similar_questions_degrade_to_ordinary_search_when_the_engine_refuses(monkeypatch) -> None:
    ix = _churned_index()

    def panic(*args, **kwargs):
        raise FakePanic("23 >= 34")

    monkeypatch.setattr(ix, "_like_query", panic)
    hits = ix.similar_questions("How does a city pay for housing in the city?", ANONYMOUS)
    assert hits and all(h.type == "answered_question" for h in hits)
    assert ix.related("q1", ANONYMOUS) is not None


def test_a_search_the_engine_refuses_falls_back_then_says_so(monkeypatch) -> None:
    ix = _churned_index()
    real = ix._cached_facets

    def broken_facets(*a, **k):
        raise ValueError("aggregation refused")

    monkeypatch.setattr(ix, "_cached_facets", broken_facets)
    page = search(ix, "housing")
    assert page.total > 0 and page.facets == {}  # the plain query answered
    monkeypatch.setattr(ix, "_cached_facets", real)

    def always(*a, **k):
        raise FakePanic("boom")

    monkeypatch.setattr(ix, "_text_query", always)
    with pytest.raises(index_module.EngineRefused):
        search(ix, "housing")
    # cancellation is never swallowed as an engine failure
    assert not index_module._engine_failure(KeyboardInterrupt())


def test_years_outside_four_digits_are_refused_before_the_engine() -> None:
    for bad in (9223372036854775808, -1, 0, 999, 10_000):
        with pytest.raises(ValidationError):
            SearchRequest(year=[bad])
    assert SearchRequest(year=[1000, 2024, 9999]).year == [1000, 2024, 9999]


# --- spelling corrections, named ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def words() -> SearchIndex:
    ix = SearchIndex(writer_heap=15_000_000)
    ix.rebuild([
        doc("fin", "Municipal finance basics", "How cities finance capital projects."),
        doc("broad", "Broadband networks", "Municipal broadband and digital equity."),
        doc("secret", "Draft about zoning", "An unpublished note on inclusionary zoning.", status="draft"),
        doc("lead", "Replacing lead service lines", "Lead service line inventories and replacement."),
        doc("blight", "Vacant property strategies", "Turning vacant property into community assets."),
    ])
    return ix


def test_a_corrected_spelling_is_named(words: SearchIndex) -> None:
    page = search(words, "finanse")
    assert ids(page) == ["fin"] and page.corrected
    assert [(c.typed, c.searched) for c in page.corrections] == [("finanse", "finance")]
    assert page.searched == "finance"
    page = search(words, "braodband")  # a transposition, 9 letters: distance 1 here
    assert [(c.typed, c.searched) for c in page.corrections] == [("braodband", "broadband")]


def test_no_correction_when_asked_for_exact_words_or_when_known(words: SearchIndex) -> None:
    page = search(words, "finanse", spell=False)
    assert page.total == 0 and page.corrections == [] and page.searched == "finanse"
    assert search(words, "finance").corrections == []


def test_corrections_never_come_from_items_the_reader_cannot_see(words: SearchIndex) -> None:
    # "zoninng" is one letter from "zoning", a word only a draft has
    assert search(words, "zoninng").corrections == []
    page = search(words, "zoninng", viewer=CURATOR, include_unpublished=True)
    assert [c.searched for c in page.corrections] == ["zoning"]


# --- synonyms -----------------------------------------------------------------------------------------


def test_curated_synonyms_widen_the_query_and_say_so(words: SearchIndex) -> None:
    words.set_synonyms([["lead pipes", "lead service line"], ["blight", "vacant property"]])
    try:
        page = search(words, "lead pipes")
        assert ids(page) == ["lead"]
        assert [(e.typed, e.also) for e in page.expansions] == [("lead pipes", ["lead service line"])]
        assert "<b>" in page.hits[0].snippet
        page = search(words, "blight")
        assert ids(page) == ["blight"] and page.expansions[0].also == ["vacant property"]
        # a plural or singular of a group's phrase counts too (stems)
        assert ids(search(words, "lead pipe")) == ["lead"]
        # exact words: no synonyms
        assert search(words, "blight", spell=False).total == 0
    finally:
        words.set_synonyms([])
    assert search(words, "blight").total == 0
