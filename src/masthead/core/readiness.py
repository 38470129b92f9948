"""/healthz and /readyz for load balancers and orchestrators, with django-health-check.

/healthz says the process answers and touches nothing (no database, no Redis). /readyz runs
the checks below (django-health-check's `Database`, and ours written as its plugins) and
answers 200 when all pass, 503 otherwise, with a JSON body naming each check and its status.
Both are never cached and never rate-limited. The older /-/health (failed tasks, stuck
e-mail) stays what `masthead health` reports.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import timedelta
from typing import Any

import redis
from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from health_check.base import HealthCheck
from health_check.checks import Database
from health_check.exceptions import HealthCheckException, ServiceUnavailable

MANIFEST_PROBE = "masthead/site.css"


@dataclasses.dataclass
class Migrations(HealthCheck):
    """Every migration this code ships is applied."""

    def run(self) -> None:
        from masthead.core.management.commands.serve import unapplied_migrations

        try:
            pending = unapplied_migrations()
        except DatabaseError as error:
            raise ServiceUnavailable("database unreachable") from error
        if pending:
            raise ServiceUnavailable(f"{len(pending)} migration(s) not applied ({pending[0]})")


@dataclasses.dataclass
class RedisPing(HealthCheck):
    """Redis answers, when the site is configured to use it (skipped otherwise)."""

    timeout = timedelta(seconds=1)

    def run(self) -> None:
        client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_timeout=settings.REDIS_TIMEOUT,
            socket_connect_timeout=settings.REDIS_TIMEOUT,
        )
        try:
            client.ping()
        except redis.RedisError as error:
            raise ServiceUnavailable(f"Redis unreachable ({type(error).__name__})") from error
        finally:
            client.close()


@dataclasses.dataclass
class QueueWorker(HealthCheck):
    """A queue worker went round its loop within READY_WORKER_SECONDS."""

    def run(self) -> None:
        from masthead.core.models import WorkerHeartbeat

        window = timedelta(seconds=settings.READY_WORKER_SECONDS)
        try:
            latest = WorkerHeartbeat.objects.order_by("-seen_at").first()
        except DatabaseError as error:
            raise ServiceUnavailable("database unreachable") from error
        if latest is None:
            raise ServiceUnavailable("no queue worker has ever been seen")
        age = timezone.now() - latest.seen_at
        if age > window:
            raise ServiceUnavailable(
                f"no queue worker seen for {int(age.total_seconds())} s "
                f"(limit {settings.READY_WORKER_SECONDS} s)"
            )


@dataclasses.dataclass
class StaticManifest(HealthCheck):
    """With hashed static files, the manifest exists and names the site's stylesheet."""

    def run(self) -> None:
        if not settings.HASHED_STATIC:
            return  # static files come from the finders: nothing to collect
        try:
            staticfiles_storage.url(MANIFEST_PROBE)
        except (ValueError, OSError) as error:
            raise ServiceUnavailable("static manifest missing: run `masthead collectstatic`") from (
                error
            )


def checks() -> dict[str, HealthCheck | None]:
    """Each readiness check by name; None for a check this configuration does not need."""
    immediate = "ImmediateBackend" in settings.TASKS["default"]["BACKEND"]
    return {
        "database": Database(),
        "migrations": Migrations(),
        "redis": RedisPing() if settings.REDIS_URL else None,
        "queue_worker": None if immediate else QueueWorker(),
        "static_manifest": StaticManifest(),
    }


def run_checks() -> tuple[bool, dict[str, dict[str, Any]]]:
    results: dict[str, dict[str, Any]] = {}
    ok = True
    for name, check in checks().items():
        if check is None:
            results[name] = {"status": "skipped"}
            continue
        started = time.perf_counter()
        try:
            check.run()
        except HealthCheckException as error:
            ok = False
            results[name] = {"status": "fail", "error": error.message}
        except Exception as error:  # a check that breaks is a failed check, never a 500
            ok = False
            results[name] = {"status": "fail", "error": type(error).__name__}
        else:
            results[name] = {"status": "ok"}
        results[name]["seconds"] = round(time.perf_counter() - started, 4)
    return ok, results


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The process answers. Touches no store, so a database outage does not restart it."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    ok, results = run_checks()
    return JsonResponse(
        {"status": "ok" if ok else "fail", "checks": results}, status=200 if ok else 503
    )
