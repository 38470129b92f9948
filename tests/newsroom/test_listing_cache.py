"""Listing pages for signed-out readers are built once per content change, not per request
(docs/decisions/0024): a fixed number of queries to build whatever the number of articles,
authors and images; none on a warm cache (one primary-key read of the site generation on the
embedded default); one shared-store read; every change shows on the next request; signed-in
and restricted-screen readers keep their own list."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from wagtail.models import PageViewRestriction

from masthead.access.models import Campaign
from masthead.core import clock
from masthead.core import generation as site_generation
from masthead.newsroom import listing_cache
from masthead.newsroom.models import AccessLevel, ArticlePage, AuthorPage
from tests import factories
from tests.newsroom.test_article_caching import CacheReads

PAGES = [
    "/",
    "/world/",
    "/tags/harbours/",
    "/authors/ana-petrova/",
    "/search/?q=harbour",
    "/feeds/rss/",
    "/feeds/atom/",
    "/feeds/world/rss/",
    "/feeds/world/atom/",
    "/sitemap.xml",
    "/news-sitemap.xml",
]
# Warm: no SQL with Redis; on the embedded default the generation is one primary-key query.
WARM_QUERIES = 0 if settings.REDIS_URL else 1


@pytest.fixture(autouse=True)
def steady_generation(monkeypatch):
    """Counts must not depend on timing (the policy and campaigns reuse the last read for
    0.5 s): the process's last read is kept for the whole test (bumps still clear it)."""
    monkeypatch.setattr(site_generation, "RECENT_SECONDS", 3600.0)
    site_generation.forget()


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    """The search rate limit's counter (one INCR with Redis; an insert or an update in the
    database without) is counted by its own tests (tests/ops/test_rate_limits.py); here it
    would make the search page's count depend on whether the request opened a window."""
    settings.RATE_LIMITS = {name: "off" for name in settings.RATE_LIMITS}


def newsroom(count: int, make_image, start: int = 0) -> list[ArticlePage]:
    """`count` articles in World, every one with a hero image, two bylines and a tag, every
    third one free with an image in its body (so feeds carry its full text)."""
    made = []
    for n in range(start, start + count):
        free = n % 3 == 0
        body = [("paragraph", f"<p>Harbour report {n}, first paragraph.</p>")]
        if free:
            body.append(
                ("image", {"image": make_image(f"Body {n}"), "caption": f"Quay {n}", "credit": ""})
            )
        page = factories.article(
            f"Harbour story {n}",
            access_level=AccessLevel.FREE if free else AccessLevel.METERED,
            hero_image=make_image(f"Hero {n}"),
            body=body,
            authors=["Ana Petrova", f"Writer {n}"],
        )
        page.tags.add("harbours")
        page.save_revision().publish()
        made.append(page)
    return made


