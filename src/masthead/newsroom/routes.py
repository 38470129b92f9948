"""A route table for article URLs in the shared cache, so a read skips Wagtail's tree walk.

Wagtail resolves `/world/some-article/` with about eight queries (site, one lookup per tree
level, view restrictions) on every request. The first time Wagtail serves a public article,
the page is remembered under its host and path, stamped with the newsroom generation; later
requests find it in one cache round trip. Any publish, unpublish, move, deletion, view
restriction or site change bumps the generation, which retires every remembered route at
once; the next request goes through Wagtail again and remembers the fresh page.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.http import HttpRequest

GENERATION_KEY = "newsroom:generation"
ROUTE_TIMEOUT = 24 * 3600
# Set on the request by the fast path: the generation read before Wagtail loaded the page, so
# a page loaded before a concurrent publish is stamped with the old generation (and ignored).
REQUEST_GENERATION = "_newsroom_route_generation"


def bump_generation() -> None:
    """Retire every cached route and article fragment."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 1, None)


def _key(request: HttpRequest) -> str:
    return f"newsroom:route:{request.get_host()}:{request.path}"


def lookup(request: HttpRequest) -> tuple[Any, bool] | None:
    """The remembered (page, print_view) for this URL, or None (then ask Wagtail)."""
    found = cache.get_many([GENERATION_KEY, _key(request)])
    generation = found.get(GENERATION_KEY, 0)
    entry = found.get(_key(request))
    if entry and entry[0] == generation:
        return entry[1], entry[2]
    setattr(request, REQUEST_GENERATION, generation)
    return None


def remember(request: HttpRequest, page: Any, *, print_view: bool) -> None:
    """Called when Wagtail has served a live article; public pages only."""
    generation = getattr(request, REQUEST_GENERATION, None)
    if generation is None or getattr(request, "is_preview", False) or not page.live:
        return
    if page.get_view_restrictions().exists():
        return
    cache.set(_key(request), (generation, page, print_view), ROUTE_TIMEOUT)
