"""The gift pages: the box on the article page, creating a link, the list, revoking."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from masthead.core import clock
from masthead.gifts.models import GiftLink
from masthead.newsroom.models import AccessLevel
from tests import factories
from tests.gifts import support
from tests.gifts.test_doors import LAST, client_for, gated_article
from tests.metering.support import save_policy

pytestmark = pytest.mark.django_db

BOX = "Gift this article"


def test_only_readers_who_may_give_see_the_box_with_what_is_left():
    now = clock.now()
    article = gated_article("Boxed")
    shown = {}
    for name, user in support.readers(now).items():
        body = client_for(user).get(article.url).content.decode()
        shown[name] = BOX in body
        if name == "subscriber":
            assert "You have 5 gifts left this month." in body
    assert shown == {
        "anonymous": False,
        "registered": False,
        "trialist": False,
        "subscriber": True,
        "lapsed": False,
        "past due": False,
        "staff": True,
    }
    free = factories.article(access_level=AccessLevel.FREE)
    subscriber = support.subscriber(now)
    assert BOX not in client_for(subscriber).get(free.url).content.decode()


def test_creating_a_link_shows_it_and_it_opens_the_article_for_anyone():
    save_policy(anonymous_allowance=0, gift_allowance=2)
    article = gated_article("Given")
    giver = client_for(support.subscriber(clock.now()))
    response = giver.post("/accounts/gifts/new/", {"article": str(article.pk)})
    assert response.status_code == 201
    body = response.content.decode()
    link = re.search(r'value="(http://testserver/[^"]+\?gift=[^"]+)"', body)
    assert link, body
    assert "You have 1 gift left this month." in body
    assert "Cache-Control" in response and "no-cache" in response["Cache-Control"]
    opened = Client().get(link.group(1).removeprefix("http://testserver"))
    assert LAST in opened.content.decode()
    assert "A subscriber gave you this article" in opened.content.decode()
    assert "You have 1 gift left this month." in giver.get(article.url).content.decode()


def test_an_exhausted_allowance_is_a_page_not_an_error():
    save_policy(gift_allowance=1)
    article = gated_article("Twice")
    giver = client_for(support.subscriber(clock.now()))
    assert giver.post("/accounts/gifts/new/", {"article": article.pk}).status_code == 201
    body = giver.get(article.url).content.decode()
    assert "You have 0 gifts left this month." in body and f">{BOX}<" not in body
    refused = giver.post("/accounts/gifts/new/", {"article": article.pk})
    assert refused.status_code == 409
    assert "You have given all your gift links for this month." in refused.content.decode()
    assert GiftLink.objects.count() == 1


@pytest.mark.parametrize("value", ["", "abc", "999999", "1" * 40])
def test_a_bad_article_is_a_helpful_404(value):
    giver = client_for(support.subscriber(clock.now()))
    response = giver.post("/accounts/gifts/new/", {"article": value})
    assert response.status_code == 404
    assert "That article cannot be given" in response.content.decode()


def test_readers_who_may_not_give_are_refused():
    article = gated_article("Refused")
    assert Client().post("/accounts/gifts/new/", {"article": article.pk}).status_code == 302
    registered = client_for(factories.user())
    response = registered.post("/accounts/gifts/new/", {"article": article.pk})
    assert response.status_code == 403
    assert "Gift links are for subscribers." in response.content.decode()
    assert GiftLink.objects.count() == 0


def test_the_list_shows_opens_and_revoking_stops_the_link():
    save_policy(anonymous_allowance=0)
    article = gated_article("Listed")
    user = support.subscriber(clock.now())
    giver = client_for(user)
    body = giver.post("/accounts/gifts/new/", {"article": article.pk}).content.decode()
    path = re.search(r'value="http://testserver(/[^"]+)"', body).group(1)
    Client().get(path)
    Client().get(path)
    listing = giver.get("/accounts/gifts/").content.decode()
    assert "Listed" in listing and "<td>2</td>" in listing and "Revoke" in listing
    gift = GiftLink.objects.get()
    other = client_for(support.subscriber(clock.now()))
    assert other.post(f"/accounts/gifts/{gift.pk}/revoke/").status_code == 404
    response = giver.post(f"/accounts/gifts/{gift.pk}/revoke/", follow=True)
    assert "no longer works" in response.content.decode()
    assert "Revoked" in response.content.decode()
    assert LAST not in Client().get(path).content.decode()
