"""Campaigns switch on and off by the clock: banner, free reading, no counting."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from masthead.access import campaigns
from masthead.access.models import Campaign
from masthead.metering.models import MeteredRead
from masthead.newsroom.models import AccessLevel
from tests import factories

pytestmark = pytest.mark.django_db

BANNER = "Free access for everyone - Sep. 30"
OPENS = datetime(2026, 9, 30, 4, 0, tzinfo=UTC)  # midnight in New York
CLOSES = OPENS + timedelta(days=1)


@pytest.fixture
def campaign():
    return Campaign.objects.create(
        name="Next chapter", banner_text=BANNER, starts_at=OPENS, ends_at=CLOSES
    )


@pytest.fixture
def at(monkeypatch):
    """Set Masthead's clock."""

    def move(moment: datetime) -> None:
        monkeypatch.setattr("masthead.core.clock.now", lambda: moment)

    return move


def test_campaign_is_active_only_inside_its_window(campaign):
    assert campaigns.active_campaign(OPENS - timedelta(seconds=1)) is None
    assert campaigns.active_campaign(OPENS) == campaign
    assert campaigns.active_campaign(CLOSES - timedelta(seconds=1)) == campaign
    assert campaigns.active_campaign(CLOSES) is None


def test_banner_and_free_reading_switch_on_and_off_by_themselves(client, campaign, at, store):
    articles = [factories.article(body=factories.paragraphs(4, prefix=f"C{n}")) for n in range(5)]
    at(OPENS + timedelta(hours=2))
    for n, article in enumerate(articles):
        html = client.get(article.url).content.decode()
        assert BANNER in html
        assert f"C{n} 4 of the body" in html
        assert "free article" not in html  # no meter message during the window
    assert MeteredRead.objects.count() == 0
    at(CLOSES)
    html = client.get(articles[0].url).content.decode()
    assert BANNER not in html
    assert "You have 2 free articles left this month" in html


def test_banner_shows_on_every_page_during_the_window(client, campaign, at, store):
    factories.article(access_level=AccessLevel.FREE)
    at(OPENS)
    assert BANNER in client.get("/").content.decode()


def test_a_campaign_that_opens_only_metered_articles_keeps_subscribers_only_gated(
    client, at, store
):
    Campaign.objects.create(
        name="Metered only",
        banner_text="Everything metered is free today",
        starts_at=OPENS,
        ends_at=CLOSES,
        opens_subscribers_only=False,
    )
    gated = factories.article(
        access_level=AccessLevel.SUBSCRIBERS, body=factories.paragraphs(4, prefix="Gated")
    )
    at(OPENS)
    html = client.get(gated.url).content.decode()
    assert "Gated 2 of the body" in html and "Gated 3 of the body" not in html


def test_a_campaign_must_end_after_it_starts_and_open_something():
    backwards = Campaign(name="x", banner_text="x", starts_at=CLOSES, ends_at=OPENS)
    with pytest.raises(ValidationError):
        backwards.full_clean()
    empty = Campaign(
        name="x",
        banner_text="x",
        starts_at=OPENS,
        ends_at=CLOSES,
        opens_metered=False,
        opens_subscribers_only=False,
    )
    with pytest.raises(ValidationError):
        empty.full_clean()
