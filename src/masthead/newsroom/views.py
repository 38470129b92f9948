"""Newsroom doors outside the page tree: tags, search, robots.txt, favicon, news sitemap."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe
from taggit.models import Tag
from wagtail.views import serve as wagtail_serve

from masthead.access.doors import anyone, mark_reader_dependent, screen_of
from masthead.core import clock
from masthead.newsroom import article_view, listing, routes, search
from masthead.newsroom.images import LIST_SPECS, prefetch_images

# Google News only reads articles published in the last two days.
NEWS_SITEMAP_WINDOW = timedelta(days=2)
NEWS_SITEMAP_LIMIT = 1000


def article_fast_path(request: HttpRequest, path: str) -> HttpResponse:
    """Article URLs: from the route table when remembered, otherwise Wagtail as usual."""
    if request.method in {"GET", "HEAD"}:
        found = routes.lookup(request)
        if found is not None:
            page, print_view = found
            request.is_preview = False  # type: ignore[attr-defined]
            return article_view.serve(request, page, print_view=print_view)
    return wagtail_serve(request, path)


@require_safe
def tag_page(request: HttpRequest, slug: str) -> HttpResponse:
    tag = Tag.objects.filter(slug=slug).first()
    if tag is None:
        raise Http404("No such topic.")
    queryset = listing.articles(screen_of(request)).filter(tagged_items__tag=tag)
    return listing.serve_paginated(request, None, queryset, "newsroom/tag_page.html", {"tag": tag})


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


@require_safe
@cache_control(max_age=3600, public=True)
def robots_txt(request: HttpRequest) -> HttpResponse:
    root = request.build_absolute_uri("/").rstrip("/")
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /django-admin/",
        "Disallow: /accounts/",
        "Disallow: /search/",
        "Disallow: /*/print/$",
        "",
        f"Sitemap: {root}/sitemap.xml",
        f"Sitemap: {root}/news-sitemap.xml",
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    return redirect(static("masthead/favicon.svg"), permanent=True)


@require_safe
@cache_control(max_age=900, public=True)
def news_sitemap(request: HttpRequest) -> HttpResponse:
    """Google News sitemap: news of the last two days, headline only.

    Sponsored articles are left out: Google News does not accept paid content.
    """
    since = clock.now() - NEWS_SITEMAP_WINDOW
    recent = listing.articles(anyone()).filter(first_published_at__gte=since, sponsored=False)
    recent = recent[:NEWS_SITEMAP_LIMIT]
    context = {
        "items": recent,
        "publication": settings.SITE_NAME,
        "language": settings.LANGUAGE_CODE.split("-")[0],
    }
    return TemplateResponse(
        request, "newsroom/news_sitemap.xml", context, content_type="application/xml"
    )
