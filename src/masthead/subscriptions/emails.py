"""Lifecycle e-mails and receipts, sent through Django's e-mail backend after commit."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string

log = logging.getLogger("masthead.subscriptions")

KINDS = {"welcome", "receipt", "trial_ending", "payment_failed", "cancelled", "expired"}


def send_now(kind: str, subscription: Any, **context: Any) -> None:
    """Render `subscriptions/email/<kind>.txt` (first line is the subject) and send it."""
    user = subscription.user
    if not user.email:
        return
    text = render_to_string(
        f"subscriptions/email/{kind}.txt",
        {
            "subscription": subscription,
            "user": user,
            "site_name": settings.SITE_NAME,
            "site_url": settings.SITE_URL,
            **context,
        },
    ).strip()
    subject, _, body = text.partition("\n")
    try:
        send_mail(subject.strip(), body.strip() + "\n", None, [user.email])
    except OSError:
        # A mail outage must not undo a payment; the operator sees it and the state is kept.
        log.exception("could not send %s e-mail for subscription %s", kind, subscription.pk)


def on_commit(kind: str, subscription: Any, **context: Any) -> None:
    assert kind in KINDS, kind
    transaction.on_commit(lambda: send_now(kind, subscription, **context))
