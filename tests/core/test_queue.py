"""The job queue on the embedded default (django-tasks-db) and on Redis (RQ): retries with
backoff while other tasks run, final failures visible to staff and in the exit status."""

from __future__ import annotations

import itertools
import shutil
import socket
import subprocess
import time
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from masthead.core import health
from masthead.core.models import TaskFailure
from masthead.core.tasks import backoff_delay, retry_base
from masthead.core.worker import WorkerLoop
from tests.core import support_tasks as t

BASE = 0.4  # seconds: the first retry waits 0.4 s, the second 0.8 s, the third 1.6 s
DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
RQ = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def own_redis():
    """A Redis of this test's own on a free port, stopped by its PID afterwards."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed on this machine")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)


@pytest.fixture(params=["database", "redis"])
def backend(request: Any, settings: Any) -> str:
    settings.TASK_RETRY_BASE_SECONDS = BASE
    if request.param == "database":
        settings.TASKS = DATABASE
    else:
        url = request.getfixturevalue("own_redis")
        settings.RQ_QUEUES = {"default": {"URL": url}}
        settings.TASKS = RQ
    return str(request.param)


def drain(max_seconds: float = 30) -> int:
    return WorkerLoop(
        batch=True, scheduler=False, poll=0.05, max_seconds=max_seconds, forking=False
    ).run()


def test_backoff_doubles_from_the_base_up_to_an_hour():
    base = timedelta(seconds=30)
    assert [backoff_delay(n, base).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff_delay(20, base) == timedelta(hours=1)


@pytest.mark.django_db(transaction=True)
def test_a_failing_task_is_retried_with_backoff_while_others_run(backend):
    assert retry_base() == timedelta(seconds=BASE)
    t.flaky.enqueue("flaky", 2)
    for n in range(3):
        t.steady.enqueue(f"steady-{n}")

    assert drain() == 0

    attempts = t.calls("flaky")
    assert len(attempts) == 3  # failed twice, then succeeded
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(attempts)]
    assert gaps[0] >= BASE and gaps[1] >= 2 * BASE, gaps
    # The other tasks did not wait for the failing one's retries.
    for n in range(3):
        (ran,) = t.calls(f"steady-{n}")
        assert ran < attempts[1]
    assert TaskFailure.objects.count() == 0
    assert health.problems() == []


@pytest.mark.django_db(transaction=True)
def test_a_task_failing_every_attempt_is_recorded_for_staff_and_fails_the_worker(backend):
    t.always_fails.enqueue("broken")
    t.steady.enqueue("fine")

    assert drain() == 1

    assert len(t.calls("broken")) == 3
    assert len(t.calls("fine")) == 1
    failure = TaskFailure.objects.get()
    assert failure.task_path == "tests.core.support_tasks.always_fails"
    assert (failure.args, failure.attempts) == (["broken"], 3)
    assert failure.error == "ValueError: broken: bad data"
    assert "raise ValueError" in failure.traceback
    (problem,) = health.problems()
    assert problem.startswith("1 failed task(s) unresolved; latest tests.core.support_tasks")
    with pytest.raises(CommandError, match="1 failed task"):
        call_command("health")


@pytest.mark.django_db(transaction=True)
def test_the_worker_command_exits_non_zero_after_a_final_failure(settings):
    settings.TASK_RETRY_BASE_SECONDS = 0.05
    settings.TASKS = DATABASE
    t.always_fails.enqueue("broken")
    with pytest.raises(CommandError, match=r"1 task\(s\) failed for good"):
        call_command("worker", "--batch", "--no-scheduler", "--verbosity", "0")
    t.steady.enqueue("fine")
    call_command("worker", "--batch", "--no-scheduler", "--verbosity", "0")  # nothing new failed


@pytest.mark.django_db(transaction=True)
def test_staff_retry_enqueues_the_failed_task_again_and_resolves_it(settings):
    from masthead.core.tasks import retry_failure

    settings.TASK_RETRY_BASE_SECONDS = 0.05
    settings.TASKS = DATABASE
    t.flaky.enqueue("late", 4)
    drain()
    failure = TaskFailure.objects.get()
    assert failure.attempts == 4 and len(t.calls("late")) == 4

    retry_failure(failure, by="staff@example.com")
    drain()

    failure.refresh_from_db()
    assert failure.resolution == "retried by staff@example.com"
    assert len(t.calls("late")) == 5  # the fifth call succeeds
    assert health.problems() == []


@pytest.mark.django_db
def test_the_worker_refuses_the_immediate_backend():
    with pytest.raises(CommandError, match="nothing for a worker to do"):
        call_command("worker", "--batch")
