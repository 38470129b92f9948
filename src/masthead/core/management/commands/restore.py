"""`masthead restore ARCHIVE`: database and media from a `masthead backup` archive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from masthead.core import backup


class Command(BaseCommand):
    help = (
        "Restore the database and media from a backup archive. Checks the archive against its "
        "manifest first; refuses a database that has tables unless --force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path)
        parser.add_argument(
            "--force",
            action="store_true",
            help="Replace what the database (and media storage) holds. Everything in it is lost.",
        )
        parser.add_argument("--no-media", action="store_true", help="Restore the database only.")
        parser.add_argument(
            "--check", action="store_true", help="Only verify the archive; change nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["archive"]
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        try:
            if options["check"]:
                with backup.unpacked(path) as verified:
                    backup.check_restorable(verified.manifest, force=True)
                manifest = verified.manifest
                verb = "verified"
            else:
                manifest = backup.restore(
                    path, force=options["force"], media=not options["no_media"]
                )
                verb = "restored"
        except backup.BackupError as error:
            raise CommandError(str(error)) from error
        content = manifest["content"]
        self.stdout.write(
            f"Backup of {manifest['created_at']} {verb}: {content['articles']['count']} articles, "
            f"{content['readers']['count']} readers, {content['subscriptions']['count']} "
            f"subscriptions, {content['ledger']['count']} ledger entries, "
            f"{manifest['media']['files']} media files."
        )
