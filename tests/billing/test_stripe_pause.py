"""Pausing a subscription Stripe bills (decision 0035): `pause_collection` set and cleared at
Stripe first, in the pinned API's shape, and Stripe's webhooks reconciling the mirror."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from masthead.billing import provider_events as pe
from masthead.billing.stripe import events as stripe_events
from masthead.core import clock
from masthead.subscriptions.entitlements import entitlement_for
from masthead.subscriptions.models import EventKind, Status, SubscriptionEvent
from tests.billing import stripe_shapes as shapes
from tests.billing.test_stripe_round_trip import (  # noqa: F401
    DAY,
    deliver_all,
    priced,
    reader,
    stripe_now,
    subscribed,
)

pytestmark = pytest.mark.django_db(transaction=True)


def pause_requests(stripe_double) -> list:
    return [
        r
        for r in stripe_double.requests
        if r.method == "POST"
        and r.path.startswith("/v1/subscriptions/")
        and "pause_collection" in r.params
    ]


def test_pausing_sets_pause_collection_at_stripe_then_the_webhook_confirms(
    client,
    subscribed,
    stripe_double,
    deliver,
):
    stripe_double.now += 5 * DAY
    response = client.post("/account/subscription/pause/", {"months": "2"})
    assert response.status_code == 302
    sent = pause_requests(stripe_double)
    assert len(sent) == 1
    subscribed.refresh_from_db()
    resumes_at = int(subscribed.paused_until.timestamp())
    assert sent[0].params["pause_collection"] == {"behavior": "void", "resumes_at": str(resumes_at)}
    assert sent[0].idempotency_key.startswith(f"sub-{subscribed.pk}-pause-")
    assert subscribed.status == Status.PAUSED
    remote = stripe_double.subscriptions[subscribed.provider_ref]
    assert remote["pause_collection"] == {"behavior": "void", "resumes_at": resumes_at}
    assert remote["status"] == "active"  # Stripe's status does not change
    deliver_all(deliver, stripe_double)
    subscribed.refresh_from_db()
    assert (subscribed.status, int(subscribed.paused_until.timestamp())) == (
        Status.PAUSED,
        resumes_at,
    )
    assert not entitlement_for(subscribed.user_id, now=clock.now()).reads_everything


def test_resuming_early_clears_pause_collection_and_stripe_resuming_by_itself_reconciles(
    client,
    subscribed,
    stripe_double,
    deliver,
):
    client.post("/account/subscription/pause/", {"months": "1"})
    deliver_all(deliver, stripe_double)
    stripe_double.now += 3 * DAY
    client.post("/account/subscription/unpause/")
    sent = pause_requests(stripe_double)
    assert [r.params["pause_collection"] for r in sent][-1] == ""
    assert stripe_double.subscriptions[subscribed.provider_ref]["pause_collection"] is None
    deliver_all(deliver, stripe_double)
    subscribed.refresh_from_db()
    assert (subscribed.status, subscribed.paused_until) == (Status.ACTIVE, None)
    assert entitlement_for(subscribed.user_id, now=clock.now()).reads_everything
    # Paused again; this time Stripe resumes collecting by itself at `resumes_at` and says so.
    client.post("/account/subscription/pause/", {"months": "1"})
    deliver_all(deliver, stripe_double)
    remote = stripe_double.subscriptions[subscribed.provider_ref]
    stripe_double.now = remote["pause_collection"]["resumes_at"] + 60
    remote["pause_collection"] = None
    deliver(shapes.event("customer.subscription.updated", remote, created=stripe_double.now))
    subscribed.refresh_from_db()
    assert (subscribed.status, subscribed.paused_until) == (Status.ACTIVE, None)
    kinds = list(
        SubscriptionEvent.objects.filter(subscription=subscribed).values_list("kind", "to_status")
    )
    assert kinds.count((EventKind.PAUSED, "paused")) == 2
    assert kinds.count((EventKind.UNPAUSED, "active")) == 1  # the reader's early resume
    assert kinds[-1] == (EventKind.PROVIDER_SYNC, "active")  # Stripe's resume


def test_the_pinned_shape_of_a_paused_subscription_reads_as_paused():
    sub = shapes.subscription(
        "sub_paused",
        customer="cus_1",
        status="active",
        price_obj=shapes.price("price_monthly"),
        period_start=1_790_000_000,
        period_end=1_790_000_000 + 30 * DAY,
    )
    sub["pause_collection"] = {"behavior": "void", "resumes_at": 1_795_000_000}
    state = stripe_events.subscription_state(
        shapes.strict(shapes.event("customer.subscription.updated", sub, created=1_790_000_000))[
            "data"
        ]["object"]
    )
    assert (state.status, state.paused_until) == (
        pe.PAUSED,
        datetime.fromtimestamp(1_795_000_000, tz=UTC),
    )
    sub["pause_collection"] = None
    assert stripe_events.subscription_state(sub).status == pe.ACTIVE
