"""Search over published articles, derived from the access decision.

No reader may learn, by searching, any text they may not read (a search for a phrase of the
gated part listing the article would be an oracle). So a query's words are matched against:

- the headline and standfirst of every article this reader's privacy screen lets them see
  (what every reader of a listing sees), and
- the body text only of the articles `access` lets this reader read in full without counting
  (`doors.readable_in_full`: free and sponsored articles for everyone; everything for staff
  and subscribers; what a running campaign opens).

Every word must be found in text the reader may read. Matching is by substring, without
stemming. Wagtail's search index holds headline and standfirst only (never body text), so the
admin's search cannot become an oracle either.
"""

from __future__ import annotations

import re

from django.db.models import Q, QuerySet
from django.http import HttpRequest

from masthead.access.doors import readable_in_full, screen_of

MAX_QUERY_LENGTH = 200
MAX_WORDS = 12
_NOT_A_WORD = re.compile(r"[^\w]|_")


def clean_query(raw: str) -> str:
    """The query as words only: full-text syntax (quotes, brackets, operators) is dropped,
    since SQLite's FTS5 and PostgreSQL read it differently and a stray quote is an error."""
    words = _NOT_A_WORD.sub(" ", raw)
    return " ".join(words.split())[:MAX_QUERY_LENGTH].strip()


def body_readable_q(request: HttpRequest | None) -> Q:
    """Articles whose body this reader may read in full (a filter on access level and
    sponsorship, asked of `access` one access class at a time)."""
    readable = Q(pk__in=[])
    for level, sponsored in readable_in_full(request):
        readable |= Q(access_level=level, sponsored=sponsored)
    return readable


def search_articles(query: str, request: HttpRequest | None) -> QuerySet:
    """Articles this reader may see whose readable text holds every word of `query`."""
    from masthead.newsroom.listing import articles

    words = query.split()[:MAX_WORDS]
    found = articles(screen_of(request))
    if not words:
        return found.none()
    body_readable = body_readable_q(request)
    for word in words:
        found = found.filter(
            Q(title__icontains=word)
            | Q(standfirst__icontains=word)
            | (body_readable & Q(body_text__icontains=word))
        )
    return found
