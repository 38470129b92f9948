"""Provider webhooks: verified (signature and timestamp), stored by event id, applied once.

This module only verifies and stores; what an event means is decided above the payments
layer by the applier registered for its provider (`register_applier`; Stripe's lives in
`masthead.subscriptions.stripe_events`). A replayed event id changes nothing; an applier
raises `Ignored` for an event that is not for us (stored as ignored and logged) and
`NotYetApplicable` for one that must be delivered again. A failure is stored as failed and
answered with 500, so Stripe retries; `masthead billing_webhooks retry` re-applies it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction

from masthead.billing.models import WebhookEvent, WebhookStatus
from masthead.billing.stripe import events as stripe_events

log = logging.getLogger("masthead.billing.webhooks")
TOLERANCE_SECONDS = 300


class Ignored(Exception):
    """The event is valid but not for us; the message says why."""


class Unused(Ignored):
    """An event type Masthead does not act on (customer.created, ...): stored quietly."""


class NotYetApplicable(Exception):
    """The event needs something that has not arrived yet (an invoice before its
    subscription): answered 500 so Stripe delivers it again later."""


Applier = Callable[[dict[str, Any]], str]
_APPLIERS: dict[str, Applier] = {}


def register_applier(provider: str) -> Callable[[Applier], Applier]:
    """Register `fn(event payload) -> note` as what a verified event of `provider` does."""

    def wrap(fn: Applier) -> Applier:
        _APPLIERS[provider] = fn
        return fn

    return wrap


def apply_event(provider: str, event: dict[str, Any]) -> str:
    applier = _APPLIERS.get(provider)
    if applier is None:
        raise Ignored(f"no applier registered for {provider} events")
    return applier(event)


def time_of(value: Any) -> datetime:
    """A provider's Unix timestamp as an aware datetime."""
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
        event_id, event_type, created = event["id"], event["type"], time_of(event["created"])
        stripe_events.parse(event)  # every field the pinned version always sends is there
    except stripe.SignatureVerificationError as exc:
        log.warning("Stripe webhook refused: %s", exc)
        return 400, {"error": "invalid_signature"}
    except (ValueError, KeyError, TypeError, AttributeError):
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
            note = apply_event(stored.provider, stored.payload)
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
