"""When time next does something to a subscription, and applying everything that fell due."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from masthead.subscriptions.actions.lifecycle import expire, renewal, send_trial_reminder
from masthead.subscriptions.actions.retention import end_pause
from masthead.subscriptions.models import TRIAL_REMINDER_BEFORE, Status, Subscription

log = logging.getLogger("masthead.subscriptions")


@dataclass(frozen=True)
class DueStep:
    at: datetime
    action: str  # remind, renew, retry, expire, unpause


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
    if sub.status == Status.PAUSED:
        # Masthead's own pauses end by this job; Stripe resumes its own (and tells us).
        if sub.paused_until is None or (sub.provider == "stripe" and sub.provider_ref):
            return None
        return DueStep(sub.paused_until, "unpause")
    if sub.status == Status.PAST_DUE:
        grace = sub.grace_until or end
        if sub.next_retry_at and sub.next_retry_at < grace:
            return DueStep(sub.next_retry_at, "retry")
        return DueStep(grace, "expire")
    return None


def advance(subscription: Subscription, *, now: datetime) -> int:
    """Apply every step that fell due by `now`, each at its own moment; returns how many
    this call applied. Safe to run from several workers at once: each action locks the row
    and re-checks its step, and no lock is held across a provider call."""
    steps = 0
    for _ in range(100):
        sub = Subscription.objects.select_related("plan", "next_plan", "offer").get(
            pk=subscription.pk
        )
        step = next_due_step(sub)
        if step is None or step.at > now:
            return steps
        if step.action == "remind":
            done = send_trial_reminder(sub, now=step.at)
        elif step.action == "unpause":
            done = end_pause(sub, now=step.at)
        elif step.action in ("renew", "retry"):
            done = renewal(sub, now=step.at) in ("paid", "declined")
        else:
            reason = "Trial ended" if sub.status == Status.TRIALING else "Period ended"
            done = expire(sub, now=step.at, reason=reason)
        if done:
            steps += 1
        elif next_due_step(Subscription.objects.get(pk=sub.pk)) == step:
            return steps  # waiting on something else (a pending payment): next run
    log.error("subscription %s: more than 100 due steps at once", subscription.pk)
    return steps
