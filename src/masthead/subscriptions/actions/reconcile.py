"""The reconcile job: settle payments whose outcome stayed unknown (the provider timed out,
or our commit failed after the provider took the money) by asking the provider by their
idempotency key. Found: settled exactly as the action would have (ledger row, history row).
Not found: the provider never moved the money, so the payment is marked failed and the
action may be tried again with a fresh key."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from masthead.billing import payments
from masthead.billing.models import Payment, PaymentStatus
from masthead.core.jobs import register
from masthead.subscriptions.actions.changes import settle_plan_change
from masthead.subscriptions.actions.checkout import settle_subscribe
from masthead.subscriptions.actions.errors import SubscriptionError
from masthead.subscriptions.actions.lifecycle import settle_decline, settle_renewal
from masthead.subscriptions.actions.refunds import settle_refund

log = logging.getLogger("masthead.subscriptions.reconcile")

# A payment younger than this may still be in its action's hands: leave it alone.
RECONCILE_AFTER = timedelta(minutes=5)

SETTLERS: dict[str, Callable[..., Any]] = {
    "subscribe": settle_subscribe,
    "renew": settle_renewal,
    "change_plan": settle_plan_change,
    "refund": settle_refund,
}


def reconcile_payments(now: datetime) -> int:
    """Settle every payment pending since before `now - RECONCILE_AFTER`; returns how many
    were settled (either way). A provider that cannot answer leaves the payment pending for
    the next run."""
    before = now - RECONCILE_AFTER
    settled = 0
    for payment in payments.pending(before=before):
        try:
            outcome = payments.lookup(payment)
        except Exception:
            log.exception("payment %s: the provider could not say", payment.idempotency_key)
            continue
        if outcome.succeeded:
            try:
                SETTLERS[payment.purpose](payment, outcome, now=now)
            except SubscriptionError as exc:  # settled as money to refund; the reader is told
                log.warning("payment %s settled for review: %s", payment.idempotency_key, exc)
        else:
            payments.mark_failed(payment, "Never reached the payment provider.", now=now)
        settled += 1
    # A decline seen by a worker that stopped before recording it.
    stranded = Payment.objects.filter(
        purpose="renew", status=PaymentStatus.FAILED, settled_at__isnull=True, at__lte=before
    )
    for payment in stranded:
        settled += settle_decline(payment, reason=payment.error, now=now)
    return settled


register("payments.reconcile")(reconcile_payments)
