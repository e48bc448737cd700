"""The tantivy schema of the search read model and the analyzers it uses."""

from __future__ import annotations

import tantivy

STEM = "nrn_en"      # words, lowercased, accents folded, English (Snowball) stemming: "financing" ~ "finance"
PLAIN = "nrn_plain"  # the same without stemming: the field that typo tolerance (fuzzy terms) runs on

# text fields searched by a query, with their weights
TEXT_FIELDS: dict[str, float] = {"title": 3.0, "keywords": 2.0, "summary": 1.5, "body": 1.0}
SNIPPET_FIELDS = ("body", "summary")
# facet name (API) -> fast field
FACETS: dict[str, str] = {"type": "type", "topic": "topics", "source": "source", "agency": "agency", "year": "year"}


def stem_analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def plain_analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


# Words that carry no topic in a question someone types ("how do we finance housing for our city?").
STOPWORDS = sorted(set("""
a about above after again against all also am an and any are as at be because been before being below between both
but by can could did do does doing done down during each either few for from further get gets got had has have having
he her here hers herself him himself his how i if in into is it its itself just let lets like may me might more most
much must my myself need needs no nor not now of off on once one only or other ought our ours ourselves out over own
per please same shall she should so some such than that the their theirs them themselves then there these they this
those through to too under until up upon us use used using very want wants was we were what when where whether which
while who whom whose why will with within without would yes yet you your yours yourself yourselves
""".split()))


def stopword_analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.custom_stopword(STOPWORDS))
        .build()
    )


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw")
    sb.add_text_field("kind", stored=True, fast=True, tokenizer_name="raw")        # resource | program
    sb.add_text_field("type", stored=True, fast=True, tokenizer_name="raw")
    sb.add_text_field("status", stored=True, fast=True, tokenizer_name="raw")
    sb.add_text_field("audience", stored=True, fast=True, tokenizer_name="raw")
    # who may see the item, precomputed: one term to intersect with instead of a set query per field
    sb.add_text_field("vis", stored=False, tokenizer_name="raw")
    sb.add_text_field("topics", stored=True, fast=True, tokenizer_name="raw")
    sb.add_text_field("source", stored=True, fast=True, tokenizer_name="raw")
    sb.add_text_field("agency", stored=True, fast=True, tokenizer_name="raw")
    sb.add_text_field("cities", stored=True, tokenizer_name="raw")
    sb.add_integer_field("year", stored=True, indexed=True, fast=True)
    sb.add_integer_field("date", stored=True, indexed=True, fast=True)  # epoch days of the publication date
    sb.add_text_field("title", stored=True, tokenizer_name=STEM)
    sb.add_text_field("summary", stored=True, tokenizer_name=STEM)
    sb.add_text_field("body", stored=True, tokenizer_name=STEM)
    sb.add_text_field("keywords", stored=False, tokenizer_name=STEM)
    sb.add_text_field("plain", stored=False, tokenizer_name=PLAIN)
    return sb.build()


def register_analyzers(index: tantivy.Index) -> None:
    index.register_tokenizer(STEM, stem_analyzer())
    index.register_tokenizer(PLAIN, plain_analyzer())
