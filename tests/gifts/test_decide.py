"""Rule GIFT in `decide`: its place in the order, and what an expired or revoked gift says."""

from __future__ import annotations

from datetime import timedelta

import pytest

from masthead.access.decision import Level, Reason, decide
from masthead.gifts.passes import GiftPass
from masthead.newsroom.models import AccessLevel
from tests import factories
from tests.access.support import PRINCIPALS, install_entitlements
from tests.metering.support import SEPT_15, save_policy

pytestmark = pytest.mark.django_db


def gift_for(article, *, revoked=False, expires=SEPT_15 + timedelta(days=7), name=""):
    return GiftPass(1, article.pk, name, expires, revoked)


def test_where_the_gift_rule_sits_for_every_principal(monkeypatch):
    install_entitlements(monkeypatch)
    members = factories.article(access_level=AccessLevel.SUBSCRIBERS)
    gift = gift_for(members, name="Mara")
    reasons = {
        who: (d.level, d.reason, d.message, d.counts_read)
        for who, reader in PRINCIPALS.items()
        for d in [decide(reader, members, now=SEPT_15, gift=gift)]
    }
    note = (Level.FULL, Reason.GIFT, "Mara gave you this article", False)
    assert reasons == {
        "anonymous": note,
        "registered": note,
        "trialist": (Level.FULL, Reason.SUBSCRIBER, "", False),
        "subscriber": (Level.FULL, Reason.SUBSCRIBER, "", False),
        "lapsed trialist": note,
        "lapsed subscriber": note,
        "past due": (Level.FULL, Reason.SUBSCRIBER, "", False),
        "paused": note,  # a gift opens its article to a paused subscriber too
        "staff": (Level.FULL, Reason.STAFF, "", False),
        "verified crawler": note,
    }


def test_a_gift_from_a_giver_without_a_first_name():
    members = factories.article(access_level=AccessLevel.SUBSCRIBERS)
    decision = decide(PRINCIPALS["anonymous"], members, now=SEPT_15, gift=gift_for(members))
    assert decision.message == "A subscriber gave you this article"


def test_a_metered_gift_read_is_never_counted_even_when_the_meter_is_spent():
    save_policy(anonymous_allowance=0, registered_allowance=0)
    metered = factories.article(access_level=AccessLevel.METERED)
    reader = PRINCIPALS["registered"]
    assert decide(reader, metered, now=SEPT_15).reason is Reason.METER_EXHAUSTED
    decision = decide(reader, metered, now=SEPT_15, gift=gift_for(metered))
    assert (decision.level, decision.reason, decision.counts_read) == (
        Level.FULL,
        Reason.GIFT,
        False,
    )


@pytest.mark.parametrize(
    ("gift_kw", "notice"),
    [
        ({"revoked": True}, "This gift link was withdrawn by the reader who gave it."),
        (
            {"expires": SEPT_15},
            "This gift link has expired, so the article is not a gift any more.",
        ),
    ],
    ids=["revoked", "expired-at-the-second"],
)
def test_a_dead_gift_gives_the_normal_decision_with_a_notice(gift_kw, notice):
    members = factories.article(access_level=AccessLevel.SUBSCRIBERS)
    decision = decide(
        PRINCIPALS["anonymous"], members, now=SEPT_15, gift=gift_for(members, **gift_kw)
    )
    assert (decision.level, decision.reason, decision.gift_notice) == (
        Level.PREVIEW,
        Reason.SUBSCRIBERS_ONLY,
        notice,
    )


def test_a_gift_for_another_article_changes_nothing():
    members = factories.article(access_level=AccessLevel.SUBSCRIBERS)
    other = factories.article(access_level=AccessLevel.SUBSCRIBERS)
    plain = decide(PRINCIPALS["anonymous"], other, now=SEPT_15)
    assert decide(PRINCIPALS["anonymous"], other, now=SEPT_15, gift=gift_for(members)) == plain


def test_a_free_article_with_a_dead_gift_stays_shareable():
    free = factories.article(access_level=AccessLevel.FREE)
    decision = decide(PRINCIPALS["anonymous"], free, now=SEPT_15, gift=gift_for(free, revoked=True))
    assert decision.free_for_everyone and decision.gift_notice == ""
