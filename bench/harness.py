"""Shared helpers for benchmarks that print figures (never tests: nothing here asserts a time).

- `free_port()`, `running(...)`: start a server process on a free 127.0.0.1 port, wait until it
  answers, and stop it (and everything it spawned) on exit, error or Ctrl-C.
- `wait_ready(url)`: poll a server until it is ready (`/healthz`, else the URL itself).
- `fetch(...)`: one raw GET on 127.0.0.1 that does not follow redirects.
- `run_wrk(...)`: load a URL with Debian's wrk (`--latency`) and parse requests/s, p50, p99,
  plus exact counts (requests, bytes, errors) from a Lua `done` hook.
- `warm_and_load(...)`: an unreported warm-up, then the measured wrk run and the load average.
- `bench_main(...)`: SIGTERM as Ctrl-C, and a failed step printed as what to do.
- `nginx_serving(...)`: nginx in the foreground with a temporary prefix, serving one file.
- `nginx_proxying(...)`: the same nginx in front of app servers, one front per upstream.
- `print_table(...)`: fixed-width rows.
- `masthead_environment(...)`, `prepare_site(...)`: a production configuration on 127.0.0.1,
  its own PostgreSQL database and Redis db, static files collected into the bench's own
  `STATIC_ROOT` before anything (the server or an in-process count) renders a page.
- `count_work(...)`: SQL queries and cache round trips one request costs, counted in-process
  on a warm cache with the same settings as the server.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

LOOPBACK = "127.0.0.1"


class BenchError(RuntimeError):
    """A benchmark step could not run; the message says what to do."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def require_tool(executable: str, debian_package: str) -> str:
    """The tool's path, installing the Debian package first when missing and we can."""
    found = shutil.which(executable) or shutil.which(executable, path="/usr/sbin:/usr/bin")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"Installing {debian_package} (apt-get) ...", flush=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", debian_package],
            check=False,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        found = shutil.which(executable) or shutil.which(executable, path="/usr/sbin:/usr/bin")
    if not found:
        raise BenchError(f"{executable} is missing: run `apt-get install -y {debian_package}`.")
    return found


def stop_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit so `with` blocks stop the servers, as on Ctrl-C."""

    def leave(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, leave)


@dataclass(frozen=True)
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


# What a reader's browser sends: a client without a User-Agent is a machine to the site
# (docs/machines.md) and would measure the 402, not the reader's page.
BROWSER_HEADERS = {
    "User-Agent": (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36"
    )
}


def fetch(
    port: int, path: str, *, timeout: float = 10.0, headers: Mapping[str, str] | None = None
) -> Response:
    """One GET on 127.0.0.1 (no cookies unless given in `headers`), not following redirects."""
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
    try:
        connection.request("GET", path, headers={**BROWSER_HEADERS, **(headers or {})})
        answer = connection.getresponse()
        return Response(answer.status, answer.getheaders(), answer.read())
    finally:
        connection.close()


READY_PATHS = ("/healthz",)


def wait_ready(
    url: str,
    *,
    timeout: float = 60.0,
    alive: Callable[[], bool] | None = None,
    describe: Callable[[], str] = lambda: "",
) -> Response:
    """Wait until the server at `url` is ready; return the answer that said so.

    Asks `/healthz` first; while the server has none (it answers 404) it asks `url` itself,
    and any answer below 500 will do. `alive` (the process is still running) makes a dead
    server fail at once instead of at the deadline.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.hostname != LOOPBACK or parts.port is None:
        raise BenchError(f"Refusing to wait for {url}: benchmarks stay on {LOOPBACK}.")
    own_path = parts.path or "/"
    if parts.query:
        own_path += "?" + parts.query
    deadline = time.monotonic() + timeout
    while True:
        if alive is not None and not alive():
            raise BenchError(f"The server for {url} exited before it was ready.{describe()}")
        try:
            for path in (*READY_PATHS, own_path):
                answer = fetch(parts.port, path, timeout=5)
                if path in READY_PATHS and answer.status == 404:
                    continue  # no health endpoint (yet): the page itself says it is up
                if answer.status < 500:
                    return answer
                break
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise BenchError(f"{url} was not ready within {timeout:.0f} s.{describe()}")
        time.sleep(0.2)


