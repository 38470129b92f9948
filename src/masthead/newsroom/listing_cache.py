"""Listing pages for signed-out readers, built once per content change, not per request.

Home, sections, the author index and author pages, tag pages, search results, the RSS and Atom
feeds and both sitemaps are the same for every signed-out reader who passed no view
restriction. The first such request after a change renders the page as usual (the same views,
templates and access rules), with the article page's banner slot (`article_view.SLOTS`) where
the campaign banner goes; the page is split at the slot and kept in the shared cache under its
URL, stamped with the site generation read *before* it was rendered (a page rendered across a
concurrent publish is stamped with the old generation, and ignored). Every process also keeps
its own copy, stamped the same way.

A warm request is one read of the shared store: the generation, with the page in the same
`MGET` unless this process holds the page under that generation (then the generation alone).
No SQL with Redis; on the embedded default the generation is one primary-key query
(docs/decisions/0011). The campaign banner is the only per-request part (the signed-out header
is the same for everyone: plain sign-in and subscribe links, no form). See
docs/decisions/0024-listing-pages-built-once.md.

Who gets the shared copy: GET or HEAD, not signed in, no Wagtail view restriction passed in the
session, no verified crawler for search; and only URLs whose every query parameter is one the
page reads (`?page=` for lists, `?q=`/`?page=` for search, `?limit=` for feeds, `?p=` for the
sitemap). Anything else takes the ordinary path, uncached, and behaves exactly as before.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import DisallowedHost
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.template.response import SimpleTemplateResponse
from django.utils import timezone, translation

from masthead.access.campaigns import active_campaign
from masthead.access.doors import covered_by_network, reader_of, screen_of
from masthead.core import clock
from masthead.core import generation as site_generation

# Stamped, so a day is only how long an unread page lingers in the shared store.
LISTING_TIMEOUT = 24 * 3600
# Search results are per query: short-lived, so random queries cannot fill the shared store.
SEARCH_TIMEOUT = 60
# Search pages past this one are rendered per request (nobody pages that deep often).
SEARCH_MAX_PAGE = 5
# Pages this process keeps, by key; cleared when full.
HELD_LIMIT = 500
KEY_PREFIX = "newsroom:listing:"
# Set on the request while a listing is rendered: the banner's slot marker (base.html).
BANNER_SLOT_ATTRIBUTE = "masthead_banner_slot"
_KEY = "_listing_cache_key"
_GENERATION = "_listing_cache_generation"
_SHARED = "_listing_cache_shared"
_VALID_UNTIL = "_listing_cache_valid_until"
_PASSED_RESTRICTIONS = "passed_page_view_restrictions"  # Wagtail's session key


@dataclass(frozen=True)
class CachedListing:
    """A rendered listing: its bytes split at the banner slot, and the headers its view set."""

    generation: int
    parts: tuple[bytes, ...]
    status: int
    headers: tuple[tuple[str, str], ...]
    # For pages whose content changes with time alone (the news sitemap's two-day window).
    valid_until: datetime | None = None
    search: bool = False
    # What a signed-out reader's search may match depends on the campaign running (the pk,
    # or None): a search page is served only while the same campaign runs.
    campaign: int | None = None


_held: dict[str, CachedListing] = {}
# Two-segment paths this process has seen be listings (author pages), so the article route
# table is not asked about them first.
_listing_paths: set[str] = set()

_PAGE_TREE = re.compile(r"^/(?:[-\w]+/){0,2}$")
_TAG = re.compile(r"^/tags/[-\w]+/$")
_FEED = re.compile(r"^/feeds/(?:[-\w]+/)?(?:rss|atom)/$")


def _params(request: HttpRequest, allowed: set[str]) -> list[tuple[str, str]] | None:
    """The query's (name, value) pairs in order, or None when a name is not in `allowed` or
    comes twice (then the page is not cached: its links repeat the query as it came)."""
    pairs = [(name, value) for name, values in request.GET.lists() for value in values]
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names) or not set(names) <= allowed:
        return None
    return pairs


def _page(raw: str) -> int | None:
    """A valid ?page= number; None for anything the view answers with a 400 or a 404."""
    from masthead.newsroom.listing import BadPageNumber, parse_page_number

    try:
        return parse_page_number(raw)
    except (BadPageNumber, Http404):
        return None


def _variant(request: HttpRequest) -> tuple[str, bool] | None:
    """What of the URL the page depends on, and whether it is a search; None when the URL is
    not a cached listing."""
    path = request.path
    if path == "/" or path == "/news-sitemap.xml":
        return "", False  # these read no query parameter
    if path == "/sitemap.xml":
        pairs = _params(request, {"p"})
        if pairs is None or any(
            not (v.isascii() and v.isdigit() and len(v) <= 4) for _, v in pairs
        ):
            return None
        return request.META.get("QUERY_STRING", ""), False
    if _FEED.match(path):
        from masthead.newsroom.feeds import BadFeedParameter, item_count

        if _params(request, {"limit"}) is None:
            return None
        try:
            item_count(request)
        except BadFeedParameter:
            return None
        return request.META.get("QUERY_STRING", ""), False  # the feed names its own URL
    if path == "/search/":
        return _search_variant(request)
    if _TAG.match(path) or _PAGE_TREE.match(path):
        pairs = _params(request, {"page"})
        if pairs is None:
            return None
        number = _page(pairs[0][1]) if pairs else 1
        return (f"page={number}", False) if number is not None else None
    return None


def _search_variant(request: HttpRequest) -> tuple[str, bool] | None:
    from masthead.newsroom.search import clean_query

    pairs = _params(request, {"q", "page"})
    if pairs is None or reader_of(request).verified_crawler:
        return None
    found = dict(pairs)
    query = found.get("q", "")
    if query != clean_query(query):
        return None  # the page's links repeat the query as typed; only clean ones are shared
    number = _page(found["page"]) if "page" in found else 1
    if number is None or number > SEARCH_MAX_PAGE:
        return None
    # The page's links keep the parameters in the order they came.
    order = ",".join(name for name, _ in pairs)
    return f"{order}|q={query}|page={number}", True


def _signed_out_and_unscreened(request: HttpRequest) -> bool:
    """Not signed in and no view restriction passed: what every such reader sees is the same.

    Called before the middleware ran (a WSGI fast path), only a request without a session
    cookie is known to be signed out."""
    user = getattr(request, "user", None)
    if user is None:
        return settings.SESSION_COOKIE_NAME not in request.COOKIES
    if user.is_authenticated:
        return False
    session = getattr(request, "session", None)
    return not (session is not None and session.get(_PASSED_RESTRICTIONS))


def _key(request: HttpRequest) -> tuple[str, bool] | None:
    if request.method not in {"GET", "HEAD"} or not _signed_out_and_unscreened(request):
        return None
    # A reader inside an institution's network peeks in full (search matches body text):
    # their listing is theirs, never served from or kept in the shared copy (decision 0036).
    if covered_by_network(request):
        return None
    variant = _variant(request)
    if variant is None:
        return None
    try:
        host = request.get_host()
    except DisallowedHost:
        return None
    # The footer shows the year; <html lang> and the banner's words follow the language.
    described = "\n".join(
        [
            request.scheme or "",
            host,
            request.path,
            variant[0],
            translation.get_language() or "",
            str(timezone.localtime().year),
        ]
    )
    return KEY_PREFIX + hashlib.sha256(described.encode()).hexdigest()[:40], variant[1]


def serve_signed_out(request: HttpRequest) -> HttpResponse | None:
    """The shared copy of this listing for a signed-out reader, or None (not a cached listing
    URL, not a shareable reader, or not built under the current generation: fall through).

    One shared-store round trip; no SQL with Redis. Safe to call before Django's middleware
    (then only requests without a session cookie are served)."""
    keyed = _key(request)
    if keyed is None:
        return None
    held = _held.get(keyed[0])
    generation, found = site_generation.read([] if held else [keyed[0]])
    return _serve(request, keyed, generation, found.get(keyed[0]) if held is None else _UNREAD)


def serve_under(request: HttpRequest, generation: int | None) -> HttpResponse | None:
    """`serve_signed_out` for a caller that has just read the generation (the article fast
    path, whose route table did): the page alone is read, when this process lacks it."""
    keyed = _key(request)
    if keyed is None:
        return None
    return _serve(request, keyed, generation, _UNREAD)


_UNREAD = object()


def _serve(
    request: HttpRequest, keyed: tuple[str, bool], generation: int | None, found: Any
) -> HttpResponse | None:
    key = keyed[0]
    # What `render_and_keep` stamps a page built for this request with.
    setattr(request, _KEY, keyed)
    setattr(request, _GENERATION, generation)
    if generation is None:  # the shared store is down: render fresh, keep nothing
        return None
    held = _held.get(key)
    entry = held if held is not None and held.generation == generation else None
    if entry is None:
        entry = cache.get(key) if found is _UNREAD else found
    if not isinstance(entry, CachedListing) or entry.generation != generation:
        return None
    if entry.valid_until is not None and clock.now() >= entry.valid_until:
        return None
    if entry.search and entry.campaign != _campaign_pk():
        return None
    _hold(key, entry)
    _listing_paths.add(request.path)
    return _response(entry)


def is_known_listing(path: str) -> bool:
    """Whether this process has served `path` as a listing (the article route table need not
    be asked first)."""
    return path in _listing_paths


def mark_shared(request: HttpRequest) -> None:
    """Called by a listing's view: what it renders for this request may be kept and shared
    (checked again at the end: not if the privacy screen let a restricted page through)."""
    setattr(request, _SHARED, True)


def valid_until(request: HttpRequest, when: datetime) -> None:
    """The listing being rendered changes at `when` with no content change (a time window)."""
    kept = getattr(request, _VALID_UNTIL, None)
    setattr(request, _VALID_UNTIL, when if kept is None else min(kept, when))


def cached(view: Callable[..., HttpResponse], *, listing: bool = True) -> Callable[..., Any]:
    """`view` with the shared copy in front for signed-out readers. `listing=False` for views
    that serve listings and other pages alike (Wagtail's page tree): they `mark_shared` what
    may be kept."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        hit = serve_signed_out(request)
        if hit is not None:
            return hit
        return render_and_keep(request, lambda: view(request, *args, **kwargs), listing=listing)

    return wrapped


def render_and_keep(
    request: HttpRequest, render: Callable[[], HttpResponse], *, listing: bool = True
) -> HttpResponse:
    """Render through the ordinary view; keep the result when it is a shareable listing.

    `serve_signed_out` must have been called on this request (it reads the generation the
    page is stamped with, before anything is loaded)."""
    keyed = getattr(request, _KEY, None)
    generation = getattr(request, _GENERATION, None)
    if keyed is None or generation is None:
        return render()
    from masthead.newsroom.article_view import SLOTS

    slot = SLOTS["banner"]
    setattr(request, BANNER_SLOT_ATTRIBUTE, slot)
    if listing:
        mark_shared(request)
    campaign = _campaign_pk() if keyed[1] else None
    try:
        response = render()
        if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
            response.render()
    finally:
        delattr(request, BANNER_SLOT_ATTRIBUTE)
    if response.streaming:
        return response
    parts = tuple(response.content.split(slot.encode()))
    keep = (
        getattr(request, _SHARED, False)
        and response.status_code == 200
        and not response.cookies
        # A page that asked for a CSRF token is this reader's (the token goes with a cookie).
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and not screen_of(request).personal
    )
    if len(parts) > 1:
        response.content = _banner().join(parts)
    if keep and keyed[1] and campaign != _campaign_pk():
        keep = False  # a campaign opened or closed while the results were found
    if keep:
        key, search = keyed
        entry = CachedListing(
            generation=generation,
            parts=parts,
            status=response.status_code,
            headers=tuple(
                (name, value)
                for name, value in response.headers.items()
                if name.lower() not in {"content-length", "set-cookie"}
            ),
            valid_until=getattr(request, _VALID_UNTIL, None),
            search=search,
            campaign=campaign,
        )
        cache.set(key, entry, SEARCH_TIMEOUT if search else LISTING_TIMEOUT)
        _hold(key, entry)
        _listing_paths.add(request.path)
    else:
        _listing_paths.discard(request.path)
    return response


def _hold(key: str, entry: CachedListing) -> None:
    if key not in _held and len(_held) >= HELD_LIMIT:
        _held.clear()
    _held[key] = entry


def _campaign_pk() -> int | None:
    campaign = active_campaign(clock.now())
    return campaign.pk if campaign else None


def _banner() -> bytes:
    """The campaign banner for this moment (per request: a campaign opens and closes on time)."""
    campaign = active_campaign(clock.now())
    if campaign is None:
        return b""
    html = render_to_string("access/campaign_banner.html", {"active_campaign": campaign})
    return html.encode()


def _response(entry: CachedListing) -> HttpResponse:
    body = _banner().join(entry.parts) if len(entry.parts) > 1 else entry.parts[0]
    response = HttpResponse(body, status=entry.status)
    for name, value in entry.headers:
        response.headers[name] = value
    return response


def forget() -> None:
    """Drop this process's copies (tests)."""
    _held.clear()
    _listing_paths.clear()
