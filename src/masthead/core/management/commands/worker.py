"""`masthead worker`: run background tasks and the scheduler on the configured queue."""

from __future__ import annotations

import os
import socket
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from masthead.core.worker import WorkerLoop, backend_kind, default_interval


class Command(BaseCommand):
    help = (
        "Run background tasks (renewals, e-mail, ...) and enqueue scheduled work every "
        "MASTHEAD_SCHEDULER_INTERVAL seconds. Exits 1 if a task failed for good while it ran."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch",
            action="store_true",
            help="Exit once the queue is empty, deferred retries included (cron, CI, tests).",
        )
        parser.add_argument(
            "--no-scheduler", action="store_true", help="Only run tasks; never enqueue."
        )
        parser.add_argument(
            "--interval", type=float, default=None, help="Seconds between scheduler ticks."
        )
        parser.add_argument("--max-seconds", type=float, default=None, help="Stop after this.")
        parser.add_argument(
            "--no-fork", action="store_true", help="Redis: run jobs in this process (no fork)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if backend_kind() not in {"django_tasks_db", "django_tasks_rq"}:
            raise CommandError(
                "MASTHEAD_TASKS_BACKEND is 'immediate': tasks run as they are enqueued and "
                "there is nothing for a worker to do. Use 'database' or 'redis'."
            )
        loop = WorkerLoop(
            batch=options["batch"],
            scheduler=not options["no_scheduler"],
            interval=options["interval"] or default_interval(),
            max_seconds=options["max_seconds"],
            forking=not options["no_fork"],
            worker_id=f"{socket.gethostname()}-{os.getpid()}",
        )
        loop.install_signals()
        if options["verbosity"] > 0:
            self.stdout.write(f"Worker {loop.worker_id} on {backend_kind()} (Ctrl-C stops)")
        failed = loop.run(
            on_tick=(lambda counts: self._tick(counts)) if options["verbosity"] > 1 else None
        )
        if failed:
            raise CommandError(
                f"{failed} task(s) failed for good while this worker ran; see Admin > Core > "
                "Task failures (docs/jobs.md, 'Failed tasks')."
            )

    def _tick(self, counts: dict[str, int]) -> None:
        self.stdout.write("scheduler: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