class Server:
    """A process started in its own session, so stopping it reaches every child it spawned."""

    def __init__(self, name: str, process: subprocess.Popen[bytes], port: int, log: Path):
        self.name = name
        self.process = process
        self.port = port
        self.log = log

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, path: str, timeout: float) -> Response:
        """`wait_ready` for this server; fails fast (with its log) if the process died."""
        return wait_ready(
            self.base_url + path,
            timeout=timeout,
            alive=lambda: self.process.poll() is None,
            describe=lambda: f"\n--- {self.name}'s log ---\n{self.log_tail()}",
        )

    def stop(self, grace: float = 15.0) -> None:
        """Graceful stop (SIGTERM to its process group), then SIGKILL after `grace` seconds."""
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


@contextlib.contextmanager
def running(
    name: str,
    argv: Sequence[str],
    *,
    port: int,
    ready_path: str = "/",
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    log_dir: Path,
    timeout: float = 60.0,
) -> Iterator[Server]:
    """Start `argv` (listening on 127.0.0.1:`port`), wait until it answers, stop it after."""
    log = log_dir / f"{re.sub(r'[^a-z0-9]+', '-', name.lower())}.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            list(argv),
            env=dict(env) if env is not None else None,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(name, process, port, log)
    try:
        server.wait_ready(ready_path, timeout)
        yield server
    finally:
        server.stop()


@dataclass(frozen=True)
class LoadResult:
    """One wrk run. Latencies in milliseconds."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    bytes_read: int
    # wrk counts responses with a status above 399 here (it has no 3xx counter).
    error_statuses: int
    socket_errors: dict[str, int]

    @property
    def bytes_per_response(self) -> float:
        return self.bytes_read / self.requests if self.requests else 0.0


# Exact totals from wrk's `done` hook; the text report rounds bytes to two decimals.
WRK_DONE_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_TOTALS {"requests": %.0f, "bytes": %.0f, "connect": %.0f, "read": %.0f, ' ..
    '"write": %.0f, "status": %.0f, "timeout": %.0f}\\n',
    summary.requests, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout))
end
"""

_TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_PERCENTILE = re.compile(
    r"^\s*(?P<pct>\d+(?:\.\d+)?)%\s+(?P<value>[\d.]+)(?P<unit>us|ms|s|m|h)\s*$"
)
_REQUESTS_PER_SEC = re.compile(r"^Requests/sec:\s+(?P<value>[\d.]+)\s*$")


def parse_wrk_output(text: str) -> LoadResult:
    """Parse `wrk --latency` output that ends with the WRK_TOTALS line of WRK_DONE_SCRIPT."""
    percentiles: dict[str, float] = {}
    requests_per_second: float | None = None
    totals: dict[str, int] | None = None
    for line in text.splitlines():
        if match := _PERCENTILE.match(line):
            value = float(match["value"]) * _TIME_UNITS_MS[match["unit"]]
            percentiles[match["pct"]] = value
        elif match := _REQUESTS_PER_SEC.match(line):
            requests_per_second = float(match["value"])
        elif line.startswith("WRK_TOTALS "):
            totals = {k: int(v) for k, v in json.loads(line.removeprefix("WRK_TOTALS ")).items()}
    if requests_per_second is None or totals is None or not {"50", "99"} <= percentiles.keys():
        raise BenchError(f"Could not read wrk's report:\n{text}")
    return LoadResult(
        requests_per_second=requests_per_second,
        p50_ms=percentiles["50"],
        p99_ms=percentiles["99"],
        requests=totals["requests"],
        bytes_read=totals["bytes"],
        error_statuses=totals["status"],
        socket_errors={k: totals[k] for k in ("connect", "read", "write", "timeout")},
    )


