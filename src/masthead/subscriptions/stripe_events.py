"""What a verified Stripe event does to subscriptions (registered with the payments layer's
webhook storage, `billing.webhooks.register_applier`).

The payments layer parses the event at the pinned API version (`billing.stripe.events`) into a
provider-neutral change; this module decides what it means for the reader it names:

- an event changes only the subscription of the customer it names (a forged or mistaken
  customer is ignored and logged);
- `livemode` must match the secret key's mode, and an `account` must be ours;
- order comes from Stripe's state, not from arrival: an ended subscription stays ended, an older
  state (event time) or an earlier period is skipped, and an event that would change the status
  or plan is a doubt: the subscription is fetched from Stripe and that copy applied;
- two steps (run by `billing.webhooks.process_webhook_event`): `fetch` makes any Stripe call
  with no transaction open, then `apply_event` runs in one transaction with the fetched copy.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings

from masthead.billing import provider_events as pe
from masthead.billing.models import ProviderCustomer
from masthead.billing.payments import assert_no_transaction
from masthead.billing.providers import get_provider
from masthead.billing.stripe import events as stripe_events
from masthead.billing.stripe.provider import live_key
from masthead.billing.webhooks import Ignored, NotYetApplicable, Unused, register_applier
from masthead.subscriptions import actions
from masthead.subscriptions.models import Plan, Status, Subscription


def _user_for_customer(customer: str) -> Any:
    found = (
        ProviderCustomer.objects.select_related("user")
        .filter(provider="stripe", provider_ref=customer)
        .first()
    )
    if found is None:
        raise Ignored(f"unknown customer {customer}")
    return found.user


def _plan_for(price_refs: tuple[str, ...]) -> Plan:
    plan = Plan.objects.filter(stripe_price_id__in=[p for p in price_refs if p]).first()
    if plan is None:
        raise Ignored(f"no plan for Stripe prices {sorted(p for p in price_refs if p)}")
    return plan


def _check_origin(event: pe.ProviderEvent) -> None:
    if event.account and event.account != (settings.STRIPE_ACCOUNT_ID or None):
        raise Ignored(f"event for another Stripe account {event.account}")
    live = live_key(settings.STRIPE_SECRET_KEY or "")
    if event.livemode and not live:
        raise Ignored("a live-mode event reached a test-mode key")
    if not event.livemode and live:
        raise Ignored("a test-mode event reached a live-mode key")


def _owned_by(sub: Subscription, user: Any, customer_ref: str) -> None:
    if sub.user_id != user.pk:
        raise Ignored(
            f"subscription {sub.provider_ref} belongs to another reader than customer "
            f"{customer_ref}"
        )


def _plan_of(existing: Subscription | None, state: pe.SubscriptionState) -> Plan:
    """The plan Stripe bills, except that a downgrade scheduled for the period end (Stripe's
    price already changed, with no proration) shows the current plan until then."""
    plan = _plan_for(state.price_refs)
    if (
        existing is not None
        and existing.next_plan_id == plan.pk
        and state.period_end <= existing.current_period_end
    ):
        return existing.plan
    return plan


def _apply(
    user: Any,
    state: pe.SubscriptionState,
    *,
    state_at: datetime,
    existing: Subscription | None = None,
) -> Subscription | None:
    if state.status is None:
        raise Unused(f"subscription status {state.provider_status} grants nothing yet")
    return actions.apply_provider_state(
        user=user,
        plan=_plan_of(existing, state),
        provider="stripe",
        provider_ref=state.subscription_ref,
        status=state.status,
        period_start=state.period_start,
        period_end=state.period_end,
        trial_end=state.trial_end,
        state_at=state_at,
        paused_until=state.paused_until,
    )


def _would_change(sub: Subscription, state: pe.SubscriptionState) -> bool:
    return sub.status != state.status or _plan_of(sub, state).pk != sub.plan_id


def fetch_state(subscription_ref: str) -> pe.SubscriptionState:
    """Stripe's current copy of a subscription; never with a transaction (or lock) open."""
    assert_no_transaction()
    return get_provider("stripe").subscription(subscription_ref)


FETCH = "fetch Stripe's copy"
APPLY = "apply the event's state"


def _decide(
    event: pe.ProviderEvent, state: pe.SubscriptionState
) -> tuple[Any, Subscription | None, str]:
    """(reader, existing subscription, what to do): FETCH, APPLY, or a note saying why
    nothing changes. Read by the fetch step (no transaction) and again by the apply step."""
    user = _user_for_customer(state.customer_ref)
    existing = (
        Subscription.objects.select_related("plan", "next_plan")
        .filter(provider="stripe", provider_ref=state.subscription_ref)
        .first()
    )
    if existing is None:
        return user, None, APPLY
    _owned_by(existing, user, state.customer_ref)
    if existing.status == Status.EXPIRED:
        return user, existing, "the subscription has ended; it stays ended"
    if existing.provider_state_at and event.created < existing.provider_state_at:
        return user, existing, "older than the state already applied"
    if state.period_end < existing.current_period_end:
        return user, existing, "an earlier period than the one already applied"
    if state.status != Status.EXPIRED and _would_change(existing, state):
        return user, existing, FETCH
    return user, existing, APPLY


