"""Scheduled work: domains register jobs; the scheduler enqueues one task per due item.

Two kinds of registration:

- `@register("newsroom.publish_scheduled")` on `fn(now) -> int`: a periodic job, enqueued as
  one task per `every` window (default a minute) across every instance.
- `@register_items("subscriptions.lifecycle", handle=fn)` on `due(now) -> Iterable[DueItem]`:
  each due item becomes its own task `handle(key, now)`, so one failing subscription never
  blocks another. The unique key "job:item@due" is written to `ScheduledRun` in the same
  transaction as the enqueue, so several schedulers enqueue a due item exactly once.

`enqueue_due_jobs(now)` is the scheduler tick (`masthead worker` runs it every minute;
`masthead run-jobs` runs one tick). `run_due_jobs(now)` runs everything due inline, each item
isolated (the demo clock and tests use it). Jobs must be idempotent. See docs/jobs.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from masthead.core import clock
from masthead.core.tasks import background_task, record_failure

log = logging.getLogger("masthead.jobs")

JobFn = Callable[[datetime], int]
ItemHandler = Callable[[str, datetime], int]


@dataclass(frozen=True)
class DueItem:
    key: str  # identifies the item within its job, e.g. a subscription's pk
    due: datetime  # when it fell due; a new due moment is a new unit of work


@dataclass(frozen=True)
class PeriodicJob:
    fn: JobFn
    every: timedelta


@dataclass(frozen=True)
class ItemJob:
    find: Callable[[datetime], Iterable[DueItem]]
    handle: ItemHandler


_JOBS: dict[str, PeriodicJob] = {}
_ITEM_JOBS: dict[str, ItemJob] = {}


def register(name: str, *, every: timedelta = timedelta(minutes=1)) -> Callable[[JobFn], JobFn]:
    """Register `fn(now) -> number of items handled`, run once per `every` window."""

    def wrap(fn: JobFn) -> JobFn:
        _JOBS[name] = PeriodicJob(fn=fn, every=every)
        return fn

    return wrap


def register_items(
    name: str, *, handle: ItemHandler
) -> Callable[[Callable[[datetime], Iterable[DueItem]]], Callable[[datetime], Iterable[DueItem]]]:
    """Register `due(now) -> DueItems`; each item runs as its own task `handle(key, now)`."""

    def wrap(
        find: Callable[[datetime], Iterable[DueItem]],
    ) -> Callable[[datetime], Iterable[DueItem]]:
        _ITEM_JOBS[name] = ItemJob(find=find, handle=handle)
        return find

    return wrap


def registered() -> list[str]:
    return sorted([*_JOBS, *_ITEM_JOBS])


class JobCounts(dict[str, int]):
    """Items handled per job; -1 for a job with a failure. `failed` counts failures per job."""

    def __init__(self) -> None:
        super().__init__()
        self.failed: dict[str, int] = {}

    @property
    def ok(self) -> bool:
        return not self.failed


# ---------------------------------------------------------------- tasks


@background_task(attempts=5)
def run_periodic_job(name: str, now: str) -> int:
    return _JOBS[name].fn(datetime.fromisoformat(now))


@background_task(attempts=5)
def run_item(name: str, key: str, now: str) -> int:
    return _ITEM_JOBS[name].handle(key, datetime.fromisoformat(now))


# ---------------------------------------------------------------- inline (demo clock, tests)


def run_due_jobs(now: datetime | None = None) -> JobCounts:
    """Run every due job and item now, in this process. A failure is recorded and counted;
    it never stops the other items or jobs."""
    now = now or clock.now()
    counts = JobCounts()
    for name in registered():
        if name in _JOBS:
            try:
                counts[name] = _JOBS[name].fn(now)
            except Exception as exc:  # one failing job must not stop the others
                log.exception("job %s failed", name)
                record_failure(
                    run_periodic_job.module_path, (name, now.isoformat()), {}, attempt=1, exc=exc
                )
                counts[name], counts.failed[name] = -1, 1
            continue
        handled = failed = 0
        job = _ITEM_JOBS[name]
        for item in list(job.find(now)):
            try:
                handled += job.handle(item.key, now)
            except Exception as exc:
                log.exception("job %s failed on item %s", name, item.key)
                args = (name, item.key, now.isoformat())
                record_failure(run_item.module_path, args, {}, attempt=1, exc=exc)
                failed += 1
        counts[name] = -1 if failed else handled
        if failed:
            counts.failed[name] = failed
    return counts


# ---------------------------------------------------------------- the scheduler tick


def _window(now: datetime, every: timedelta) -> datetime:
    seconds = every.total_seconds()
    return datetime.fromtimestamp(now.timestamp() // seconds * seconds, tz=UTC)


def _enqueue_once(key: str, job: str, task: Any, *args: str) -> bool:
    """Claim `key` and enqueue in one transaction: another scheduler that claimed it first
    makes this one skip; an enqueue that fails releases the claim for the next tick."""
    try:
        with transaction.atomic():
            from masthead.core.models import ScheduledRun

            ScheduledRun.objects.create(key=key[:255], job=job, enqueued_at=timezone.now())
            task.enqueue(*args)
    except IntegrityError:
        return False
    return True


def enqueue_due_jobs(now: datetime | None = None) -> JobCounts:
    """One scheduler tick: enqueue each due periodic job and each due item once, cluster-wide.
    Returns how many tasks this tick enqueued per job (failures to look up or enqueue: -1)."""
    now = now or clock.now()
    stamp = now.isoformat()
    counts = JobCounts()
    for name in registered():
        try:
            if name in _JOBS:
                window = _window(now, _JOBS[name].every)
                key = f"{name}@{window.isoformat()}"
                counts[name] = int(_enqueue_once(key, name, run_periodic_job, name, stamp))
                continue
            enqueued = 0
            for item in list(_ITEM_JOBS[name].find(now)):
                key = f"{name}:{item.key}@{item.due.isoformat()}"
                enqueued += _enqueue_once(key, name, run_item, name, item.key, stamp)
            counts[name] = enqueued
        except Exception:  # a broken job or an unreachable queue: report, go on
            log.exception("could not enqueue job %s", name)
            counts[name], counts.failed[name] = -1, 1
    return counts


def prune_scheduled_runs(now: datetime) -> int:
    """Forget claims older than 30 days (a due item that old is long done or failed)."""
    from masthead.core.models import ScheduledRun

    deleted, _ = ScheduledRun.objects.filter(
        enqueued_at__lt=timezone.now() - timedelta(days=30)
    ).delete()
    return deleted


register("core.prune_scheduled_runs", every=timedelta(days=1))(prune_scheduled_runs)
