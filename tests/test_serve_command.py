"""`masthead serve`: what it hands to granian, what it refuses, and the real thing end to end."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from masthead.core.management.commands import serve

LONG_SECRET = "s" * 50
# serve checks the database's migrations and closes its connections before handing over.
reaches_the_database = pytest.mark.django_db(transaction=True)


class Launch:
    """Records what serve would run instead of running it."""

    def __init__(self, collect_returncode: int = 0) -> None:
        self.collect_returncode = collect_returncode
        self.collected: list[tuple[list[str], dict[str, str]]] = []
        self.exec: tuple[str, list[str], dict[str, str]] | None = None

    def run(self, argv: list[str], *, env: dict[str, str], check: bool) -> Any:
        self.collected.append((argv, env))
        return subprocess.CompletedProcess(argv, self.collect_returncode)

    def execve(self, path: str, argv: list[str], env: dict[str, str]) -> None:
        self.exec = (path, argv, env)


@pytest.fixture
def launch(monkeypatch: pytest.MonkeyPatch) -> Launch:
    recorder = Launch()
    monkeypatch.setattr(serve.subprocess, "run", recorder.run)
    monkeypatch.setattr(serve.os, "execve", recorder.execve)
    for name in ("HOST", "PORT", "WEB_CONCURRENCY"):
        monkeypatch.delenv(name, raising=False)
    return recorder


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


@reaches_the_database
def test_serve_hands_over_to_granian_wsgi_with_debug_off_and_hashed_static(launch, settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]

    call_command("serve", "--host", "127.0.0.1", "--port", "8123", "--workers", "3")

    assert launch.exec is not None
    path, argv, env = launch.exec
    assert path == sys.executable
    assert argv[:3] == [sys.executable, "-m", "granian"]
    assert option(argv, "--interface") == "wsgi"
    assert option(argv, "--host") == "127.0.0.1"
    assert option(argv, "--port") == "8123"
    assert option(argv, "--workers") == "3"
    assert argv[-1] == "masthead.wsgi:application"
    assert env["DEBUG"] == "false"
    assert env["MASTHEAD_HASHED_STATIC"] == "true"
    # Static files are collected first, by a child that sees the server's settings.
    [(collect_argv, collect_env)] = launch.collected
    assert collect_argv == [
        sys.executable,
        "-m",
        "masthead.cli",
        "collectstatic",
        "--noinput",
        "-v0",
    ]
    assert collect_env["MASTHEAD_HASHED_STATIC"] == "true"


@reaches_the_database
def test_serve_reads_port_and_workers_from_the_environment(launch, settings, monkeypatch):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    monkeypatch.setenv("PORT", "9001")
    monkeypatch.setenv("WEB_CONCURRENCY", "5")

    call_command("serve", "--no-collectstatic")

    assert launch.exec is not None
    assert option(launch.exec[1], "--port") == "9001"
    assert option(launch.exec[1], "--workers") == "5"
    assert launch.collected == []


def test_default_workers_is_one_per_core_and_at_least_two(monkeypatch):
    monkeypatch.setattr(serve.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    assert serve.default_workers() == 4
    monkeypatch.setattr(serve.os, "sched_getaffinity", lambda pid: {0})
    assert serve.default_workers() == 2


def test_serve_refuses_empty_allowed_hosts_instead_of_answering_400(launch, settings):
    settings.ALLOWED_HOSTS = []

    with pytest.raises(CommandError, match="ALLOWED_HOSTS is empty"):
        call_command("serve")

    assert launch.exec is None
    assert launch.collected == []


def test_serve_in_production_refuses_the_demo_secret_key(launch, settings):
    settings.PRODUCTION = True
    settings.DEMO_CLOCK_ENABLED = False
    settings.ALLOWED_HOSTS = ["news.example.org"]
    settings.SECRET_KEY = settings.DEFAULT_SECRET_KEY

    with pytest.raises(CommandError, match="SECRET_KEY is the demo default"):
        call_command("serve")

    assert launch.exec is None


@reaches_the_database
def test_serve_in_production_starts_with_a_safe_configuration_even_if_debug_was_asked(
    launch, settings
):
    settings.PRODUCTION = True
    settings.DEMO_CLOCK_ENABLED = False
    settings.ALLOWED_HOSTS = ["news.example.org"]
    settings.SECRET_KEY = LONG_SECRET
    settings.DEBUG = True  # serve turns it off for the server, so it is no reason to refuse
    # What else `masthead check` asks of production (tests/core/test_check.py).
    settings.PAYMENT_PROVIDER, settings.STRIPE_WEBHOOK_SECRET = "stripe", "whsec_x"
    settings.STRIPE_SECRET_KEY, settings.STRIPE_PUBLISHABLE_KEY = "sk_live_x", "pk_live_x"
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.TASKS_BACKEND = "database"
    settings.WEB_CONCURRENCY, settings.APP_INSTANCES = 1, 1  # SQLite: one process

    call_command("serve", "--host", "0.0.0.0", "--workers", "1")

    assert launch.exec is not None
    assert launch.exec[2]["DEBUG"] == "false"


def test_serve_reports_a_bad_port_as_a_usage_error(launch, settings, monkeypatch):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    monkeypatch.setenv("PORT", "eighty")

    with pytest.raises(CommandError, match="invalid int value: 'eighty'"):
        call_command("serve")
    with pytest.raises(CommandError, match="between 1 and 65535"):
        call_command("serve", "--port", "70000")

    assert launch.exec is None


@reaches_the_database
def test_failed_collectstatic_stops_before_serving(settings, monkeypatch):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    recorder = Launch(collect_returncode=1)
    monkeypatch.setattr(serve.subprocess, "run", recorder.run)
    monkeypatch.setattr(serve.os, "execve", recorder.execve)

    with pytest.raises(CommandError, match="collectstatic failed"):
        call_command("serve")

    assert recorder.exec is None


def get(url: str, host: str | None = None) -> tuple[int, Message]:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, answer.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def masthead(*arguments: str, env: dict[str, str], **popen: Any) -> subprocess.Popen[bytes]:
    executable = str(Path(sys.executable).parent / "masthead")
    return subprocess.Popen(
        [executable, *arguments],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        **popen,
    )


def site_environment(var_dir: Path, **overrides: str) -> dict[str, str]:
    """A fresh SQLite site under var_dir, whatever database the test run itself uses."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "MASTHEAD_HASHED_STATIC"}
    }
    env.update(MASTHEAD_VAR_DIR=str(var_dir), SECRET_KEY=LONG_SECRET, ALLOWED_HOSTS="127.0.0.1")
    env.update(overrides)
    return env


