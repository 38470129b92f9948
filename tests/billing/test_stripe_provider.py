"""The Stripe provider's calls, answered by the local Stripe double in the pinned shape."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from masthead.billing import provider_events as pe
from masthead.billing.providers import ChargeFailed, PaymentError, PaymentPending
from masthead.billing.stripe.provider import StripeProvider, live_key
from tests import factories
from tests.billing.stripe_shapes import API_VERSION

pytestmark = pytest.mark.django_db


class Plan:
    slug, stripe_price_id = "monthly", "price_monthly"


@pytest.fixture
def paid(stripe_double):
    """A reader who went through Checkout at the double: (provider, reader, subscription)."""
    reader = factories.user("paid@example.com")
    provider = StripeProvider()
    url = provider.start_checkout(
        user=reader,
        plan=Plan,
        offer=None,
        success_url="http://testserver/checkout/return/",
        cancel_url="http://testserver/offers/",
        idempotency_key="key-1",
    )
    session_ref = url.rsplit("/", 1)[1]
    sub = stripe_double.complete_checkout(session_ref)
    stripe_double.take_events()
    return provider, reader, sub


def test_every_request_carries_the_pinned_api_version(paid, stripe_double):
    assert {r.stripe_version for r in stripe_double.requests} == {API_VERSION}


def test_checkout_uses_the_servers_price_and_a_return_url_stripe_fills_in(stripe_double):
    reader = factories.user("checkout@example.com")
    url = StripeProvider().start_checkout(
        user=reader,
        plan=Plan,
        offer=None,
        success_url="http://testserver/checkout/return/",
        cancel_url="http://testserver/offers/",
        idempotency_key="abc",
    )
    sent = stripe_double.requests[-1]
    assert sent.path == "/v1/checkout/sessions"
    assert sent.idempotency_key == "checkout-abc"
    assert sent.params["line_items"] == [{"price": "price_monthly", "quantity": "1"}]
    assert sent.params["success_url"] == (
        "http://testserver/checkout/return/?session_id={CHECKOUT_SESSION_ID}"
    )
    assert sent.params["client_reference_id"] == str(reader.pk)
    session = StripeProvider().checkout_session(url.rsplit("/", 1)[1])
    assert (session.status, session.paid, session.subscription_ref) == ("open", False, "")


def test_checkout_without_a_stripe_price_is_refused_before_calling_stripe(stripe_double):
    class Unpriced:
        slug, stripe_price_id = "x", ""

    with pytest.raises(PaymentError, match="cannot be bought online"):
        StripeProvider().start_checkout(
            user=factories.user("u@example.com"),
            plan=Unpriced,
            offer=None,
            success_url="http://t/",
            cancel_url="http://t/",
        )
    assert stripe_double.requests == []


def test_cancel_at_period_end_then_resume(paid, stripe_double):
    provider, _, sub = paid
    state = provider.cancel_subscription(sub["id"], at_period_end=True, idempotency_key="c1")
    assert (state.status, state.cancel_at_period_end) == (pe.CANCELLED, True)
    assert stripe_double.subscriptions[sub["id"]]["cancel_at_period_end"] is True
    state = provider.resume_subscription(sub["id"], idempotency_key="r1")
    assert (state.status, state.cancel_at_period_end) == (pe.ACTIVE, False)
    assert [r.idempotency_key for r in stripe_double.requests[-2:]] == ["c1", "r1"]


def test_staff_cancel_ends_the_subscription_at_once(paid, stripe_double):
    provider, _, sub = paid
    state = provider.cancel_subscription(sub["id"], at_period_end=False, idempotency_key="c2")
    assert (state.status, state.provider_status) == (pe.EXPIRED, "canceled")
    assert stripe_double.requests[-1].method == "DELETE"


def test_upgrade_is_prorated_by_whole_days_and_charged_as_previewed(paid, stripe_double):
    provider, _, sub = paid
    stripe_double.now += 10 * 86400 + 3600  # 10 days and an hour into a 30-day period
    end = datetime.fromtimestamp(sub["items"]["data"][0]["current_period_end"], tz=UTC)
    now = datetime.fromtimestamp(stripe_double.now, tz=UTC)
    proration_date = provider.whole_day_proration_date(end, now)
    assert int(end.timestamp()) - proration_date == 19 * 86400  # 19 whole days left
    preview = provider.preview_plan_change(
        sub["id"], price_ref="price_annual", proration_date=proration_date
    )
    # Masthead's rule: paid * remaining_days // period_days = 1500 * 19 // 30 = 950.
    assert (preview.credit_minor, preview.amount_due_minor) == (950, 15000 - 950)
    state = provider.change_plan(
        sub["id"],
        price_ref="price_annual",
        immediate=True,
        proration_date=proration_date,
        idempotency_key="change-1",
    )
    assert state.price_refs == ("price_annual",)
    assert state.period_start == now
    paid_invoice = stripe_double.invoices[stripe_double.subscriptions[sub["id"]]["latest_invoice"]]
    assert (paid_invoice["status"], paid_invoice["amount_paid"]) == ("paid", 14050)


def test_declined_upgrade_changes_nothing_at_stripe(paid, stripe_double):
    provider, _, sub = paid
    stripe_double.decline_next_payment = True
    with pytest.raises(ChargeFailed, match="declined"):
        provider.change_plan(
            sub["id"],
            price_ref="price_annual",
            immediate=True,
            proration_date=stripe_double.now,
            idempotency_key="change-2",
        )
    assert stripe_double.subscriptions[sub["id"]]["items"]["data"][0]["price"]["id"] == (
        "price_monthly"
    )


def test_downgrade_changes_the_price_without_proration(paid, stripe_double):
    provider, _, sub = paid
    stripe_double.invoices.clear()
    state = provider.change_plan(
        sub["id"], price_ref="price_monthly", immediate=False, proration_date=0, idempotency_key="d"
    )
    assert state.price_refs == ("price_monthly",)
    assert stripe_double.requests[-1].params["proration_behavior"] == "none"
    assert stripe_double.invoices == {}


def test_a_refund_of_an_invoice_goes_to_its_payment_intent(paid, stripe_double):
    provider, _, sub = paid
    invoice = stripe_double.subscriptions[sub["id"]]["latest_invoice"]
    refund_ref = provider.refund(charge_ref=invoice, amount_minor=500, idempotency_key="rf-1")
    sent = stripe_double.requests[-1]
    assert sent.path == "/v1/refunds" and "invoice" not in sent.params
    intent = stripe_double.invoice_payments[invoice][0]["payment"]["payment_intent"]
    assert sent.params == {
        "payment_intent": intent,
        "amount": "500",
        "metadata": {"masthead_key": "rf-1"},
    }
    assert stripe_double.refunds[0]["id"] == refund_ref


def test_a_refund_of_something_that_is_not_a_payment_is_refused(stripe_double):
    with pytest.raises(PaymentError, match="no paid payment"):
        StripeProvider().refund(charge_ref="in_unknown", amount_minor=1, idempotency_key="x")
    with pytest.raises(PaymentError, match="not a Stripe payment"):
        StripeProvider().refund(charge_ref="sub_1", amount_minor=1, idempotency_key="y")


@pytest.mark.parametrize(
    ("status", "error"),
    [
        ("processing", PaymentPending),
        ("requires_action", ChargeFailed),
        ("requires_payment_method", ChargeFailed),
        ("canceled", ChargeFailed),
    ],
)
def test_a_returned_payment_intent_is_paid_only_when_it_succeeded(stripe_double, status, error):
    stripe_double.next_intent_status = status
    with pytest.raises(error):
        StripeProvider().charge(
            user=factories.user(f"{status}@example.com"),
            card_ref="pm_1",
            amount_minor=1500,
            currency="USD",
            idempotency_key=f"k-{status}",
            description="x",
            off_session=True,
        )


def test_a_succeeded_payment_intent_is_a_charge(stripe_double):
    charge = StripeProvider().charge(
        user=factories.user("ok@example.com"),
        card_ref="pm_1",
        amount_minor=1500,
        currency="USD",
        idempotency_key="k-ok",
        description="x",
        off_session=True,
    )
    assert charge.provider_ref.startswith("pi_") and charge.amount_minor == 1500
    stripe_double.decline_next_payment = True
    with pytest.raises(ChargeFailed, match="declined"):
        StripeProvider().charge(
            user=factories.user("no@example.com"),
            card_ref="pm_1",
            amount_minor=1500,
            currency="USD",
            idempotency_key="k-no",
            description="x",
            off_session=True,
        )


def test_the_customer_portal_is_opened_for_the_readers_own_customer(paid, stripe_double):
    provider, reader, sub = paid
    url = provider.portal_url(reader, return_url="http://testserver/account/")
    assert url.startswith(f"{stripe_double.url}/portal/bps_")
    assert stripe_double.requests[-1].params == {
        "customer": sub["customer"],
        "return_url": "http://testserver/account/",
    }


def test_live_keys_are_told_from_test_keys():
    assert live_key("sk_live_abc") and live_key("rk_live_abc")
    assert not live_key("sk_test_abc") and not live_key("")
