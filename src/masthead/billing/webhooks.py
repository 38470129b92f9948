"""Provider webhooks: verified (signature and timestamp), stored by event id, applied once.

The request only verifies, stores the event as `received` (a short transaction) and enqueues
`process_webhook_event(pk)` on commit, answering 200 at once; a replayed event id changes
nothing. What an event means is decided above the payments layer by the applier registered
for its provider (`register_applier`; Stripe's lives in `masthead.subscriptions.stripe_events`):
its `fetch` step calls the provider with no transaction open, then its `apply` step runs in one
transaction with the fetched state. An applier raises `Ignored` for an event that is not for us
(stored as ignored and logged) and `NotYetApplicable` for one that needs something not arrived
yet. A failure is stored as failed and the task retried with backoff; after the last attempt the
event stays failed and `masthead billing_webhooks retry` (or the admin's action) queues it again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction

from masthead.billing.models import WebhookEvent, WebhookStatus
from masthead.billing.stripe import events as stripe_events
from masthead.core import metrics
from masthead.core.tasks import background_task

log = logging.getLogger("masthead.billing.webhooks")
TOLERANCE_SECONDS = 300
WEBHOOK_ATTEMPTS = 5


class Ignored(Exception):
    """The event is valid but not for us; the message says why."""


class Unused(Ignored):
    """An event type Masthead does not act on (customer.created, ...): stored quietly."""


class NotYetApplicable(Exception):
    """The event needs something that has not arrived yet (an invoice before its
    subscription): answered 500 so Stripe delivers it again later."""


Fetch = Callable[[dict[str, Any]], Any]
Apply = Callable[[dict[str, Any], Any], str]


@dataclass(frozen=True)
class Applier:
    """What a verified event of one provider does, in two steps: `fetch(payload)` makes the
    provider calls the event needs, with no transaction open; `apply(payload, fetched)` then
    runs in one transaction with what was fetched."""

    apply: Apply
    fetch: Fetch | None = None


_APPLIERS: dict[str, Applier] = {}


def register_applier(provider: str, *, fetch: Fetch | None = None) -> Callable[[Apply], Apply]:
    """Register `fn(event payload, fetched) -> note` as what a verified event of `provider`
    does; `fetch(event payload)`, if given, runs first, outside any transaction."""

    def wrap(fn: Apply) -> Apply:
        _APPLIERS[provider] = Applier(apply=fn, fetch=fetch)
        return fn

    return wrap


def _applier(provider: str) -> Applier:
    applier = _APPLIERS.get(provider)
    if applier is None:
        raise Ignored(f"no applier registered for {provider} events")
    return applier


def fetch_for(provider: str, event: dict[str, Any]) -> Any:
    """The provider's side of an event (no transaction may be open: it calls the provider)."""
    applier = _applier(provider)
    return applier.fetch(event) if applier.fetch is not None else None


def apply_event(provider: str, event: dict[str, Any], fetched: Any = None) -> str:
    return _applier(provider).apply(event, fetched)


def time_of(value: Any) -> datetime:
    """A provider's Unix timestamp as an aware datetime."""
    return datetime.fromtimestamp(int(value), tz=UTC)


def receive_stripe(payload: bytes, signature: str | None) -> tuple[int, dict[str, str]]:
    """Verify and store one delivery, and queue its application; returns (HTTP status, JSON
    body). The request applies nothing itself (`process_webhook_event` does, from the queue)."""
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
        metrics.count_webhook_failure("stripe", "invalid_signature")
        return 400, {"error": "invalid_signature"}
    except (ValueError, KeyError, TypeError, AttributeError):
        log.warning("Stripe webhook refused: unreadable payload")
        metrics.count_webhook_failure("stripe", "invalid_payload")
        return 400, {"error": "invalid_payload"}
    stored = store(event_id, event_type, created, event)
    if stored is None:
        return 200, {"status": "duplicate"}
    # With a real queue the event is still `received` here; with the immediate backend (the
    # demo, the test suite) the task has already run and its outcome is the answer.
    stored.refresh_from_db(fields=["status"])
    return answer(stored)


