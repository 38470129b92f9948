"""Cards and charges for a subscription: the pending payment, and the ledger rows that
settle it (two phases, `billing.payments`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from masthead.billing import payments
from masthead.billing.models import EntryKind, LedgerEntry, Payment, PaymentMethod
from masthead.billing.providers import SavedCard
from masthead.subscriptions.actions.transitions import transition
from masthead.subscriptions.models import EventKind, Subscription


def save_card(user: Any, card: SavedCard, provider: str, *, now: datetime) -> PaymentMethod:
    PaymentMethod.objects.filter(user=user, replaced_at__isnull=True).update(replaced_at=now)
    return PaymentMethod.objects.create(
        user=user,
        provider=provider,
        provider_ref=card.provider_ref,
        brand=card.brand,
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
    )


def reusable(subject: str) -> Payment | None:
    """The attempt a retry must reuse: a pending or succeeded one (never a declined one)."""
    found = payments.latest(subject)
    if found is not None and found.status != "failed":
        return found
    return None


def write_charge(
    subscription: Subscription,
    *,
    amount_minor: int,
    period_number: int | None,
    period_start: datetime | None,
    period_end: datetime | None,
    description: str,
    provider_ref: str | None,
    now: datetime,
    credit_minor: int = 0,
    currency: str | None = None,
    payment: Payment | None = None,
) -> LedgerEntry:
    """The ledger rows of a charge: the period's gross price, and the credit applied to it."""
    currency = currency or subscription.plan.currency
    entry = LedgerEntry.objects.create(
        user_id=subscription.user_id,
        subscription=subscription,
        kind=EntryKind.CHARGE,
        amount_minor=amount_minor + credit_minor,
        currency=currency,
        period_number=period_number,
        period_start=period_start,
        period_end=period_end,
        description=description,
        provider=subscription.provider,
        provider_ref=provider_ref or None,
        payment=payment,
        at=now,
    )
    if credit_minor:
        LedgerEntry.objects.create(
            user_id=subscription.user_id,
            subscription=subscription,
            kind=EntryKind.CREDIT,
            amount_minor=-credit_minor,
            currency=currency,
            period_number=period_number,
            related=entry,
            description="Credit for the unused part of the previous plan",
            provider=subscription.provider,
            at=now,
        )
    return entry


def record_unplanned(
    payment: Payment, outcome: payments.Outcome, sub: Subscription, *, now: datetime
) -> LedgerEntry:
    """Money the provider took for a move that can no longer apply (the subscription moved
    on while the payment was pending): it still gets its ledger and history rows, marked
    for staff to refund, so no payment is ever missing from the books."""
    entry = write_charge(
        sub,
        amount_minor=payment.amount_minor,
        period_number=None,
        period_start=None,
        period_end=None,
        description=f"{payment.description} (not applied: refund)",
        provider_ref=outcome.provider_ref,
        now=now,
        currency=payment.currency,
        payment=payment,
    )
    transition(
        sub,
        sub.status,
        EventKind.PAYMENT_RECORDED,
        at=now,
        reason="Paid after the subscription had moved on; refund it",
        data={"payment": payment.idempotency_key, "charged": payment.amount_minor},
    )
    payments.mark_succeeded(payment, outcome, now=now)
    return entry
