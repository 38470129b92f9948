from __future__ import annotations

from django.db import models


class AuditRun(models.Model):
    """The summary of one `masthead paywall-audit` run (the operator's view shows the last)."""

    ran_at = models.DateTimeField()
    base_url = models.CharField(max_length=300)
    passed = models.BooleanField()
    leaks = models.PositiveIntegerField(default=0)
    blind = models.PositiveIntegerField(default=0)
    summary = models.TextField()

    class Meta:
        ordering = ["-ran_at"]
        get_latest_by = "ran_at"

    def __str__(self) -> str:
        return f"{self.ran_at:%Y-%m-%d %H:%M} {'passed' if self.passed else 'failed'}"