def run_wrk(
    url: str,
    *,
    duration: int,
    connections: int,
    threads: int,
    work_dir: Path,
    headers: Mapping[str, str] | None = None,
) -> LoadResult:
    if not url.startswith(f"http://{LOOPBACK}:"):
        raise BenchError(f"Refusing to load {url}: benchmarks stay on {LOOPBACK}.")
    wrk = require_tool("wrk", "wrk")
    script = work_dir / "wrk_totals.lua"
    script.write_text(WRK_DONE_SCRIPT)
    argv = [
        wrk,
        "--latency",
        f"--threads={min(threads, connections)}",
        f"--connections={connections}",
        f"--duration={duration}s",
        "--timeout=10s",
        f"--script={script}",
        *(
            f"--header={name}: {value}"
            for name, value in {**BROWSER_HEADERS, **(headers or {})}.items()
        ),
        url,
    ]
    finished = subprocess.run(argv, capture_output=True, text=True, check=False)
    if finished.returncode != 0:
        raise BenchError(f"wrk failed ({finished.returncode}): {finished.stderr.strip()}")
    return parse_wrk_output(finished.stdout)


def warm_and_load(
    url: str,
    args: argparse.Namespace,
    work_dir: Path,
    headers: Mapping[str, str] | None = None,
) -> tuple[LoadResult, float]:
    """wrk for `args.warmup` seconds (unreported), then `args.duration` seconds at
    `args.connections`: (the measured result, the 1-minute load average just before it)."""
    step(f"wrk {url}: {args.warmup} s warm-up, then {args.duration} s at {args.connections} conns")
    options = {"connections": args.connections, "threads": args.threads, "work_dir": work_dir}
    if args.warmup:
        run_wrk(url, duration=args.warmup, headers=headers, **options)
    load_average = os.getloadavg()[0]
    return run_wrk(url, duration=args.duration, headers=headers, **options), load_average


