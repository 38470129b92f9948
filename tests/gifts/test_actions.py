"""Creating and revoking gift links: who may, how many a month, and what is kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser

from masthead.gifts import actions, allowance, passes, tokens
from masthead.gifts.actions import GiftRefused
from masthead.gifts.models import GiftEvent, GiftLink
from masthead.gifts.passes import Standing
from masthead.newsroom.models import AccessLevel
from masthead.subscriptions.models import Status, Subscription
from tests import factories
from tests.gifts import support
from tests.metering.support import save_policy

pytestmark = pytest.mark.django_db

SEPT_15 = datetime(2026, 9, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def metered():
    return factories.article(access_level=AccessLevel.METERED)


def test_who_may_create_a_gift_link(metered):
    readers = support.readers(SEPT_15)
    states = {
        name: Subscription.objects.filter(user=user).latest("created_at").status
        for name, user in readers.items()
        if name in {"trialist", "lapsed", "past due", "subscriber"}
    }
    assert states == {
        "trialist": Status.TRIALING,
        "lapsed": Status.EXPIRED,
        "past due": Status.PAST_DUE,
        "subscriber": Status.ACTIVE,
    }
    outcome = {}
    for name, user in readers.items():
        try:
            actions.create_gift(user or AnonymousUser(), metered, now=SEPT_15)
            outcome[name] = "created"
        except GiftRefused as refused:
            outcome[name] = refused.code
    assert outcome == {
        "anonymous": "not_a_subscriber",
        "registered": "not_a_subscriber",
        "trialist": "not_a_subscriber",
        "subscriber": "created",
        "lapsed": "not_a_subscriber",
        "past due": "not_a_subscriber",
        "staff": "created",
    }
    assert GiftLink.objects.count() == 2
    assert GiftEvent.objects.filter(kind=GiftEvent.Kind.CREATED).count() == 2


def test_a_gift_link_expires_after_the_policy_days_and_keeps_only_a_digest(metered):
    giver = support.subscriber(SEPT_15)
    created = actions.create_gift(giver, metered, now=SEPT_15)
    gift = GiftLink.objects.get()
    assert gift.expires_at == SEPT_15 + timedelta(days=7)
    assert gift.token_hash == tokens.digest(created.token) != created.token
    assert created.token not in str(GiftLink.objects.values().get())
    random_part = created.token.split(".")[0]
    assert len(random_part) == 32  # 24 random bytes: 192 bits
    save_policy(gift_days=2)
    later = actions.create_gift(giver, metered, now=SEPT_15)
    assert later.gift.expires_at == SEPT_15 + timedelta(days=2)


def test_tokens_are_unique_and_a_forged_one_is_refused_without_a_query(
    metered, django_assert_num_queries
):
    giver = support.subscriber(SEPT_15)
    made = {actions.create_gift(giver, metered, now=SEPT_15).token for _ in range(5)}
    assert len(made) == 5
    token = next(iter(made))
    forged = token.split(".")[0] + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    with django_assert_num_queries(0):
        assert passes.pass_for(forged) is None
        assert passes.pass_for("not-a-token") is None
        assert passes.pass_for("") is None
    with django_assert_num_queries(1):
        found = passes.pass_for(token)
    assert found is not None and found.article_id == metered.pk


def test_the_allowance_is_exact_per_month_and_resets_next_month(metered):
    save_policy(gift_allowance=3)
    giver = support.subscriber(SEPT_15)
    lefts = [actions.create_gift(giver, metered, now=SEPT_15).left for _ in range(3)]
    assert lefts == [2, 1, 0]
    assert allowance.gifts_left(giver, now=SEPT_15) == 0
    with pytest.raises(GiftRefused) as refused:
        actions.create_gift(giver, metered, now=SEPT_15 + timedelta(days=1))
    assert refused.value.code == "allowance_spent"
    assert GiftLink.objects.count() == 3
    # The month is the site's (America/New_York): 03:30 UTC on 1 October is still September.
    assert allowance.gifts_left(giver, now=datetime(2026, 10, 1, 3, 30, tzinfo=UTC)) == 0
    october = datetime(2026, 10, 1, 4, 30, tzinfo=UTC)
    assert allowance.gifts_left(giver, now=october) == 3
    assert actions.create_gift(giver, metered, now=october).left == 2


def test_revoking_gives_no_gift_back(metered):
    save_policy(gift_allowance=1)
    giver = support.subscriber(SEPT_15)
    created = actions.create_gift(giver, metered, now=SEPT_15)
    assert actions.revoke_gift(created.gift, actor=giver, now=SEPT_15) is True
    assert allowance.gifts_left(giver, now=SEPT_15) == 0


def test_staff_have_no_limit(metered):
    save_policy(gift_allowance=1)
    staff = factories.user(staff=True)
    results = [actions.create_gift(staff, metered, now=SEPT_15).left for _ in range(4)]
    assert results == [None, None, None, None]


def test_only_the_giver_or_staff_revoke_and_revoking_twice_changes_nothing(metered):
    giver = support.subscriber(SEPT_15)
    other = support.subscriber(SEPT_15)
    gift = actions.create_gift(giver, metered, now=SEPT_15).gift
    with pytest.raises(GiftRefused) as refused:
        actions.revoke_gift(gift, actor=other, now=SEPT_15)
    assert refused.value.code == "not_yours"
    assert actions.revoke_gift(gift, actor=giver, now=SEPT_15 + timedelta(hours=1)) is True
    assert actions.revoke_gift(gift, actor=giver, now=SEPT_15 + timedelta(hours=2)) is False
    gift.refresh_from_db()
    assert gift.revoked_at == SEPT_15 + timedelta(hours=1)
    assert list(GiftEvent.objects.values_list("kind", "actor")) == [
        ("created", giver.pk),
        ("revoked", giver.pk),
    ]
    staff = factories.user(staff=True)
    second = actions.create_gift(giver, metered, now=SEPT_15).gift
    assert actions.revoke_gift(second, actor=staff, now=SEPT_15) is True


def test_the_standing_of_a_pass(metered):
    other = factories.article(access_level=AccessLevel.METERED)
    giver = support.subscriber(SEPT_15, first_name="Mara")
    created = actions.create_gift(giver, metered, now=SEPT_15)
    gift_pass = passes.pass_for(created.token)
    assert gift_pass is not None and gift_pass.giver_name == "Mara"
    assert gift_pass.standing(metered.pk, SEPT_15) is Standing.VALID
    assert gift_pass.standing(metered.pk, SEPT_15 + timedelta(days=7)) is Standing.EXPIRED
    assert gift_pass.standing(other.pk, SEPT_15) is Standing.OTHER_ARTICLE
    actions.revoke_gift(created.gift, actor=giver, now=SEPT_15)
    revoked = passes.pass_for(created.token)
    assert revoked is not None and revoked.standing(metered.pk, SEPT_15) is Standing.REVOKED


def test_an_unpublished_article_cannot_be_given():
    draft = factories.article(access_level=AccessLevel.METERED, publish=False)
    giver = support.subscriber(SEPT_15)
    with pytest.raises(GiftRefused) as refused:
        actions.create_gift(giver, draft, now=SEPT_15)
    assert refused.value.code == "no_such_article"
