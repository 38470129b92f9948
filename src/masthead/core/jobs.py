"""Scheduled jobs registry: domains register idempotent jobs that run when due.

`masthead run-jobs` (cron, or a loop in the serve container) and `masthead clock advance` call
`run_due_jobs`. Each job must be safe to run twice and from several machines at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from masthead.core import clock

log = logging.getLogger("masthead.jobs")
_JOBS: dict[str, Callable[[datetime], int]] = {}


def register(name: str) -> Callable[[Callable[[datetime], int]], Callable[[datetime], int]]:
    """Register `fn(now) -> number of items handled` under a name."""

    def wrap(fn: Callable[[datetime], int]) -> Callable[[datetime], int]:
        _JOBS[name] = fn
        return fn

    return wrap


def run_due_jobs(now: datetime | None = None) -> dict[str, int]:
    now = now or clock.now()
    handled: dict[str, int] = {}
    for name, job in sorted(_JOBS.items()):
        try:
            handled[name] = job(now)
        except Exception:  # one failing job must not stop the others; the operator sees it
            log.exception("job %s failed", name)
            handled[name] = -1
    return handled
