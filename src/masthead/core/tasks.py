"""Background tasks on Django's Tasks API (the `django-tasks` backport), with our retry policy.

The Tasks API has priority and `run_after` but no retries, so `background_task` adds them: a
task that raises is enqueued again with `run_after` = now + backoff x 2^(attempt - 1) (capped),
and the attempt that raised ends normally so the backend does not count it as a failure. The
last attempt records a `TaskFailure` row (staff see it in the admin; `masthead health` and the
worker exit non-zero while one is unresolved) and re-raises so the backend marks it failed.

Each task is one item (one renewal, one e-mail, ...): one item failing never touches another.
Tasks must be idempotent: a retry, a sweep or a staff "retry" may run the same item twice.
See docs/jobs.md.
"""

from __future__ import annotations

import functools
import logging
import traceback
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import DEFAULT_TASK_QUEUE_NAME, task
from django_tasks.base import Task

log = logging.getLogger("masthead.tasks")

F = TypeVar("F", bound=Callable[..., Any])
ATTEMPT_KWARG = "_attempt"
MAX_DELAY = timedelta(hours=1)


def retry_base() -> timedelta:
    return timedelta(seconds=settings.TASK_RETRY_BASE_SECONDS)


def backoff_delay(attempt: int, base: timedelta) -> timedelta:
    """The wait before attempt `attempt + 1`: base, 2 x base, 4 x base, ... at most an hour."""
    return min(base * (2 ** (attempt - 1)), MAX_DELAY)


def background_task(
    *,
    attempts: int = 5,
    backoff: timedelta | None = None,
    queue_name: str = DEFAULT_TASK_QUEUE_NAME,
    priority: int = 0,
) -> Callable[[F], Task]:
    """Make a module-level function a task retried `attempts` times with exponential backoff.

    Enqueue it like any task: `send_email.enqueue(pk)`; call it inline with `.call(pk)`.
    `backoff` defaults to MASTHEAD_TASK_RETRY_BASE_SECONDS (30 s), read when a retry is due.
    """

    def wrap(fn: F) -> Task:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            attempt = int(kwargs.pop(ATTEMPT_KWARG, 1))
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                return _after_failure(the_task, args, kwargs, attempt, attempts, backoff, exc)

        the_task = task(queue_name=queue_name, priority=priority)(run)
        return the_task

    return wrap


def _after_failure(
    the_task: Task,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    attempt: int,
    attempts: int,
    backoff: timedelta | None,
    exc: Exception,
) -> dict[str, Any]:
    path = the_task.module_path
    backend = the_task.get_backend()
    if attempt < attempts and backend.supports_defer:
        delay = backoff_delay(attempt, backoff or retry_base())
        # Whole seconds, rounded up: RQ's scheduler keeps second timestamps and would run a
        # fractional run_after up to a second early.
        run_after = (timezone.now() + delay + timedelta(seconds=1)).replace(microsecond=0)
        log.warning(
            "task %s attempt %s/%s failed (%s: %s); retrying in %ss",
            path,
            attempt,
            attempts,
            type(exc).__name__,
            exc,
            delay.total_seconds(),
        )
        the_task.using(run_after=run_after).enqueue(*args, **kwargs, **{ATTEMPT_KWARG: attempt + 1})
        return {"retry": attempt + 1, "run_after": run_after.isoformat(), "error": repr(exc)}
    record_failure(path, args, kwargs, attempt=attempt, exc=exc)
    raise exc


def record_failure(
    path: str, args: tuple[Any, ...], kwargs: dict[str, Any], *, attempt: int, exc: BaseException
) -> None:
    from masthead.core.models import TaskFailure

    log.error("task %s failed for good after %s attempts: %r", path, attempt, exc)
    with transaction.atomic():
        TaskFailure.objects.create(
            task_path=path,
            args=list(args),
            kwargs=kwargs,
            attempts=attempt,
            error=f"{type(exc).__name__}: {exc}"[:5000],
            traceback="".join(traceback.format_exception(exc))[-20000:],
            failed_at=timezone.now(),
        )


def open_failures() -> int:
    from masthead.core.models import TaskFailure

    return TaskFailure.objects.filter(resolved_at__isnull=True).count()


def retry_failure(failure: Any, *, by: str = "staff") -> None:
    """Enqueue a failed task again from its first attempt and mark the failure resolved."""
    from django.utils.module_loading import import_string

    the_task = import_string(failure.task_path)
    with transaction.atomic():
        failure.resolved_at = timezone.now()
        failure.resolution = f"retried by {by}"[:200]
        failure.save(update_fields=["resolved_at", "resolution"])
        transaction.on_commit(lambda: the_task.enqueue(*failure.args, **failure.kwargs))
