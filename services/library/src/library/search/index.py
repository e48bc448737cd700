"""The search read model: a tantivy index of every library item, rebuilt from the service's documents.

Writes (`upsert`, `delete`, `rebuild`) go to one writer under a lock and become visible after
`refresh()` (commit + searcher reload). A background `Committer` refreshes every
`interval` seconds while there are pending writes, so a newly published item is searchable
within about that interval without paying a commit per event. Reads never take the lock.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
from collections import OrderedDict
import time
from dataclasses import dataclass
from typing import Iterable, Literal

import tantivy
from pydantic import BaseModel, Field, field_validator

from . import query as qparse
from .documents import SearchDoc, to_tantivy_dict
from .schema import FACETS, STOPWORDS, TEXT_FIELDS, build_schema, plain_analyzer, register_analyzers, stem_analyzer, \
    stopword_analyzer
from .visibility import Viewer, viewer_token

MAX_PAGE_SIZE = 50
MAX_PAGE = 100            # deep pages are bounded: offset + size never exceeds 5,000
MAX_FACET_VALUES = 30
FACET_CACHE_SIZE = 512
MAX_ALL_WORDS = 2  # queries of up to this many significant words require all of them
SNIPPET_CHARS = 240
FILTER_VALUE_MAX = 200
Occur = tantivy.Occur


class SearchRequest(BaseModel):
    q: str = Field(default="", max_length=10_000)
    type: list[str] = Field(default_factory=list, max_length=20)
    topic: list[str] = Field(default_factory=list, max_length=20)
    source: list[str] = Field(default_factory=list, max_length=20)
    agency: list[str] = Field(default_factory=list, max_length=20)
    year: list[int] = Field(default_factory=list, max_length=50)
    kind: Literal["resource", "program"] | None = None
    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    page_size: int = Field(default=10, ge=1, le=MAX_PAGE_SIZE)
    sort: Literal["relevance", "newest"] = "relevance"
    include_unpublished: bool = False
    facets: bool = True
    snippets: bool = True

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
    snippet: str  # HTML: text escaped, matched terms in <b>
    topics: list[str]
    source: str
    agency: str | None
    year: int | None
    score: float


class FacetValue(BaseModel):
    value: str
    count: int


class SearchPage(BaseModel):
    total: int
    page: int
    page_size: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]] = Field(default_factory=dict)
    corrected: bool = False  # typo tolerance widened at least one word


@dataclass
class _Built:
    text: tantivy.Query | None  # the ranked part (None = match everything)
    fuzzy_used: bool = False


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

    # ---------------------------------------------------------------- reads

    def search(self, req: SearchRequest, viewer: Viewer) -> SearchPage:
        searcher = self._index.searcher()
        parsed = qparse.parse(req.q)
        built = self._text_query(parsed, searcher)
        filters = self._filters(req, viewer)
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
                          corrected=built.fuzzy_used)

    def get(self, item_id: str, viewer: Viewer, *, include_unpublished: bool = False) -> SearchDoc | None:
        searcher = self._index.searcher()
        q = self._combine(tantivy.Query.term_query(self.schema, "id", item_id),
                          self._visibility(viewer, include_unpublished), qparse.ParsedQuery())
        res = searcher.search(q, limit=1)
        if not res.hits:
            return None
        return _to_doc(searcher.doc(res.hits[0][1]))

    def related(self, item_id: str, viewer: Viewer, *, limit: int = 5) -> list[Hit] | None:
        """Items like this one (shared rare words, same topics); None when the item is not visible."""
        limit = max(1, min(limit, MAX_PAGE_SIZE))
        searcher = self._index.searcher()
        vis = self._visibility(viewer, False)
        me = tantivy.Query.term_query(self.schema, "id", item_id)
        found = searcher.search(self._combine(me, vis, qparse.ParsedQuery()), limit=1)
        if not found.hits:
            return None
        doc = searcher.doc(found.hits[0][1])
        # only the text fields: the stored keyword fields (status, audience) would make everything alike
        fields = {f: [v[:20_000] for v in doc.get_all(f)] for f in ("title", "summary", "body")}
        fields = {f: v for f, v in fields.items() if v and any(x.strip() for x in v)}
        if not fields:
            return []
        mlt = tantivy.Query.more_like_this_document_fields_query(
            self.schema, fields, min_doc_frequency=1, min_term_frequency=1, max_query_terms=25, min_word_length=3,
            max_word_length=40, boost_factor=1.0, stop_words=STOPWORDS,
        )
        shoulds: list[tuple[Occur, tantivy.Query]] = [(Occur.Should, mlt)]
        topics = doc.get_all("topics")
        if topics:
            shoulds.append((Occur.Should, tantivy.Query.boost_query(self._any_of("topics", topics), 0.3)))
        ranked = tantivy.Query.boolean_query(shoulds)
        q = tantivy.Query.boolean_query([(Occur.Must, ranked),
                                         *[(Occur.Must, tantivy.Query.const_score_query(f, 0.0)) for f in vis],
                                         (Occur.MustNot, me)])
        res = searcher.search(q, limit=limit)
        return [self._hit(searcher.doc(a), s, {}) for s, a in res.hits]

    def similar_questions(self, text: str, viewer: Viewer, *, limit: int = 5) -> list[Hit]:
        """Answered questions that look like a draft question, best first."""
        limit = max(1, min(limit, 20))
        text = qparse.normalise(text)[:4_000]
        words = self._stop.analyze(text)
        if not words:
            return []
        searcher = self._index.searcher()
        mlt = tantivy.Query.more_like_this_document_fields_query(
            self.schema, {"title": [text], "body": [text]}, min_doc_frequency=1, min_term_frequency=1,
            max_query_terms=25, min_word_length=3, max_word_length=40, stop_words=STOPWORDS,
        )
        vis = self._visibility(viewer, False)
        q = tantivy.Query.boolean_query([(Occur.Must, mlt),
                                         (Occur.Must, tantivy.Query.term_query(self.schema, "type", "answered_question")),
                                         *[(Occur.Must, tantivy.Query.const_score_query(f, 0.0)) for f in vis]])
        res = searcher.search(q, limit=limit)
        gens = self._snippet_generators(searcher, mlt)
        return [self._hit(searcher.doc(a), s, gens) for s, a in res.hits]

    # ---------------------------------------------------------------- query building

    def _analyze(self, word: str) -> tuple[str, str] | None:
        stems = self._stem.analyze(word)
        plains = self._plain.analyze(word)
        if not stems or not plains:
            return None
        return stems[0], plains[0]

    def _term_clause(self, word: str, searcher: tantivy.Searcher) -> tuple[tantivy.Query | None, bool]:
        toks = self._stem.analyze(word)
        plains = self._plain.analyze(word)
        if not toks:
            return None, False
        if len(toks) > 1:  # "e-mail", "o'neil": several tokens from one typed word → treat as a phrase
            return self._phrase_clause(toks), False
        stem, plain = toks[0], plains[0] if plains else toks[0]
        per_field = [tantivy.Query.boost_query(tantivy.Query.term_query(self.schema, f, stem), w)
                     for f, w in TEXT_FIELDS.items()]
        fuzzy = False
        # typo tolerance only for words the index has never seen: known words stay exact and fast
        if len(plain) >= 4 and searcher.doc_freq("plain", plain) == 0 and \
                not any(searcher.doc_freq(f, stem) for f in TEXT_FIELDS):
            distance = 2 if len(plain) >= 8 else 1
            per_field.append(tantivy.Query.boost_query(
                tantivy.Query.fuzzy_term_query(self.schema, "plain", plain, distance=distance,
                                               transposition_cost_one=True), 1.0))
            fuzzy = True
        return tantivy.Query.disjunction_max_query(per_field, tie_breaker=0.3), fuzzy

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

    def _text_query(self, parsed: qparse.ParsedQuery, searcher: tantivy.Searcher) -> _Built:
        if parsed.empty:
            return _Built(None)
        significant = {w for w in parsed.terms if self._stop.analyze(w)}
        shoulds, fuzzy_any = [], False
        weak: list[tantivy.Query] = []
        for w in parsed.terms:
            clause, fuzzy = self._term_clause(w, searcher)
            if clause is None:
                continue
            fuzzy_any |= fuzzy
            # stop words rank but never decide whether a document matches (unless they are all there is)
            (shoulds if (w in significant or not significant) else weak).append(clause)
        musts = []
        for ph in parsed.phrases:
            stems = self._phrase_stems(ph)
            if stems:
                musts.append(self._phrase_clause(stems))
        subs: list[tuple[Occur, tantivy.Query]] = [(Occur.Must, m) for m in musts]
        if shoulds:
            n = len(shoulds)
            # short queries: every word; longer ones: two thirds of them (natural-language questions)
            if n <= MAX_ALL_WORDS:
                # short queries are precise: every word must match (an intersection, also the fastest plan)
                subs.extend((Occur.Must, s) for s in shoulds)
            else:
                # longer ones read like questions: any word may match, and BM25 ranks documents that match
                # more of them first (a minimum-should-match scorer measured ~2x slower here)
                subs.append((Occur.Must, tantivy.Query.boolean_query([(Occur.Should, s) for s in shoulds])))
        subs.extend((Occur.Should, tantivy.Query.boost_query(w, 0.2)) for w in weak)
        if not any(o == Occur.Must for o, _ in subs):
            return _Built(tantivy.Query.empty_query(), fuzzy_any)
        return _Built(tantivy.Query.boolean_query(subs), fuzzy_any)

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
        snippet = gens.best(doc) if isinstance(gens, _Snippets) else ""
        if not snippet:
            snippet = _escape(_shorten(doc.get_first("summary") or doc.get_first("body") or "", SNIPPET_CHARS))
        agency = doc.get_first("agency")
        return Hit(
            id=doc.get_first("id"), kind=doc.get_first("kind"), type=doc.get_first("type"),
            status=doc.get_first("status"), title=doc.get_first("title") or "",
            summary=_shorten(doc.get_first("summary") or "", 600), snippet=snippet,
            topics=doc.get_all("topics"), source=doc.get_first("source") or "",
            agency=None if agency in (None, "none") else agency, year=doc.get_first("year"), score=float(score),
        )

    def _cached_facets(self, searcher: tantivy.Searcher, q: tantivy.Query, req: SearchRequest,
                       viewer: Viewer) -> dict[str, list[FacetValue]]:
        key = (self._generation, qparse.normalise(req.q), tuple(req.type), tuple(req.topic), tuple(req.source),
               tuple(req.agency), tuple(req.year), req.kind, viewer_token(viewer, req.include_unpublished))
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


def _escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


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

    def best(self, doc: tantivy.Document) -> str:
        for f in self.FIELDS:
            s = self._gen(f).snippet_from_doc(doc)
            if s.highlighted():
                return s.to_html()
        return ""


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
