"""`masthead export_openapi`: write docs/openapi.json; `--check` fails if it has drifted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from masthead.api.api import api


def openapi_document() -> str:
    """The schema as committed: sorted keys and a trailing newline, so diffs stay small."""
    schema = api.get_openapi_schema(path_prefix="/api/v1/")
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class Command(BaseCommand):
    help = "Write the apps API's OpenAPI document (docs/openapi.json), or check it is current."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="Write nothing; exit 1 if the committed document differs from the code.",
        )
        parser.add_argument(
            "--output",
            default=str(settings.BASE_DIR / "docs" / "openapi.json"),
            help="Where the document lives (default: docs/openapi.json).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["output"])
        document = openapi_document()
        if options["check"]:
            committed = path.read_text(encoding="utf-8") if path.exists() else ""
            if committed != document:
                raise CommandError(
                    f"{path} is out of date with the API: run `masthead export_openapi`.",
                    returncode=1,
                )
            self.stdout.write(f"{path} is up to date.")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(document, encoding="utf-8")
        self.stdout.write(f"Wrote {path}.")
