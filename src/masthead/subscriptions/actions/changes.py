"""What the reader (or staff) chooses: cancel, resume, change plan, replace the card."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from masthead.billing.models import PaymentMethod
from masthead.billing.providers import SavedCard, get_provider
from masthead.subscriptions import emails
from masthead.subscriptions.actions.charges import charge_period, save_card
from masthead.subscriptions.actions.eligibility import live_subscription
from masthead.subscriptions.actions.errors import PreviewOutdated, SubscriptionError
from masthead.subscriptions.actions.lifecycle import expire, renew
from masthead.subscriptions.actions.periods import add_months
from masthead.subscriptions.actions.proration import PlanChangePreview, preview_plan_change
from masthead.subscriptions.actions.stripe_changes import (
    at_stripe,
    cancel_at_stripe,
    change_plan_at_stripe,
    resume_at_stripe,
)
from masthead.subscriptions.actions.transitions import lock, lock_reader, transition
from masthead.subscriptions.models import EventKind, Plan, Status, Subscription


def cancel(
    subscription: Subscription,
    *,
    now: datetime,
    actor: Any = None,
    reason: str = "",
    immediately: bool = False,
) -> Subscription:
    """Stop renewing; access stays until the period ends (staff may end it at once).

    A subscription Stripe bills is cancelled at Stripe first (no lock held): at the period
    end, or at once for staff and for a past-due one."""
    cancel_at_stripe(subscription, immediately=immediately)
    with transaction.atomic():
        sub = lock(subscription)
        if sub.status in (Status.CANCELLED, Status.EXPIRED) and not immediately:
            raise SubscriptionError("This subscription is already cancelled.")
        if immediately or sub.status in (Status.PAST_DUE, Status.COMPLIMENTARY):
            expire(sub, now=now, reason=reason or "Cancelled", actor=actor)
            sub.refresh_from_db()
            return sub
        transition(
            sub,
            Status.CANCELLED,
            EventKind.CANCELLED,
            at=now,
            actor=actor,
            reason=reason,
            auto_renew=False,
            cancelled_at=now,
            next_plan=None,
        )
        emails.on_commit("cancelled", sub)
        return sub


def resume(subscription: Subscription, *, now: datetime, actor: Any = None) -> Subscription:
    """Undo a cancellation before the period ends (at Stripe first, for a Stripe one)."""
    resume_at_stripe(subscription, now=now)
    with transaction.atomic():
        sub = lock(subscription)
        if sub.status != Status.CANCELLED or sub.current_period_end <= now:
            raise SubscriptionError("Only a cancelled subscription that has not ended can resume.")
        in_trial = sub.paid_periods == 0 and sub.trial_end is not None
        return transition(
            sub,
            Status.TRIALING if in_trial else Status.ACTIVE,
            EventKind.RESUMED,
            at=now,
            actor=actor,
            auto_renew=bool(sub.offer and sub.offer.card_required) if in_trial else True,
            cancelled_at=None,
        )


def change_plan(
    subscription: Subscription,
    plan: Plan,
    *,
    now: datetime,
    expected: PlanChangePreview | None = None,
    actor: Any = None,
) -> Subscription:
    """Apply a plan change; with `expected`, refuse if the amount is not what was shown."""
    if at_stripe(subscription) is not None:
        return _change_plan_at_stripe(subscription, plan, now=now, expected=expected, actor=actor)
    with transaction.atomic():
        sub = lock(subscription)
        preview = preview_plan_change(sub, plan, now=now)
        if expected is not None and (
            expected.charge_minor,
            expected.credit_minor,
            expected.immediate,
            expected.plan_id,
        ) != (preview.charge_minor, preview.credit_minor, preview.immediate, preview.plan_id):
            raise PreviewOutdated(preview)
        previous_plan = sub.plan
        if plan.pk == sub.plan_id:
            return transition(
                sub,
                sub.status,
                EventKind.PLAN_CHANGE_SCHEDULED,
                at=now,
                data={"plan": plan.slug},
                next_plan=None,
            )
        if not preview.immediate:
            return transition(
                sub,
                sub.status,
                EventKind.PLAN_CHANGE_SCHEDULED,
                at=now,
                actor=actor,
                data={"plan": plan.slug, "applies_at": preview.applies_at.isoformat()},
                next_plan=plan,
            )
        if sub.status == Status.TRIALING:
            return transition(
                sub,
                sub.status,
                EventKind.PLAN_CHANGED,
                at=now,
                actor=actor,
                data={"plan": plan.slug},
                plan=plan,
                next_plan=None,
            )
        number = sub.period_number + 1
        end = add_months(now, plan.months)
        sub.plan = plan
        entry = charge_period(
            sub,
            amount_minor=preview.charge_minor,
            credit_minor=preview.credit_minor,
            period_number=number,
            period_start=now,
            period_end=end,
            description=f"Change from {previous_plan.name} to {plan.name}",
            now=now,
            off_session=False,
        )
        transition(
            sub,
            sub.status,
            EventKind.PLAN_CHANGED,
            at=now,
            actor=actor,
            data={
                "plan": plan.slug,
                "charged": preview.charge_minor,
                "credited": preview.credit_minor,
            },
            plan=plan,
            next_plan=None,
            current_period_start=now,
            current_period_end=end,
            period_number=number,
            paid_periods=sub.paid_periods + 1,
        )
        emails.on_commit("receipt", sub, entry=entry)
        return sub


def _outdated(expected: PlanChangePreview | None, preview: PlanChangePreview) -> bool:
    return expected is not None and (
        expected.charge_minor,
        expected.credit_minor,
        expected.immediate,
        expected.plan_id,
    ) != (preview.charge_minor, preview.credit_minor, preview.immediate, preview.plan_id)


def _change_plan_at_stripe(
    subscription: Subscription,
    plan: Plan,
    *,
    now: datetime,
    expected: PlanChangePreview | None,
    actor: Any,
) -> Subscription:
    """Stripe first, no lock held: the preview (Stripe's proration) is compared with what
    the reader confirmed, Stripe changes the price (an upgrade is invoiced and must be paid,
    or nothing changes), then Masthead records the change. The payment itself reaches the
    ledger from Stripe's `invoice.paid`."""
    preview = preview_plan_change(subscription, plan, now=now)
    if _outdated(expected, preview):
        raise PreviewOutdated(preview)
    state = change_plan_at_stripe(subscription, plan, preview)
    with transaction.atomic():
        sub = lock(subscription)
        if plan.pk == sub.plan_id:
            return transition(
                sub,
                sub.status,
                EventKind.PLAN_CHANGE_SCHEDULED,
                at=now,
                actor=actor,
                data={"plan": plan.slug},
                next_plan=None,
            )
        if not preview.immediate:
            return transition(
                sub,
                sub.status,
                EventKind.PLAN_CHANGE_SCHEDULED,
                at=now,
                actor=actor,
                data={"plan": plan.slug, "applies_at": preview.applies_at.isoformat()},
                next_plan=plan,
            )
        fields: dict[str, Any] = {"plan": plan, "next_plan": None}
        data: dict[str, Any] = {"plan": plan.slug}
        if sub.status == Status.ACTIVE:
            fields |= {
                "current_period_start": state.period_start,
                "current_period_end": state.period_end,
            }
            data |= {"charged": preview.charge_minor, "credited": preview.credit_minor}
        return transition(
            sub, sub.status, EventKind.PLAN_CHANGED, at=now, actor=actor, data=data, **fields
        )


def update_card(user: Any, card: SavedCard, *, now: datetime) -> PaymentMethod:
    """Replace the reader's card (under the reader's lock); a past-due subscription is
    retried at once."""
    with transaction.atomic(durable=True):
        lock_reader(user)
        method = save_card(user, card, get_provider().name, now=now)
        sub = live_subscription(user.pk)
    if sub is not None and sub.status == Status.PAST_DUE:
        renew(sub, now=now, retry_now=True)
    return method
