"""The paywall and meter component: offer cards, the best offer beside the count, what happens
after the last free article, the campaign strip and its page."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from masthead.access.models import Campaign
from masthead.subscriptions.offers import best_offer_for
from tests import factories
from tests.subscriptions.conftest import make_catalog

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 10, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch):
    monkeypatch.setattr("masthead.core.clock.now", lambda: NOW)


def meter_of(html: str) -> str:
    found = re.search(r'<div class="meter[^"]*" role="status">(.*?)</div>', html, re.S)
    assert found, "no meter message"
    return found[1]


def test_best_offer_is_the_cheapest_paid_introduction(clock):
    catalog = make_catalog()
    best = best_offer_for(None, now=NOW)
    assert best is not None
    assert (best.code, best.headline, best.price_text, best.term_text) == (
        catalog.one_month.code,
        "Try 1 month for $0.99",
        "$0.99",
        "for 1 month",
    )


def test_best_offer_falls_back_to_the_cheapest_plan_with_no_offer(clock):
    catalog = make_catalog()
    for offer in (catalog.one_month, catalog.three_months, catalog.trial):
        offer.link_only = True
        offer.save()
    best = best_offer_for(None, now=NOW)
    assert best is not None
    assert (best.kind, best.code, best.price_text) == (
        "plan",
        "monthly",
        catalog.monthly.price_text,
    )


def test_meter_message_carries_the_best_offer_back_to_the_article(client, store, clock):
    make_catalog()
    article = factories.article("Harbour", body=factories.paragraphs(6))
    meter = meter_of(client.get(article.url).content.decode())
    assert '<p class="meter-message">You have 2 free articles left this month</p>' in meter
    assert (
        f'<a class="button button--small" href="/checkout/offer/one-month/?next={article.url}">'
        "Try 1 month for $0.99</a>"
    ) in meter
    assert "After this one" not in meter


def test_last_free_article_says_what_happens_next(client, store, clock):
    make_catalog()
    articles = [factories.article(f"Story {n}", body=factories.paragraphs(6)) for n in range(3)]
    for article in articles[:2]:
        client.get(article.url)
    html = client.get(articles[2].url).content.decode()
    meter = meter_of(html)
    assert '<div class="meter meter--last" role="status">' in html
    assert "This is your last free article this month" in meter
    assert "After this one, the rest of each story is for subscribers." in meter
    assert "Try 1 month for $0.99" in meter


def test_paywall_shows_each_live_offer_as_a_card_with_one_button(client, store, clock):
    catalog = make_catalog()
    articles = [factories.article(f"Story {n}", body=factories.paragraphs(6)) for n in range(4)]
    for article in articles[:3]:
        client.get(article.url)
    html = client.get(articles[3].url).content.decode()
    start = html.index('<section class="paywall"')
    paywall = html[start : html.index("</section>", start)]
    assert (
        '<h2 id="paywall-heading" class="paywall__heading">Subscribe to keep reading</h2>'
        in paywall
    )
    assert '<p class="paywall__state">You have read all 3 free articles this month</p>' in paywall
    assert "Read all stories with unlimited access" in paywall
    assert "Use our mobile and tablet apps" in paywall
    cards = re.findall(r'<li class="offer-card">(.*?)</li>', paywall, re.S)
    live = [catalog.one_month, catalog.three_months, catalog.trial]
    assert len(cards) == len(live)
    for card, offer in zip(cards, live, strict=True):
        assert card.count('class="button offer-card__button"') == 1
        assert f"/checkout/offer/{offer.code}/?next=" in card
        assert offer.headline in card
    assert 'class="offer-card__amount">$0.99<' in cards[0]
    assert 'href="/offers/">See all offers and subscribe</a>' in paywall
    assert (
        f'Already a subscriber? <a href="/accounts/login/?next={articles[3].url}">Sign in</a>'
        in (paywall)
    )


def test_campaign_banner_links_to_its_page(client, monkeypatch):
    starts = NOW - timedelta(hours=1)
    campaign = Campaign.objects.create(
        name="Relaunch day",
        banner_text="Free access for everyone - Oct. 5",
        starts_at=starts,
        ends_at=starts + timedelta(days=1),
    )
    monkeypatch.setattr("masthead.core.clock.now", lambda: NOW)
    factories.home_page()
    html = client.get("/").content.decode()
    assert '<span class="campaign-banner__text">Free access for everyone - Oct. 5</span>' in html
    assert f'href="/campaigns/{campaign.pk}/">Find out more' in html
    page = client.get(f"/campaigns/{campaign.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "<h1>Free access for everyone - Oct. 5</h1>" in text
    assert "Free access now" in text
    assert client.get("/campaigns/999999/").status_code == 404
