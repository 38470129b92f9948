"""Serve Masthead with granian (WSGI): collect static files, then hand the process over."""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


def default_workers() -> int:
    return max(2, (os.cpu_count() or 1))


class Command(BaseCommand):
    help = "Run the production server (granian, WSGI) with hashed static files and DEBUG off."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", default_workers()))
        )
        parser.add_argument("--no-collectstatic", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["no_collectstatic"]:
            call_command("collectstatic", interactive=False, verbosity=0)
        granian = shutil.which("granian") or os.path.join(
            os.path.dirname(sys.executable), "granian"
        )
        env = {**os.environ, "MASTHEAD_HASHED_STATIC": "true", "DEBUG": "false"}
        argv = [
            granian,
            "--interface",
            "wsgi",
            "--host",
            options["host"],
            "--port",
            str(options["port"]),
            "--workers",
            str(options["workers"]),
            "--blocking-threads",
            "1",
            "--no-ws",
            "--log-level",
            "warning",
            "masthead.wsgi:application",
        ]
        self.stdout.write(f"Serving on http://{options['host']}:{options['port']} (Ctrl-C stops)")
        sys.stdout.flush()
        os.execve(granian, argv, env)
