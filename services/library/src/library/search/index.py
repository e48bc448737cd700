"""The search read model: a tantivy index of every library item, rebuilt from the service's documents.

Writes (`upsert`, `delete`, `rebuild`) go to one writer under a lock and become visible after
`refresh()` (commit + searcher reload). A background `Committer` refreshes every
`interval` seconds while there are pending writes, so a newly published item is searchable
within about that interval without paying a commit per event. Reads never take the lock.
"""

from __future__ import annotations

import asyncio
import html
import logging
import math
import os
import shutil
import threading
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Annotated, Callable, Iterable, Literal, TypeVar

import tantivy
from pydantic import BaseModel, Field, field_validator
from rapidfuzz.distance import DamerauLevenshtein

from . import query as qparse
from .documents import SearchDoc, to_tantivy_dict
from .schema import FACETS, STOPWORDS, TEXT_FIELDS, build_schema, plain_analyzer, register_analyzers, stem_analyzer, \
    stopword_analyzer
from .visibility import Viewer, viewer_token

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_PAGE_SIZE = 50
MAX_PAGE = 100            # deep pages are bounded: offset + size never exceeds 5,000
MAX_FACET_VALUES = 30
FACET_CACHE_SIZE = 512
MAX_ALL_WORDS = 2  # queries of up to this many significant words require all of them
SNIPPET_CHARS = 240
FILTER_VALUE_MAX = 200
# publication years a filter may name (four digits): anything else is refused at the edge, never sent to the engine
YEAR_MIN, YEAR_MAX = 1000, 9999
Year = Annotated[int, Field(ge=YEAR_MIN, le=YEAR_MAX)]
LIKE_TERMS = 25           # words a "more like this" query keeps (the rarest in the index, weighted by use)
CORRECTION_MIN_CHARS = 4  # shorter words are never "corrected"
Occur = tantivy.Occur


class EngineRefused(Exception):
    """The search engine could not run a query (after the simpler fallbacks were tried)."""


def _engine_failure(exc: BaseException) -> bool:
    """Whether `exc` is the engine refusing or failing (a Python error, or a Rust panic surfaced by pyo3,
    which derives from BaseException), as opposed to cancellation or interpreter exit."""
    if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit, asyncio.CancelledError)):
        return False
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def guarded(fn: Callable[[], T], fallback: Callable[[], T], what: str) -> T:
    """Run an engine call; when the engine raises (or panics), log it and answer with `fallback()`."""
    try:
        return fn()
    except BaseException as exc:  # noqa: BLE001 - narrowed by _engine_failure; a pyo3 panic is a BaseException
        if not _engine_failure(exc):
            raise
        log.warning("search engine refused %s (%s: %s); using the simpler fallback", what, type(exc).__name__, exc)
        return fallback()


class SearchRequest(BaseModel):
    q: str = Field(default="", max_length=10_000)
    type: list[str] = Field(default_factory=list, max_length=20)
    topic: list[str] = Field(default_factory=list, max_length=20)
    source: list[str] = Field(default_factory=list, max_length=20)
    agency: list[str] = Field(default_factory=list, max_length=20)
    year: list[Year] = Field(default_factory=list, max_length=50)
    kind: Literal["resource", "program"] | None = None
    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    page_size: int = Field(default=10, ge=1, le=MAX_PAGE_SIZE)
    sort: Literal["relevance", "newest"] = "relevance"
    include_unpublished: bool = False
    facets: bool = True
    snippets: bool = True
    # False: search for exactly the words typed (no spelling correction, no synonyms)
    spell: bool = True

    @field_validator("type", "topic", "source", "agency")
    @classmethod
    def _bounded(cls, v: list[str]) -> list[str]:
        return [s[:FILTER_VALUE_MAX] for s in v if s]


class Hit(BaseModel):
    id: str
    kind: str
    type: str
    status: str
    title: str
    summary: str
    snippet: str  # HTML: plain text escaped once, matched words in <b> (no other markup)
    # the same snippet as plain text, and the matched words in it as [start, end) character offsets
    snippet_text: str = ""
    highlights: list[tuple[int, int]] = Field(default_factory=list)
    topics: list[str]
    source: str
    agency: str | None
    year: int | None
    score: float


