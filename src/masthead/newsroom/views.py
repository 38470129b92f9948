"""Newsroom doors outside the page tree: tags, search, robots.txt, the machine terms, favicon,
news sitemap."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.views.decorators.http import require_safe
from taggit.models import Tag
from wagtail.contrib.sitemaps.views import sitemap as wagtail_sitemap
from wagtail.views import serve as wagtail_serve

from masthead.access.doors import anyone, mark_reader_dependent, mark_shared, screen_of
from masthead.core import clock, generation
from masthead.metering import terms
from masthead.metering.policy import current_policy
from masthead.newsroom import article_view, listing, listing_cache, routes, search
from masthead.newsroom.images import LIST_SPECS, prefetch_images

# Google News only reads articles published in the last two days.
NEWS_SITEMAP_WINDOW = timedelta(days=2)
NEWS_SITEMAP_LIMIT = 1000


# Home, sections and the author index (one path segment or none): Wagtail's page tree, with
# the signed-out readers' shared copy in front (pages that are no listing are never kept).
page_tree = listing_cache.cached(wagtail_serve, listing=False)


def article_fast_path(request: HttpRequest, path: str) -> HttpResponse:
    """Article URLs: from the route table when remembered, otherwise Wagtail as usual. Author
    pages share the shape (`/authors/<slug>/`): a path this process has seen be a listing goes
    to the listings' shared copy first."""
    if request.method in {"GET", "HEAD"}:
        if listing_cache.is_known_listing(request.path):
            hit = listing_cache.serve_signed_out(request)
            if hit is not None:
                return hit
        else:
            found = routes.lookup(request)
            if found is not None:
                page, print_view = found
                request.is_preview = False  # type: ignore[attr-defined]
                return article_view.serve(request, page, print_view=print_view)
            # Not an article the route table knows: perhaps an author page, read under the
            # generation the route table just read (no second read of it).
            generation = getattr(request, routes.REQUEST_GENERATION, None)
            hit = listing_cache.serve_under(request, generation)
            if hit is not None:
                return hit
    return listing_cache.render_and_keep(
        request, lambda: wagtail_serve(request, path), listing=False
    )


@listing_cache.cached
@require_safe
def tag_page(request: HttpRequest, slug: str) -> HttpResponse:
    tag = Tag.objects.filter(slug=slug).first()
    if tag is None:
        raise Http404("No such topic.")
    queryset = listing.articles(screen_of(request)).filter(tagged_items__tag=tag)
    return listing.serve_paginated(request, None, queryset, "newsroom/tag_page.html", {"tag": tag})


@listing_cache.cached
@require_safe
def search_page(request: HttpRequest) -> HttpResponse:
    query = search.clean_query(request.GET.get("q", ""))
    context: dict[str, object] = {"query": query, "items": [], "message": ""}
    if not query:
        return TemplateResponse(request, "newsroom/search.html", context)
    results = search.search_articles(query, request)
    try:
        page = listing.paginate(request, results)
    except listing.BadPageNumber:
        return listing.bad_request(request, "The page number must be a whole number, like ?page=2.")
    items = list(page.object_list)
    prefetch_images([item.hero_image_id for item in items], LIST_SPECS, items)
    search.attach_snippets(items, query, request)
    context.update(listing=page, items=items)
    response = TemplateResponse(request, "newsroom/search.html", context)
    # What a search finds depends on who searches (their subscription, their privacy screen).
    return mark_reader_dependent(response)


def _root(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    """Generated from the machine policy (`metering.terms.robots_txt`), kept in each process
    under the site generation: a policy save bumps it, so every worker shows the new text on
    its next request."""
    root = _root(request)
    text = generation.kept(
        f"newsroom.robots:{root}", lambda: terms.robots_txt(current_policy(), root)
    )
    return mark_shared(HttpResponse(text, content_type="text/plain; charset=utf-8"))


@require_safe
def machine_access_json(request: HttpRequest) -> HttpResponse:
    """The machine-readable terms (signals, licensing contact, what they mean): public."""
    root = _root(request)
    document = generation.kept(
        f"newsroom.machine-terms:{root}", lambda: terms.machine_terms(current_policy(), root)
    )
    response = JsonResponse(document, json_dumps_params={"indent": 2})
    return mark_shared(response)


@require_safe
def machine_access_page(request: HttpRequest) -> HttpResponse:
    """The same terms for people."""
    root = _root(request)
    policy = current_policy()
    document = terms.machine_terms(policy, root)
    signals = [
        (name, value, document["meaning"][name]) for name, value in document["signals"].items()
    ]
    response = TemplateResponse(
        request, "newsroom/machine_access.html", {"terms": document, "signals": signals}
    )
    # The header of a signed-in reader's page shows their account.
    if request.user.is_authenticated:
        return mark_reader_dependent(response)
    return mark_shared(response)


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    return redirect(static("masthead/favicon.svg"), permanent=True)


@listing_cache.cached
@require_safe
def sitemap(request: HttpRequest, sitemaps: dict[str, Any]) -> HttpResponse:
    """The XML sitemap (Wagtail's view): what nobody in particular may see, shared by all."""
    return mark_shared(wagtail_sitemap(request, sitemaps))


@listing_cache.cached
@require_safe
def news_sitemap(request: HttpRequest) -> HttpResponse:
    """Google News sitemap: news of the last two days, headline only.

    Sponsored articles are left out: Google News does not accept paid content.
    """
    since = clock.now() - NEWS_SITEMAP_WINDOW
    recent = listing.articles(anyone()).filter(first_published_at__gte=since, sponsored=False)
    recent = list(recent[:NEWS_SITEMAP_LIMIT])
    if recent:  # the oldest item leaves the window then, with no content change
        oldest = min(item.first_published_at for item in recent)
        listing_cache.valid_until(request, oldest + NEWS_SITEMAP_WINDOW)
    context = {
        "items": recent,
        "publication": settings.SITE_NAME,
        "language": settings.LANGUAGE_CODE.split("-")[0],
    }
    return mark_shared(
        TemplateResponse(
            request, "newsroom/news_sitemap.xml", context, content_type="application/xml"
        )
    )
