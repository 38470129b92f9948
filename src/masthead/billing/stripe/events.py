"""Stripe webhook events at the pinned API version, parsed into provider-neutral changes.

Field mapping (since 2025-03-31.basil, kept by the version the SDK pins):

- a subscription's period is on its items: `items.data[].current_period_start/_end`;
- its prices: `items.data[].price.id`;
- an invoice names its subscription at `parent.subscription_details.subscription`;
- an invoice's period is on its lines: `lines.data[].period.start/end`;
- a paused collection is `pause_collection` (`behavior`, `resumes_at`); the status stays
  `active` (Stripe's own `paused` status is for trials that ended without a card).

Only fields that exist at the pinned version are read: the tests hand this module payloads that
raise on any other field (`tests/billing/stripe_shapes.py`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from masthead.billing import provider_events as pe


class Unreadable(ValueError):
    """The event lacks a field the pinned version always sends."""


STATUS = {
    "trialing": pe.TRIALING,
    "active": pe.ACTIVE,
    "past_due": pe.PAST_DUE,
    "canceled": pe.EXPIRED,
    "unpaid": pe.EXPIRED,
    "incomplete_expired": pe.EXPIRED,
    "incomplete": None,
    "paused": None,
}

SUBSCRIPTION_EVENTS = (
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
)
PAID_EVENTS = ("invoice.paid", "invoice.payment_succeeded")
FAILED_EVENTS = ("invoice.payment_failed",)
CHECKOUT_EVENTS = ("checkout.session.completed",)
HANDLED = SUBSCRIPTION_EVENTS + PAID_EVENTS + FAILED_EVENTS + CHECKOUT_EVENTS


def stamp(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value), tz=UTC)


def _id(value: Any) -> str:
    """An expandable field: an id, or the expanded object."""
    if isinstance(value, dict):
        return str(value["id"])
    return str(value or "")


def subscription_state(obj: Any, *, deleted: bool = False) -> pe.SubscriptionState:
    """A subscription object (from an event or a re-fetch) as Masthead reads it."""
    items = obj["items"]["data"]
    if not items:
        raise Unreadable(f"subscription {obj['id']} has no items")
    first = items[0]
    provider_status = str(obj["status"])
    status = pe.EXPIRED if deleted else STATUS.get(provider_status)
    cancelling = bool(obj["cancel_at_period_end"]) or obj.get("cancel_at") is not None
    if status == pe.ACTIVE and cancelling:
        status = pe.CANCELLED
    pause = obj.get("pause_collection")
    paused_until = None
    if pause and status == pe.ACTIVE:
        status = pe.PAUSED
        paused_until = stamp(pause["resumes_at"]) if pause.get("resumes_at") else None
    trial_end = obj.get("trial_end")
    return pe.SubscriptionState(
        customer_ref=_id(obj["customer"]),
        subscription_ref=str(obj["id"]),
        status=status,
        provider_status=provider_status,
        price_refs=tuple(_id(item["price"]) for item in items),
        period_start=stamp(first["current_period_start"]),
        period_end=stamp(first["current_period_end"]),
        trial_end=stamp(trial_end) if trial_end else None,
        cancel_at_period_end=cancelling,
        paused_until=paused_until,
    )


def invoice_subscription(obj: Any) -> str:
    parent = obj.get("parent")
    details = parent.get("subscription_details") if parent else None
    return _id(details["subscription"]) if details else ""


def _invoice_period(obj: Any) -> tuple[datetime, datetime]:
    lines = obj["lines"]["data"]
    if not lines:
        return stamp(obj["created"]), stamp(obj["created"])
    # A proration invoice has a credit line and a charge line: the period paid for is the
    # latest line's.
    latest = max(lines, key=lambda line: int(line["period"]["end"]))
    return stamp(latest["period"]["start"]), stamp(latest["period"]["end"])


def parse(event: Any) -> pe.ProviderEvent:
    """One verified event → a ProviderEvent (its `change` is None for unused event types)."""
    kind = str(event["type"])
    obj = event["data"]["object"]
    change: Any = None
    unused = ""
    if kind in SUBSCRIPTION_EVENTS:
        change = subscription_state(obj, deleted=kind == "customer.subscription.deleted")
    elif kind in PAID_EVENTS:
        if obj["status"] != "paid":
            unused = f"invoice {obj['id']} is {obj['status']}, not paid"
        else:
            start, end = _invoice_period(obj)
            change = pe.PaymentSucceeded(
                customer_ref=_id(obj["customer"]),
                subscription_ref=invoice_subscription(obj),
                payment_ref=str(obj["id"]),
                amount_minor=int(obj["amount_paid"]),
                currency=str(obj["currency"]).upper(),
                period_start=start,
                period_end=end,
            )
    elif kind in FAILED_EVENTS:
        change = pe.PaymentFailed(
            customer_ref=_id(obj["customer"]),
            subscription_ref=invoice_subscription(obj),
            payment_ref=str(obj["id"]),
            attempt_count=int(obj["attempt_count"]),
            next_attempt=stamp(obj["next_payment_attempt"])
            if obj.get("next_payment_attempt")
            else None,
        )
    elif kind in CHECKOUT_EVENTS:
        if obj["mode"] != "subscription":
            unused = f"checkout session in {obj['mode']} mode"
        else:
            change = pe.CheckoutCompleted(
                customer_ref=_id(obj["customer"]),
                subscription_ref=_id(obj["subscription"]),
                session_ref=str(obj["id"]),
                client_reference_id=str(obj.get("client_reference_id") or ""),
                paid=obj["payment_status"] in ("paid", "no_payment_required"),
            )
    else:
        unused = f"event type {kind} is not used"
    return pe.ProviderEvent(
        event_id=str(event["id"]),
        kind=kind,
        created=stamp(event["created"]),
        livemode=bool(event["livemode"]),
        account=event.get("account") or None,
        change=change,
        unused_reason=unused,
    )