class FacetValue(BaseModel):
    value: str
    count: int


class Correction(BaseModel):
    """A word the index has never seen, searched as the nearest word it has (edit distance 1, or 2 from 8 letters)."""

    typed: str
    searched: str


class Expansion(BaseModel):
    """Words of the query that a curated synonym group widened: `typed` was also searched as each of `also`."""

    typed: str
    also: list[str]


class SearchPage(BaseModel):
    total: int
    page: int
    page_size: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]] = Field(default_factory=dict)
    corrected: bool = False  # at least one word was searched as a corrected spelling (see `corrections`)
    corrections: list[Correction] = Field(default_factory=list)
    expansions: list[Expansion] = Field(default_factory=list)
    # the query as it was run, after corrections ("" for an empty query)
    searched: str = ""


@dataclass
class _Built:
    text: tantivy.Query | None  # the ranked part (None = match everything)
    corrections: list[Correction] = field(default_factory=list)
    expansions: list[Expansion] = field(default_factory=list)
    searched: str = ""


class SearchIndex:
    def __init__(self, path: str | None = None, *, writer_heap: int = 64_000_000, writer_threads: int = 1) -> None:
        self.schema = build_schema()
        self._index = _open(self.schema, path)
        register_analyzers(self._index)
        self._index.config_reader(reload_policy="manual")
        self._writer = self._index.writer(heap_size=writer_heap, num_threads=writer_threads)
        self._lock = threading.Lock()
        self._pending = 0
        self._stem = stem_analyzer()
        self._plain = plain_analyzer()
        self._stop = stopword_analyzer()
        self._stop_stems = frozenset(st for w in STOPWORDS for st in self._stem.analyze(w))
        self._synonyms: list[list[tuple[str, list[str]]]] = []
        self.last_refresh: float = time.monotonic()
        # facet counts per (query, filters, viewer) for the current index generation: paging through
        # results and toggling snippets do not recount
        self._generation = 0
        self._facet_cache: OrderedDict[tuple, dict[str, list[FacetValue]]] = OrderedDict()

    # ---------------------------------------------------------------- writes

    @property
    def pending(self) -> int:
        return self._pending

    def upsert(self, docs: Iterable[SearchDoc]) -> int:
        n = 0
        with self._lock:
            for d in docs:
                self._writer.delete_documents_by_term("id", d.id)
                self._writer.add_document(tantivy.Document.from_dict(to_tantivy_dict(d), self.schema))
                n += 1
            self._pending += n
        return n

    def delete(self, ids: Iterable[str]) -> int:
        n = 0
        with self._lock:
            for i in ids:
                self._writer.delete_documents_by_term("id", i)
                n += 1
            self._pending += n
        return n

    def rebuild(self, docs: Iterable[SearchDoc]) -> int:
        """Replace the whole index with `docs` in one commit: readers see the old index until it is done."""
        n = 0
        with self._lock:
            self._writer.delete_all_documents()
            for d in docs:
                self._writer.add_document(tantivy.Document.from_dict(to_tantivy_dict(d), self.schema))
                n += 1
            self._writer.commit()
            self._pending = 0
        self._reloaded()
        return n

    def refresh(self) -> bool:
        """Commit pending writes and make them searchable; False when there was nothing to do."""
        with self._lock:
            if not self._pending:
                return False
            self._writer.commit()
            self._pending = 0
        self._reloaded()
        return True

    def _reloaded(self) -> None:
        self._index.reload()
        self._generation += 1
        self._facet_cache = OrderedDict()  # replaced, not cleared: readers on other threads hold the old one
        self.last_refresh = time.monotonic()

    def close(self) -> None:
        with self._lock:
            if self._pending:
                self._writer.commit()
                self._pending = 0
            self._writer.wait_merging_threads()

    @property
    def num_docs(self) -> int:
        return self._index.searcher().num_docs

    # ---------------------------------------------------------------- synonyms

    def set_synonyms(self, groups: Iterable[Iterable[str]]) -> None:
        """The curated synonym groups ("lead pipes" ~ "lead service line"): each a list of phrases meaning the same.

        A query containing one phrase of a group also finds the others. Phrases are kept as their
        stems, so "lead pipe" in a query matches the group's "lead pipes" too.
        """
        out: list[list[tuple[str, list[str]]]] = []
        for g in groups:
            phrases = [(p.strip(), self._stem.analyze(p)) for p in g if p and p.strip()]
            phrases = [(p, st) for p, st in phrases if st]
            if len(phrases) >= 2:
                out.append(phrases)
        self._synonyms = out  # replaced, not mutated: readers on other threads hold the old list
        self._facet_cache = OrderedDict()

    # ---------------------------------------------------------------- reads

    def search(self, req: SearchRequest, viewer: Viewer) -> SearchPage:
        """Ranked search. Never fails on input: when the engine refuses the full query (facets, snippets,
        corrections, synonyms), the plain query is tried; `EngineRefused` only when that fails too."""
        def plain() -> SearchPage:
            simple = req.model_copy(update={"facets": False, "snippets": False, "spell": False})
            return guarded(lambda: self._search(simple, viewer), _refuse, "the plain query")

        return guarded(lambda: self._search(req, viewer), plain, "a search")

    def _search(self, req: SearchRequest, viewer: Viewer) -> SearchPage:
        searcher = self._index.searcher()
        parsed = qparse.parse(req.q)
        filters = self._filters(req, viewer)
        built = self._text_query(parsed, searcher, vis=self._visibility(viewer, req.include_unpublished),
                                 spell=req.spell)
        final = self._combine(built.text, filters, parsed)
        offset = (req.page - 1) * req.page_size
        if built.text is None or req.sort == "newest":
            res = searcher.search(final, limit=req.page_size, offset=offset, count=True, order_by_field="date",
                                  order=tantivy.Order.Desc)
        else:
            res = searcher.search(final, limit=req.page_size, offset=offset, count=True)
        snippet_gens = self._snippet_generators(searcher, built.text) if req.snippets and built.text else {}
        hits = [self._hit(searcher.doc(addr), score, snippet_gens) for score, addr in res.hits]
        facets = self._cached_facets(searcher, final, req, viewer) if req.facets else {}
        return SearchPage(total=res.count or 0, page=req.page, page_size=req.page_size, hits=hits, facets=facets,
                          corrected=bool(built.corrections), corrections=built.corrections,
                          expansions=built.expansions, searched=built.searched)

    def get(self, item_id: str, viewer: Viewer, *, include_unpublished: bool = False) -> SearchDoc | None:
        searcher = self._index.searcher()
        q = self._combine(tantivy.Query.term_query(self.schema, "id", item_id),
                          self._visibility(viewer, include_unpublished), qparse.ParsedQuery())
        res = searcher.search(q, limit=1)
        if not res.hits:
            return None
        return _to_doc(searcher.doc(res.hits[0][1]))

    def related(self, item_id: str, viewer: Viewer, *, limit: int = 5) -> list[Hit] | None:
        """Items like this one (shared rare words, same topics); None when the item is not visible.
        When the engine refuses, an ordinary search for the item's title stands in."""
        limit = max(1, min(limit, MAX_PAGE_SIZE))
        searcher = self._index.searcher()
        vis = self._visibility(viewer, False)
        me = tantivy.Query.term_query(self.schema, "id", item_id)
        found = guarded(lambda: searcher.search(self._combine(me, vis, qparse.ParsedQuery()), limit=1), _refuse,
                        "an item look-up")
        if not found.hits:
            return None
        doc = searcher.doc(found.hits[0][1])

        def like() -> list[Hit]:
            texts = {f: " ".join(v[:20_000] for v in doc.get_all(f)) for f in ("title", "summary", "body")}
            ranked = self._like_query(texts, searcher)
            if ranked is None:
                return []
            shoulds: list[tuple[Occur, tantivy.Query]] = [(Occur.Should, ranked)]
            topics = doc.get_all("topics")
            if topics:
                shoulds.append((Occur.Should, tantivy.Query.boost_query(self._any_of("topics", topics), 0.3)))
            q = tantivy.Query.boolean_query([(Occur.Must, tantivy.Query.boolean_query(shoulds)),
                                             *[(Occur.Must, tantivy.Query.const_score_query(f, 0.0)) for f in vis],
                                             (Occur.MustNot, me)])
            res = searcher.search(q, limit=limit)
            return [self._hit(searcher.doc(a), s, {}) for s, a in res.hits]

        def by_title() -> list[Hit]:
            page = self.search(SearchRequest(q=doc.get_first("title") or "", page_size=limit + 1, facets=False,
                                             snippets=False, spell=False), viewer)
            return [h for h in page.hits if h.id != item_id][:limit]

        return guarded(like, lambda: guarded(by_title, list, "related items by title"), "related items")

    def similar_questions(self, text: str, viewer: Viewer, *, limit: int = 5) -> list[Hit]:
        """Answered questions that look like a draft question, best first.

        Never fails: when the engine refuses the more-like-this query, an ordinary search over
        answered questions stands in, and when that fails too the answer is an empty list (the
        ask page then simply shows no suggestions)."""
        limit = max(1, min(limit, 20))
        text = qparse.normalise(text)[:4_000]
        if not self._stop.analyze(text):
            return []
        searcher = self._index.searcher()

        def like() -> list[Hit]:
            ranked = self._like_query({"title": text, "body": text}, searcher)
            if ranked is None:
                return []
            vis = self._visibility(viewer, False)
            q = tantivy.Query.boolean_query([
                (Occur.Must, ranked),
                (Occur.Must, tantivy.Query.const_score_query(
                    tantivy.Query.term_query(self.schema, "type", "answered_question"), 0.0)),
                *[(Occur.Must, tantivy.Query.const_score_query(f, 0.0)) for f in vis]])
            res = searcher.search(q, limit=limit)
            gens = self._snippet_generators(searcher, ranked)
            return [self._hit(searcher.doc(a), s, gens) for s, a in res.hits]

        def ordinary() -> list[Hit]:
            return self.search(SearchRequest(q=text[:qparse.MAX_QUERY_CHARS], type=["answered_question"],
                                             page_size=limit, facets=False, spell=False), viewer).hits

        return guarded(like, lambda: guarded(ordinary, list, "similar questions as a search"), "similar questions")

    # ---------------------------------------------------------------- query building

    def _like_query(self, texts: dict[str, str], searcher: tantivy.Searcher) -> tantivy.Query | None:
        """A "more like this" query made here from the index's statistics: the words of `texts` that are
        rarest in the index, weighted by how often the text uses them.

        tantivy's own more-like-this query computes idf from the live document count but document
        frequencies that still count deleted documents (until segments merge), and panics when
        the second exceeds the first — which every update (a delete and an add) makes possible.
        Here the frequency is capped at the live count, and the query is a plain disjunction of
        term queries, which the engine scores with its ordinary BM25.
        """
        n = max(1, searcher.num_docs)
        tf: Counter[str] = Counter()
        for text in texts.values():
            for stem in self._stem.analyze(text):
                if 3 <= len(stem) <= 40 and stem not in self._stop_stems:
                    tf[stem] += 1
        scored: list[tuple[float, str]] = []
        for stem, count in tf.items():
            df = min(max(searcher.doc_freq(f, stem) for f in ("title", "summary", "body")), n)
            if df == 0:
                continue
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            scored.append((count * idf, stem))
        if not scored:
            return None
        scored.sort(reverse=True)
        shoulds = [(Occur.Should, tantivy.Query.disjunction_max_query(
            [tantivy.Query.boost_query(tantivy.Query.term_query(self.schema, f, stem), w)
             for f, w in TEXT_FIELDS.items()], tie_breaker=0.3)) for _, stem in scored[:LIKE_TERMS]]
        return tantivy.Query.boolean_query(shoulds)

    def _count(self, searcher: tantivy.Searcher, q: tantivy.Query, vis: list[tantivy.Query]) -> int:
        subs = [(Occur.Must, q), *[(Occur.Must, f) for f in vis]]
        return searcher.search(tantivy.Query.boolean_query(subs), limit=1, count=True).count or 0

    def _known(self, searcher: tantivy.Searcher, stem: str, plain: str, vis: list[tantivy.Query]) -> bool:
        """Whether some item the viewer may see has the word (deleted and hidden items do not count)."""
        q = tantivy.Query.boolean_query(
            [(Occur.Should, tantivy.Query.term_query(self.schema, "plain", plain))] +
            [(Occur.Should, tantivy.Query.term_query(self.schema, f, stem)) for f in TEXT_FIELDS])
        return self._count(searcher, q, vis) > 0

    def _correction(self, word: str, searcher: tantivy.Searcher, vis: list[tantivy.Query]) -> str | None:
        """The word the index has that is nearest to `word` (an unknown word of 4+ letters, no digits):
        edit distance 1, or 2 from 8 letters; among equals, the most used. None when there is none.

        Candidates come from the term dictionary of the words visible to the viewer that start with
        the same letter (a typo in the first letter is not corrected)."""
        if len(word) < CORRECTION_MIN_CHARS or any(ch.isdigit() for ch in word):
            return None
        limit = 2 if len(word) >= 8 else 1
        vis_q = tantivy.Query.boolean_query([(Occur.Must, f) for f in vis])
        best: tuple[int, int, str] | None = None
        for term, count in searcher.terms_with_prefix("plain", word[0], filter_query=vis_q):
            if count <= 0 or abs(len(term) - len(word)) > limit or term == word or any(ch.isdigit() for ch in term):
                continue
            d = DamerauLevenshtein.distance(word, term, score_cutoff=limit)
            if d <= limit and (best is None or (d, -count) < (best[0], best[1])):
                best = (d, -count, term)
        return best[2] if best else None

    def _term_clause(self, word: str) -> tantivy.Query | None:
        toks = self._stem.analyze(word)
        if not toks:
            return None
        if len(toks) > 1:  # "e-mail", "o'neil", "14.218": several tokens from one typed word → a phrase
            return self._phrase_clause(toks)
        stem = toks[0]
        return tantivy.Query.disjunction_max_query(
            [tantivy.Query.boost_query(tantivy.Query.term_query(self.schema, f, stem), w)
             for f, w in TEXT_FIELDS.items()], tie_breaker=0.3)

    def _phrase_clause(self, stems: list[str]) -> tantivy.Query:
        if len(stems) == 1:
            return tantivy.Query.disjunction_max_query(
                [tantivy.Query.term_query(self.schema, f, stems[0]) for f in TEXT_FIELDS])
        return tantivy.Query.disjunction_max_query(
            [tantivy.Query.boost_query(tantivy.Query.phrase_query(self.schema, f, stems), w)
             for f, w in TEXT_FIELDS.items() if f != "keywords"] +
            [tantivy.Query.phrase_query(self.schema, "keywords", stems)])

    def _phrase_stems(self, words: list[str]) -> list[str]:
        return [s for w in words for s in self._stem.analyze(w)]

    def _synonym_units(self, terms: list[str]) -> tuple[list[tuple[list[str], tantivy.Query | None]], list[Expansion]]:
        """Group the query's words: a run of words that is a phrase of a synonym group becomes one unit
        matching any phrase of the group; every other word is a unit of its own (clause made later)."""
        stems = [self._stem.analyze(w) for w in terms]
        units: list[tuple[list[str], tantivy.Query | None]] = []
        expansions: list[Expansion] = []
        i = 0
        while i < len(terms):
            match = None
            for group in self._synonyms:
                for phrase, p_stems in group:
                    k = i
                    got: list[str] = []
                    while k < len(terms) and len(got) < len(p_stems):
                        got += stems[k]
                        k += 1
                    if got == p_stems and (match is None or k - i > match[0]):
                        match = (k - i, phrase, group)
            if match is None:
                units.append(([terms[i]], None))
                i += 1
                continue
            span, phrase, group = match
            clause = tantivy.Query.disjunction_max_query([self._phrase_clause(st) for _, st in group], tie_breaker=0.3)
            typed = " ".join(terms[i:i + span])
            expansions.append(Expansion(typed=typed, also=[p for p, _ in group if p.lower() != typed.lower()]))
            units.append((terms[i:i + span], clause))
            i += span
        return units, expansions

    def _text_query(self, parsed: qparse.ParsedQuery, searcher: tantivy.Searcher, *, vis: list[tantivy.Query],
                    spell: bool = True) -> _Built:
        if parsed.empty:
            return _Built(None)
        corrections: list[Correction] = []
        terms: list[str] = []
        for w in parsed.terms:
            stems, plains = self._stem.analyze(w), self._plain.analyze(w)
            fixed = None
            # numbers (years, ZIP codes, programme numbers such as 14.218) always match exactly
            if spell and len(stems) == 1 and plains and not self._known(searcher, stems[0], plains[0], vis):
                fixed = self._correction(plains[0], searcher, vis)
            if fixed:
                corrections.append(Correction(typed=w, searched=fixed))
            terms.append(fixed or w)
        units, expansions = self._synonym_units(terms) if spell and self._synonyms else (
            [([t], None) for t in terms], [])
        significant_words = {w for w in terms if self._stop.analyze(w)}
        shoulds: list[tantivy.Query] = []
        weak: list[tantivy.Query] = []
        for words, clause in units:
            if clause is None:
                clause = self._term_clause(words[0])
            if clause is None:
                continue
            # stop words rank but never decide whether a document matches (unless they are all there is)
            (shoulds if (not significant_words or any(w in significant_words for w in words)) else weak).append(clause)
        subs: list[tuple[Occur, tantivy.Query]] = []
        for ph in parsed.phrases:
            stems = self._phrase_stems(ph)
            if stems:
                subs.append((Occur.Must, self._phrase_clause(stems)))
        if shoulds:
            if len(shoulds) <= MAX_ALL_WORDS:
                # short queries are precise: every word must match (an intersection, also the fastest plan)
                subs.extend((Occur.Must, s) for s in shoulds)
            else:
                # longer ones read like questions: any word may match, and BM25 ranks documents that match
                # more of them first (a minimum-should-match scorer measured ~2x slower here)
                subs.append((Occur.Must, tantivy.Query.boolean_query([(Occur.Should, s) for s in shoulds])))
        subs.extend((Occur.Should, tantivy.Query.boost_query(w, 0.2)) for w in weak)
        searched = " ".join([*terms, *(f'"{" ".join(p)}"' for p in parsed.phrases)])
        if not any(o == Occur.Must for o, _ in subs):
            return _Built(tantivy.Query.empty_query(), corrections, expansions, searched)
        return _Built(tantivy.Query.boolean_query(subs), corrections, expansions, searched)

    def _visibility(self, viewer: Viewer, include_unpublished: bool) -> list[tantivy.Query]:
        return [tantivy.Query.term_query(self.schema, "vis", viewer_token(viewer, include_unpublished))]

    def _any_of(self, field: str, values: list) -> tantivy.Query:
        # a union of term queries stays lazy; a term-set query would build a bitset over the whole index
        values = list(dict.fromkeys(values))
        if len(values) == 1:
            return tantivy.Query.term_query(self.schema, field, values[0])
        return tantivy.Query.boolean_query([(Occur.Should, tantivy.Query.term_query(self.schema, field, v))
                                            for v in values])

    def _filters(self, req: SearchRequest, viewer: Viewer) -> list[tantivy.Query]:
        fs = self._visibility(viewer, req.include_unpublished)
        for name, values in (("type", req.type), ("topics", req.topic), ("source", req.source),
                             ("agency", req.agency), ("year", req.year)):
            if values:
                fs.append(self._any_of(name, values))
        if req.kind:
            fs.append(tantivy.Query.term_query(self.schema, "kind", req.kind))
        return fs

    def _combine(self, text: tantivy.Query | None, filters: list[tantivy.Query],
                 parsed: qparse.ParsedQuery) -> tantivy.Query:
        subs: list[tuple[Occur, tantivy.Query]] = []
        subs.append((Occur.Must, text if text is not None else tantivy.Query.all_query()))
        # filters do not score: wrapping them keeps BM25 the only ranking signal
        subs.extend((Occur.Must, tantivy.Query.const_score_query(f, 0.0)) for f in filters)
        for w in parsed.excluded_terms:
            for s in self._stem.analyze(w)[:1]:
                subs.extend((Occur.MustNot, tantivy.Query.term_query(self.schema, f, s)) for f in TEXT_FIELDS)
        for ph in parsed.excluded_phrases:
            stems = self._phrase_stems(ph)
            if stems:
                subs.append((Occur.MustNot, self._phrase_clause(stems)))
        return tantivy.Query.boolean_query(subs)

    # ---------------------------------------------------------------- results

    def _snippet_generators(self, searcher: tantivy.Searcher, q: tantivy.Query) -> "_Snippets":
        return _Snippets(searcher, q, self.schema)

    def _hit(self, doc: tantivy.Document, score: float, gens: "_Snippets | dict") -> Hit:
        found = gens.best(doc) if isinstance(gens, _Snippets) else None
        text, ranges = found if found else (_shorten(doc.get_first("summary") or doc.get_first("body") or "",
                                                     SNIPPET_CHARS), [])
        agency = doc.get_first("agency")
        return Hit(
            id=doc.get_first("id"), kind=doc.get_first("kind"), type=doc.get_first("type"),
            status=doc.get_first("status"), title=doc.get_first("title") or "",
            summary=_shorten(doc.get_first("summary") or "", 600), snippet=snippet_html(text, ranges),
            snippet_text=text, highlights=ranges,
            topics=doc.get_all("topics"), source=doc.get_first("source") or "",
            agency=None if agency in (None, "none") else agency, year=doc.get_first("year"), score=float(score),
        )

    def _cached_facets(self, searcher: tantivy.Searcher, q: tantivy.Query, req: SearchRequest,
                       viewer: Viewer) -> dict[str, list[FacetValue]]:
        key = (self._generation, qparse.normalise(req.q), tuple(req.type), tuple(req.topic), tuple(req.source),
               tuple(req.agency), tuple(req.year), req.kind, req.spell, viewer_token(viewer, req.include_unpublished))
        cache = self._facet_cache
        hit = cache.get(key)
        if hit is not None:
            return hit
        facets = self._facets(searcher, q)
        cache[key] = facets
        while len(cache) > FACET_CACHE_SIZE:
            try:
                cache.popitem(last=False)
            except KeyError:  # pragma: no cover - emptied by another thread
                break
        return facets

    def _facets(self, searcher: tantivy.Searcher, q: tantivy.Query) -> dict[str, list[FacetValue]]:
        aggs = {name: {"terms": {"field": fld, "size": MAX_FACET_VALUES}} for name, fld in FACETS.items()}
        raw = searcher.aggregate(q, aggs)
        out: dict[str, list[FacetValue]] = {}
        for name in FACETS:
            buckets = raw.get(name, {}).get("buckets", [])
            vals = [FacetValue(value=str(int(b["key"]) if isinstance(b["key"], float) else b["key"]),
                               count=int(b["doc_count"]))
                    for b in buckets if b["key"] not in ("none", "unknown")]
            out[name] = vals
        return out