def cold(client, url: str) -> int:
    cache.clear()
    listing_cache.forget()
    site_generation.forget()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def queries_of(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


# Cold (built): the generation and Wagtail's routing where the page tree serves it, then what
# each list reads in a fixed number of queries (articles, bylines, sponsors, images with their
# renditions, the sections bar, the restrictions). Exact, and the same for 3 or 20 articles.
# Plus the institutions' networks, read once per process and generation (a reader inside one
# is never served the shared copy: decision 0036). Search decides each result's lock, so it
# also reads the running split tests, once per process and generation (decision 0033).
_COLD_ON_THE_EMBEDDED_DEFAULT = {
    "/": 16,
    "/world/": 16,
    "/tags/harbours/": 11,
    "/authors/ana-petrova/": 17,
    "/search/?q=harbour": 15,
    "/feeds/rss/": 6,
    "/feeds/atom/": 6,
    "/feeds/world/rss/": 8,
    "/feeds/world/atom/": 8,
    "/sitemap.xml": 12,
    "/news-sitemap.xml": 6,
}
# With Redis (PostgreSQL): the generation is no query, but emptying Redis starts a new
# generation, so the meter policy, the campaigns and (where a door decides: search, feeds) the
# running split tests are read again (as after any publish).
_COLD_WITH_REDIS = {
    "/": 17,
    "/world/": 17,
    "/tags/harbours/": 12,
    "/authors/ana-petrova/": 19,
    "/search/?q=harbour": 16,
    "/feeds/rss/": 9,
    "/feeds/atom/": 9,
    "/feeds/world/rss/": 11,
    "/feeds/world/atom/": 11,
    "/sitemap.xml": 12,
    "/news-sitemap.xml": 6,
}
COLD_QUERIES = _COLD_WITH_REDIS if settings.REDIS_URL else _COLD_ON_THE_EMBEDDED_DEFAULT


@pytest.mark.django_db
def test_every_listing_costs_a_fixed_number_of_queries_to_build_and_none_when_warm(
    client, make_image
):
    newsroom(3, make_image)
    client.get("/")  # Wagtail's site root paths, as any running server has them
    small = {url: cold(client, url) for url in PAGES}
    newsroom(17, make_image, start=3)
    client.get("/")
    big = {url: cold(client, url) for url in PAGES}
    assert small == big
    assert big == COLD_QUERIES, repr(sorted(big.items()))
    for url in PAGES:
        client.get(url)
        assert queries_of(client, url) == WARM_QUERIES, url


@pytest.mark.django_db
@pytest.mark.parametrize("url", PAGES)
def test_a_warm_listing_is_one_read_of_the_shared_store(client, make_image, monkeypatch, url):
    newsroom(2, make_image)
    first = client.get(url).content
    reads = CacheReads(monkeypatch)
    commands: list[str] = []
    execute = redis.Redis.execute_command

    def counted(self, *args, **options):
        commands.append(str(args[0]).upper())
        return execute(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", counted)
    # Another process (its own copies empty) reads the page along with the generation; an
    # author page, shaped like an article's URL, after the route table's read.
    listing_cache.forget()
    assert client.get(url).content == first
    author = url.startswith("/authors/")
    assert reads.calls == (["read", "get"] if author else ["read"])
    assert commands == ((["MGET", "GET"] if author else ["MGET"]) if settings.REDIS_URL else [])
    # This process now holds the page: the generation alone.
    del reads.calls[:], commands[:]
    assert client.get(url).content == first
    assert reads.calls == ["read"]
    assert commands == (["MGET"] if settings.REDIS_URL else [])


@pytest.mark.django_db
def test_the_shared_copy_is_read_with_the_generation_or_the_generation_alone(client, monkeypatch):
    factories.article("Harbour fees")
    client.get("/world/")
    asked: list[list[str]] = []
    original = site_generation.read
    monkeypatch.setattr(
        site_generation, "read", lambda keys=(): asked.append(list(keys)) or original(keys)
    )
    listing_cache.forget()
    client.get("/world/")
    client.get("/world/")
    assert len(asked) == 2
    assert len(asked[0]) == 1 and asked[0][0].startswith(listing_cache.KEY_PREFIX)
    assert asked[1] == []


# --- every change shows on the next signed-out request -----------------------------------

LISTS = ["/", "/world/", "/tags/harbours/", "/authors/ana-petrova/", "/feeds/rss/", "/sitemap.xml"]


def warm(client, urls=LISTS) -> None:
    for url in urls:
        for _ in range(2):
            assert client.get(url).status_code == 200, url


def tagged(title: str, **fields) -> ArticlePage:
    page = factories.article(title, **fields)
    page.tags.add("harbours")
    page.save_revision().publish()
    return page


@pytest.mark.django_db
def test_publishing_shows_on_every_list_at_the_next_request(client):
    tagged("Harbour fees rise")
    warm(client)
    newer = factories.article("Ferry strike called", publish=False)
    newer.tags.add("harbours")
    newer.save_revision().publish()
    for url in LISTS:
        assert "Ferry strike called" in client.get(url).content.decode() or (
            url == "/sitemap.xml" and newer.slug in client.get(url).content.decode()
        ), url


@pytest.mark.django_db
def test_unpublishing_removes_it_from_every_list_at_the_next_request(client):
    tagged("Harbour fees rise")
    gone = tagged("Retracted harbour story")
    warm(client)
    gone.unpublish()
    for url in LISTS:
        html = client.get(url).content.decode()
        assert "Retracted harbour story" not in html and gone.slug not in html, url


@pytest.mark.django_db
def test_a_headline_edit_shows_at_the_next_request(client):
    page = tagged("Harbour fees rise", standfirst="Quay dues climb again.")
    warm(client)
    page.title = "Harbour fees double"
    page.save_revision().publish()
    for url in LISTS[:-1]:
        html = client.get(url).content.decode()
        assert "Harbour fees double" in html and "Harbour fees rise" not in html, url


@pytest.mark.django_db
def test_moving_an_article_moves_it_between_section_pages_and_feeds(client):
    page = tagged("Harbour fees rise")
    factories.article("Markets calm", section_title="Business")
    urls = ["/world/", "/business/", "/feeds/world/rss/", "/feeds/business/rss/"]
    warm(client, urls)
    page.move(factories.section("Business"), pos="last-child")
    assert "Harbour fees rise" not in client.get("/world/").content.decode()
    assert "Harbour fees rise" in client.get("/business/").content.decode()
    assert "Harbour fees rise" not in client.get("/feeds/world/rss/").content.decode()
    assert "Harbour fees rise" in client.get("/feeds/business/rss/").content.decode()


@pytest.mark.django_db
def test_changing_the_access_level_shows_in_lists_and_feeds_at_the_next_request(client):
    page = tagged(
        "Open harbour notice",
        access_level=AccessLevel.FREE,
        body=[("paragraph", "<p>The whole notice text.</p>")],
    )
    warm(client, ["/world/", "/feeds/rss/"])
    assert "The whole notice text." in client.get("/feeds/rss/").content.decode()
    assert '<span class="badge">Subscribers</span>' not in client.get("/world/").content.decode()
    page.access_level = AccessLevel.SUBSCRIBERS
    page.save_revision().publish()
    assert '<span class="badge">Subscribers</span>' in client.get("/world/").content.decode()
    assert "The whole notice text." not in client.get("/feeds/rss/").content.decode()


@pytest.mark.django_db
def test_a_campaign_banner_appears_and_goes_on_time_with_no_rebuild(client, monkeypatch):
    tagged("Harbour fees rise")
    now = clock.now()
    Campaign.objects.create(
        name="Open week",
        banner_text="Everything is free this week",
        starts_at=now + timedelta(hours=1),
        ends_at=now + timedelta(hours=2),
    )
    urls = ["/", "/world/", "/tags/harbours/", "/authors/ana-petrova/", "/search/?q=harbour"]
    warm(client, urls)
    for url in urls:
        assert "Everything is free this week" not in client.get(url).content.decode()
    monkeypatch.setattr("masthead.core.clock.now", lambda: now + timedelta(hours=1, minutes=1))
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            html = client.get(url).content.decode()
        assert html.count("Everything is free this week") == 1, url
        assert "masthead-slot" not in html
        if url != "/search/?q=harbour":  # search results are per campaign: rebuilt once
            assert len(queries) == WARM_QUERIES, url
    monkeypatch.setattr("masthead.core.clock.now", lambda: now + timedelta(hours=3))
    for url in urls:
        assert "Everything is free this week" not in client.get(url).content.decode()


@pytest.mark.django_db
def test_a_campaign_saved_shows_at_the_next_request(client):
    tagged("Harbour fees rise")
    warm(client, ["/", "/world/"])
    now = clock.now()
    Campaign.objects.create(
        name="Open day",
        banner_text="Read everything today",
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(hours=1),
    )
    for url in ["/", "/world/"]:
        assert "Read everything today" in client.get(url).content.decode()


@pytest.mark.django_db
def test_the_news_sitemap_drops_an_item_when_it_leaves_the_window(client, monkeypatch):
    tagged("Harbour fees rise")
    warm(client, ["/news-sitemap.xml"])
    assert "Harbour fees rise" in client.get("/news-sitemap.xml").content.decode()
    later = clock.now() + timedelta(days=3)
    monkeypatch.setattr("masthead.core.clock.now", lambda: later)
    assert "Harbour fees rise" not in client.get("/news-sitemap.xml").content.decode()


# --- pagination and bad input behave as before --------------------------------------------


@pytest.mark.django_db
def test_pages_of_a_list_are_kept_apart_and_bad_numbers_answer_as_before(client):
    for n in range(14):
        tagged(f"Harbour story {n}")
    for _ in range(2):
        first = client.get("/world/").content.decode()
        second = client.get("/world/?page=2").content.decode()
        assert "Harbour story 13" in first and "Harbour story 0" not in first
        assert "Harbour story 0" in second and "Harbour story 13" not in second
        assert client.get("/world/?page=1").content.decode() == first
        assert client.get("/world/?page=abc").status_code == 400
        assert client.get("/world/?page=0").status_code == 404
        assert client.get("/world/?page=3").status_code == 404
        assert client.get("/tags/harbours/?page=3").status_code == 404
        assert client.get("/search/?q=harbour&page=x").status_code == 400
        assert client.get("/feeds/rss/?limit=0").status_code == 400
        assert client.get("/tags/no-such-topic/").status_code == 404
        assert client.get("/no-such-section/").status_code == 404


@pytest.mark.django_db
def test_urls_with_parameters_a_page_does_not_read_are_served_uncached_as_before(client):
    tagged("Harbour fees rise")
    for _ in range(2):
        html = client.get("/world/?utm_source=aggregator").content.decode()
        assert "Harbour fees rise" in html
    assert not [key for key in listing_cache._held if "utm" in key]
    assert listing_cache._key(RequestFactory().get("/world/?utm_source=x")) is None
    assert listing_cache._key(RequestFactory().get("/world/?page=2&page=3")) is None
    assert listing_cache._key(RequestFactory().get("/search/?q=a%22b")) is None
    assert listing_cache._key(RequestFactory().get("/search/?q=a&page=6")) is None
    assert listing_cache._key(RequestFactory().get("/world/some-article/print/")) is None
    assert listing_cache._key(RequestFactory().post("/world/")) is None
    # The home page and the news sitemap read no parameter: one copy whatever comes.
    home = listing_cache._key(RequestFactory().get("/"))
    assert home is not None and home == listing_cache._key(RequestFactory().get("/?utm_x=1"))


@pytest.mark.django_db
def test_search_results_are_kept_briefly_per_query_and_page(client, monkeypatch):
    tagged("Harbour fees rise")
    kept: list[int] = []
    original = cache.set

    def keeping(key, value, timeout=None, **kw):
        if key.startswith(listing_cache.KEY_PREFIX):
            kept.append(timeout)
        return original(key, value, timeout, **kw)

    monkeypatch.setattr(cache, "set", keeping)
    client.get("/search/?q=harbour")
    client.get("/search/?q=ferry")
    client.get("/world/")
    assert kept[:2] == [listing_cache.SEARCH_TIMEOUT] * 2
    assert listing_cache.SEARCH_TIMEOUT <= 60
    assert kept[2] == listing_cache.LISTING_TIMEOUT
    assert "1 result" in client.get("/search/?q=harbour").content.decode()
    assert "No articles found for “ferry”" in client.get("/search/?q=ferry").content.decode()


# --- signed-in and restricted-screen readers keep their own list ----------------------------


@pytest.mark.django_db
def test_a_signed_in_reader_gets_their_own_list_and_never_the_shared_copy(client):
    tagged("Harbour fees rise")
    warm(client, ["/", "/world/", "/search/?q=harbour"])
    reader = factories.user()
    client.force_login(reader)
    for url in ["/", "/world/", "/search/?q=harbour"]:
        response = client.get(url)
        html = response.content.decode()
        assert "Your account" in html and "csrfmiddlewaretoken" in html, url
        assert "private" in response["Cache-Control"] and "Cookie" in response["Vary"]
    # Nothing they were shown was kept for anyone else.
    client.logout()
    for url in ["/", "/world/"]:
        html = client.get(url).content.decode()
        assert "Your account" not in html and "csrfmiddlewaretoken" not in html
        assert "Sign in</a>" in html


def restricted_article(kind: str) -> tuple[ArticlePage, PageViewRestriction]:
    page = tagged("Embargoed harbour results", access_level=AccessLevel.FREE)
    restriction = PageViewRestriction.objects.create(
        page=page, restriction_type=kind, password="letmein" if kind == "password" else ""
    )
    return page, restriction


@pytest.mark.django_db
def test_a_reader_who_passed_a_password_restriction_gets_a_private_list_never_shared(client):
    tagged("Harbour fees rise")
    _page, restriction = restricted_article("password")
    urls = ["/", "/world/", "/tags/harbours/", "/authors/ana-petrova/"]
    warm(client, urls)
    passed = type(client)()
    session = passed.session
    session["passed_page_view_restrictions"] = [restriction.pk]
    session.save()
    passed.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    for url in urls:
        response = passed.get(url)
        assert "Embargoed harbour results" in response.content.decode(), url
        assert "private" in response["Cache-Control"], url
    for url in urls:
        html = client.get(url).content.decode()
        assert "Embargoed harbour results" not in html, url
        assert "Harbour fees rise" in html, url


@pytest.mark.django_db
def test_a_login_restricted_article_is_in_no_shared_list_but_in_a_signed_in_one(client):
    tagged("Harbour fees rise")
    restricted_article("login")
    warm(client, LISTS)
    client.force_login(factories.user())
    assert "Embargoed harbour results" in client.get("/world/").content.decode()
    client.logout()
    for url in LISTS:
        assert "Embargoed harbour results" not in client.get(url).content.decode(), url


# --- the entry point a WSGI fast path calls -------------------------------------------------


@pytest.mark.django_db
def test_serve_signed_out_serves_before_the_middleware_and_falls_through_otherwise(client):
    tagged("Harbour fees rise")
    html = client.get("/world/").content
    factory = RequestFactory()
    # A fast path in front of Django's middleware activates the reader's language itself.
    with translation.override("en"):
        served = listing_cache.serve_signed_out(factory.get("/world/"))
    assert served is not None and served.status_code == 200
    assert served.content == html
    assert served["Content-Type"] == "text/html; charset=utf-8"
    with_session = factory.get("/world/")
    with_session.COOKIES[settings.SESSION_COOKIE_NAME] = "something"
    assert listing_cache.serve_signed_out(with_session) is None
    assert listing_cache.serve_signed_out(factory.get("/world/harbour-x/print/")) is None
    assert listing_cache.serve_signed_out(factory.get("/offers/")) is None  # never built
    assert listing_cache.serve_signed_out(factory.post("/world/")) is None


@pytest.mark.django_db
def test_an_author_page_and_an_article_at_the_same_depth_stay_apart(client):
    page = tagged("Harbour fees rise", access_level=AccessLevel.FREE)
    author = AuthorPage.objects.get(title="Ana Petrova")
    for _ in range(3):
        assert "Articles by Ana Petrova" in client.get(author.url).content.decode()
        article = client.get(page.url).content.decode()
        assert '<h1 class="article-headline">Harbour fees rise</h1>' in article
    assert listing_cache.is_known_listing(author.url)
    assert not listing_cache.is_known_listing(page.url)


@pytest.mark.django_db
def test_only_a_clean_200_for_nobody_in_particular_is_kept():
    from django.http import HttpResponse
    from django.middleware.csrf import get_token

    factory = RequestFactory()

    def attempt(view) -> HttpResponse:
        request = factory.get("/world/")
        assert listing_cache.serve_signed_out(request) is None
        return listing_cache.render_and_keep(request, lambda: view(request))

    def with_cookie(request):
        response = HttpResponse("a cookie")
        response.set_cookie("reader", "someone")
        return response

    def with_token(request):
        return HttpResponse(f"a form with {get_token(request)}")

    for view in (
        with_cookie,
        with_token,
        lambda request: HttpResponse("not found", status=404),
        lambda request: HttpResponse("bad page", status=400),
    ):
        attempt(view)
        assert not listing_cache._held
    assert attempt(lambda request: HttpResponse("fine")).content == b"fine"
    assert [entry.parts for entry in listing_cache._held.values()] == [(b"fine",)]
