"""Library search benchmark: the service's search layer against the raw tantivy engine, same documents, same run.

    .venv/bin/python bench/library/bench_search.py [--docs 100000] [--queries 300] [--seed 7]

Prints: indexing rate (service rebuild vs raw tantivy add+commit), search p50/p99 for the service
(safe parser, visibility filter, facets, snippets, hydrated hits) and for the raw engine (tantivy's
own query parser over the same fields, top 10 with stored documents), their ratio (target p99 ≤ 2×),
and the time from a publish to the item being searchable while other writes keep arriving.
Figures only; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from datetime import date

import tantivy

from library.domain.taxonomy import TOPICS
from library.search.documents import SearchDoc, to_tantivy_dict
from library.search.index import Committer, SearchIndex, SearchRequest
from library.search.schema import FACETS
from library.search.visibility import ANONYMOUS

DOMAIN = ("housing land bank vacant property tax foreclosure budget revenue pension debt bond finance transit bus rail "
          "broadband fiber digital equity workforce training apprenticeship jobs health clinic lead water pipe "
          "police public safety violence zoning permit code enforcement blight demolition downtown small business "
          "loan grant federal state county city council mayor manager procurement contract audit data performance "
          "climate flood resilience energy efficiency infrastructure roads bridges parks library schools youth "
          "homelessness shelter rental affordable mortgage eviction neighborhood community development corridor "
          "redevelopment incentive opportunity zone innovation district manufacturing port logistics tourism").split()
TYPES = ["guide", "toolkit", "case_study", "report", "webinar", "research", "policy_analysis", "answered_question"]
SOURCES = ["NRN", "Urban Institute", "Brookings", "GFOA", "ICMA", "NLC", "HUD", "EDA", "NTIA", "EPA", "Kresge",
           "Center for Community Progress", "Living Cities", "Enterprise", "LISC"]
AGENCIES = ["", "", "", "HUD", "EDA", "DOT", "EPA", "USDA", "Treasury", "HHS", "NTIA"]


def vocabulary(rng: random.Random, n: int = 6_000) -> list[str]:
    syll = ["ka", "lo", "mi", "ren", "tor", "ba", "sel", "qui", "dan", "fe", "gor", "hu", "jin", "pla", "stra", "ve",
            "wen", "xi", "yo", "zu", "ar", "en", "ist", "ment", "ion", "ary", "ous", "ing"]
    words = set(DOMAIN)
    while len(words) < n:
        words.add("".join(rng.choice(syll) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def make_docs(n: int, rng: random.Random) -> tuple[list[SearchDoc], list[str]]:
    vocab = vocabulary(rng)
    weights = [1.0 / (i + 1) ** 1.05 for i in range(len(vocab))]  # Zipf-like, as real text is
    rng.shuffle(vocab)
    # domain words are frequent
    vocab = DOMAIN + [w for w in vocab if w not in set(DOMAIN)]
    cum = list(_accumulate(weights))

    def words(k: int) -> list[str]:
        return rng.choices(vocab, cum_weights=cum, k=k)

    docs = []
    for i in range(n):
        status = "published" if rng.random() < 0.9 else rng.choice(["draft", "in_review", "archived"])
        audience = "public" if rng.random() < 0.85 else rng.choice(["officials", "staff"])
        year = rng.randint(2010, 2026)
        docs.append(SearchDoc(
            id=f"r-{i}", kind="resource", type=rng.choice(TYPES), status=status, audience=audience,
            title=" ".join(words(rng.randint(4, 9))).capitalize(),
            summary=" ".join(words(rng.randint(15, 35))),
            body=" ".join(words(rng.randint(120, 260))),
            keywords=words(4), topics=rng.sample(TOPICS, rng.randint(1, 2)), source=rng.choice(SOURCES),
            agency=rng.choice(AGENCIES), published=date(year, rng.randint(1, 12), rng.randint(1, 28)),
        ))
    return docs, vocab


def _accumulate(xs):
    t = 0.0
    for x in xs:
        t += x
        yield t


def make_queries(vocab: list[str], n: int, rng: random.Random) -> list[str]:
    common, rarer = vocab[:300], vocab[300:3000]
    qs = []
    for i in range(n):
        kind = i % 5
        if kind == 0:
            qs.append(rng.choice(common))
        elif kind == 1:
            qs.append(f"{rng.choice(common)} {rng.choice(rarer)}")
        elif kind == 2:
            qs.append(" ".join(rng.sample(common, 3)))
        elif kind == 3:
            qs.append(f'"{rng.choice(common)} {rng.choice(common)}"')
        else:  # a typo in a rarer word
            w = rng.choice([w for w in rarer if len(w) >= 6])
            j = rng.randrange(1, len(w) - 1)
            qs.append(w[:j] + w[j + 1:])
    return qs


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def raw_engine(docs: list[SearchDoc]) -> tuple[tantivy.Index, float]:
    """The baseline: tantivy with its stock English stemmer, same text and facet fields, no service logic."""
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw")
    for f in ("title", "summary", "body"):
        sb.add_text_field(f, stored=True, tokenizer_name="en_stem")
    sb.add_text_field("keywords", stored=False, tokenizer_name="en_stem")
    for f in ("type", "topics", "source", "agency"):
        sb.add_text_field(f, stored=True, fast=True, tokenizer_name="raw")
    sb.add_integer_field("year", stored=True, indexed=True, fast=True)
    schema = sb.build()
    index = tantivy.Index(schema)
    w = index.writer(heap_size=128_000_000, num_threads=1)
    t = time.perf_counter()
    for d in docs:
        w.add_document(tantivy.Document(id=d.id, title=d.title, summary=d.summary, body=d.body,
                                        keywords=" ".join(d.keywords), type=d.type, topics=d.topics,
                                        source=d.source, agency=d.agency or "none", year=d.year))
    w.commit()
    w.wait_merging_threads()
    index.reload()
    return index, time.perf_counter() - t


FACET_AGGS = {name: {"terms": {"field": fld, "size": 30}} for name, fld in FACETS.items()}


def time_raw(index: tantivy.Index, queries: list[str], *, same_work: bool = False) -> list[float]:
    """Raw engine per query: tantivy's parser, top 10 with a total count, stored documents fetched.
    With same_work, also what the service returns besides: facet counts and a highlighted body snippet per hit."""
    out = []
    fields = ["title", "keywords", "summary", "body"]
    boosts = {"title": 3.0, "keywords": 2.0, "summary": 1.5}
    for q in queries:
        t = time.perf_counter()
        searcher = index.searcher()
        query, _errors = index.parse_query_lenient(q, fields, field_boosts=boosts)
        res = searcher.search(query, 10, count=True)
        docs = [searcher.doc(a) for _, a in res.hits]
        if same_work:
            searcher.aggregate(query, FACET_AGGS)
            gen = tantivy.SnippetGenerator.create(searcher, query, index.schema, "body")
            gen.set_max_num_chars(240)
            _ = [gen.snippet_from_doc(d).to_html() for d in docs]
        out.append(time.perf_counter() - t)
    return out


def time_service(ix: SearchIndex, queries: list[str], **kw) -> list[float]:
    out = []
    for q in queries:
        t = time.perf_counter()
        ix.search(SearchRequest(q=q, **kw), ANONYMOUS)
        out.append(time.perf_counter() - t)
    return out


async def freshness(ix: SearchIndex, rng: random.Random, *, background_rate: float, samples: int) -> list[float]:
    """Seconds from upsert of a published item to it being found by search, with other writes arriving."""
    committer = Committer(ix, interval=0.25)
    committer.start()
    stop = asyncio.Event()

    async def background() -> None:
        i = 0
        while not stop.is_set():
            ix.upsert([SearchDoc(id=f"bg-{i}", kind="resource", type="guide", status="published",
                                 title=f"background item {i}", summary="steady load", body="steady load text",
                                 topics=["other"], published=date(2026, 1, 1))])
            i += 1
            await asyncio.sleep(1 / background_rate)

    bg = asyncio.create_task(background())
    lat = []
    for k in range(samples):
        marker = f"zzfresh{k}marker"
        t = time.perf_counter()
        ix.upsert([SearchDoc(id=f"fresh-{k}", kind="resource", type="guide", status="published", title=marker,
                             summary="new", body="new", topics=["other"], published=date(2026, 1, 1))])
        # compare ids: typo tolerance would happily find the previous marker
        while f"fresh-{k}" not in [h.id for h in ix.search(SearchRequest(q=marker, facets=False, snippets=False),
                                                            ANONYMOUS).hits]:
            await asyncio.sleep(0.01)
        lat.append(time.perf_counter() - t)
        await asyncio.sleep(rng.uniform(0.05, 0.3))
    stop.set()
    await bg
    await committer.stop()
    return lat


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    args = ap.parse_args()
    rng = random.Random(args.seed)

    t = time.perf_counter()
    docs, vocab = make_docs(args.docs, rng)
    print(f"generated {len(docs):,} synthetic resources in {time.perf_counter() - t:.1f}s", file=sys.stderr)
    queries = make_queries(vocab, args.queries, rng)

    raw, raw_secs = raw_engine(docs)
    ix = SearchIndex(writer_heap=128_000_000)
    t = time.perf_counter()
    ix.rebuild(docs)
    svc_secs = time.perf_counter() - t

    warm = make_queries(vocab, 40, random.Random(args.seed + 1))  # not the measured ones (facets are cached)
    time_raw(raw, warm, same_work=True), time_service(ix, warm)
    # interleave the runs so that load from other processes on the machine hits all of them alike
    raw_lat, raw_same, svc_lat, svc_lean = [], [], [], []
    for i in range(0, len(queries), 25):
        chunk = queries[i:i + 25]
        raw_lat += time_raw(raw, chunk)
        raw_same += time_raw(raw, chunk, same_work=True)
        svc_lat += time_service(ix, chunk)
        svc_lean += time_service(ix, chunk, facets=False, snippets=False)
    fresh = asyncio.run(freshness(ix, rng, background_rate=200, samples=20))

    ms = lambda s: s * 1000  # noqa: E731
    fig = {
        "documents": len(docs),
        "queries": len(queries),
        "index_rate_service_docs_per_s": round(len(docs) / svc_secs),
        "index_rate_raw_docs_per_s": round(len(docs) / raw_secs),
        "raw_p50_ms": round(ms(pct(raw_lat, 50)), 2), "raw_p99_ms": round(ms(pct(raw_lat, 99)), 2),
        "raw_same_work_p50_ms": round(ms(pct(raw_same, 50)), 2),
        "raw_same_work_p99_ms": round(ms(pct(raw_same, 99)), 2),
        "service_p50_ms": round(ms(pct(svc_lat, 50)), 2), "service_p99_ms": round(ms(pct(svc_lat, 99)), 2),
        "service_lean_p50_ms": round(ms(pct(svc_lean, 50)), 2),
        "service_lean_p99_ms": round(ms(pct(svc_lean, 99)), 2),
        "p50_ratio_same_work": round(pct(svc_lat, 50) / pct(raw_same, 50), 2),
        "p99_ratio_same_work": round(pct(svc_lat, 99) / pct(raw_same, 99), 2),
        "p50_ratio_lean_vs_raw": round(pct(svc_lean, 50) / pct(raw_lat, 50), 2),
        "p99_ratio_lean_vs_raw": round(pct(svc_lean, 99) / pct(raw_lat, 99), 2),
        "p99_ratio_full_vs_raw": round(pct(svc_lat, 99) / pct(raw_lat, 99), 2),
        "publish_to_searchable_p50_s": round(statistics.median(fresh), 3),
        "publish_to_searchable_max_s": round(max(fresh), 3),
    }
    print(f"documents: {fig['documents']:,}   queries: {fig['queries']}")
    print(f"indexing: service {fig['index_rate_service_docs_per_s']:,} docs/s   "
          f"raw tantivy {fig['index_rate_raw_docs_per_s']:,} docs/s")
    print(f"search latency (top 10, total count, stored documents):")
    print(f"  raw engine:                      p50 {fig['raw_p50_ms']} ms  p99 {fig['raw_p99_ms']} ms")
    print(f"  raw engine + facets + snippets:  p50 {fig['raw_same_work_p50_ms']} ms  "
          f"p99 {fig['raw_same_work_p99_ms']} ms")
    print(f"  service, facets + snippets:      p50 {fig['service_p50_ms']} ms  p99 {fig['service_p99_ms']} ms")
    print(f"  service, no facets/snippets:     p50 {fig['service_lean_p50_ms']} ms  p99 {fig['service_lean_p99_ms']} ms")
    print(f"ratio service/raw, same work:  p50 {fig['p50_ratio_same_work']}x  p99 {fig['p99_ratio_same_work']}x"
          f"   (target p99 <= 2x)")
    print(f"ratio service/raw, lean:       p50 {fig['p50_ratio_lean_vs_raw']}x  p99 {fig['p99_ratio_lean_vs_raw']}x")
    print(f"ratio service (facets+snippets) / bare raw engine: p99 {fig['p99_ratio_full_vs_raw']}x")
    print(f"publish -> searchable at 200 writes/s: p50 {fig['publish_to_searchable_p50_s']} s  "
          f"max {fig['publish_to_searchable_max_s']} s   (target <= 2 s)")
    if args.json:
        print(json.dumps(fig))


if __name__ == "__main__":
    main()
