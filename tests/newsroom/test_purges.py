"""Shared-cache purges through Wagtail's frontend cache invalidation, against a local HTTP
endpoint this test starts: the exact URLs each change purges, none for a draft, and a purge
endpoint that is down never fails the publish."""

from __future__ import annotations

import logging
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

import pytest
from wagtail.models import PageViewRestriction

from masthead.access.models import Campaign
from masthead.core import clock
from masthead.metering.models import MeterPolicy
from masthead.newsroom import jobs as newsroom_jobs
from masthead.newsroom.models import AccessLevel, ArticlePage
from tests import factories

pytestmark = pytest.mark.django_db

SITE_WIDE = {"/", "/feeds/rss/", "/feeds/atom/", "/sitemap.xml", "/news-sitemap.xml"}


class PurgeEndpoint:
    """A threading HTTP server on 127.0.0.1 that records every PURGE (Host, path)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_PURGE(self) -> None:
                endpoint.seen.append((self.headers["Host"], self.path))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def paths(self) -> set[str]:
        assert {host for host, _ in self.seen} <= {"localhost"}, self.seen
        return {path for _, path in self.seen}

    def take(self) -> set[str]:
        found = self.paths()
        self.seen.clear()
        return found

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def backend(location: str) -> dict[str, dict[str, object]]:
    return {
        "default": {
            "BACKEND": "masthead.core.cdn.PurgeBackend",
            "LOCATION": location,
            "TIMEOUT": 2,
        }
    }


@pytest.fixture
def endpoint(settings):
    server = PurgeEndpoint()
    settings.WAGTAILFRONTENDCACHE = backend(server.url)
    yield server
    server.stop()


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run the change, then its on-commit callbacks (the purge is queued on commit)."""

    def run(change):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            result = change()
        return result, callbacks

    return run


def article_set(slug: str, section: str = "world", tags=(), authors=("ana-petrova",)) -> set[str]:
    return {
        f"/{section}/{slug}/",
        f"/{section}/{slug}/print/",
        f"/{section}/",
        f"/feeds/{section}/rss/",
        f"/feeds/{section}/atom/",
        *SITE_WIDE,
        *(f"/tags/{tag}/" for tag in tags),
        *(f"/authors/{author}/" for author in authors),
    }


def new_article(on_commit, endpoint, **fields) -> ArticlePage:
    page, _ = on_commit(lambda: factories.article(**fields))
    endpoint.take()
    return page


def test_publishing_purges_the_article_print_home_section_tags_authors_feeds_and_sitemaps(
    endpoint, on_commit
):
    def publish():
        page = factories.article(
            "Harbour reopens", publish=False, authors=["Ana Petrova", "Li Wei"]
        )
        page.tags.add("ports", "shipping")
        page.save_revision().publish()
        return page

    page, _ = on_commit(publish)
    assert endpoint.take() == article_set(
        page.slug, tags=("ports", "shipping"), authors=("ana-petrova", "li-wei")
    )


def test_a_draft_save_purges_nothing(endpoint, on_commit):
    page = new_article(on_commit, endpoint)
    page.title = "A draft headline"
    _, callbacks = on_commit(page.save_revision)
    assert endpoint.seen == []
    assert not [c for c in callbacks if c.__module__ == "masthead.newsroom.purges"]


def test_editing_the_headline_purges_the_article_and_what_lists_it(endpoint, on_commit):
    page = new_article(on_commit, endpoint)
    page.title = "A better headline"
    on_commit(lambda: page.save_revision().publish())
    assert endpoint.take() == article_set(page.slug)


def test_changing_the_slug_purges_the_old_url_too(endpoint, on_commit):
    page = new_article(on_commit, endpoint)
    old = page.slug
    page.slug = "renamed-story"
    on_commit(lambda: page.save_revision().publish())
    assert endpoint.take() == article_set("renamed-story") | article_set(old)


def test_changing_the_access_level_purges_the_article(endpoint, on_commit):
    page = new_article(on_commit, endpoint, access_level=AccessLevel.FREE)
    page.access_level = AccessLevel.SUBSCRIBERS
    on_commit(lambda: page.save_revision().publish())
    assert endpoint.take() == article_set(page.slug)


def test_unpublishing_purges_the_article_and_what_listed_it(endpoint, on_commit):
    page = new_article(on_commit, endpoint)
    page.tags.add("ports")
    page.save()
    endpoint.take()
    on_commit(page.unpublish)
    assert endpoint.take() == article_set(page.slug, tags=("ports",))


def test_moving_purges_the_old_and_the_new_place(endpoint, on_commit):
    page = new_article(on_commit, endpoint)
    business = factories.section("Business")
    old_url = page.url
    on_commit(lambda: page.move(business, pos="last-child"))
    assert old_url == f"/world/{page.slug}/"
    assert endpoint.take() == article_set(page.slug) | article_set(page.slug, section="business")


def test_deleting_purges_the_article_and_what_listed_it(endpoint, on_commit):
    page = new_article(on_commit, endpoint)
    slug = page.slug
    on_commit(lambda: ArticlePage.objects.get(pk=page.pk).delete())
    assert endpoint.take() == article_set(slug)


def test_a_view_restriction_purges_the_article(endpoint, on_commit):
    page = new_article(on_commit, endpoint)
    restriction, _ = on_commit(
        lambda: PageViewRestriction.objects.create(
            page=page, restriction_type=PageViewRestriction.LOGIN
        )
    )
    assert endpoint.take() == article_set(page.slug)
    on_commit(restriction.delete)
    assert endpoint.take() == article_set(page.slug)


