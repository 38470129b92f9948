"""Tasks for the queue tests: importable at module level, as every task must be."""

from __future__ import annotations

import time
from typing import Any

from masthead.core.models import ScheduledRun
from masthead.core.tasks import background_task

# A task's calls are recorded in the database (the worker may be another process or an RQ
# job): one ScheduledRun row per call, key "<name>:<n>", enqueued_at = when it ran.


def record(name: str) -> int:
    from django.utils import timezone

    n = ScheduledRun.objects.filter(job=f"test.{name}").count() + 1
    ScheduledRun.objects.create(key=f"{name}:{n}", job=f"test.{name}", enqueued_at=timezone.now())
    return n


def calls(name: str) -> list[Any]:
    return list(
        ScheduledRun.objects.filter(job=f"test.{name}")
        .order_by("pk")
        .values_list("enqueued_at", flat=True)
    )


@background_task(attempts=4)
def flaky(name: str, failures: int) -> str:
    """Fails on its first `failures` calls, then succeeds."""
    if record(name) <= failures:
        raise ConnectionError(f"{name}: the service is down")
    return "done"


@background_task(attempts=3)
def always_fails(name: str) -> None:
    record(name)
    raise ValueError(f"{name}: bad data")


@background_task(attempts=3)
def steady(name: str) -> str:
    record(name)
    time.sleep(0.05)
    return "done"
