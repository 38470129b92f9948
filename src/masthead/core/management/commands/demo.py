"""`masthead demo`: migrate, load the demo newsroom (idempotent), print logins, serve."""

from __future__ import annotations

import importlib
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


class Command(BaseCommand):
    help = "Set up the demo newsroom and serve it (HOST and PORT override 127.0.0.1:8000)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-serve", action="store_true", help="Set up only; do not serve.")

    def handle(self, *args: Any, **options: Any) -> None:
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        lines = load_demo_content()
        self.stdout.write(self.style.SUCCESS(f"{settings.SITE_NAME}: demo newsroom ready."))
        for line in lines:
            self.stdout.write(f"  {line}")
        if not options["no_serve"]:
            call_command("serve")
