"""Webhook housekeeping, run by `masthead run-jobs`: events stuck as `received` are queued again.

An event is stored as `received` and its task enqueued on commit. If that task is lost (a
worker killed mid-task with a queue that does not redeliver, a Redis queue flushed), nothing
else would ever apply the event: Stripe stops redelivering once it got its 200. This job
queues again every event still `received` after `STUCK_AFTER` (by the real clock: `received_at`
is the time it arrived, not the demo's clock). Applying is idempotent (the task locks the row
and leaves an applied or ignored event alone), so an event whose task was only slow is safe.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.utils import timezone

from masthead.billing.models import WebhookEvent, WebhookStatus
from masthead.core import jobs

log = logging.getLogger("masthead.billing.jobs")
STUCK_AFTER = timedelta(minutes=15)
BATCH = 500


def requeue_stuck_webhooks(now: datetime) -> int:
    """Queue again the events still `received` after STUCK_AFTER; returns how many."""
    from masthead.billing.webhooks import process_webhook_event

    cutoff = timezone.now() - STUCK_AFTER
    stuck = list(
        WebhookEvent.objects.filter(status=WebhookStatus.RECEIVED, received_at__lt=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    for pk in stuck:
        process_webhook_event.enqueue(pk)
    if stuck:
        log.warning("queued %d webhook events again that were stuck as received", len(stuck))
    return len(stuck)


def register() -> None:
    jobs.register("billing.requeue_stuck_webhooks", every=timedelta(minutes=5))(
        requeue_stuck_webhooks
    )
