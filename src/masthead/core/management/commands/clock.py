from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from masthead.core import clock


class Command(BaseCommand):
    help = "Show or move the demo clock: `clock`, `clock advance 31d`, `clock reset`."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "action", nargs="?", choices=["show", "advance", "reset"], default="show"
        )
        parser.add_argument("duration", nargs="?", help="e.g. 31d, 12h, 2w")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "advance":
                if not options["duration"]:
                    raise CommandError("Say how far: masthead clock advance 31d")
                clock.advance(clock.parse_duration(options["duration"]))
                from masthead.core.jobs import run_due_jobs

                # Inline, so the demo shows renewals at once; their e-mail goes to the outbox.
                for name, count in run_due_jobs().items():
                    if count:
                        self.stdout.write(f"{name}: {count if count >= 0 else 'FAILED'}")
            elif options["action"] == "reset":
                clock.reset()
        except clock.ClockError as exc:
            raise CommandError(str(exc)) from exc
        now = timezone.localtime(clock.now())
        self.stdout.write(f"Clock: {now:%Y-%m-%d %H:%M %Z} (offset {clock.offset()})")
