"""Scheduled jobs: renewals, retries, trial reminders and expiries, each applied at its due
moment. Idempotent and safe on several workers (see actions.advance)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from masthead.core.jobs import register
from masthead.subscriptions.actions import advance
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


@register("subscriptions.lifecycle")
def run_lifecycle(now: datetime) -> int:
    steps = 0
    for pk in due_subscriptions(now):
        steps += advance(Subscription(pk=pk), now=now)
    return steps
