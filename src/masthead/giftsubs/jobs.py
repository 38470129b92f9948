"""Scheduled gift work (docs/jobs.md): deliveries on their day, ending reminders, breakage.
Each due gift is its own task keyed by its due moment (`ScheduledRun`), and each action
re-checks under the gift's row lock, so a run twice or on two workers does it once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings

from masthead.core.jobs import DueItem, register_items
from masthead.giftsubs import actions
from masthead.giftsubs.models import GiftStatus, GiftSubscription
from masthead.subscriptions.models import Status


def deliver_one(key: str, now: datetime) -> int:
    return int(actions.deliver(int(key), now=now) is not None)


@register_items("giftsubs.delivery", handle=deliver_one)
def due_deliveries(now: datetime) -> Iterable[DueItem]:
    gifts = GiftSubscription.objects.filter(status=GiftStatus.PURCHASED, deliver_at__lte=now)
    for pk, due in gifts.order_by("deliver_at", "pk").values_list("pk", "deliver_at"):
        yield DueItem(key=str(pk), due=due)


def remind_one(key: str, now: datetime) -> int:
    return int(actions.send_reminder(int(key), now=now))


@register_items("giftsubs.reminders", handle=remind_one)
def due_reminders(now: datetime) -> Iterable[DueItem]:
    before = actions.reminder_before()
    gifts = GiftSubscription.objects.filter(
        status=GiftStatus.REDEEMED,
        subscription__status=Status.COMPLIMENTARY,
        subscription__current_period_end__gt=now,
        subscription__current_period_end__lte=now + before,
    ).select_related("subscription")
    for gift in gifts.order_by("pk"):
        assert gift.subscription is not None
        end = gift.subscription.current_period_end
        if gift.reminded_for != end:
            yield DueItem(key=str(gift.pk), due=end - before)


def expire_one(key: str, now: datetime) -> int:
    return int(actions.expire_unredeemed(int(key), now=now))


@register_items("giftsubs.breakage", handle=expire_one)
def due_breakage(now: datetime) -> Iterable[DueItem]:
    valid = timedelta(days=settings.GIFT_CODE_VALID_DAYS)
    gifts = GiftSubscription.objects.filter(
        status=GiftStatus.DELIVERED, delivered_at__lte=now - valid
    )
    for gift in gifts.order_by("pk"):
        assert gift.delivered_at is not None
        yield DueItem(key=str(gift.pk), due=gift.delivered_at + valid)
