"""The webhook parser reads Stripe at the API version the SDK pins, and nothing else.

Payloads come from `stripe_shapes` (checked against the SDK's own type annotations) and are
handed to the parser wrapped by `strict`, which raises on any field the pinned version lacks:
these tests fail the day the parser reads a field that is not in the pinned version.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import stripe

from masthead.billing import provider_events as pe
from masthead.billing.stripe import events
from tests.billing import stripe_shapes as shapes

T0 = 1_790_000_000
END = T0 + 30 * 86400
PRICE = shapes.price("price_monthly", amount=1500)


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def sub_obj(**overrides):
    values = {
        "customer": "cus_reader",
        "status": "active",
        "price_obj": PRICE,
        "period_start": T0,
        "period_end": END,
    } | overrides
    return shapes.subscription("sub_1", **values)


def invoice_obj(status: str = "paid", **overrides):
    values = {
        "customer": "cus_reader",
        "subscription_id": "sub_1",
        "amount": 1500,
        "status": status,
        "period_start": T0,
        "period_end": END,
        "price_id": "price_monthly",
        "created": T0,
    } | overrides
    return shapes.invoice("in_1", **values)


def parse(kind: str, obj: dict, **extra) -> pe.ProviderEvent:
    return events.parse(shapes.strict(shapes.event(kind, obj, created=T0 + 5, **extra)))


def test_the_sdk_pins_an_api_version_after_basil():
    assert shapes.API_VERSION == stripe.api_version == "2026-10-28.endive"
    # basil (2025-03-31) moved the period to the items and the invoice's subscription to parent.
    assert "current_period_end" not in shapes.fields_of(stripe.Subscription)
    assert "current_period_end" in shapes.fields_of(stripe.SubscriptionItem)
    assert "subscription" not in shapes.fields_of(stripe.Invoice)
    assert "subscription" in shapes.fields_of(stripe.Invoice.Parent.SubscriptionDetails)


@pytest.mark.parametrize(
    ("kind", "status", "cancel", "expected"),
    [
        ("customer.subscription.created", "active", False, pe.ACTIVE),
        ("customer.subscription.created", "trialing", False, pe.TRIALING),
        ("customer.subscription.updated", "active", True, pe.CANCELLED),
        ("customer.subscription.updated", "past_due", False, pe.PAST_DUE),
        ("customer.subscription.updated", "unpaid", False, pe.EXPIRED),
        ("customer.subscription.updated", "incomplete", False, None),
        ("customer.subscription.updated", "paused", False, None),
        ("customer.subscription.deleted", "canceled", False, pe.EXPIRED),
    ],
)
def test_subscription_events_read_the_period_from_the_items(kind, status, cancel, expected):
    trial_end = END if status == "trialing" else None
    parsed = parse(kind, sub_obj(status=status, cancel_at_period_end=cancel, trial_end=trial_end))
    assert parsed.change == pe.SubscriptionState(
        customer_ref="cus_reader",
        subscription_ref="sub_1",
        status=expected,
        provider_status=status,
        price_refs=("price_monthly",),
        period_start=at(T0),
        period_end=at(END),
        trial_end=at(END) if trial_end else None,
        cancel_at_period_end=cancel,
    )
    assert (parsed.kind, parsed.created, parsed.livemode, parsed.account) == (
        kind,
        at(T0 + 5),
        False,
        None,
    )


@pytest.mark.parametrize("kind", ["invoice.paid", "invoice.payment_succeeded"])
def test_paid_invoices_name_their_subscription_under_parent(kind):
    parsed = parse(kind, invoice_obj())
    assert parsed.change == pe.PaymentSucceeded(
        customer_ref="cus_reader",
        subscription_ref="sub_1",
        payment_ref="in_1",
        amount_minor=1500,
        currency="USD",
        period_start=at(T0),
        period_end=at(END),
    )


def test_an_invoice_event_that_is_not_paid_records_nothing():
    parsed = parse("invoice.payment_succeeded", invoice_obj(status="open"))
    assert (parsed.change, parsed.unused_reason) == (None, "invoice in_1 is open, not paid")


def test_a_failed_invoice_payment_is_read():
    parsed = parse("invoice.payment_failed", invoice_obj(status="open", attempt_count=2))
    assert parsed.change == pe.PaymentFailed(
        customer_ref="cus_reader", subscription_ref="sub_1", payment_ref="in_1", attempt_count=2
    )


def test_a_failed_invoice_says_when_stripe_tries_again():
    retry = T0 + 3 * 86400
    parsed = parse(
        "invoice.payment_failed",
        invoice_obj(status="open", attempt_count=1, next_payment_attempt=retry),
    )
    assert parsed.change == pe.PaymentFailed(
        customer_ref="cus_reader",
        subscription_ref="sub_1",
        payment_ref="in_1",
        attempt_count=1,
        next_attempt=datetime.fromtimestamp(retry, tz=UTC),
    )


def test_a_proration_invoice_pays_for_the_new_period():
    lines = [
        shapes.invoice_line(
            invoice_id="in_1",
            subscription_id="sub_1",
            amount=-500,
            period_start=T0 + 20 * 86400,
            period_end=END,
            price_id="price_monthly",
            proration=True,
        ),
        shapes.invoice_line(
            invoice_id="in_1",
            subscription_id="sub_1",
            amount=15000,
            period_start=T0 + 20 * 86400,
            period_end=T0 + 385 * 86400,
            price_id="price_annual",
        ),
    ]
    parsed = parse("invoice.paid", invoice_obj(amount=14500, lines=lines))
    assert isinstance(parsed.change, pe.PaymentSucceeded)
    assert (parsed.change.amount_minor, parsed.change.period_end) == (
        14500,
        at(T0 + 385 * 86400),
    )


def test_a_completed_checkout_session_is_read():
    session = shapes.checkout_session(
        "cs_1",
        customer="cus_reader",
        client_reference_id="42",
        url="https://checkout.example/cs_1",
        success_url="https://masthead.example/checkout/return/?session_id=cs_1",
        cancel_url="https://masthead.example/",
        status="complete",
        payment_status="paid",
        subscription_id="sub_1",
    )
    parsed = parse("checkout.session.completed", session)
    assert parsed.change == pe.CheckoutCompleted(
        customer_ref="cus_reader",
        subscription_ref="sub_1",
        session_ref="cs_1",
        client_reference_id="42",
        paid=True,
    )


def test_livemode_and_account_are_read_from_the_event():
    parsed = parse("customer.subscription.updated", sub_obj(), livemode=True, account="acct_9")
    assert (parsed.livemode, parsed.account) == (True, "acct_9")


def test_unused_event_types_are_named():
    parsed = parse("customer.created", {"id": "cus_1", "object": "customer", "email": None})
    assert (parsed.change, parsed.unused_reason) == (
        None,
        "event type customer.created is not used",
    )


def test_reading_a_field_the_pinned_version_lacks_fails_the_test():
    """The guard is not vacuous: the fields the pre-basil code read raise at once."""
    sub = shapes.strict(shapes.event("customer.subscription.updated", sub_obj(), created=T0))
    with pytest.raises(shapes.ShapeError, match="Subscription has no field 'current_period_end'"):
        sub["data"]["object"]["current_period_end"]
    invoice = shapes.strict(shapes.event("invoice.paid", invoice_obj(), created=T0))
    with pytest.raises(shapes.ShapeError, match="Invoice has no field 'subscription'"):
        invoice["data"]["object"].get("subscription")
    with pytest.raises(shapes.ShapeError, match="Invoice has no field 'payment_intent'"):
        "payment_intent" in invoice["data"]["object"]  # noqa: B015


def test_builders_refuse_fields_of_older_versions():
    with pytest.raises(shapes.ShapeError, match="current_period_start"):
        shapes.checked(sub_obj() | {"current_period_start": T0})
    with pytest.raises(shapes.ShapeError, match="subscription"):
        shapes.checked(invoice_obj() | {"subscription": "sub_1"})
    line = invoice_obj()["lines"]["data"][0]
    with pytest.raises(shapes.ShapeError, match="InvoiceLineItem has no field 'price'"):
        shapes.checked(line | {"price": PRICE})


def test_a_refetched_subscription_reads_the_same_way():
    remote = stripe.Subscription.construct_from(sub_obj(status="past_due"), "sk_test_x")
    state = events.subscription_state(remote.to_dict())
    assert (state.status, state.period_end) == (pe.PAST_DUE, at(END))
