"""Money back for a gift not redeemed, and breakage for one nobody redeemed in time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction

from masthead.billing import payments
from masthead.billing.models import EntryKind, Payment, PaymentKind, PaymentStatus
from masthead.core.money import format_money
from masthead.giftsubs.actions.delivery import code_valid_until
from masthead.giftsubs.actions.history import GiftError, ledger_row, lock_gift, mail, move
from masthead.giftsubs.actions.redemption import refund_started
from masthead.giftsubs.models import GiftEvent, GiftStatus, GiftSubscription


def refund(gift: GiftSubscription, *, now: datetime, actor: Any, reason: str) -> GiftSubscription:
    """Staff return the whole price of a gift not yet redeemed; its code stops working at
    once. A redeemed gift is not refunded here (decision 0037)."""
    if not reason.strip():
        raise GiftError("reason", "Say why the money is returned.")
    subject = f"giftsub-refund-{gift.pk}"
    with transaction.atomic(durable=True):
        locked = lock_gift(gift)
        if locked.status not in (GiftStatus.PURCHASED, GiftStatus.DELIVERED):
            raise GiftError(
                "not_refundable",
                "Only a gift that was not redeemed can be refunded; this one is "
                f"{locked.get_status_display().lower()}.",
            )
        assert locked.sale is not None
        payment = Payment.objects.filter(subject=subject, status=PaymentStatus.PENDING).first()
        if payment is None:
            payment = payments.open_payment(
                subject=subject,
                user=locked.buyer,
                kind=PaymentKind.REFUND,
                purpose="gift_refund",
                amount_minor=locked.sale.refundable_minor() if locked.sale.provider_ref else 0,
                currency=locked.currency,
                provider=locked.sale.provider,
                charge_ref=locked.sale.provider_ref or "",
                description=f"Refund of {locked.sale.receipt_number} (gift {locked.pk})",
                context={
                    "gift": locked.pk,
                    "amount": locked.sale.refundable_minor(),
                    "actor": getattr(actor, "pk", None),
                    "reason": reason,
                },
                at=now,
            )
    outcome = payments.collect(payment)
    return settle_refund(payment, outcome, now=now)


def settle_refund(
    payment: Payment, outcome: payments.Outcome, *, now: datetime
) -> GiftSubscription:
    from django.contrib.auth import get_user_model

    with transaction.atomic(durable=True):
        gift = lock_gift(payment.context["gift"])
        payment = payments.lock(payment)
        if payment.status == PaymentStatus.SUCCEEDED:
            return gift
        actor = get_user_model().objects.filter(pk=payment.context["actor"]).first()
        amount = payment.context["amount"]
        reason = payment.context["reason"]
        ledger_row(
            gift,
            EntryKind.REFUND,
            -amount,
            payment.description,
            related=gift.sale,
            provider_ref=outcome.provider_ref or None,
            payment=payment,
            actor=actor,
            reason=reason,
            at=payment.at,
        )
        ledger_row(
            gift,
            EntryKind.RELEASE,
            amount,
            "Gift subscription refunded: deferral closed",
            related=gift.sale,
            actor=actor,
            at=payment.at,
        )
        move(
            gift,
            GiftStatus.REFUNDED,
            GiftEvent.Kind.REFUNDED,
            at=payment.at,
            actor=actor,
            reason=reason,
            data={"amount": amount},
            closed_at=payment.at,
        )
        payments.mark_succeeded(payment, outcome, now=now)
        mail("refunded", gift.buyer.email, gift=gift, amount=format_money(amount, gift.currency))
        return gift


def expire_unredeemed(gift: GiftSubscription | int, *, now: datetime) -> bool:
    """A delivered gift nobody redeemed within GIFT_CODE_VALID_DAYS: its sale is recognised
    (breakage) and the code fails with its own page. Exactly once."""
    with transaction.atomic(durable=True):
        locked = lock_gift(gift)
        until = code_valid_until(locked)
        if (
            locked.status != GiftStatus.DELIVERED
            or until is None
            or now < until
            or refund_started(locked)
        ):
            return False
        ledger_row(
            locked,
            EntryKind.RELEASE,
            locked.price_minor,
            "Gift subscription never redeemed: breakage recognised as revenue",
            related=locked.sale,
            at=now,
        )
        move(
            locked,
            GiftStatus.EXPIRED,
            GiftEvent.Kind.EXPIRED,
            at=now,
            reason=f"Not redeemed within {settings.GIFT_CODE_VALID_DAYS} days",
            closed_at=now,
        )
        return True
