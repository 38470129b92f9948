"""/healthz (the process answers, touches nothing) and /readyz (each check named, 200 or 503)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db.migrations.recorder import MigrationRecorder
from django.db.utils import ConnectionHandler
from django.utils import timezone

from masthead.core import worker
from masthead.core.models import WorkerHeartbeat
from masthead.core.worker import WorkerLoop
from tests.own_redis import free_port, own_redis  # noqa: F401

pytestmark = pytest.mark.django_db
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
NO_STORE = "max-age=0, no-cache, no-store, must-revalidate, private"


def statuses(response) -> dict[str, str]:
    return {name: check["status"] for name, check in response.json()["checks"].items()}


def errors(response) -> dict[str, str]:
    return {
        name: check["error"]
        for name, check in response.json()["checks"].items()
        if "error" in check
    }


@pytest.fixture
def queued(settings):
    """The database queue (production's default), with a worker that beat just now."""
    settings.TASKS = DATABASE_TASKS
    settings.READY_WORKER_SECONDS = 300
    WorkerHeartbeat.objects.create(worker_id="w1", seen_at=timezone.now())


def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == NO_STORE


def test_readyz_is_200_naming_every_check_when_all_pass(client, queued, settings):
    settings.REDIS_URL = ""  # the embedded default (the Redis check has its own test)
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response["Cache-Control"] == NO_STORE
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert statuses(response) == {
        "database": "ok",
        "migrations": "ok",
        "redis": "skipped",  # no REDIS_URL on the embedded default
        "queue_worker": "ok",
        "static_manifest": "ok",
    }
    timed = {
        name for name, check in body["checks"].items() if isinstance(check.get("seconds"), float)
    }
    assert timed == {"database", "migrations", "queue_worker", "static_manifest"}


def test_readyz_is_503_when_the_database_cannot_be_reached(client, queued, monkeypatch):
    port = free_port()  # nothing listens there
    unreachable = ConnectionHandler(
        {
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "HOST": "127.0.0.1",
                "PORT": port,
                "NAME": "nowhere",
                "USER": "postgres",
                "OPTIONS": {"connect_timeout": 1},
            }
        }
    )
    import health_check.checks

    from masthead.core.management.commands import serve

    monkeypatch.setattr(health_check.checks, "connections", unreachable)
    monkeypatch.setattr(serve, "connections", unreachable)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "fail"
    assert statuses(response)["database"] == "fail"
    assert statuses(response)["migrations"] == "fail"
    assert errors(response)["migrations"] == "database unreachable"
    unreachable.close_all()


def test_readyz_is_503_while_a_migration_is_not_applied(client, queued):
    MigrationRecorder.Migration.objects.filter(
        app="core", name="0006_worker_heartbeat_and_rate_counters"
    ).delete()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert statuses(response)["database"] == "ok"
    assert errors(response) == {
        "migrations": "1 migration(s) not applied (core.0006_worker_heartbeat_and_rate_counters)"
    }


def test_readyz_checks_redis_when_configured_and_fails_when_it_stops(
    client,
    queued,
    settings,
    own_redis,  # noqa: F811
):
    settings.REDIS_URL = own_redis.url
    assert client.get("/readyz").status_code == 200
    assert statuses(client.get("/readyz"))["redis"] == "ok"
    own_redis.stop()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert errors(response) == {"redis": "Redis unreachable (ConnectionError)"}


def test_readyz_is_503_with_no_worker_ever_seen_or_none_seen_recently(client, settings):
    settings.TASKS = DATABASE_TASKS
    settings.READY_WORKER_SECONDS = 300
    response = client.get("/readyz")
    assert response.status_code == 503
    assert errors(response) == {"queue_worker": "no queue worker has ever been seen"}
    WorkerHeartbeat.objects.create(worker_id="old", seen_at=timezone.now() - timedelta(seconds=301))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert errors(response)["queue_worker"].startswith("no queue worker seen for 301 s")
    WorkerHeartbeat.objects.create(worker_id="new", seen_at=timezone.now() - timedelta(seconds=299))
    assert client.get("/readyz").status_code == 200


def test_no_worker_is_needed_when_tasks_run_immediately(client):
    response = client.get("/readyz")  # the suite's immediate backend
    assert response.status_code == 200
    assert statuses(response)["queue_worker"] == "skipped"


@pytest.mark.django_db(transaction=True)  # the loop closes old connections, as in production
def test_the_worker_loop_records_its_heartbeat_at_most_every_fifteen_seconds(monkeypatch):
    loop = WorkerLoop(batch=True, scheduler=False, poll=0, worker_id="worker-a")
    assert loop.run() == 0
    first = WorkerHeartbeat.objects.get(worker_id="worker-a").seen_at
    assert timezone.now() - first < timedelta(seconds=5)
    loop.beat()  # within 15 s: not written again
    assert WorkerHeartbeat.objects.get(worker_id="worker-a").seen_at == first
    monkeypatch.setattr(worker, "HEARTBEAT_SECONDS", 0.0)
    loop.beat()
    assert WorkerHeartbeat.objects.get(worker_id="worker-a").seen_at > first
    assert WorkerHeartbeat.objects.count() == 1


def test_readyz_is_503_when_the_static_manifest_is_missing(client, queued, settings, tmp_path):
    settings.HASHED_STATIC = True
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    response = client.get("/readyz")
    assert response.status_code == 503
    assert errors(response) == {
        "static_manifest": "static manifest missing: run `masthead collectstatic`"
    }
    manifest = {"paths": {"masthead/site.css": "masthead/site.0123456789ab.css"}, "version": "1.1"}
    (tmp_path / "staticfiles.json").write_text(json.dumps(manifest))
    settings.STATIC_ROOT = str(tmp_path)  # a change of setting reloads the storage
    assert client.get("/readyz").status_code == 200
