"""Every change of a gift subscription: purchase, delivery, redemption, the ending reminder,
refund and breakage. Each is one transaction that locks the gift's row, re-checks its state
under the lock, moves it through `MOVES` with its history row (`GiftEvent`) and writes its
e-mail to the outbox (sent only if the change commits). Money moves in two phases through
`masthead.billing.payments`, with no transaction open while the provider is called.

Ledger rows (all on the buyer; docs/gift-subscriptions.md):

    sale        charge   +N   (no subscription yet)   cash in
                deferral -N   related=sale            not revenue until redeemed
    redemption  release  +N   related=sale, on the recipient's subscription
    refund      refund   -N   related=sale            cash out
                release  +N   related=sale            the deferral is closed
    breakage    release  +N   related=sale            never redeemed: revenue
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from masthead.billing import payments
from masthead.billing.models import EntryKind, LedgerEntry, Payment, PaymentKind, PaymentStatus
from masthead.core.mail import queue_email
from masthead.core.money import format_money
from masthead.giftsubs.models import (
    DURATIONS,
    GiftEvent,
    GiftPrice,
    GiftStatus,
    GiftSubscription,
)
from masthead.subscriptions.actions import add_months, live_subscription
from masthead.subscriptions.actions.eligibility import GIFT_SOURCE
from masthead.subscriptions.actions.transitions import create, lock, lock_reader, transition
from masthead.subscriptions.models import EventKind, Interval, Offer, Plan, Status, Subscription

NEW = ""
MOVES: dict[str, frozenset[tuple[str, str]]] = {
    GiftEvent.Kind.PURCHASED: frozenset({(NEW, GiftStatus.PURCHASED)}),
    GiftEvent.Kind.DELIVERED: frozenset({(GiftStatus.PURCHASED, GiftStatus.DELIVERED)}),
    GiftEvent.Kind.REDEEMED: frozenset({(GiftStatus.DELIVERED, GiftStatus.REDEEMED)}),
    GiftEvent.Kind.REMINDED: frozenset({(GiftStatus.REDEEMED, GiftStatus.REDEEMED)}),
    GiftEvent.Kind.REFUNDED: frozenset(
        {(GiftStatus.PURCHASED, GiftStatus.REFUNDED), (GiftStatus.DELIVERED, GiftStatus.REFUNDED)}
    ),
    GiftEvent.Kind.EXPIRED: frozenset({(GiftStatus.DELIVERED, GiftStatus.EXPIRED)}),
}
MAX_DELIVERY_DAYS = 365


class GiftError(Exception):
    """A refusal with a machine code and a sentence a reader (or staff) can act on."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# ---------------------------------------------------------------- prices and dates


def gift_plan(now: datetime) -> Plan | None:
    """The plan a gift gives: the cheapest live monthly plan."""
    plans = Plan.objects.filter(interval=Interval.MONTH).order_by("price_minor", "pk")
    return next((p for p in plans if p.is_live(now)), None)


def price_for(months: int, plan: Plan) -> tuple[int, str]:
    """(price in minor units, currency): the staff's price for that duration, else the
    monthly plan's price times the months."""
    row = GiftPrice.objects.filter(months=months).first()
    if row is not None:
        return row.price_minor, row.currency
    return plan.price_minor * months, plan.currency


@dataclass(frozen=True)
class Choice:
    months: int
    label: str
    price_minor: int
    price_text: str


def choices(plan: Plan) -> list[Choice]:
    out = []
    for months in DURATIONS:
        minor, currency = price_for(months, plan)
        label = "1 month" if months == 1 else f"{months} months"
        out.append(Choice(months, label, minor, format_money(minor, currency)))
    return out


def today(now: datetime) -> date:
    return timezone.localtime(now).date()


def delivery_refusal(deliver_on: date | None, *, now: datetime) -> str | None:
    if deliver_on is None:
        return None
    first = today(now)
    if deliver_on < first:
        return "Choose today or a day in the future."
    if deliver_on > first + timedelta(days=MAX_DELIVERY_DAYS):
        return "Choose a day within a year from today."
    return None


def delivery_moment(deliver_on: date | None, *, now: datetime) -> datetime:
    """Now for no date or today; otherwise the start of that day in the site's time zone."""
    if deliver_on is None or deliver_on <= today(now):
        return now
    return timezone.make_aware(datetime.combine(deliver_on, time.min))


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def redeem_path(code: str) -> str:
    return reverse("giftsubs:redeem", args=[code])