def test_a_restriction_on_a_section_purges_every_article_in_it(endpoint, on_commit):
    first = new_article(on_commit, endpoint)
    second = new_article(on_commit, endpoint)
    section = first.get_parent()
    on_commit(
        lambda: PageViewRestriction.objects.create(
            page=section, restriction_type=PageViewRestriction.LOGIN
        )
    )
    assert endpoint.take() == article_set(first.slug) | article_set(second.slug)


def everything(*free_slugs: str) -> set[str]:
    """Every shared page: home, sections (and their feeds), authors, free articles, tags, and
    the machine policy's documents (docs/machines.md)."""
    return {
        *SITE_WIDE,
        "/robots.txt",
        "/machine-access.json",
        "/machine-access/",
        "/world/",
        "/feeds/world/rss/",
        "/feeds/world/atom/",
        "/authors/ana-petrova/",
        *(f"/world/{slug}/" for slug in free_slugs),
        *(f"/world/{slug}/print/" for slug in free_slugs),
        "/tags/ports/",
    }


@pytest.fixture
def two_articles(endpoint, on_commit):
    free = new_article(on_commit, endpoint, access_level=AccessLevel.FREE)
    metered = new_article(on_commit, endpoint)
    free.tags.add("ports")
    free.save()
    return free, metered


def test_a_campaign_saved_purges_every_shared_page_but_never_a_metered_article(
    endpoint, on_commit, two_articles
):
    free, metered = two_articles
    now = clock.now()
    on_commit(
        lambda: Campaign.objects.create(
            name="Relaunch",
            banner_text="Free for everyone today",
            starts_at=now + timedelta(hours=1),
            ends_at=now + timedelta(hours=5),
        )
    )
    purged = endpoint.take()
    assert purged == everything(free.slug)
    assert f"/world/{metered.slug}/" not in purged


def test_a_campaign_starting_and_ending_purges_every_shared_page_once_each(
    endpoint, on_commit, two_articles
):
    free, _ = two_articles
    now = clock.now()
    Campaign.objects.create(
        name="Relaunch",
        banner_text="Free for everyone today",
        starts_at=now + timedelta(minutes=10),
        ends_at=now + timedelta(hours=2),
    )
    endpoint.take()
    assert list(newsroom_jobs.campaign_edges(now)) == []
    starting = list(newsroom_jobs.campaign_edges(now + timedelta(minutes=11)))
    assert [item.key.split(":")[1] for item in starting] == ["start"]
    from masthead.core import jobs

    counts = jobs.run_due_jobs(now + timedelta(minutes=11))
    assert counts["newsroom.campaign_edge_purge"] == 1
    assert endpoint.take() == everything(free.slug)
    counts = jobs.run_due_jobs(now + timedelta(hours=2, minutes=1))
    assert counts["newsroom.campaign_edge_purge"] == 1
    assert endpoint.take() == everything(free.slug)
    # The scheduler enqueues each edge once cluster-wide (its key carries the moment).
    assert (
        jobs.enqueue_due_jobs(now + timedelta(hours=2, minutes=2))["newsroom.campaign_edge_purge"]
        == 1
    )
    endpoint.take()
    assert (
        jobs.enqueue_due_jobs(now + timedelta(hours=2, minutes=3))["newsroom.campaign_edge_purge"]
        == 0
    )
    assert endpoint.seen == []


def test_a_meter_policy_change_purges_every_shared_page(endpoint, on_commit, two_articles):
    free, _ = two_articles
    policy = MeterPolicy.objects.first() or MeterPolicy()

    def change():
        policy.preview_blocks = 1
        policy.save()

    on_commit(change)
    assert endpoint.take() == everything(free.slug)


def test_scheduled_publishing_purges(endpoint, on_commit):
    now = clock.now()

    def schedule():
        page = factories.article("Tomorrow's story", publish=False)
        page.go_live_at = now + timedelta(hours=1)
        page.save_revision(approved_go_live_at=now + timedelta(hours=1))
        return page

    page, _ = on_commit(schedule)
    assert endpoint.take() == set()
    # Wagtail's publish_scheduled compares with django.utils.timezone.now().
    with mock.patch("django.utils.timezone.now", return_value=now + timedelta(hours=2)):
        on_commit(lambda: newsroom_jobs.publish_scheduled(now + timedelta(hours=2)))
    page.refresh_from_db()
    assert page.live
    assert endpoint.take() == article_set(page.slug)


def test_nothing_is_queued_without_a_purge_endpoint(settings, on_commit):
    settings.WAGTAILFRONTENDCACHE = {}
    _, callbacks = on_commit(lambda: factories.article())
    from masthead.newsroom import purges

    assert not purges.enabled()
    assert not [c for c in callbacks if c.__module__ == "masthead.newsroom.purges"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_purge_endpoint_that_is_down_logs_one_line_and_never_fails_the_publish(
    settings, on_commit, caplog
):
    settings.WAGTAILFRONTENDCACHE = backend(f"http://127.0.0.1:{_closed_port()}")
    with caplog.at_level(logging.INFO, logger="masthead.cdn"):
        page, _ = on_commit(lambda: factories.article("Published anyway"))
    page.refresh_from_db()
    assert page.live
    errors = [
        r for r in caplog.records if r.name == "masthead.cdn" and r.levelno >= logging.WARNING
    ]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert "unreachable" in errors[0].getMessage()
    assert f"{len(article_set(page.slug))} URL(s) not purged" in errors[0].getMessage()
