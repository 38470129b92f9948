"""Scheduled jobs: renewals, retries, trial reminders and expiries, each applied at its due
moment. Each due subscription is its own task (one failure never blocks another renewal);
idempotent and safe on several workers (see actions.advance)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Q

from masthead.core.jobs import DueItem, register_items
from masthead.subscriptions import actions
from masthead.subscriptions.models import TRIAL_REMINDER_BEFORE, Status, Subscription


def due_subscriptions(now: datetime) -> list[int]:
    """Candidates only; `advance` decides under the row lock. Subscriptions billed by Stripe
    (provider_ref set) move with Stripe's webhooks instead."""
    return list(
        Subscription.objects.exclude(status=Status.EXPIRED)
        .filter(provider_ref="")
        .filter(
            Q(current_period_end__lte=now + TRIAL_REMINDER_BEFORE)
            | Q(next_retry_at__lte=now)
            | Q(grace_until__lte=now)
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def advance_one(key: str, now: datetime) -> int:
    return actions.advance(Subscription(pk=int(key)), now=now)


@register_items("subscriptions.lifecycle", handle=advance_one)
def due_lifecycle_steps(now: datetime) -> Iterable[DueItem]:
    """One item per subscription with a step due by `now`, keyed by that step's moment, so a
    renewal is enqueued once and the next step (next period) is a new item."""
    subs = Subscription.objects.filter(pk__in=due_subscriptions(now)).order_by("pk")
    for sub in subs:
        step = actions.next_due_step(sub)
        if step is not None and step.at <= now:
            yield DueItem(key=str(sub.pk), due=step.at)


def run_lifecycle(now: datetime) -> int:
    """Advance every due subscription inline (kept for callers of the old job function)."""
    return sum(advance_one(item.key, now) for item in list(due_lifecycle_steps(now)))
