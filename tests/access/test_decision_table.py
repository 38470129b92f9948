"""Every principal against every kind of article: level, reason and the one message."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from masthead.access import doors
from masthead.access.decision import Level, Reason, decide
from masthead.access.models import Campaign
from masthead.core import clock
from masthead.metering.actions import record_read
from masthead.metering.identity import ReaderIdentity
from masthead.metering.policy import current_policy
from masthead.newsroom.models import AccessLevel, Sponsor
from tests import factories
from tests.access.support import PRINCIPALS, install_entitlements
from tests.metering.support import SEPT_15, save_policy

pytestmark = pytest.mark.django_db

F, P, N = Level.FULL, Level.PREVIEW, Level.NONE


@pytest.fixture
def articles():
    sponsor = Sponsor.objects.create(name="Harbour Bank", disclosure="Commissioned by them.")
    return {
        "free": factories.article(access_level=AccessLevel.FREE),
        "metered": factories.article(access_level=AccessLevel.METERED),
        "subscribers": factories.article(access_level=AccessLevel.SUBSCRIBERS),
        "sponsored": factories.article(
            access_level=AccessLevel.METERED, sponsored=True, sponsor=sponsor
        ),
    }


def table(articles, now=SEPT_15):
    return {
        (who, kind): (d.level, d.reason, d.message)
        for who, reader in PRINCIPALS.items()
        for kind, article in articles.items()
        if kind != "sponsored"
        for d in [decide(reader, article, now=now)]
    }


LEFT_2 = "You have 2 free articles left this month"
SUBS = "This article is for subscribers"
TRIAL = "Your trial period has expired"
PAUSED = "Your subscription is paused until November 15, 2026"


def test_decision_table_with_the_default_policy(store, monkeypatch, articles, settings):
    install_entitlements(monkeypatch)
    lapsed_sub = f"Your full access to {settings.SITE_NAME} has expired"
    assert table(articles) == {
        ("anonymous", "free"): (F, Reason.FREE_ARTICLE, ""),
        ("anonymous", "metered"): (F, Reason.METERED, LEFT_2),
        ("anonymous", "subscribers"): (P, Reason.SUBSCRIBERS_ONLY, SUBS),
        ("registered", "free"): (F, Reason.FREE_ARTICLE, ""),
        ("registered", "metered"): (F, Reason.METERED, LEFT_2),
        ("registered", "subscribers"): (P, Reason.SUBSCRIBERS_ONLY, SUBS),
        ("trialist", "free"): (F, Reason.FREE_ARTICLE, ""),
        ("trialist", "metered"): (F, Reason.SUBSCRIBER, ""),
        ("trialist", "subscribers"): (F, Reason.SUBSCRIBER, ""),
        ("subscriber", "free"): (F, Reason.FREE_ARTICLE, ""),
        ("subscriber", "metered"): (F, Reason.SUBSCRIBER, ""),
        ("subscriber", "subscribers"): (F, Reason.SUBSCRIBER, ""),
        ("lapsed trialist", "free"): (F, Reason.FREE_ARTICLE, ""),
        ("lapsed trialist", "metered"): (P, Reason.LAPSED_TRIAL, TRIAL),
        ("lapsed trialist", "subscribers"): (P, Reason.LAPSED_TRIAL, TRIAL),
        ("lapsed subscriber", "free"): (F, Reason.FREE_ARTICLE, ""),
        ("lapsed subscriber", "metered"): (P, Reason.LAPSED_SUBSCRIPTION, lapsed_sub),
        ("lapsed subscriber", "subscribers"): (P, Reason.LAPSED_SUBSCRIPTION, lapsed_sub),
        ("past due", "free"): (F, Reason.FREE_ARTICLE, ""),
        ("past due", "metered"): (F, Reason.SUBSCRIBER, ""),
        ("past due", "subscribers"): (F, Reason.SUBSCRIBER, ""),
        # A paused subscriber: a preview that says until when, no fresh meter (decision 0035).
        ("paused", "free"): (F, Reason.FREE_ARTICLE, ""),
        ("paused", "metered"): (P, Reason.PAUSED, PAUSED),
        ("paused", "subscribers"): (P, Reason.PAUSED, PAUSED),
        ("staff", "free"): (F, Reason.FREE_ARTICLE, ""),
        ("staff", "metered"): (F, Reason.STAFF, ""),
        ("staff", "subscribers"): (F, Reason.STAFF, ""),
        # Flexible sampling is off by default: a verified crawler is an anonymous reader.
        ("verified crawler", "free"): (F, Reason.FREE_ARTICLE, ""),
        ("verified crawler", "metered"): (F, Reason.METERED, LEFT_2),
        ("verified crawler", "subscribers"): (P, Reason.SUBSCRIBERS_ONLY, SUBS),
    }


def test_verified_crawlers_read_in_full_only_with_flexible_sampling(store, monkeypatch, articles):
    install_entitlements(monkeypatch)
    save_policy(crawlers_read_in_full=True)
    crawler = PRINCIPALS["verified crawler"]
    assert decide(crawler, articles["subscribers"], now=SEPT_15).reason is Reason.VERIFIED_CRAWLER
    assert decide(crawler, articles["metered"], now=SEPT_15).counts_read is False
    anonymous = PRINCIPALS["anonymous"]
    assert decide(anonymous, articles["subscribers"], now=SEPT_15).level is P


def test_a_campaign_opens_what_it_says_for_everyone_without_counting(store, monkeypatch, articles):
    install_entitlements(monkeypatch)
    Campaign.objects.create(
        name="Relaunch",
        banner_text="Free access for everyone - Sep. 30",
        starts_at=SEPT_15 - timedelta(hours=1),
        ends_at=SEPT_15 + timedelta(hours=1),
        opens_subscribers_only=False,
    )
    decisions = table(articles)
    for who in ("anonymous", "registered", "lapsed trialist", "lapsed subscriber", "paused"):
        assert decisions[(who, "metered")] == (F, Reason.CAMPAIGN, "")
        assert decisions[(who, "subscribers")][0] is P
    assert decide(PRINCIPALS["anonymous"], articles["metered"], now=SEPT_15).counts_read is False


def test_sponsored_articles_are_free_and_never_count(store, articles):
    reader = PRINCIPALS["registered"]
    decision = decide(reader, articles["sponsored"], now=SEPT_15)
    assert (decision.level, decision.reason, decision.counts_read) == (
        F,
        Reason.FREE_ARTICLE,
        False,
    )
    # decide says it does not count, so the one door that records (open_article) records
    # nothing: no second rule in metering re-decides what counts.
    request = RequestFactory().get("/")
    request.reader = reader
    request.user = AnonymousUser()
    assert doors.open_article(request, articles["sponsored"]).counts_read is False
    now = clock.now()
    sponsored = articles["sponsored"].pk
    state = store.state(reader.meter_key, sponsored, now=now, policy=current_policy())
    assert (state.used, state.counted) == (0, False)


def reader(n: int = 1) -> ReaderIdentity:
    return ReaderIdentity(user_id=None, anonymous_id=f"{n:032x}")


def read(who, article):
    decision = decide(who, article, now=SEPT_15)
    if decision.counts_read:
        record_read(who, article, now=SEPT_15)
    return decision


def test_the_meter_counts_down_then_closes(store):
    articles = [factories.article() for _ in range(4)]
    who = reader()
    decisions = [read(who, article) for article in articles]
    assert [(d.level, d.reason, d.left, d.message) for d in decisions] == [
        (F, Reason.METERED, 2, "You have 2 free articles left this month"),
        (F, Reason.METERED, 1, "You have 1 free article left this month"),
        (F, Reason.LAST_FREE_ARTICLE, 0, "This is your last free article this month"),
        (P, Reason.METER_EXHAUSTED, None, "You have read all 3 free articles this month"),
    ]
    assert decisions[3].preview_blocks == 2
    # Re-reading a counted article is free, even with the meter spent.
    again = read(who, articles[0])
    assert (again.level, again.reason, again.counts_read) == (F, Reason.METERED, False)
    assert again.message == "You have 0 free articles left this month"


def test_registration_wall_invites_anonymous_readers_to_register(store):
    save_policy(registration_wall=True, anonymous_allowance=1, registered_allowance=4)
    first, second = factories.article(), factories.article()
    who = reader()
    assert read(who, first).reason is Reason.LAST_FREE_ARTICLE
    wall = read(who, second)
    assert (wall.level, wall.reason) == (P, Reason.REGISTRATION_WALL)
    assert wall.message == "Register for free to read 3 more articles this month"


def test_registered_readers_have_their_own_allowance(store):
    save_policy(registration_wall=True, anonymous_allowance=1, registered_allowance=2)
    account = ReaderIdentity(user_id=101, anonymous_id=None)
    decisions = [read(account, factories.article()) for _ in range(3)]
    assert [d.reason for d in decisions] == [
        Reason.METERED,
        Reason.LAST_FREE_ARTICLE,
        Reason.METER_EXHAUSTED,
    ]
    assert decisions[2].message == "You have read all 2 free articles this month"


def test_zero_block_preview_gives_level_none(store):
    save_policy(preview_blocks=0)
    gated = decide(
        PRINCIPALS["anonymous"], factories.article(access_level="subscribers"), now=SEPT_15
    )
    assert (gated.level, gated.preview_blocks) == (N, 0)


def test_rolling_period_copy(store):
    save_policy(period_kind="rolling_days", rolling_days=30)
    decision = read(reader(), factories.article())
    assert decision.message == "You have 2 free articles left in the next 30 days"


def test_the_free_message_never_shows_on_reader_independent_decisions(store):
    decision = decide(PRINCIPALS["anonymous"], factories.article(access_level="free"), now=SEPT_15)
    assert (decision.message, decision.reader_dependent) == ("", False)