def finished(process: subprocess.Popen[bytes], timeout: float = 120) -> tuple[int, str]:
    output, _ = process.communicate(timeout=timeout)
    return process.returncode, output.decode(errors="replace")


def test_serve_refuses_a_database_it_cannot_open(tmp_path: Path):
    env = site_environment(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/missing/db.sqlite3")

    returncode, output = finished(masthead("serve", "--port", str(free_port()), env=env))

    assert returncode == 1
    assert "Cannot use the database" in output
    assert "unable to open database file" in output
    assert "Traceback" not in output
    assert not (tmp_path / "static").exists()  # refused before collecting anything


def test_serve_refuses_a_database_without_migrations(tmp_path: Path):
    returncode, output = finished(
        masthead("serve", "--port", str(free_port()), env=site_environment(tmp_path))
    )

    assert returncode == 1
    assert "migrations" in output
    assert "Run `masthead migrate` first." in output
    assert "Traceback" not in output


def test_masthead_serve_serves_hashed_immutable_static_and_stops_on_ctrl_c(tmp_path: Path):
    env = site_environment(tmp_path)
    assert finished(masthead("migrate", "--no-input", env=env))[0] == 0
    port = free_port()
    server = masthead("serve", "--port", str(port), "--workers", "1", env=env)
    try:
        manifest = json.loads(wait_for_manifest(tmp_path, server).read_text())
        hashed = manifest["paths"]["masthead/site.css"]
        assert hashed != "masthead/site.css"
        base = f"http://127.0.0.1:{port}"
        status, headers = wait_for(lambda: get(f"{base}/static/{hashed}"), server)

        assert status == 200
        assert headers["Cache-Control"] == "max-age=315360000, public, immutable"
        status, headers = get(f"{base}/static/masthead/site.css")
        assert status == 200
        assert "immutable" not in headers["Cache-Control"]
        # A page for another host is refused with one log line, not a traceback.
        status, _ = get(f"{base}/", host="elsewhere.example")
        assert status == 400

        server.send_signal(signal.SIGINT)
        returncode, output = finished(server, timeout=30)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    assert returncode == 0
    assert "Invalid HTTP_HOST header: 'elsewhere.example'" in output
    assert "Traceback" not in output


def wait_for_manifest(var_dir: Path, server: subprocess.Popen[bytes]) -> Path:
    manifest = var_dir / "static" / "staticfiles.json"
    wait_for(lambda: manifest.exists() or None, server)
    return manifest


def wait_for(probe: Any, server: subprocess.Popen[bytes], timeout: float = 180.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            output = server.stdout.read() if server.stdout else b""
            pytest.fail(f"masthead serve exited early:\n{output.decode(errors='replace')}")
        try:
            result = probe()
        except OSError:
            result = None
        if result:
            return result
        time.sleep(0.25)
    pytest.fail("masthead serve did not come up in time")