def bench_main(run: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a benchmark: SIGTERM stops it as Ctrl-C does (every server it started is stopped
    by its `with` block), and a step that cannot run prints what to do instead of a trace."""
    stop_on_sigterm()
    try:
        return run(args)
    except BenchError as error:
        print(f"\nbench: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # a server that stopped answering mid-run
        print(f"\nbench: a server did not answer: {error!r}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nbench: interrupted; every server it started has been stopped.", file=sys.stderr)
        return 130


# nginx in the foreground with everything under a temporary prefix; `{http}` is the rest.
NGINX_MAIN = """\
worker_processes {workers};
daemon off;
master_process on;
pid {prefix}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    keepalive_requests 1000000;
{http}
}}
"""
NGINX_STATIC = """\
    sendfile on;
    tcp_nopush on;
    open_file_cache max=16 inactive=60s;
    types {{ }}
    default_type "{content_type}";
    server {{
        listen {host}:{port};
        root {prefix}/www;
        location / {{ try_files /page =404; }}
    }}"""


@contextlib.contextmanager
def nginx_serving(
    page: bytes,
    *,
    content_type: str,
    workers: int,
    log_dir: Path,
    ready_path: str = "/",
) -> Iterator[Server]:
    """nginx (foreground, temporary prefix) answering every path with `page`."""
    nginx = require_tool("nginx", "nginx-light")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-nginx-") as prefix_name:
        prefix = Path(prefix_name)
        (prefix / "www").mkdir()
        (prefix / "tmp").mkdir()
        (prefix / "www" / "page").write_bytes(page)
        # Workers may run as an unprivileged user (when started as root): let them read.
        for path in (prefix, prefix / "www"):
            path.chmod(0o755)
        (prefix / "www" / "page").chmod(0o644)
        config = prefix / "nginx.conf"
        config.write_text(
            NGINX_MAIN.format(
                workers=workers,
                prefix=prefix,
                http=NGINX_STATIC.format(
                    prefix=prefix,
                    host=LOOPBACK,
                    port=port,
                    content_type=content_type.replace('"', ""),
                ),
            )
        )
        argv = [nginx, "-p", str(prefix), "-e", "stderr", "-c", str(config)]
        with running(
            "nginx", argv, port=port, ready_path=ready_path, log_dir=log_dir, timeout=15
        ) as server:
            yield server


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    line = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    print(line.format(*headers))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line.format(*row))
    sys.stdout.flush()


# -- the site under test ----------------------------------------------------------------------

REPO = Path(__file__).resolve().parent.parent
VAR_BENCH = REPO / "var" / "bench"
MASTHEAD = str(Path(sys.executable).parent / "masthead")


def cpu_cores() -> int:
    return len(os.sched_getaffinity(0))


def load_arguments(
    parser: argparse.ArgumentParser,
    *,
    duration: int,
    warmup: int,
    workers: int,
    database: str,
    redis_db: int,
) -> None:
    """The options every benchmark script takes (wrk, servers, its own database)."""
    parser.add_argument("--duration", type=int, default=duration, help="seconds of load per run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=cpu_cores(), help="wrk threads")
    parser.add_argument("--warmup", type=int, default=warmup, help="unreported seconds before each")
    parser.add_argument("--workers", type=int, default=workers, help="workers per server")
    parser.add_argument("--database", default=database, help="PostgreSQL database (dropped first)")
    parser.add_argument("--redis-db", type=int, default=redis_db)
    parser.add_argument(
        "--reuse-database",
        action="store_true",
        help="keep the database and demo content of the last run (skip migrate and demo)",
    )


def checked_arguments(
    parser: argparse.ArgumentParser, argv: list[str] | None, *, quick: bool = True
) -> argparse.Namespace:
    """Parsed options; `--quick` (when offered) means 2 s per run after a 1 s warm-up."""
    if quick:
        parser.add_argument("--quick", action="store_true", help="2 s per run, 1 s warm-up")
    args = parser.parse_args(argv)
    if getattr(args, "quick", False):
        args.duration, args.warmup = 2, 1
    if min(args.duration, args.connections, args.threads, args.workers) < 1 or args.warmup < 0:
        parser.error("durations, connections, threads and workers must be positive")
    return args


def step(message: str) -> None:
    print(f"-- {message}", flush=True)


def refresh_database(name: str) -> None:
    """Drop and re-create the PostgreSQL database `name` (the bench's own)."""
    import psycopg
    from psycopg import sql

    try:
        with psycopg.connect(
            f"postgresql://postgres@{LOOPBACK}:5432/postgres", autocommit=True
        ) as db:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            db.execute(drop.format(sql.Identifier(name)))
            db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as error:
        raise BenchError(
            f"PostgreSQL on {LOOPBACK}:5432 (user postgres) refused: {error}".strip()
        ) from None


def flush_redis(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url).flushdb()
    except redis.RedisError as error:
        raise BenchError(f"Redis at {url} refused: {error}") from None


def masthead_environment(
    *, database: str, redis_db: int, site_url: str, var_dir: Path = VAR_BENCH
) -> dict[str, str]:
    """A production configuration on 127.0.0.1 (DEBUG off, real secret, allowed host), with
    hashed static files collected into the bench's own STATIC_ROOT: the server and the
    in-process counts read the same manifest."""
    var_dir.mkdir(parents=True, exist_ok=True)
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("MASTHEAD_", "DJANGO"))}
    return {
        **inherited,
        "MASTHEAD_ENV": "production",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": LOOPBACK,
        "DATABASE_URL": f"postgres://postgres@{LOOPBACK}:5432/{database}",
        "REDIS_URL": f"redis://{LOOPBACK}:6379/{redis_db}",
        "MASTHEAD_REDIS_PREFIX": "bench",
        "MASTHEAD_VAR_DIR": str(var_dir),
        "STATIC_ROOT": str(var_dir / "static"),
        "MASTHEAD_HASHED_STATIC": "true",
        "MASTHEAD_SITE_URL": site_url,
        "LOG_LEVEL": "WARNING",
        # `masthead serve` refuses production without a real payment provider and e-mail.
        # Nothing in a benchmark pays or sends mail: placeholders that are never called
        # (Stripe keys that reach no network, SMTP on a closed loopback port).
        **SERVE_PLACEHOLDERS,
    }


SERVE_PLACEHOLDERS = {
    "PAYMENT_PROVIDER": "stripe",
    "STRIPE_SECRET_KEY": "sk_live_bench_placeholder_never_called",
    "STRIPE_PUBLISHABLE_KEY": "pk_live_bench_placeholder_never_called",
    "STRIPE_WEBHOOK_SECRET": "whsec_bench_placeholder_never_called",
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "EMAIL_HOST": LOOPBACK,
    "EMAIL_PORT": "9",  # discard: nothing listens, nothing is sent
}
# The demo subscribes its readers through the built-in test provider and writes its mail to
# files, so `masthead demo` runs without the placeholders.
DEMO_OVERRIDES = {
    "PAYMENT_PROVIDER": "test",
    "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
}