def _subscription_event(
    event: pe.ProviderEvent, state: pe.SubscriptionState, fetched: pe.SubscriptionState | None
) -> str:
    user, existing, verdict = _decide(event, state)
    if verdict == FETCH:
        if fetched is None:  # the state changed since the fetch step: the task runs again
            raise NotYetApplicable(f"Stripe's copy of {state.subscription_ref} is needed")
        if fetched.customer_ref != state.customer_ref:
            raise Ignored(f"Stripe names another customer for {state.subscription_ref}")
        _apply(user, fetched, state_at=event.created, existing=existing)
        return "applied Stripe's current copy"
    if verdict != APPLY:
        return verdict
    result = _apply(user, state, state_at=event.created, existing=existing)
    return "applied" if result is not None else "older than the state already applied"


def _subscription_for_payment(change: pe.PaymentSucceeded | pe.PaymentFailed) -> Subscription:
    user = _user_for_customer(change.customer_ref)
    sub = Subscription.objects.filter(
        provider="stripe", provider_ref=change.subscription_ref
    ).first()
    if sub is None:
        raise NotYetApplicable(f"subscription {change.subscription_ref} not seen yet")
    _owned_by(sub, user, change.customer_ref)
    return sub


def sync_checkout(user: Any, session_ref: str) -> Subscription | None:
    """The return page: if Stripe says this reader's Checkout Session is complete, mirror its
    subscription now (from Stripe's copy, never from the browser)."""
    provider = get_provider("stripe")
    session = provider.checkout_session(session_ref)
    customer = ProviderCustomer.objects.filter(user=user, provider="stripe").first()
    if (
        session.status != "complete"
        or session.client_reference_id != str(user.pk)
        or customer is None
        or customer.provider_ref != session.customer_ref
        or not session.subscription_ref
    ):
        return None
    existing = Subscription.objects.filter(
        provider="stripe", provider_ref=session.subscription_ref
    ).first()
    if existing is not None:
        return existing
    state = provider.subscription(session.subscription_ref)
    return _apply(user, state, state_at=state.period_start)


def _checkout_user(change: pe.CheckoutCompleted) -> Any:
    user = _user_for_customer(change.customer_ref)
    if change.client_reference_id and change.client_reference_id != str(user.pk):
        raise Ignored(
            f"checkout session {change.session_ref} was started by another reader than "
            f"customer {change.customer_ref}"
        )
    return user


def _mirrored(subscription_ref: str) -> bool:
    return Subscription.objects.filter(provider="stripe", provider_ref=subscription_ref).exists()


def _checkout_event(
    event: pe.ProviderEvent, change: pe.CheckoutCompleted, fetched: pe.SubscriptionState | None
) -> str:
    user = _checkout_user(change)
    if _mirrored(change.subscription_ref):
        return "subscription already mirrored"
    if fetched is None:  # mirrored, then removed, since the fetch step: the task runs again
        raise NotYetApplicable(f"Stripe's copy of {change.subscription_ref} is needed")
    if fetched.customer_ref != change.customer_ref:
        raise Ignored(f"Stripe names another customer for {change.subscription_ref}")
    _apply(user, fetched, state_at=event.created)
    return "subscription mirrored from Stripe"


def _origin_checked(payload: dict[str, Any]) -> pe.ProviderEvent:
    event = stripe_events.parse(payload)
    _check_origin(event)
    return event


def fetch(payload: dict[str, Any]) -> pe.SubscriptionState | None:
    """The fetch step, before any transaction: Stripe's copy of the subscription, when the
    event is in doubt (it would change the status or plan) or mirrors a Checkout."""
    event = _origin_checked(payload)
    change = event.change
    if isinstance(change, pe.SubscriptionState):
        if _decide(event, change)[2] == FETCH:
            return fetch_state(change.subscription_ref)
    elif isinstance(change, pe.CheckoutCompleted):
        _checkout_user(change)
        if not _mirrored(change.subscription_ref):
            return fetch_state(change.subscription_ref)
    return None


@register_applier("stripe", fetch=fetch)
def apply_event(payload: dict[str, Any], fetched: pe.SubscriptionState | None = None) -> str:
    """The apply step, in one transaction, with what `fetch` fetched (no provider call)."""
    event = _origin_checked(payload)
    change = event.change
    if change is None:
        raise Unused(event.unused_reason)
    if isinstance(change, pe.SubscriptionState):
        return _subscription_event(event, change, fetched)
    if isinstance(change, pe.CheckoutCompleted):
        return _checkout_event(event, change, fetched)
    subscription = _subscription_for_payment(change)
    if isinstance(change, pe.PaymentFailed):
        if subscription.status not in (Status.ACTIVE, Status.TRIALING):
            # Stripe retries on its own schedule and ends the subscription itself; Masthead
            # counts no retries of its own for a subscription Stripe bills.
            return f"payment attempt {change.attempt_count} failed; Stripe retries"
        # The first failure starts the dunning episode (docs/dunning.md): its day-0 e-mail
        # goes now, the later ones from the `subscriptions.dunning` job.
        actions.record_payment_failure(
            subscription,
            now=event.created,
            reason=f"Stripe invoice payment failed (attempt {change.attempt_count})",
            provider_next_attempt=change.next_attempt,
        )
        return "payment failure recorded"
    entry = actions.record_provider_charge(
        subscription,
        provider_ref=change.payment_ref,
        amount_minor=change.amount_minor,
        currency=change.currency,
        period_start=change.period_start,
        period_end=change.period_end,
        at=event.created,
    )
    return "charge recorded" if entry else "charge already recorded"
