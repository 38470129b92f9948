"""Read-only questions the actions and the views ask: who may take what, and what is live."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from masthead.subscriptions import trial_eligibility
from masthead.subscriptions.models import (
    Offer,
    OfferKind,
    Status,
    Subscription,
    SubscriptionEvent,
)

# What a gift subscription's history rows carry in `data` (masthead.giftsubs).
GIFT_SOURCE = "gift"


def had_gift(user_id: int) -> bool:
    """Whether this reader ever redeemed a gift subscription (their history says so)."""
    return SubscriptionEvent.objects.filter(
        subscription__user_id=user_id, data__source=GIFT_SOURCE
    ).exists()


def lapsed_subscriber(user_id: int) -> bool:
    """Paid for a subscription once, and it has ended (a returning reader, decision 0035)."""
    return Subscription.objects.filter(
        user_id=user_id, status=Status.EXPIRED, paid_periods__gt=0
    ).exists()


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
    if offer.code == settings.GIFT_CONVERSION_OFFER and (user_id is None or not had_gift(user_id)):
        return "This offer is for readers who were given a gift subscription."
    if offer.code == settings.WINBACK_OFFER and (user_id is None or not lapsed_subscriber(user_id)):
        return "This offer is for readers returning to us after their subscription ended."
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
