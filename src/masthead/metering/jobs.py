"""Meter housekeeping, run by `masthead run-jobs`: counted reads of ended windows are pruned.

A read counts only inside its window (a calendar month, or N days from the first read); once
the window has closed it never counts again. Rows of windows closed more than a day ago (the
same slack Redis keys get past their end) are deleted, with the readers left with none, so
the meter's table stays as large as the readers of the current windows. Redis needs no job:
each key expires a day after its window ends.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from masthead.core import jobs
from masthead.metering.models import MeteredRead, ReaderMeter

SLACK = timedelta(days=1)
BATCH = 5_000


def prune_meter(now: datetime) -> int:
    """Delete counted reads whose window closed before `now` - SLACK; idempotent. Returns
    how many reads were deleted."""
    cutoff = now - SLACK
    deleted = 0
    while True:
        ids = list(
            MeteredRead.objects.filter(window_closes_at__lt=cutoff).values_list("pk", flat=True)[
                :BATCH
            ]
        )
        if not ids:
            break
        deleted += MeteredRead.objects.filter(pk__in=ids).delete()[0]
    # A reader's lock row is created just before its first read is inserted: only rows a day
    # old (by the real clock, not the demo's) can be pruned without racing a recording.
    ReaderMeter.objects.filter(created_at__lt=timezone.now() - SLACK).exclude(
        reader_key__in=MeteredRead.objects.values("reader_key")
    ).delete()
    return deleted


def register() -> None:
    jobs.register("metering.prune_meter")(prune_meter)
