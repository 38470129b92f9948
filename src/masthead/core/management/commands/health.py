"""`masthead health`: non-zero when the site's background work needs an operator."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from masthead.core import health


class Command(BaseCommand):
    help = "Exit 1 (with the reasons) when tasks have failed or e-mail is stuck; 0 when healthy."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = health.problems()
        if problems:
            raise CommandError("Unhealthy:\n  " + "\n  ".join(problems))
        self.stdout.write("healthy")