# ---------------------------------------------------------------- history


def _move(
    gift: GiftSubscription,
    to: str,
    kind: str,
    *,
    at: datetime,
    actor: Any = None,
    reason: str = "",
    data: dict[str, Any] | None = None,
    **fields: Any,
) -> GiftSubscription:
    from_status = gift.status if gift.pk else NEW
    if (from_status, to) not in MOVES[kind]:
        raise GiftError("illegal", f"{kind}: {from_status or 'new'} -> {to} is not allowed.")
    for name, value in fields.items():
        setattr(gift, name, value)
    gift.status = to
    if gift.pk:
        gift.save(update_fields=sorted({*fields, "status"}))
    else:
        gift.save()
    GiftEvent.objects.create(
        gift=gift,
        kind=kind,
        from_status=from_status,
        to_status=to,
        at=at,
        actor=actor if getattr(actor, "pk", None) else None,
        reason=reason,
        data=data or {},
    )
    return gift


def _lock(gift: GiftSubscription | int) -> GiftSubscription:
    pk = gift if isinstance(gift, int) else gift.pk
    return (
        GiftSubscription.objects.select_for_update(of=("self",))
        .select_related("buyer", "plan", "sale")
        .get(pk=pk)
    )


def _mail(kind: str, to: str, **context: Any) -> None:
    text = render_to_string(
        f"giftsubs/email/{kind}.txt",
        {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, **context},
    ).strip()
    subject, _, body = text.partition("\n")
    queue_email(subject=subject.strip(), body=body.strip() + "\n", to=[to], kind=f"giftsubs.{kind}")


def _ledger(gift: GiftSubscription, kind: str, amount: int, description: str, **fields: Any):  # type: ignore[no-untyped-def]
    return LedgerEntry.objects.create(
        user_id=gift.buyer_id,
        kind=kind,
        amount_minor=amount,
        currency=gift.currency,
        description=description,
        provider=fields.pop("provider", gift.sale.provider if gift.sale else "none"),
        **fields,
    )


