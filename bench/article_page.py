"""Benchmark the article page against two references serving the same bytes. Prints figures.

    .venv/bin/python bench/article_page.py               # 20 s at 32 connections per target
    .venv/bin/python bench/article_page.py --duration 5  # a quick look

In one run: refresh the PostgreSQL database `masthead_bench` and Redis db 15, migrate and load
the demo newsroom, start `masthead serve` (granian, DEBUG off, hashed static files), pick the
demo's analysis article, save the page's exact bytes, and load it with wrk. Then load the same
bytes from the Python floor (bench/floor_app.py: Django, one Redis GET, granian with the same
workers) and from nginx (the physical limit). Everything runs on 127.0.0.1 and every process
started here is stopped on exit, error or Ctrl-C. Not a test: nothing is asserted on time.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import os
import re
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from harness import (  # noqa: E402  (bench/ is not a package)
    LOOPBACK,
    BenchError,
    LoadResult,
    Response,
    Server,
    fetch,
    free_port,
    nginx_serving,
    print_table,
    require_tool,
    run_wrk,
    running,
    stop_on_sigterm,
)

REPO = BENCH_DIR.parent
VENV_BIN = Path(sys.executable).parent
MASTHEAD = str(VENV_BIN / "masthead")
FLOOR_PAGE_KEY = "bench:article-page-copy"
TARGET_FLOOR_RATIO = 0.5


def cpu_cores() -> int:
    return len(os.sched_getaffinity(0))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=20, help="seconds of load per target")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=cpu_cores(), help="wrk threads")
    parser.add_argument("--warmup", type=int, default=3, help="unreported seconds before each")
    parser.add_argument("--workers", type=int, default=cpu_cores(), help="server workers")
    parser.add_argument("--database", default="masthead_bench", help="PostgreSQL database name")
    parser.add_argument("--redis-db", type=int, default=15)
    parser.add_argument(
        "--reuse-database",
        action="store_true",
        help="keep the database and demo content of the last run (skip migrate and demo)",
    )
    parser.add_argument("--path", help="benchmark this URL path instead of the analysis article")
    args = parser.parse_args(argv)
    if min(args.duration, args.connections, args.threads, args.workers) < 1 or args.warmup < 0:
        parser.error("durations, connections, threads and workers must be positive")
    return args


def step(message: str) -> None:
    print(f"-- {message}", flush=True)


def refresh_database(name: str) -> None:
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


def masthead_environment(args: argparse.Namespace, site_port: int) -> dict[str, str]:
    """A production configuration on 127.0.0.1 (DEBUG off, real secret, allowed host)."""
    var_dir = REPO / "var" / "bench"
    var_dir.mkdir(parents=True, exist_ok=True)
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("MASTHEAD_", "DJANGO"))}
    return {
        **inherited,
        "MASTHEAD_ENV": "production",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": LOOPBACK,
        "DATABASE_URL": f"postgres://postgres@{LOOPBACK}:5432/{args.database}",
        "REDIS_URL": f"redis://{LOOPBACK}:6379/{args.redis_db}",
        "MASTHEAD_REDIS_PREFIX": "bench",
        "MASTHEAD_VAR_DIR": str(var_dir),
        "MASTHEAD_SITE_URL": f"http://{LOOPBACK}:{site_port}",
        "LOG_LEVEL": "WARNING",
    }


def run_masthead(env: dict[str, str], *arguments: str) -> None:
    finished = subprocess.run([MASTHEAD, *arguments], env=env, check=False)
    if finished.returncode != 0:
        raise BenchError(f"`masthead {' '.join(arguments)}` failed ({finished.returncode}).")


@dataclass(frozen=True)
class Candidate:
    title: str
    path: str
    access_level: str
    last_words: str  # the end of the body: present in the page only when it is shown in full


def visible_text(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def demo_articles(env: dict[str, str]) -> tuple[Candidate | None, Candidate | None]:
    """(the analysis piece, the longest free article), read through Django in this process."""
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "masthead.settings"
    import django

    django.setup()
    from django.db import connections

    from masthead.newsroom.models import AccessLevel, ArticlePage

    def candidate(article: ArticlePage) -> Candidate:
        texts = [
            visible_text(str(b.value.source)) for b in article.body if b.block_type == "paragraph"
        ]
        url_parts = article.get_url_parts()
        if url_parts is None:
            raise BenchError(f"Article {article.title!r} has no URL (no site?).")
        return Candidate(
            title=article.title,
            path=url_parts[2],
            access_level=article.access_level,
            last_words=" ".join(" ".join(texts).split()[-12:]),
        )

    def analysis_score(article: ArticlePage) -> tuple[int, int]:
        kinds = [block.block_type for block in article.body]
        shaped = bool(article.dateline and article.hero_image_id) and kinds.count("subheading") >= 3
        words = sum(
            len(visible_text(str(b.value.source)).split())
            for b in article.body
            if b.block_type == "paragraph"
        )
        return (int(shaped), words)

    from django.db import DatabaseError

    try:
        try:
            articles = list(ArticlePage.objects.live().public().specific())
        except DatabaseError as error:
            raise BenchError(
                f"Cannot read the demo's articles ({error}); run without --reuse-database."
            ) from None
        if not articles:
            return None, None
        analysis = max(articles, key=analysis_score)
        free = [a for a in articles if a.access_level == AccessLevel.FREE]
        longest_free = max(free, key=analysis_score) if free else None
        return candidate(analysis), candidate(longest_free) if longest_free else None
    finally:
        connections.close_all()


def work_per_request(path: str) -> str:
    """SQL queries and Redis commands one fresh reader's request costs, counted in-process."""
    import redis
    from django.db import connection, connections
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    commands: list[str] = []
    execute_command = redis.Redis.execute_command

    def counted(self: redis.Redis, *args: object, **options: object) -> object:
        commands.append(str(args[0]))
        return execute_command(self, *args, **options)

    redis.Redis.execute_command = counted  # type: ignore[method-assign]
    try:
        client = Client(HTTP_HOST=LOOPBACK)
        client.get(path)  # warm the fragment cache, as the warm-up does for the server
        commands.clear()
        with CaptureQueriesContext(connection) as queries:
            Client(HTTP_HOST=LOOPBACK).get(path)
    finally:
        redis.Redis.execute_command = execute_command  # type: ignore[method-assign]
        connections.close_all()
    return (
        f"{len(queries.captured_queries)} SQL queries and {len(commands)} Redis commands "
        f"({', '.join(sorted(set(commands))) or 'none'}) per fresh reader's request"
    )