def _refuse() -> SearchPage:
    raise EngineRefused("the search engine could not run this query")


def _open(schema: tantivy.Schema, path: str | None) -> tantivy.Index:
    if not path:
        return tantivy.Index(schema)
    os.makedirs(path, exist_ok=True)
    try:
        return tantivy.Index(schema, path=path, reuse=True)
    except ValueError:
        # an index written with another schema (an older version of this service): it is only a read
        # model, so start afresh; the start-up rebuild fills it from MongoDB
        for name in os.listdir(path):
            full = os.path.join(path, name)
            shutil.rmtree(full) if os.path.isdir(full) else os.remove(full)
        return tantivy.Index(schema, path=path, reuse=True)


def _shorten(s: str, n: int) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1].rsplit(" ", 1)[0] + "…"


def snippet_html(text: str, ranges: list[tuple[int, int]]) -> str:
    """Plain text escaped once, the matched words in <b>: the only markup a snippet ever carries."""
    out, pos = [], 0
    for start, end in ranges:
        out.append(html.escape(text[pos:start], quote=False))
        out.append(f"<b>{html.escape(text[start:end], quote=False)}</b>")
        pos = end
    out.append(html.escape(text[pos:], quote=False))
    return "".join(out)


def _collapse(text: str, ranges: list[tuple[int, int]]) -> tuple[str, list[tuple[int, int]]]:
    """Whitespace runs as one space (and none at the ends), with the ranges moved to match."""
    out: list[str] = []
    mapping: list[int] = []  # old index -> new index
    prev_space = True
    for ch in text:
        mapping.append(len(out))
        if ch.isspace():
            if not prev_space:
                out.append(" ")
            prev_space = True
        else:
            out.append(ch)
            prev_space = False
    mapping.append(len(out))
    joined = "".join(out)
    stripped = joined.rstrip()
    return stripped, [(mapping[a], min(mapping[b], len(stripped))) for a, b in ranges if mapping[b] > mapping[a]]