# ---------------------------------------------------------------- purchase


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
        gift = _move(
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
        _mail("receipt", gift.buyer.email, gift=gift, sale=sale)
        if gift.deliver_at <= now:
            _deliver_locked(gift, now=now)
        return gift


# ---------------------------------------------------------------- delivery


def deliver(gift: GiftSubscription | int, *, now: datetime) -> str | None:
    """Send the gift to its recipient once its day has come: exactly once, however many
    workers run it. Returns the redeem code this call made (None: not due, or done)."""
    with transaction.atomic(durable=True):
        locked = _lock(gift)
        if locked.status != GiftStatus.PURCHASED or locked.deliver_at > now:
            return None
        return _deliver_locked(locked, now=now)


def _deliver_locked(gift: GiftSubscription, *, now: datetime) -> str:
    code = secrets.token_urlsafe(24)  # 192 bits; only its hash is stored
    _move(
        gift,
        GiftStatus.DELIVERED,
        GiftEvent.Kind.DELIVERED,
        at=now,
        code_hash=hash_code(code),
        delivered_at=now,
    )
    url = settings.SITE_URL + redeem_path(code)
    _mail("gift", gift.recipient_email, gift=gift, url=url, valid_until=code_valid_until(gift))
    _mail("delivered", gift.buyer.email, gift=gift)
    return code


def code_valid_until(gift: GiftSubscription) -> datetime | None:
    if gift.delivered_at is None:
        return None
    return gift.delivered_at + timedelta(days=settings.GIFT_CODE_VALID_DAYS)


# ---------------------------------------------------------------- redemption


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


def _refund_started(gift: GiftSubscription) -> bool:
    return Payment.objects.filter(
        subject=f"giftsub-refund-{gift.pk}",
        status__in=[PaymentStatus.PENDING, PaymentStatus.SUCCEEDED],
    ).exists()


def _gift_refusal(gift: GiftSubscription | None, *, now: datetime) -> str | None:
    if gift is None or gift.status == GiftStatus.PURCHASED:
        return "not_found"
    if gift.status == GiftStatus.REDEEMED:
        return "used"
    if gift.status == GiftStatus.REFUNDED or _refund_started(gift):
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
    refusal = _gift_refusal(gift, now=now)
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
        gift = _lock(found)
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
        _ledger(
            gift,
            EntryKind.RELEASE,
            gift.price_minor,
            "Gift subscription redeemed: revenue recognised",
            subscription=sub,
            related=gift.sale,
            at=now,
        )
        _move(
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
        _mail("redeemed", gift.buyer.email, gift=gift)
        return gift


# ---------------------------------------------------------------- the ending reminder


def reminder_before() -> timedelta:
    return timedelta(days=settings.GIFT_REMINDER_DAYS)


def conversion_offer(now: datetime) -> Offer | None:
    offer = Offer.objects.select_related("plan").filter(code=settings.GIFT_CONVERSION_OFFER).first()
    return offer if offer is not None and offer.is_live(now) else None


def send_reminder(gift: GiftSubscription | int, *, now: datetime) -> bool:
    """Tell a gift's recipient, once, that it ends soon, with the conversion offer. Only for
    a gift that is the reader's complimentary subscription (stacked on a paid one, the
    renewal notices speak instead); one reminder per end date, whatever else runs."""
    with transaction.atomic(durable=True):
        pk = gift if isinstance(gift, int) else gift.pk
        sub_pk = GiftSubscription.objects.filter(pk=pk).values_list("subscription", flat=True)[0]
        if sub_pk is None:
            return False
        sub = lock(Subscription(pk=sub_pk))
        locked = _lock(pk)
        end = sub.current_period_end
        if (
            locked.status != GiftStatus.REDEEMED
            or sub.status != Status.COMPLIMENTARY
            or not (end - reminder_before() <= now < end)
            or GiftSubscription.objects.filter(subscription=sub, reminded_for=end).exists()
        ):
            return False
        latest = GiftSubscription.objects.filter(subscription=sub).order_by("-redeemed_at", "-pk")
        if latest.values_list("pk", flat=True).first() != locked.pk:
            return False  # the gift redeemed last speaks for the subscription
        _move(
            locked,
            GiftStatus.REDEEMED,
            GiftEvent.Kind.REMINDED,
            at=now,
            data={"ends_at": end.isoformat()},
            reminded_for=end,
        )
        offer = conversion_offer(now)
        offer_url = (
            settings.SITE_URL + reverse("billing:checkout_offer", args=[offer.code])
            if offer
            else settings.SITE_URL + reverse("subscriptions:offers")
        )
        if sub.user.email:
            _mail("reminder", sub.user.email, gift=locked, ends_at=end, offer=offer, url=offer_url)
        return True


# ---------------------------------------------------------------- refunds and breakage


def refund(gift: GiftSubscription, *, now: datetime, actor: Any, reason: str) -> GiftSubscription:
    """Staff return the whole price of a gift not yet redeemed; its code stops working at
    once. A redeemed gift is not refunded here (decision 0037)."""
    if not reason.strip():
        raise GiftError("reason", "Say why the money is returned.")
    subject = f"giftsub-refund-{gift.pk}"
    with transaction.atomic(durable=True):
        locked = _lock(gift)
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
        gift = _lock(payment.context["gift"])
        payment = payments.lock(payment)
        if payment.status == PaymentStatus.SUCCEEDED:
            return gift
        actor = get_user_model().objects.filter(pk=payment.context["actor"]).first()
        amount = payment.context["amount"]
        reason = payment.context["reason"]
        _ledger(
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
        _ledger(
            gift,
            EntryKind.RELEASE,
            amount,
            "Gift subscription refunded: deferral closed",
            related=gift.sale,
            actor=actor,
            at=payment.at,
        )
        _move(
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
        _mail("refunded", gift.buyer.email, gift=gift, amount=format_money(amount, gift.currency))
        return gift


def expire_unredeemed(gift: GiftSubscription | int, *, now: datetime) -> bool:
    """A delivered gift nobody redeemed within GIFT_CODE_VALID_DAYS: its sale is recognised
    (breakage) and the code fails with its own page. Exactly once."""
    with transaction.atomic(durable=True):
        locked = _lock(gift)
        until = code_valid_until(locked)
        if (
            locked.status != GiftStatus.DELIVERED
            or until is None
            or now < until
            or _refund_started(locked)
        ):
            return False
        _ledger(
            locked,
            EntryKind.RELEASE,
            locked.price_minor,
            "Gift subscription never redeemed: breakage recognised as revenue",
            related=locked.sale,
            at=now,
        )
        _move(
            locked,
            GiftStatus.EXPIRED,
            GiftEvent.Kind.EXPIRED,
            at=now,
            reason=f"Not redeemed within {settings.GIFT_CODE_VALID_DAYS} days",
            closed_at=now,
        )
        return True
