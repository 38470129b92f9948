"""When time next does something to a subscription, and applying everything that fell due."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from masthead.subscriptions.actions.lifecycle import expire, renew, send_trial_reminder
from masthead.subscriptions.actions.transitions import lock
from masthead.subscriptions.models import TRIAL_REMINDER_BEFORE, Status, Subscription

log = logging.getLogger("masthead.subscriptions")


@dataclass(frozen=True)
class DueStep:
    at: datetime
    action: str  # remind, renew, retry, expire


def next_due_step(sub: Subscription) -> DueStep | None:
    """The next thing time will do to this subscription, and when."""
    end = sub.current_period_end
    if sub.status == Status.TRIALING:
        if not sub.trial_reminder_sent:
            return DueStep(max(end - TRIAL_REMINDER_BEFORE, sub.current_period_start), "remind")
        return DueStep(end, "renew" if sub.auto_renew else "expire")
    if sub.status == Status.ACTIVE:
        return DueStep(end, "renew" if sub.auto_renew else "expire")
    if sub.status in (Status.CANCELLED, Status.COMPLIMENTARY):
        return DueStep(end, "expire")
    if sub.status == Status.PAST_DUE:
        grace = sub.grace_until or end
        if sub.next_retry_at and sub.next_retry_at < grace:
            return DueStep(sub.next_retry_at, "retry")
        return DueStep(grace, "expire")
    return None


def advance(subscription: Subscription, *, now: datetime) -> int:
    """Apply every step that fell due by `now`, each at its own moment. Safe to run from
    several workers at once: each step re-reads the row under its lock."""
    steps = 0
    while steps < 100:
        with transaction.atomic():
            sub = lock(subscription)
            step = next_due_step(sub)
            if step is None or step.at > now:
                return steps
            if step.action == "remind":
                send_trial_reminder(sub, now=step.at)
            elif step.action in ("renew", "retry"):
                renew(sub, now=step.at)
            else:
                reason = "Trial ended" if sub.status == Status.TRIALING else "Period ended"
                expire(sub, now=step.at, reason=reason)
        steps += 1
    log.error("subscription %s: more than 100 due steps at once", subscription.pk)
    return steps
