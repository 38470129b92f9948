"""`masthead worker`: run background tasks and the scheduler tick on the configured backend.

One loop for every backend: every SCHEDULER_INTERVAL seconds enqueue what is due (once
cluster-wide, see core.jobs), then drain the queue (django-tasks-db's worker on the database
backend, an RQ worker on Redis). Its exit status is 1 when a task failed for good while it ran.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import FrameType
from typing import Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections
from django.utils import timezone
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends

from masthead.core.jobs import enqueue_due_jobs

log = logging.getLogger("masthead.worker")
# How often a worker records its heartbeat (WorkerHeartbeat), read by /readyz.
HEARTBEAT_SECONDS = 15.0


def backend() -> Any:
    return task_backends[DEFAULT_TASK_BACKEND_ALIAS]


def backend_kind() -> str:
    """The top-level package of the configured backend: django_tasks_db, django_tasks_rq..."""
    return type(backend()).__module__.split(".")[0]


def _drain_database(worker_id: str) -> None:
    from django_tasks_db.management.commands.db_worker import Worker

    Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name=backend().alias,
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    ).run()


def _pending_database() -> bool:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(backend_name=backend().alias, status="READY").exists()


def _drain_redis(worker_id: str, *, forking: bool) -> None:
    import django_rq
    from django_tasks_rq.backend import Job
    from rq.worker import SimpleWorker, Worker

    worker_class: Any = Worker if forking else SimpleWorker
    queues = sorted(backend().queues)
    worker = django_rq.get_worker(*queues, job_class=Job, worker_class=worker_class)
    if forking:
        connections.close_all()  # a forked job must not share this process's DB sockets
    worker.work(burst=True, with_scheduler=True, logging_level="WARNING")


def _pending_redis() -> bool:
    import django_rq

    for name in sorted(backend().queues):
        queue = django_rq.get_queue(name)
        if queue.count or queue.scheduled_job_registry.count:
            return True
    return False


@dataclass
class WorkerLoop:
    """Scheduler tick plus queue drain until stopped (or, with `batch`, until idle)."""

    batch: bool = False
    scheduler: bool = True
    interval: float = 60.0
    poll: float = 1.0
    max_seconds: float | None = None
    forking: bool = True
    worker_id: str = "masthead-worker"
    started: datetime = field(default_factory=timezone.now)
    stopping: bool = False
    ticks: int = 0
    last_beat: float = float("-inf")

    def stop(self, signum: int, frame: FrameType | None) -> None:
        log.warning("worker %s: %s, stopping after the current task", self.worker_id, signum)
        self.stopping = True

    def drain(self) -> None:
        if backend_kind() == "django_tasks_rq":
            _drain_redis(self.worker_id, forking=self.forking)
        elif backend_kind() == "django_tasks_db":
            _drain_database(self.worker_id)
        # The immediate backend ran each task when it was enqueued.

    def pending(self) -> bool:
        if backend_kind() == "django_tasks_rq":
            return _pending_redis()
        if backend_kind() == "django_tasks_db":
            return _pending_database()
        return False

    def run(self, on_tick: Callable[[dict[str, int]], None] | None = None) -> int:
        """Run until stopped; return how many tasks failed for good meanwhile."""
        from masthead.core.models import TaskFailure

        deadline = time.monotonic() + self.max_seconds if self.max_seconds else None
        next_tick = 0.0
        while not self.stopping:
            close_old_connections()
            self.beat()
            if self.scheduler and time.monotonic() >= next_tick:
                counts = enqueue_due_jobs()
                self.ticks += 1
                next_tick = time.monotonic() + self.interval
                if on_tick:
                    on_tick(counts)
            self.drain()
            if self.batch and not self.pending():
                break
            if deadline is not None and time.monotonic() >= deadline:
                log.warning("worker %s: --max-seconds reached", self.worker_id)
                break
            time.sleep(self.poll)
        close_old_connections()
        return TaskFailure.objects.filter(failed_at__gte=self.started).count()

    def beat(self) -> None:
        """Tell /readyz this worker is alive (at most every HEARTBEAT_SECONDS)."""
        if time.monotonic() - self.last_beat < HEARTBEAT_SECONDS:
            return
        from masthead.core.models import WorkerHeartbeat

        try:
            WorkerHeartbeat.objects.update_or_create(
                worker_id=self.worker_id, defaults={"seen_at": timezone.now()}
            )
        except DatabaseError as error:  # the loop goes on; readiness will say why
            log.warning("worker %s: heartbeat not recorded: %s", self.worker_id, error)
            return
        self.last_beat = time.monotonic()

    def install_signals(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)


def default_interval() -> float:
    return float(settings.SCHEDULER_INTERVAL)
