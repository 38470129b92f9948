"""Money back: a refund of (part of) a charge, with the staff member and the reason."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from masthead.billing.models import EntryKind, LedgerEntry
from masthead.billing.providers import get_provider
from masthead.core.money import format_money
from masthead.subscriptions.actions.errors import SubscriptionError
from masthead.subscriptions.actions.transitions import lock, transition
from masthead.subscriptions.models import EventKind


def refund(
    charge: LedgerEntry,
    *,
    now: datetime,
    actor: Any,
    reason: str,
    amount_minor: int | None = None,
) -> LedgerEntry:
    """Return money for a charge (all that is left of it by default), with the reason."""
    if not reason.strip():
        raise SubscriptionError("Say why the money is returned.")
    with transaction.atomic():
        sub = lock(charge.subscription)
        charge = LedgerEntry.objects.get(pk=charge.pk)
        if charge.kind != EntryKind.CHARGE:
            raise SubscriptionError("Only a charge can be refunded.")
        left = charge.refundable_minor()
        amount = left if amount_minor is None else amount_minor
        if amount <= 0 or amount > left:
            raise SubscriptionError(
                f"Refund between {format_money(1, charge.currency)} and "
                f"{format_money(left, charge.currency)}."
            )
        refund_number = charge.adjustments.filter(kind=EntryKind.REFUND).count() + 1
        provider_ref = None
        if charge.provider_ref:
            provider_ref = get_provider(charge.provider).refund(
                charge_ref=charge.provider_ref,
                amount_minor=amount,
                idempotency_key=f"refund-{charge.pk}-{refund_number}",
            )
        entry = LedgerEntry.objects.create(
            user_id=charge.user_id,
            subscription=sub,
            kind=EntryKind.REFUND,
            amount_minor=-amount,
            currency=charge.currency,
            related=charge,
            description=f"Refund of {charge.receipt_number}",
            provider=charge.provider,
            provider_ref=provider_ref,
            actor=actor if getattr(actor, "pk", None) else None,
            reason=reason,
            at=now,
        )
        transition(
            sub,
            sub.status,
            EventKind.REFUNDED,
            at=now,
            actor=actor,
            reason=reason,
            data={"amount": amount, "charge": charge.pk},
        )
        return entry
