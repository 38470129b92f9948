"""Buying a gift: one charge in two phases (no transaction open while the provider is
called), then the sale and its deferral in the ledger."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction

from masthead.billing import payments
from masthead.billing.models import EntryKind, LedgerEntry, Payment, PaymentKind, PaymentStatus
from masthead.giftsubs.actions.delivery import deliver_locked
from masthead.giftsubs.actions.history import GiftError, mail, move
from masthead.giftsubs.actions.prices import delivery_moment, delivery_refusal, gift_plan, price_for
from masthead.giftsubs.models import DURATIONS, GiftEvent, GiftStatus, GiftSubscription
from masthead.subscriptions.actions.transitions import lock_reader


def purchase(
    buyer: Any,
    *,
    months: int,
    recipient_email: str,
    recipient_name: str,
    message: str = "",
    deliver_on: date | None = None,
    card_ref: str,
    provider: str,
    purchase_key: str,
    now: datetime,
) -> GiftSubscription:
    """Buy a gift: one charge, no renewal. A retry with the same key is the same purchase
    (and the same payment at the provider). Raises ChargeFailed on a decline and
    PaymentPending when the outcome is unknown (the reconcile job then settles it)."""
    done = GiftSubscription.objects.filter(purchase_key=purchase_key, buyer=buyer).first()
    if done is not None:
        return done
    if months not in DURATIONS:
        raise GiftError("duration", "Choose 1, 3, 6 or 12 months.")
    refusal = delivery_refusal(deliver_on, now=now)
    if refusal:
        raise GiftError("deliver_on", refusal)
    plan = gift_plan(now)
    if plan is None:
        raise GiftError("no_plan", "Gift subscriptions are not on sale right now.")
    amount, currency = price_for(months, plan)
    subject = f"giftsub-{purchase_key}"
    with transaction.atomic(durable=True):
        lock_reader(buyer)
        found = payments.latest(subject)
        if found is not None and found.status != PaymentStatus.FAILED:
            payment = found
        else:
            payment = payments.open_payment(
                subject=subject,
                user=buyer,
                kind=PaymentKind.CHARGE,
                purpose="gift_sale",
                amount_minor=amount,
                currency=currency,
                provider=provider,
                card_ref=card_ref,
                description=f"Gift subscription: {months} month{'s' if months > 1 else ''} "
                f"of {plan.name}",
                context={
                    "key": purchase_key,
                    "months": months,
                    "plan": plan.pk,
                    "recipient_email": recipient_email,
                    "recipient_name": recipient_name,
                    "message": message,
                    "deliver_at": delivery_moment(deliver_on, now=now).isoformat(),
                },
                at=now,
            )
    outcome = payments.collect(payment)
    return settle_purchase(payment, outcome, now=now)


def settle_purchase(
    payment: Payment, outcome: payments.Outcome, *, now: datetime
) -> GiftSubscription:
    """Phase 3 (or the reconcile job): the gift, its sale and deferral rows, its history row,
    the buyer's receipt; delivered at once when its day has come."""
    ctx = payment.context
    with transaction.atomic(durable=True):
        payment = payments.lock(payment)
        if payment.status == PaymentStatus.SUCCEEDED:
            return GiftSubscription.objects.get(purchase_key=ctx["key"])
        sale = LedgerEntry.objects.create(
            user_id=payment.user_id,
            kind=EntryKind.CHARGE,
            amount_minor=payment.amount_minor,
            currency=payment.currency,
            description=payment.description,
            provider=payment.provider,
            provider_ref=outcome.provider_ref or None,
            payment=payment,
            at=payment.at,
        )
        LedgerEntry.objects.create(
            user_id=payment.user_id,
            kind=EntryKind.DEFERRAL,
            amount_minor=-payment.amount_minor,
            currency=payment.currency,
            related=sale,
            description="Gift subscription sold: deferred until redeemed",
            provider=payment.provider,
            at=payment.at,
        )
        gift = move(
            GiftSubscription(
                buyer_id=payment.user_id,
                recipient_email=ctx["recipient_email"],
                recipient_name=ctx["recipient_name"],
                message=ctx["message"],
                months=ctx["months"],
                plan_id=ctx["plan"],
                price_minor=payment.amount_minor,
                currency=payment.currency,
                deliver_at=datetime.fromisoformat(ctx["deliver_at"]),
                purchase_key=ctx["key"],
                payment=payment,
                sale=sale,
                purchased_at=payment.at,
            ),
            GiftStatus.PURCHASED,
            GiftEvent.Kind.PURCHASED,
            at=payment.at,
            actor=payment.user,
            data={"charged": payment.amount_minor, "sale": sale.pk},
        )
        payments.mark_succeeded(payment, outcome, now=now)
        mail("receipt", gift.buyer.email, gift=gift, sale=sale)
        if gift.deliver_at <= now:
            deliver_locked(gift, now=now)
        return gift
