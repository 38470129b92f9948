"""Mirroring a provider that bills on its own (Stripe): its subscription states and the
payments it reports. Called by the webhook application (subscriptions.stripe_events)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from masthead.billing.models import LedgerEntry
from masthead.subscriptions import emails
from masthead.subscriptions.actions.charges import write_charge
from masthead.subscriptions.actions.eligibility import live_subscription
from masthead.subscriptions.actions.errors import SubscriptionError
from masthead.subscriptions.actions.lifecycle import expire
from masthead.subscriptions.actions.transitions import create, lock, lock_reader, transition
from masthead.subscriptions.models import GRACE_PERIOD, EventKind, Plan, Status, Subscription


def apply_provider_state(
    *,
    user: Any,
    plan: Plan,
    provider: str,
    provider_ref: str,
    status: str,
    period_start: datetime,
    period_end: datetime,
    trial_end: datetime | None,
    state_at: datetime,
    paused_until: datetime | None = None,
) -> Subscription | None:
    """Mirror the provider's copy of a subscription. Older states than the one applied are
    skipped (None), so out-of-order webhooks end in the provider's latest state."""
    with transaction.atomic():
        lock_reader(user)
        sub = (
            Subscription.objects.select_for_update()
            .filter(provider=provider, provider_ref=provider_ref)
            .first()
        )
        if sub is not None and sub.provider_state_at and state_at < sub.provider_state_at:
            return None
        if sub is None:
            if status != Status.EXPIRED and live_subscription(user.pk) is not None:
                raise SubscriptionError(f"user {user.pk} already has a live subscription")
            sub = create(
                status,
                EventKind.PROVIDER_SYNC,
                at=state_at,
                data={"provider_ref": provider_ref},
                user=user,
                plan=plan,
                provider=provider,
                provider_ref=provider_ref,
                provider_state_at=state_at,
                started_at=period_start,
                current_period_start=period_start,
                current_period_end=period_end,
                trial_end=trial_end,
                auto_renew=status in (Status.ACTIVE, Status.TRIALING, Status.PAST_DUE),
                ended_at=state_at if status == Status.EXPIRED else None,
            )
            if status != Status.EXPIRED:
                emails.on_commit("welcome", sub)
            return sub
        if sub.status == Status.EXPIRED:
            return None  # ended subscriptions stay ended; a new one gets a new provider id
        previous = sub.status
        mirrored: dict[str, Any] = {
            "plan": plan,
            "provider_state_at": state_at,
            "current_period_start": period_start,
            "current_period_end": period_end,
            "trial_end": trial_end or sub.trial_end,
        }
        if sub.next_plan_id is not None and sub.next_plan_id == plan.pk:
            mirrored["next_plan"] = None  # the scheduled change has happened at the provider
        if status == Status.EXPIRED:
            expire(sub, now=state_at, reason="Ended at the payment provider", **mirrored)
            return sub
        if status == Status.PAST_DUE:
            grace_until = sub.grace_until or period_end + GRACE_PERIOD
        else:
            grace_until = None
        # A paused collection (docs/retention.md): Stripe resumes it by itself at its
        # `resumes_at`; the pause's moments are mirrored, and cleared when it ends.
        if status == Status.PAUSED:
            mirrored |= {
                "paused_at": sub.paused_at if previous == Status.PAUSED else state_at,
                "paused_until": paused_until,
            }
        elif previous == Status.PAUSED:
            mirrored |= {"paused_at": None, "paused_until": None}
        transition(
            sub,
            status,
            EventKind.PROVIDER_SYNC,
            at=state_at,
            data={"provider_ref": provider_ref},
            auto_renew=status != Status.CANCELLED,
            grace_until=grace_until,
            **mirrored,
        )
        if previous != Status.CANCELLED and status == Status.CANCELLED:
            emails.on_commit("cancelled", sub)
        return sub


def record_provider_charge(
    subscription: Subscription,
    *,
    provider_ref: str,
    amount_minor: int,
    currency: str,
    period_start: datetime,
    period_end: datetime,
    at: datetime,
) -> LedgerEntry | None:
    """A payment the provider confirmed (Stripe invoice.paid). Once per provider reference:
    a ledger row and a history row."""
    with transaction.atomic():
        sub = lock(subscription)
        if LedgerEntry.objects.filter(provider_ref=provider_ref).exists():
            return None
        number = sub.period_number + 1
        entry = write_charge(
            sub,
            amount_minor=amount_minor,
            period_number=number,
            period_start=period_start,
            period_end=period_end,
            description=f"{sub.plan.name} subscription",
            provider_ref=provider_ref,
            now=at,
            currency=currency.upper(),
        )
        transition(
            sub,
            sub.status,
            EventKind.PAYMENT_RECORDED,
            at=at,
            data={"provider_ref": provider_ref, "charged": amount_minor, "period": number},
            period_number=number,
            paid_periods=sub.paid_periods + 1,
        )
        emails.on_commit("receipt", sub, entry=entry)
        return entry
