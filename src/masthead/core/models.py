from __future__ import annotations

from django.conf import settings
from django.db import models


class ClockOffset(models.Model):
    """How far the demo clock runs ahead of real time (one row; never used in production)."""

    seconds = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"clock +{self.seconds}s"


class ReaderMailbox(models.Model):
    """Every address a reader has had (sign-up, added, changed), with its canonical mailbox,
    so "has this mailbox had a trial?" is one indexed lookup. Rows are kept when the address
    is removed: changing the address must not make a reader new again. Written by
    `masthead.accounts` when an address is saved; read by subscription eligibility."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mailboxes"
    )
    address = models.CharField(max_length=254)
    mailbox = models.CharField(max_length=254, db_index=True)
    first_seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "address"], name="readermailbox_once")
        ]

    def __str__(self) -> str:
        return f"{self.address} -> {self.mailbox}"


class SiteGeneration(models.Model):
    """The site generation on the embedded default (one row): see `masthead.core.generation`.

    With Redis the number lives in the shared cache instead; this row is then unused.
    """

    value = models.BigIntegerField()

    def __str__(self) -> str:
        return f"generation {self.value}"


class ScheduledRun(models.Model):
    """One row per unit of scheduled work ever enqueued. The unique key ("job:item:due") is
    what makes several schedulers on several instances enqueue a due item exactly once."""

    key = models.CharField(max_length=255, unique=True)
    job = models.CharField(max_length=100, db_index=True)
    enqueued_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.key


class TaskFailure(models.Model):
    """A background task that failed on its last attempt. Staff see these in the admin, retry
    or resolve them; while any is unresolved `masthead health` and the worker exit non-zero."""

    task_path = models.CharField(max_length=255)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    attempts = models.PositiveIntegerField()
    error = models.TextField()
    traceback = models.TextField(blank=True)
    failed_at = models.DateTimeField(db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-failed_at"]
        indexes = [models.Index(fields=["resolved_at"], name="core_taskfailure_open")]

    def __str__(self) -> str:
        return f"{self.task_path} failed after {self.attempts} attempts"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class OutboxEmail(models.Model):
    """An e-mail written in the same transaction as the change it reports, then delivered by a
    task (retried with backoff). The row is the truth: a lost task is re-enqueued by the sweep."""

    kind = models.CharField(max_length=60, blank=True)
    subject = models.CharField(max_length=998)
    body = models.TextField()
    html_body = models.TextField(blank=True)
    from_email = models.CharField(max_length=320, blank=True)
    to = models.JSONField(default=list)
    headers = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="core_outbox_due")]

    def __str__(self) -> str:
        return f"{self.kind or 'e-mail'} to {', '.join(self.to)}: {self.subject}"


class WorkerHeartbeat(models.Model):
    """When each queue worker last went round its loop; /readyz wants one seen recently."""

    worker_id = models.CharField(max_length=200, unique=True)
    seen_at = models.DateTimeField(db_index=True)
    objects: models.Manager[WorkerHeartbeat] = models.Manager()

    def __str__(self) -> str:
        return f"{self.worker_id} at {self.seen_at:%Y-%m-%d %H:%M:%S}"


class RateCounter(models.Model):
    """One client's requests in one rate-limit window, on the embedded default (without Redis);
    shared by every process through the database. Rows past `expires_at` are pruned."""

    key = models.CharField(max_length=255, unique=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)
    objects: models.Manager[RateCounter] = models.Manager()

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"


class PendingEvent(models.Model):
    """A funnel event waiting for `masthead.insights` to drain it (the embedded default's
    buffer, written in batches by `masthead.core.events`; with Redis the buffer is a Redis
    list and this table stays empty). Holds no personal data beyond the reader's id."""

    payload = models.TextField()

    def __str__(self) -> str:
        return f"pending event {self.pk}"