def run_masthead(env: Mapping[str, str], *arguments: str) -> None:
    finished = subprocess.run([MASTHEAD, *arguments], env=dict(env), check=False)
    if finished.returncode != 0:
        raise BenchError(f"`masthead {' '.join(arguments)}` failed ({finished.returncode}).")


def prepare_site(
    env: Mapping[str, str], *, database: str, reuse_database: bool, collect_static: bool = True
) -> None:
    """A fresh database and Redis db with the demo newsroom (unless reused), then the static
    files collected into the bench's STATIC_ROOT (so a fresh clone needs no manual step)."""
    if not reuse_database:
        step(f"refreshing PostgreSQL database {database} and Redis {env['REDIS_URL']}")
        refresh_database(database)
        flush_redis(env["REDIS_URL"])
        step("migrate and load the demo newsroom (masthead demo --no-serve)")
        run_masthead({**env, **DEMO_OVERRIDES}, "demo", "--no-serve")
    if collect_static:
        step(f"collectstatic into {env['STATIC_ROOT']}")
        run_masthead(env, "collectstatic", "--noinput", "-v0")


def setup_django(env: Mapping[str, str]) -> None:
    """Django in this process with the server's settings (call once, after prepare_site)."""
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "masthead.settings"
    import django

    django.setup()


def serve_argv(port: int, workers: int) -> list[str]:
    """`masthead serve` without its own collectstatic (prepare_site has run it)."""
    return [
        MASTHEAD,
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-collectstatic",
    ]


def visible_text(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def last_words(article: object) -> str:
    """The end of an article's body: in a page only when the page shows the whole article."""
    body = article.body  # type: ignore[attr-defined]
    texts = [visible_text(str(b.value.source)) for b in body if b.block_type == "paragraph"]
    return " ".join(" ".join(texts).split()[-12:])


@dataclass(frozen=True)
class Work:
    """What one request costs, counted in-process."""

    sql_queries: int
    cache_round_trips: int
    commands: tuple[str, ...]  # the Redis commands sent (names, sorted, distinct)
    status: int


@contextlib.contextmanager
def counting_redis() -> Iterator[tuple[list[str], list[int]]]:
    """Count Redis round trips and commands in this process: every connection taken from a
    pool is one round trip (a pipeline or a script is one; so is a plain command), as
    tests/access/test_doors.py counts them."""
    import redis
    from redis.client import Pipeline

    commands: list[str] = []
    round_trips = [0]
    get_connection = redis.ConnectionPool.get_connection
    execute_command = redis.Redis.execute_command
    pipeline_command = Pipeline.pipeline_execute_command

    def taken(self: redis.ConnectionPool, *args: object, **kwargs: object) -> object:
        round_trips[0] += 1
        return get_connection(self, *args, **kwargs)

    def command(self: redis.Redis, *args: object, **options: object) -> object:
        commands.append(str(args[0]).upper())
        return execute_command(self, *args, **options)

    def queued(self: Pipeline, *args: object, **options: object) -> object:
        commands.append(str(args[0]).upper())
        return pipeline_command(self, *args, **options)

    redis.ConnectionPool.get_connection = taken  # type: ignore[method-assign]
    redis.Redis.execute_command = command  # type: ignore[method-assign]
    Pipeline.pipeline_execute_command = queued  # type: ignore[method-assign]
    try:
        yield commands, round_trips
    finally:
        redis.ConnectionPool.get_connection = get_connection  # type: ignore[method-assign]
        redis.Redis.execute_command = execute_command  # type: ignore[method-assign]
        Pipeline.pipeline_execute_command = pipeline_command  # type: ignore[method-assign]


def count_work(path: str, *, cookies: Mapping[str, str] | None = None, warm: int = 2) -> Work:
    """SQL queries and cache round trips of one request for `path`, in this process (Django
    set up by `setup_django`), on a warm cache: `warm` requests first, unreported. Without
    `cookies` each request is a fresh reader, as wrk's are."""
    from django.db import connection, connections
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    def client() -> Client:
        fresh = Client(HTTP_HOST=LOOPBACK)
        for name, value in (cookies or {}).items():
            fresh.cookies[name] = value
        return fresh

    try:
        for _ in range(warm):
            client().get(path)
        with (
            counting_redis() as (commands, round_trips),
            CaptureQueriesContext(connection) as queries,
        ):
            response = client().get(path)
    finally:
        connections.close_all()
    return Work(
        sql_queries=len(queries.captured_queries),
        cache_round_trips=round_trips[0],
        commands=tuple(sorted(set(commands))),
        status=response.status_code,
    )


def raw_size(response: Response) -> int:
    """Bytes on the wire for this response, as wrk counts them."""
    status_line = len(f"HTTP/1.1 {response.status} OK\r\n")
    headers = sum(len(name) + len(value) + 4 for name, value in response.headers)
    return status_line + headers + 2 + len(response.body)


def same_size(load: LoadResult, expected_bytes: int) -> bool:
    """wrk's average response size matches one probe's within 1%: a redirect, an error page
    or a cut page would be a different size."""
    if not load.requests or not expected_bytes:
        return False
    return abs(load.bytes_per_response - expected_bytes) / expected_bytes < 0.01


FLOOR_PAGE_KEY = "bench:floor-page-copy"


@contextlib.contextmanager
def floor_server(
    page: bytes, content_type: str, *, workers: int, log_dir: Path, redis_url: str
) -> Iterator[Server]:
    """The Python floor (floor_app.py under granian) serving `page` from Redis."""
    import redis

    store = redis.Redis.from_url(redis_url)
    store.set(FLOOR_PAGE_KEY, page)
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--host",
        LOOPBACK,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--blocking-threads",
        "1",
        "--no-ws",
        "--log-level",
        "warning",
        "--working-dir",
        str(Path(__file__).resolve().parent),
        "floor_app:application",
    ]
    env = {
        **os.environ,
        "FLOOR_REDIS_URL": redis_url,
        "FLOOR_PAGE_KEY": FLOOR_PAGE_KEY,
        "FLOOR_CONTENT_TYPE": content_type,
    }
    try:
        with running("python floor", argv, port=port, env=env, log_dir=log_dir) as server:
            yield server
    finally:
        store.delete(FLOOR_PAGE_KEY)