def store(
    event_id: str, event_type: str, created: datetime, event: dict[str, Any]
) -> WebhookEvent | None:
    """Store a verified event as received and enqueue its task on commit; None for a replay
    of an event already received, applied or ignored (a failed one is queued again)."""
    try:
        with transaction.atomic():
            stored, is_new = WebhookEvent.objects.select_for_update().get_or_create(
                event_id=event_id,
                defaults={
                    "provider": "stripe",
                    "event_type": event_type,
                    "created": created,
                    "status": WebhookStatus.RECEIVED,
                    "payload": event,
                },
            )
            if not is_new:
                if stored.status != WebhookStatus.FAILED:
                    return None
                stored.status = WebhookStatus.RECEIVED
                stored.save(update_fields=["status"])
            enqueue_on_commit(stored.pk)
    except IntegrityError:  # the same event delivered twice at once: the other one stores it
        return None
    return stored


def enqueue_on_commit(pk: int) -> None:
    transaction.on_commit(lambda: _enqueue(pk))


def _enqueue(pk: int) -> None:
    try:
        process_webhook_event.enqueue(pk)
    except Exception as exc:  # the queue is down: failed, so Stripe's redelivery queues it again
        log.exception("could not enqueue webhook event %s", pk)
        WebhookEvent.objects.filter(pk=pk, status=WebhookStatus.RECEIVED).update(
            status=WebhookStatus.FAILED, note=f"not queued: {type(exc).__name__}: {exc}"
        )


def requeue(stored: WebhookEvent) -> bool:
    """Staff (`billing_webhooks retry`, the admin's action): queue a failed event again. Meant
    to be called outside a transaction: the status is saved, then the task enqueued at once."""
    updated = WebhookEvent.objects.filter(pk=stored.pk, status=WebhookStatus.FAILED).update(
        status=WebhookStatus.RECEIVED
    )
    if updated:
        process_webhook_event.enqueue(stored.pk)
    return bool(updated)


def answer(stored: WebhookEvent) -> tuple[int, dict[str, str]]:
    if stored.status == WebhookStatus.FAILED:
        return 500, {"error": "apply_failed"}
    return 200, {"status": str(stored.status)}


DONE = (WebhookStatus.APPLIED, WebhookStatus.IGNORED)


@background_task(attempts=WEBHOOK_ATTEMPTS)
def process_webhook_event(pk: int) -> str:
    """Apply one stored event, once: fetch what it needs from the provider with no transaction
    open, then apply it and mark it applied in one transaction, the event row locked. An event
    already applied or ignored is left alone. A failure (`NotYetApplicable` included) marks it
    failed and raises, so the task is retried with backoff; it stays failed after the last."""
    stored = WebhookEvent.objects.get(pk=pk)
    if stored.status in DONE:
        return f"already {stored.status}"
    try:
        fetched = fetch_for(stored.provider, stored.payload)
        with transaction.atomic():
            locked = WebhookEvent.objects.select_for_update().get(pk=pk)
            if locked.status in DONE:
                return f"already {locked.status}"
            note = apply_event(locked.provider, locked.payload, fetched)
            locked.status, locked.note = WebhookStatus.APPLIED, note
            locked.save(update_fields=["status", "note"])
            return str(locked.status)
    except Ignored as exc:
        level = logging.DEBUG if isinstance(exc, Unused) else logging.WARNING
        log.log(level, "%s event %s ignored: %s", stored.provider, stored.event_id, exc)
        _finish(pk, WebhookStatus.IGNORED, str(exc))
        return str(WebhookStatus.IGNORED)
    except Exception as exc:
        log.warning("%s event %s failed: %r", stored.provider, stored.event_id, exc)
        metrics.count_webhook_failure(stored.provider, "apply_failed")
        _finish(pk, WebhookStatus.FAILED, f"{type(exc).__name__}: {exc}")
        raise


def _finish(pk: int, status: WebhookStatus, note: str) -> None:
    WebhookEvent.objects.filter(pk=pk).exclude(status__in=DONE).update(status=status, note=note)
