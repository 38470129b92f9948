"""Telling a gift's recipient, once, that it ends soon, with the conversion offer."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from masthead.giftsubs.actions.history import lock_gift, mail, move
from masthead.giftsubs.models import GiftEvent, GiftStatus, GiftSubscription
from masthead.subscriptions.actions.transitions import lock
from masthead.subscriptions.models import Offer, Status, Subscription


def reminder_before() -> timedelta:
    return timedelta(days=settings.GIFT_REMINDER_DAYS)


def conversion_offer(now: datetime) -> Offer | None:
    offer = Offer.objects.select_related("plan").filter(code=settings.GIFT_CONVERSION_OFFER).first()
    return offer if offer is not None and offer.is_live(now) else None


def send_reminder(gift: GiftSubscription | int, *, now: datetime) -> bool:
    """Tell a gift's recipient, once, that it ends soon, with the conversion offer. Only for
    a gift that is the reader's complimentary subscription (stacked on a paid one, the
    renewal notices speak instead); one reminder per end date, whatever else runs."""
    with transaction.atomic(durable=True):
        pk = gift if isinstance(gift, int) else gift.pk
        sub_pk = GiftSubscription.objects.filter(pk=pk).values_list("subscription", flat=True)[0]
        if sub_pk is None:
            return False
        sub = lock(Subscription(pk=sub_pk))
        locked = lock_gift(pk)
        end = sub.current_period_end
        if (
            locked.status != GiftStatus.REDEEMED
            or sub.status != Status.COMPLIMENTARY
            or not (end - reminder_before() <= now < end)
            or GiftSubscription.objects.filter(subscription=sub, reminded_for=end).exists()
        ):
            return False
        latest = GiftSubscription.objects.filter(subscription=sub).order_by("-redeemed_at", "-pk")
        if latest.values_list("pk", flat=True).first() != locked.pk:
            return False  # the gift redeemed last speaks for the subscription
        move(
            locked,
            GiftStatus.REDEEMED,
            GiftEvent.Kind.REMINDED,
            at=now,
            data={"ends_at": end.isoformat()},
            reminded_for=end,
        )
        offer = conversion_offer(now)
        offer_url = (
            settings.SITE_URL + reverse("billing:checkout_offer", args=[offer.code])
            if offer
            else settings.SITE_URL + reverse("subscriptions:offers")
        )
        if sub.user.email:
            mail("reminder", sub.user.email, gift=locked, ends_at=end, offer=offer, url=offer_url)
        return True
