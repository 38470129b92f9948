"""Newsroom URLs outside the Wagtail page tree (which serves home, sections and articles)."""

from django.urls import URLPattern, URLResolver, path, re_path

from masthead.newsroom import feeds, listing_cache, views
from masthead.newsroom.sitemaps import SITEMAPS

# Feeds and sitemaps are the same for every reader: built once per content change.
rss = listing_cache.cached(feeds.ArticleFeed())
atom = listing_cache.cached(feeds.AtomArticleFeed())

urlpatterns: list[URLPattern | URLResolver] = [
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("machine-access.json", views.machine_access_json, name="machine_access_json"),
    path("machine-access/", views.machine_access_page, name="machine_access"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("sitemap.xml", views.sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("news-sitemap.xml", views.news_sitemap, name="news_sitemap"),
    path("search/", views.search_page, name="search"),
    path("tags/<slug:slug>/", views.tag_page, name="tag"),
    path("feeds/rss/", rss, name="feed_rss"),
    path("feeds/atom/", atom, name="feed_atom"),
    path("feeds/<slug:section>/rss/", rss, name="section_feed_rss"),
    path("feeds/<slug:section>/atom/", atom, name="section_feed_atom"),
    # /<section>/<article>/ and its print view; anything else there falls through to Wagtail.
    re_path(r"^(?P<path>[-\w]+/[-\w]+/(?:print/)?)$", views.article_fast_path),
    # Home, sections, the author index: signed-out readers' shared copy, else Wagtail.
    re_path(r"^(?P<path>(?:[-\w]+/)?)$", views.page_tree),
]
