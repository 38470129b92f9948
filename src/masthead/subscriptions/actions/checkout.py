"""Starting a subscription: a trial, a paid plan or introductory offer, staff's comp."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction

from masthead.billing import payments
from masthead.billing.models import Payment, PaymentKind, PaymentStatus
from masthead.billing.providers import SavedCard, get_provider
from masthead.subscriptions import consent as consents
from masthead.subscriptions import emails
from masthead.subscriptions.actions.charges import (
    record_unplanned,
    reusable,
    save_card,
    write_charge,
)
from masthead.subscriptions.actions.eligibility import live_subscription, offer_refusal
from masthead.subscriptions.actions.errors import NotEligible, SubscriptionError
from masthead.subscriptions.actions.periods import add_months
from masthead.subscriptions.actions.transitions import create, lock, lock_reader
from masthead.subscriptions.models import EventKind, Offer, OfferKind, Plan, Status, Subscription


def start_trial(
    user: Any,
    offer: Offer,
    *,
    now: datetime,
    card: SavedCard | None = None,
    checkout_key: str | None = None,
    consent: consents.Consent | None = None,
) -> Subscription:
    """Free days; with a card the trial renews into the plan, without one it expires.
    `consent` (the reader's ticked box) is recorded with the subscription."""
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
            if consent is not None:
                consents.record(
                    consent,
                    user=user,
                    plan=offer.plan,
                    offer=offer,
                    subscription=subscription,
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
    consent: consents.Consent | None = None,
    seats: int = 1,
) -> Subscription:
    """Take a plan (at its price) or an introductory offer (its price for its term); a group
    plan's `seats` at its per-seat price (`Plan.price_for`).

    Two phases: a pending payment keyed `checkout-<form key>` (so a resubmitted form, or a
    retry after a rollback, is the same payment), the provider call with nothing locked,
    then the subscription and its ledger row in a second transaction. The price is the
    server's; a decline raises ChargeFailed and leaves no subscription; an unknown outcome
    raises PaymentPending and the reconcile job settles it. `consent` travels in the
    payment's context and is recorded with the subscription (the reconcile job too).
    """
    if offer is not None:
        if offer.kind != OfferKind.INTRO:
            raise SubscriptionError("This offer is a trial.")
        plan = offer.plan
    if plan is None:
        raise SubscriptionError("Choose a plan or an offer.")
    seat_refusal = seats_refusal(plan, seats)
    if seat_refusal:
        raise SubscriptionError(seat_refusal)
    checkout_key = checkout_key or uuid.uuid4().hex
    subject = f"checkout-{checkout_key}"
    provider = get_provider()
    with transaction.atomic(durable=True):
        existing = existing_checkout(user, checkout_key)
        if existing is not None:
            return existing
        lock_reader(user)
        payment = reusable(subject)
        if payment is not None and payment.user_id != user.pk:
            raise SubscriptionError("This checkout form has expired; please start again.")
        if payment is None:
            refusal = plan_refusal(user, plan, offer, now=now)
            if (
                refusal is None
                and Payment.objects.filter(
                    user=user, purpose="subscribe", status=PaymentStatus.PENDING
                ).exists()
            ):
                refusal = "A payment for your subscription is still being confirmed."
            if refusal:
                raise NotEligible(refusal)
            method = save_card(user, card, provider.name, now=now)
            price = offer.intro_price_minor if offer else plan.price_for(seats)
            payment = payments.open_payment(
                subject=subject,
                user=user,
                kind=PaymentKind.CHARGE,
                purpose="subscribe",
                amount_minor=price,
                currency=plan.currency,
                provider=provider.name,
                card_ref=method.provider_ref,
                description=offer.headline if offer else _description(plan, seats),
                context={
                    "plan": plan.pk,
                    "offer": offer.pk if offer else None,
                    "checkout_key": checkout_key,
                    "months": plan.months * (offer.intro_periods if offer else 1),
                    "consent": consent.as_context() if consent else None,
                    "seats": seats,
                },
                at=now,
            )
    outcome = payments.collect(payment)
    return settle_subscribe(payment, outcome, now=now)


def settle_subscribe(payment: Payment, outcome: payments.Outcome, *, now: datetime) -> Subscription:
    """Phase 3 (or the reconcile job): the subscription, its ledger row and history row."""
    user = payment.user
    with transaction.atomic(durable=True):
        lock_reader(user)
        payment = payments.lock(payment)
        checkout_key = payment.context["checkout_key"]
        if payment.status == PaymentStatus.SUCCEEDED:
            return Subscription.objects.get(checkout_key=checkout_key)
        live = live_subscription(user.pk)
        if live is None:
            return _start_paid(payment, outcome, now=now)
        # Staff granted access (or Stripe created one) while the payment was pending.
        record_unplanned(payment, outcome, lock(live), now=now)
    raise NotEligible("You already have a subscription. Manage it from your account.")


def _start_paid(payment: Payment, outcome: payments.Outcome, *, now: datetime) -> Subscription:
    user, checkout_key = payment.user, payment.context["checkout_key"]
    plan = Plan.objects.get(pk=payment.context["plan"])
    offer = Offer.objects.filter(pk=payment.context["offer"]).first()
    start = payment.at
    end = add_months(start, payment.context["months"])
    subscription = create(
        Status.ACTIVE,
        EventKind.SUBSCRIBED,
        at=start,
        data={"offer": offer.code if offer else "", "charged": payment.amount_minor},
        user=user,
        plan=plan,
        offer=offer,
        provider=payment.provider,
        started_at=start,
        current_period_start=start,
        current_period_end=end,
        period_number=1,
        paid_periods=1,
        seats=payment.context.get("seats", 1),
        auto_renew=True,
        checkout_key=checkout_key,
    )
    if payment.context.get("consent"):
        consents.record(
            consents.Consent.from_context(payment.context["consent"]),
            user=user,
            plan=plan,
            offer=offer,
            subscription=subscription,
            checkout_key=checkout_key,
        )
    entry = write_charge(
        subscription,
        amount_minor=payment.amount_minor,
        period_number=1,
        period_start=start,
        period_end=end,
        description=payment.description,
        provider_ref=outcome.provider_ref,
        now=start,
        payment=payment,
    )
    payments.mark_succeeded(payment, outcome, now=now)
    emails.on_commit("welcome", subscription)
    emails.on_commit("receipt", subscription, entry=entry)
    return subscription


def seats_refusal(plan: Plan, seats: int) -> str | None:
    """Why `seats` cannot be bought on `plan` (None: they can)."""
    if not plan.group:
        return None if seats == 1 else "This plan is for one reader."
    if not 2 <= seats <= plan.max_seats:
        return f"Choose between 2 and {plan.max_seats} seats."
    return None


def _description(plan: Plan, seats: int) -> str:
    if plan.group:
        return f"{plan.name} subscription, {seats} seats"
    return f"{plan.name} subscription"


def record_checkout_consent(
    user: Any, consent: consents.Consent, *, plan: Plan, offer: Offer | None, checkout_key: str
) -> None:
    """A checkout on the provider's pages (Stripe): the consent given here, before leaving,
    kept by the form's key; the subscription arrives later from the provider."""
    with transaction.atomic():
        consents.record(consent, user=user, plan=plan, offer=offer, checkout_key=checkout_key)


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
