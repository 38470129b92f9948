"""What the reader (or staff) chooses: cancel, resume, change plan, replace the card."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from masthead.billing import payments
from masthead.billing.models import Payment, PaymentKind, PaymentMethod, PaymentStatus
from masthead.billing.providers import ChargeFailed, SavedCard, get_provider
from masthead.subscriptions import consent as consents
from masthead.subscriptions import emails
from masthead.subscriptions.actions.charges import (
    record_unplanned,
    reusable,
    save_card,
    write_charge,
)
from masthead.subscriptions.actions.eligibility import live_subscription
from masthead.subscriptions.actions.errors import PreviewOutdated, SubscriptionError
from masthead.subscriptions.actions.lifecycle import expire, renew
from masthead.subscriptions.actions.periods import add_months
from masthead.subscriptions.actions.proration import PlanChangePreview, preview_plan_change
from masthead.subscriptions.actions.retention import unpause_fields
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
    declined_offer: str = "",
) -> Subscription:
    """Stop renewing; access stays until the period ends (staff may end it at once).
    `declined_offer`: the save offer the reader was shown and cancelled instead of taking
    (its history row is written with the cancellation). A paused subscription that is
    cancelled ends its pause first: its access runs until the renewal date, moved by the
    time it was paused (docs/retention.md).

    A subscription Stripe bills is cancelled at Stripe first (no lock held): at the period
    end, or at once for staff and for a past-due one."""
    cancel_at_stripe(subscription, immediately=immediately)
    with transaction.atomic(durable=True):
        sub = lock(subscription)
        if sub.status in (Status.CANCELLED, Status.EXPIRED) and not immediately:
            raise SubscriptionError("This subscription is already cancelled.")
        if declined_offer and sub.status != Status.EXPIRED:
            transition(
                sub,
                sub.status,
                EventKind.SAVE_OFFER_DECLINED,
                at=now,
                actor=actor,
                data={"offer": declined_offer},
            )
        if immediately or sub.status in (Status.PAST_DUE, Status.COMPLIMENTARY):
            expire(sub, now=now, reason=reason or "Cancelled", actor=actor)
            sub.refresh_from_db()
            return sub
        paused = unpause_fields(sub, now=now) if sub.status == Status.PAUSED else {}
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
            **paused,
        )
        emails.on_commit("cancelled", sub)
        return sub


def resume(subscription: Subscription, *, now: datetime, actor: Any = None) -> Subscription:
    """Undo a cancellation before the period ends (at Stripe first, for a Stripe one)."""
    resume_at_stripe(subscription, now=now)
    with transaction.atomic(durable=True):
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
    consent: consents.Consent | None = None,
    seats: int | None = None,
) -> Subscription:
    """Apply a plan change; with `expected`, refuse if the amount is not what was shown.
    `seats`: a group plan's new seat count (more seats is an upgrade charged now, fewer
    apply at once with nothing charged; the group's own rules are `groups.actions`).
    `consent` (the reader's ticked box for the new renewal terms) is recorded with the
    change, in its transaction (for an upgrade, when the payment settles).

    An upgrade charged now runs in two phases (pending payment keyed
    `sub-<id>-change-<n>`, the provider call with nothing locked, then the new period).
    A subscription Stripe bills is changed at Stripe first (`_change_plan_at_stripe`)."""
    if at_stripe(subscription) is not None:
        changed = _change_plan_at_stripe(
            subscription, plan, now=now, expected=expected, actor=actor, seats=seats
        )
        if consent is not None:  # Stripe changed first; the evidence follows at once
            with transaction.atomic():
                _record_consent(changed, plan, consent)
        return changed
    with transaction.atomic(durable=True):
        sub = lock(subscription)
        preview = preview_plan_change(sub, plan, now=now, seats=seats)
        if _outdated(expected, preview):
            raise PreviewOutdated(preview)
        previous_plan = sub.plan
        if plan.pk == sub.plan_id and preview.seats < sub.seats:
            return transition(
                sub,
                sub.status,
                EventKind.PLAN_CHANGED,
                at=now,
                actor=actor,
                data={"plan": plan.slug, "seats": preview.seats, "from_seats": sub.seats},
                seats=preview.seats,
            )
        scheduled = _schedule_unless_immediate(sub, plan, preview, now=now, actor=actor)
        if scheduled is not None:
            _record_consent(scheduled, plan, consent)
            return scheduled
        if sub.status == Status.TRIALING:
            changed = transition(
                sub,
                sub.status,
                EventKind.PLAN_CHANGED,
                at=now,
                actor=actor,
                data={"plan": plan.slug, "seats": preview.seats},
                plan=plan,
                seats=preview.seats,
                next_plan=None,
            )
            _record_consent(changed, plan, consent)
            return changed
        number = sub.period_number + 1
        subject = f"sub-{sub.pk}-change-{number}"
        payment = reusable(subject)
        if payment is None or (payment.context.get("plan"), payment.context.get("seats", 1)) != (
            plan.pk,
            preview.seats,
        ):
            card = PaymentMethod.current_for(sub.user_id)
            if card is None and preview.charge_minor > 0:
                raise ChargeFailed("There is no card on file.")
            payment = payments.open_payment(
                subject=subject,
                user=sub.user,
                kind=PaymentKind.CHARGE,
                purpose="change_plan",
                amount_minor=preview.charge_minor,
                currency=plan.currency,
                provider=sub.provider,
                card_ref=card.provider_ref if card else "",
                description=_change_description(sub, previous_plan, plan, preview.seats),
                context={
                    "subscription": sub.pk,
                    "period": number,
                    "plan": plan.pk,
                    "credit": preview.credit_minor,
                    "actor": getattr(actor, "pk", None),
                    "end": add_months(now, plan.months).isoformat(),
                    "consent": consent.as_context() if consent else None,
                    "seats": preview.seats,
                },
                at=now,
            )
    outcome = payments.collect(payment)
    return settle_plan_change(payment, outcome, now=now)


def settle_plan_change(
    payment: Payment, outcome: payments.Outcome, *, now: datetime
) -> Subscription:
    """Phase 3 (or the reconcile job): the new plan's period, ledger rows and history row."""
    with transaction.atomic(durable=True):
        sub = lock(Subscription(pk=payment.context["subscription"]))
        payment = payments.lock(payment)
        if payment.status == PaymentStatus.SUCCEEDED:
            return sub
        number = payment.context["period"]
        if sub.period_number != number - 1 or sub.status != Status.ACTIVE:
            record_unplanned(payment, outcome, sub, now=now)
            return sub
        plan = Plan.objects.get(pk=payment.context["plan"])
        start, end = payment.at, datetime.fromisoformat(payment.context["end"])
        credit = payment.context["credit"]
        entry = write_charge(
            sub,
            amount_minor=payment.amount_minor,
            credit_minor=credit,
            period_number=number,
            period_start=start,
            period_end=end,
            description=payment.description,
            provider_ref=outcome.provider_ref,
            now=start,
            currency=payment.currency,
            payment=payment,
        )
        transition(
            sub,
            sub.status,
            EventKind.PLAN_CHANGED,
            at=start,
            actor=get_user_model().objects.filter(pk=payment.context["actor"]).first(),
            data={
                "plan": plan.slug,
                "charged": payment.amount_minor,
                "credited": credit,
                "seats": payment.context.get("seats", 1),
            },
            plan=plan,
            seats=payment.context.get("seats", 1),
            next_plan=None,
            current_period_start=start,
            current_period_end=end,
            period_number=number,
            paid_periods=sub.paid_periods + 1,
        )
        if payment.context.get("consent"):
            _record_consent(sub, plan, consents.Consent.from_context(payment.context["consent"]))
        payments.mark_succeeded(payment, outcome, now=now)
        emails.on_commit("receipt", sub, entry=entry)
        return sub


def _change_description(sub: Subscription, previous: Plan, plan: Plan, seats: int) -> str:
    if plan.pk == previous.pk and plan.group:
        return f"{plan.name}: from {sub.seats} to {seats} seats"
    if plan.group:
        return f"Change from {previous.name} to {plan.name}, {seats} seats"
    return f"Change from {previous.name} to {plan.name}"


def _record_consent(sub: Subscription, plan: Plan, consent: consents.Consent | None) -> None:
    if consent is not None:
        consents.record(consent, user=sub.user, plan=plan, offer=None, subscription=sub)


def _outdated(expected: PlanChangePreview | None, preview: PlanChangePreview) -> bool:
    return expected is not None and (
        expected.charge_minor,
        expected.credit_minor,
        expected.immediate,
        expected.plan_id,
        expected.seats,
    ) != (
        preview.charge_minor,
        preview.credit_minor,
        preview.immediate,
        preview.plan_id,
        preview.seats,
    )


def _schedule_unless_immediate(
    sub: Subscription,
    plan: Plan,
    preview: PlanChangePreview,
    *,
    now: datetime,
    actor: Any,
) -> Subscription | None:
    """Choosing the current plan again withdraws a scheduled change; a change that is not
    immediate is scheduled for the period's end. Either way nothing is charged. None: the
    change applies now."""
    if plan.pk == sub.plan_id and preview.seats == sub.seats:
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
    return None


def _change_plan_at_stripe(
    subscription: Subscription,
    plan: Plan,
    *,
    now: datetime,
    expected: PlanChangePreview | None,
    actor: Any,
    seats: int | None = None,
) -> Subscription:
    """Stripe first, no lock held: the preview (Stripe's proration) is compared with what
    the reader confirmed, Stripe changes the price (an upgrade is invoiced and must be paid,
    or nothing changes), then Masthead records the change. The payment itself reaches the
    ledger from Stripe's `invoice.paid`."""
    preview = preview_plan_change(subscription, plan, now=now, seats=seats)
    if _outdated(expected, preview):
        raise PreviewOutdated(preview)
    state = change_plan_at_stripe(subscription, plan, preview)
    with transaction.atomic(durable=True):
        sub = lock(subscription)
        scheduled = _schedule_unless_immediate(sub, plan, preview, now=now, actor=actor)
        if scheduled is not None:
            return scheduled
        fields: dict[str, Any] = {"plan": plan, "next_plan": None, "seats": preview.seats}
        data: dict[str, Any] = {"plan": plan.slug, "seats": preview.seats}
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
