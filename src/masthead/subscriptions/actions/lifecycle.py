"""What time does to a subscription: renewals, failed payments, reminders, expiry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from masthead.billing import payments
from masthead.billing.models import Payment, PaymentKind, PaymentMethod, PaymentStatus
from masthead.billing.providers import ChargeFailed, PaymentPending
from masthead.subscriptions import emails
from masthead.subscriptions.actions.charges import record_unplanned, reusable, write_charge
from masthead.subscriptions.actions.dunning import send_dunning_notice
from masthead.subscriptions.actions.notices import renewal_price
from masthead.subscriptions.actions.periods import add_months
from masthead.subscriptions.actions.transitions import allowed, lock, transition
from masthead.subscriptions.models import (
    GRACE_PERIOD,
    RETRY_DELAYS,
    EventKind,
    Plan,
    Status,
    Subscription,
)


def renew(subscription: Subscription, *, now: datetime, retry_now: bool = False) -> bool:
    """Charge the next period when it is due (or retry a failed one; `retry_now` when the
    reader gave a new card). True when it paid.

    Two phases: a pending payment keyed `sub-<id>-period-<n>` (a retry after a rollback or
    by another worker reuses it), the provider call with the row unlocked, then the period
    in a second transaction. An unknown outcome stays pending for the reconcile job."""
    return renewal(subscription, now=now, retry_now=retry_now) == "paid"


def renewal(subscription: Subscription, *, now: datetime, retry_now: bool = False) -> str:
    """`renew`, saying what this call did: "paid", "declined" (recorded as a failure),
    "pending" (outcome unknown), or "nothing" (not due, or another worker did it)."""
    with transaction.atomic(durable=True):
        sub = lock(subscription)
        due = (
            sub.status in (Status.ACTIVE, Status.TRIALING)
            and sub.auto_renew
            and sub.current_period_end <= now
        ) or (
            sub.status == Status.PAST_DUE
            and (retry_now or (sub.next_retry_at is not None and sub.next_retry_at <= now))
        )
        if not due:
            return "nothing"
        plan = sub.next_plan or sub.plan
        number = sub.period_number + 1
        subject = f"sub-{sub.pk}-period-{number}"
        last = payments.latest(subject)
        if last is not None and last.status == PaymentStatus.FAILED and last.settled_at is None:
            return "nothing"  # another worker is recording this decline
        payment = reusable(subject)
        if payment is None:
            card = PaymentMethod.current_for(sub.user_id)
            if card is None and plan.price_minor > 0:
                record_payment_failure(sub, now=now, reason="There is no card on file.")
                return "declined"
            start = sub.current_period_end
            payment = payments.open_payment(
                subject=subject,
                user=sub.user,
                kind=PaymentKind.CHARGE,
                purpose="renew",
                # A new plan price only once this reader was told in time (decision 0032).
                amount_minor=renewal_price(sub, plan, start=start),
                currency=plan.currency,
                provider=sub.provider,
                card_ref=card.provider_ref if card else "",
                off_session=True,
                description=f"{plan.name} renewal",
                context={
                    "subscription": sub.pk,
                    "period": number,
                    "plan": plan.pk,
                    "start": start.isoformat(),
                    "end": add_months(start, plan.months).isoformat(),
                    # A save offer's discount priced this renewal: one fewer is left.
                    "discounted": bool(sub.discount_renewals and sub.discount_percent),
                },
                at=now,
            )
    try:
        outcome = payments.collect(payment)
    except ChargeFailed as exc:
        return "declined" if settle_decline(payment, reason=str(exc), now=now) else "nothing"
    except PaymentPending:
        return "pending"
    return "paid" if settle_renewal(payment, outcome, now=now) else "nothing"


def settle_decline(payment: Payment, *, reason: str, now: datetime) -> bool:
    """A declined renewal counts once, however many workers saw the decline."""
    with transaction.atomic(durable=True):
        sub = lock(Subscription(pk=payment.context["subscription"]))
        payment = payments.lock(payment)
        if payment.settled_at is not None:
            return False
        payment.settled_at = now
        payment.save(update_fields=["settled_at"])
        record_payment_failure(sub, now=now, reason=reason)
        return True


def settle_renewal(payment: Payment, outcome: payments.Outcome, *, now: datetime) -> bool:
    """Phase 3 (or the reconcile job): the paid period, its ledger row and history row."""
    with transaction.atomic(durable=True):
        sub = lock(Subscription(pk=payment.context["subscription"]))
        payment = payments.lock(payment)
        if payment.status == PaymentStatus.SUCCEEDED:
            return False  # another worker settled it
        number = payment.context["period"]
        if sub.period_number != number - 1 or not allowed(
            EventKind.RENEWED, sub.status, Status.ACTIVE
        ):
            record_unplanned(payment, outcome, sub, now=now)
            return False
        plan = Plan.objects.get(pk=payment.context["plan"])
        start = datetime.fromisoformat(payment.context["start"])
        end = datetime.fromisoformat(payment.context["end"])
        entry = write_charge(
            sub,
            amount_minor=payment.amount_minor,
            period_number=number,
            period_start=start,
            period_end=end,
            description=payment.description,
            provider_ref=outcome.provider_ref,
            now=payment.at,
            currency=payment.currency,
            payment=payment,
        )
        discount: dict[str, Any] = {}
        if payment.context.get("discounted") and sub.discount_renewals:
            left = sub.discount_renewals - 1
            discount = {
                "discount_renewals": left,
                "discount_percent": sub.discount_percent if left else 0,
            }
        transition(
            sub,
            Status.ACTIVE,
            EventKind.RENEWED,
            at=payment.at,
            data={"charged": payment.amount_minor, "period": number},
            **discount,
            plan=plan,
            next_plan=None,
            current_period_start=start,
            current_period_end=end,
            period_number=number,
            paid_periods=sub.paid_periods + 1,
            retry_count=0,
            next_retry_at=None,
            grace_until=None,
        )
        payments.mark_succeeded(payment, outcome, now=now)
        emails.on_commit("receipt", sub, entry=entry)
        return True


def record_payment_failure(
    subscription: Subscription,
    *,
    now: datetime,
    reason: str,
    provider_next_attempt: datetime | None = None,
) -> None:
    """Past due: access kept while retrying; after the last retry, expired. The failure
    e-mail is the dunning e-mail due now (day 0 on the first failure; docs/dunning.md), once
    per episode and day. `provider_next_attempt`: when a provider that retries on its own
    (Stripe's `next_payment_attempt`) tries again."""
    with transaction.atomic():
        sub = lock(subscription)
        if sub.status == Status.EXPIRED:
            return
        grace_until = sub.grace_until if sub.status == Status.PAST_DUE else now + GRACE_PERIOD
        retry_count = (sub.retry_count if sub.status == Status.PAST_DUE else 0) + 1
        first_failure = (grace_until or now) - GRACE_PERIOD
        if retry_count > len(RETRY_DELAYS):
            expire(
                sub,
                now=now,
                reason=f"Payment failed {retry_count} times: {reason}",
                retry_count=retry_count,
            )
            return
        next_retry_at = provider_next_attempt or first_failure + RETRY_DELAYS[retry_count - 1]
        transition(
            sub,
            Status.PAST_DUE,
            EventKind.PAYMENT_FAILED,
            at=now,
            reason=reason,
            data={"attempt": retry_count, "next_retry_at": next_retry_at.isoformat()},
            retry_count=retry_count,
            next_retry_at=next_retry_at,
            grace_until=grace_until,
        )
        send_dunning_notice(sub, now=now)


def expire(
    subscription: Subscription,
    *,
    now: datetime,
    reason: str = "",
    actor: Any = None,
    **fields: Any,
) -> bool:
    """Access ends now. Idempotent (False if it had already ended). `fields` are saved with
    the move (provider sync)."""
    with transaction.atomic():
        sub = lock(subscription)
        if sub.status == Status.EXPIRED:
            return False
        transition(
            sub,
            Status.EXPIRED,
            EventKind.EXPIRED,
            at=now,
            actor=actor,
            reason=reason,
            **{
                **fields,
                "auto_renew": False,
                "ended_at": now,
                "next_retry_at": None,
            },
        )
        emails.on_commit("expired", sub)
        return True


def send_trial_reminder(subscription: Subscription, *, now: datetime) -> bool:
    with transaction.atomic():
        sub = lock(subscription)
        if sub.status != Status.TRIALING or sub.trial_reminder_sent:
            return False
        transition(sub, Status.TRIALING, EventKind.TRIAL_REMINDER, at=now, trial_reminder_sent=True)
        emails.on_commit("trial_ending", sub)
        return True
