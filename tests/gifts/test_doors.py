"""Opening a gift link: every reader reads its one article in full, nobody's meter moves, and
an expired, revoked or misdirected gift opens nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client

from masthead.billing.providers import TEST_CARD_SUCCEEDS
from masthead.core import clock
from masthead.gifts import actions
from masthead.gifts.models import GiftEvent, GiftLink, GiftOpen
from masthead.metering.models import MeteredRead
from masthead.newsroom.models import AccessLevel
from masthead.subscriptions import actions as subscriptions
from tests import factories
from tests.gifts import support
from tests.metering.support import save_policy

pytestmark = pytest.mark.django_db

LAST = "zqlastgiftword"


def gated_article(title: str, level: str = AccessLevel.METERED):
    body = [*factories.paragraphs(3), ("paragraph", f"<p>The end {LAST} of {title}.</p>")]
    return factories.article(title, access_level=level, body=body)


@pytest.fixture
def now():
    return clock.now()


@pytest.fixture
def giver(now):
    return support.subscriber(now, first_name="Mara")


@pytest.fixture
def metered():
    return gated_article("Harbour")


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user, backend=settings.AUTHENTICATION_BACKENDS[0])
    return client


def gift_url(article, token: str) -> str:
    return f"{article.url}?gift={token}"


def reads_in_full(response) -> bool:
    assert response.status_code == 200
    return LAST in response.content.decode()


@pytest.mark.parametrize("level", [AccessLevel.METERED, AccessLevel.SUBSCRIBERS])
def test_every_reader_reads_a_gift_in_full_and_only_gift_readers_see_the_note(now, giver, level):
    article = gated_article(f"Gift {level}", level)
    token = actions.create_gift(giver, article, now=now).token
    note = {}
    for name, user in support.readers(now).items():
        response = client_for(user).get(gift_url(article, token))
        assert reads_in_full(response), name
        assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]
        note[name] = "Mara gave you this article" in response.content.decode()
    # Readers who read it anyway need no gift (and get no note).
    assert note == {
        "anonymous": True,
        "registered": True,
        "trialist": False,
        "subscriber": False,
        "lapsed": True,
        "past due": False,
        "staff": False,
    }
    assert MeteredRead.objects.count() == 0
    assert GiftLink.objects.get().opens == 3


def test_a_gift_spends_no_meter_and_works_for_a_reader_whose_meter_is_spent(now, giver, metered):
    save_policy(anonymous_allowance=2)
    others = [gated_article(f"Other {n}") for n in range(2)]
    reader = Client()
    for other in others:
        assert reads_in_full(reader.get(other.url))
    spent = gated_article("Spent")
    assert not reads_in_full(reader.get(spent.url))
    counted = MeteredRead.objects.count()
    assert counted == 2
    token = actions.create_gift(giver, metered, now=now).token
    for _ in range(3):
        assert reads_in_full(reader.get(gift_url(metered, token)))
    assert MeteredRead.objects.count() == 2
    assert not MeteredRead.objects.filter(article_id=metered.pk).exists()
    assert not reads_in_full(reader.get(spent.url))  # the gift opened one article only
    gift = GiftLink.objects.get()
    assert gift.opens == 1  # one reader, three visits


def test_a_fresh_reader_gets_the_reader_cookie_and_one_open(giver, metered, now):
    token = actions.create_gift(giver, metered, now=now).token
    response = Client().get(gift_url(metered, token))
    assert reads_in_full(response)
    assert settings.READER_COOKIE_NAME in response.cookies
    opened = GiftOpen.objects.get()
    assert opened.opener_key.startswith("a:") and opened.user_id is None
    assert list(GiftEvent.objects.values_list("kind", flat=True)) == ["created", "opened"]


def test_a_gift_never_opens_another_article(giver, metered, now):
    other = gated_article("Other", AccessLevel.SUBSCRIBERS)
    token = actions.create_gift(giver, metered, now=now).token
    response = Client().get(gift_url(other, token))
    assert not reads_in_full(response)
    body = response.content.decode()
    assert "gave you this article" not in body and "gift link" not in body.lower()
    assert GiftLink.objects.get().opens == 0


def test_an_expired_gift_is_the_normal_page_with_a_notice(giver, now):
    members = gated_article("Members", AccessLevel.SUBSCRIBERS)
    token = actions.create_gift(giver, members, now=now - timedelta(days=8)).token
    response = Client().get(gift_url(members, token))
    assert not reads_in_full(response)
    body = response.content.decode()
    assert "This gift link has expired" in body
    assert "This article is for subscribers" in body
    assert "gave you this article" not in body
    assert GiftLink.objects.get().opens == 0


def test_a_revoked_gift_is_the_normal_page_with_a_notice(giver, metered, now):
    save_policy(anonymous_allowance=0)
    created = actions.create_gift(giver, metered, now=now)
    reader = Client()
    assert reads_in_full(reader.get(gift_url(metered, created.token)))
    actions.revoke_gift(created.gift, actor=giver, now=now)
    response = reader.get(gift_url(metered, created.token))
    assert not reads_in_full(response)
    assert "This gift link was withdrawn" in response.content.decode()


def test_a_revoked_gift_on_a_meter_read_still_says_so(giver, metered, now):
    created = actions.create_gift(giver, metered, now=now)
    actions.revoke_gift(created.gift, actor=giver, now=now)
    response = Client().get(gift_url(metered, created.token))
    assert reads_in_full(response)  # the reader's own meter, which it now spends
    assert "This gift link was withdrawn" in response.content.decode()
    assert MeteredRead.objects.count() == 0  # a fresh reader's first read is in the cookie


@pytest.mark.parametrize("token", ["nonsense", "a" * 500, "x.y", "%E2%9C%93.abc", ""])
def test_a_wrong_token_is_just_the_normal_page(metered, token):
    save_policy(anonymous_allowance=0)
    response = Client().get(f"{metered.url}?gift={token}")
    assert not reads_in_full(response)
    body = response.content.decode()
    assert "gave you this article" not in body and "gift link" not in body.lower()


def test_the_print_view_and_the_api_honour_the_gift(giver, metered, now):
    save_policy(anonymous_allowance=0)
    token = actions.create_gift(giver, metered, now=now).token
    assert reads_in_full(Client().get(f"{metered.url}print/?gift={token}"))
    assert not reads_in_full(Client().get(f"{metered.url}print/"))
    api = Client().get(f"/api/v1/articles/{metered.pk}?gift={token}").json()
    assert (api["access"]["level"], api["access"]["reason"]) == ("full", "gift")
    plain = Client().get(f"/api/v1/articles/{metered.pk}").json()
    assert plain["access"]["level"] != "full"


def test_sign_ups_and_subscriptions_after_an_open_are_credited(
    giver, metered, now, django_capture_on_commit_callbacks
):
    token = actions.create_gift(giver, metered, now=now).token
    reader = Client()
    assert reads_in_full(reader.get(gift_url(metered, token)))
    password = "a-long-pass-phrase-9"
    with django_capture_on_commit_callbacks(execute=True):
        response = reader.post(
            "/accounts/signup/",
            {"email": "giftee@example.com", "password1": password, "password2": password},
        )
    assert response.status_code in {200, 302}
    gift = GiftLink.objects.get()
    assert (gift.opens, gift.signups, gift.subscriptions) == (1, 1, 0)
    opened = GiftOpen.objects.get()
    assert opened.user is not None and opened.user.email == "giftee@example.com"
    with django_capture_on_commit_callbacks(execute=True):
        subscriptions.subscribe(
            opened.user,
            plan=support.monthly(),
            card=support.card(opened.user, TEST_CARD_SUCCEEDS, now),
            now=now,
        )
    gift.refresh_from_db()
    assert (gift.opens, gift.signups, gift.subscriptions) == (1, 1, 1)
