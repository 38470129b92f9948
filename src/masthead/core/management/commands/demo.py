"""`masthead demo`: migrate, load the demo newsroom (idempotent), print logins, serve."""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import signal
import subprocess
import sys
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


def load_demo_content() -> list[str]:
    """Run each app's `demo.load()` in INSTALLED_APPS order; return the lines to print."""
    lines: list[str] = []
    for config in apps.get_app_configs():
        if not config.name.startswith("masthead."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.demo":
                raise
            continue
        lines.extend(module.load())
    return lines


def _die_with_parent() -> None:
    """Runs in the worker child: Linux sends it SIGTERM when the demo server exits."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start_worker() -> subprocess.Popen[bytes] | None:
    """The demo's background worker (renewals, e-mail): nothing else to run."""
    if settings.TASKS_BACKEND == "immediate":
        return None
    return subprocess.Popen(
        [sys.executable, "-m", "masthead.cli", "worker", "--verbosity", "0"],
        preexec_fn=_die_with_parent,
    )


class Command(BaseCommand):
    help = "Set up the demo newsroom and serve it (HOST and PORT override 127.0.0.1:8000)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-serve", action="store_true", help="Set up only; do not serve.")
        parser.add_argument(
            "--no-worker", action="store_true", help="Do not start the background worker."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        lines = load_demo_content()
        self.stdout.write(self.style.SUCCESS(f"{settings.SITE_NAME}: demo newsroom ready."))
        for line in lines:
            self.stdout.write(f"  {line}")
        if not options["no_serve"]:
            if not options["no_worker"] and start_worker() is not None:
                self.stdout.write("  Background worker started (renewals, e-mail).")
            call_command("serve")
