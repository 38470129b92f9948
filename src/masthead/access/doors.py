"""What every door calls. PLACEHOLDER until the access/metering issue lands.

- `open_article(request, article)`: the article page, print view and API detail. Decides,
  and when a metered article is shown in full, records the read atomically (a lost race
  downgrades to the preview). Returns the final Decision.
- `peek(request, article)`: doors that must not count a read (feeds, search, lists, sitemaps,
  structured data). Full only when reading would not count (free article, subscriber, staff).
- `visible_blocks(article, decision)`: the body blocks this decision lets through; the cut is
  made here, on the server, and nothing after it is rendered.
- `mark_reader_dependent(response)`: Cache-Control private + Vary: Cookie.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers

from masthead.access.decision import Decision, Level, decide
from masthead.core import clock


def open_article(request: HttpRequest, article: Any) -> Decision:
    return decide(getattr(request, "reader", None), article, now=clock.now())


def peek(request: HttpRequest | None, article: Any) -> Decision:
    return decide(getattr(request, "reader", None), article, now=clock.now())


def visible_blocks(article: Any, decision: Decision) -> list[Any]:
    blocks = list(article.body)
    if decision.level is Level.FULL or decision.preview_blocks is None:
        return blocks if decision.level is Level.FULL else []
    return blocks[: decision.preview_blocks]


def mark_reader_dependent(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, private=True)
    patch_vary_headers(response, ["Cookie"])
    return response
