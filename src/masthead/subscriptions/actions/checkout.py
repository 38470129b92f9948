"""Starting a subscription: a trial, a paid plan or introductory offer, staff's comp."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction

from masthead.billing.providers import SavedCard, get_provider
from masthead.subscriptions import emails
from masthead.subscriptions.actions.charges import charge_period, save_card
from masthead.subscriptions.actions.eligibility import live_subscription, offer_refusal
from masthead.subscriptions.actions.errors import NotEligible, SubscriptionError
from masthead.subscriptions.actions.periods import add_months
from masthead.subscriptions.actions.transitions import create, lock_reader
from masthead.subscriptions.models import EventKind, Offer, OfferKind, Plan, Status, Subscription


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
        with transaction.atomic(durable=True):
            existing = existing_checkout(user, checkout_key)
            if existing is not None:
                return existing
            lock_reader(user)
            refusal = offer_refusal(user.pk, offer, now=now)
            if refusal:
                raise NotEligible(refusal)
            if card is not None:
                save_card(user, card, provider.name, now=now)
            end = now + timedelta(days=offer.trial_days)
            subscription = create(
                Status.TRIALING,
                EventKind.TRIAL_STARTED,
                at=now,
                data={"offer": offer.code},
                user=user,
                plan=offer.plan,
                offer=offer,
                provider=provider.name,
                started_at=now,
                current_period_start=now,
                current_period_end=end,
                trial_end=end,
                auto_renew=card is not None,
                checkout_key=checkout_key,
            )
            emails.on_commit("welcome", subscription)
            return subscription
    except IntegrityError:
        return after_race(user, checkout_key)


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
        with transaction.atomic(durable=True):
            existing = existing_checkout(user, checkout_key)
            if existing is not None:
                return existing
            lock_reader(user)
            refusal = plan_refusal(user, plan, offer, now=now)
            if refusal:
                raise NotEligible(refusal)
            save_card(user, card, provider.name, now=now)
            months = plan.months * (offer.intro_periods if offer else 1)
            price = offer.intro_price_minor if offer else plan.price_minor
            end = add_months(now, months)
            subscription = create(
                Status.ACTIVE,
                EventKind.SUBSCRIBED,
                at=now,
                data={"offer": offer.code if offer else "", "charged": price},
                user=user,
                plan=plan,
                offer=offer,
                provider=provider.name,
                started_at=now,
                current_period_start=now,
                current_period_end=end,
                period_number=1,
                paid_periods=1,
                auto_renew=True,
                checkout_key=checkout_key,
            )
            entry = charge_period(
                subscription,
                amount_minor=price,
                period_number=1,
                period_start=now,
                period_end=end,
                description=offer.headline if offer else f"{plan.name} subscription",
                now=now,
                off_session=False,
            )
            emails.on_commit("welcome", subscription)
            emails.on_commit("receipt", subscription, entry=entry)
            return subscription
    except IntegrityError:
        return after_race(user, checkout_key)


def plan_refusal(user: Any, plan: Plan, offer: Offer | None, *, now: datetime) -> str | None:
    if offer is not None:
        return offer_refusal(user.pk, offer, now=now)
    if not plan.is_live(now):
        return "This plan is no longer sold."
    if live_subscription(user.pk) is not None:
        return "You already have a subscription. Manage it from your account."
    return None


def existing_checkout(user: Any, checkout_key: str | None) -> Subscription | None:
    if not checkout_key:
        return None
    existing = Subscription.objects.filter(checkout_key=checkout_key).first()
    if existing is not None and existing.user_id != user.pk:
        raise SubscriptionError("This checkout form has expired; please start again.")
    return existing


def after_race(user: Any, checkout_key: str | None) -> Subscription:
    """A concurrent request won the one-live-subscription race: show its result."""
    existing = existing_checkout(user, checkout_key)
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
    with transaction.atomic(durable=True):
        lock_reader(user)
        if live_subscription(user.pk) is not None:
            raise SubscriptionError("This reader already has a live subscription; end it first.")
        return create(
            Status.COMPLIMENTARY,
            EventKind.COMP_GRANTED,
            at=now,
            actor=actor,
            reason=reason,
            user=user,
            plan=plan,
            provider="none",
            started_at=now,
            current_period_start=now,
            current_period_end=until,
            auto_renew=False,
        )
