"""Money back: a refund of (part of) a charge, with the staff member and the reason.

Two phases like a charge: a pending refund payment keyed `refund-<charge id>-<n>` (what is
pending counts as refunded already, so two refunds cannot exceed the charge, and retrying
the same refund reuses the pending one and its key), the provider call with nothing locked,
then the ledger row and history row in a second transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Sum

from masthead.billing import payments
from masthead.billing.models import EntryKind, LedgerEntry, Payment, PaymentKind, PaymentStatus
from masthead.core.money import format_money
from masthead.subscriptions.actions.errors import SubscriptionError
from masthead.subscriptions.actions.transitions import lock, transition
from masthead.subscriptions.models import EventKind, Subscription


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
    subject = f"refund-{charge.pk}"
    if charge.subscription is None:
        raise SubscriptionError("This charge is a gift's: refund it from the gift.")
    with transaction.atomic(durable=True):
        lock(charge.subscription)
        charge = LedgerEntry.objects.get(pk=charge.pk)
        if charge.kind != EntryKind.CHARGE:
            raise SubscriptionError("Only a charge can be refunded.")
        pending = Payment.objects.filter(subject=subject, status=PaymentStatus.PENDING)
        retry = (pending.filter(amount_minor=amount_minor) if amount_minor else pending).first()
        if retry is None:
            in_flight = pending.aggregate(total=Sum("amount_minor"))["total"] or 0
            left = charge.refundable_minor() - in_flight
            amount = left if amount_minor is None else amount_minor
            if amount <= 0 or amount > left:
                raise SubscriptionError(
                    f"Refund between {format_money(1, charge.currency)} and "
                    f"{format_money(max(left, 1), charge.currency)}."
                )
            number = Payment.objects.filter(subject=subject).count() + 1
            payment = Payment.objects.create(
                subject=subject,
                idempotency_key=f"refund-{charge.pk}-{number}",
                user_id=charge.user_id,
                kind=PaymentKind.REFUND,
                purpose="refund",
                amount_minor=amount if charge.provider_ref else 0,
                currency=charge.currency,
                provider=charge.provider,
                charge_ref=charge.provider_ref or "",
                description=f"Refund of {charge.receipt_number}",
                context={
                    "charge": charge.pk,
                    "amount": amount,
                    "actor": getattr(actor, "pk", None),
                    "reason": reason,
                },
                at=now,
            )
        else:
            payment = retry
    outcome = payments.collect(payment)
    return settle_refund(payment, outcome, now=now)


def settle_refund(payment: Payment, outcome: payments.Outcome, *, now: datetime) -> LedgerEntry:
    """Phase 3 (or the reconcile job): the refund's ledger row and history row."""
    charge = LedgerEntry.objects.get(pk=payment.context["charge"])
    with transaction.atomic(durable=True):
        sub = lock(Subscription(pk=charge.subscription_id))
        payment = payments.lock(payment)
        if payment.status == PaymentStatus.SUCCEEDED:
            return LedgerEntry.objects.get(payment=payment)
        amount = payment.context["amount"]
        actor = get_user_model().objects.filter(pk=payment.context["actor"]).first()
        entry = LedgerEntry.objects.create(
            user_id=charge.user_id,
            subscription=sub,
            kind=EntryKind.REFUND,
            amount_minor=-amount,
            currency=charge.currency,
            related=charge,
            description=payment.description,
            provider=charge.provider,
            provider_ref=outcome.provider_ref or None,
            payment=payment,
            actor=actor,
            reason=payment.context["reason"],
            at=payment.at,
        )
        transition(
            sub,
            sub.status,
            EventKind.REFUNDED,
            at=payment.at,
            actor=actor,
            reason=payment.context["reason"],
            data={"amount": amount, "charge": charge.pk},
        )
        payments.mark_succeeded(payment, outcome, now=now)
        return entry
