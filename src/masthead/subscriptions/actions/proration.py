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
    # The seats the subscription holds after the change (a group plan; 1 otherwise).
    seats: int = 1

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


def preview_plan_change(
    sub: Subscription, plan: Plan, *, now: datetime, seats: int | None = None
) -> PlanChangePreview:
    """Upgrades (a longer interval, or a dearer plan of the same interval, or more seats of a
    group plan) apply now, with a credit for the unused whole days already paid; downgrades
    apply when the period ends, with nothing charged now. Fewer seats of the same group plan
    apply now with nothing charged or refunded: the renewal bills the new count."""
    seats = (seats or sub.seats) if plan.group else 1
    if sub.status not in (Status.ACTIVE, Status.TRIALING):
        raise SubscriptionError("Only an active subscription or a trial can change plan.")
    if not plan.is_live(now):
        raise SubscriptionError("This plan is no longer sold.")
    if plan.currency != sub.plan.currency:
        raise SubscriptionError("Plans in another currency cannot be switched to.")
    same_seats = seats == sub.seats
    if plan.pk == sub.plan_id and same_seats and sub.next_plan_id is None:
        raise SubscriptionError("You are already on this plan.")
    if plan.group:
        from masthead.subscriptions.actions.checkout import seats_refusal

        refusal = seats_refusal(plan, seats)
        if refusal:
            raise SubscriptionError(refusal)
    new_total, old_total = plan.price_for(seats), sub.plan.price_for(sub.seats)

    def preview(immediate: bool, charge: int, credit: int, at: datetime) -> PlanChangePreview:
        return PlanChangePreview(
            plan.pk, immediate, charge, credit, plan.currency, at, new_total, seats=seats
        )

    if sub.status == Status.TRIALING or (plan.pk == sub.plan_id and same_seats):
        # A trialist switches for free; choosing the current plan drops a scheduled change.
        return preview(sub.status == Status.TRIALING, 0, 0, now)
    upgrade = plan.months > sub.plan.months or (
        plan.months == sub.plan.months and new_total > old_total
    )
    if not upgrade:
        # Fewer seats of the same plan: at once, nothing charged (decision 0036).
        return preview(
            plan.pk == sub.plan_id, 0, 0, now if plan.pk == sub.plan_id else sub.current_period_end
        )
    total_days = max((sub.current_period_end - sub.current_period_start).days, 1)
    remaining_days = max((sub.current_period_end - now).days, 0)
    credit = min(paid_for_period(sub) * remaining_days // total_days, new_total)
    ours = preview(True, new_total - credit, credit, now)
    if sub.provider_ref and sub.provider == "stripe":
        from masthead.subscriptions.actions.stripe_changes import stripe_preview

        return stripe_preview(sub, plan, ours, now=now)
    return ours
