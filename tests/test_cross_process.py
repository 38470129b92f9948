"""No per-process truth: the real server (`masthead serve`, granian, 2 workers) on this
suite's setup (the embedded default: SQLite, no Redis; or PostgreSQL+Redis), changed from
other processes (an editor, the jobs runner), serves 0 stale responses in 20 requests per
article one second later.

Every change narrows access: an article unpublished, one moved to subscribers-only, one
expired and unpublished by `masthead run-jobs`, the meter policy's anonymous allowance cut to
0, and the campaign that opened a subscribers-only article ended.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.own_redis import free_port

REPO = Path(__file__).resolve().parent.parent
MASTHEAD = str(Path(sys.executable).with_name("masthead"))
SETUP = (
    ("postgres+redis" if settings.REDIS_URL else "postgres")
    if settings.USING_POSTGRES
    else "sqlite"
)
WORKERS = 2
REQUESTS = 20

pytestmark = [pytest.mark.django_db(transaction=True)]


BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"


def fetch(url: str) -> tuple[int, str]:
    """A fresh reader's browser: no cookie (urllib's own User-Agent is a machine's)."""
    request = urllib.request.Request(url, headers={"User-Agent": BROWSER})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture(scope="session")
def static_root(tmp_path_factory) -> Path:
    """Hashed static files collected once (the server is started with --no-collectstatic)."""
    root = tmp_path_factory.mktemp("static")
    env = {**os.environ, "MASTHEAD_HASHED_STATIC": "true", "STATIC_ROOT": str(root)}
    subprocess.run([MASTHEAD, "collectstatic", "--noinput", "-v0"], env=env, check=True)
    return root


@pytest.fixture
def server_env(tmp_path, static_root) -> Iterator[dict[str, str]]:
    """The environment of every process of the site: the server, the editor, the jobs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MASTHEAD_", "DJANGO"))}
    env.update(
        MASTHEAD_VAR_DIR=str(tmp_path),
        STATIC_ROOT=str(static_root),
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(REPO / "src"),  # this checkout's code, not the editable install's
        DJANGO_SETTINGS_MODULE="masthead.settings",
    )
    prefix = f"e2e-{uuid.uuid4().hex[:8]}"
    if SETUP == "sqlite":
        # This suite's test database is in memory and migrated: copy it to a file.
        database = tmp_path / "site.sqlite3"
        connection.ensure_connection()
        with sqlite3.connect(database) as target:
            connection.connection.backup(target)
        env.pop("REDIS_URL", None)
        env["DATABASE_URL"] = f"sqlite:///{database}"
    else:
        name = connection.settings_dict["NAME"]
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{name}"
        if settings.REDIS_URL:
            env["REDIS_URL"] = settings.REDIS_URL
            env["MASTHEAD_REDIS_PREFIX"] = prefix
    yield env
    if settings.REDIS_URL and SETUP == "postgres+redis":
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        for key in client.scan_iter(match=f"{prefix}:*"):
            client.delete(key)


def run(env: dict[str, str], *argv: str) -> str:
    done = subprocess.run(
        argv, env=env, cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture
def site(server_env, tmp_path) -> Iterator[str]:
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    argv = [MASTHEAD, "serve", "--port", str(port), "--workers", str(WORKERS), "--no-collectstatic"]
    server = subprocess.Popen(argv, env=server_env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            if server.poll() is not None:
                pytest.fail((tmp_path / "serve.log").read_text()[-3000:])
            try:
                urllib.request.urlopen(f"{base}/robots.txt", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
        yield base
    finally:
        server.terminate()  # granian stops its workers
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.mark.parametrize("setup", [SETUP])
def test_no_worker_serves_what_another_process_narrowed(setup, server_env, site):
    urls = json.loads(run(server_env, sys.executable, "-m", "tests.e2e_editor", "seed"))
    last = {name: f"{name.title()} 5 of the body" for name in urls}
    # Every worker renders, remembers the routes and keeps the page shells.
    for _ in range(REQUESTS):
        for name, path in urls.items():
            status, html = fetch(site + path)
            assert status == 200 and last[name] in html, (name, status)
    for _ in range(REQUESTS):
        assert "ai-train=no" in fetch(site + "/robots.txt")[1]

    run(server_env, sys.executable, "-m", "tests.e2e_editor", "narrow")
    # The jobs runner as production runs it: the scheduler enqueues what is due, a worker runs it.
    run(server_env, MASTHEAD, "run-jobs")
    run(server_env, MASTHEAD, "worker", "--batch", "--max-seconds", "120")
    time.sleep(1)

    stale: dict[str, int] = {}
    statuses: dict[str, set[int]] = {}
    for name, path in urls.items():
        answers = [fetch(site + path) for _ in range(REQUESTS)]
        statuses[name] = {status for status, _ in answers}
        stale[name] = sum(1 for status, html in answers if status == 200 and last[name] in html)
    assert stale == dict.fromkeys(urls, 0)
    # The machine policy's save: robots.txt, kept under the site generation, on every worker.
    robots = [fetch(site + "/robots.txt")[1] for _ in range(REQUESTS)]
    assert all("Content-Signal: search=yes, ai-input=no, ai-train=yes" in text for text in robots)
    assert statuses["unpublished"] == {404} and statuses["expiring"] == {404}
    assert statuses["stricter"] == statuses["policy"] == statuses["campaign"] == {200}
