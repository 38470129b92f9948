"""Lifecycle e-mails and receipts: rendered into the outbox in the action's own transaction
and delivered by a background task (retried, never lost; see masthead.core.mail)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

from masthead.core.mail import queue_email

log = logging.getLogger("masthead.subscriptions")

KINDS = {
    "welcome",
    "receipt",
    "trial_ending",
    "payment_failed",
    "cancelled",
    "expired",
    "renewal_notice",
    "price_notice",
    "paused",
    "unpaused",
    "save_offer_accepted",
    "winback",
    "dunning",
    "card_expiring",
}


def render(kind: str, subscription: Any, **context: Any) -> tuple[str, str]:
    """Render `subscriptions/email/<kind>.txt` (first line is the subject): (subject, body)."""
    text = render_to_string(
        f"subscriptions/email/{kind}.txt",
        {
            "subscription": subscription,
            "user": subscription.user,
            "site_name": settings.SITE_NAME,
            "site_url": settings.SITE_URL,
            **context,
        },
    ).strip()
    subject, _, body = text.partition("\n")
    return subject.strip(), body.strip() + "\n"


def on_commit(kind: str, subscription: Any, **context: Any) -> tuple[str, str] | None:
    """Write the e-mail to the outbox in the current transaction: it is sent (by a task, with
    retries) only if the change it reports commits, and a failed send never loses it.
    Returns the (subject, body) queued, or None for a reader without an address."""
    assert kind in KINDS, kind
    user = subscription.user
    if not user.email:
        return None
    subject, body = render(kind, subscription, **context)
    log.debug("queueing %s e-mail for subscription %s", kind, subscription.pk)
    queue_email(subject=subject, body=body, to=[user.email], kind=f"subscriptions.{kind}")
    return subject, body
