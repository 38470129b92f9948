"""Every subscription state change, whatever asks for it (checkout, account page, admin,
webhooks, jobs). Each action is one transaction that locks the subscription row, re-checks
the state under the lock, writes a SubscriptionEvent, and sends e-mail only on commit.

    trialing ──renew──▶ active ──renew──▶ active
       │ │                │  ▲ └─payment fails─▶ past_due ──retry ok──┘
       │ └─cancel─┐       │  └──resume──┐          └─retries exhausted─▶ expired
       │          ▼       └─cancel──▶ cancelled ──period ends──▶ expired
       └─ends without a card ─────────────────────────────────▶ expired
    complimentary ──end date──▶ expired
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Sum

from masthead.billing.models import EntryKind, LedgerEntry, PaymentMethod
from masthead.billing.providers import ChargeFailed, SavedCard, get_provider
from masthead.subscriptions import emails, trial_eligibility
from masthead.subscriptions.models import (
    GRACE_PERIOD,
    RETRY_DELAYS,
    TRIAL_REMINDER_BEFORE,
    EventKind,
    Offer,
    OfferKind,
    Plan,
    Status,
    Subscription,
    SubscriptionEvent,
)
from masthead.subscriptions.money import format_money

log = logging.getLogger("masthead.subscriptions")


class SubscriptionError(Exception):
    """A refusal whose message is safe to show the reader or the staff member."""


class NotEligible(SubscriptionError):
    pass


class PreviewOutdated(SubscriptionError):
    """The charge shown to the reader is no longer the charge; show them the new preview."""

    def __init__(self, preview: PlanChangePreview) -> None:
        super().__init__("The amount changed since you looked; please confirm the new amount.")
        self.preview = preview


# ---------------------------------------------------------------- helpers


def add_months(moment: datetime, months: int) -> datetime:
    """Same day-of-month `months` later, clamped to the month's last day (Jan 31 -> Feb 28)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _lock(subscription: Subscription) -> Subscription:
    return (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("plan", "offer", "next_plan", "user")
        .get(pk=subscription.pk)
    )


def _record(
    subscription: Subscription,
    kind: str,
    from_status: str,
    *,
    at: datetime,
    actor: Any = None,
    reason: str = "",
    **data: Any,
) -> None:
    SubscriptionEvent.objects.create(
        subscription=subscription,
        kind=kind,
        from_status=from_status,
        to_status=subscription.status,
        at=at,
        actor=actor if getattr(actor, "pk", None) else None,
        reason=reason,
        data=data,
    )


def _save(subscription: Subscription, *fields: str) -> None:
    subscription.save(update_fields=[*fields, "updated_at"])


def ever_paid(user_id: int) -> bool:
    return Subscription.objects.filter(user_id=user_id, paid_periods__gt=0).exists()


def live_subscription(user_id: int) -> Subscription | None:
    return (
        Subscription.objects.exclude(status=Status.EXPIRED)
        .select_related("plan", "next_plan", "offer")
        .filter(user_id=user_id)
        .first()
    )


def offer_refusal(user_id: int | None, offer: Offer, *, now: datetime) -> str | None:
    """Why this reader may not take this offer now, in words; None when they may."""
    if not offer.is_live(now):
        return (
            "This offer has ended."
            if offer.starts_at is None or now >= offer.starts_at
            else ("This offer has not started yet.")
        )
    if user_id is None:
        return None
    if live_subscription(user_id) is not None:
        return "You already have a subscription. Manage it from your account."
    if Subscription.objects.filter(user_id=user_id, offer=offer).exists():
        return "You have already used this offer."
    if (
        offer.kind == OfferKind.TRIAL
        and Subscription.objects.filter(user_id=user_id, trial_end__isnull=False).exists()
    ):
        return "Free trials are for readers who have not had one before."
    if offer.new_subscribers_only and ever_paid(user_id):
        return "This offer is for new subscribers."
    return trial_eligibility.refusal(user_id, offer, now=now)


def _lock_reader(user: Any) -> None:
    """Serialize one reader's checkouts (a double click waits for the first click)."""
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()


