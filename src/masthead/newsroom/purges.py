"""What a change makes stale in a shared cache, purged through Wagtail's frontend cache.

An article's change (publish, unpublish, move, delete, a view restriction) reaches every page
that shows it to signed-out readers: the article and its print view, the home page, its
section, its tags' and authors' pages, the feeds (site and section, RSS and Atom) and the
sitemaps. A change every free page shows (a campaign's banner starting or ending, the meter
policy) reaches every shared page: `everything()`.

URLs are gathered while the change is made (the rows are still there for a delete), and
purged after the transaction commits, through the job queue (`purge_urls`, a background
task that calls Wagtail's `purge_urls_from_cache_task`), never inside the request's
transaction. With no purge endpoint configured (`MASTHEAD_PURGE_URL` unset) nothing is
queued. A queue or endpoint that is down logs one line and never fails the change.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from masthead.core.tasks import background_task

log = logging.getLogger("masthead.cdn")

# Site-wide pages every article change reaches (besides its own and its section's).
SITE_PATHS = (
    "/",
    "/feeds/rss/",
    "/feeds/atom/",
    "/sitemap.xml",
    "/news-sitemap.xml",
)
# The machine policy's documents: they change with the policy only (whose save purges
# everything), never with a publish.
MACHINE_PATHS = ("/robots.txt", "/machine-access.json", "/machine-access/")


def root_and_path(page: Any) -> tuple[str, str] | None:
    parts = page.get_url_parts()
    if not parts or parts[2] is None:
        return None
    return parts[1].rstrip("/"), parts[2]


def site_urls(root: str) -> set[str]:
    return {f"{root}{path}" for path in SITE_PATHS}


def section_urls(root: str, section: Any) -> set[str]:
    found = root_and_path(section)
    urls = {f"{found[0]}{found[1]}"} if found else set()
    for name in ("section_feed_rss", "section_feed_atom"):
        urls.add(root + reverse(name, kwargs={"section": section.slug}))
    return urls


def article_urls(article: Any, *, path: str | None = None, section: Any = None) -> set[str]:
    """Every shared page showing `article`: itself (at `path` when given: where it was),
    its print view, home, its section (`section` when given), tags, authors, feeds, sitemaps."""
    found = root_and_path(article)
    if found is None:
        return set()
    root, own = found
    own = path or own
    urls = {f"{root}{own}", f"{root}{own}print/", *site_urls(root)}
    section = section or article.get_parent()
    if section is not None:
        urls |= section_urls(root, section.specific)
    for tag in article.tags.all():
        urls.add(root + reverse("tag", kwargs={"slug": tag.slug}))
    for byline in article.bylines.all():
        author = root_and_path(byline.author)
        if author:
            urls.add(f"{author[0]}{author[1]}")
    return urls


def page_urls(page: Any) -> set[str]:
    """The shared pages a change to `page` reaches (an article, or any other page)."""
    from masthead.newsroom.models import ArticlePage, SectionPage

    page = page.specific
    if isinstance(page, ArticlePage):
        return article_urls(page)
    found = root_and_path(page)
    if found is None:
        return set()
    root, path = found
    urls = {f"{root}{path}", *site_urls(root)}
    if isinstance(page, SectionPage):
        urls |= section_urls(root, page)
    return urls


def revision_urls(revision: Any) -> set[str]:
    """What the article looked like at `revision` (its tags, authors, slug, section)."""
    try:
        return page_urls(revision.as_object())
    except Exception:  # an old revision that no longer loads: the current URLs still go
        log.warning("could not read revision %s for purging", getattr(revision, "pk", None))
        return set()


def restricted_urls(page: Any) -> set[str]:
    """A view restriction on `page` changes it and every article under it."""
    from masthead.newsroom.models import ArticlePage

    urls = page_urls(page)
    for article in ArticlePage.objects.live().descendant_of(page):
        urls |= article_urls(article)
    return urls


def everything() -> set[str]:
    """Every page a shared cache may hold: free articles, listings, feeds, sitemaps."""
    from taggit.models import Tag

    from masthead.access.decision import is_free_for_everyone
    from masthead.newsroom.models import ArticlePage, AuthorPage, HomePage, SectionPage

    urls: set[str] = set()
    roots: set[str] = set()
    for model in (HomePage, SectionPage, AuthorPage):
        for page in model.objects.live():
            urls |= page_urls(page)
            if found := root_and_path(page):
                roots.add(found[0])
    for article in ArticlePage.objects.live().defer_streamfields():
        if is_free_for_everyone(article) and (found := root_and_path(article)):
            urls |= {f"{found[0]}{found[1]}", f"{found[0]}{found[1]}print/"}
    for root in roots:
        urls |= site_urls(root)
        urls |= {f"{root}{path}" for path in MACHINE_PATHS}
        for slug in (
            Tag.objects.filter(newsroom_articletag_items__isnull=False)
            .values_list("slug", flat=True)
            .distinct()
        ):
            urls.add(root + reverse("tag", kwargs={"slug": slug}))
    return urls


def enabled() -> bool:
    return bool(getattr(settings, "WAGTAILFRONTENDCACHE", None))


def after_commit(urls: Iterable[str]) -> None:
    """Purge `urls` once the current transaction commits (at once outside one)."""
    if not enabled():
        return
    urls = sorted(set(urls))
    if urls:
        transaction.on_commit(lambda: _enqueue(urls))


def after_commit_everything() -> None:
    """Purge every shared page once the transaction commits; the worker works out which."""
    if enabled():
        transaction.on_commit(lambda: _enqueue(None))


def _enqueue(urls: list[str] | None) -> None:
    try:
        if urls is None:
            purge_everything.enqueue()
        else:
            purge_urls.enqueue(urls)
    except Exception as error:  # the queue is down: the change is made, the caches expire
        log.error("could not queue a purge (%s URL(s)): %s", len(urls or ()) or "all", error)


@background_task(attempts=1)
def purge_everything() -> int:
    """Every shared page (`everything()`), worked out in the worker, not in the request."""
    return int(purge_urls.call(sorted(everything())))


@background_task(attempts=1)
def purge_urls(urls: list[str]) -> int:
    """Purge `urls` through Wagtail's frontend cache invalidation (its backends, hostnames and
    languages); the endpoint being down is one log line (`core.cdn.PurgeBackend`)."""
    from wagtail.contrib.frontend_cache.tasks import purge_urls_from_cache_task

    purge_urls_from_cache_task.call(list(urls))
    return len(urls)
