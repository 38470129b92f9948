"""What a verified Stripe event does to subscriptions (registered with the payments
layer's webhook storage, `billing.webhooks.register_applier`)."""

from __future__ import annotations

from typing import Any

from masthead.billing.models import ProviderCustomer
from masthead.billing.webhooks import Ignored, NotYetApplicable, Unused, register_applier
from masthead.billing.webhooks import time_of as _time
from masthead.subscriptions import actions
from masthead.subscriptions.models import Plan, Status, Subscription

STRIPE_STATUS = {
    "trialing": Status.TRIALING,
    "active": Status.ACTIVE,
    "past_due": Status.PAST_DUE,
    "canceled": Status.EXPIRED,
    "unpaid": Status.EXPIRED,
    "incomplete_expired": Status.EXPIRED,
}


def _user_for_customer(customer: str) -> Any:
    found = ProviderCustomer.objects.filter(provider="stripe", provider_ref=customer).first()
    if found is None:
        raise Ignored(f"unknown customer {customer}")
    return found.user


def _plan_for(obj: dict[str, Any]) -> Plan:
    items = obj.get("items", {}).get("data", [])
    price_ids = set()
    for item in items:
        for key in ("plan", "price"):
            if isinstance(item.get(key), dict):
                price_ids.add(item[key].get("id"))
    plan = Plan.objects.filter(stripe_price_id__in=price_ids - {None, ""}).first()
    if plan is None:
        raise Ignored(f"no plan for Stripe prices {sorted(p for p in price_ids if p)}")
    return plan


@register_applier("stripe")
def apply_event(event: dict[str, Any]) -> str:
    if event.get("account"):
        raise Ignored(f"event for another Stripe account {event['account']}")
    kind = event["type"]
    obj = event["data"]["object"]
    if kind.startswith("customer.subscription."):
        user = _user_for_customer(obj["customer"])
        status = STRIPE_STATUS.get(obj["status"])
        if kind == "customer.subscription.deleted":
            status = Status.EXPIRED
        if status is None:
            raise Unused(f"subscription status {obj['status']} grants nothing yet")
        if status == Status.ACTIVE and obj.get("cancel_at_period_end"):
            status = Status.CANCELLED
        result = actions.apply_provider_state(
            user=user,
            plan=_plan_for(obj),
            provider="stripe",
            provider_ref=obj["id"],
            status=status,
            period_start=_time(obj["current_period_start"]),
            period_end=_time(obj["current_period_end"]),
            trial_end=_time(obj["trial_end"]) if obj.get("trial_end") else None,
            state_at=_time(event["created"]),
        )
        return "applied" if result is not None else "older than the state already applied"
    if kind in ("invoice.paid", "invoice.payment_succeeded", "invoice.payment_failed"):
        sub = Subscription.objects.filter(provider="stripe", provider_ref=obj.get("subscription"))
        subscription = sub.first()
        if subscription is None:
            _user_for_customer(obj.get("customer", ""))  # not our customer: ignored
            raise NotYetApplicable(f"subscription {obj.get('subscription')} not seen yet")
        if kind == "invoice.payment_failed":
            actions.record_payment_failure(
                subscription, now=_time(event["created"]), reason="Stripe invoice payment failed"
            )
            return "payment failure recorded"
        lines = obj.get("lines", {}).get("data", [])
        period = lines[0]["period"] if lines else {"start": obj["created"], "end": obj["created"]}
        entry = actions.record_provider_charge(
            subscription,
            provider_ref=obj["id"],
            amount_minor=int(obj["amount_paid"]),
            currency=obj["currency"],
            period_start=_time(period["start"]),
            period_end=_time(period["end"]),
            at=_time(event["created"]),
        )
        return "charge recorded" if entry else "charge already recorded"
    raise Unused(f"event type {kind} is not used")
