"""The Cache-Control matrix: page x reader -> the exact Cache-Control and Vary each response
carries. Public (shared-cache) values only where the page is the same for every signed-out
reader; private, no-store wherever it depends on the reader (docs/decisions/0026)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from masthead.accounts.actions import issue_app_token
from masthead.core import clock
from masthead.newsroom.models import AccessLevel, Sponsor
from masthead.subscriptions import actions
from tests import factories
from tests.subscriptions.conftest import card, make_catalog

pytestmark = pytest.mark.django_db

PUBLIC = "public, max-age=60, s-maxage=300, stale-while-revalidate=60"
PRIVATE = "private, no-store"
NONE = ""

READERS = ("fresh", "meter cookie", "registered", "subscriber", "staff")


@pytest.fixture
def world(settings):
    cache.clear()
    settings.CACHE_MAX_AGE, settings.CACHE_S_MAXAGE, settings.CACHE_STALE_WHILE_REVALIDATE = (
        60,
        300,
        60,
    )
    catalog = make_catalog()
    free = factories.article("Open notice", access_level=AccessLevel.FREE)
    free.tags.add("notices")
    free.save_revision().publish()
    metered = factories.article("Metered notice")
    sponsor = Sponsor.objects.create(name="Acme", disclosure="Commissioned by Acme.")
    sponsored = factories.article("Sponsored notice", sponsored=True, sponsor=sponsor)
    subscriber = factories.user("subscriber@example.com")
    now = clock.now()
    actions.subscribe(subscriber, plan=catalog.monthly, card=card(subscriber, now=now), now=now)
    return {
        "pages": {
            "free article": free.url,
            "metered article": metered.url,
            "sponsored article": sponsored.url,
            "home": "/",
            "section": free.get_parent().url,
            "tag": "/tags/notices/",
            "author": "/authors/ana-petrova/",
            "feed": "/feeds/rss/",
            "sitemap": "/sitemap.xml",
            "news sitemap": "/news-sitemap.xml",
            "robots": "/robots.txt",
            "search": "/search/?q=notice",
            "offers": "/offers/",
            "account": "/accounts/",
            "checkout": f"/checkout/offer/{catalog.one_month.code}/",
            "api list": "/api/v1/articles",
            "api detail": f"/api/v1/articles/{free.pk}",
        },
        "metered": metered.url,
        "users": {
            "registered": factories.user("registered@example.com"),
            "subscriber": subscriber,
            "staff": factories.user("staff@example.com", staff=True),
        },
    }


def _client(world, reader):
    client = Client()
    if reader == "meter cookie":
        client.get(world["metered"])  # a metered read issues the reader cookie ...
        assert "mh_reader" in client.cookies
        client.get("/robots.txt")  # ... rewritten once (settled) on the next request
    elif reader in world["users"]:
        client.force_login(world["users"][reader])
    return client


def _get(world, reader, page):
    client = _client(world, reader)
    headers = {}
    if page.startswith("api") and reader in world["users"]:
        # The API signs in by token only: a signed-in reader's app sends theirs.
        _, raw = issue_app_token(world["users"][reader], name="Phone", now=clock.now())
        headers["Authorization"] = f"Bearer {raw}"
    return client.get(world["pages"][page], headers=headers)


SIGNED_IN = ("registered", "subscriber", "staff")
NEVER_CACHED = "no-cache, no-store, must-revalidate, private"  # allauth's account pages


def row(signed_out: str, signed_in: str = PRIVATE) -> dict[str, str]:
    return {
        "fresh": signed_out,
        "meter cookie": signed_out,
        **dict.fromkeys(SIGNED_IN, signed_in),
    }


# page: reader -> the exact Cache-Control
EXPECTED_CACHE_CONTROL = {
    # The same for every signed-out reader: shared caches may keep them.
    "free article": row(PUBLIC),
    "sponsored article": row(PUBLIC),
    "home": row(PUBLIC),
    "section": row(PUBLIC),
    "tag": row(PUBLIC),
    "author": row(PUBLIC),
    "feed": row(PUBLIC),
    "sitemap": row(PUBLIC),
    "news sitemap": row(PUBLIC),
    "robots": row(PUBLIC),
    # The decision depends on the reader (the meter): never shared, even for a fresh reader.
    "metered article": row(PRIVATE),
    # What a search finds depends on who searches.
    "search": row(PRIVATE),
    # Offers carry no caching of their own for a signed-out reader (not in the shared set).
    "offers": row(NONE),
    "account": row(NEVER_CACHED, NEVER_CACHED),
    "checkout": row(PRIVATE),
    # The list is the same for everyone, but a request with a token is never made public.
    "api list": row(PUBLIC),
    # The body is cut by the decision for this client.
    "api detail": row(PRIVATE),
}

SHARED_VARY = {"Accept-Language", "Cookie", "Accept-Encoding"}
API_PRIVATE_VARY = SHARED_VARY | {"Authorization"}


def expected_vary(page: str, reader: str, status: int) -> set[str]:
    if page == "api detail" or (page == "api list" and reader in SIGNED_IN):
        return API_PRIVATE_VARY
    if status == 302:  # the sign-in redirect is too short to be compressed
        return {"Accept-Language", "Cookie"}
    return SHARED_VARY


def tokens(value: str) -> set[str]:
    return {token.strip() for token in value.split(",") if token.strip()}


@pytest.mark.parametrize("page", sorted(EXPECTED_CACHE_CONTROL))
def test_cache_control_matrix(world, page):
    found, vary, statuses = {}, {}, {}
    for reader in READERS:
        response = _get(world, reader, page)
        statuses[reader] = response.status_code
        assert response.status_code in (200, 302), (page, reader, response.status_code)
        found[reader] = response.get("Cache-Control", "")
        vary[reader] = tokens(response.get("Vary", ""))
        # Never public beside a cookie, never public when private.
        if response.cookies:
            assert "public" not in found[reader], (page, reader)
    assert found == EXPECTED_CACHE_CONTROL[page]
    assert vary == {r: expected_vary(page, r, statuses[r]) for r in READERS}


def test_a_public_page_that_sets_a_cookie_is_made_private(world):
    """The meter's cookie is rewritten on the request after a metered read: that response
    (here a free article's) sets a cookie, so it must not be public."""
    client = Client()
    client.get(world["metered"])
    response = client.get(world["pages"]["free article"])
    assert "mh_reader" in response.cookies
    assert response["Cache-Control"] == PRIVATE
    again = client.get(world["pages"]["free article"])
    assert not again.cookies
    assert again["Cache-Control"] == PUBLIC


def test_an_api_list_request_with_any_authorization_header_is_private(world):
    response = Client().get(world["pages"]["api list"], headers={"Authorization": "Bearer x"})
    assert response["Cache-Control"] == PRIVATE
    assert "Authorization" in tokens(response["Vary"])


def test_lifetimes_come_from_settings(world, settings):
    settings.CACHE_MAX_AGE, settings.CACHE_S_MAXAGE = 5, 120
    settings.CACHE_STALE_WHILE_REVALIDATE = 30
    response = Client().get(world["pages"]["home"])
    assert response["Cache-Control"] == "public, max-age=5, s-maxage=120, stale-while-revalidate=30"


def test_an_editors_preview_of_a_free_article_is_private(world):
    """Wagtail 8 renders a preview with the page's template (not its view) and marks it
    private: a draft is never shared."""
    from masthead.newsroom.models import ArticlePage

    page = ArticlePage.objects.get(title="Open notice")
    response = page.make_preview_request()
    assert response.status_code == 200
    assert "Open notice" in response.content.decode()
    assert response["Cache-Control"] == "private"
