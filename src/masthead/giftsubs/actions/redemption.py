"""Redeeming a gift: what it would do (`preview`), why it may not (`REFUSALS`), and the
redemption itself, exactly once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from masthead.billing.models import EntryKind, Payment, PaymentStatus
from masthead.giftsubs.actions.delivery import code_valid_until, hash_code
from masthead.giftsubs.actions.history import GiftError, ledger_row, lock_gift, mail, move
from masthead.giftsubs.models import GiftEvent, GiftStatus, GiftSubscription
from masthead.subscriptions.actions import add_months, live_subscription
from masthead.subscriptions.actions.eligibility import GIFT_SOURCE
from masthead.subscriptions.actions.transitions import create, lock, lock_reader, transition
from masthead.subscriptions.models import EventKind, Status

REFUSALS = {
    "not_found": (
        "We could not find that gift",
        "The code in this link is not one of ours. Check that the whole link from the e-mail "
        "was copied.",
    ),
    "used": (
        "This gift has already been redeemed",
        "Each gift subscription can be redeemed once. If it was you, your subscription is on "
        "your account page.",
    ),
    "refunded": (
        "This gift was cancelled",
        "The person who gave it asked for their money back, so the code no longer works.",
    ),
    "expired": (
        "This gift has expired",
        "Gift codes work for a year after they are sent, and this one was not redeemed in time.",
    ),
    "past_due": (
        "Settle your payment first",
        "Your subscription has a payment overdue. Update your card on your account page, then "
        "come back to this link: the gift will be added after your paid period.",
    ),
    "provider_billed": (
        "We cannot add this gift to your subscription here",
        "Your subscription is billed by our card processor. Write to us and we will add the "
        "months by hand, or redeem the gift after your subscription ends.",
    ),
}


def refusal_text(code: str) -> tuple[str, str]:
    return REFUSALS[code]


def find(code: str) -> GiftSubscription | None:
    if not code or len(code) > 100:
        return None
    return (
        GiftSubscription.objects.select_related("buyer", "plan")
        .filter(code_hash=hash_code(code))
        .first()
    )


def refund_started(gift: GiftSubscription) -> bool:
    return Payment.objects.filter(
        subject=f"giftsub-refund-{gift.pk}",
        status__in=[PaymentStatus.PENDING, PaymentStatus.SUCCEEDED],
    ).exists()


def gift_refusal(gift: GiftSubscription | None, *, now: datetime) -> str | None:
    if gift is None or gift.status == GiftStatus.PURCHASED:
        return "not_found"
    if gift.status == GiftStatus.REDEEMED:
        return "used"
    if gift.status == GiftStatus.REFUNDED or refund_started(gift):
        return "refunded"
    valid_until = code_valid_until(gift)
    if gift.status == GiftStatus.EXPIRED or (valid_until is not None and now >= valid_until):
        return "expired"
    return None


@dataclass(frozen=True)
class Preview:
    """What redeeming would do for this reader: a refusal code, or the new end date and
    whether the months stack after an existing subscription."""

    refusal: str | None
    ends_at: datetime | None = None
    stacks: bool = False


def preview(gift: GiftSubscription | None, user: Any, *, now: datetime) -> Preview:
    refusal = gift_refusal(gift, now=now)
    if refusal or user is None:
        return Preview(refusal)
    assert gift is not None
    live = live_subscription(user.pk)
    if live is not None and not live.has_access(now):
        live = None  # its period is over; redeeming ends it first
    if live is None:
        return Preview(None, add_months(now, gift.months), stacks=False)
    if live.status == Status.PAST_DUE:
        return Preview("past_due")
    if live.provider_ref:
        return Preview("provider_billed")
    return Preview(None, add_months(live.current_period_end, gift.months), stacks=True)


def redeem(code: str, user: Any, *, now: datetime) -> GiftSubscription:
    """The recipient takes the gift: exactly once, whoever else tries the same code at the
    same moment. No money moves; the deferred sale is recognised."""
    found = find(code)
    if found is None:
        raise GiftError("not_found", REFUSALS["not_found"][1])
    with transaction.atomic(durable=True):
        gift = lock_gift(found)
        lock_reader(user)
        verdict = preview(gift, user, now=now)
        if verdict.refusal:
            raise GiftError(verdict.refusal, REFUSALS[verdict.refusal][1])
        data = {"source": GIFT_SOURCE, "gift": gift.pk, "months": gift.months}
        live = live_subscription(user.pk)
        if live is not None and not live.has_access(now):
            # Its period is over but the expiry job has not run yet: end it first.
            from masthead.subscriptions.actions import expire

            expire(live, now=now, reason="Period ended")
            live = None
        if live is None:
            sub = create(
                Status.COMPLIMENTARY,
                EventKind.COMP_GRANTED,
                at=now,
                actor=user,
                reason=f"Gift subscription {gift.pk} redeemed",
                data=data,
                user=user,
                plan=gift.plan,
                provider="none",
                started_at=now,
                current_period_start=now,
                current_period_end=add_months(now, gift.months),
                auto_renew=False,
            )
        else:
            sub = lock(live)
            end = add_months(sub.current_period_end, gift.months)
            extra = {"trial_end": end} if sub.status == Status.TRIALING else {}
            transition(
                sub,
                sub.status,
                EventKind.GIFT_ADDED,
                at=now,
                actor=user,
                reason=f"Gift subscription {gift.pk} redeemed",
                data=data,
                current_period_end=end,
                **extra,
            )
        ledger_row(
            gift,
            EntryKind.RELEASE,
            gift.price_minor,
            "Gift subscription redeemed: revenue recognised",
            subscription=sub,
            related=gift.sale,
            at=now,
        )
        move(
            gift,
            GiftStatus.REDEEMED,
            GiftEvent.Kind.REDEEMED,
            at=now,
            actor=user,
            data={"subscription": sub.pk, "stacked": live is not None},
            recipient=user,
            subscription=sub,
            redeemed_at=now,
            ends_at=sub.current_period_end,
        )
        mail("redeemed", gift.buyer.email, gift=gift)
        return gift