def raw_size(response: Response) -> int:
    """Bytes on the wire for this response, as wrk counts them."""
    status_line = len(f"HTTP/1.1 {response.status} OK\r\n")
    headers = sum(len(name) + len(value) + 4 for name, value in response.headers)
    return status_line + headers + 2 + len(response.body)


@dataclass(frozen=True)
class Row:
    name: str
    load: LoadResult
    expected_bytes: int
    load_average: float  # 1-minute, just before the run: other work on the machine skews figures

    def only_2xx(self) -> bool:
        # wrk counts 4xx/5xx; a redirect or a cut page shows up as a different size.
        drift = abs(self.load.bytes_per_response - self.expected_bytes) / self.expected_bytes
        return self.load.error_statuses == 0 and drift < 0.01


def measure(name: str, url: str, expected_bytes: int, args: argparse.Namespace, work: Path) -> Row:
    if args.warmup:
        run_wrk(
            url,
            duration=args.warmup,
            connections=args.connections,
            threads=args.threads,
            work_dir=work,
        )
    load_average = os.getloadavg()[0]
    step(f"{name}: wrk {args.duration} s at {args.connections} connections")
    load = run_wrk(
        url,
        duration=args.duration,
        connections=args.connections,
        threads=args.threads,
        work_dir=work,
    )
    step(f"{name}: {load.requests_per_second:,.0f} requests/s")
    return Row(name, load, expected_bytes, load_average)


def expect_page(response: Response, what: str, page: bytes | None = None) -> None:
    if response.status != 200:
        raise BenchError(f"{what} answered {response.status}, not 200: {response.body[:300]!r}")
    if page is not None and response.body != page:
        raise BenchError(f"{what} did not return the saved page's exact bytes.")


@contextlib.contextmanager
def floor_server(
    page: bytes, content_type: str, args: argparse.Namespace, logs: Path, redis_url: str
) -> Iterator[Server]:
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
        str(args.workers),
        "--blocking-threads",
        "1",
        "--no-ws",
        "--log-level",
        "warning",
        "--working-dir",
        str(BENCH_DIR),
        "floor_app:application",
    ]
    env = {
        **os.environ,
        "FLOOR_REDIS_URL": redis_url,
        "FLOOR_PAGE_KEY": FLOOR_PAGE_KEY,
        "FLOOR_CONTENT_TYPE": content_type,
    }
    try:
        with running("python floor", argv, port=port, env=env, log_dir=logs) as server:
            yield server
    finally:
        store.delete(FLOOR_PAGE_KEY)


def choose_page(
    port: int, analysis: Candidate | None, free: Candidate | None, forced_path: str | None
) -> tuple[str, str, Response]:
    """(path, what was chosen and why, the page as a fresh reader gets it)."""
    if forced_path:
        return forced_path, f"the page at {forced_path} (--path)", fetch(port, forced_path)
    if analysis is None:
        raise BenchError("The demo has no published article to benchmark.")
    response = fetch(port, analysis.path)
    if analysis.last_words in visible_text(response.body.decode(errors="replace")):
        why = f"({analysis.access_level}); a fresh reader reads it in full"
        return analysis.path, f"the analysis article {analysis.title!r} {why}", response
    if free is None:
        raise BenchError(
            "The analysis article is cut for a fresh reader and the demo has no free article."
        )
    why = f"the analysis article {analysis.title!r} ({analysis.access_level}) is cut for a fresh"
    return free.path, f"the free article {free.title!r}: {why} reader", fetch(port, free.path)


