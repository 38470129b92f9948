"""Stripe webhooks: verified (signature and timestamp), stored by event id, applied once.

A replayed event id changes nothing; an event older than the state already applied is
skipped (actions.apply_provider_state compares times); an event for another Stripe account
or an unknown customer is stored as ignored and logged. A failure is stored as failed and
answered with 500, so Stripe retries; `masthead billing_webhooks retry` re-applies it.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction

from masthead.billing.models import ProviderCustomer, WebhookEvent, WebhookStatus
from masthead.subscriptions import actions
from masthead.subscriptions.models import Plan, Status, Subscription

log = logging.getLogger("masthead.billing.webhooks")
TOLERANCE_SECONDS = 300

STRIPE_STATUS = {
    "trialing": Status.TRIALING,
    "active": Status.ACTIVE,
    "past_due": Status.PAST_DUE,
    "canceled": Status.EXPIRED,
    "unpaid": Status.EXPIRED,
    "incomplete_expired": Status.EXPIRED,
}


class Ignored(Exception):
    """The event is valid but not for us; the message says why."""


class Unused(Ignored):
    """An event type Masthead does not act on (customer.created, ...): stored quietly."""


class NotYetApplicable(Exception):
    """The event needs something that has not arrived yet (an invoice before its
    subscription): answered 500 so Stripe delivers it again later."""


def _time(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value), tz=UTC)


def receive_stripe(payload: bytes, signature: str | None) -> tuple[int, dict[str, str]]:
    """Verify, store and apply one delivery; returns (HTTP status, JSON body)."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        log.error("Stripe webhook received but STRIPE_WEBHOOK_SECRET is not set")
        return 503, {"error": "webhooks_not_configured"}
    try:
        stripe.Webhook.construct_event(payload, signature or "", secret, TOLERANCE_SECONDS)
        event = json.loads(payload)
        event_id, event_type, created = event["id"], event["type"], _time(event["created"])
    except stripe.SignatureVerificationError as exc:
        log.warning("Stripe webhook refused: %s", exc)
        return 400, {"error": "invalid_signature"}
    except (ValueError, KeyError, TypeError):
        log.warning("Stripe webhook refused: unreadable payload")
        return 400, {"error": "invalid_payload"}
    try:
        with transaction.atomic():
            stored, is_new = WebhookEvent.objects.select_for_update().get_or_create(
                event_id=event_id,
                defaults={
                    "provider": "stripe",
                    "event_type": event_type,
                    "created": created,
                    "status": WebhookStatus.FAILED,
                    "payload": event,
                },
            )
            if not is_new and stored.status != WebhookStatus.FAILED:
                return 200, {"status": "duplicate"}
            return apply_stored(stored)
    except IntegrityError:  # the same event delivered twice at once: the other one applies it
        return 200, {"status": "duplicate"}


def apply_stored(stored: WebhookEvent) -> tuple[int, dict[str, str]]:
    try:
        with transaction.atomic():
            note = apply_event(stored.payload)
        stored.status, stored.note = WebhookStatus.APPLIED, note
    except Ignored as exc:
        level = logging.DEBUG if isinstance(exc, Unused) else logging.WARNING
        log.log(level, "Stripe event %s ignored: %s", stored.event_id, exc)
        stored.status, stored.note = WebhookStatus.IGNORED, str(exc)
    except Exception as exc:
        log.exception("Stripe event %s failed", stored.event_id)
        stored.status, stored.note = WebhookStatus.FAILED, f"{type(exc).__name__}: {exc}"
    stored.save(update_fields=["status", "note"])
    if stored.status == WebhookStatus.FAILED:
        return 500, {"error": "apply_failed"}
    return 200, {"status": str(stored.status)}


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
