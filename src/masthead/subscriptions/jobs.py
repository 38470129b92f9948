"""Scheduled jobs: renewals, retries, trial reminders and expiries, each applied at its due
moment; renewal and price-change notices (docs/renewals.md); failed-payment e-mails and
card-expiry reminders (docs/dunning.md). Each due subscription is its
own task (one failure never blocks another renewal); idempotent and safe on several
workers (see actions.advance)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q

from masthead.billing.models import PaymentMethod
from masthead.core.jobs import DueItem, register_items
from masthead.subscriptions import actions
from masthead.subscriptions.actions import dunning, notices
from masthead.subscriptions.actions import retention as retention_actions
from masthead.subscriptions.models import (
    TRIAL_REMINDER_BEFORE,
    EventKind,
    NoticeKind,
    PlanPriceChange,
    RenewalNotice,
    Status,
    Subscription,
)


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
            | Q(paused_until__lte=now)
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def advance_one(key: str, now: datetime) -> int:
    return actions.advance(Subscription(pk=int(key)), now=now)


@register_items("subscriptions.lifecycle", handle=advance_one)
def due_lifecycle_steps(now: datetime) -> Iterable[DueItem]:
    """One item per subscription with a step due by `now`, keyed by that step's moment, so a
    renewal is enqueued once and the next step (next period) is a new item."""
    subs = Subscription.objects.filter(pk__in=due_subscriptions(now)).order_by("pk")
    for sub in subs:
        step = actions.next_due_step(sub)
        if step is not None and step.at <= now:
            yield DueItem(key=str(sub.pk), due=step.at)


def run_lifecycle(now: datetime) -> int:
    """Advance every due subscription inline (kept for callers of the old job function)."""
    return sum(advance_one(item.key, now) for item in list(due_lifecycle_steps(now)))


def renewal_notice_one(key: str, now: datetime) -> int:
    return int(actions.send_renewal_notice(Subscription(pk=int(key)), now=now) is not None)


@register_items("subscriptions.renewal_notices", handle=renewal_notice_one)
def due_renewal_notices(now: datetime) -> Iterable[DueItem]:
    """One item per subscription whose renewal notice is due and not yet sent, keyed by the
    moment it fell due (a new period is a new item); the action re-checks under the lock."""
    _, at_most = notices.window()
    subs = (
        Subscription.objects.filter(
            status__in=notices.RENEWING,
            auto_renew=True,
            current_period_end__gt=now,
            current_period_end__lte=now + at_most,
        )
        .select_related("plan", "next_plan")
        .order_by("pk")
    )
    sent = set(
        RenewalNotice.objects.filter(subscription__in=subs, kind=NoticeKind.RENEWAL).values_list(
            "subscription_id", "key"
        )
    )
    for sub in subs:
        due = notices.renewal_notice_due_at(sub)
        if due is not None and due <= now and (sub.pk, notices.renewal_key(sub)) not in sent:
            yield DueItem(key=str(sub.pk), due=due)


def price_notice_one(key: str, now: datetime) -> int:
    change_pk, sub_pk = (int(part) for part in key.split(":"))
    change = PlanPriceChange.objects.select_related("plan").get(pk=change_pk)
    notice = actions.send_price_notice(Subscription(pk=sub_pk), change, now=now)
    return int(notice is not None)


# Price changes older than this have long reached every subscriber (a year's term and more).
PRICE_NOTICE_LOOKBACK = timedelta(days=400)


@register_items("subscriptions.price_notices", handle=price_notice_one)
def due_price_notices(now: datetime) -> Iterable[DueItem]:
    """One item per (price change, subscriber on its plan who joined before it) not yet told."""
    changes = PlanPriceChange.objects.filter(
        announced_at__lte=now, announced_at__gt=now - PRICE_NOTICE_LOOKBACK
    ).order_by("pk")
    for change in changes:
        subs = (
            Subscription.objects.filter(
                status__in=notices.RENEWING,
                auto_renew=True,
                started_at__lt=change.announced_at,
                current_period_end__gt=now,
            )
            .filter(Q(next_plan=change.plan_id) | Q(next_plan__isnull=True, plan=change.plan_id))
            .exclude(notices__key=notices.price_key(change))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for sub_pk in subs:
            yield DueItem(key=f"{change.pk}:{sub_pk}", due=change.announced_at)


# Lapses older than this get no win-back e-mail (the job was off, or the setting changed).
WINBACK_LOOKBACK = timedelta(days=60)


def winback_one(key: str, now: datetime) -> int:
    return int(retention_actions.send_winback(Subscription(pk=int(key)), now=now))


@register_items("subscriptions.winback", handle=winback_one)
def due_winbacks(now: datetime) -> Iterable[DueItem]:
    """One item per lapsed subscriber whose win-back e-mail is due and not yet sent (the
    action re-checks under the lock, and its history row makes it once)."""
    days = timedelta(days=settings.WINBACK_EMAIL_DAYS)
    subs = (
        Subscription.objects.filter(
            status=Status.EXPIRED,
            paid_periods__gt=0,
            ended_at__lte=now - days,
            ended_at__gt=now - days - WINBACK_LOOKBACK,
        )
        .exclude(events__kind=EventKind.WINBACK_SENT)
        .order_by("pk")
    )
    for sub in subs:
        if sub.ended_at is not None:
            yield DueItem(key=str(sub.pk), due=sub.ended_at + days)


def dunning_one(key: str, now: datetime) -> int:
    return int(actions.send_dunning_notice(Subscription(pk=int(key)), now=now) is not None)


@register_items("subscriptions.dunning", handle=dunning_one)
def due_dunning_notices(now: datetime) -> Iterable[DueItem]:
    """One item per past-due subscription whose next failed-payment e-mail is due and not
    yet sent, keyed by the moment it fell due (each day of an episode is a new item); the
    action re-checks under the lock (docs/dunning.md)."""
    subs = (
        Subscription.objects.filter(status=Status.PAST_DUE, grace_until__gt=now)
        .select_related("plan", "next_plan")
        .order_by("pk")
    )
    sent: dict[int, set[str]] = {}
    for sub_pk, key in RenewalNotice.objects.filter(
        subscription__in=subs, kind=NoticeKind.DUNNING
    ).values_list("subscription_id", "key"):
        sent.setdefault(sub_pk, set()).add(key)
    for sub in subs:
        step = dunning.due_dunning_step(sub, now=now, sent=sent.get(sub.pk, set()))
        ends = dunning.access_ends_at(sub)
        if step is not None and ends is not None and now < ends:
            yield DueItem(key=str(sub.pk), due=step.at)


def card_expiry_one(key: str, now: datetime) -> int:
    reminder = actions.send_card_expiry_reminder(Subscription(pk=int(key)), now=now)
    return int(reminder is not None)


@register_items("subscriptions.card_expiry", handle=card_expiry_one)
def due_card_expiry_reminders(now: datetime) -> Iterable[DueItem]:
    """One item per renewing subscription whose current card expires within the lead and
    was not reminded of for this card and expiry; the action re-checks under the lock."""
    horizon = now + dunning.lead()
    # A card works to the end of its expiry month: it has expired by the horizon when the
    # month after it (exp_year * 12 + exp_month, counting months from 0) has begun by then.
    horizon_month = horizon.year * 12 + horizon.month - 1
    cards = {
        card.user_id: card
        for card in PaymentMethod.objects.filter(replaced_at__isnull=True)
        .annotate(month_after=F("exp_year") * 12 + F("exp_month"))
        .filter(month_after__lte=horizon_month)
        .order_by("created_at", "pk")  # the newest card per reader last, so it wins
    }
    subs = (
        Subscription.objects.filter(
            status__in=dunning.CARD_REMINDER_STATUSES, auto_renew=True, user_id__in=list(cards)
        )
        .select_related("plan", "next_plan")
        .order_by("pk")
    )
    sent = set(
        RenewalNotice.objects.filter(
            subscription__in=subs, kind=NoticeKind.CARD_EXPIRY
        ).values_list("subscription_id", "key")
    )
    for sub in subs:
        card = cards[sub.user_id]
        due = dunning.card_reminder_due_at(sub, card)
        if due is not None and due <= now and (sub.pk, dunning.card_key(card)) not in sent:
            yield DueItem(key=str(sub.pk), due=due)