def _char_ranges(fragment: str, byte_ranges: list) -> list[tuple[int, int]]:
    """The engine reports highlights as UTF-8 byte offsets; people's text is indexed by characters."""
    raw = fragment.encode("utf-8")
    out: list[tuple[int, int]] = []
    for r in byte_ranges:
        start = len(raw[:r.start].decode("utf-8", errors="ignore"))
        end = len(raw[:r.end].decode("utf-8", errors="ignore"))
        if end > start and (not out or start >= out[-1][1]):
            out.append((start, end))
    return out


def _to_doc(doc: tantivy.Document) -> SearchDoc:
    from datetime import date, timedelta

    days = doc.get_first("date")
    agency = doc.get_first("agency")
    return SearchDoc(
        id=doc.get_first("id"), kind=doc.get_first("kind"), type=doc.get_first("type"),
        status=doc.get_first("status"), audience=doc.get_first("audience") or "public",
        title=doc.get_first("title") or "", summary=doc.get_first("summary") or "", body=doc.get_first("body") or "",
        topics=doc.get_all("topics"), source=doc.get_first("source") or "",
        agency="" if agency in (None, "none") else agency, cities=doc.get_all("cities"),
        published=(date(1970, 1, 1) + timedelta(days=days)) if days is not None else None,
    )