def run(args: argparse.Namespace) -> None:
    require_tool("wrk", "wrk")
    require_tool("nginx", "nginx-light")
    site_port = free_port()
    env = masthead_environment(args, site_port)
    with tempfile.TemporaryDirectory(prefix="bench-article-") as work_name:
        work = Path(work_name)
        if not args.reuse_database:
            step(f"refreshing PostgreSQL database {args.database} and Redis db {args.redis_db}")
            refresh_database(args.database)
            flush_redis(env["REDIS_URL"])
            step("migrate and load the demo newsroom (masthead demo --no-serve)")
            run_masthead(env, "demo", "--no-serve")

        analysis, free = demo_articles(env)
        if analysis is None and not args.path:
            raise BenchError("The demo has no published article to benchmark.")
        serve_argv = [MASTHEAD, "serve", "--port", str(site_port), "--workers", str(args.workers)]
        step(f"starting masthead serve ({args.workers} workers) on {LOOPBACK}:{site_port}")
        with running(
            "masthead serve", serve_argv, port=site_port, env=env, log_dir=work, timeout=180
        ) as site:
            path, choice, response = choose_page(site_port, analysis, free, args.path)
            expect_page(response, f"The article page {path}")
            page = response.body
            content_type = response.header("Content-Type") or "text/html; charset=utf-8"
            saved = REPO / "var" / "bench" / "article-page.html"
            saved.write_bytes(page)
            step(f"benchmarking {choice}")
            step(f"saved the page's {len(page):,} bytes to {saved.relative_to(REPO)}")
            work_done = work_per_request(path)
            step(work_done)
            rows = [
                measure(
                    "article page (masthead serve)",
                    site.base_url + path,
                    raw_size(response),
                    args,
                    work,
                )
            ]

        with floor_server(page, content_type, args, work, env["REDIS_URL"]) as floor:
            floor_response = fetch(floor.port, path)
            expect_page(floor_response, "The Python floor", page)
            rows.append(
                measure(
                    "python floor (Django view + 1 Redis GET)",
                    floor.base_url + path,
                    raw_size(floor_response),
                    args,
                    work,
                )
            )

        with nginx_serving(
            page, content_type=content_type, workers=args.workers, log_dir=work
        ) as nginx:
            nginx_response = fetch(nginx.port, path)
            expect_page(nginx_response, "nginx", page)
            rows.append(
                measure(
                    "nginx (saved copy)",
                    nginx.base_url + path,
                    raw_size(nginx_response),
                    args,
                    work,
                )
            )

    report(rows, page, choice, work_done, args)


def report(
    rows: list[Row], page: bytes, choice: str, work_done: str, args: argparse.Namespace
) -> None:
    print()
    print(f"Article: {choice}")
    print(f"Page: {len(page):,} bytes of HTML (the same bytes from all three servers)")
    print(f"Article page work: {work_done}")
    print(
        f"Load: wrk --latency, {args.duration} s at {args.connections} connections, "
        f"{args.threads} threads, after a {args.warmup} s warm-up; {args.workers} server "
        f"workers each; {cpu_cores()} cores shared by wrk and the server"
    )
    print()
    print_table(
        ["server", "requests/s", "p50 ms", "p99 ms", "requests", "4xx/5xx", "bytes/resp", "load"],
        [
            [
                row.name,
                f"{row.load.requests_per_second:,.0f}",
                f"{row.load.p50_ms:.2f}",
                f"{row.load.p99_ms:.2f}",
                f"{row.load.requests:,}",
                f"{row.load.error_statuses:,}",
                f"{row.load.bytes_per_response:,.0f}",
                f"{row.load_average:.1f}",
            ]
            for row in rows
        ],
    )
    busiest = max(row.load_average for row in rows)
    if busiest > 0.5 * cpu_cores():
        print(
            f"(load: the 1-minute load average before each run; it reached {busiest:.1f} on "
            f"{cpu_cores()} cores, so other processes competed with these figures)"
        )
    article, floor, nginx = (row.load.requests_per_second for row in rows)
    print()
    print(f"article / floor: {article / floor:.2f}  (target: at least {TARGET_FLOOR_RATIO})")
    print(f"article / nginx: {article / nginx:.3f}")
    print(f"floor / nginx:   {floor / nginx:.3f}")
    print()
    for row in rows:
        errors = {k: v for k, v in row.load.socket_errors.items() if v}
        if row.only_2xx():
            verdict = "every response was 2xx (no 4xx/5xx, and every response had the page's size)"
        else:
            verdict = (
                f"NOT all 2xx: {row.load.error_statuses} responses were 4xx/5xx; average "
                f"size {row.load.bytes_per_response:,.0f} bytes, expected "
                f"{row.expected_bytes:,}"
            )
        socket_note = f"; socket errors {errors}" if errors else "; no socket errors"
        print(f"{row.name}: {verdict}{socket_note}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stop_on_sigterm()
    try:
        run(args)
    except BenchError as error:
        print(f"\nbench: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nbench: interrupted; every server it started has been stopped.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
