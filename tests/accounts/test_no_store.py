"""Cache-Control per page and reader: whatever depends on the reader is private and no-store
(after signing out, Back must not show the subscriber's article); pages the same for every
signed-out reader keep their public caching."""

from __future__ import annotations

import pytest
from django.test import Client

from masthead.accounts.actions import issue_app_token
from masthead.core import clock
from masthead.newsroom.models import AccessLevel
from masthead.subscriptions import actions
from tests import factories
from tests.subscriptions.conftest import card, make_catalog

pytestmark = pytest.mark.django_db

PRIVATE = "private-no-store"
SHARED = "not-private"


@pytest.fixture
def world():
    catalog = make_catalog()
    free = factories.article("Open notice", access_level=AccessLevel.FREE)
    metered = factories.article("Metered notice")
    gated = factories.article("Members notice", access_level=AccessLevel.SUBSCRIBERS)
    subscriber = factories.user("subscriber@example.com")
    now = clock.now()
    actions.subscribe(subscriber, plan=catalog.monthly, card=card(subscriber, now=now), now=now)
    return {
        "free": free.url,
        "metered": metered.url,
        "subscribers": gated.url,
        "section": free.get_parent().url,
        "home": "/",
        "search": "/search/?q=notice",
        "offers": "/offers/",
        "checkout": f"/checkout/offer/{catalog.one_month.code}/",
        "account": "/accounts/",
        "subscription": "/account/subscription/",
        "login": "/accounts/login/",
        "api list": "/api/v1/articles",
        "api article": f"/api/v1/articles/{gated.pk}",
        "subscriber": subscriber,
    }


def _client(world, reader: str) -> Client:
    client = Client()
    if reader == "registered":
        client.force_login(factories.user())
    elif reader == "subscriber":
        client.force_login(world["subscriber"])
    return client


def _kind(response) -> str:
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",") if d.strip()}
    if {"private", "no-store"} <= directives:
        assert "Cookie" in response.get("Vary", ""), response.get("Vary")
        assert not any(d.startswith(("max-age=6", "s-maxage", "public")) for d in directives)
        return PRIVATE
    assert "private" not in directives and "no-store" not in directives, directives
    return SHARED


EXPECTED = {
    # page: (anonymous, registered, subscriber)
    "home": (SHARED, PRIVATE, PRIVATE),
    "section": (SHARED, PRIVATE, PRIVATE),
    # What a search finds depends on who searches (what they may read, the restrictions they
    # passed), so its results are private even for a signed-out reader.
    "search": (PRIVATE, PRIVATE, PRIVATE),
    "free": (SHARED, PRIVATE, PRIVATE),
    "metered": (PRIVATE, PRIVATE, PRIVATE),
    "subscribers": (PRIVATE, PRIVATE, PRIVATE),
    "offers": (SHARED, PRIVATE, PRIVATE),
    "checkout": (PRIVATE, PRIVATE, PRIVATE),
    "account": (PRIVATE, PRIVATE, PRIVATE),
    "subscription": (PRIVATE, PRIVATE, PRIVATE),
    "login": (PRIVATE, PRIVATE, PRIVATE),
    "api list": (SHARED, SHARED, SHARED),
    "api article": (PRIVATE, PRIVATE, PRIVATE),
}
READERS = ("anonymous", "registered", "subscriber")


@pytest.mark.parametrize("page", sorted(EXPECTED))
def test_cache_control_per_page_and_reader(world, page):
    found = {}
    for reader in READERS:
        response = _client(world, reader).get(world[page])
        assert response.status_code in (200, 302), (page, reader, response.status_code)
        found[reader] = _kind(response)
    assert tuple(found[reader] for reader in READERS) == EXPECTED[page]


def test_a_token_holding_app_gets_the_gated_article_private_and_no_store(world):
    _, raw = issue_app_token(world["subscriber"], name="Tablet", now=clock.now())
    response = Client().get(world["api article"], headers={"Authorization": f"Bearer {raw}"})
    assert response.json()["access"]["level"] == "full"
    assert _kind(response) == PRIVATE
    me = Client().get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert _kind(me) == PRIVATE


def test_after_signing_out_the_subscribers_article_is_not_served_from_the_browser(world):
    """What Back relies on: the page the subscriber saw was no-store, and asking again now
    gives the signed-out reader the preview, not the article."""
    client = _client(world, "subscriber")
    seen = client.get(world["subscribers"])
    assert "no-store" in seen["Cache-Control"]
    full = seen.content.decode()
    client.post("/accounts/logout/")
    again = client.get(world["subscribers"]).content.decode()
    assert "Members notice paragraph 6" in full
    assert "Members notice paragraph 6" not in again
