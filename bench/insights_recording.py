"""The article page's throughput with funnel-event recording on and off, in one run.

    .venv/bin/python bench/insights_recording.py               # 20 s per run at 32 connections
    .venv/bin/python bench/insights_recording.py --quick       # 2 s per run, a smoke test

In one run: refresh the PostgreSQL database `mh_insights` and Redis db 8, migrate and
load the demo, then serve it twice with `masthead serve` (granian, DEBUG off, PostgreSQL and
Redis): once with `MASTHEAD_INSIGHTS=false`, once with recording on (the default: events
batched in the process and pushed to a Redis list, 50 at a time). wrk sends no cookies, so
every request is a fresh reader of a metered article: each one is a `meter_shown` event.
Prints both figures and the on/off ratio (target: at least 0.95; decision 0030). Everything
runs on 127.0.0.1 and every process started here is stopped on exit. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from harness import (  # noqa: E402  (bench/ is not a package)
    BenchError,
    LoadResult,
    bench_main,
    checked_arguments,
    cpu_cores,
    fetch,
    free_port,
    load_arguments,
    masthead_environment,
    prepare_site,
    print_table,
    require_tool,
    running,
    serve_argv,
    setup_django,
    step,
    warm_and_load,
)

TARGET_RATIO = 0.95


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    load_arguments(
        parser, duration=20, warmup=3, workers=cpu_cores(), database="mh_insights", redis_db=8
    )
    return checked_arguments(parser, argv)


def metered_article_path(env: dict[str, str]) -> str:
    setup_django(env)
    from masthead.access.levels import AccessLevel
    from masthead.newsroom.models import ArticlePage

    page = ArticlePage.objects.live().filter(access_level=AccessLevel.METERED).first()
    if page is None:
        raise BenchError("The demo has no published metered article.")
    return str(page.url)


def measure(
    label: str, env: dict[str, str], path: str, args: argparse.Namespace, work: Path
) -> LoadResult:
    port = free_port()
    with running(
        f"masthead serve ({label})",
        serve_argv(port, args.workers),
        port=port,
        env=env,
        log_dir=work,
        timeout=180,
    ) as site:
        response = fetch(port, path)
        if response.status != 200:
            raise BenchError(f"{path} answered {response.status} with recording {label}")
        load, _ = warm_and_load(site.base_url + path, args, work)
    step(f"recording {label}: {load.requests_per_second:,.0f} requests/s")
    return load


def events_buffered() -> int:
    """What the 'on' run left in the Redis list and no drain has taken yet: a sign that
    recording was on (no worker is started here, so normally every event)."""
    from masthead.core import events  # Django is set up (metered_article_path)

    return int(events.client().llen(events.redis_key()))


def run(args: argparse.Namespace) -> int:
    require_tool("wrk", "wrk")
    env = masthead_environment(
        database=args.database, redis_db=args.redis_db, site_url="http://127.0.0.1"
    )
    with tempfile.TemporaryDirectory(prefix="bench-insights-") as work_name:
        work = Path(work_name)
        prepare_site(env, database=args.database, reuse_database=args.reuse_database)
        path = metered_article_path(env)
        step(f"benchmarking {path} for fresh readers (each request is one meter_shown event)")
        off = measure("off", {**env, "MASTHEAD_INSIGHTS": "false"}, path, args, work)
        on = measure("on", {**env, "MASTHEAD_INSIGHTS": "true"}, path, args, work)
        buffered = events_buffered()
    print()
    print(
        f"Load: wrk, {args.duration} s at {args.connections} connections after a {args.warmup} s "
        f"warm-up; {args.workers} server workers; {cpu_cores()} cores shared by wrk and the server"
    )
    print_table(
        ["event recording", "requests/s", "p50 ms", "p99 ms", "requests", "4xx/5xx"],
        [
            [
                name,
                f"{load.requests_per_second:,.0f}",
                f"{load.p50_ms:.2f}",
                f"{load.p99_ms:.2f}",
                f"{load.requests:,}",
                f"{load.error_statuses:,}",
            ]
            for name, load in (("off", off), ("on", on))
        ],
    )
    print(f"events buffered in Redis after the 'on' run: {buffered:,} (pushed 50 at a time)")
    ratio = on.requests_per_second / off.requests_per_second if off.requests_per_second else 0
    print(f"\non / off: {ratio:.3f}  (target: at least {TARGET_RATIO})")
    return 0


def main(argv: list[str] | None = None) -> int:
    return bench_main(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
