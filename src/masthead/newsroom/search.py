"""Search over published articles, derived from the access decision.

No reader may learn, by searching, any text they may not read (a search for a phrase of the
gated part listing the article would be an oracle). So a query's words are matched against:

- the headline and standfirst of every article this reader's privacy screen lets them see
  (what every reader of a listing sees), and
- the body text only of the articles `access` lets this reader read in full without counting
  (`doors.readable_in_full`: free and sponsored articles for everyone; everything for staff
  and subscribers; what a running campaign opens).

Every word must be found in text the reader may read. Words are stemmed ("ship" finds
"ships" and "shipping"): SQLite's FTS5 porter tokenizer, PostgreSQL's language configuration
(`settings.SEARCH_CONFIG`); the index is `newsroom.fulltext`. The snippets under each result
are cut by the same database from the same text the reader may read: the standfirst, or the
body only where the body was searched. Wagtail's own search index holds headline and
standfirst only (never body text), so the admin's search cannot become an oracle either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.contrib.postgres.search import SearchHeadline, SearchQuery
from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import HttpRequest
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from masthead.access.doors import readable_in_full, screen_of
from masthead.newsroom import fulltext

MAX_QUERY_LENGTH = 200
MAX_WORDS = 12
SNIPPET_WORDS = 28
_NOT_A_WORD = re.compile(r"[^\w]|_")
# Markers the database puts around a match; the text is escaped before they become <mark>.
_OPEN, _CLOSE = "\x02", "\x03"


def clean_query(raw: str) -> str:
    """The query as words only: full-text syntax (quotes, brackets, operators) is dropped,
    since SQLite's FTS5 and PostgreSQL read it differently and a stray quote is an error."""
    words = _NOT_A_WORD.sub(" ", raw)
    return " ".join(words.split())[:MAX_QUERY_LENGTH].strip()


def query_words(query: str) -> list[str]:
    return clean_query(query).split()[:MAX_WORDS]


def body_readable_q(request: HttpRequest | None) -> Q:
    """Articles whose body this reader may read in full (a filter on access level and
    sponsorship, asked of `access` one access class at a time)."""
    readable = Q(pk__in=[])
    for level, sponsored in readable_in_full(request):
        readable |= Q(access_level=level, sponsored=sponsored)
    return readable


def search_articles(query: str, request: HttpRequest | None) -> QuerySet:
    """Articles this reader may see whose readable text holds every word of `query` (stemmed)."""
    from masthead.newsroom.listing import articles

    words = query_words(query)
    found = articles(screen_of(request))
    if not words:
        return found.none()
    body_readable = body_readable_q(request)
    if connection.vendor == "postgresql":
        found = found.annotate(
            _headline_tsv=fulltext.headline_vector(), _body_tsv=fulltext.body_vector()
        )
    for word in words:
        found = found.filter(_matches(word, "headline") | (body_readable & _matches(word, "body")))
    return found


def _matches(word: str, part: str) -> Q:
    if connection.vendor == "postgresql":
        return Q(**{f"_{part}_tsv": SearchQuery(word, config=fulltext.config())})
    if connection.vendor == "sqlite":
        columns = "{search_title standfirst}" if part == "headline" else "body_text"
        sql = f"SELECT rowid FROM {fulltext.FTS_TABLE} WHERE {fulltext.FTS_TABLE} MATCH %s"
        return Q(pk__in=RawSQL(sql, [f'{columns} : "{word}"']))
    # Any other database: unstemmed substrings (what search did before the index).
    if part == "headline":
        return Q(title__icontains=word) | Q(standfirst__icontains=word)
    return Q(body_text__icontains=word)


@dataclass(frozen=True)
class Snippet:
    """What a result shows of its text: the standfirst with matches marked, and, where the
    match is in a body this reader may read, the passage around it."""

    standfirst: SafeString
    passage: SafeString | None = None


def attach_snippets(items: Sequence, query: str, request: HttpRequest | None) -> None:
    """Set `item.snippet` on each result of one page (three queries at most, whatever the
    number of results: lists defer the body, so the readable bodies are read in one)."""
    words = query_words(query)
    if not items or not words:
        return
    classes = set(readable_in_full(request))
    readable = [item.pk for item in items if (item.access_level, item.sponsored) in classes]
    standfirsts = _marked("standfirst", [item.pk for item in items], words, whole=True)
    passages = _marked("body_text", readable, words, whole=False) if readable else {}
    bodies = _bodies(pk for pk, passage in passages.items() if _has_mark(passage))
    for item in items:
        standfirst = standfirsts.get(item.pk)
        passage = passages.get(item.pk)
        if passage is not None and not _has_mark(passage):
            passage = None
        if passage is not None and standfirst is not None and _has_mark(standfirst):
            passage = None  # the standfirst already shows why it was found
        if passage is not None:
            passage = _with_ellipses(passage, bodies.get(item.pk, ""))
        item.snippet = Snippet(
            standfirst=_to_html(standfirst if standfirst is not None else item.standfirst),
            passage=_to_html(passage) if passage is not None else None,
        )


def _marked(column: str, pks: Iterable[int], words: list[str], *, whole: bool) -> dict[int, str]:
    from masthead.newsroom.models import ArticlePage

    pks = list(pks)
    if connection.vendor == "postgresql":
        config = fulltext.config()
        search_query = SearchQuery(words[0], config=config)
        for word in words[1:]:
            search_query |= SearchQuery(word, config=config)
        options = (
            {"highlight_all": True}
            if whole
            else {
                "max_words": SNIPPET_WORDS,
                "min_words": SNIPPET_WORDS // 2,
                "max_fragments": 1,
            }
        )
        headline = SearchHeadline(
            column, search_query, config=config, start_sel=_OPEN, stop_sel=_CLOSE, **options
        )
        rows = ArticlePage.objects.filter(pk__in=pks).annotate(marked=headline)
        return dict(rows.values_list("pk", "marked"))
    if connection.vendor == "sqlite":
        number = fulltext.COLUMNS.index(column)
        function = (
            f"highlight({fulltext.FTS_TABLE}, {number}, char(2), char(3))"
            if whole
            else f"snippet({fulltext.FTS_TABLE}, {number}, char(2), char(3), '', {SNIPPET_WORDS})"
        )
        terms = " OR ".join(f'"{word}"' for word in words)
        placeholders = ", ".join("%s" for _ in pks)
        sql = (
            f"SELECT rowid, {function} FROM {fulltext.FTS_TABLE} "
            f"WHERE {fulltext.FTS_TABLE} MATCH %s AND rowid IN ({placeholders})"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [f"{column} : ({terms})", *pks])
            return {pk: text for pk, text in cursor.fetchall()}
    return {}


def _bodies(pks: Iterable[int]) -> dict[int, str]:
    from masthead.newsroom.models import ArticlePage

    wanted = list(pks)
    if not wanted:
        return {}
    return dict(ArticlePage.objects.filter(pk__in=wanted).values_list("pk", "body_text"))


def _has_mark(text: str) -> bool:
    return _OPEN in text


def _with_ellipses(passage: str, whole: str) -> str:
    plain = passage.replace(_OPEN, "").replace(_CLOSE, "").strip()
    start = "" if whole.lstrip().startswith(plain) else "… "
    end = "" if whole.rstrip().endswith(plain) else " …"
    return f"{start}{passage.strip()}{end}"


def _to_html(text: str) -> SafeString:
    """Escape the text, then turn the database's markers into <mark> (never its own tags)."""
    html = escape(text).replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>")
    return mark_safe(html)
