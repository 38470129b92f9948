"""What a plan change costs: upgrades now with a credit for unused whole days, downgrades at
the period end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Sum

from masthead.billing.models import EntryKind, LedgerEntry
from masthead.core.money import format_money
from masthead.subscriptions.actions.errors import SubscriptionError
from masthead.subscriptions.models import Plan, Status, Subscription


@dataclass(frozen=True)
class PlanChangePreview:
    """Exactly what changing plan costs, shown before the reader confirms."""

    plan_id: int
    immediate: bool
    charge_minor: int
    credit_minor: int
    currency: str
    applies_at: datetime
    renewal_minor: int
    # Stripe subscriptions: the moment Stripe prorates at (the same in preview and change).
    proration_date: int | None = None

    @property
    def charge_text(self) -> str:
        return format_money(self.charge_minor, self.currency)

    @property
    def credit_text(self) -> str:
        return format_money(self.credit_minor, self.currency)

    @property
    def renewal_text(self) -> str:
        return format_money(self.renewal_minor, self.currency)


def paid_for_period(sub: Subscription) -> int:
    total = LedgerEntry.objects.filter(subscription=sub, period_number=sub.period_number).aggregate(
        total=Sum("amount_minor")
    )["total"]
    # Refunds point at the charge; they carry no period, so add them through it.
    refunds = LedgerEntry.objects.filter(
        related__subscription=sub,
        related__period_number=sub.period_number,
        kind=EntryKind.REFUND,
    ).aggregate(total=Sum("amount_minor"))["total"]
    return max((total or 0) + (refunds or 0), 0)


def preview_plan_change(sub: Subscription, plan: Plan, *, now: datetime) -> PlanChangePreview:
    """Upgrades (a longer interval, or a dearer plan of the same interval) apply now, with a
    credit for the unused whole days already paid; downgrades apply when the period ends,
    with nothing charged now."""
    if sub.status not in (Status.ACTIVE, Status.TRIALING):
        raise SubscriptionError("Only an active subscription or a trial can change plan.")
    if not plan.is_live(now):
        raise SubscriptionError("This plan is no longer sold.")
    if plan.currency != sub.plan.currency:
        raise SubscriptionError("Plans in another currency cannot be switched to.")
    if plan.pk == sub.plan_id and sub.next_plan_id is None:
        raise SubscriptionError("You are already on this plan.")

    def preview(immediate: bool, charge: int, credit: int, at: datetime) -> PlanChangePreview:
        return PlanChangePreview(
            plan.pk, immediate, charge, credit, plan.currency, at, plan.price_minor
        )

    if sub.status == Status.TRIALING or plan.pk == sub.plan_id:
        # A trialist switches for free; choosing the current plan drops a scheduled change.
        return preview(sub.status == Status.TRIALING, 0, 0, now)
    upgrade = plan.months > sub.plan.months or (
        plan.months == sub.plan.months and plan.price_minor > sub.plan.price_minor
    )
    if not upgrade:
        return preview(False, 0, 0, sub.current_period_end)
    total_days = max((sub.current_period_end - sub.current_period_start).days, 1)
    remaining_days = max((sub.current_period_end - now).days, 0)
    credit = min(paid_for_period(sub) * remaining_days // total_days, plan.price_minor)
    ours = preview(True, plan.price_minor - credit, credit, now)
    if sub.provider_ref and sub.provider == "stripe":
        from masthead.subscriptions.actions.stripe_changes import stripe_preview

        return stripe_preview(sub, plan, ours, now=now)
    return ours