NGINX_UPSTREAM = """\
    upstream {name} {{
{members}
        keepalive 64;
    }}
"""
NGINX_PROXY_SERVER = """\
    server {{
        listen {host}:{port};
        location / {{
            proxy_pass http://{name};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_buffering on;
            # Which instance answered: the meter check shows one reader's requests on both.
            add_header X-Bench-Upstream $upstream_addr always;
        }}
    }}
"""


def nginx_proxy_config(
    upstreams: Mapping[str, Sequence[int]], ports: Mapping[str, int], *, workers: int, prefix: Path
) -> str:
    """nginx in front of app servers: one `server` on ports[name] per upstream (round robin)."""
    blocks = "".join(
        NGINX_UPSTREAM.format(
            name=name,
            members="\n".join(f"        server {LOOPBACK}:{port};" for port in members),
        )
        for name, members in upstreams.items()
    )
    servers = "".join(
        NGINX_PROXY_SERVER.format(host=LOOPBACK, port=ports[name], name=name) for name in upstreams
    )
    return NGINX_MAIN.format(workers=workers, prefix=prefix, http=(blocks + servers).rstrip("\n"))


@contextlib.contextmanager
def nginx_proxying(
    upstreams: Mapping[str, Sequence[int]], *, workers: int, log_dir: Path
) -> Iterator[dict[str, int]]:
    """nginx (foreground, temporary prefix) proxying to each upstream; yields name -> port."""
    nginx = require_tool("nginx", "nginx-light")
    ports = {name: free_port() for name in upstreams}
    with tempfile.TemporaryDirectory(prefix="bench-nginx-proxy-") as prefix_name:
        prefix = Path(prefix_name)
        (prefix / "tmp").mkdir()
        prefix.chmod(0o755)
        config = prefix / "nginx.conf"
        config.write_text(nginx_proxy_config(upstreams, ports, workers=workers, prefix=prefix))
        argv = [nginx, "-p", str(prefix), "-e", "stderr", "-c", str(config)]
        first = next(iter(upstreams))
        with running("nginx proxy", argv, port=ports[first], log_dir=log_dir, timeout=60):
            yield ports