def _save_card(user: Any, card: SavedCard, provider: str, *, now: datetime) -> PaymentMethod:
    PaymentMethod.objects.filter(user=user, replaced_at__isnull=True).update(replaced_at=now)
    return PaymentMethod.objects.create(
        user=user,
        provider=provider,
        provider_ref=card.provider_ref,
        brand=card.brand,
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
    )


def _charge_period(
    subscription: Subscription,
    *,
    amount_minor: int,
    period_number: int,
    period_start: datetime,
    period_end: datetime,
    description: str,
    now: datetime,
    off_session: bool,
    credit_minor: int = 0,
) -> LedgerEntry:
    """Charge the provider for one period and write the ledger rows. Raises ChargeFailed."""
    currency = subscription.plan.currency
    charge_ref = None
    if amount_minor > 0:
        card = PaymentMethod.current_for(subscription.user_id)
        if card is None:
            raise ChargeFailed("There is no card on file.")
        charge = get_provider(subscription.provider).charge(
            user=subscription.user,
            card_ref=card.provider_ref,
            amount_minor=amount_minor,
            currency=currency,
            idempotency_key=f"sub-{subscription.pk}-period-{period_number}",
            description=description,
            off_session=off_session,
        )
        charge_ref = charge.provider_ref
    entry = LedgerEntry.objects.create(
        user_id=subscription.user_id,
        subscription=subscription,
        kind=EntryKind.CHARGE,
        amount_minor=amount_minor + credit_minor,
        currency=currency,
        period_number=period_number,
        period_start=period_start,
        period_end=period_end,
        description=description,
        provider=subscription.provider,
        provider_ref=charge_ref,
        at=now,
    )
    if credit_minor:
        LedgerEntry.objects.create(
            user_id=subscription.user_id,
            subscription=subscription,
            kind=EntryKind.CREDIT,
            amount_minor=-credit_minor,
            currency=currency,
            period_number=period_number,
            related=entry,
            description="Credit for the unused part of the previous plan",
            provider=subscription.provider,
            at=now,
        )
    return entry


# ---------------------------------------------------------------- starting


def start_trial(
    user: Any,
    offer: Offer,
    *,
    now: datetime,
    card: SavedCard | None = None,
    checkout_key: str | None = None,
) -> Subscription:
    """Free days; with a card the trial renews into the plan, without one it expires."""
    if offer.kind != OfferKind.TRIAL:
        raise SubscriptionError("This offer is not a trial.")
    if offer.card_required and card is None:
        raise SubscriptionError("This trial needs a card; you will not be charged until it ends.")
    provider = get_provider()
    try:
        with transaction.atomic():
            existing = _existing_checkout(user, checkout_key)
            if existing is not None:
                return existing
            _lock_reader(user)
            refusal = offer_refusal(user.pk, offer, now=now)
            if refusal:
                raise NotEligible(refusal)
            if card is not None:
                _save_card(user, card, provider.name, now=now)
            end = now + timedelta(days=offer.trial_days)
            subscription = Subscription.objects.create(
                user=user,
                plan=offer.plan,
                offer=offer,
                status=Status.TRIALING,
                provider=provider.name,
                started_at=now,
                current_period_start=now,
                current_period_end=end,
                trial_end=end,
                auto_renew=card is not None,
                checkout_key=checkout_key,
            )
            _record(subscription, EventKind.TRIAL_STARTED, "", at=now, offer=offer.code)
            emails.on_commit("welcome", subscription)
            return subscription
    except IntegrityError:
        return _after_race(user, checkout_key)


