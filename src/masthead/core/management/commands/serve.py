"""`masthead serve`: the production server (granian, WSGI, one worker per core).

Static files are collected in a child process that reads the same environment as the server,
so the hashed manifest WhiteNoise serves from exists (collecting in this process would use
the settings it started with, which may not hash names). The command then replaces itself
with granian, so Ctrl-C and SIGTERM reach granian directly and it stops its workers.

It refuses to start, with the reason, rather than serve a site that would fail every request:
no allowed host, an unsafe production configuration, an unusable or unmigrated database.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.http.request import validate_host

from masthead.core.checks import payment_provider_known, production_configuration

# Production checks serve satisfies itself: it turns DEBUG off for the server (masthead.E001).
SATISFIED_BY_SERVE = {"masthead.E001"}
WILDCARD_BINDS = {"0.0.0.0", "::", ""}


def cpu_cores() -> int:
    """Cores this process may run on (respects CPU affinity, e.g. `taskset`)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def default_workers() -> int:
    # One worker per core; at least two so a slow request never holds up every reader.
    return max(2, cpu_cores())


def server_environment() -> dict[str, str]:
    # Metrics from every worker process are summed through one directory (core.metrics).
    metrics_dir = settings.METRICS_DIR or str(settings.VAR_DIR / "metrics")
    return {
        **os.environ,
        "MASTHEAD_HASHED_STATIC": "true",
        "DEBUG": "false",
        "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
    }


def empty_metrics_dir(path: str) -> None:
    """Start the counters of a new server at zero (prometheus_client's multiprocess rule)."""
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.remove(os.path.join(path, name))


def granian_argv(*, host: str, port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--blocking-threads",
        "1",
        "--no-ws",
        "--respawn-failed-workers",
        "--workers-kill-timeout",
        "10",
        "--log-level",
        "warning",
        "masthead.wsgi:application",
    ]


def configuration_problems(workers: int | None = None) -> list[str]:
    """Why this configuration cannot serve readers; empty when it can."""
    unknown_provider = [f"{e.msg} {e.hint}" for e in payment_provider_known(None)]
    if unknown_provider:
        return unknown_provider
    if settings.PRODUCTION:
        return [
            f"{error.msg} {error.hint or ''}".strip()
            for error in production_configuration(None, web_workers=workers)
            if error.id not in SATISFIED_BY_SERVE
        ]
    if not settings.ALLOWED_HOSTS:
        return [
            "ALLOWED_HOSTS is empty, so with DEBUG off every request would get 400 Bad Request. "
            "Set ALLOWED_HOSTS to the site's host names, e.g. ALLOWED_HOSTS=news.example.org."
        ]
    return []


def unapplied_migrations() -> list[str]:
    """Migrations the database still lacks; raises DatabaseError when it cannot be used."""
    # Every migration of the graph that is not recorded, not only those a plan to the leaves
    # would run: a plan skips an app whose newest migration is recorded, so a lost record of
    # an earlier one (a restore, a hand-made fix) would pass unnoticed.
    loader = MigrationExecutor(connections[DEFAULT_DB_ALIAS]).loader
    applied = loader.applied_migrations or {}
    missing = [key for key in loader.graph.nodes if key not in applied]
    order = {key: index for index, key in enumerate(_in_order(loader.graph))}
    return [f"{app}.{name}" for app, name in sorted(missing, key=lambda key: order[key])]


def _in_order(graph: Any) -> list[tuple[str, str]]:
    """The graph's migrations, each after those it depends on."""
    ordered: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for leaf in sorted(graph.leaf_nodes()):
        for key in graph.forwards_plan(leaf):
            if key not in seen:
                seen.add(key)
                ordered.append(key)
    return ordered


def database_problems() -> list[str]:
    """Why the database would make every page fail; empty when it is ready."""
    try:
        pending = unapplied_migrations()
    except DatabaseError as error:
        return [f"Cannot use the database ({settings.DATABASES['default']['NAME']}): {error}"]
    if pending:
        return [
            f"The database lacks {len(pending)} migrations (the first is {pending[0]}). "
            "Run `masthead migrate` first."
        ]
    return []


class Command(BaseCommand):
    help = "Run the production server (granian, WSGI) with hashed static files and DEBUG off."

    def add_arguments(self, parser: CommandParser) -> None:
        # String defaults go through `type`, so a bad PORT is a usage error, not a traceback.
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=os.environ.get("PORT", "8000"))
        parser.add_argument(
            "--workers",
            type=int,
            default=os.environ.get("WEB_CONCURRENCY", str(default_workers())),
            help="Worker processes (WEB_CONCURRENCY; default: one per core, at least 2).",
        )
        parser.add_argument(
            "--no-collectstatic",
            action="store_true",
            help="Serve the static files already collected in STATIC_ROOT.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host, port, workers = options["host"], options["port"], options["workers"]
        if not 0 < port < 65536:
            raise CommandError(f"--port must be between 1 and 65535, got {port}.")
        if workers < 1:
            raise CommandError(f"--workers must be at least 1, got {workers}.")
        problems = configuration_problems(workers) or database_problems()
        if problems:
            raise CommandError("Refusing to serve:\n  " + "\n  ".join(problems))
        if host in WILDCARD_BINDS:
            self.stderr.write(
                f"Note: listening on every interface; requests for hosts other than "
                f"ALLOWED_HOSTS ({', '.join(settings.ALLOWED_HOSTS)}) get 400 Bad Request."
            )
        elif not validate_host(host, settings.ALLOWED_HOSTS):
            self.stderr.write(
                f"Note: {host} is not in ALLOWED_HOSTS ({', '.join(settings.ALLOWED_HOSTS)}); "
                f"requests to http://{host}:{port} will get 400 unless a proxy sets the Host."
            )

        env = server_environment()
        if not options["no_collectstatic"]:
            self.stdout.write(f"Collecting static files into {settings.STATIC_ROOT} ...")
            self.stdout.flush()
            collected = subprocess.run(
                [sys.executable, "-m", "masthead.cli", "collectstatic", "--noinput", "-v0"],
                env=env,
                check=False,
            )
            if collected.returncode != 0:
                raise CommandError("collectstatic failed (see above); not starting the server.")

        self.stdout.write(f"Serving on http://{host}:{port} with {workers} workers (Ctrl-C stops)")
        self.stdout.flush()
        sys.stderr.flush()
        empty_metrics_dir(env["PROMETHEUS_MULTIPROC_DIR"])
        connections.close_all()  # granian's workers open their own
        os.execve(sys.executable, granian_argv(host=host, port=port, workers=workers), env)
