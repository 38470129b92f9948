from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from masthead.core.jobs import enqueue_due_jobs, run_due_jobs


class Command(BaseCommand):
    help = (
        "Enqueue every scheduled job and item that is due (once across instances), or with "
        "--inline run them here. Exits 1 when something failed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--inline",
            action="store_true",
            help="Run the due work in this process instead of enqueuing it (demo, one-off).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = run_due_jobs() if options["inline"] else enqueue_due_jobs()
        verb = "handled" if options["inline"] else "enqueued"
        for name, count in counts.items():
            self.stdout.write(f"{name}: {f'{count} {verb}' if count >= 0 else 'FAILED (see log)'}")
        if not counts.ok:
            raise CommandError(
                "Failed: " + ", ".join(f"{k} ({v})" for k, v in counts.failed.items())
            )