def subscribe(
    user: Any,
    *,
    card: SavedCard,
    now: datetime,
    plan: Plan | None = None,
    offer: Offer | None = None,
    checkout_key: str | None = None,
) -> Subscription:
    """Take a plan (at its price) or an introductory offer (its price for its term).

    The price is the server's; a declined charge raises ChargeFailed and leaves nothing.
    """
    if offer is not None:
        if offer.kind != OfferKind.INTRO:
            raise SubscriptionError("This offer is a trial.")
        plan = offer.plan
    if plan is None:
        raise SubscriptionError("Choose a plan or an offer.")
    provider = get_provider()
    try:
        with transaction.atomic():
            existing = _existing_checkout(user, checkout_key)
            if existing is not None:
                return existing
            _lock_reader(user)
            if offer is not None:
                refusal = offer_refusal(user.pk, offer, now=now)
            elif not plan.is_live(now):
                refusal = "This plan is no longer sold."
            elif live_subscription(user.pk) is not None:
                refusal = "You already have a subscription. Manage it from your account."
            else:
                refusal = None
            if refusal:
                raise NotEligible(refusal)
            _save_card(user, card, provider.name, now=now)
            months = plan.months * (offer.intro_periods if offer else 1)
            price = offer.intro_price_minor if offer else plan.price_minor
            end = add_months(now, months)
            subscription = Subscription.objects.create(
                user=user,
                plan=plan,
                offer=offer,
                status=Status.ACTIVE,
                provider=provider.name,
                started_at=now,
                current_period_start=now,
                current_period_end=end,
                period_number=1,
                paid_periods=1,
                auto_renew=True,
                checkout_key=checkout_key,
            )
            entry = _charge_period(
                subscription,
                amount_minor=price,
                period_number=1,
                period_start=now,
                period_end=end,
                description=offer.headline if offer else f"{plan.name} subscription",
                now=now,
                off_session=False,
            )
            _record(
                subscription,
                EventKind.SUBSCRIBED,
                "",
                at=now,
                offer=offer.code if offer else "",
                charged=price,
            )
            emails.on_commit("welcome", subscription)
            emails.on_commit("receipt", subscription, entry=entry)
            return subscription
    except IntegrityError:
        return _after_race(user, checkout_key)


def _existing_checkout(user: Any, checkout_key: str | None) -> Subscription | None:
    if not checkout_key:
        return None
    existing = Subscription.objects.filter(checkout_key=checkout_key).first()
    if existing is not None and existing.user_id != user.pk:
        raise SubscriptionError("This checkout form has expired; please start again.")
    return existing


def _after_race(user: Any, checkout_key: str | None) -> Subscription:
    """A concurrent request won the one-live-subscription race: show its result."""
    existing = _existing_checkout(user, checkout_key)
    if existing is not None:
        return existing
    raise NotEligible("You already have a subscription. Manage it from your account.")


def grant_comp(
    user: Any, *, until: datetime, now: datetime, actor: Any, reason: str, plan: Plan | None = None
) -> Subscription:
    """Complimentary access granted by staff, ending on a set date."""
    if until <= now:
        raise SubscriptionError("A complimentary subscription must end in the future.")
    if not reason.strip():
        raise SubscriptionError("Say why this access is granted.")
    plan = plan or Plan.objects.order_by("price_minor").first()
    if plan is None:
        raise SubscriptionError("Create a plan first.")
    with transaction.atomic():
        _lock_reader(user)
        if live_subscription(user.pk) is not None:
            raise SubscriptionError("This reader already has a live subscription; end it first.")
        subscription = Subscription.objects.create(
            user=user,
            plan=plan,
            status=Status.COMPLIMENTARY,
            provider="none",
            started_at=now,
            current_period_start=now,
            current_period_end=until,
            auto_renew=False,
        )
        _record(subscription, EventKind.COMP_GRANTED, "", at=now, actor=actor, reason=reason)
        return subscription


# ---------------------------------------------------------------- time passing


def renew(subscription: Subscription, *, now: datetime) -> bool:
    """Charge the next period when it is due (or retry a failed one). True when it paid."""
    with transaction.atomic():
        sub = _lock(subscription)
        due = (
            sub.status in (Status.ACTIVE, Status.TRIALING)
            and sub.auto_renew
            and sub.current_period_end <= now
        ) or (sub.status == Status.PAST_DUE and sub.next_retry_at and sub.next_retry_at <= now)
        if not due:
            return False
        plan = sub.next_plan or sub.plan
        start = sub.current_period_end
        end = add_months(start, plan.months)
        number = sub.period_number + 1
        # A renewal cannot go through PlanChange, so the plan is read under the same lock.
        sub.plan = plan
        try:
            entry = _charge_period(
                sub,
                amount_minor=plan.price_minor,
                period_number=number,
                period_start=start,
                period_end=end,
                description=f"{plan.name} renewal",
                now=now,
                off_session=True,
            )
        except ChargeFailed as exc:
            record_payment_failure(sub, now=now, reason=str(exc))
            return False
        previous = sub.status
        sub.status = Status.ACTIVE
        sub.next_plan = None
        sub.current_period_start, sub.current_period_end = start, end
        sub.period_number = number
        sub.paid_periods += 1
        sub.retry_count, sub.next_retry_at, sub.grace_until = 0, None, None
        _save(
            sub,
            "status",
            "plan",
            "next_plan",
            "current_period_start",
            "current_period_end",
            "period_number",
            "paid_periods",
            "retry_count",
            "next_retry_at",
            "grace_until",
        )
        _record(sub, EventKind.RENEWED, previous, at=now, charged=plan.price_minor, period=number)
        emails.on_commit("receipt", sub, entry=entry)
        return True


