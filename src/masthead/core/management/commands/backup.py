"""`masthead backup`: one archive with the database, the media and a manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.timezone import now as site_now

from masthead.core import backup


class Command(BaseCommand):
    help = (
        "Write one backup archive (database through pg_dump or SQLite's online backup, every "
        "media file, a manifest with versions, migrations, counts and checksums)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", type=Path, help="The archive's path (a .tar.gz file).")
        parser.add_argument(
            "--output-dir",
            type=Path,
            help="Write masthead-<UTC time>.tar.gz into this folder (default: var/backups).",
        )
        parser.add_argument(
            "--keep", type=int, default=0, help="With --output-dir: keep only the newest N."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from django.conf import settings

        moment = site_now()
        if options["output"]:
            output = options["output"]
        else:
            folder = options["output_dir"] or settings.VAR_DIR / "backups"
            output = folder / backup.default_name(moment)
        try:
            result = backup.backup(output, now=moment)
        except backup.BackupError as error:
            raise CommandError(str(error)) from error
        manifest = result.manifest
        content = manifest["content"]
        self.stdout.write(
            f"Backup written to {result.path} ({result.path.stat().st_size} bytes): "
            f"{manifest['database']['vendor']}, {len(manifest['migrations'])} migrations, "
            f"{content['articles']['count']} articles, {content['readers']['count']} readers, "
            f"{content['subscriptions']['count']} subscriptions, "
            f"{content['ledger']['count']} ledger entries, "
            f"{manifest['media']['files']} media files."
        )
        if options["keep"] and not options["output"]:
            for path in backup.prune(output.parent, options["keep"]):
                self.stdout.write(f"Deleted the older backup {path}")
