"""Search over published articles.

The search index holds headline, standfirst and `search_preview_text` (the first blocks, or
the whole body of a free article), so a search can never reveal text a reader could not see.
Only a searcher who may read every article in full also matches the full body.
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest

from masthead.access.doors import peek

MAX_QUERY_LENGTH = 200
_NOT_A_WORD = re.compile(r"[^\w]|_")
MAX_RESULTS = 500


def may_search_full_text(request: HttpRequest) -> bool:
    """True when this searcher could read any article in full without it counting.

    Asked of the strictest article there is (an unsaved subscribers-only one): a searcher
    who peeks at that in full reads everything (staff, subscribers).
    """
    from masthead.newsroom.models import AccessLevel, ArticlePage

    strictest = ArticlePage(title="", access_level=AccessLevel.SUBSCRIBERS)
    return peek(request, strictest).full


def clean_query(raw: str) -> str:
    """The query as words only: full-text syntax (quotes, brackets, operators) is dropped,
    since SQLite's FTS5 and PostgreSQL read it differently and a stray quote is an error."""
    words = _NOT_A_WORD.sub(" ", raw)
    return " ".join(words.split())[:MAX_QUERY_LENGTH].strip()


def search_articles(query: str, *, full_text: bool) -> QuerySet:
    """Live articles matching `query`, best match first (newest first for full-text hits)."""
    from masthead.newsroom.listing import articles
    from masthead.newsroom.models import ArticlePage

    indexed = ArticlePage.objects.live().search(query, order_by_relevance=False)
    matched_ids: set[Any] = {item.pk for item in indexed[:MAX_RESULTS]}
    if full_text:
        words = query.split()
        if words:
            body_match = Q()
            for word in words:
                body_match &= Q(body_text__icontains=word)
            matched_ids.update(articles().filter(body_match).values_list("pk", flat=True))
    return articles().filter(pk__in=matched_ids)
