"""Throughput of a free vs a metered article page for fresh anonymous readers.

Serves the demo newsroom with the production server (`masthead serve`: granian, DEBUG off) on
PostgreSQL and Redis, then loads each page with wrk (20 s, 32 connections, 127.0.0.1 only) and
prints requests/s, latency and the metered/free ratio (target: at least 0.90).

wrk sends no cookies, so every request is a reader the meter has never seen: the metered page
decides without asking the counter store and records the read with one Redis script call.

    .venv/bin/python bench/metered_vs_free.py
    DATABASE_URL=... REDIS_URL=... PORT=8765 .venv/bin/python bench/metered_vs_free.py
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MASTHEAD = str(ROOT / ".venv" / "bin" / "masthead")
DURATION, CONNECTIONS, THREADS = "20s", 32, 2
ENV = {
    **os.environ,
    "DATABASE_URL": os.environ.get(
        "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/masthead_bench_access"
    ),
    "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/12"),
    "MASTHEAD_REDIS_PREFIX": "masthead-bench-access",
    "MASTHEAD_DEMO_CLOCK": "false",  # production has no movable clock (and no lookup for it)
    "MASTHEAD_VAR_DIR": str(ROOT / "var" / "bench-access"),
    "LOG_LEVEL": "WARNING",
}
PORT = int(os.environ.get("PORT", "8765"))
PICK = """
from masthead.newsroom.models import ArticlePage
live = ArticlePage.objects.live().public().filter(sponsored=False)
free = live.filter(access_level="free").first()
# Compare like with like: the metered article whose body is closest in length to the free one.
metered = min(
    live.filter(access_level="metered"),
    key=lambda a: abs(len(str(a.body.raw_data)) - len(str(free.body.raw_data))),
)
print("PATHS", free.url, metered.url)
"""


def run(*args: str) -> str:
    return subprocess.run(args, env=ENV, check=True, capture_output=True, text=True).stdout


def create_database() -> None:
    import psycopg

    url = ENV["DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def wait_until_up(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the server did not answer {url} within {seconds:.0f} s")


def load(url: str) -> dict[str, str]:
    out = subprocess.run(
        ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figures = {
        "rps": re.search(r"Requests/sec:\s+([\d.]+)", out)[1],  # type: ignore[index]
        "p50": re.search(r"50%\s+(\S+)", out)[1],  # type: ignore[index]
        "p99": re.search(r"99%\s+(\S+)", out)[1],  # type: ignore[index]
    }
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    figures["errors"] = errors[1] if errors else "0"
    return figures


def main() -> None:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    create_database()
    run(MASTHEAD, "demo", "--no-serve")
    picked = run(MASTHEAD, "shell", "-c", PICK).split("PATHS", 1)[1].split()
    free_path, metered_path = picked[0], picked[1]
    server = subprocess.Popen(
        [MASTHEAD, "serve", "--host", "127.0.0.1", "--port", str(PORT)],
        env=ENV,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{PORT}"
    try:
        wait_until_up(base + free_path)
        for path in (free_path, metered_path):  # warm the fragment cache and the workers
            urllib.request.urlopen(base + path, timeout=5).read()
        results = {
            name: load(base + path)
            for name, path in [("free", free_path), ("metered", metered_path)]
        }
    finally:
        os.killpg(server.pid, signal.SIGINT)
        server.wait(timeout=30)
    print(f"masthead serve on PostgreSQL + Redis, wrk {DURATION} x {CONNECTIONS} connections")
    print(f"{'page':<10}{'requests/s':>12}{'p50':>10}{'p99':>10}{'non-2xx':>10}  path")
    for name, path in [("free", free_path), ("metered", metered_path)]:
        r = results[name]
        print(f"{name:<10}{r['rps']:>12}{r['p50']:>10}{r['p99']:>10}{r['errors']:>10}  {path}")
    ratio = float(results["metered"]["rps"]) / float(results["free"]["rps"])
    verdict = "meets" if ratio >= 0.9 else "misses"
    print(f"metered / free = {ratio:.2f} ({verdict} the 0.90 target)")


if __name__ == "__main__":
    sys.exit(main())
