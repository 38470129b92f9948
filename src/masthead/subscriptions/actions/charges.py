"""Cards and charges for a subscription: the provider call and the ledger rows it leaves."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from masthead.billing.models import EntryKind, LedgerEntry, PaymentMethod
from masthead.billing.providers import ChargeFailed, SavedCard, get_provider
from masthead.subscriptions.models import Subscription


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


def charge_period(
    subscription: Subscription,
    *,
    amount_minor: int,
    period_number: int,
    period_start: datetime,
    period_end: datetime,
    description: str,
    now: datetime,
    off_session: bool,
    credit_minor: int = 0,
) -> LedgerEntry:
    """Charge the provider for one period and write the ledger rows. Raises ChargeFailed."""
    currency = subscription.plan.currency
    charge_ref = None
    if amount_minor > 0:
        card = PaymentMethod.current_for(subscription.user_id)
        if card is None:
            raise ChargeFailed("There is no card on file.")
        charge = get_provider(subscription.provider).charge(
            user=subscription.user,
            card_ref=card.provider_ref,
            amount_minor=amount_minor,
            currency=currency,
            idempotency_key=f"sub-{subscription.pk}-period-{period_number}",
            description=description,
            off_session=off_session,
        )
        charge_ref = charge.provider_ref
    return write_charge(
        subscription,
        amount_minor=amount_minor,
        credit_minor=credit_minor,
        period_number=period_number,
        period_start=period_start,
        period_end=period_end,
        description=description,
        provider_ref=charge_ref,
        now=now,
    )


def write_charge(
    subscription: Subscription,
    *,
    amount_minor: int,
    period_number: int,
    period_start: datetime,
    period_end: datetime,
    description: str,
    provider_ref: str | None,
    now: datetime,
    credit_minor: int = 0,
    currency: str | None = None,
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
        provider_ref=provider_ref,
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
