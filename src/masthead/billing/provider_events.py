"""What a payment provider told us, in Masthead's words (no provider's field names).

The Stripe webhook parser (`billing/stripe/events.py`) turns an event at the pinned API version
into one of these; applying them to subscriptions is the subscriptions domain's business.
Statuses are the values of `subscriptions.models.Status` (kept as plain strings here so that the
payments layer does not depend on the subscriptions domain).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

TRIALING, ACTIVE, PAST_DUE, CANCELLED, EXPIRED, PAUSED = (
    "trialing",
    "active",
    "past_due",
    "cancelled",
    "expired",
    "paused",
)


@dataclass(frozen=True)
class SubscriptionState:
    """The provider's copy of a subscription at one moment."""

    customer_ref: str
    subscription_ref: str
    status: str | None  # None: a provider state that grants nothing yet (incomplete, paused)
    provider_status: str
    price_refs: tuple[str, ...]
    period_start: datetime
    period_end: datetime
    trial_end: datetime | None
    cancel_at_period_end: bool
    # Collection paused (Stripe's `pause_collection`): status PAUSED, resuming at this moment.
    paused_until: datetime | None = None


@dataclass(frozen=True)
class PaymentSucceeded:
    """An invoice paid: money the provider holds for one period."""

    customer_ref: str
    subscription_ref: str
    payment_ref: str  # the invoice; refunds resolve it to its PaymentIntent or charge
    amount_minor: int
    currency: str
    period_start: datetime
    period_end: datetime


@dataclass(frozen=True)
class PaymentFailed:
    customer_ref: str
    subscription_ref: str
    payment_ref: str
    attempt_count: int
    # When the provider tries again on its own (Stripe's `next_payment_attempt`); None when
    # it will not (its retries are over, or it waits for a new card).
    next_attempt: datetime | None = None


@dataclass(frozen=True)
class CheckoutCompleted:
    customer_ref: str
    subscription_ref: str
    session_ref: str
    client_reference_id: str
    paid: bool


@dataclass(frozen=True)
class ProviderEvent:
    event_id: str
    kind: str
    created: datetime
    livemode: bool
    account: str | None
    change: SubscriptionState | PaymentSucceeded | PaymentFailed | CheckoutCompleted | None = None
    unused_reason: str = field(default="")
