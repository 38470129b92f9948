"""What time does to a subscription: renewals, failed payments, reminders, expiry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from masthead.billing.providers import ChargeFailed
from masthead.subscriptions import emails
from masthead.subscriptions.actions.charges import charge_period
from masthead.subscriptions.actions.periods import add_months
from masthead.subscriptions.actions.transitions import lock, transition
from masthead.subscriptions.models import (
    GRACE_PERIOD,
    RETRY_DELAYS,
    EventKind,
    Status,
    Subscription,
)


def renew(subscription: Subscription, *, now: datetime, retry_now: bool = False) -> bool:
    """Charge the next period when it is due (or retry a failed one; `retry_now` when the
    reader gave a new card). True when it paid."""
    with transaction.atomic():
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
            return False
        plan = sub.next_plan or sub.plan
        start = sub.current_period_end
        end = add_months(start, plan.months)
        number = sub.period_number + 1
        # A renewal cannot go through PlanChange, so the plan is read under the same lock.
        sub.plan = plan
        try:
            entry = charge_period(
                sub,
                amount_minor=plan.price_minor,
                period_number=number,
                period_start=start,
                period_end=end,
                description=f"{plan.name} renewal",
                now=now,
                off_session=True,
            )
        except ChargeFailed as exc:
            record_payment_failure(sub, now=now, reason=str(exc))
            return False
        transition(
            sub,
            Status.ACTIVE,
            EventKind.RENEWED,
            at=now,
            data={"charged": plan.price_minor, "period": number},
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
        emails.on_commit("receipt", sub, entry=entry)
        return True


def record_payment_failure(subscription: Subscription, *, now: datetime, reason: str) -> None:
    """Past due: access kept while retrying; after the last retry, expired."""
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
        next_retry_at = first_failure + RETRY_DELAYS[retry_count - 1]
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
        emails.on_commit("payment_failed", sub)


def expire(
    subscription: Subscription,
    *,
    now: datetime,
    reason: str = "",
    actor: Any = None,
    **fields: Any,
) -> None:
    """Access ends now. Idempotent. `fields` are saved with the move (provider sync)."""
    with transaction.atomic():
        sub = lock(subscription)
        if sub.status == Status.EXPIRED:
            return
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


def send_trial_reminder(subscription: Subscription, *, now: datetime) -> bool:
    with transaction.atomic():
        sub = lock(subscription)
        if sub.status != Status.TRIALING or sub.trial_reminder_sent:
            return False
        transition(sub, Status.TRIALING, EventKind.TRIAL_REMINDER, at=now, trial_reminder_sent=True)
        emails.on_commit("trial_ending", sub)
        return True
