"""The demo catalogue and readers: one in each state, loaded twice without change."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress

from masthead.core import clock
from masthead.subscriptions import demo
from masthead.subscriptions.entitlements import Lapse, entitlement_for
from masthead.subscriptions.models import Offer, Plan, Subscription

pytestmark = pytest.mark.django_db


def test_demo_loads_each_state_once_and_prints_logins():
    first = demo.load()
    second = demo.load()
    assert first == second
    assert sorted(Plan.objects.values_list("slug", "price_minor")) == [
        ("annual", 15000),
        ("monthly", 1500),
    ]
    assert {o.headline for o in Offer.objects.all()} == {
        "Try 1 month for $0.99",
        "Try 3 months for $9",
        "Try free for 14 days",
        "Try 3 months for $6",  # the win-back offer
    }
    states = {s.user.email: s.status for s in Subscription.objects.select_related("user")}
    assert states == {
        "trialist@example.com": "trialing",
        "subscriber@example.com": "active",
        "lapsed-trialist@example.com": "expired",
        "lapsed-subscriber@example.com": "expired",
        "past-due@example.com": "past_due",
        "loyal@example.com": "active",
        "paused@example.com": "paused",
    }
    now = clock.now()
    lapses = {
        email: entitlement_for(Subscription.objects.get(user__email=email).user_id, now=now).lapsed
        for email in states
    }
    assert lapses["lapsed-trialist@example.com"] == Lapse.TRIAL
    assert lapses["lapsed-subscriber@example.com"] == Lapse.SUBSCRIPTION
    assert EmailAddress.objects.filter(verified=True, primary=True).count() == 7
    assert (
        f"Reader, past due (renewal failed, retrying): past-due@example.com / {demo.DEMO_PASSWORD}"
        in first
    )
    assert any(
        line.startswith("Reader, loyal subscriber") and "loyal@example.com" in line
        for line in first
    )
    assert any("paused@example.com" in line for line in first)
