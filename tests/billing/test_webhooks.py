"""Stripe webhooks signed like Stripe: verified, stored by id, applied once and in order."""

from __future__ import annotations

import time
from io import StringIO

import pytest
from django.core.management import call_command

from masthead.billing.models import LedgerEntry, ProviderCustomer, WebhookEvent, WebhookStatus
from masthead.subscriptions import actions
from masthead.subscriptions.models import Status, Subscription
from tests import factories
from tests.subscriptions.conftest import NOW, card

pytestmark = pytest.mark.django_db

T0 = 1_790_000_000  # event creation times (unix seconds)
PERIOD = (1_790_000_000, 1_792_600_000)


@pytest.fixture
def stripe_reader(catalog):
    catalog.monthly.stripe_price_id = "price_monthly"
    catalog.monthly.save()
    reader = factories.user("stripe-reader@example.com")
    ProviderCustomer.objects.create(user=reader, provider="stripe", provider_ref="cus_reader")
    return reader


def subscription_event(
    event_id: str,
    *,
    created: int,
    status: str = "active",
    kind: str = "customer.subscription.updated",
    cancel_at_period_end: bool = False,
    customer: str = "cus_reader",
    **extra,
) -> dict:
    return {
        "id": event_id,
        "object": "event",
        "type": kind,
        "created": created,
        "data": {
            "object": {
                "id": "sub_1",
                "object": "subscription",
                "customer": customer,
                "status": status,
                "cancel_at_period_end": cancel_at_period_end,
                "current_period_start": PERIOD[0],
                "current_period_end": PERIOD[1],
                "trial_end": None,
                "items": {"data": [{"price": {"id": "price_monthly"}}]},
            }
        },
        **extra,
    }


def invoice_event(event_id: str, *, created: int, invoice: str = "in_1") -> dict:
    return {
        "id": event_id,
        "object": "event",
        "type": "invoice.paid",
        "created": created,
        "data": {
            "object": {
                "id": invoice,
                "object": "invoice",
                "subscription": "sub_1",
                "amount_paid": 1500,
                "currency": "usd",
                "created": created,
                "lines": {"data": [{"period": {"start": PERIOD[0], "end": PERIOD[1]}}]},
            }
        },
    }


def test_valid_events_create_the_subscription_and_record_the_payment(stripe_reader, deliver):
    created = deliver(subscription_event("evt_1", created=T0, kind="customer.subscription.created"))
    paid = deliver(invoice_event("evt_2", created=T0 + 1))
    assert (created.status_code, created.json()) == (200, {"status": "applied"})
    assert paid.status_code == 200
    sub = Subscription.objects.get(user=stripe_reader)
    assert (sub.status, sub.provider, sub.provider_ref, sub.paid_periods) == (
        Status.ACTIVE,
        "stripe",
        "sub_1",
        1,
    )
    assert [(e.kind, e.amount_minor, e.provider_ref) for e in LedgerEntry.objects.all()] == [
        ("charge", 1500, "in_1")
    ]


@pytest.mark.parametrize(
    "tampering",
    [
        {"tamper": True},
        {"secret": "whsec_someone_else"},
        {"timestamp": int(time.time()) - 301},
    ],
    ids=["tampered body", "wrong secret", "stale timestamp"],
)
def test_unverifiable_deliveries_are_refused_and_change_nothing(
    stripe_reader, deliver, tampering, caplog
):
    response = deliver(
        subscription_event("evt_1", created=T0, kind="customer.subscription.created"),
        **tampering,
    )
    assert (response.status_code, response.json()) == (400, {"error": "invalid_signature"})
    assert not Subscription.objects.exists() and not WebhookEvent.objects.exists()
    assert "Stripe webhook refused" in caplog.text


def test_unreadable_or_unsigned_payloads_get_a_json_error(stripe_reader, client, settings):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_x"
    response = client.post("/webhooks/stripe/", data=b"{", content_type="application/json")
    assert response.status_code == 400 and response.json()["error"] == "invalid_signature"
    assert client.get("/webhooks/stripe/").status_code == 405


def test_missing_secret_is_an_operator_error_not_a_crash(client, settings, caplog):
    settings.STRIPE_WEBHOOK_SECRET = ""
    response = client.post(
        "/webhooks/stripe/",
        data=b"{}",
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE="t=1,v1=00",
    )
    assert (response.status_code, response.json()) == (503, {"error": "webhooks_not_configured"})
    assert "STRIPE_WEBHOOK_SECRET is not set" in caplog.text