def record_payment_failure(subscription: Subscription, *, now: datetime, reason: str) -> None:
    """Past due: access kept while retrying; after the last retry, expired."""
    with transaction.atomic():
        sub = _lock(subscription)
        if sub.status == Status.EXPIRED:
            return
        previous = sub.status
        if sub.status != Status.PAST_DUE:
            sub.grace_until = now + GRACE_PERIOD
            sub.retry_count = 0
        first_failure = (sub.grace_until or now) - GRACE_PERIOD
        sub.retry_count += 1
        if sub.retry_count > len(RETRY_DELAYS):
            sub.next_retry_at = None
            _save(sub, "retry_count", "next_retry_at")
            expire(sub, now=now, reason=f"Payment failed {sub.retry_count} times: {reason}")
            return
        sub.status = Status.PAST_DUE
        sub.next_retry_at = first_failure + RETRY_DELAYS[sub.retry_count - 1]
        _save(sub, "status", "retry_count", "next_retry_at", "grace_until")
        _record(
            sub,
            EventKind.PAYMENT_FAILED,
            previous,
            at=now,
            reason=reason,
            attempt=sub.retry_count,
            next_retry_at=sub.next_retry_at.isoformat(),
        )
        emails.on_commit("payment_failed", sub)


def expire(subscription: Subscription, *, now: datetime, reason: str = "", actor: Any = None):
    """Access ends now. Idempotent."""
    with transaction.atomic():
        sub = _lock(subscription)
        if sub.status == Status.EXPIRED:
            return
        previous = sub.status
        sub.status = Status.EXPIRED
        sub.auto_renew = False
        sub.ended_at = now
        sub.next_retry_at = None
        _save(sub, "status", "auto_renew", "ended_at", "next_retry_at")
        _record(sub, EventKind.EXPIRED, previous, at=now, actor=actor, reason=reason)
        emails.on_commit("expired", sub)


def send_trial_reminder(subscription: Subscription, *, now: datetime) -> bool:
    with transaction.atomic():
        sub = _lock(subscription)
        if sub.status != Status.TRIALING or sub.trial_reminder_sent:
            return False
        sub.trial_reminder_sent = True
        _save(sub, "trial_reminder_sent")
        _record(sub, EventKind.TRIAL_REMINDER, sub.status, at=now)
        emails.on_commit("trial_ending", sub)
        return True


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
            sub = _lock(subscription)
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


# ---------------------------------------------------------------- reader choices


def cancel(
    subscription: Subscription,
    *,
    now: datetime,
    actor: Any = None,
    reason: str = "",
    immediately: bool = False,
) -> Subscription:
    """Stop renewing; access stays until the period ends (staff may end it at once)."""
    with transaction.atomic():
        sub = _lock(subscription)
        if sub.status in (Status.CANCELLED, Status.EXPIRED) and not immediately:
            raise SubscriptionError("This subscription is already cancelled.")
        if immediately or sub.status in (Status.PAST_DUE, Status.COMPLIMENTARY):
            expire(sub, now=now, reason=reason or "Cancelled", actor=actor)
            sub.refresh_from_db()
            return sub
        previous = sub.status
        sub.status = Status.CANCELLED
        sub.auto_renew = False
        sub.cancelled_at = now
        sub.next_plan = None
        _save(sub, "status", "auto_renew", "cancelled_at", "next_plan")
        _record(sub, EventKind.CANCELLED, previous, at=now, actor=actor, reason=reason)
        emails.on_commit("cancelled", sub)
        return sub


