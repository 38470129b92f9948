"""The `masthead` command.

masthead demo            set up the demo newsroom and serve it at http://127.0.0.1:8000
masthead serve           the production server (granian, several workers, DEBUG off)
masthead check           refuse unsafe production configuration
masthead worker          run background tasks and the scheduler (docs/jobs.md)
masthead health          exit 1 while a task has failed or e-mail cannot be delivered
masthead backup          one archive: database, media, manifest (docs/operations.md)
masthead restore FILE    restore it into an empty database (--force to replace)
masthead run-jobs        enqueue the scheduled work that is due (--inline: run it here)
masthead clock advance 31d   move the demo clock
masthead paywall-audit   walk every door and fail on a leak
masthead <django command> anything manage.py knows (migrate, createsuperuser, ...)
"""

from __future__ import annotations

import os
import sys

ALIASES = {"check": ["check", "--deploy"]}


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "masthead.settings")
    if not args or args[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return
    command, rest = args[0], args[1:]
    command_argv = ALIASES.get(command, [command.replace("-", "_")]) + rest
    from django.core.management import execute_from_command_line

    execute_from_command_line(["masthead", *command_argv])


if __name__ == "__main__":
    main()
