"""A route table for article URLs in the shared cache, so a read skips Wagtail's tree walk.

Wagtail resolves `/world/some-article/` with about eight queries (site, one lookup per tree
level, view restrictions) on every request. The first time Wagtail serves a public article,
a small `ArticleRoute` (the few fields the article page needs, not the page) is remembered
under its host and path, stamped with the newsroom generation. Any publish, unpublish, move,
deletion, view restriction or site change bumps the generation, which retires every
remembered route at once; the next request goes through Wagtail again.

The generation is the site generation (`masthead.core.generation`): in the shared cache with
Redis, in the database on the embedded default, so every process agrees on it whatever the
cache is. When it cannot be read (Redis down) nothing kept is trusted: Wagtail routes the
request and the page is rendered fresh.

Each process also keeps the routes it has seen, stamped with their generation. A request for
a known URL then reads only the generation and the article's cached fragments, in one round
trip (see `lookup`); the generation read in that same round trip proves the route current.
When the process also holds the signed-out page shell for the route (`shell`), a signed-out
reader's request reads the generation alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest
from django.utils import timezone

from masthead.core import generation as site_generation

ROUTE_TIMEOUT = 24 * 3600
# Set on the request by the fast path: the generation read before Wagtail loaded the page, so
# a page loaded before a concurrent publish is stamped with the old generation (and ignored).
REQUEST_GENERATION = "_newsroom_route_generation"
# Routes this process remembers; cleared when full (a newsroom has far fewer live articles).
KNOWN_ROUTES_LIMIT = 20_000
_known: dict[str, tuple[int, ArticleRoute]] = {}
FRAGMENT_PARTS = ("nav", "head", "top", "body", "tail")
_cuts: set[int] = set()
# Signed-out readers' page shells this process rendered, by (route, visible blocks, footer
# year), stamped with their generation; cleared when full (about 17 kB each).
SHELLS_LIMIT = 1_000
ShellKey = tuple["ArticleRoute", int, int]
_shells: dict[ShellKey, tuple[int, str]] = {}


@dataclass(frozen=True)
class ArticleRoute:
    """What the article page, its templates and the access decision read from a page."""

    pk: int
    live_revision_id: int
    title: str
    url: str
    full_url: str
    access_level: str
    sponsored: bool
    block_count: int
    print_view: bool

    @property
    def body(self) -> tuple[None, ...]:
        """Stand-ins for the body blocks: the access door cuts them as it cuts the real body,
        and the length of what it lets through picks the cached body fragment."""
        return (None,) * self.block_count


@dataclass(frozen=True)
class Found:
    route: ArticleRoute
    generation: int
    # Cache entries read with the route, by key (None when absent); empty when the route
    # itself had to be read from the shared cache.
    prefetched: dict[str, Any]


def fragment_keys(page_pk: int, revision_id: int, body_blocks: int) -> dict[str, str]:
    """Where the article's reader-independent fragments are cached, by part."""
    prefix = f"newsroom:article:{page_pk}:{revision_id}"
    keys = {part: f"{prefix}:{part}" for part in FRAGMENT_PARTS}
    keys["body"] = f"{prefix}:body:{body_blocks}"
    return keys


def note_cut(visible: int, total: int) -> None:
    """Remember a body length served short of the whole body (the policy's preview), so the
    next request for a known route reads that variant along with the whole body."""
    if visible < total and visible not in _cuts:
        if len(_cuts) >= 8:
            _cuts.clear()
        _cuts.add(visible)


def shell_key(route: ArticleRoute, visible: int) -> ShellKey:
    """The footer shows the year, so it is part of the key."""
    return (route, visible, timezone.localtime().year)


def shell(key: ShellKey, generation: int) -> str | None:
    """The signed-out page shell rendered under this generation, if this process has it."""
    kept = _shells.get(key)
    return kept[1] if kept and kept[0] == generation else None


def keep_shell(key: ShellKey, generation: int, html: str) -> None:
    if len(_shells) >= SHELLS_LIMIT:
        _shells.clear()
    _shells[key] = (generation, html)


def _has_whole_shell(request: HttpRequest, generation: int, route: ArticleRoute) -> bool:
    """Whether a signed-out reader's whole-body shell is at hand, so the fragments need not
    be read along with the generation (a reader the shell does not fit reads them after)."""
    if request.user.is_authenticated:
        return False
    return shell(shell_key(route, route.block_count), generation) is not None


def _prefetch(route: ArticleRoute) -> list[str]:
    counts = {route.block_count, *(cut for cut in _cuts if cut < route.block_count)}
    keys = fragment_keys(route.pk, route.live_revision_id, route.block_count)
    bodies = [fragment_keys(route.pk, route.live_revision_id, n)["body"] for n in counts]
    return [*(key for part, key in keys.items() if part != "body"), *bodies]


def bump_generation(**_: object) -> None:
    """Retire every cached route and article fragment (in every process)."""
    site_generation.bump()


def _key(request: HttpRequest) -> str:
    return f"newsroom:route:{request.get_host()}:{request.path}"


def known_here(request: HttpRequest) -> bool:
    """Whether this process remembers a route for this URL (no round trip; any generation)."""
    try:
        return _key(request) in _known
    except DisallowedHost:
        return False


def lookup(request: HttpRequest) -> tuple[Found, bool] | None:
    """The remembered (route, print_view) for this URL, or None (then ask Wagtail).

    For a route this process already knows, the article's fragments are read in the same
    round trip as the generation and handed over with the route.
    """
    key = _key(request)
    known = _known.get(key)
    extra = _prefetch(known[1]) if known and not _has_whole_shell(request, *known) else []
    generation, found = site_generation.read(extra if known else [key])
    setattr(request, REQUEST_GENERATION, generation)
    if generation is None:  # the shared store is down: render fresh, remember nothing
        return None
    if known and known[0] == generation:
        route = known[1]
        return Found(route, generation, {k: found.get(k) for k in extra}), route.print_view
    entry = found.get(key) if known is None else cache.get(key)
    if entry and entry[0] == generation and isinstance(entry[1], ArticleRoute):
        route = entry[1]
        if len(_known) >= KNOWN_ROUTES_LIMIT:
            _known.clear()
        _known[key] = (generation, route)
        return Found(route, generation, {}), route.print_view
    return None


def remember(request: HttpRequest, page: Any, *, print_view: bool) -> None:
    """Called when Wagtail has served a live article; public pages only."""
    generation = getattr(request, REQUEST_GENERATION, None)
    if generation is None or getattr(request, "is_preview", False) or not page.live:
        return
    if page.get_view_restrictions().exists():
        return
    route = ArticleRoute(
        pk=page.pk,
        live_revision_id=page.live_revision_id,
        title=page.title,
        url=page.url,
        full_url=page.full_url,
        access_level=page.access_level,
        sponsored=bool(page.sponsored),
        block_count=len(page.body),
        print_view=print_view,
    )
    cache.set(_key(request), (generation, route), ROUTE_TIMEOUT)