def resume(subscription: Subscription, *, now: datetime, actor: Any = None) -> Subscription:
    """Undo a cancellation before the period ends."""
    with transaction.atomic():
        sub = _lock(subscription)
        if sub.status != Status.CANCELLED or sub.current_period_end <= now:
            raise SubscriptionError("Only a cancelled subscription that has not ended can resume.")
        in_trial = sub.paid_periods == 0 and sub.trial_end is not None
        sub.status = Status.TRIALING if in_trial else Status.ACTIVE
        sub.auto_renew = bool(sub.offer and sub.offer.card_required) if in_trial else True
        sub.cancelled_at = None
        _save(sub, "status", "auto_renew", "cancelled_at")
        _record(sub, EventKind.RESUMED, Status.CANCELLED, at=now, actor=actor)
        return sub


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

    @property
    def charge_text(self) -> str:
        return format_money(self.charge_minor, self.currency)

    @property
    def credit_text(self) -> str:
        return format_money(self.credit_minor, self.currency)

    @property
    def renewal_text(self) -> str:
        return format_money(self.renewal_minor, self.currency)


def _paid_for_period(sub: Subscription) -> int:
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
    credit = min(_paid_for_period(sub) * remaining_days // total_days, plan.price_minor)
    return preview(True, plan.price_minor - credit, credit, now)


def change_plan(
    subscription: Subscription,
    plan: Plan,
    *,
    now: datetime,
    expected: PlanChangePreview | None = None,
    actor: Any = None,
) -> Subscription:
    """Apply a plan change; with `expected`, refuse if the amount is not what was shown."""
    with transaction.atomic():
        sub = _lock(subscription)
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
            sub.next_plan = None
            _save(sub, "next_plan")
            _record(sub, EventKind.PLAN_CHANGE_SCHEDULED, sub.status, at=now, plan=plan.slug)
            return sub
        if not preview.immediate:
            sub.next_plan = plan
            _save(sub, "next_plan")
            _record(
                sub,
                EventKind.PLAN_CHANGE_SCHEDULED,
                sub.status,
                at=now,
                actor=actor,
                plan=plan.slug,
                applies_at=preview.applies_at.isoformat(),
            )
            return sub
        if sub.status == Status.TRIALING:
            sub.plan, sub.next_plan = plan, None
            _save(sub, "plan", "next_plan")
            _record(sub, EventKind.PLAN_CHANGED, sub.status, at=now, actor=actor, plan=plan.slug)
            return sub
        number = sub.period_number + 1
        end = add_months(now, plan.months)
        sub.plan = plan
        entry = _charge_period(
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
        sub.next_plan = None
        sub.current_period_start, sub.current_period_end = now, end
        sub.period_number = number
        sub.paid_periods += 1
        _save(
            sub,
            "plan",
            "next_plan",
            "current_period_start",
            "current_period_end",
            "period_number",
            "paid_periods",
        )
        _record(
            sub,
            EventKind.PLAN_CHANGED,
            sub.status,
            at=now,
            actor=actor,
            plan=plan.slug,
            charged=preview.charge_minor,
            credited=preview.credit_minor,
        )
        emails.on_commit("receipt", sub, entry=entry)
        return sub


def update_card(user: Any, card: SavedCard, *, now: datetime) -> PaymentMethod:
    """Replace the reader's card; a past-due subscription is retried at once."""
    with transaction.atomic():
        method = _save_card(user, card, get_provider().name, now=now)
        sub = live_subscription(user.pk)
        if sub is not None and sub.status == Status.PAST_DUE:
            locked = _lock(sub)
            locked.next_retry_at = now
            _save(locked, "next_retry_at")
    if sub is not None and sub.status == Status.PAST_DUE:
        renew(sub, now=now)
    return method


# ---------------------------------------------------------------- money back


def refund(
    charge: LedgerEntry,
    *,
    now: datetime,
    actor: Any,
    reason: str,
    amount_minor: int | None = None,
) -> LedgerEntry:
    """Return money for a charge (all that is left of it by default), with the reason."""
    if not reason.strip():
        raise SubscriptionError("Say why the money is returned.")
    with transaction.atomic():
        sub = _lock(charge.subscription)
        charge = LedgerEntry.objects.get(pk=charge.pk)
        if charge.kind != EntryKind.CHARGE:
            raise SubscriptionError("Only a charge can be refunded.")
        left = charge.refundable_minor()
        amount = left if amount_minor is None else amount_minor
        if amount <= 0 or amount > left:
            raise SubscriptionError(
                f"Refund between {format_money(1, charge.currency)} and "
                f"{format_money(left, charge.currency)}."
            )
        refund_number = charge.adjustments.filter(kind=EntryKind.REFUND).count() + 1
        provider_ref = None
        if charge.provider_ref:
            provider_ref = get_provider(charge.provider).refund(
                charge_ref=charge.provider_ref,
                amount_minor=amount,
                idempotency_key=f"refund-{charge.pk}-{refund_number}",
            )
        entry = LedgerEntry.objects.create(
            user_id=charge.user_id,
            subscription=sub,
            kind=EntryKind.REFUND,
            amount_minor=-amount,
            currency=charge.currency,
            related=charge,
            description=f"Refund of {charge.receipt_number}",
            provider=charge.provider,
            provider_ref=provider_ref,
            actor=actor if getattr(actor, "pk", None) else None,
            reason=reason,
            at=now,
        )
        _record(
            sub,
            EventKind.REFUNDED,
            sub.status,
            at=now,
            actor=actor,
            reason=reason,
            amount=amount,
            charge=charge.pk,
        )
        return entry


# ---------------------------------------------------------------- provider-driven (Stripe)


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
) -> Subscription | None:
    """Mirror the provider's copy of a subscription. Older states than the one applied are
    skipped (None), so out-of-order webhooks end in the provider's latest state."""
    with transaction.atomic():
        _lock_reader(user)
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
            sub = Subscription.objects.create(
                user=user,
                plan=plan,
                status=status,
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
            _record(sub, EventKind.PROVIDER_SYNC, "", at=state_at, provider_ref=provider_ref)
            if status != Status.EXPIRED:
                emails.on_commit("welcome", sub)
            return sub
        if sub.status == Status.EXPIRED:
            return None  # ended subscriptions stay ended; a new one gets a new provider id
        previous = sub.status
        sub.plan = plan
        sub.provider_state_at = state_at
        sub.current_period_start, sub.current_period_end = period_start, period_end
        sub.trial_end = trial_end or sub.trial_end
        _save(
            sub,
            "plan",
            "provider_state_at",
            "current_period_start",
            "current_period_end",
            "trial_end",
        )
        if status == Status.EXPIRED:
            expire(sub, now=state_at, reason="Ended at the payment provider")
            return sub
        sub.status = status
        sub.auto_renew = status != Status.CANCELLED
        if status == Status.PAST_DUE and sub.grace_until is None:
            sub.grace_until = period_end + GRACE_PERIOD
        if status != Status.PAST_DUE:
            sub.grace_until = None
        _save(sub, "status", "auto_renew", "grace_until")
        _record(sub, EventKind.PROVIDER_SYNC, previous, at=state_at, provider_ref=provider_ref)
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
    """A payment the provider confirmed (Stripe invoice.paid). Once per provider reference."""
    with transaction.atomic():
        sub = _lock(subscription)
        if LedgerEntry.objects.filter(provider_ref=provider_ref).exists():
            return None
        sub.period_number += 1
        sub.paid_periods += 1
        _save(sub, "period_number", "paid_periods")
        entry = LedgerEntry.objects.create(
            user_id=sub.user_id,
            subscription=sub,
            kind=EntryKind.CHARGE,
            amount_minor=amount_minor,
            currency=currency.upper(),
            period_number=sub.period_number,
            period_start=period_start,
            period_end=period_end,
            description=f"{sub.plan.name} subscription",
            provider=sub.provider,
            provider_ref=provider_ref,
            at=at,
        )
        emails.on_commit("receipt", sub, entry=entry)
        return entry
