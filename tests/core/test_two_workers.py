"""Scheduled work run once by two workers: two `masthead worker --batch` processes start
together on one site (its own database, SQLite or PostgreSQL like the suite, and the database
or a Redis queue); every due renewal is enqueued once, charged once and receipted once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from masthead.core.jobs import enqueue_due_jobs, run_due_jobs
from masthead.core.models import ScheduledRun
from tests.core.test_queue import DATABASE, own_redis  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[2]


def _postgres_url(name: str) -> str:
    db = django_settings.DATABASES["default"]
    user, host, port = db.get("USER") or "postgres", db.get("HOST") or "127.0.0.1", db["PORT"]
    return f"postgres://{user}@{host}:{port or 5432}/{name}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: Any):
    """A migrated site of its own for the worker processes (they cannot see the test's
    transaction): a SQLite file, or a PostgreSQL database named after the test database."""
    home = tmp_path_factory.mktemp("workers-site")
    env = {
        **os.environ,
        "MASTHEAD_VAR_DIR": str(home),
        "MASTHEAD_TASK_RETRY_BASE_SECONDS": "0.2",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'src'}",
        "DJANGO_SETTINGS_MODULE": "masthead.settings",
    }
    env.pop("DATABASE_URL", None)
    dropdb = None
    if django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        import psycopg

        name = f"{django_settings.DATABASES['default']['NAME']}_workers_{os.getpid()}"
        admin = _postgres_url("postgres")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        env["DATABASE_URL"] = _postgres_url(name)

        def dropdb() -> None:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    subprocess.run(
        [sys.executable, "-m", "masthead.cli", "migrate", "-v0"], env=env, check=True, cwd=ROOT
    )
    yield env
    if dropdb:
        dropdb()


def script(env: dict[str, str], *args: str) -> Any:
    out = subprocess.run(
        [sys.executable, str(ROOT / "tests/core/site_script.py"), *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def two_workers(env: dict[str, str]) -> list[subprocess.CompletedProcess[str]]:
    argv = [sys.executable, "-m", "masthead.cli", "worker", "--batch", "--max-seconds", "90"]
    procs = [
        subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        results.append(subprocess.CompletedProcess(argv, proc.returncode, out, err))
    return results


@pytest.mark.parametrize("queue", ["database", "redis"])
def test_two_workers_run_each_due_renewal_once(site, queue, request):
    env = {**site, "MASTHEAD_TASKS_BACKEND": queue}
    if queue == "redis":
        env["MASTHEAD_TASKS_REDIS_URL"] = request.getfixturevalue("own_redis")
    pks = script(env, "setup", f"two-workers-{queue}")

    for result in two_workers(env):
        assert result.returncode == 0, result.stderr.decode()[-2000:]

    report = script(env, "report", json.dumps(pks))
    assert report["renewed"] == [1, 1, 1]
    assert report["charges"] == [2, 2, 2]  # the first period and one renewal each
    assert report["claims"] == [1, 1, 1]  # one enqueue per due renewal across both workers
    # Each reader got the first receipt and the renewal's, each sent exactly once.
    assert report["receipts"] == [[["sent", 1], ["sent", 1]]] * 3


@pytest.mark.django_db
def test_a_second_scheduler_tick_enqueues_nothing_already_enqueued(settings):
    settings.TASKS = DATABASE
    from tests.core.site_script import setup

    setup("tick", 2)
    now = timezone.now()
    first = enqueue_due_jobs(now)
    second = enqueue_due_jobs(now)
    assert first["subscriptions.lifecycle"] == 2
    assert second["subscriptions.lifecycle"] == 0
    assert second["core.prune_scheduled_runs"] == 0  # once per day-window
    assert ScheduledRun.objects.filter(job="subscriptions.lifecycle").count() == 2
    assert first.ok and second.ok


@pytest.mark.django_db
def test_one_failing_subscription_does_not_block_the_others(monkeypatch):
    from masthead.core.models import TaskFailure
    from masthead.subscriptions import actions
    from tests.core.site_script import setup

    pks = setup("isolated", 3)
    real_advance = actions.advance

    def advance(subscription: Any, *, now: Any) -> int:
        if subscription.pk == pks[1]:
            raise RuntimeError("corrupt row")
        return real_advance(subscription, now=now)

    monkeypatch.setattr(actions, "advance", advance)
    counts = run_due_jobs(timezone.now())

    assert counts["subscriptions.lifecycle"] == -1 and counts.failed == {
        "subscriptions.lifecycle": 1
    }
    from masthead.subscriptions.models import EventKind, SubscriptionEvent

    renewed = [
        SubscriptionEvent.objects.filter(subscription_id=pk, kind=EventKind.RENEWED).count()
        for pk in pks
    ]
    assert renewed == [1, 0, 1]
    failure = TaskFailure.objects.get()
    assert failure.args[:2] == ["subscriptions.lifecycle", str(pks[1])]
    assert failure.error == "RuntimeError: corrupt row"