class _Snippets:
    """Snippet generators made on first use: most hits are served by the body's generator alone."""

    FIELDS = ("body", "summary")

    def __init__(self, searcher: tantivy.Searcher, q: tantivy.Query, schema: tantivy.Schema) -> None:
        self._args = (searcher, q, schema)
        self._gens: dict[str, tantivy.SnippetGenerator] = {}

    def _gen(self, field: str) -> tantivy.SnippetGenerator:
        g = self._gens.get(field)
        if g is None:
            searcher, q, schema = self._args
            g = tantivy.SnippetGenerator.create(searcher, q, schema, field)
            g.set_max_num_chars(SNIPPET_CHARS)
            self._gens[field] = g
        return g

    def best(self, doc: tantivy.Document) -> tuple[str, list[tuple[int, int]]] | None:
        """(plain text, highlighted character ranges) of the first field with a match, or None."""
        for f in self.FIELDS:
            s = self._gen(f).snippet_from_doc(doc)
            if s.highlighted():
                fragment = s.fragment()
                # the engine cuts fragments at byte offsets of whole words; collapse the whitespace runs the
                # plain text keeps between paragraphs, adjusting the ranges with it
                return _collapse(fragment, _char_ranges(fragment, s.highlighted()))
        return None


class Committer:
    """Refreshes the index every `interval` seconds while writes are pending (runs the commit off the loop)."""

    def __init__(self, index: SearchIndex, interval: float = 0.25) -> None:
        self.index = index
        self.interval = interval
        self._task: asyncio.Task | None = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            if self.index.pending:
                await asyncio.to_thread(self.index.refresh)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="search-committer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        await asyncio.to_thread(self.index.refresh)
