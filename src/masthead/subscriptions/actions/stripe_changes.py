"""A reader's or staff member's change to a subscription Stripe bills reaches Stripe first,
with no database lock held; Masthead then records it (changes.py), and Stripe's webhooks
confirm it (stripe_events.py, which fetches Stripe's copy when an event is in doubt).

Upgrades use Stripe's proration at a `proration_date` of the period end minus the whole days
left: Masthead's own whole-day rule. The preview the reader confirms is Stripe's
(`invoices.create_preview` at that date), and the change passes the same date, so what Stripe
charges is what was shown.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime
from typing import Any

from masthead.billing import provider_events as pe
from masthead.billing.providers import PaymentError, get_provider
from masthead.subscriptions.actions.errors import SubscriptionError
from masthead.subscriptions.actions.proration import PlanChangePreview
from masthead.subscriptions.models import Plan, Status, Subscription

log = logging.getLogger("masthead.subscriptions.stripe")


def at_stripe(sub: Subscription) -> Any:
    """The Stripe provider if Stripe bills this subscription, else None."""
    if sub.provider == "stripe" and sub.provider_ref:
        return get_provider("stripe")
    return None


def _key(sub: Subscription, what: str) -> str:
    # A new key for each change (the history grows with each), the same key for a retry of it.
    return f"sub-{sub.pk}-{what}-{sub.events.count()}"


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except PaymentError as exc:
        raise SubscriptionError(str(exc)) from exc


def cancel_at_stripe(sub: Subscription, *, immediately: bool) -> pe.SubscriptionState | None:
    provider = at_stripe(sub)
    if provider is None or sub.status == Status.EXPIRED:
        return None
    if sub.status == Status.CANCELLED and not immediately:
        return None  # refused by cancel() itself
    at_period_end = not (immediately or sub.status == Status.PAST_DUE)
    return _call(
        provider.cancel_subscription,
        sub.provider_ref,
        at_period_end=at_period_end,
        idempotency_key=_key(sub, "cancel" if at_period_end else "end"),
    )


def resume_at_stripe(sub: Subscription, *, now: datetime) -> pe.SubscriptionState | None:
    provider = at_stripe(sub)
    if provider is None or sub.status != Status.CANCELLED or sub.current_period_end <= now:
        return None
    return _call(
        provider.resume_subscription, sub.provider_ref, idempotency_key=_key(sub, "resume")
    )


def pause_at_stripe(sub: Subscription, *, resumes_at: datetime) -> pe.SubscriptionState | None:
    """Pause collection at Stripe until `resumes_at` (decision 0035), before Masthead records
    the pause; a retry of the same pause sends the same idempotency key."""
    provider = at_stripe(sub)
    if provider is None or sub.status != Status.ACTIVE:
        return None
    return _call(
        provider.pause_subscription,
        sub.provider_ref,
        resumes_at=resumes_at,
        idempotency_key=_key(sub, "pause"),
    )


def unpause_at_stripe(sub: Subscription) -> pe.SubscriptionState | None:
    """Collect again at Stripe now (a reader who resumes early)."""
    provider = at_stripe(sub)
    if provider is None or sub.status != Status.PAUSED:
        return None
    return _call(
        provider.unpause_subscription, sub.provider_ref, idempotency_key=_key(sub, "unpause")
    )


def stripe_preview(
    sub: Subscription, plan: Plan, ours: PlanChangePreview, *, now: datetime
) -> PlanChangePreview:
    """Stripe's own proration for an upgrade of a Stripe subscription, at Masthead's
    whole-day proration moment. Disagreement with Masthead's rule is logged; Stripe's amount
    is the one shown and charged."""
    if not plan.stripe_price_id:
        raise SubscriptionError("This plan cannot be bought online yet.")
    provider = get_provider("stripe")
    proration_date = provider.whole_day_proration_date(sub.current_period_end, now)
    remote = _call(
        provider.preview_plan_change,
        sub.provider_ref,
        price_ref=plan.stripe_price_id,
        proration_date=proration_date,
        quantity=ours.seats,
    )
    if (remote.amount_due_minor, remote.credit_minor) != (ours.charge_minor, ours.credit_minor):
        log.warning(
            "Stripe prorates subscription %s to %s (credit %s); Masthead's rule says %s "
            "(credit %s)",
            sub.pk,
            remote.amount_due_minor,
            remote.credit_minor,
            ours.charge_minor,
            ours.credit_minor,
        )
    return dataclasses.replace(
        ours,
        charge_minor=remote.amount_due_minor,
        credit_minor=remote.credit_minor,
        proration_date=proration_date,
    )


def change_plan_at_stripe(
    sub: Subscription, plan: Plan, preview: PlanChangePreview
) -> pe.SubscriptionState:
    provider = get_provider("stripe")
    price = plan.stripe_price_id
    if not price:
        raise SubscriptionError("This plan cannot be bought online yet.")
    immediate = preview.immediate and sub.status == Status.ACTIVE
    return _call(
        provider.change_plan,
        sub.provider_ref,
        price_ref=price,
        immediate=immediate,
        proration_date=preview.proration_date or 0,
        idempotency_key=_key(sub, f"plan-{plan.pk}-seats-{preview.seats}"),
        quantity=preview.seats,
    )
