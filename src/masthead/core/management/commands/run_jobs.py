from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from masthead.core.jobs import run_due_jobs


class Command(BaseCommand):
    help = "Run every scheduled job that is due (renewals, reminders, expiries). Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        for name, count in run_due_jobs().items():
            self.stdout.write(f"{name}: {count if count >= 0 else 'FAILED (see log)'}")