def test_replayed_event_changes_nothing(stripe_reader, deliver):
    deliver(subscription_event("evt_1", created=T0, kind="customer.subscription.created"))
    deliver(invoice_event("evt_2", created=T0 + 1))
    deliver(
        subscription_event(
            "evt_3", created=T0 + 5, kind="customer.subscription.deleted", status="canceled"
        )
    )
    replay = deliver(invoice_event("evt_2", created=T0 + 1))
    again = deliver(subscription_event("evt_1", created=T0, kind="customer.subscription.created"))
    assert replay.json() == again.json() == {"status": "duplicate"}
    assert LedgerEntry.objects.count() == 1
    assert Subscription.objects.get().status == Status.EXPIRED
    assert WebhookEvent.objects.count() == 3


def test_out_of_order_pair_ends_in_the_latest_state(stripe_reader, deliver):
    # Stripe sends created (t0) then updated with cancel_at_period_end (t0+10); they arrive
    # the other way round.
    later = subscription_event("evt_b", created=T0 + 10, cancel_at_period_end=True)
    earlier = subscription_event("evt_a", created=T0, kind="customer.subscription.created")
    assert deliver(later).json() == {"status": "applied"}
    assert deliver(earlier).json() == {"status": "applied"}
    sub = Subscription.objects.get()
    assert (sub.status, sub.auto_renew) == (Status.CANCELLED, False)
    assert WebhookEvent.objects.get(event_id="evt_a").note == "older than the state already applied"


def test_deletion_then_a_late_update_stays_expired(stripe_reader, deliver):
    deliver(subscription_event("evt_1", created=T0, kind="customer.subscription.created"))
    deliver(
        subscription_event(
            "evt_3", created=T0 + 20, kind="customer.subscription.deleted", status="canceled"
        )
    )
    deliver(subscription_event("evt_2", created=T0 + 10, status="past_due"))
    assert Subscription.objects.get().status == Status.EXPIRED


def test_event_for_another_account_is_ignored_and_logged(stripe_reader, deliver, caplog):
    event = subscription_event(
        "evt_1", created=T0, kind="customer.subscription.created", account="acct_elsewhere"
    )
    response = deliver(event)
    assert (response.status_code, response.json()) == (200, {"status": "ignored"})
    assert not Subscription.objects.exists()
    stored = WebhookEvent.objects.get()
    assert (stored.status, stored.note) == (
        WebhookStatus.IGNORED,
        "event for another Stripe account acct_elsewhere",
    )
    assert "acct_elsewhere" in caplog.text


def test_event_for_an_unknown_customer_is_ignored(stripe_reader, deliver):
    response = deliver(subscription_event("evt_1", created=T0, customer="cus_stranger"))
    assert response.json() == {"status": "ignored"}
    assert not Subscription.objects.exists()


def test_failed_event_is_stored_answered_500_and_retried_by_the_operator(
    stripe_reader, deliver, catalog
):
    local = actions.subscribe(
        stripe_reader, plan=catalog.monthly, card=card(stripe_reader), now=NOW
    )
    response = deliver(
        subscription_event("evt_1", created=T0, kind="customer.subscription.created")
    )
    assert (response.status_code, response.json()) == (500, {"error": "apply_failed"})
    assert WebhookEvent.objects.get().status == WebhookStatus.FAILED
    # The runbook: end the conflicting subscription, then apply the stored event again.
    actions.cancel(local, now=NOW, reason="Moved to Stripe", immediately=True)
    out = StringIO()
    call_command("billing_webhooks", "retry", stdout=out)
    assert "evt_1 customer.subscription.created: {'status': 'applied'}" in out.getvalue()
    assert Subscription.objects.get(provider="stripe").status == Status.ACTIVE


def test_invoice_before_its_subscription_is_retried_and_then_recorded(stripe_reader, deliver):
    invoice = invoice_event("evt_2", created=T0 + 1) | {}
    invoice["data"]["object"]["customer"] = "cus_reader"
    early = deliver(invoice)
    assert (early.status_code, early.json()) == (500, {"error": "apply_failed"})
    assert LedgerEntry.objects.count() == 0
    deliver(subscription_event("evt_1", created=T0, kind="customer.subscription.created"))
    retried = deliver(invoice)  # Stripe delivers it again
    assert retried.json() == {"status": "applied"}
    assert [e.amount_minor for e in LedgerEntry.objects.all()] == [1500]
