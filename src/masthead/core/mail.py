"""The e-mail outbox: write the message in the caller's transaction, deliver it from a task.

`queue_email(...)` inserts an `OutboxEmail` row (so it commits or rolls back with the state
change it reports) and enqueues `deliver_email(pk)` on commit. Delivery claims the row with a
conditional update (two workers never both send it), sends through Django's e-mail backend
(SMTP or a provider via django-anymail, chosen by settings) and marks it sent. A failed send is
retried with backoff by the task; the outbox sweep (a scheduled job) re-enqueues rows whose
task was lost or whose sender died mid-send. Delivery is at least once. See docs/jobs.md.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from masthead.core.jobs import DueItem, register_items
from masthead.core.mail_html import html_alternative
from masthead.core.models import OutboxEmail, OutboxStatus
from masthead.core.tasks import background_task, backoff_delay, retry_base

log = logging.getLogger("masthead.mail")

DELIVERY_ATTEMPTS = 8
CLAIM_FOR = timedelta(minutes=5)  # a sender that died mid-send frees the row after this
SWEEP_AFTER = timedelta(minutes=2)  # the on-commit task normally delivers well before this


class DeliveryFailed(Exception):
    pass


def queue_email(
    *,
    subject: str,
    body: str,
    to: list[str],
    from_email: str = "",
    html_body: str = "",
    headers: dict[str, str] | None = None,
    kind: str = "",
    enqueue_on_commit: bool = True,
) -> OutboxEmail:
    """Write the message to the outbox in the current transaction; deliver after commit.
    Without `html_body`, the HTML alternative is made from `body` in the site's design.

    `enqueue_on_commit=False` enqueues at once, for senders outside any domain transaction
    (allauth, in autocommit): the database queue then shares the caller's transaction, and a
    task that runs before a commit finds no row and leaves it to the sweep."""
    if body and not html_body:
        html_body = html_alternative(subject, body)
    now = timezone.now()
    with transaction.atomic():
        row = OutboxEmail.objects.create(
            kind=kind,
            subject=subject,
            body=body,
            html_body=html_body,
            from_email=from_email,
            to=list(to),
            headers=headers or {},
            created_at=now,
            next_attempt_at=now,
        )
        if enqueue_on_commit:
            transaction.on_commit(lambda: _enqueue(row.pk))
        else:
            _enqueue(row.pk)
    return row


def queue_message(
    message: EmailMessage, *, kind: str = "", enqueue_on_commit: bool = True
) -> OutboxEmail:
    """Queue an already built message (allauth's), keeping its HTML alternative."""
    html = ""
    for alternative in getattr(message, "alternatives", []) or []:
        content, mimetype = alternative[0], alternative[1]
        if mimetype == "text/html":
            html = str(content)
    return queue_email(
        subject=str(message.subject),
        body=str(message.body),
        to=[str(address) for address in message.to],
        from_email=str(message.from_email or ""),
        html_body=html,
        headers={str(k): str(v) for k, v in (message.extra_headers or {}).items()},
        kind=kind,
        enqueue_on_commit=enqueue_on_commit,
    )


def _enqueue(pk: int) -> None:
    try:
        deliver_email.enqueue(pk)
    except Exception:  # the queue is down: the row stays pending and the sweep sends it
        log.exception("could not enqueue delivery of outbox e-mail %s", pk)


def _claim(pk: int, now: datetime) -> bool:
    claimable = Q(status=OutboxStatus.PENDING) | Q(
        status=OutboxStatus.SENDING, claimed_until__lt=now
    )
    return bool(
        OutboxEmail.objects.filter(claimable, pk=pk).update(
            status=OutboxStatus.SENDING, claimed_until=now + CLAIM_FOR
        )
    )


def _message(row: OutboxEmail) -> EmailMessage:
    message = EmailMultiAlternatives(
        subject=row.subject,
        body=row.body,
        from_email=row.from_email or None,
        to=row.to,
        headers=row.headers or None,
        connection=get_connection(),
    )
    if row.html_body:
        message.attach_alternative(row.html_body, "text/html")
    return message


@background_task(attempts=DELIVERY_ATTEMPTS)
def deliver_email(pk: int) -> str:
    """Send one outbox e-mail. Idempotent: a row already sent (or being sent) is left alone."""
    now = timezone.now()
    if not _claim(pk, now):
        return "not pending"
    row = OutboxEmail.objects.get(pk=pk)
    try:
        _message(row).send(fail_silently=False)
    except Exception as exc:
        last_try = row.attempts + 1 >= DELIVERY_ATTEMPTS
        OutboxEmail.objects.filter(pk=pk).update(
            status=OutboxStatus.FAILED if last_try else OutboxStatus.PENDING,
            attempts=row.attempts + 1,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
            claimed_until=None,
            # The task retries sooner; this only holds the sweep back meanwhile.
            next_attempt_at=now + backoff_delay(row.attempts + 1, retry_base()) + SWEEP_AFTER,
        )
        raise DeliveryFailed(f"outbox e-mail {pk}: {type(exc).__name__}: {exc}") from exc
    OutboxEmail.objects.filter(pk=pk).update(
        status=OutboxStatus.SENT,
        attempts=row.attempts + 1,
        sent_at=timezone.now(),
        claimed_until=None,
        last_error="",
    )
    return "sent"


def resend(row: OutboxEmail) -> None:
    """Staff: put a failed e-mail back in the queue."""
    with transaction.atomic():
        OutboxEmail.objects.filter(pk=row.pk).update(
            status=OutboxStatus.PENDING, next_attempt_at=timezone.now()
        )
        transaction.on_commit(lambda: _enqueue(row.pk))


def deliver_outbox_item(key: str, now: datetime) -> int:
    return 1 if deliver_email.call(int(key)) == "sent" else 0


@register_items("core.outbox", handle=deliver_outbox_item)
def stranded_emails(now: datetime) -> Iterable[DueItem]:
    """Rows whose delivery task never ran (queue down, task lost) or whose sender died."""
    real_now = timezone.now()
    rows = OutboxEmail.objects.filter(
        Q(status=OutboxStatus.PENDING, next_attempt_at__lte=real_now - SWEEP_AFTER)
        | Q(status=OutboxStatus.SENDING, claimed_until__lt=real_now)
    ).values_list("pk", "attempts")[:500]
    return [DueItem(key=str(pk), due=real_now.replace(second=0, microsecond=0)) for pk, _ in rows]
