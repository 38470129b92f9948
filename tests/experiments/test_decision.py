"""The reader's variant goes through `decide`: exact allowances and preview lengths per arm,
through the page and the API, on both meter stores; the control for a request with no cookie;
the offers' set and order on the paywall."""

from __future__ import annotations

from datetime import timedelta

import pytest

from masthead.access.decision import Level, Reason, decide
from masthead.core import clock
from masthead.experiments import actions, running
from masthead.experiments.models import Kind
from masthead.metering.identity import ReaderIdentity
from masthead.metering.policy import policy_for
from masthead.newsroom.models import AccessLevel
from masthead.subscriptions.offers import best_offer_for, live_offers_for
from tests import factories
from tests.metering.support import fresh_caches, save_policy, store  # noqa: F401

pytestmark = pytest.mark.django_db


def started(name: str, kind: str, specs: list[actions.VariantSpec]):
    now = clock.now()
    experiment = actions.create_experiment(name, kind, specs, now=now - timedelta(minutes=2))
    actions.start(experiment, now=now - timedelta(minutes=1))
    running.forget()
    return experiment


def users_in_each_arm(experiment, count: int = 2) -> dict[str, list]:
    """Readers whose account key falls in each arm (made until every arm has `count`)."""
    arms: dict[str, list] = {v.name: [] for v in experiment.variants.all()}
    while any(len(found) < count for found in arms.values()):
        user = factories.user()
        name = running.arm(experiment.kind, f"u:{user.pk}").name
        if len(arms[name]) < count:
            arms[name].append(user)
    return arms


@pytest.fixture
def allowance_test():
    return started(
        "Allowance",
        Kind.ALLOWANCE,
        [actions.VariantSpec("Three", 50), actions.VariantSpec("Five", 50, 5, 5)],
    )


def test_each_arm_reads_its_own_allowance_through_the_page(client, allowance_test, store):  # noqa: F811
    save_policy(anonymous_allowance=3, registered_allowance=3)
    articles = [factories.article(f"Allowance story {n}") for n in range(6)]
    arms = users_in_each_arm(allowance_test, count=1)
    read_in_full = {}
    for name, (user,) in arms.items():
        client.force_login(user)
        full = 0
        for article in articles:
            page = client.get(article.url).content.decode()
            full += f"Allowance story {articles.index(article)} paragraph 6 of the body" in page
        read_in_full[name] = full
        client.logout()
    assert read_in_full == {"Three": 3, "Five": 5}


def test_the_api_and_the_page_agree_on_the_arm(client, allowance_test, store):  # noqa: F811
    save_policy(anonymous_allowance=3, registered_allowance=3)
    article = factories.article("Agreeing story")
    arms = users_in_each_arm(allowance_test, count=1)
    (five,) = arms["Five"]
    reader = ReaderIdentity(user_id=five.pk, anonymous_id=None)
    decision = decide(reader, article, now=clock.now())
    assert (decision.reason, decision.left) == (Reason.METERED, 4)
    (three,) = arms["Three"]
    decision = decide(ReaderIdentity(user_id=three.pk, anonymous_id=None), article, now=clock.now())
    assert (decision.reason, decision.left) == (Reason.METERED, 2)


def test_a_signed_out_reader_is_assigned_by_the_cookie_and_a_fresh_one_sees_the_control(
    allowance_test,
):
    save_policy(anonymous_allowance=3, registered_allowance=3)
    keys = {running.arm(Kind.ALLOWANCE, f"a:{n:032x}").name: f"{n:032x}" for n in range(40)}
    five = ReaderIdentity(user_id=None, anonymous_id=keys["Five"])
    assert policy_for(five.split_key).anonymous_allowance == 5
    fresh = ReaderIdentity(user_id=None, anonymous_id=keys["Five"], fresh=True)
    assert fresh.split_key is None
    assert policy_for(fresh.split_key).anonymous_allowance == 3


def test_preview_length_follows_the_arm_on_a_subscribers_only_article(client):
    save_policy(preview_blocks=2)
    experiment = started(
        "Preview",
        Kind.PREVIEW,
        [actions.VariantSpec("Two", 50), actions.VariantSpec("Four", 50, preview_blocks=4)],
    )
    article = factories.article("Preview story", access_level=AccessLevel.SUBSCRIBERS)
    arms = users_in_each_arm(experiment, count=1)
    shown = {}
    for name, (user,) in arms.items():
        client.force_login(user)
        page = client.get(article.url).content.decode()
        shown[name] = [n for n in range(1, 7) if f"Preview story paragraph {n} of" in page]
        decision = decide(ReaderIdentity(user.pk, None), article, now=clock.now())
        assert (decision.level, decision.preview_blocks) == (
            Level.PREVIEW,
            {"Two": 2, "Four": 4}[name],
        )
        client.logout()
    assert shown == {"Two": [1, 2], "Four": [1, 2, 3, 4]}


def test_stopping_the_experiment_puts_everyone_back_on_the_policy(allowance_test):
    save_policy(anonymous_allowance=3, registered_allowance=3)
    arms = users_in_each_arm(allowance_test, count=1)
    (five,) = arms["Five"]
    assert policy_for(f"u:{five.pk}").registered_allowance == 5
    actions.stop(allowance_test, now=clock.now())
    assert policy_for(f"u:{five.pk}").registered_allowance == 3  # the save retired every copy


@pytest.fixture
def three_offers():
    plan = factories_plan()
    from masthead.subscriptions.models import Offer, OfferKind

    return [
        Offer.objects.create(
            code=code,
            plan=plan,
            kind=OfferKind.INTRO,
            intro_price_minor=price,
            intro_periods=1,
            new_subscribers_only=False,
        )
        for code, price in (("cheap", 99), ("middle", 499), ("dear", 999))
    ]


def factories_plan():
    from masthead.subscriptions.models import Plan

    return Plan.objects.create(
        slug="monthly-split", name="Monthly", price_minor=1500, interval="month"
    )


def test_the_offers_arm_sets_the_paywall_offers_and_their_order(three_offers):
    experiment = started(
        "Offers",
        Kind.OFFERS,
        [
            actions.VariantSpec("All", 50),
            actions.VariantSpec("Dear first", 50, offer_codes=["dear", "cheap"]),
        ],
    )
    arms = users_in_each_arm(experiment, count=1)
    now = clock.now()
    (everyone,) = arms["All"]
    (dear,) = arms["Dear first"]
    assert [o.code for o in live_offers_for(everyone.pk, now=now, key=f"u:{everyone.pk}")] == [
        "cheap",
        "middle",
        "dear",
    ]
    assert [o.code for o in live_offers_for(dear.pk, now=now, key=f"u:{dear.pk}")] == [
        "dear",
        "cheap",
    ]
    assert best_offer_for(everyone.pk, now=now, key=f"u:{everyone.pk}").code == "cheap"
    assert best_offer_for(dear.pk, now=now, key=f"u:{dear.pk}").code == "dear"
