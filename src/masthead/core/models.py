from django.db import models


class ClockOffset(models.Model):
    """How far the demo clock runs ahead of real time (one row; never used in production)."""

    seconds = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"clock +{self.seconds}s"


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
