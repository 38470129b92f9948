"""Lists of articles (home, sections, authors, tags): headline and standfirst only, never body.

Which articles a list may name is the access decision's first rule: `articles(screen)` leaves
out what the reader's privacy screen hides (unpublished pages, pages under a view restriction
they have not passed). A list that names a restricted page the reader passed is theirs alone
and is sent `private`.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import EmptyPage, Page, Paginator
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from wagtail.query import PageQuerySet

from masthead.access.doors import mark_reader_dependent, mark_shared, screen_of
from masthead.access.privacy import Screen
from masthead.newsroom.images import LIST_SPECS, prefetch_images

PER_PAGE = 12
# A page number longer than this cannot be a real page; refusing early keeps int() cheap.
MAX_PAGE_DIGITS = 6
LATEST_PER_SECTION = 4


class BadPageNumber(ValueError):
    """A ?page= value that is not a positive whole number."""


def articles(screen: Screen) -> PageQuerySet:
    """Live articles this screen lets through, newest first, with what a list shows fetched."""
    from masthead.newsroom.models import ArticleByline, ArticlePage

    return (
        screen.readable(ArticlePage.objects.live())
        .select_related("sponsor")
        .prefetch_related(
            Prefetch("bylines", queryset=ArticleByline.objects.select_related("author"))
        )
        .defer("body", "body_text")
        .order_by("-first_published_at", "-pk")
    )


def page_number(request: HttpRequest) -> int:
    """The requested page: 1 when absent; BadPageNumber when malformed."""
    return parse_page_number(request.GET.get("page", ""))


def parse_page_number(raw: str) -> int:
    """A ?page= value as a page number: 1 when empty; BadPageNumber when malformed, Http404
    when no list can have that page."""
    raw = raw.strip() or "1"
    if not (raw.isascii() and raw.isdigit()):
        raise BadPageNumber(raw)
    if len(raw) > MAX_PAGE_DIGITS or int(raw) < 1:
        raise Http404("No such page of articles.")
    return int(raw)


def paginate(request: HttpRequest, queryset: QuerySet) -> Page:
    """One page of a list; Http404 past the end, BadPageNumber for garbage."""
    number = page_number(request)
    try:
        return Paginator(queryset, PER_PAGE).page(number)
    except EmptyPage as exc:
        if number == 1:
            return Paginator(queryset, PER_PAGE).page(1)
        raise Http404("No such page of articles.") from exc


def bad_request(request: HttpRequest, message: str) -> HttpResponse:
    return TemplateResponse(request, "400.html", {"message": message}, status=400)


def serve_paginated(
    request: HttpRequest,
    page: Any,
    queryset: QuerySet,
    template: str,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    try:
        listing = paginate(request, queryset)
    except BadPageNumber:
        return bad_request(request, "The page number must be a whole number, like ?page=2.")
    items = list(listing.object_list)
    prefetch_images([item.hero_image_id for item in items], LIST_SPECS, items)
    context = {"page": page, "self": page, "listing": listing, "items": items, **(extra or {})}
    return personal(request, TemplateResponse(request, template, context))


def personal(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Mark a list that let a restricted page through as this reader's own; any other list is
    the same for every reader like this one: shared caches may keep it (a signed-in reader's
    page is made private on the way out, since its header shows their account), and so may
    `listing_cache`."""
    from masthead.newsroom import listing_cache

    if screen_of(request).personal:
        return mark_reader_dependent(response)
    listing_cache.mark_shared(request)
    return mark_shared(response)


def front_page(home: Any, request: HttpRequest) -> dict[str, Any]:
    """The top story, then the latest articles of each section (no article twice)."""
    from masthead.newsroom.models import SectionPage

    screen = screen_of(request)
    top = None
    if home.top_story_id:
        top = articles(screen).filter(pk=home.top_story_id).first()
    if top is None:
        top = articles(screen).descendant_of(home).first()
    shown = {top.pk} if top else set()
    sections = []
    for section in screen.readable(SectionPage.objects.live().child_of(home)):
        latest = list(
            articles(screen).descendant_of(section).exclude(pk__in=shown)[:LATEST_PER_SECTION]
        )
        shown.update(item.pk for item in latest)
        if latest:
            sections.append({"section": section, "items": latest})
    shown_items = [top] if top else []
    for group in sections:
        shown_items.extend(group["items"])
    prefetch_images([item.hero_image_id for item in shown_items], LIST_SPECS, shown_items)
    return {"top_story": top, "sections": sections}
